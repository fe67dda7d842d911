/**
 * One simulated canary run fed to both gates on the same requests, and the aggregation of many runs
 * into rates, medians and decision counts. Pure and deterministic given the seeds.
 */
import type { CompiledCheck } from '../../src/rollout/analysis/index.js';
import { createFixedGate, createSlipwayGate, fixedGateRollbackAt, type FixedGateConfig, type GateOutcome } from './gates.js';
import { generateTraffic, type Fault, type TrafficShape } from './traffic.js';

/** What one run of one scenario produced. */
export interface RunResult {
  readonly seed: number;
  /** null when the run fed the fixed gate only. */
  readonly slipway: GateOutcome | null;
  /** Every failed check of the fixed gate over the whole run (the run is not cut at its rollback). */
  readonly fixedFailures: readonly { readonly atRequest: number; readonly reason: string }[];
}

/** Everything one run needs besides its seed. */
export interface RunPlan {
  readonly shape: TrafficShape;
  readonly fault: Fault;
  /** Requests between two looks. */
  readonly lookEvery: number;
  /** Slipway's compiled gate, or null to run the fixed gate alone. */
  readonly slipway: { readonly checks: readonly CompiledCheck[]; readonly weights: readonly [number, number] } | null;
  readonly fixed: FixedGateConfig;
}

/**
 * Simulates one canary run: every request goes to both gates; each looks after every `lookEvery`
 * requests. Slipway's gate stops at its first decision. The fixed gate keeps counting failed checks to
 * the end so that any `analysis.threshold` can be evaluated on the same run afterwards.
 */
export function simulateRun(plan: RunPlan, seed: number): RunResult {
  const slipway = plan.slipway === null ? null : createSlipwayGate(plan.slipway);
  const fixed = createFixedGate({ ...plan.fixed, failedChecksThreshold: Number.MAX_SAFE_INTEGER });
  let slipwayOutcome: GateOutcome | null = null;
  for (const request of generateTraffic(plan.shape, plan.fault, seed)) {
    fixed.observe(request);
    if (slipwayOutcome === null) slipway?.observe(request);
    if (request.index % plan.lookEvery !== 0) continue;
    fixed.look(request.index);
    if (slipwayOutcome === null && slipway !== null) slipwayOutcome = slipway.look(request.index);
  }
  return { seed, slipway: slipway === null ? null : (slipwayOutcome ?? slipway.end(plan.shape.requests)), fixedFailures: fixed.failures };
}

/** The fixed gate's outcome with a given `analysis.threshold`, read off a run's failed checks. */
export function fixedOutcome(run: RunResult, threshold: number, requests: number): GateOutcome {
  const at = fixedGateRollbackAt(run.fixedFailures.map((f) => f.atRequest), threshold);
  if (at === null) return { kind: 'end', atRequest: requests, lastVerdict: null };
  const reasons = new Set(run.fixedFailures.slice(0, threshold).map((f) => f.reason));
  return { kind: 'rollback', atRequest: at, checks: [...reasons] };
}

/** Many runs of one gate in one scenario, summarised. */
export interface GateSummary {
  readonly runs: number;
  readonly rollbacks: number;
  /** Requests (both arms, since the canary started) at each rollback, sorted. */
  readonly rollbackAt: readonly number[];
  /** Rollbacks by the check that failed (a run can name several). */
  readonly rollbacksByCheck: Readonly<Record<string, number>>;
  /** Promoted because every check passed, before the end of the run. */
  readonly promotedOnPass: number;
  readonly promotedOnPassAt: readonly number[];
  /** Reached the end without a decision (promoted after the last step), by the last verdict. */
  readonly endedUndecided: number;
  readonly endedByVerdict: Readonly<Record<string, number>>;
  /** Paused for a person (sample-ratio mismatch). */
  readonly paused: number;
}

/** Aggregates the outcomes of one gate over many runs. */
export function summarise(outcomes: readonly GateOutcome[]): GateSummary {
  const rollbackAt: number[] = [];
  const promotedOnPassAt: number[] = [];
  const byCheck: Record<string, number> = {};
  const byVerdict: Record<string, number> = {};
  let paused = 0;
  let ended = 0;
  for (const o of outcomes) {
    switch (o.kind) {
      case 'rollback':
        rollbackAt.push(o.atRequest);
        for (const c of o.checks) byCheck[c] = (byCheck[c] ?? 0) + 1;
        break;
      case 'promote':
        promotedOnPassAt.push(o.atRequest);
        break;
      case 'pause':
        paused += 1;
        break;
      case 'end': {
        ended += 1;
        const key = o.lastVerdict ?? 'none';
        byVerdict[key] = (byVerdict[key] ?? 0) + 1;
        break;
      }
    }
  }
  rollbackAt.sort((a, b) => a - b);
  promotedOnPassAt.sort((a, b) => a - b);
  return {
    runs: outcomes.length,
    rollbacks: rollbackAt.length,
    rollbackAt,
    rollbacksByCheck: byCheck,
    promotedOnPass: promotedOnPassAt.length,
    promotedOnPassAt,
    endedUndecided: ended,
    endedByVerdict: byVerdict,
    paused,
  };
}

/** The median of sorted values (mean of the middle two for an even count), or null for none. */
export function medianOf(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The smallest threshold in [from, to] whose rollback share over `runs` is at most `maxRate`, or null. */
export function calibrateThreshold(runs: readonly RunResult[], requests: number, maxRate: number, from: number, to: number): number | null {
  for (let k = from; k <= to; k++) {
    const rollbacks = runs.filter((r) => fixedOutcome(r, k, requests).kind === 'rollback').length;
    if (rollbacks / runs.length <= maxRate) return k;
  }
  return null;
}
