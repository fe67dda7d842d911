/**
 * Reference profiles: what a model version's training (or validation) data looked like, feature by
 * feature, and what the version predicted on it. Drift detection (src/monitoring/drift) compares
 * live windows of inputs and predictions with them. Plain JSON-exact data (no NaN, Infinity or
 * undefined), stored with the version.
 *
 * A **feature** is one scalar column of a model input: column j of a 2-D input [batch, k] (named
 * by the reference file's header, else `input[j]`), or a 1-D input [batch]. Inputs of rank 3 and
 * more (images, sequences) are not profiled feature by feature.
 */
import type { PerformanceState } from '../drift/types.js';

/** Quantiles kept for every numeric feature. */
export const PROFILE_QUANTILES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] as const;

export interface NumericFeatureProfile {
  readonly kind: 'numeric';
  readonly name: string;
  /** Where it comes from: the model input and the column in it (null for a 1-D input). */
  readonly input: string;
  readonly column: number | null;
  /** Values present (finite numbers). */
  readonly count: number;
  /** Missing or non-finite values. */
  readonly missing: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  /** Sample standard deviation (0 for fewer than 2 values). */
  readonly std: number;
  /** One value per {@link PROFILE_QUANTILES} entry, in that order. */
  readonly quantiles: readonly number[];
  /**
   * Counts over fixed bins: `edges` has bins + 1 increasing numbers; a value v falls in bin i when
   * edges[i] ≤ v < edges[i+1] (the last bin includes its upper edge). Live values outside
   * [edges[0], edges[last]] are counted in the first or last bin. Used for PSI, Jensen–Shannon and
   * Wasserstein against live windows.
   */
  readonly histogram: { readonly edges: readonly number[]; readonly counts: readonly number[] };
  /** A seeded uniform sample of the values (at most {@link PROFILE_SAMPLE_SIZE}), for KS and Wasserstein on raw values. */
  readonly sample: readonly number[];
}

export interface CategoricalFeatureProfile {
  readonly kind: 'categorical';
  readonly name: string;
  readonly input: string;
  readonly column: number | null;
  readonly count: number;
  readonly missing: number;
  /**
   * Count per category (as text), the most frequent {@link PROFILE_MAX_CATEGORIES} kept; the
   * rest are summed under {@link OTHER_CATEGORY}.
   */
  readonly frequencies: Readonly<Record<string, number>>;
}

export type FeatureProfile = NumericFeatureProfile | CategoricalFeatureProfile;

/** Most values kept in a numeric feature's sample. */
export const PROFILE_SAMPLE_SIZE = 5000;
/** Most categories kept by name in a categorical feature's frequencies. */
export const PROFILE_MAX_CATEGORIES = 100;
/** Where the categories beyond the kept ones are counted. */
export const OTHER_CATEGORY = '__other__';

export interface ReferenceProfile {
  /** Format version of this record. */
  readonly format: 1;
  readonly model: string;
  readonly version: number;
  /** Rows read from the reference data. */
  readonly rows: number;
  /** Where the data came from (a file name), for people. */
  readonly source: string;
  /** ms since the epoch. */
  readonly createdAt: number;
  readonly createdBy: string;
  /** In model input order, columns in order. */
  readonly features: readonly FeatureProfile[];
  /**
   * What the version predicted on the reference rows: categorical for a label or class index
   * (argmax of scores), numeric for a regression value; null when the outputs have no such
   * prediction (src/monitoring summarises outputs the same way for prediction records).
   */
  readonly predictions: FeatureProfile | null;
  /**
   * The version's performance on the reference rows when a target column was named (absent or
   * null otherwise): the baseline live labels are judged against (docs/drift.md, Performance drift).
   */
  readonly performance?: PerformanceState | null;
  /**
   * The joint spread of the numeric features, for the input guards' outlier score (docs/security.md,
   * Input guards): null when it could not be estimated (no numeric feature with spread, more than
   * {@link PROFILE_COVARIANCE_MAX_FEATURES} candidates, fewer than {@link PROFILE_COVARIANCE_MIN_ROWS}
   * complete rows); absent in profiles computed before it existed. Without it the guards fall back
   * to the features' own means and standard deviations (a diagonal covariance).
   */
  readonly covariance?: CovarianceProfile | null;
}

/** Most numeric candidate features (FP and integer inputs) whose covariance a profile estimates. */
export const PROFILE_COVARIANCE_MAX_FEATURES = 256;
/** Most rows the covariance is estimated from: all of them, or a seeded uniform sample of this many. */
export const PROFILE_COVARIANCE_ROWS = 5000;
/** Fewest complete rows (every covered feature present) a covariance is estimated from. */
export const PROFILE_COVARIANCE_MIN_ROWS = 20;

/**
 * The mean and sample covariance of a profile's numeric features that have spread (std > 0), over
 * the rows where all of them are present, with the shrinkage intensity that makes it usable even
 * when it is singular (fewer rows than features, a feature that is a sum of others).
 */
export interface CovarianceProfile {
  /** Indices into the profile's `features` of the features covered, in order (d of them). */
  readonly features: readonly number[];
  /** Complete rows the estimate comes from (all of them, or a seeded uniform sample of at most {@link PROFILE_COVARIANCE_ROWS}). */
  readonly rows: number;
  /** Mean of each covered feature over those rows (d numbers). */
  readonly mean: readonly number[];
  /** Sample covariance (n − 1), lower triangle packed by rows: entry (i, j), j ≤ i, at i(i + 1)/2 + j. */
  readonly matrix: readonly number[];
  /**
   * Schäfer–Strimmer intensity λ ∈ [0, 1] of shrinkage toward the diagonal: the covariance the
   * guards use keeps the variances and multiplies every covariance by 1 − λ.
   */
  readonly shrinkage: number;
}
