/**
 * From what the data plane and the feedback store observed to what the analysis engine reads: the
 * arm summaries per metric of a look, accumulated between looks. Rate and latency arms come from the
 * data plane's per-variant figures (taken, and so reset, on every tick of the controller), the
 * shadow's disagreement from the mirror's running comparison, outcome metrics from the feedback
 * API (queried cumulatively at each look).
 */
import type { TrafficFigures, VariantFigures } from '../../serving/dataplane.js';
import { CANDIDATE_VARIANT, STABLE_VARIANT } from '../../serving/routing/index.js';
import { mergeArms, type AnalysisInput, type ArmPair, type ArmSummary, type LatencyArm, type RateArm } from '../analysis/index.js';
import type { AnalysisTemplate, FeedbackMetricKind, MetricDirection } from '../spec/index.js';

/** What a look adds to the last look's input: figures since then, traffic with expected counts. */
export interface PendingInput {
  readonly errors: { baseline: RateArm | null; candidate: RateArm | null };
  readonly latency: { baseline: LatencyArm | null; candidate: LatencyArm | null };
  /** Requests per arm, and what the configured weights expected of them (for the SRM test). */
  readonly counts: [number, number];
  readonly expected: [number, number];
}

export function emptyPending(): PendingInput {
  return { errors: { baseline: null, candidate: null }, latency: { baseline: null, candidate: null }, counts: [0, 0], expected: [0, 0] };
}

const add = <T extends ArmSummary>(a: T | null, b: T): T => (a === null ? b : mergeArms(a, b));

/**
 * Adds one take of the figures to a pending input: `stable` is the baseline arm and `candidate`
 * the candidate (variants of other names — a header route's own, the shadow — are left out).
 * `candidateShare` (0–1) is the weight the router used; it turns counts into expected counts.
 */
export function addFigures(pending: PendingInput, figures: readonly VariantFigures[], candidateShare: number): void {
  let stable = 0;
  let candidate = 0;
  for (const v of figures) {
    const side = v.variant === STABLE_VARIANT ? 'baseline' : v.variant === CANDIDATE_VARIANT ? 'candidate' : null;
    if (side === null || v.requests === 0) continue;
    pending.errors[side] = add(pending.errors[side], v.errors);
    if (v.latency.n > 0) pending.latency[side] = add(pending.latency[side], v.latency);
    if (side === 'baseline') stable += v.requests;
    else candidate += v.requests;
  }
  const total = stable + candidate;
  pending.counts[0] += stable;
  pending.counts[1] += candidate;
  pending.expected[0] += total * (1 - candidateShare);
  pending.expected[1] += total * candidateShare;
}

/** The disagreement arm of the shadow's comparison so far: compared label rows, of which disagreeing. */
export function disagreementArm(figures: TrafficFigures | undefined): RateArm | null {
  const summary = figures?.shadow?.summary;
  if (summary === undefined || summary.labelRows === 0) return null;
  return { kind: 'rate', n: summary.labelRows, successes: summary.labelRows - summary.labelAgreements };
}

/** An outcome metric's arms per variant, as the feedback store reports them. */
export type OutcomeArms = ReadonlyMap<string, ArmSummary>;

/** Asks the feedback store for an outcome metric's arms per variant, over predictions since `since`. */
export type OutcomeReader = (metric: { readonly kind: FeedbackMetricKind; readonly event: string | undefined; readonly name: string }, since: number) => Promise<OutcomeArms>;

/**
 * The input of one look: the last look's cumulative input plus what came since, and the outcome
 * metrics read afresh. `disagreement` is the mirror's cumulative arm (it is cumulative already).
 */
export async function lookInput(options: {
  readonly template: AnalysisTemplate;
  readonly previous: AnalysisInput | null;
  readonly pending: PendingInput;
  readonly disagreement: RateArm | null;
  readonly outcomes: OutcomeReader | undefined;
  /** How often each variant predicted each value since a time (the prediction records). */
  readonly predictions?: ((since: number) => Promise<readonly PredictedValue[]>) | undefined;
  readonly since: number;
  readonly splitTest: boolean;
}): Promise<AnalysisInput> {
  const { template, previous, pending } = options;
  const metrics: Record<string, ArmPair> = {};
  const prior = (metric: string): ArmPair => previous?.metrics[metric] ?? {};
  const merged = <T extends ArmSummary>(a: T | null | undefined, b: T | null): T | null => (a === null || a === undefined ? b : b === null ? a : mergeArms(a, b));
  for (const check of template.checks) {
    const metric = check.metric;
    if (metric in metrics) continue;
    if (metric === 'error-rate') {
      const p = prior(metric);
      metrics[metric] = { baseline: merged(p.baseline as RateArm | null | undefined, pending.errors.baseline), candidate: merged(p.candidate as RateArm | null | undefined, pending.errors.candidate) };
    } else if (metric === 'latency-mean-log' || metric === 'latency-p99') {
      const p = prior(metric);
      metrics[metric] = { baseline: merged(p.baseline as LatencyArm | null | undefined, pending.latency.baseline), candidate: merged(p.candidate as LatencyArm | null | undefined, pending.latency.candidate) };
    } else if (metric === 'shadow-disagreement') {
      metrics[metric] = { baseline: null, candidate: options.disagreement };
    } else if (metric === 'prediction-js') {
      // the prediction records' one-row predictions (label, argmax, value) per variant; without records no data, never a failure
      metrics[metric] = options.predictions === undefined ? {} : predictionHistograms(await options.predictions(options.since), STABLE_VARIANT, CANDIDATE_VARIANT);
    } else if (check.feedback !== undefined && options.outcomes !== undefined) {
      const arms = await options.outcomes(check.feedback, options.since);
      metrics[metric] = { baseline: arms.get(STABLE_VARIANT) ?? null, candidate: arms.get(CANDIDATE_VARIANT) ?? null };
    } else {
      metrics[metric] = {};
    }
  }
  const counts: [number, number] = [(previous?.traffic?.counts[0] ?? 0) + pending.counts[0], (previous?.traffic?.counts[1] ?? 0) + pending.counts[1]];
  const expected: [number, number] = [(previous?.traffic?.weights[0] ?? 0) + pending.expected[0], (previous?.traffic?.weights[1] ?? 0) + pending.expected[1]];
  // the SRM test needs both arms expected to receive traffic; weights here are the expected counts (relative)
  const traffic = options.splitTest && expected[0] > 0 && expected[1] > 0 ? { arms: [STABLE_VARIANT, CANDIDATE_VARIANT], counts, weights: expected } : null;
  return { metrics, traffic };
}

/** How often one variant predicted one value. */
export interface PredictedValue {
  readonly variant: string;
  readonly predicted: string;
  readonly count: number;
}

/** More distinct numeric predictions than this are binned (a regression's values), fewer are categories (labels). */
export const MAX_PREDICTION_CATEGORIES = 32;
/** Equal-width bins over the pooled range when numeric predictions are binned. */
export const PREDICTION_BINS = 20;

/**
 * The two arms' prediction histograms over the same bins: one bin per predicted label or class
 * index (sorted), or — for numeric predictions with more than {@link MAX_PREDICTION_CATEGORIES}
 * distinct values — {@link PREDICTION_BINS} equal-width bins over both arms' pooled range.
 */
export function predictionHistograms(rows: readonly PredictedValue[], baseline: string, candidate: string): ArmPair {
  const mine = rows.filter((r) => r.variant === baseline || r.variant === candidate);
  if (mine.length === 0) return {};
  const values = [...new Set(mine.map((r) => r.predicted))];
  const numbers = values.map(Number);
  const numeric = numbers.every((n) => Number.isFinite(n));
  let binOf: (predicted: string) => number;
  let bins: number;
  if (numeric && values.length > MAX_PREDICTION_CATEGORIES) {
    const lo = Math.min(...numbers);
    const hi = Math.max(...numbers);
    bins = PREDICTION_BINS;
    binOf = (p) => Math.min(bins - 1, Math.floor(((Number(p) - lo) / (hi - lo)) * bins));
  } else {
    const order = numeric ? [...values].sort((a, b) => Number(a) - Number(b)) : [...values].sort();
    const index = new Map(order.map((v, i) => [v, i]));
    bins = order.length;
    binOf = (p) => index.get(p) ?? 0;
  }
  const counts = { [baseline]: new Array<number>(bins).fill(0), [candidate]: new Array<number>(bins).fill(0) };
  for (const r of mine) {
    const arm = counts[r.variant];
    const bin = binOf(r.predicted);
    if (arm !== undefined) arm[bin] = (arm[bin] ?? 0) + r.count;
  }
  const arm = (c: number[] | undefined): ArmSummary | null => (c === undefined || c.every((x) => x === 0) ? null : { kind: 'histogram', counts: c });
  return { baseline: arm(counts[baseline]), candidate: arm(counts[candidate]) };
}

/** The cumulative counts a look carried, kept even when the split was not tested (so later looks add to them). */
export function withCounts(input: AnalysisInput, pending: PendingInput, previous: AnalysisInput | null): AnalysisInput {
  if (input.traffic !== null && input.traffic !== undefined) return input;
  const counts = [(previous?.traffic?.counts[0] ?? 0) + pending.counts[0], (previous?.traffic?.counts[1] ?? 0) + pending.counts[1]];
  const weights = [(previous?.traffic?.weights[0] ?? 0) + pending.expected[0], (previous?.traffic?.weights[1] ?? 0) + pending.expected[1]];
  return { ...input, traffic: { arms: [STABLE_VARIANT, CANDIDATE_VARIANT], counts, weights } };
}

/** Which way is better, for reading an interval. */
export function betterSign(direction: MetricDirection): 1 | -1 {
  return direction === 'higher-is-better' ? 1 : -1;
}
