/**
 * The protocol-agnostic inference request: validated tensors ready for a runtime, plus the
 * protocol fields the answer must echo. Produced by a protocol decoder (OIP JSON today).
 */
import type { Tensor } from '../core/index.js';
import type { OipParameters } from './protocol/oip-types.js';
import type { RouteHeaders } from './routing/index.js';

export interface InferenceRequest {
  /** The client's `id`, echoed unchanged in the response. */
  readonly id?: string;
  readonly parameters?: OipParameters;
  readonly inputs: readonly Tensor[];
  /** Names of the outputs wanted; undefined means all. */
  readonly outputs?: readonly string[];
  /**
   * Non-finite numbers the decoder let through (null, "NaN", "Infinity", "-Infinity" in a
   * floating-point input, when {@link DecodeOptions.acceptNonFinite}): how many, and the first one's field.
   */
  readonly nonFinite?: { readonly count: number; readonly field: string };
}

/** How the data plane asks a protocol decoder to read one endpoint's requests. */
export interface DecodeOptions {
  /**
   * Accept null (the protocol's JSON form of NaN) and the strings "NaN", "Infinity" and "-Infinity"
   * in floating-point inputs as NaN and ±Infinity; otherwise they are invalid data, as always before.
   */
  readonly acceptNonFinite: boolean;
}

export interface InferenceContext {
  /** The server-assigned request id (x-request-id). */
  readonly requestId: string;
  /** Aborted when the client goes away or the server gives up. */
  readonly signal: AbortSignal;
  /**
   * Aborts `signal` (the data plane gives up on a timeout). The protocol layer owns one controller
   * per request and hands over its abort, so a request costs one AbortController, not two.
   */
  readonly abort: (reason: unknown) => void;
  /** Request headers, for the traffic router (sticky key, header routes). */
  readonly headers?: RouteHeaders;
  /**
   * Set by the data plane once it has chosen the version that answers (before the model runs), so
   * the protocol layer can tell who answered even when the request then fails (the payload log).
   */
  routed?: InferenceRoute;
}

/** The model, version and traffic variant a request was routed to. */
export interface InferenceRoute {
  readonly model: string;
  readonly version: number;
  readonly variant: string;
}

export interface InferenceResult {
  readonly endpoint: string;
  readonly model: string;
  readonly version: number;
  /** The traffic policy's variant that answered (`stable` without a policy). */
  readonly variant: string;
  /** The outputs as the client receives them (after output hardening). */
  readonly outputs: readonly Tensor[];
  /** What the input guards add to the answer's parameters (outlier score, what was flagged); absent when nothing. */
  readonly parameters?: OipParameters;
  /** Decimal places the answer's floating-point outputs are rounded to (output hardening); absent or 0: as computed. */
  readonly roundDigits?: number;
}
