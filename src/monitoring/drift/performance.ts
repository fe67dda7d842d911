/**
 * Performance drift: a window's labelled outcomes (labels that arrive through feedback, paired with
 * what the version predicted) summarised in constant memory — for classification the accuracy count
 * and per-class true/false positives and false negatives (enough for macro-F1), for regression the
 * sums behind MAE, RMSE and the mean error — and scored against the reference's figure when one is
 * given. Reported, not alarmed: `degraded` is only set when a tolerance is configured.
 */
import { OTHER_CATEGORY } from '../profiles/types.js';
import { normalSf } from '../../stats/normal.js';
import { DriftErrors } from './errors.js';
import type { ClassificationPerformanceState, DriftValue, PerformanceReport, PerformanceState, RegressionPerformanceState } from './types.js';
import { categoryValue, numericValue } from './values.js';

export type PerformanceTask = 'classification' | 'regression';
export type PerformanceMetric = 'accuracy' | 'macroF1' | 'mae' | 'rmse';

/** The metrics that belong to each task; the first is the default compared with the reference. */
export const TASK_METRICS: Readonly<Record<PerformanceTask, readonly PerformanceMetric[]>> = {
  classification: ['accuracy', 'macroF1'],
  regression: ['mae', 'rmse'],
};

/** A mutable accumulator of one window's labels. */
export interface PerformanceAccumulator {
  add(predicted: DriftValue, actual: DriftValue): void;
  snapshot(): PerformanceState;
  reset(): void;
  /** Most entries it can hold (for the memory bound). */
  readonly maxClasses: number;
}

interface ClassCounts {
  tp: number;
  fp: number;
  fn: number;
}

/**
 * Creates the accumulator of a task. Classification keeps at most `maxClasses` named classes
 * (`knownClasses` first, then new ones as they come); later classes are counted under OTHER_CATEGORY,
 * which keeps memory bounded at the cost of merging rare classes in macro-F1 (accuracy stays exact).
 */
export function createPerformanceAccumulator(task: PerformanceTask, knownClasses: readonly string[], maxNewClasses: number, maxLabelLength: number): PerformanceAccumulator {
  if (task === 'regression') {
    let labels = 0;
    let sumError = 0;
    let sumAbsError = 0;
    let sumSquaredError = 0;
    return {
      maxClasses: 0,
      add(predicted, actual) {
        const p = numericValue(predicted);
        const a = numericValue(actual);
        if (Number.isNaN(p) || Number.isNaN(a)) {
          throw DriftErrors.MONITORING_DRIFT_INVALID_LABEL(`a regression label and its prediction must be finite numbers, got prediction ${String(predicted)} and label ${String(actual)}`);
        }
        const e = p - a;
        labels += 1;
        sumError += e;
        sumAbsError += Math.abs(e);
        sumSquaredError += e * e;
      },
      snapshot: (): RegressionPerformanceState => ({ task: 'regression', labels, sumError, sumAbsError, sumSquaredError }),
      reset() {
        labels = 0;
        sumError = 0;
        sumAbsError = 0;
        sumSquaredError = 0;
      },
    };
  }
  const known = new Set(knownClasses);
  const maxClasses = known.size + maxNewClasses + 1;
  let classes = new Map<string, ClassCounts>();
  let labels = 0;
  let correct = 0;
  let named = 0;
  const counts = (text: string): ClassCounts => {
    let c = classes.get(text);
    if (c !== undefined) return c;
    let key = text;
    if (!known.has(text) && text !== OTHER_CATEGORY) {
      if (named >= maxNewClasses) key = OTHER_CATEGORY;
      else named += 1;
    }
    c = classes.get(key);
    if (c === undefined) {
      c = { tp: 0, fp: 0, fn: 0 };
      classes.set(key, c);
    }
    return c;
  };
  return {
    maxClasses,
    add(predicted, actual) {
      const p = categoryValue(predicted, maxLabelLength);
      const a = categoryValue(actual, maxLabelLength);
      if (p === null || a === null) {
        throw DriftErrors.MONITORING_DRIFT_INVALID_LABEL(`a classification label and its prediction must be a number or a non-empty string, got prediction ${String(predicted)} and label ${String(actual)}`);
      }
      labels += 1;
      if (p === a) {
        correct += 1;
        counts(p).tp += 1;
      } else {
        counts(p).fp += 1;
        counts(a).fn += 1;
      }
    },
    snapshot(): ClassificationPerformanceState {
      const out: Record<string, { tp: number; fp: number; fn: number }> = {};
      for (const [k, c] of classes) out[k] = { tp: c.tp, fp: c.fp, fn: c.fn };
      return { task: 'classification', labels, correct, classes: out };
    },
    reset() {
      classes = new Map();
      labels = 0;
      correct = 0;
      named = 0;
    },
  };
}

export interface PerformanceCheckOptions {
  readonly metric: PerformanceMetric | undefined;
  /** An explicit reference value of the metric (no test: only its value is known). */
  readonly reference: number | undefined;
  /** Absolute worsening that counts as degraded (overrides relativeTolerance). */
  readonly tolerance: number | undefined;
  /** The version's labelled performance on its reference rows (the profile's), tested against. */
  readonly baseline?: PerformanceState | null;
  /** Relative worsening (against the baseline's value) that counts as degraded. Default 0.1. */
  readonly relativeTolerance?: number;
  /** Significance level of the one-sided test. Default 0.05. */
  readonly alpha?: number;
  /** Labels the window needs before it is judged. Default 100. */
  readonly minLabels?: number;
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** Accuracy, macro-F1 (classes seen as a label or a prediction), MAE, RMSE and the mean error of a window's labels. */
export function performanceMetrics(state: PerformanceState): Record<PerformanceMetric | 'meanError', number | null> {
  if (state.task === 'regression') {
    const n = state.labels;
    return {
      accuracy: null,
      macroF1: null,
      mae: n === 0 ? null : finiteOrNull(state.sumAbsError / n),
      rmse: n === 0 ? null : finiteOrNull(Math.sqrt(state.sumSquaredError / n)),
      meanError: n === 0 ? null : finiteOrNull(state.sumError / n),
    };
  }
  let f1Sum = 0;
  let classes = 0;
  for (const c of Object.values(state.classes)) {
    const denominator = 2 * c.tp + c.fp + c.fn;
    if (denominator === 0) continue;
    f1Sum += (2 * c.tp) / denominator;
    classes += 1;
  }
  return {
    accuracy: state.labels === 0 ? null : state.correct / state.labels,
    macroF1: classes === 0 ? null : f1Sum / classes,
    mae: null,
    rmse: null,
    meanError: null,
  };
}

/**
 * One-sided test that the live window is worse than the baseline on `metric`: for accuracy the
 * pooled two-proportion z-test, for MAE Welch's z on the mean absolute errors (their variances from
 * Σe² − n·MAE², which the states keep). Other metrics have no test (null).
 */
export function performanceTest(live: PerformanceState, baseline: PerformanceState, metric: PerformanceMetric): { test: 'two-proportion-z' | 'welch-z'; pValue: number } | null {
  if (live.task !== baseline.task) return null;
  if (live.task === 'classification' && baseline.task === 'classification' && metric === 'accuracy') {
    const n1 = live.labels;
    const n0 = baseline.labels;
    if (n1 === 0 || n0 === 0) return null;
    const p1 = live.correct / n1;
    const p0 = baseline.correct / n0;
    const pooled = (live.correct + baseline.correct) / (n0 + n1);
    const se = Math.sqrt(pooled * (1 - pooled) * (1 / n0 + 1 / n1));
    if (se === 0) return { test: 'two-proportion-z', pValue: p1 < p0 ? 0 : 1 };
    return { test: 'two-proportion-z', pValue: normalSf((p0 - p1) / se) };
  }
  if (live.task === 'regression' && baseline.task === 'regression' && metric === 'mae') {
    const n1 = live.labels;
    const n0 = baseline.labels;
    if (n1 < 2 || n0 < 2) return null;
    const m1 = live.sumAbsError / n1;
    const m0 = baseline.sumAbsError / n0;
    // sample variances of |e|: Σ|e|² = Σe²
    const v1 = Math.max(0, (live.sumSquaredError - n1 * m1 * m1) / (n1 - 1));
    const v0 = Math.max(0, (baseline.sumSquaredError - n0 * m0 * m0) / (n0 - 1));
    const se = Math.sqrt(v1 / n1 + v0 / n0);
    if (!Number.isFinite(se)) return null;
    if (se === 0) return { test: 'welch-z', pValue: m1 > m0 ? 0 : 1 };
    return { test: 'welch-z', pValue: normalSf((m1 - m0) / se) };
  }
  return null;
}

/**
 * Scores a window's labels and compares the chosen metric with the reference: the baseline state's
 * value (the profile's) or an explicit `reference`. With a baseline the verdict is statistical —
 * degraded when a one-sided test at `alpha` says the window is worse AND it is worse by more than
 * the tolerance (absolute) or relativeTolerance (relative): significance and effect size both, as
 * for the features.
 */
export function evaluatePerformance(state: PerformanceState, options: PerformanceCheckOptions): PerformanceReport {
  const metrics = performanceMetrics(state);
  const allowed = TASK_METRICS[state.task];
  const metric: PerformanceMetric = options.metric ?? (state.task === 'classification' ? 'accuracy' : 'mae');
  if (!allowed.includes(metric)) {
    throw DriftErrors.MONITORING_DRIFT_INVALID_OPTIONS(`performanceMetric ${metric} does not apply to a ${state.task} window (use ${allowed.join(' or ')})`);
  }
  const value = metrics[metric];
  const baseline = options.reference === undefined && options.baseline !== undefined && options.baseline !== null && options.baseline.task === state.task ? options.baseline : null;
  const reference = options.reference ?? (baseline === null ? null : performanceMetrics(baseline)[metric]);
  const change = value === null || reference === null ? null : value - reference;
  // Accuracy and F1 are better when higher, errors when lower.
  const worsening = change === null ? null : state.task === 'classification' ? -change : change;
  const relativeChange = worsening === null || reference === null || reference === 0 ? null : worsening / Math.abs(reference);
  const tested = baseline === null ? null : performanceTest(state, baseline, metric);
  const alpha = options.alpha ?? 0.05;
  const enough = state.labels >= (options.minLabels ?? 100);
  const significant = tested === null ? true : tested.pValue < alpha;
  let degraded: boolean | null = null;
  if (worsening !== null) {
    // an explicit absolute tolerance is the operator's rule and applies as given; the statistical verdict waits for minLabels
    if (options.tolerance !== undefined) degraded = (tested === null || enough) && significant && worsening > options.tolerance;
    else if (baseline !== null && enough) degraded = significant && worsening > 0 && (relativeChange === null ? true : relativeChange > (options.relativeTolerance ?? 0.1));
  }
  return {
    task: state.task,
    labels: state.labels,
    accuracy: metrics.accuracy,
    macroF1: metrics.macroF1,
    mae: metrics.mae,
    rmse: metrics.rmse,
    meanError: metrics.meanError,
    metric,
    value,
    reference,
    referenceLabels: baseline === null ? null : baseline.labels,
    change,
    relativeChange,
    test: tested?.test ?? null,
    pValue: tested?.pValue ?? null,
    degraded,
  };
}
