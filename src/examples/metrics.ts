/**
 * Evaluation metrics for the held-out figures: accuracy and log-loss for classifiers; RMSE, MAE
 * and R² for regressions.
 */
import { ExamplesErrors } from './errors.js';
import type { Matrix } from './matrix.js';

function sameLength(a: ArrayLike<unknown>, b: ArrayLike<unknown>, what: string): void {
  if (a.length !== b.length || a.length === 0) {
    throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`${what}: needs two equal non-empty lists, got ${a.length} and ${b.length} values`);
  }
}

/** The share of predictions equal to the true labels. */
export function accuracy(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  sameLength(truth, predicted, 'accuracy');
  let hits = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === predicted[i]) hits++;
  return hits / truth.length;
}

/** Root mean squared error. */
export function rmse(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  sameLength(truth, predicted, 'rmse');
  let s = 0;
  for (let i = 0; i < truth.length; i++) s += ((truth[i] as number) - (predicted[i] as number)) ** 2;
  return Math.sqrt(s / truth.length);
}

/** Mean absolute error. */
export function mae(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  sameLength(truth, predicted, 'mae');
  let s = 0;
  for (let i = 0; i < truth.length; i++) s += Math.abs((truth[i] as number) - (predicted[i] as number));
  return s / truth.length;
}

/** The coefficient of determination, 1 − SSE / SST around the truth's own mean. */
export function r2(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  sameLength(truth, predicted, 'r2');
  const mean = meanOf(truth);
  let sse = 0;
  let sst = 0;
  for (let i = 0; i < truth.length; i++) {
    sse += ((truth[i] as number) - (predicted[i] as number)) ** 2;
    sst += ((truth[i] as number) - mean) ** 2;
  }
  return sst === 0 ? 0 : 1 - sse / sst;
}

/** Mean cross-entropy of class probabilities (rows) against labels, with probabilities floored at 1e-15. */
export function logLoss(truth: ArrayLike<number>, probabilities: Matrix): number {
  if (probabilities.rows !== truth.length || truth.length === 0) {
    throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`logLoss: ${truth.length} labels for ${probabilities.rows} probability rows`);
  }
  let s = 0;
  for (let i = 0; i < truth.length; i++) s -= Math.log(Math.max(probabilities.data[i * probabilities.cols + (truth[i] as number)] ?? 0, 1e-15));
  return s / truth.length;
}

/** The arithmetic mean. */
export function meanOf(values: ArrayLike<number>): number {
  if (values.length === 0) throw ExamplesErrors.EXAMPLES_TRAINING_INVALID('mean: needs at least one value');
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] as number;
  return s / values.length;
}

/** The most frequent label (the smallest on a tie): the majority-class baseline. */
export function majorityLabel(labels: ArrayLike<number>): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) counts.set(labels[i] as number, (counts.get(labels[i] as number) ?? 0) + 1);
  let best: number | undefined;
  for (const [label, count] of [...counts].sort((a, b) => a[0] - b[0])) if (best === undefined || count > (counts.get(best) ?? 0)) best = label;
  if (best === undefined) throw ExamplesErrors.EXAMPLES_TRAINING_INVALID('majorityLabel: needs at least one label');
  return best;
}
