/**
 * Drift detection's data: what a live window keeps (its snapshot, plain JSON-safe data) and what a
 * check reports. Both are JSON-exact — no NaN, Infinity or undefined — so they can be stored,
 * served by the API and compared as they are.
 */
import type { Moments } from '../../stats/index.js';

/** One live value of a feature: a number or a string; null or undefined when missing. */
export type DriftValue = number | string | bigint | boolean | null | undefined;

/** What a window keeps for a numeric feature (or numeric predictions). */
export interface NumericFeatureWindow {
  readonly kind: 'numeric';
  readonly name: string;
  /** Finite values seen. */
  readonly count: number;
  /** Missing, non-numeric or non-finite values seen. */
  readonly missing: number;
  /** Welford count, mean and M2 of the finite values. */
  readonly moments: Moments;
  readonly min: number | null;
  readonly max: number | null;
  /**
   * Counts over the profile's histogram bins (values below the first edge in the first bin, above
   * the last in the last, as the profile defines); empty when the profile has no bins.
   */
  readonly histogram: readonly number[];
  /** A uniform random sample of the finite values (reservoir), in no particular order. */
  readonly sample: readonly number[];
}

/** What a window keeps for a categorical feature (or categorical predictions). */
export interface CategoricalFeatureWindow {
  readonly kind: 'categorical';
  readonly name: string;
  readonly count: number;
  readonly missing: number;
  /**
   * Count per category text: every category the profile names, plus up to `maxNewCategories`
   * others in order of first appearance; later new ones are summed under {@link OTHER_CATEGORY}.
   */
  readonly frequencies: Readonly<Record<string, number>>;
}

export type FeatureWindow = NumericFeatureWindow | CategoricalFeatureWindow;

/** Labelled outcomes of a classifier in one window (from feedback). */
export interface ClassificationPerformanceState {
  readonly task: 'classification';
  /** Labels received. */
  readonly labels: number;
  /** Labels equal to their prediction. */
  readonly correct: number;
  /**
   * Per class (label text): true positives, false positives, false negatives. At most
   * `maxNewCategories` + profile classes are named; the rest are summed under OTHER_CATEGORY.
   */
  readonly classes: Readonly<Record<string, { readonly tp: number; readonly fp: number; readonly fn: number }>>;
}

/** Labelled outcomes of a regressor in one window (from feedback); errors are predicted − actual. */
export interface RegressionPerformanceState {
  readonly task: 'regression';
  readonly labels: number;
  readonly sumError: number;
  readonly sumAbsError: number;
  readonly sumSquaredError: number;
}

export type PerformanceState = ClassificationPerformanceState | RegressionPerformanceState;

/** Why a window closed. */
export type WindowCloseReason = 'rows' | 'age' | 'manual';

/** Everything a drift check needs from one window; plain JSON-exact data. */
export interface DriftWindowSnapshot {
  readonly format: 1;
  /** The profile the window was built for. */
  readonly model: string;
  readonly version: number;
  /** 1 for the window's first window, counting up as windows close. */
  readonly sequence: number;
  readonly state: 'open' | 'closed';
  readonly closeReason: WindowCloseReason | null;
  /** Rows added. */
  readonly rows: number;
  /** ms since the epoch of the window's first row, of its last row, of its closing; null while empty or open. */
  readonly since: number | null;
  readonly until: number | null;
  readonly closedAt: number | null;
  /** The reservoir's size: the most values a feature's sample holds. */
  readonly sampleCapacity: number;
  /** In profile order. */
  readonly features: readonly FeatureWindow[];
  /** The predicted values (null when the profile has no predictions). */
  readonly predictions: FeatureWindow | null;
  /** Labels received in this window (null when the window has no task). */
  readonly performance: PerformanceState | null;
}

// ---------------------------------------------------------------------------------------------
// The report

/** How a feature is compared: three tests (with p-values) and three distances. */
export type DriftMethod = 'ks' | 'chisquare' | 'z' | 'wasserstein' | 'jensenshannon' | 'psi';
export const DRIFT_METHODS: readonly DriftMethod[] = ['ks', 'chisquare', 'z', 'wasserstein', 'jensenshannon', 'psi'];
/** The methods that are distances (no p-value of their own). */
export const DISTANCE_METHODS: readonly DriftMethod[] = ['wasserstein', 'jensenshannon', 'psi'];

/** The significance tests behind p-values. */
export type DriftTest = 'ks' | 'chisquare' | 'z';

/** The effect sizes that must reach a threshold. */
export type EffectMeasure = 'ks_statistic' | 'cramers_v' | 'wasserstein_normed' | 'jensenshannon' | 'psi';

/** A feature's verdict. */
export type FeatureDriftStatus = 'drift' | 'no_drift' | 'insufficient_data';

export interface NumericSummary {
  readonly kind: 'numeric';
  readonly count: number;
  readonly missing: number;
  readonly mean: number | null;
  /** Sample standard deviation (ddof 1), 0 for one value. */
  readonly std: number | null;
  readonly min: number | null;
  readonly max: number | null;
  /** At PROFILE_QUANTILES (the live side from its sample, type-7); null when there are no values. */
  readonly quantiles: readonly number[] | null;
  /** Counts over the profile's bins, for charts (both sides share the edges). */
  readonly histogram: { readonly edges: readonly number[]; readonly counts: readonly number[] };
}

export interface CategoryCount {
  readonly category: string;
  readonly count: number;
  /** count / values present. */
  readonly share: number;
}

export interface CategoricalSummary {
  readonly kind: 'categorical';
  readonly count: number;
  readonly missing: number;
  /** Distinct categories counted (OTHER_CATEGORY counts as one). */
  readonly categories: number;
  /**
   * The same categories, in the same order, on both sides of a feature (the largest on either
   * side first, at most 20), so the two lists chart side by side; `rest` sums the others.
   */
  readonly top: readonly CategoryCount[];
  readonly rest: number;
}

export type DriftSummary = NumericSummary | CategoricalSummary;

/** One feature's (or the predictions') comparison with the reference. */
export interface FeatureDrift {
  readonly name: string;
  readonly kind: 'numeric' | 'categorical';
  /** How it was compared (the method's statistic and the effect size come from it). */
  readonly method: DriftMethod;
  /** Why that method: `auto` (the Evidently rule), `option` (methods option) or `feature` (featureMethods). */
  readonly methodSource: 'auto' | 'option' | 'feature';
  /** Numeric values compared as categories because there are few distinct ones (≤ discreteMaxUnique). */
  readonly discrete: boolean;
  /** The method's statistic: D, χ², z, normalised W₁, JS distance or PSI; null without data. */
  readonly statistic: number | null;
  /** The significance test behind pValue; null when no test ran (distances deciding alone, or too little data). */
  readonly test: DriftTest | null;
  readonly pValue: number | null;
  /** pValue adjusted across the features of the check (Benjamini–Hochberg by default). */
  readonly adjustedPValue: number | null;
  readonly effectMeasure: EffectMeasure;
  readonly effectSize: number | null;
  readonly effectThreshold: number;
  /** significant (when a test ran) AND effect ≥ threshold. */
  readonly drifted: boolean;
  readonly status: FeatureDriftStatus;
  /** Values compared on each side (sample sizes for sample-based methods, counts otherwise). */
  readonly sizes: { readonly reference: number; readonly live: number };
  readonly reference: DriftSummary;
  readonly live: DriftSummary;
  /** Live categories the reference never had (only when the profile kept all its categories), largest first, at most 10. */
  readonly newCategories: readonly string[];
}

export interface DatasetDrift {
  /** Features in the profile. */
  readonly features: number;
  /** Features with enough data to be judged. */
  readonly evaluated: number;
  readonly driftedFeatures: readonly string[];
  /** drifted / evaluated (0 when nothing was evaluated). */
  readonly driftedShare: number;
  /** The share at or above which the dataset drifts. */
  readonly threshold: number;
  readonly drifted: boolean;
  readonly status: 'drift' | 'no_drift' | 'insufficient_data';
}

export interface PerformanceReport {
  readonly task: 'classification' | 'regression';
  readonly labels: number;
  /** Classification: accuracy and macro-averaged F1 (classes seen as label or prediction). */
  readonly accuracy: number | null;
  readonly macroF1: number | null;
  /** Regression: mean absolute error, root mean squared error, mean error (predicted − actual). */
  readonly mae: number | null;
  readonly rmse: number | null;
  readonly meanError: number | null;
  /** The metric compared with the reference (accuracy or MAE unless configured). */
  readonly metric: 'accuracy' | 'macroF1' | 'mae' | 'rmse';
  readonly value: number | null;
  /** The reference's value of that metric: given to the check, or the profile's (its reference rows scored). */
  readonly reference: number | null;
  /** Labelled reference rows behind `reference`, when it is the profile's. */
  readonly referenceLabels: number | null;
  /** value − reference (null without both). */
  readonly change: number | null;
  /** Worsening relative to the reference (positive: worse); null without both or with a zero reference. */
  readonly relativeChange: number | null;
  /** The one-sided test against the profile's performance (accuracy: two-proportion z; MAE: Welch z); null when there is none. */
  readonly test: 'two-proportion-z' | 'welch-z' | null;
  readonly pValue: number | null;
  /**
   * Significantly worse than the reference and by more than the tolerance (absolute
   * performanceTolerance, else relative performanceRelativeTolerance); null when it cannot be
   * judged (no reference, fewer than minRows labels).
   */
  readonly degraded: boolean | null;
}

/** The result of {@link checkDrift}: plain JSON-exact data. */
export interface DriftReport {
  readonly format: 1;
  readonly model: string;
  readonly version: number;
  /** Worst wins: drift (dataset or predictions) > insufficient_data > no_drift. */
  readonly status: 'drift' | 'no_drift' | 'insufficient_data';
  readonly window: Pick<DriftWindowSnapshot, 'sequence' | 'state' | 'closeReason' | 'rows' | 'since' | 'until' | 'closedAt'>;
  /** The options the check ran with (defaults filled in). */
  readonly settings: {
    readonly alpha: number;
    readonly multipleTesting: MultipleTestingMethod;
    readonly driftShare: number;
    readonly smallSampleRows: number;
    readonly minRows: number;
    readonly requireSignificance: boolean;
  };
  readonly features: readonly FeatureDrift[];
  readonly dataset: DatasetDrift;
  readonly predictions: FeatureDrift | null;
  readonly performance: PerformanceReport | null;
}

export type MultipleTestingMethod = 'benjamini-hochberg' | 'holm' | 'bonferroni' | 'none';
