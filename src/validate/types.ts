/**
 * The validation report: what `slipway validate` measured of one model version — accuracy on
 * labelled data, performance, robustness, edge cases — the flat figures gates are written against,
 * and the verdict of the gates. Stored with the version (docs/validation.md); JSON throughout.
 */
import type { ClassificationMetrics, RegressionMetrics, SliceMetrics } from './metrics.js';
import type { GateResult } from './gates.js';

export type Task = 'classification' | 'regression';

/** What a run measures, and how hard; every field has a default (VALIDATION_DEFAULTS). */
export interface ValidationSettings {
  /** Batch sizes latency is measured at (capped by a fixed batch dimension). */
  readonly batchSizes: readonly number[];
  /** Most timed calls per batch size. */
  readonly latencyRuns: number;
  /** Time budget per batch size, ms (at least `MIN_LATENCY_RUNS` calls are made whatever it is). */
  readonly latencyBudgetMs: number;
  /** Gaussian noise levels, as multiples of each feature's standard deviation. */
  readonly noiseLevels: readonly number[];
  /** Rows the robustness checks use (a seeded sample of the data). */
  readonly robustnessRows: number;
  /** Radius of the worst-case search, as a multiple of each feature's standard deviation (L∞). */
  readonly perturbationEpsilon: number;
  /** Rows the worst-case search attacks. */
  readonly perturbationRows: number;
  /** Random corners of the L∞ box tried per row, besides the finite-difference step. */
  readonly perturbationTrials: number;
  /** A column of the data to report metrics per slice of (categorical values, or numeric quartiles). */
  readonly sliceBy?: string;
  readonly seed: number;
}

export const VALIDATION_DEFAULTS: ValidationSettings = Object.freeze({
  batchSizes: Object.freeze([1, 8, 32, 128]),
  latencyRuns: 200,
  latencyBudgetMs: 1500,
  noiseLevels: Object.freeze([0.05, 0.1, 0.2, 0.5]),
  robustnessRows: 1000,
  perturbationEpsilon: 0.1,
  perturbationRows: 200,
  perturbationTrials: 24,
  seed: 1,
});

/** Timed calls made at every batch size, whatever the time budget. */
export const MIN_LATENCY_RUNS = 20;

export interface LatencyAtBatch {
  readonly batchSize: number;
  readonly runs: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  /** Rows per second one replica sustains at this batch size, calls made one after another. */
  readonly rowsPerSecond: number;
}

export interface PerformanceReport {
  readonly sizeBytes: number;
  /** Creating the session (one replica in a worker thread, no warm-up). */
  readonly loadMs: number;
  /** The first call after loading, at batch 1: what a cold replica's first caller waits on top of the load. */
  readonly firstCallMs: number;
  readonly latency: readonly LatencyAtBatch[];
  readonly memory: {
    /** Process resident memory before the session was created. */
    readonly rssBeforeBytes: number;
    /** Highest process resident memory sampled while the version was measured (with a baseline, both versions are loaded then). */
    readonly rssPeakBytes: number;
    /** What loading the version and its first call added to the process's resident memory (process-wide: approximate). */
    readonly rssDeltaBytes: number;
    /** The replica worker's JavaScript heap (not the engine's native memory). */
    readonly workerHeapBytes: number;
  };
}

/** The task's headline metric under one perturbation. */
export interface PerturbedMetric {
  /** `accuracy` for classification, `rmse` for regression. */
  readonly value: number;
  /** Classification: clean accuracy − perturbed accuracy. Regression: (perturbed RMSE − clean RMSE) / clean RMSE. */
  readonly drop: number;
  /** Share of rows whose prediction was not a finite number or label. */
  readonly nonFiniteShare: number;
  /** Share of rows whose prediction differs from the clean prediction. */
  readonly changedShare: number;
}

export interface FeaturePerturbation extends PerturbedMetric {
  readonly feature: string;
}

export interface RobustnessReport {
  readonly rows: number;
  /** `accuracy` or `rmse`. */
  readonly metric: 'accuracy' | 'rmse';
  readonly clean: number;
  /** Float features holding only a few whole values (counts, codes: hours, categories, flags): noise and the worst-case search move them to neighbouring whole values within their observed range. */
  readonly discreteFeatures: readonly string[];
  readonly noise: readonly (PerturbedMetric & { readonly level: number })[];
  /** Each numeric feature set to 0 in turn, the five worst first. */
  readonly zeroed: { readonly worst: readonly FeaturePerturbation[]; readonly meanDrop: number; readonly features: number };
  /** Each numeric feature missing (NaN) in turn. */
  readonly missing: { readonly worst: readonly FeaturePerturbation[]; readonly meanDrop: number; readonly nonFiniteShare: number; readonly features: number };
  /** Each numeric feature pushed one range beyond its observed maximum, then below its minimum. */
  readonly outOfRange: { readonly worst: readonly FeaturePerturbation[]; readonly meanDrop: number; readonly nonFiniteShare: number; readonly changedShare: number; readonly features: number };
  /** A black-box search within ε·std of each row (L∞): a finite-difference gradient-sign step and random corners. */
  readonly worstCase: {
    readonly epsilon: number;
    readonly rows: number;
    readonly trials: number;
    /** Classification: share of correctly classified rows the search flipped. */
    readonly flipRate: number | null;
    /** Regression: mean over rows of the largest |Δprediction| found, in target standard deviations. */
    readonly meanShift: number | null;
  };
}

export interface StabilityReport {
  /** Largest |difference| between two runs of the same batch, over every float output element. */
  readonly repeatMaxAbsDiff: number;
  /** Largest |difference| between a batch and the same rows sent one by one. */
  readonly batchMaxAbsDiff: number;
  /** Whether the predicted labels or values agreed exactly. */
  readonly identicalPredictions: boolean;
}

export interface EdgeCaseResult {
  readonly name: string;
  readonly description: string;
  /** `answer`: a valid input that must be answered; `error`: must be refused with a clear 4xx error; `either`: no crash is what counts. */
  readonly expect: 'answer' | 'error' | 'either';
  readonly outcome: 'answer' | 'error';
  readonly code?: string;
  readonly message?: string;
  /** For answers: whether every float output value was finite. */
  readonly finiteOutputs?: boolean;
  readonly passed: boolean;
}

export interface AccuracyReport {
  readonly task: Task;
  readonly rows: number;
  /** Rows left out: a missing target, or a missing feature value. */
  readonly skippedRows: number;
  readonly classification?: ClassificationMetrics;
  readonly regression?: RegressionMetrics;
  readonly slices?: SliceMetrics;
}

/** What one version measured; the baseline gets one too. */
export interface VersionMeasurements {
  readonly model: string;
  readonly version: number;
  readonly digest: string;
  readonly accuracy: AccuracyReport | null;
  readonly performance: PerformanceReport;
  readonly robustness: RobustnessReport | null;
  readonly stability: StabilityReport;
  readonly edgeCases: readonly EdgeCaseResult[];
  /** Every number above as a dotted figure name (docs/validation.md lists them). */
  readonly figures: Readonly<Record<string, number>>;
}

export interface DataDescription {
  /** The dataset's digest (`sha256:…`) in the server's dataset store. */
  readonly digest: string;
  readonly name: string;
  readonly rows: number;
  readonly features: number;
  readonly target: string | null;
  /** Columns of the file the model does not take, left out (ids, other labels). */
  readonly ignoredColumns: readonly string[];
}

/** The candidate's p50 latency over the baseline's at one batch size, timed in turns, with a 95 % paired block-bootstrap interval. */
export interface LatencyRatio {
  readonly batchSize: number;
  readonly p50Ratio: number;
  readonly lower: number;
  readonly upper: number;
  /** Rounds of paired blocks the interval resamples. */
  readonly rounds: number;
}

export interface GatesVerdict {
  /** The policy as given (YAML text). */
  readonly source: string;
  readonly results: readonly GateResult[];
  readonly passed: boolean;
}

export interface ValidationReport {
  readonly id: string;
  readonly model: string;
  readonly version: number;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly durationMs: number;
  readonly settings: ValidationSettings;
  readonly data: DataDescription | null;
  readonly candidate: VersionMeasurements;
  readonly baseline: VersionMeasurements | null;
  /** Candidate against baseline on the same rows: the share of equal predicted labels, and the largest |difference| of the float outputs (regression: the values). */
  readonly comparison: { readonly agreement: number | null; readonly maxAbsDiff: number | null; readonly latency: readonly LatencyRatio[] } | null;
  readonly gates: GatesVerdict | null;
  /**
   * True when every gate passed and every edge case passed. A report without gates passes on its
   * edge cases alone, but does not satisfy an alias's validation requirement (docs/validation.md).
   */
  readonly passed: boolean;
}

/** A stored report without its bulk: what lists show. */
export interface ValidationSummary {
  readonly id: string;
  readonly model: string;
  readonly version: number;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly passed: boolean;
  readonly gated: boolean;
  readonly baseline: { readonly model: string; readonly version: number } | null;
  readonly data: string | null;
}

export function summarizeReport(r: ValidationReport): ValidationSummary {
  return {
    id: r.id,
    model: r.model,
    version: r.version,
    createdAt: r.createdAt,
    createdBy: r.createdBy,
    passed: r.passed,
    gated: r.gates !== null && r.gates.results.length > 0,
    baseline: r.baseline === null ? null : { model: r.baseline.model, version: r.baseline.version },
    data: r.data === null ? null : r.data.name,
  };
}

/** What a running validation reports while it runs. */
export interface ValidationProgress {
  readonly stage: string;
  /** Steps done of `total` (across every stage). */
  readonly done: number;
  readonly total: number;
}
