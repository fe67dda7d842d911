/**
 * The port through which the data plane applies input guards and output hardening (implemented in
 * src/security/guards, wired in src/app/server.ts). Every method is synchronous and bounded, and a
 * guard that is switched off costs the request path nothing beyond one map lookup per request.
 */
import type { Tensor } from '../core/index.js';
import type { InferenceRequest } from './inference.js';
import type { OipParameters } from './protocol/oip-types.js';

export interface InferenceGuards {
  /** The guards of one endpoint: its own settings where it has some, else the server's. Called once per request. */
  forEndpoint(endpoint: string): EndpointGuards;
}

/** One endpoint's guards, compiled once. */
export interface EndpointGuards {
  /** Let null and non-finite number strings through the decoder (as NaN, ±Infinity), to be flagged or allowed. */
  readonly acceptNonFinite: boolean;
  /** Whether {@link check} has something to do; when false the data plane does not call it. */
  readonly checksInputs: boolean;
  /**
   * Checks a decoded request of model:version, served by `endpoint`, before it runs. Throws a
   * PlatformError of kind `invalid` to refuse it (a guard set to reject); otherwise returns the
   * parameters the answer carries (outlier score, flagged values), or undefined. Counts what it
   * flags and refuses in the guards' metrics.
   */
  check(endpoint: string, model: string, version: number, request: InferenceRequest): OipParameters | undefined;
  /** Decimal places floating-point outputs are rounded to when the answer is encoded; 0: not rounded. */
  readonly roundDigits: number;
  /**
   * The outputs as the client receives them (top-k of score rows); absent when the endpoint hardens
   * nothing but rounding. Never changes its input: monitoring keeps the model's own outputs.
   */
  readonly harden?: (outputs: readonly Tensor[]) => readonly Tensor[];
}
