/**
 * Measuring one loaded model version for its validation report: accuracy on the labelled rows,
 * latency at several batch sizes, robustness (noise, zeroed, missing and out-of-range features, a
 * black-box worst-case search), output stability and edge cases. Every step is bounded by the
 * settings; `onStep` is called as steps finish so the caller can report progress.
 */
import { allocateTensorData, toPlatformError, type ModelSignature, type Tensor } from '../core/index.js';
import type { FeatureValue } from '../monitoring/profiles/compute.js';
import type { LoadedModel } from '../runtime/index.js';
import { decodeInferenceRequest } from '../serving/protocol/oip-json.js';
import { createSeededRandom, type SeededRandom } from '../stats/random.js';
import { quantileSorted } from '../stats/quantiles.js';
import { tensorsOf, type ValidationData } from './data.js';
import { ValidateErrors } from './errors.js';
import { classificationMetrics, regressionMetrics, sliceMetrics } from './metrics.js';
import { canonicalLabel, createPredictionCollector, numberAt, type Predictions } from './outputs.js';
import {
  MIN_LATENCY_RUNS,
  type AccuracyReport,
  type EdgeCaseResult,
  type FeaturePerturbation,
  type LatencyAtBatch,
  type PerturbedMetric,
  type RobustnessReport,
  type StabilityReport,
  type Task,
  type ValidationSettings,
} from './types.js';

/** Rows per inference while scoring. */
const SCORE_BATCH_ROWS = 256;
/** Most rows (features × variants × rows) the per-feature checks send in total. */
const PER_FEATURE_ROW_BUDGET = 400_000;
/** Worst features listed per per-feature check. */
const WORST_SHOWN = 5;
/** Largest batch the edge cases send. */
const LARGEST_EDGE_BATCH = 4096;

export interface MeasureContext {
  readonly loaded: LoadedModel;
  readonly signature: ModelSignature;
  readonly settings: ValidationSettings;
  readonly signal: AbortSignal;
  /** Called when a step finishes (`label`: what it was). */
  readonly onStep: (label: string) => void;
  /** Samples process memory; called between calls. */
  readonly sampleMemory: () => void;
}

const checkAborted = (signal: AbortSignal): void => {
  if (signal.aborted) throw toPlatformError(signal.reason);
};

/** The fixed batch size of the model's inputs, when its first dimension is fixed; null when dynamic. */
export function fixedBatch(signature: ModelSignature): number | null {
  const first = signature.inputs[0]?.shape[0];
  return first !== undefined && first > 0 ? first : null;
}

/** Inputs of `rows` rows for every signature: small seeded normal floats, zeros elsewhere, other dynamic dimensions 1. */
export function syntheticInputs(signature: ModelSignature, rows: number, random: SeededRandom): Tensor[] {
  return signature.inputs.map((spec) => {
    const shape = spec.shape.map((d, i) => (i === 0 ? rows : d < 0 ? 1 : d));
    const n = shape.reduce((a, b) => a * b, 1);
    const data = allocateTensorData(spec.datatype, n);
    if (Array.isArray(data)) data.fill('');
    else if (data instanceof Float32Array || data instanceof Float64Array) for (let i = 0; i < n; i++) data[i] = random.normal() * 0.5;
    return { name: spec.name, datatype: spec.datatype, shape, data };
  });
}

// ─── predictions ────────────────────────────────────────────────────────────────────────────────

/** Runs rows of values through the model, in batches, and reads the predictions. */
export async function predict(ctx: MeasureContext, data: Pick<ValidationData, 'layout'>, rows: readonly (readonly FeatureValue[])[]): Promise<Predictions> {
  const collector = createPredictionCollector();
  const step = data.layout.batchRows === 1 ? 1 : SCORE_BATCH_ROWS;
  for (let i = 0; i < rows.length; i += step) {
    checkAborted(ctx.signal);
    const batch = rows.slice(i, i + step);
    const outputs = await ctx.loaded.infer(tensorsOf(data, batch), undefined, ctx.signal);
    collector.add(outputs, batch.length);
    ctx.sampleMemory();
  }
  return collector.finish();
}

/** The task the data and the model's outputs make: a value output scored on numbers is regression. */
export function taskOf(predictions: Predictions): Task | null {
  if (predictions.kind === 'value') return 'regression';
  if (predictions.kind === 'label') return 'classification';
  return null;
}

/** Targets as numbers for regression; VALIDATE_INVALID_DATA naming the first row that is not one. */
function numericTargets(targets: readonly string[], rowNumbers: readonly number[], column: string): Float64Array {
  const out = new Float64Array(targets.length);
  targets.forEach((t, i) => {
    const x = Number(t);
    if (t.trim() === '' || !Number.isFinite(x)) {
      throw ValidateErrors.VALIDATE_INVALID_DATA(`row ${rowNumbers[i]}, target column ${JSON.stringify(column)}: ${JSON.stringify(t)} is not a number; the model outputs a value (regression), so the target must be numeric`, {
        details: { row: rowNumbers[i], column, value: t },
      });
    }
    out[i] = x;
  });
  return out;
}

/** The labelled rows a version is scored on: complete rows with a target. */
export interface ScoredRows {
  readonly indices: readonly number[];
  readonly values: readonly (readonly FeatureValue[])[];
  readonly labels: readonly string[];
  /** Regression targets; empty for classification. */
  readonly numeric: Float64Array;
}

export function scoredRows(data: ValidationData): { rows: ScoredRows; skipped: number } {
  const indices: number[] = [];
  for (let r = 0; r < data.rows; r++) if (data.complete[r] === true && data.targets[r] !== null) indices.push(r);
  return {
    rows: { indices, values: indices.map((r) => data.values[r] as FeatureValue[]), labels: indices.map((r) => canonicalLabel(data.targets[r] as string)), numeric: new Float64Array(0) },
    skipped: data.rows - indices.length,
  };
}

/** The headline figure: accuracy (classification) or RMSE (regression). */
export function headline(task: Task, p: Predictions, labels: readonly string[], numeric: Float64Array): number {
  if (task === 'classification') {
    let right = 0;
    labels.forEach((l, i) => {
      if (p.labels[i] === l) right++;
    });
    return labels.length === 0 ? NaN : right / labels.length;
  }
  // a non-finite prediction is left out of the RMSE; the share of them is reported beside it (nonFiniteShare)
  let sum = 0;
  let n = 0;
  for (let i = 0; i < numeric.length; i++) {
    const v = p.values[i] as number;
    if (!Number.isFinite(v)) continue;
    const e = v - (numeric[i] as number);
    sum += e * e;
    n++;
  }
  return n === 0 ? NaN : Math.sqrt(sum / n);
}

/** Accuracy on the labelled rows, with slices when asked. */
export async function measureAccuracy(ctx: MeasureContext, data: ValidationData): Promise<{ report: AccuracyReport | null; predictions: Predictions; rows: ScoredRows; task: Task | null }> {
  const { rows, skipped } = scoredRows(data);
  if (rows.indices.length === 0) {
    throw ValidateErrors.VALIDATE_INVALID_DATA('no row has both a target and every feature value: there is nothing to score');
  }
  const predictions = await predict(ctx, data, rows.values);
  const task = taskOf(predictions);
  ctx.onStep('accuracy');
  if (task === null) return { report: null, predictions, rows, task };
  const rowNumbers = rows.indices.map((r) => r + 1);
  const scored: ScoredRows = task === 'regression' ? { ...rows, numeric: numericTargets(rows.labels, rowNumbers, data.target ?? '') } : rows;
  const base = { task, rows: rows.indices.length, skippedRows: skipped };
  const sliceValues = data.slices === null ? null : rows.indices.map((r) => data.slices?.[r] ?? null);
  if (task === 'classification') {
    const input = {
      labels: scored.labels,
      predicted: predictions.labels.map((l) => l ?? '(none)'),
      ...(predictions.probabilities === null ? {} : { probabilities: predictions.probabilities }),
    };
    const classification = classificationMetrics(input);
    const slices = sliceValues === null ? undefined : sliceMetrics({ column: data.sliceBy ?? '', values: sliceValues, task: 'classification', ...input });
    return { report: { ...base, classification, ...(slices === undefined ? {} : { slices }) }, predictions, rows: scored, task };
  }
  const regression = regressionMetrics(scored.numeric, predictions.values);
  const slices = sliceValues === null ? undefined : sliceMetrics({ column: data.sliceBy ?? '', values: sliceValues, task: 'regression', actual: scored.numeric, predicted: predictions.values });
  return { report: { ...base, regression, ...(slices === undefined ? {} : { slices }) }, predictions, rows: scored, task };
}

// ─── performance ────────────────────────────────────────────────────────────────────────────────

/** Inputs of `rows` rows: data rows repeated when the data has fewer, synthetic rows without data. */
export function batchInputs(signature: ModelSignature, data: ValidationData | null, rows: number, random: SeededRandom): Tensor[] {
  if (data === null) return syntheticInputs(signature, rows, random);
  const complete: (readonly FeatureValue[])[] = [];
  for (let r = 0; r < data.rows && complete.length < rows; r++) if (data.complete[r] === true) complete.push(data.values[r] as FeatureValue[]);
  if (complete.length === 0) return syntheticInputs(signature, rows, random);
  const out: (readonly FeatureValue[])[] = [];
  for (let i = 0; i < rows; i++) out.push(complete[i % complete.length] as FeatureValue[]);
  return tensorsOf(data, out);
}

/** One version's latencies: the summary per batch size, and its calls per round (batch size → rounds). */
export interface LatencyMeasurement {
  readonly summaries: LatencyAtBatch[];
  readonly blocks: Map<number, number[][]>;
}

/** Calls made in a row to one version before the other gets its turn, when two are timed together. */
const PAIRED_BLOCK = 5;

function summarise(batchSize: number, times: readonly number[]): LatencyAtBatch {
  const sorted = Float64Array.from(times).sort();
  const mean = times.reduce((a, x) => a + x, 0) / times.length;
  return {
    batchSize,
    runs: times.length,
    meanMs: mean,
    p50Ms: quantileSorted(sorted, 0.5),
    p95Ms: quantileSorted(sorted, 0.95),
    p99Ms: quantileSorted(sorted, 0.99),
    rowsPerSecond: mean > 0 ? (batchSize * 1000) / mean : 0,
  };
}

/**
 * Latency at each batch size of one or more versions (the same inputs for each): a few untimed
 * calls each, then calls one after another until the run count or the time budget. Two versions
 * take turns in blocks of {@link PAIRED_BLOCK} calls, the first to go alternating, so a machine that
 * slows down or speeds up during the measurement (other work, frequency scaling) weighs on both
 * alike: the comparison a `baseline` gate makes is then like for like. Returns one list per context.
 */
export async function measureLatency(contexts: readonly MeasureContext[], data: ValidationData | null): Promise<LatencyMeasurement[]> {
  const first = contexts[0];
  if (first === undefined) return [];
  const { settings } = first;
  const fixed = fixedBatch(first.signature);
  const sizes = fixed === null ? [...new Set(settings.batchSizes)].sort((a, b) => a - b) : [fixed];
  const random = createSeededRandom(settings.seed);
  const out: LatencyMeasurement[] = contexts.map(() => ({ summaries: [], blocks: new Map<number, number[][]>() }));
  for (const b of sizes) {
    const inputs = batchInputs(first.signature, data, b, random);
    for (const ctx of contexts) for (let i = 0; i < 3; i++) await ctx.loaded.infer(inputs, undefined, ctx.signal);
    const times: number[][] = contexts.map(() => []);
    // each context's calls of each round, for the paired comparison (src/stats/bootstrap.ts)
    const rounds: number[][][] = contexts.map(() => []);
    const started = performance.now();
    const budget = settings.latencyBudgetMs * contexts.length;
    const more = (): boolean => times.some((t) => t.length < settings.latencyRuns) && (times.some((t) => t.length < MIN_LATENCY_RUNS) || performance.now() - started < budget);
    for (let round = 0; more(); round++) {
      // the order alternates round by round, so neither version always follows the other
      const order = round % 2 === 0 ? contexts.map((_, i) => i) : contexts.map((_, i) => contexts.length - 1 - i);
      for (const k of order) {
        const ctx = contexts[k] as MeasureContext;
        const t = times[k] as number[];
        const block: number[] = [];
        for (let i = 0; i < PAIRED_BLOCK && t.length < settings.latencyRuns; i++) {
          checkAborted(ctx.signal);
          const t0 = performance.now();
          await ctx.loaded.infer(inputs, undefined, ctx.signal);
          const ms = performance.now() - t0;
          t.push(ms);
          block.push(ms);
        }
        (rounds[k] as number[][]).push(block);
        ctx.sampleMemory();
      }
    }
    contexts.forEach((ctx, k) => {
      const o = out[k] as LatencyMeasurement;
      o.summaries.push(summarise(b, times[k] as number[]));
      o.blocks.set(b, (rounds[k] as number[][]).filter((block) => block.length > 0));
      ctx.onStep(`latency at batch ${b}`);
    });
  }
  return out;
}

// ─── robustness ─────────────────────────────────────────────────────────────────────────────────

interface FeatureStats {
  readonly mean: number;
  readonly std: number;
  readonly min: number;
  readonly max: number;
  /**
   * Only whole numbers, at most {@link MAX_DISCRETE_LEVELS} distinct ones: a count or a code (a
   * pixel level, an hour, a category index, a flag). Noise and the worst-case search move it to a
   * neighbouring whole value within its observed range — an hour of 13.04 is not a nearby input
   * but an impossible one, while 14 is.
   */
  readonly discrete: boolean;
}

/** Most distinct whole values a feature may take and still count as a code. */
const MAX_DISCRETE_LEVELS = 32;

/** Mean, standard deviation, minimum and maximum of each numeric feature over the rows. */
function featureStats(rows: readonly (readonly FeatureValue[])[], numeric: readonly boolean[]): FeatureStats[] {
  return numeric.map((isNumeric, j) => {
    if (!isNumeric) return { mean: 0, std: 0, min: 0, max: 0, discrete: true };
    const levels = new Set<number>();
    let whole = true;
    let n = 0;
    let mean = 0;
    let m2 = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const row of rows) {
      const x = row[j];
      if (typeof x !== 'number' || !Number.isFinite(x)) continue;
      n++;
      const d = x - mean;
      mean += d / n;
      m2 += d * (x - mean);
      if (x < min) min = x;
      if (x > max) max = x;
      if (whole && Number.isInteger(x) && levels.size <= MAX_DISCRETE_LEVELS) levels.add(x);
      else whole = false;
    }
    const discrete = whole && levels.size <= MAX_DISCRETE_LEVELS;
    return { mean, std: n > 1 ? Math.sqrt(m2 / (n - 1)) : 0, min: n > 0 ? min : 0, max: n > 0 ? max : 0, discrete };
  });
}

/** Moves feature `j`'s value by `delta`: a discrete one to the nearest whole value within its observed range. */
type Perturb = (j: number, x: number, delta: number) => number;

function perturber(stats: readonly FeatureStats[]): Perturb {
  return (j, x, delta) => {
    const s = stats[j] as FeatureStats;
    if (!s.discrete) return x + delta;
    return Math.min(s.max, Math.max(s.min, Math.round(x + delta)));
  };
}

/** A seeded sample of `k` of `n` indices, in order. */
function sampleIndices(n: number, k: number, random: SeededRandom): number[] {
  if (k >= n) return Array.from({ length: n }, (_, i) => i);
  const picked = new Set<number>();
  // Floyd's algorithm: k draws, each adds one index
  for (let j = n - k; j < n; j++) {
    const t = random.int(j + 1);
    picked.add(picked.has(t) ? j : t);
  }
  return [...picked].sort((a, b) => a - b);
}

function isMissingPrediction(task: Task, p: Predictions, i: number): boolean {
  return task === 'classification' ? p.labels[i] === null : !Number.isFinite(p.values[i]);
}

function samePrediction(task: Task, a: Predictions, b: Predictions, i: number): boolean {
  return task === 'classification' ? a.labels[i] === b.labels[i] : a.values[i] === b.values[i];
}

/** The headline under a perturbation, against the clean run. */
function perturbed(task: Task, clean: number, cleanPredictions: Predictions, p: Predictions, labels: readonly string[], numeric: Float64Array): PerturbedMetric {
  const value = headline(task, p, labels, numeric);
  let nonFinite = 0;
  let changed = 0;
  for (let i = 0; i < p.rows; i++) {
    if (isMissingPrediction(task, p, i)) nonFinite++;
    if (!samePrediction(task, cleanPredictions, p, i)) changed++;
  }
  const drop = task === 'classification' ? clean - value : clean === 0 ? value - clean : (value - clean) / clean;
  return { value, drop, nonFiniteShare: p.rows === 0 ? 0 : nonFinite / p.rows, changedShare: p.rows === 0 ? 0 : changed / p.rows };
}

const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, x) => a + (Number.isFinite(x) ? x : 0), 0) / xs.length);
const worstFirst = (xs: FeaturePerturbation[]): FeaturePerturbation[] => [...xs].sort((a, b) => (Number.isFinite(b.drop) ? b.drop : Number.MAX_VALUE) - (Number.isFinite(a.drop) ? a.drop : Number.MAX_VALUE)).slice(0, WORST_SHOWN);

/** The robustness checks on a seeded sample of the scored rows. */
export async function measureRobustness(ctx: MeasureContext, data: ValidationData, task: Task, scored: ScoredRows): Promise<RobustnessReport> {
  const { settings } = ctx;
  const random = createSeededRandom(settings.seed + 1);
  const numericFeatures = data.numeric.map((n, j) => (n ? j : -1)).filter((j) => j >= 0);
  const variants = 4; // zeroed, missing, above, below
  const perFeatureRows = Math.max(20, Math.floor(PER_FEATURE_ROW_BUDGET / Math.max(1, numericFeatures.length * variants)));
  const pick = sampleIndices(scored.indices.length, Math.min(settings.robustnessRows, perFeatureRows, scored.indices.length), random);
  const rows = pick.map((i) => scored.values[i] as readonly FeatureValue[]);
  const labels = pick.map((i) => scored.labels[i] as string);
  const numeric = task === 'regression' ? Float64Array.from(pick, (i) => scored.numeric[i] as number) : new Float64Array(0);
  const stats = featureStats(data.values.filter((_, r) => data.complete[r] === true), data.numeric);
  const cleanPredictions = await predict(ctx, data, rows);
  const clean = headline(task, cleanPredictions, labels, numeric);
  const perturb = perturber(stats);

  // Gaussian noise on every numeric feature at once, scaled per feature
  const noise: (PerturbedMetric & { level: number })[] = [];
  for (const level of settings.noiseLevels) {
    const noisy = rows.map((row) => row.map((x, j) => (data.numeric[j] === true && typeof x === 'number' ? perturb(j, x, random.normal() * level * (stats[j] as FeatureStats).std) : x)));
    noise.push({ level, ...perturbed(task, clean, cleanPredictions, await predict(ctx, data, noisy), labels, numeric) });
    ctx.onStep(`noise ${level}`);
  }

  // one feature at a time: zeroed, missing, pushed beyond its observed range
  const zeroed: FeaturePerturbation[] = [];
  const missing: FeaturePerturbation[] = [];
  const outOfRange: FeaturePerturbation[] = [];
  for (const j of numericFeatures) {
    const name = data.featureNames[j] as string;
    const s = stats[j] as FeatureStats;
    const set = (value: number): (readonly FeatureValue[])[] => rows.map((row) => row.map((x, k) => (k === j ? value : x)));
    zeroed.push({ feature: name, ...perturbed(task, clean, cleanPredictions, await predict(ctx, data, set(0)), labels, numeric) });
    missing.push({ feature: name, ...perturbed(task, clean, cleanPredictions, await predict(ctx, data, set(NaN)), labels, numeric) });
    const range = Math.max(s.max - s.min, s.std, 1e-6);
    const above = perturbed(task, clean, cleanPredictions, await predict(ctx, data, set(s.max + range)), labels, numeric);
    const below = perturbed(task, clean, cleanPredictions, await predict(ctx, data, set(s.min - range)), labels, numeric);
    outOfRange.push({
      feature: name,
      value: Math.min(above.value, below.value),
      drop: Math.max(above.drop, below.drop),
      nonFiniteShare: (above.nonFiniteShare + below.nonFiniteShare) / 2,
      changedShare: (above.changedShare + below.changedShare) / 2,
    });
  }
  ctx.onStep('per-feature checks');

  const worstCase = await worstCaseSearch(ctx, data, task, { rows, labels, numeric, cleanPredictions, stats, random, perturb });
  ctx.onStep('worst-case search');

  return {
    rows: rows.length,
    metric: task === 'classification' ? 'accuracy' : 'rmse',
    clean,
    discreteFeatures: numericFeatures.filter((j) => (stats[j] as FeatureStats).discrete).map((j) => data.featureNames[j] as string),
    noise,
    zeroed: { worst: worstFirst(zeroed), meanDrop: mean(zeroed.map((z) => z.drop)), features: zeroed.length },
    missing: { worst: worstFirst(missing), meanDrop: mean(missing.map((z) => z.drop)), nonFiniteShare: mean(missing.map((z) => z.nonFiniteShare)), features: missing.length },
    outOfRange: {
      worst: worstFirst(outOfRange),
      meanDrop: mean(outOfRange.map((z) => z.drop)),
      nonFiniteShare: mean(outOfRange.map((z) => z.nonFiniteShare)),
      changedShare: mean(outOfRange.map((z) => z.changedShare)),
      features: outOfRange.length,
    },
    worstCase,
  };
}

interface SearchInput {
  readonly rows: readonly (readonly FeatureValue[])[];
  readonly labels: readonly string[];
  readonly numeric: Float64Array;
  readonly cleanPredictions: Predictions;
  readonly stats: readonly FeatureStats[];
  readonly random: SeededRandom;
  readonly perturb: Perturb;
}

/**
 * A black-box search for the worst input within ε·std of each row (L∞ box over numeric features):
 * a gradient-sign step whose gradient is estimated by finite differences (the score of the true
 * class for classification, the prediction for regression, in both directions), then random
 * corners of the box. A lower bound on what a determined attacker finds, not a certificate.
 */
async function worstCaseSearch(ctx: MeasureContext, data: ValidationData, task: Task, input: SearchInput): Promise<RobustnessReport['worstCase']> {
  const { settings } = ctx;
  const eps = settings.perturbationEpsilon;
  const { rows, labels, cleanPredictions, stats, random, perturb } = input;
  const numericFeatures = data.numeric.map((n, j) => (n ? j : -1)).filter((j) => j >= 0);
  // classification attacks rows the model gets right; regression every row
  const candidates: number[] = [];
  for (let i = 0; i < rows.length && candidates.length < settings.perturbationRows; i++) {
    if (task === 'regression' || cleanPredictions.labels[i] === labels[i]) candidates.push(i);
  }
  if (candidates.length === 0 || numericFeatures.length === 0) {
    return { epsilon: eps, rows: 0, trials: settings.perturbationTrials, flipRate: task === 'classification' ? 0 : null, meanShift: task === 'regression' ? 0 : null };
  }
  const step = (j: number): number => eps * Math.max((stats[j] as FeatureStats).std, 1e-6);
  const probabilities = cleanPredictions.probabilities;
  const classColumn = (label: string): number => probabilities?.classes.indexOf(label) ?? -1;
  // the score a step tries to lower (classification) or move (regression)
  const score = (p: Predictions, i: number, label: string): number => {
    if (task === 'regression') return p.values[i] as number;
    const k = classColumn(label);
    return k >= 0 && p.probabilities !== null ? ((p.probabilities.rows[i] as Float64Array)[k] as number) : p.labels[i] === label ? 1 : 0;
  };

  // finite differences: one probe per numeric feature per row
  const probes: (readonly FeatureValue[])[] = [];
  for (const i of candidates) {
    const row = rows[i] as readonly FeatureValue[];
    // a discrete feature's probe moves it one whole step (the smallest change it can make)
    for (const j of numericFeatures) probes.push(row.map((x, k) => (k === j && typeof x === 'number' ? ((stats[j] as FeatureStats).discrete ? x + 1 : x + step(j) * 0.5) : x)));
  }
  const probed = await predict(ctx, data, probes);
  const base = await predict(ctx, data, candidates.map((i) => rows[i] as readonly FeatureValue[]));
  const attacks: (readonly FeatureValue[])[] = [];
  const owner: number[] = [];
  candidates.forEach((i, c) => {
    const row = rows[i] as readonly FeatureValue[];
    const label = labels[i] as string;
    const s0 = score(base, c, label);
    const sign = numericFeatures.map((j, f) => Math.sign(score(probed, c * numericFeatures.length + f, label) - s0) || 1);
    // classification lowers the true class's score; regression tries both directions
    const directions = task === 'classification' ? [-1] : [-1, 1];
    for (const d of directions) {
      attacks.push(row.map((x, k) => {
        const f = numericFeatures.indexOf(k);
        return f >= 0 && typeof x === 'number' ? perturb(k, x, d * (sign[f] as number) * step(k)) : x;
      }));
      owner.push(c);
    }
    for (let t = 0; t < settings.perturbationTrials; t++) {
      attacks.push(row.map((x, k) => (data.numeric[k] === true && typeof x === 'number' ? perturb(k, x, (random.next() < 0.5 ? -1 : 1) * step(k)) : x)));
      owner.push(c);
    }
  });
  const attacked = await predict(ctx, data, attacks);
  if (task === 'classification') {
    const flipped = new Set<number>();
    owner.forEach((c, a) => {
      if (attacked.labels[a] !== labels[candidates[c] as number]) flipped.add(c);
    });
    return { epsilon: eps, rows: candidates.length, trials: settings.perturbationTrials, flipRate: flipped.size / candidates.length, meanShift: null };
  }
  const targetStd = standardDeviation(input.numeric);
  const largest = new Float64Array(candidates.length);
  owner.forEach((c, a) => {
    const shift = Math.abs((attacked.values[a] as number) - (base.values[c] as number));
    largest[c] = Math.max(largest[c] as number, Number.isFinite(shift) ? shift : Number.MAX_VALUE);
  });
  const meanShift = largest.reduce((s, x) => s + x, 0) / candidates.length / (targetStd > 0 ? targetStd : 1);
  return { epsilon: eps, rows: candidates.length, trials: settings.perturbationTrials, flipRate: null, meanShift };
}

function standardDeviation(xs: Float64Array): number {
  if (xs.length < 2) return 0;
  const m = xs.reduce((a, x) => a + x, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) * (x - m), 0) / (xs.length - 1));
}

// ─── stability ──────────────────────────────────────────────────────────────────────────────────

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    const d = Math.abs(x - y);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

/**
 * The same batch twice, and the same rows one by one. Also returns the batch's predictions: with
 * the same seed and data every version gets the same batch, so two versions can be compared on it
 * when there are no labelled rows.
 */
export async function measureStability(ctx: MeasureContext, data: ValidationData | null): Promise<{ report: StabilityReport; predictions: Predictions }> {
  const random = createSeededRandom(ctx.settings.seed + 2);
  const fixed = fixedBatch(ctx.signature);
  const rows = fixed ?? 16;
  const inputs = batchInputs(ctx.signature, data, rows, random);
  const run = async (tensors: Tensor[], n: number): Promise<Predictions> => {
    const c = createPredictionCollector();
    c.add(await ctx.loaded.infer(tensors, undefined, ctx.signal), n);
    return c.finish();
  };
  const first = await run(inputs, rows);
  const second = await run(inputs, rows);
  let single = first;
  if (fixed === null) {
    const c = createPredictionCollector();
    for (let r = 0; r < rows; r++) c.add(await ctx.loaded.infer(sliceRows(inputs, r), undefined, ctx.signal), 1);
    single = c.finish();
  }
  ctx.onStep('stability');
  const same = (a: Predictions, b: Predictions): boolean => a.labels.every((l, i) => l === b.labels[i]) && maxAbsDiff(a.values, b.values) === 0;
  return {
    report: {
      repeatMaxAbsDiff: maxAbsDiff(first.floats, second.floats),
      batchMaxAbsDiff: maxAbsDiff(first.floats, single.floats),
      identicalPredictions: same(first, second) && first.labels.every((l, i) => l === single.labels[i]),
    },
    predictions: first,
  };
}

/** Row `r` of every input as a batch of one. */
function sliceRows(inputs: readonly Tensor[], r: number): Tensor[] {
  return inputs.map((t) => {
    const width = t.shape.slice(1).reduce((a, b) => a * b, 1);
    const data = allocateTensorData(t.datatype, width);
    for (let i = 0; i < width; i++) (data as unknown as unknown[])[i] = (t.data as unknown as unknown[])[r * width + i];
    return { ...t, shape: [1, ...t.shape.slice(1)], data };
  });
}

// ─── edge cases ─────────────────────────────────────────────────────────────────────────────────

/** An OIP JSON input from tensors (data as plain arrays; bigints as numbers). */
function jsonInputs(tensors: readonly Tensor[]): { name: string; shape: number[]; datatype: string; data: unknown[] }[] {
  return tensors.map((t) => ({
    name: t.name,
    shape: [...t.shape],
    datatype: t.datatype,
    data: Array.from(t.data as ArrayLike<unknown>, (x) => (typeof x === 'bigint' ? Number(x) : x)),
  }));
}

/**
 * Requests a careless or hostile client sends, decoded as the server decodes them and run: each
 * must be answered or refused with a clear error (a PlatformError with a 4xx kind), never crash
 * the replica; a normal request must still be answered after them.
 */
export async function measureEdgeCases(ctx: MeasureContext, data: ValidationData | null): Promise<EdgeCaseResult[]> {
  const { signature } = ctx;
  const random = createSeededRandom(ctx.settings.seed + 3);
  const fixed = fixedBatch(signature);
  const one = jsonInputs(batchInputs(signature, data, fixed ?? 1, random));
  const first = signature.inputs[0];
  const floatInput = signature.inputs.findIndex((s) => s.datatype === 'FP32' || s.datatype === 'FP64' || s.datatype === 'FP16');
  const withFirst = (change: (input: (typeof one)[number]) => (typeof one)[number]): unknown => ({ inputs: one.map((inp, i) => (i === 0 ? change(inp) : inp)) });
  const cases: { name: string; description: string; expect: EdgeCaseResult['expect']; body: unknown; acceptNonFinite?: boolean }[] = [];
  if (fixed === null) {
    cases.push({ name: 'empty_batch', description: 'a batch of 0 rows', expect: 'either', body: { inputs: one.map((inp) => ({ ...inp, shape: [0, ...inp.shape.slice(1)], data: [] })) } });
    const perRow = one.map((inp) => inp.shape.slice(1).reduce((a, b) => a * b, 1));
    const widest = Math.max(1, ...perRow);
    const largest = Math.max(1, Math.min(LARGEST_EDGE_BATCH, Math.floor(1_000_000 / widest)));
    cases.push({ name: 'largest_batch', description: `a batch of ${largest} rows`, expect: 'answer', body: { inputs: jsonInputs(batchInputs(signature, data, largest, random)) } });
  }
  if (floatInput >= 0) {
    const withValue = (value: unknown): unknown => ({ inputs: one.map((inp, i) => (i === floatInput ? { ...inp, data: inp.data.map((x, k) => (k === 0 ? value : x)) } : inp)) });
    cases.push({ name: 'nan_value', description: 'NaN in a float input (JSON null, accepted as NaN)', expect: 'either', body: withValue(null), acceptNonFinite: true });
    cases.push({ name: 'infinite_value', description: '"Infinity" in a float input (accepted as +Infinity)', expect: 'either', body: withValue('Infinity'), acceptNonFinite: true });
    cases.push({ name: 'nan_refused', description: 'NaN in a float input where non-finite values are refused', expect: 'error', body: withValue(null) });
    cases.push({ name: 'string_value', description: 'text where a number is expected', expect: 'error', body: withValue('abc') });
  }
  if (first !== undefined) {
    cases.push({ name: 'wrong_datatype', description: 'the first input declared with another datatype', expect: 'error', body: withFirst((inp) => ({ ...inp, datatype: inp.datatype === 'BYTES' ? 'FP32' : 'BYTES' })) });
    cases.push({
      name: 'wrong_shape',
      description: 'one more value per row than the model takes',
      expect: first.shape.length >= 2 ? 'error' : 'either',
      body: withFirst((inp) => {
        const shape = [...inp.shape];
        const last = shape.length - 1;
        shape[last] = (shape[last] as number) + 1;
        const n = shape.reduce((a, b) => a * b, 1);
        return { ...inp, shape, data: Array.from({ length: n }, (_, k) => inp.data[k % Math.max(1, inp.data.length)] ?? 0) };
      }),
    });
    cases.push({ name: 'data_shape_mismatch', description: 'fewer data values than the shape declares', expect: 'error', body: withFirst((inp) => ({ ...inp, data: inp.data.slice(0, Math.max(0, inp.data.length - 1)) })) });
    cases.push({ name: 'missing_input', description: 'no inputs at all', expect: 'error', body: { inputs: [] } });
    cases.push({ name: 'unknown_input', description: 'an input the model does not have', expect: 'error', body: withFirst((inp) => ({ ...inp, name: `${inp.name}__unknown` })) });
  }
  cases.push({ name: 'not_an_object', description: 'a JSON array as the body', expect: 'error', body: [1, 2, 3] });

  const results: EdgeCaseResult[] = [];
  for (const c of cases) {
    checkAborted(ctx.signal);
    try {
      const request = decodeInferenceRequest(c.body, signature, { acceptNonFinite: c.acceptNonFinite === true });
      const outputs = await ctx.loaded.infer(request.inputs, undefined, ctx.signal);
      const finite = outputs.every((t) => !(t.datatype === 'FP32' || t.datatype === 'FP64' || t.datatype === 'FP16') || Array.from({ length: t.data.length }, (_, i) => numberAt(t, i)).every(Number.isFinite));
      results.push({ name: c.name, description: c.description, expect: c.expect, outcome: 'answer', finiteOutputs: finite, passed: c.expect !== 'error' });
    } catch (error) {
      const e = toPlatformError(error);
      // a clear refusal is a 4xx-kind PlatformError; a crash or an internal error is a failure whatever was expected
      const clear = e.kind !== 'internal' && e.kind !== 'unavailable' && !e.code.startsWith('RUNTIME_REPLICA');
      results.push({ name: c.name, description: c.description, expect: c.expect, outcome: 'error', code: e.code, message: e.message, passed: clear && c.expect !== 'answer' });
    }
  }
  // the replica must still answer after all that
  try {
    await ctx.loaded.infer(batchInputs(signature, data, fixed ?? 1, random), undefined, ctx.signal);
    results.push({ name: 'still_serving', description: 'a normal request after the edge cases', expect: 'answer', outcome: 'answer', passed: true });
  } catch (error) {
    const e = toPlatformError(error);
    results.push({ name: 'still_serving', description: 'a normal request after the edge cases', expect: 'answer', outcome: 'error', code: e.code, message: e.message, passed: false });
  }
  ctx.onStep('edge cases');
  return results;
}
