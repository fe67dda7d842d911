/**
 * The two gates the rollout simulator compares on the same traffic:
 * - Slipway's gate: the real analysis engine (`analyse` from src/rollout/analysis), cumulative arm
 *   summaries, the analysis state persisted from look to look, rollback on the first Fail, promotion
 *   on the first Pass, a pause on a sample-ratio mismatch;
 * - a fixed-threshold gate of the Flagger kind: per interval, the canary's own error rate and p99
 *   latency against fixed thresholds, a failed check counted when any is exceeded (or when the
 *   canary got no traffic), rollback once the failed checks reach `analysis.threshold`.
 * Both see every request and look after every interval; neither sees the future.
 */
import {
  analyse,
  compileChecks,
  createLatencyArm,
  createRateArm,
  type AnalysisState,
  type AnalysisVerdict,
  type CheckDefinition,
  type CompiledCheck,
  type LatencyArmAccumulator,
  type RateArmAccumulator,
} from '../../src/rollout/analysis/index.js';
import { quantileSorted } from '../../src/stats/index.js';
import type { SimulatedRequest } from './traffic.js';

/** Metric keys the simulated data plane fills; check definitions name them in `metric`. */
export const METRICS = Object.freeze({
  errorRate: 'error-rate',
  latency: 'latency-mean-log',
  conversion: 'feedback:converted',
});

/** How a gate's run ended. */
export type GateOutcome =
  /** Rolled back at `atRequest` because of `checks`. */
  | { readonly kind: 'rollback'; readonly atRequest: number; readonly checks: readonly string[] }
  /** Promoted at `atRequest` because every check passed. */
  | { readonly kind: 'promote'; readonly atRequest: number }
  /** Paused for a person at `atRequest` (Slipway: sample-ratio mismatch). */
  | { readonly kind: 'pause'; readonly atRequest: number }
  /** Reached the end of the run without a decision: promoted after the last step, like the fixed gate. */
  | { readonly kind: 'end'; readonly atRequest: number; readonly lastVerdict: AnalysisVerdict | null };

/** A gate fed one request at a time and asked for a decision after every interval. */
export interface Gate {
  observe(request: SimulatedRequest): void;
  /** One look after `atRequest` requests; a decision ends the gate's run, null continues it. */
  look(atRequest: number): GateOutcome | null;
  /** The outcome when the run ends with no decision. */
  end(atRequest: number): GateOutcome;
}

/** Slipway's gate: the checks (engine definitions) and the configured split for the SRM test. */
export interface SlipwayGateConfig {
  readonly checks: readonly CheckDefinition[];
  /** Configured weights [stable, canary] in percent, for the sample-ratio mismatch test. */
  readonly weights: readonly [number, number];
}

/** Compiles the checks once so every run and look reuses them. */
export function compileSlipwayGate(config: SlipwayGateConfig): { readonly checks: readonly CompiledCheck[]; readonly weights: readonly [number, number] } {
  return { checks: compileChecks(config.checks), weights: config.weights };
}

interface Arms<T> {
  readonly baseline: T;
  readonly candidate: T;
}

/** Creates Slipway's gate for one run. */
export function createSlipwayGate(compiled: ReturnType<typeof compileSlipwayGate>): Gate {
  // The quantile sketch only feeds reported p50/p99; the gate never reads it, so it is left out.
  const errors: Arms<RateArmAccumulator> = { baseline: createRateArm(), candidate: createRateArm() };
  const latency: Arms<LatencyArmAccumulator> = { baseline: createLatencyArm({ sketch: false }), candidate: createLatencyArm({ sketch: false }) };
  const conversions: Arms<RateArmAccumulator> = { baseline: createRateArm(), candidate: createRateArm() };
  const usesConversion = compiled.checks.some((c) => c.metric === METRICS.conversion);
  let state: AnalysisState | null = null;
  let lastVerdict: AnalysisVerdict | null = null;
  return {
    observe(request) {
      errors[request.arm].add(request.failed);
      latency[request.arm].add(request.latencyMs);
      if (usesConversion) conversions[request.arm].add(request.converted);
    },
    look(atRequest) {
      const nBaseline = errors.baseline.summary().n;
      const nCandidate = errors.candidate.summary().n;
      const result = analyse(
        compiled.checks,
        {
          metrics: {
            [METRICS.errorRate]: { baseline: errors.baseline.summary(), candidate: errors.candidate.summary() },
            [METRICS.latency]: { baseline: latency.baseline.summary(), candidate: latency.candidate.summary() },
            [METRICS.conversion]: { baseline: conversions.baseline.summary(), candidate: conversions.candidate.summary() },
          },
          traffic: { arms: ['stable', 'canary'], counts: [nBaseline, nCandidate], weights: [...compiled.weights] },
        },
        state,
      );
      state = result.state;
      lastVerdict = result.verdict;
      switch (result.verdict) {
        case 'Fail':
          return { kind: 'rollback', atRequest, checks: result.checks.filter((c) => c.verdict === 'Fail').map((c) => c.name) };
        case 'SampleRatioMismatch':
          return { kind: 'pause', atRequest };
        case 'Pass':
          return { kind: 'promote', atRequest };
        case 'InsufficientData':
        case 'Inconclusive':
          return null;
      }
    },
    end: (atRequest) => ({ kind: 'end', atRequest, lastVerdict }),
  };
}

/** The fixed-threshold gate's parameters. */
export interface FixedGateConfig {
  /** A failed check when the canary's error rate in the interval is above this (0.02 = 2 %). */
  readonly errorRateAbove: number;
  /** A failed check when the canary's p99 latency in the interval is above this, in ms. */
  readonly p99AboveMs: number;
  /** Rollback once this many checks have failed in total (Flagger's `analysis.threshold`). */
  readonly failedChecksThreshold: number;
}

/** Why one interval's check failed, or null when it passed. */
export function fixedIntervalFailure(config: FixedGateConfig, requests: number, errors: number, latenciesMs: readonly number[]): 'no-traffic' | 'error-rate' | 'latency-p99' | null {
  // Flagger: "no values found" halts advancement and counts as a failed check (flagger#1689).
  if (requests === 0) return 'no-traffic';
  if (errors / requests > config.errorRateAbove) return 'error-rate';
  const sorted = Float64Array.from(latenciesMs).sort();
  if (quantileSorted(sorted, 0.99) > config.p99AboveMs) return 'latency-p99';
  return null;
}

/**
 * Where a fixed gate with `threshold` would roll back, given the request counts at which its checks
 * failed (in order): at the threshold-th failed check, or never. Failed checks are counted in total
 * and never reset by a passing check, as Flagger's `status.failedChecks`.
 */
export function fixedGateRollbackAt(failedAt: readonly number[], threshold: number): number | null {
  return failedAt.length >= threshold ? (failedAt[threshold - 1] as number) : null;
}

/** A fixed gate that also records every failed check, so other thresholds can be evaluated on the same run. */
export interface FixedGate extends Gate {
  /** Request counts at which checks failed, and why, in order (recorded until the run ends, even after a rollback). */
  readonly failures: readonly { readonly atRequest: number; readonly reason: string }[];
}

/** Creates the fixed-threshold gate for one run. */
export function createFixedGate(config: FixedGateConfig): FixedGate {
  let requests = 0;
  let errors = 0;
  let latencies: number[] = [];
  const failures: { atRequest: number; reason: string }[] = [];
  return {
    failures,
    observe(request) {
      if (request.arm !== 'candidate') return;
      requests += 1;
      if (request.failed) errors += 1;
      latencies.push(request.latencyMs);
    },
    look(atRequest) {
      // Flagger's built-in checks query the canary's metrics over the last interval only.
      const why = fixedIntervalFailure(config, requests, errors, latencies);
      requests = 0;
      errors = 0;
      latencies = [];
      if (why !== null) failures.push({ atRequest, reason: why });
      if (why !== null && failures.length === config.failedChecksThreshold) {
        return { kind: 'rollback', atRequest, checks: [...new Set(failures.map((f) => f.reason))] };
      }
      return null;
    },
    end: (atRequest) => ({ kind: 'end', atRequest, lastVerdict: null }),
  };
}
