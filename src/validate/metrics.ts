/**
 * Validation metrics: pure functions from labels, predictions and probabilities to the figures a
 * validation report holds and gates judge. Classification: accuracy, per-class and averaged
 * precision / recall / F1, the confusion matrix and, given probabilities, ROC AUC, log loss,
 * expected calibration error with its reliability bins, and the Brier score. Regression: MAE, RMSE,
 * R², MAPE and max error. Slices: the same metrics per value or quartile of a column.
 *
 * Conventions follow scikit-learn where it has one; docs/validation.md lists every one. Figures
 * that exist but are undefined for the data at hand (ROC AUC when the labels hold one class, MAPE
 * when every actual value is 0) are `null`, so a report stays plain JSON.
 */
import { quantileSorted } from '../stats/index.js';
import { ValidateErrors } from './errors.js';

/** Probabilities are clipped to [ε, 1 − ε] before the log, as scikit-learn's log_loss (eps=1e-15). */
export const LOG_LOSS_EPS = 1e-15;
/** Equal-width bins of the top-class confidence for the expected calibration error. */
export const CALIBRATION_BINS = 10;
/** How far a probability row may sum from 1 (float32 softmax outputs are off by ~1e-7). */
export const PROBABILITY_SUM_TOLERANCE = 1e-3;
/** How far a probability may stray outside [0, 1] by float rounding; it is clamped into [0, 1]. */
export const PROBABILITY_RANGE_TOLERANCE = 1e-6;
/** Categorical slices: this many most frequent values get a slice each, the rest share `(other)`. */
export const MAX_SLICE_CATEGORIES = 20;
/** The slice name of the rows beyond the top categories. */
export const OTHER_SLICE = '(other)';
/** The slice name of the rows whose slice column is empty. */
export const MISSING_SLICE = '(missing)';

/**
 * Class probabilities, one column per class in `classes` order: either one row per example, or
 * one row-major array of `rows × classes.length` numbers (what a model's output tensor holds).
 */
export type ProbabilityInput =
  | { readonly classes: readonly string[]; readonly rows: readonly ArrayLike<number>[] }
  | { readonly classes: readonly string[]; readonly data: Float64Array | Float32Array };

export interface ClassificationInput {
  /** The true class of each example. */
  readonly labels: readonly string[];
  /** The class the model predicted for each example. */
  readonly predicted: readonly string[];
  /** The model's class probabilities; enables ROC AUC, log loss, calibration and Brier score. */
  readonly probabilities?: ProbabilityInput;
  /**
   * The class whose probability column scores the binary ROC AUC and Brier score. Default: the
   * second of `probabilities.classes`, as scikit-learn scores `predict_proba(X)[:, 1]`.
   */
  readonly positiveClass?: string;
}

/** Precision, recall and F1 of one class, and its support (how many examples truly are it). */
export interface ClassMetrics {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly support: number;
}

/** Precision, recall and F1 averaged over the classes. */
export interface AveragedMetrics {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

/** One equal-width bin of top-class confidence: for a reliability diagram. */
export interface ReliabilityBin {
  /** Exclusive lower edge (inclusive for the first bin). */
  readonly lower: number;
  /** Inclusive upper edge. */
  readonly upper: number;
  readonly count: number;
  /** Mean top-class probability of the examples in the bin; null when the bin is empty. */
  readonly meanConfidence: number | null;
  /** Share of the bin's examples whose top class is their label; null when the bin is empty. */
  readonly accuracy: number | null;
}

/**
 * Calibration of the top-class probability over {@link CALIBRATION_BINS} equal-width bins:
 * ECE = Σ_b (n_b / n) · |accuracy_b − meanConfidence_b|.
 */
export interface Calibration {
  readonly ece: number;
  /** Every bin, empty ones included, lowest first: the points of a reliability diagram. */
  readonly bins: readonly ReliabilityBin[];
}

export interface ClassificationMetrics {
  readonly task: 'classification';
  readonly count: number;
  readonly accuracy: number;
  /** Every class seen in the labels or the predictions, in {@link compareClassNames} order. */
  readonly classes: readonly string[];
  /** Per class, keyed by class name (in `classes` order). */
  readonly perClass: Readonly<Record<string, ClassMetrics>>;
  /** Unweighted mean over `classes`. */
  readonly macro: AveragedMetrics;
  /** Mean over `classes` weighted by support. */
  readonly weighted: AveragedMetrics;
  /** Counts: row = true class, column = predicted class, both in `classes` order (scikit-learn's layout). */
  readonly confusionMatrix: readonly (readonly number[])[];
  /** The class scored as positive by a binary ROC AUC and Brier score (two probability columns only). */
  readonly positiveClass?: string;
  /** Binary: AUC of the positive class's probability. Multi-class: macro mean of one-vs-rest AUCs. */
  readonly rocAuc?: number | null;
  /** Mean negative log of the true class's probability, clipped to [1e-15, 1 − 1e-15]. */
  readonly logLoss?: number;
  /** Binary: mean (p_positive − y)². Multi-class: mean Σₖ (pₖ − yₖ)². */
  readonly brier?: number;
  /** Calibration of the top-class probability: the expected calibration error and its bins. */
  readonly calibration?: Calibration;
}

export interface RegressionMetrics {
  readonly task: 'regression';
  readonly count: number;
  readonly mae: number;
  readonly rmse: number;
  /** 1 − SSE / SST; with constant actual values 1 when every prediction is exact, else 0 (scikit-learn). */
  readonly r2: number;
  /** Mean |actual − predicted| / |actual| as a fraction (0.05 = 5 %) over rows whose actual is not 0; null when every actual is 0. */
  readonly mape: number | null;
  /** Rows left out of MAPE because their actual value is 0. */
  readonly mapeSkipped: number;
  readonly maxError: number;
}

function invalid(message: string): Error {
  return ValidateErrors.VALIDATE_INVALID_METRIC_INPUT(message);
}

/** Array.isArray that keeps a typed list typed (Array.isArray widens it to an untyped array). */
function isList(value: unknown): value is readonly unknown[] {
  return Array.isArray(value);
}

function isNumericName(name: string): boolean {
  return name.trim() !== '' && Number.isFinite(Number(name));
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The order of classes (and of categorical slices on a tie): numeric when both names read as
 * numbers (so "2" comes before "10", as scikit-learn orders integer labels), else by UTF-16 code
 * units, which is locale-independent. {@link sortClasses} applies one rule to a whole list.
 */
export function compareClassNames(a: string, b: string): number {
  if (isNumericName(a) && isNumericName(b)) return Number(a) - Number(b) || byCodeUnits(a, b);
  return byCodeUnits(a, b);
}

/** Sorts class names numerically when every one reads as a number, else by code units. */
export function sortClasses(names: Iterable<string>): string[] {
  const list = [...new Set(names)];
  const numeric = list.every(isNumericName);
  return list.sort(numeric ? (a, b) => Number(a) - Number(b) || byCodeUnits(a, b) : byCodeUnits);
}

// ---------------------------------------------------------------------------------------------
// input checks

function checkClassNames(values: readonly string[], what: string, fn: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'string' || v === '') {
      throw invalid(`${fn}: ${what}[${i}] must be a non-empty class name, got ${v === '' ? 'an empty string' : typeof v}`);
    }
  }
}

function checkNumbers(values: ArrayLike<number>, what: string, fn: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`${fn}: ${what}[${i}] must be a finite number, got ${String(v)}`);
  }
}

function checkPair(a: ArrayLike<unknown>, b: ArrayLike<unknown>, names: readonly [string, string], fn: string): void {
  if (a.length === 0) throw invalid(`${fn}: ${names[0]} must hold at least one value, got none`);
  if (a.length !== b.length) {
    throw invalid(`${fn}: ${names[0]} and ${names[1]} must have the same length, got ${a.length} ${names[0]} and ${b.length} ${names[1]}`);
  }
}

/** Classification input after its checks: probabilities as one row-major Float64Array. */
interface CheckedClassification {
  readonly labels: readonly string[];
  readonly predicted: readonly string[];
  readonly probabilities?: { readonly classes: readonly string[]; readonly data: Float64Array; readonly positive: number };
}

function checkProbabilities(input: ProbabilityInput, labels: readonly string[], positiveClass: string | undefined, fn: string) {
  const classes = input.classes;
  const n = labels.length;
  if (!isList(classes) || classes.length < 2) throw invalid(`${fn}: probabilities.classes must list at least two classes, got ${isList(classes) ? classes.length : typeof classes}`);
  checkClassNames(classes, 'probabilities.classes', fn);
  const column = new Map<string, number>();
  classes.forEach((c, j) => {
    const earlier = column.get(c);
    if (earlier !== undefined) throw invalid(`${fn}: probabilities.classes[${j}] repeats "${c}" (also at [${earlier}]); expected distinct class names`);
    column.set(c, j);
  });
  const k = classes.length;
  let data: Float64Array;
  if ('data' in input) {
    if (input.data.length !== n * k) {
      throw invalid(`${fn}: probabilities.data must hold ${n} rows × ${k} classes = ${n * k} numbers, got ${input.data.length}`);
    }
    data = Float64Array.from(input.data);
  } else {
    if (input.rows.length !== n) throw invalid(`${fn}: probabilities.rows must hold one row per label (${n}), got ${input.rows.length}`);
    data = new Float64Array(n * k);
    input.rows.forEach((row, i) => {
      if (row.length !== k) throw invalid(`${fn}: probabilities.rows[${i}] must hold ${k} numbers (one per class), got ${row.length}`);
      for (let j = 0; j < k; j++) data[i * k + j] = row[j] as number;
    });
  }
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const p = data[i * k + j] as number;
      if (!(p >= -PROBABILITY_RANGE_TOLERANCE && p <= 1 + PROBABILITY_RANGE_TOLERANCE)) {
        throw invalid(`${fn}: probabilities row ${i}, class "${classes[j]}" must be a probability in [0, 1], got ${p}`);
      }
      sum += p;
      // float rounding may step a hair outside [0, 1]; the metrics see the value clamped
      data[i * k + j] = Math.min(1, Math.max(0, p));
    }
    if (Math.abs(sum - 1) > PROBABILITY_SUM_TOLERANCE) {
      throw invalid(`${fn}: probabilities row ${i} must sum to 1 (±${PROBABILITY_SUM_TOLERANCE}), got ${sum}; pass probabilities, not scores or logits`);
    }
    if (!column.has(labels[i] as string)) {
      throw invalid(`${fn}: labels[${i}] is "${labels[i]}", which has no probability column; expected one of ${classes.join(', ')}`);
    }
  }
  let positive = 1;
  if (positiveClass !== undefined) {
    const j = column.get(positiveClass);
    if (j === undefined) throw invalid(`${fn}: positiveClass "${positiveClass}" must be one of probabilities.classes (${classes.join(', ')})`);
    positive = j;
  }
  return { classes, data, positive };
}

function checkClassification(input: ClassificationInput, fn: string): CheckedClassification {
  const { labels, predicted } = input;
  if (!isList(labels) || !isList(predicted)) throw invalid(`${fn}: labels and predicted must be lists of class names`);
  checkPair(labels, predicted, ['labels', 'predicted'], fn);
  checkClassNames(labels, 'labels', fn);
  checkClassNames(predicted, 'predicted', fn);
  if (input.probabilities === undefined) {
    if (input.positiveClass !== undefined) throw invalid(`${fn}: positiveClass needs probabilities`);
    return { labels, predicted };
  }
  return { labels, predicted, probabilities: checkProbabilities(input.probabilities, labels, input.positiveClass, fn) };
}

function checkRegression(actual: ArrayLike<number>, predicted: ArrayLike<number>, fn: string): void {
  if (actual === null || typeof actual !== 'object' || predicted === null || typeof predicted !== 'object') {
    throw invalid(`${fn}: actual and predicted must be lists of numbers`);
  }
  checkPair(actual, predicted, ['actual', 'predicted'], fn);
  checkNumbers(actual, 'actual', fn);
  checkNumbers(predicted, 'predicted', fn);
}

// ---------------------------------------------------------------------------------------------
// classification

/**
 * Area under the ROC curve by the Mann–Whitney rank formula: AUC = (R₊ − n₊(n₊ + 1)/2) / (n₊ n₋),
 * R₊ the sum of the positives' ranks, tied scores sharing their average rank (so a tie between a
 * positive and a negative counts one half, as the trapezoidal ROC area does). Null when the
 * labels hold only positives or only negatives.
 */
function rankAuc(score: Float64Array, positive: Uint8Array): number | null {
  const n = score.length;
  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += positive[i] as number;
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return null;
  // a typed array sorts numerically without a comparator, which is several times faster; each
  // positive's average rank then comes from where its score starts and ends in the sorted copy
  const sorted = Float64Array.from(score).sort();
  let rankSum = 0;
  for (let i = 0; i < n; i++) {
    if (positive[i] !== 1) continue;
    const s = score[i] as number;
    // the tied run of s occupies sorted[below … upTo − 1], i.e. ranks below + 1 … upTo
    rankSum += (firstAbove(sorted, s, false) + 1 + firstAbove(sorted, s, true)) / 2;
  }
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** The first index of `sorted` whose value is ≥ s (`inclusive` false) or > s (true). */
function firstAbove(sorted: Float64Array, s: number, inclusive: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid] as number;
    if (v < s || (inclusive && v === s)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function binOf(confidence: number): number {
  // compare with b/10 rather than ceil(10·c) − 1, so 0.3 falls in (0.2, 0.3] as written
  for (let b = 0; b < CALIBRATION_BINS - 1; b++) if (confidence <= (b + 1) / CALIBRATION_BINS) return b;
  return CALIBRATION_BINS - 1;
}

function probabilityFigures(c: CheckedClassification): Partial<ClassificationMetrics> {
  const probs = c.probabilities;
  if (probs === undefined) return {};
  const { classes, data, positive } = probs;
  const n = c.labels.length;
  const k = classes.length;
  const labelColumn = new Uint32Array(n);
  const column = new Map(classes.map((name, j) => [name, j]));
  for (let i = 0; i < n; i++) labelColumn[i] = column.get(c.labels[i] as string) ?? 0;

  let logLoss = 0;
  let brier = 0;
  const binCount = new Float64Array(CALIBRATION_BINS);
  const binConfidence = new Float64Array(CALIBRATION_BINS);
  const binCorrect = new Float64Array(CALIBRATION_BINS);
  for (let i = 0; i < n; i++) {
    const row = i * k;
    const truth = labelColumn[i] as number;
    const pTrue = data[row + truth] as number;
    logLoss -= Math.log(Math.min(Math.max(pTrue, LOG_LOSS_EPS), 1 - LOG_LOSS_EPS));
    if (k === 2) {
      brier += ((data[row + positive] as number) - (truth === positive ? 1 : 0)) ** 2;
    } else {
      for (let j = 0; j < k; j++) brier += ((data[row + j] as number) - (j === truth ? 1 : 0)) ** 2;
    }
    // the top class: the first column holding the row's largest probability
    let top = 0;
    for (let j = 1; j < k; j++) if ((data[row + j] as number) > (data[row + top] as number)) top = j;
    const confidence = data[row + top] as number;
    const b = binOf(confidence);
    binCount[b] = (binCount[b] as number) + 1;
    binConfidence[b] = (binConfidence[b] as number) + confidence;
    if (top === truth) binCorrect[b] = (binCorrect[b] as number) + 1;
  }

  let ece = 0;
  const reliability: ReliabilityBin[] = [];
  for (let b = 0; b < CALIBRATION_BINS; b++) {
    const count = binCount[b] as number;
    const meanConfidence = count === 0 ? null : (binConfidence[b] as number) / count;
    const accuracy = count === 0 ? null : (binCorrect[b] as number) / count;
    if (meanConfidence !== null && accuracy !== null) ece += (count / n) * Math.abs(accuracy - meanConfidence);
    reliability.push({ lower: b / CALIBRATION_BINS, upper: (b + 1) / CALIBRATION_BINS, count, meanConfidence: meanConfidence, accuracy });
  }

  const score = new Float64Array(n);
  const isPositive = new Uint8Array(n);
  let rocAuc: number | null;
  if (k === 2) {
    for (let i = 0; i < n; i++) {
      score[i] = data[i * k + positive] as number;
      isPositive[i] = labelColumn[i] === positive ? 1 : 0;
    }
    rocAuc = rankAuc(score, isPositive);
  } else {
    // macro one-vs-rest over the classes whose AUC is defined (present and not alone in the labels)
    let sum = 0;
    let defined = 0;
    for (let j = 0; j < k; j++) {
      for (let i = 0; i < n; i++) {
        score[i] = data[i * k + j] as number;
        isPositive[i] = labelColumn[i] === j ? 1 : 0;
      }
      const auc = rankAuc(score, isPositive);
      if (auc !== null) {
        sum += auc;
        defined++;
      }
    }
    rocAuc = defined === 0 ? null : sum / defined;
  }

  return {
    ...(k === 2 ? { positiveClass: classes[positive] } : {}),
    rocAuc,
    logLoss: logLoss / n,
    brier: brier / n,
    calibration: { ece, bins: reliability },
  };
}

function classificationOf(c: CheckedClassification): ClassificationMetrics {
  const n = c.labels.length;
  const classes = sortClasses([...c.labels, ...c.predicted]);
  const index = new Map(classes.map((name, i) => [name, i]));
  const k = classes.length;
  const counts = classes.map(() => new Array<number>(k).fill(0));
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const t = index.get(c.labels[i] as string) ?? 0;
    const p = index.get(c.predicted[i] as string) ?? 0;
    (counts[t] as number[])[p] = ((counts[t] as number[])[p] as number) + 1;
    if (t === p) hits++;
  }

  const perClass: [string, ClassMetrics][] = [];
  const macro = { precision: 0, recall: 0, f1: 0 };
  const weighted = { precision: 0, recall: 0, f1: 0 };
  for (let j = 0; j < k; j++) {
    const tp = (counts[j] as number[])[j] as number;
    let support = 0;
    let predictedCount = 0;
    for (let i = 0; i < k; i++) {
      support += (counts[j] as number[])[i] as number;
      predictedCount += (counts[i] as number[])[j] as number;
    }
    const fp = predictedCount - tp;
    const fn = support - tp;
    // zero_division=0: a ratio whose denominator is 0 counts as 0
    const precision = predictedCount === 0 ? 0 : tp / predictedCount;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
    perClass.push([classes[j] as string, { precision, recall, f1, support }]);
    macro.precision += precision / k;
    macro.recall += recall / k;
    macro.f1 += f1 / k;
    weighted.precision += (precision * support) / n;
    weighted.recall += (recall * support) / n;
    weighted.f1 += (f1 * support) / n;
  }

  return {
    task: 'classification',
    count: n,
    accuracy: hits / n,
    classes,
    // fromEntries defines own properties, so a class named "__proto__" is a key like every other
    perClass: Object.fromEntries(perClass),
    macro,
    weighted,
    confusionMatrix: counts,
    ...probabilityFigures(c),
  };
}

/**
 * Classification metrics of predicted against true labels, and of the class probabilities when
 * given. Throws VALIDATE_INVALID_METRIC_INPUT naming the argument and row when the inputs are
 * empty, of different lengths, hold an empty class name or a probability row that is not one.
 */
export function classificationMetrics(input: ClassificationInput): ClassificationMetrics {
  return classificationOf(checkClassification(input, 'classificationMetrics'));
}

// ---------------------------------------------------------------------------------------------
// regression

function regressionOf(actual: ArrayLike<number>, predicted: ArrayLike<number>): RegressionMetrics {
  const n = actual.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += actual[i] as number;
  mean /= n;
  let absSum = 0;
  let sse = 0;
  let sst = 0;
  let maxError = 0;
  let apeSum = 0;
  let apeCount = 0;
  for (let i = 0; i < n; i++) {
    const a = actual[i] as number;
    const e = a - (predicted[i] as number);
    absSum += Math.abs(e);
    sse += e * e;
    sst += (a - mean) ** 2;
    if (Math.abs(e) > maxError) maxError = Math.abs(e);
    if (a !== 0) {
      apeSum += Math.abs(e) / Math.abs(a);
      apeCount++;
    }
  }
  return {
    task: 'regression',
    count: n,
    mae: absSum / n,
    rmse: Math.sqrt(sse / n),
    // scikit-learn's force_finite: constant actual values give 1 for a perfect fit, else 0
    r2: sst === 0 ? (sse === 0 ? 1 : 0) : 1 - sse / sst,
    mape: apeCount === 0 ? null : apeSum / apeCount,
    mapeSkipped: n - apeCount,
    maxError: maxError,
  };
}

/**
 * Regression metrics of predicted against actual values. Throws VALIDATE_INVALID_METRIC_INPUT
 * when the lists are empty, of different lengths or hold a number that is not finite.
 */
export function regressionMetrics(actual: ArrayLike<number>, predicted: ArrayLike<number>): RegressionMetrics {
  checkRegression(actual, predicted, 'regressionMetrics');
  return regressionOf(actual, predicted);
}

// ---------------------------------------------------------------------------------------------
// slices

/** One cell of the slice column: a CSV cell, a number, or nothing. Empty cells, null and NaN are missing. */
export type SliceValue = string | number | null | undefined;

/** How a slice column is cut: by value, by quartile, or by what its values look like. */
export type SliceBinning = 'auto' | 'categorical' | 'numeric';

interface SliceColumn {
  /** The column's name, for the report. */
  readonly column: string;
  /** The column's value on each row, aligned with the metric rows. */
  readonly values: readonly SliceValue[];
  /**
   * `auto` (default): quartiles when every present value is a number and there are more distinct
   * values than `maxCategories`, else one slice per value.
   */
  readonly binning?: SliceBinning;
  /** Most values that get a slice of their own (default {@link MAX_SLICE_CATEGORIES}). */
  readonly maxCategories?: number;
}

/** Slices of a classification: the column, and the same inputs as {@link classificationMetrics}. */
export interface ClassificationSliceInput extends SliceColumn, ClassificationInput {
  readonly task: 'classification';
}

/** Slices of a regression: the column, and the same inputs as {@link regressionMetrics}. */
export interface RegressionSliceInput extends SliceColumn {
  readonly task: 'regression';
  readonly actual: ArrayLike<number>;
  readonly predicted: ArrayLike<number>;
}

export type SliceInput = ClassificationSliceInput | RegressionSliceInput;

/** One slice: a value, the other values, the missing cells, or a quartile bin, with its rows' metrics. */
export interface Slice<M extends ClassificationMetrics | RegressionMetrics = ClassificationMetrics | RegressionMetrics> {
  /** The value, `(other)`, `(missing)`, or an interval such as `(2.5, 7]`. */
  readonly name: string;
  readonly kind: 'value' | 'other' | 'missing' | 'bin';
  readonly count: number;
  /** Numeric bins: the interval's edges (lower exclusive, except for the first bin). */
  readonly lower?: number;
  readonly upper?: number;
  readonly metrics: M;
}

/** The metrics per slice of one column. */
export interface SliceMetrics<M extends ClassificationMetrics | RegressionMetrics = ClassificationMetrics | RegressionMetrics> {
  readonly column: string;
  readonly binning: 'categorical' | 'numeric';
  /** Numeric binning: the distinct quartile edges (minimum, Q1, median, Q3, maximum, ties merged). */
  readonly edges?: readonly number[];
  readonly slices: readonly Slice<M>[];
}

function isMissing(v: SliceValue): boolean {
  return v === null || v === undefined || (typeof v === 'string' && v.trim() === '') || (typeof v === 'number' && Number.isNaN(v));
}

function numericValue(v: SliceValue): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function formatEdge(v: number): string {
  return String(Number(v.toPrecision(6)));
}

interface Grouping {
  readonly binning: 'categorical' | 'numeric';
  readonly edges?: readonly number[];
  readonly groups: { name: string; kind: Slice['kind']; lower?: number; upper?: number; rows: number[] }[];
}

function groupCategorical(values: readonly SliceValue[], maxCategories: number): Grouping {
  const rowsOf = new Map<string, number[]>();
  const missing: number[] = [];
  values.forEach((v, i) => {
    if (isMissing(v)) {
      missing.push(i);
      return;
    }
    const key = String(v);
    const rows = rowsOf.get(key);
    if (rows === undefined) rowsOf.set(key, [i]);
    else rows.push(i);
  });
  const ranked = [...rowsOf].sort((a, b) => b[1].length - a[1].length || compareClassNames(a[0], b[0]));
  const groups: Grouping['groups'] = ranked.slice(0, maxCategories).map(([name, rows]) => ({ name, kind: 'value', rows }));
  const rest = ranked.slice(maxCategories).flatMap(([, rows]) => rows);
  if (rest.length > 0) groups.push({ name: OTHER_SLICE, kind: 'other', rows: rest.sort((a, b) => a - b) });
  if (missing.length > 0) groups.push({ name: MISSING_SLICE, kind: 'missing', rows: missing });
  return { binning: 'categorical', groups };
}

function groupNumeric(column: string, values: readonly SliceValue[]): Grouping {
  const numbers = new Float64Array(values.length);
  const present: number[] = [];
  const missing: number[] = [];
  values.forEach((v, i) => {
    if (isMissing(v)) {
      missing.push(i);
      return;
    }
    const n = numericValue(v);
    if (n === undefined) throw invalid(`sliceMetrics: column "${column}" row ${i} must be a number for numeric slices, got ${JSON.stringify(v)}`);
    numbers[i] = n;
    present.push(i);
  });
  const groups: Grouping['groups'] = [];
  let edges: number[] = [];
  if (present.length > 0) {
    const sorted = Float64Array.from(present, (i) => numbers[i] as number).sort();
    // type-7 quartiles (numpy's default); equal edges merge, so heavy ties give fewer bins
    for (const p of [0, 0.25, 0.5, 0.75, 1]) {
      const q = quantileSorted(sorted, p);
      if (edges.length === 0 || q > (edges[edges.length - 1] as number)) edges.push(q);
    }
    if (edges.length === 1) edges = [edges[0] as number, edges[0] as number];
    const bins = edges.slice(1).map((upper, j) => ({
      name: `${j === 0 ? '[' : '('}${formatEdge(edges[j] as number)}, ${formatEdge(upper)}]`,
      kind: 'bin' as const,
      lower: edges[j] as number,
      upper,
      rows: [] as number[],
    }));
    for (const i of present) {
      const v = numbers[i] as number;
      const bin = bins.find((b) => v <= b.upper) ?? bins[bins.length - 1];
      bin?.rows.push(i);
    }
    // an empty bin has no metrics to show
    groups.push(...bins.filter((b) => b.rows.length > 0));
    if (edges[0] === edges[1]) edges = [edges[0] as number];
  }
  if (missing.length > 0) groups.push({ name: MISSING_SLICE, kind: 'missing', rows: missing });
  return { binning: 'numeric', edges, groups };
}

function subsetClassification(c: CheckedClassification, rows: readonly number[]): CheckedClassification {
  const labels = rows.map((i) => c.labels[i] as string);
  const predicted = rows.map((i) => c.predicted[i] as string);
  const probs = c.probabilities;
  if (probs === undefined) return { labels, predicted };
  const k = probs.classes.length;
  const data = new Float64Array(rows.length * k);
  rows.forEach((i, r) => data.set(probs.data.subarray(i * k, i * k + k), r * k));
  return { labels, predicted, probabilities: { ...probs, data } };
}

function rowCount(input: SliceInput): number {
  return input.task === 'classification' ? input.labels.length : input.actual.length;
}

/**
 * The task's metrics on each slice of one column: one slice per value (the
 * {@link MAX_SLICE_CATEGORIES} most frequent, the rest as `(other)`) or per quartile of a numeric
 * column, plus `(missing)` for empty cells. Each slice's metrics are those of its rows alone.
 */
export function sliceMetrics(input: ClassificationSliceInput): SliceMetrics<ClassificationMetrics>;
export function sliceMetrics(input: RegressionSliceInput): SliceMetrics<RegressionMetrics>;
export function sliceMetrics(input: SliceInput): SliceMetrics;
export function sliceMetrics(input: SliceInput): SliceMetrics {
  const fn = 'sliceMetrics';
  const { column, values } = input;
  const maxCategories = input.maxCategories ?? MAX_SLICE_CATEGORIES;
  if (typeof column !== 'string' || column === '') throw invalid(`${fn}: column must be the slice column's name, got ${JSON.stringify(column)}`);
  if (!Number.isSafeInteger(maxCategories) || maxCategories < 1) throw invalid(`${fn}: maxCategories must be a whole number ≥ 1, got ${maxCategories}`);
  const task: unknown = input.task;
  if (task !== 'classification' && task !== 'regression') throw invalid(`${fn}: task must be classification or regression, got ${JSON.stringify(task)}`);
  if (!isList(values)) throw invalid(`${fn}: values must be a list with the column's value per row`);
  // check the whole task once, so that messages name rows of the input rather than of a slice
  let checked: CheckedClassification | undefined;
  if (input.task === 'classification') checked = checkClassification(input, fn);
  else checkRegression(input.actual, input.predicted, fn);
  if (values.length !== rowCount(input)) throw invalid(`${fn}: values of column "${column}" must hold one value per row (${rowCount(input)}), got ${values.length}`);

  const binning = input.binning ?? 'auto';
  let numeric: boolean;
  if (binning === 'auto') {
    const distinct = new Set<number>();
    numeric = true;
    for (const v of values) {
      if (isMissing(v)) continue;
      const n = numericValue(v);
      if (n === undefined) {
        numeric = false;
        break;
      }
      distinct.add(n);
    }
    numeric &&= distinct.size > maxCategories;
  } else if (binning === 'numeric' || binning === 'categorical') {
    numeric = binning === 'numeric';
  } else {
    throw invalid(`${fn}: binning must be auto, categorical or numeric, got ${JSON.stringify(binning)}`);
  }
  const grouping = numeric ? groupNumeric(column, values) : groupCategorical(values, maxCategories);

  const slices = grouping.groups.map((g) => {
    let metrics: ClassificationMetrics | RegressionMetrics;
    if (checked !== undefined) {
      metrics = classificationOf(subsetClassification(checked, g.rows));
    } else {
      const t = input as RegressionSliceInput;
      metrics = regressionOf(
        g.rows.map((i) => t.actual[i] as number),
        g.rows.map((i) => t.predicted[i] as number),
      );
    }
    return {
      name: g.name,
      kind: g.kind,
      count: g.rows.length,
      ...(g.lower === undefined ? {} : { lower: g.lower, upper: g.upper }),
      metrics,
    };
  });
  return { column, binning: grouping.binning, ...(grouping.edges === undefined ? {} : { edges: grouping.edges }), slices };
}
