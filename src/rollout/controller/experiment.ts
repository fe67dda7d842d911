/**
 * One look at an A/B experiment: every variant against the first (the control) on the deciding
 * metric, with always-valid statistics so the experiment can be checked continuously; the split
 * tested for a sample-ratio mismatch; and the stopping rule. A winner is declared only when the
 * always-valid interval of a variant's lift over the control excludes zero (for the control to win,
 * every other variant's interval must exclude zero on the losing side).
 */
import { analyse, type AnalysisResult, type AnalysisState, type ArmSummary, type CheckDefinition, type CheckResult } from '../analysis/index.js';
import type { ExperimentStrategy } from '../spec/index.js';
import type { RolloutVariant } from '../state/index.js';
import { betterSign } from './collect.js';

/** Observations a variant needs on the deciding metric before it is compared at all. */
export const EXPERIMENT_MINIMUM_SAMPLE = 100;

export interface ExperimentLook {
  readonly result: AnalysisResult;
  /** The stopping rule's decision: undefined while the experiment goes on. */
  readonly conclusion?: { readonly winner: string | null; readonly message: string; readonly evidence: Readonly<Record<string, unknown>> };
}

/** The check name of variant `name` against the control on metric `metric`. */
export function experimentCheckName(metric: string, variant: string): string {
  return `${metric}:${variant}`;
}

/**
 * Runs one look. `arms` are the deciding metric's arms by variant name, `predictions` the
 * predictions per variant (the assignment counts), `elapsedMs` the time since the experiment began.
 */
export function lookAtExperiment(options: {
  readonly strategy: ExperimentStrategy;
  readonly variants: readonly RolloutVariant[];
  readonly arms: ReadonlyMap<string, ArmSummary>;
  readonly predictions: ReadonlyMap<string, number>;
  readonly state: AnalysisState;
  readonly elapsedMs: number;
}): ExperimentLook {
  const { strategy, variants } = options;
  const metric = strategy.metrics[0];
  const control = variants[0];
  if (metric === undefined || control === undefined) throw new Error('an experiment has at least one metric and two variants');
  const challengers = variants.slice(1);
  const checks: CheckDefinition[] = challengers.map((v) => ({
    name: experimentCheckName(metric.name, v.name),
    metric: experimentCheckName(metric.name, v.name),
    kind: metric.kind === 'mean' ? 'continuous' : 'rate',
    direction: metric.direction,
    alpha: strategy.alpha,
    minimumSample: EXPERIMENT_MINIMUM_SAMPLE,
    relative: true,
  }));
  const metrics: Record<string, { baseline: ArmSummary | null; candidate: ArmSummary | null }> = {};
  for (const v of challengers) metrics[experimentCheckName(metric.name, v.name)] = { baseline: options.arms.get(control.name) ?? null, candidate: options.arms.get(v.name) ?? null };
  const weights = variants.map((v) => v.weight);
  const counts = variants.map((v) => options.predictions.get(v.name) ?? 0);
  // with stickiness the unit is the user and requests per user vary: the request split is not multinomial
  const testSplit = strategy.stickiness === undefined && weights.every((w) => w > 0) && counts.some((c) => c > 0);
  const result = analyse(checks, { metrics, traffic: testSplit ? { arms: variants.map((v) => v.name), counts, weights } : null }, options.state, {
    familySize: Math.max(1, challengers.length),
  });

  const winner = declaredWinner(result.checks, control.name, challengers, betterSign(metric.direction));
  const stop = strategy.stoppingRule;
  const evidence = { metric: metric.name, control: control.name, checks: result.checks.map((c) => ({ name: c.name, verdict: c.verdict, evidence: c.evidence })) };
  if (result.verdict !== 'SampleRatioMismatch') {
    if (stop.stopOnSignificance && winner !== null) {
      return { result, conclusion: { winner, message: `"${winner}" is better on ${metric.name} with always-valid evidence (α = ${strategy.alpha})`, evidence } };
    }
    if (stop.maxSamplesPerVariant !== undefined && counts.every((c) => c >= (stop.maxSamplesPerVariant ?? Infinity))) {
      return { result, conclusion: { winner, message: `every variant has ${stop.maxSamplesPerVariant} predictions (stoppingRule.maxSamplesPerVariant)${winner === null ? '; no variant is better with the evidence required' : ''}`, evidence } };
    }
  }
  if (stop.maxDurationSeconds !== undefined && options.elapsedMs >= stop.maxDurationSeconds * 1000) {
    return { result, conclusion: { winner, message: `the experiment ran ${stop.maxDurationSeconds} s (stoppingRule.maxDurationSeconds)${winner === null ? '; no variant is better with the evidence required' : ''}`, evidence } };
  }
  return { result };
}

/**
 * The variant that wins on always-valid evidence, or null: a challenger whose interval of lift over
 * the control lies wholly on the better side (the best such by its estimate), else the control when
 * every challenger's interval lies wholly on the worse side.
 */
function declaredWinner(checks: readonly CheckResult[], control: string, challengers: readonly RolloutVariant[], sign: 1 | -1): string | null {
  let best: { name: string; lift: number } | null = null;
  let controlBeatsAll = challengers.length > 0;
  for (const v of challengers) {
    const check = checks.find((c) => c.name.endsWith(`:${v.name}`));
    const interval = check?.evidence.interval;
    const difference = check?.evidence.difference;
    if (check === undefined || check.verdict === 'InsufficientData' || interval === null || interval === undefined || difference === null || difference === undefined) {
      controlBeatsAll = false;
      continue;
    }
    const lower = interval.lower ?? -Infinity;
    const upper = interval.upper ?? Infinity;
    const better = sign === 1 ? lower > 0 : upper < 0;
    const worse = sign === 1 ? upper < 0 : lower > 0;
    if (better && (best === null || sign * difference > sign * best.lift)) best = { name: v.name, lift: difference };
    if (!worse) controlBeatsAll = false;
  }
  if (best !== null) return best.name;
  return controlBeatsAll ? control : null;
}
