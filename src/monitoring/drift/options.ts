/**
 * Drift check options: user options → defaults filled in → frozen, every problem reported at once
 * with its path. Defaults are Evidently's (docs/drift.md gives the sources).
 */
import { deepFreeze, describe, type ConfigProblem } from '../../core/index.js';
import { DriftErrors } from './errors.js';
import type { PerformanceMetric } from './performance.js';
import type { DriftMethod, MultipleTestingMethod } from './types.js';

/** Methods a numeric feature may be given (histogram-based ones use the profile's bins). */
export const NUMERIC_METHODS = ['ks', 'wasserstein', 'psi', 'jensenshannon', 'chisquare'] as const satisfies readonly DriftMethod[];
/** Methods a categorical feature may be given (the z test is chosen automatically for two categories). */
export const CATEGORICAL_METHODS = ['chisquare', 'jensenshannon', 'psi'] as const satisfies readonly DriftMethod[];
export type NumericMethod = (typeof NUMERIC_METHODS)[number];
export type CategoricalMethod = (typeof CATEGORICAL_METHODS)[number];

export const MULTIPLE_TESTING_METHODS: readonly MultipleTestingMethod[] = ['benjamini-hochberg', 'holm', 'bonferroni', 'none'];

export interface DriftCheckOptions {
  /** Significance level of the per-feature tests after multiple-testing adjustment. Default 0.05. */
  readonly alpha?: number;
  /** How p-values are adjusted across the features of one check. Default benjamini-hochberg. */
  readonly multipleTesting?: MultipleTestingMethod;
  /** Share of drifted features at or above which the dataset drifts. Default 0.5. */
  readonly driftShare?: number;
  /** Reference rows at or below which tests (KS, chi-square, z) are the methods; above, distances. Default 1,000. */
  readonly smallSampleRows?: number;
  /** Numeric features with at most this many distinct values are compared as categories. Default 5. */
  readonly discreteMaxUnique?: number;
  /** Live values a feature needs to be judged; fewer gives insufficient_data. Default 100. */
  readonly minRows?: number;
  /** Whether distance methods also need a significant test (as test methods always do). Default true. */
  readonly requireSignificance?: boolean;
  /** Method per feature kind instead of the automatic choice. */
  readonly methods?: { readonly numeric?: 'auto' | NumericMethod; readonly categorical?: 'auto' | CategoricalMethod };
  /** Method per feature name (overrides `methods`). */
  readonly featureMethods?: Readonly<Record<string, NumericMethod | CategoricalMethod>>;
  /** Effect-size thresholds per method (KS D, Cramér's V for chisquare and z, the distances). */
  readonly thresholds?: Readonly<Partial<Record<DriftMethod, number>>>;
  /** The reference's value of the performance metric (accuracy for classification, MAE for regression unless performanceMetric says otherwise). */
  readonly referencePerformance?: number;
  readonly performanceMetric?: PerformanceMetric;
  /** How much worse than the reference (absolute, in the metric's units) counts as degraded. */
  readonly performanceTolerance?: number;
  /** How much worse than the profile's performance, relatively, counts as degraded when no absolute tolerance is set. Default 0.1. */
  readonly performanceRelativeTolerance?: number;
  /** Largest n·m for which KS computes its exact p-value (else the asymptotic one). Default 1,000,000. */
  readonly ksExactMaxProduct?: number;
}

/** Defaults, with the reasons in docs/drift.md. */
export const DRIFT_CHECK_DEFAULTS = Object.freeze({
  alpha: 0.05,
  multipleTesting: 'benjamini-hochberg',
  driftShare: 0.5,
  smallSampleRows: 1000,
  discreteMaxUnique: 5,
  minRows: 100,
  requireSignificance: true,
  performanceRelativeTolerance: 0.1,
  ksExactMaxProduct: 1_000_000,
  thresholds: Object.freeze({ ks: 0.1, chisquare: 0.1, z: 0.1, wasserstein: 0.1, jensenshannon: 0.1, psi: 0.1 }),
});

export interface CompiledDriftCheckOptions {
  readonly alpha: number;
  readonly multipleTesting: MultipleTestingMethod;
  readonly driftShare: number;
  readonly smallSampleRows: number;
  readonly discreteMaxUnique: number;
  readonly minRows: number;
  readonly requireSignificance: boolean;
  readonly methods: { readonly numeric: 'auto' | NumericMethod; readonly categorical: 'auto' | CategoricalMethod };
  readonly featureMethods: Readonly<Record<string, NumericMethod | CategoricalMethod>>;
  readonly thresholds: Readonly<Record<DriftMethod, number>>;
  readonly referencePerformance: number | undefined;
  readonly performanceMetric: PerformanceMetric | undefined;
  readonly performanceTolerance: number | undefined;
  readonly performanceRelativeTolerance: number;
  readonly ksExactMaxProduct: number;
}

const KNOWN_KEYS = [
  'alpha',
  'multipleTesting',
  'driftShare',
  'smallSampleRows',
  'discreteMaxUnique',
  'minRows',
  'requireSignificance',
  'methods',
  'featureMethods',
  'thresholds',
  'referencePerformance',
  'performanceMetric',
  'performanceTolerance',
  'performanceRelativeTolerance',
  'ksExactMaxProduct',
] as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates and compiles drift check options (defaults filled in, frozen). Throws
 * MONITORING_DRIFT_INVALID_OPTIONS listing every problem with its path.
 */
export function compileDriftCheckOptions(options: DriftCheckOptions = {}): CompiledDriftCheckOptions {
  const problems: ConfigProblem[] = [];
  const raw = options as Record<string, unknown>;
  if (!isRecord(raw)) throw DriftErrors.MONITORING_DRIFT_INVALID_OPTIONS(`drift check options must be a mapping, got ${describe(raw)}`);
  for (const key of Object.keys(raw)) if (!(KNOWN_KEYS as readonly string[]).includes(key)) problems.push({ path: key, message: `unknown key (known: ${KNOWN_KEYS.join(', ')})` });

  const num = (value: unknown, path: string, fallback: number, ok: (n: number) => boolean, expected: string): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
      problems.push({ path, message: `must be ${expected}, got ${describe(value)}` });
      return fallback;
    }
    return value;
  };
  const optionalNum = (value: unknown, path: string, ok: (n: number) => boolean, expected: string): number | undefined =>
    value === undefined ? undefined : num(value, path, NaN, ok, expected);
  const whole = (value: unknown, path: string, fallback: number, min: number): number => num(value, path, fallback, (n) => Number.isInteger(n) && n >= min, `a whole number ≥ ${min}`);

  const alpha = num(options.alpha, 'alpha', DRIFT_CHECK_DEFAULTS.alpha, (a) => a > 0 && a < 1, 'a number in (0, 1)');
  let multipleTesting: MultipleTestingMethod = DRIFT_CHECK_DEFAULTS.multipleTesting;
  if (options.multipleTesting !== undefined) {
    if (MULTIPLE_TESTING_METHODS.includes(options.multipleTesting)) multipleTesting = options.multipleTesting;
    else problems.push({ path: 'multipleTesting', message: `must be one of ${MULTIPLE_TESTING_METHODS.join(', ')}, got ${describe(options.multipleTesting)}` });
  }
  const driftShare = num(options.driftShare, 'driftShare', DRIFT_CHECK_DEFAULTS.driftShare, (s) => s > 0 && s <= 1, 'a share in (0, 1]');
  const smallSampleRows = whole(options.smallSampleRows, 'smallSampleRows', DRIFT_CHECK_DEFAULTS.smallSampleRows, 0);
  const discreteMaxUnique = whole(options.discreteMaxUnique, 'discreteMaxUnique', DRIFT_CHECK_DEFAULTS.discreteMaxUnique, 0);
  const minRows = whole(options.minRows, 'minRows', DRIFT_CHECK_DEFAULTS.minRows, 1);
  const ksExactMaxProduct = whole(options.ksExactMaxProduct, 'ksExactMaxProduct', DRIFT_CHECK_DEFAULTS.ksExactMaxProduct, 0);
  let requireSignificance: boolean = DRIFT_CHECK_DEFAULTS.requireSignificance;
  if (options.requireSignificance !== undefined) {
    if (typeof options.requireSignificance === 'boolean') requireSignificance = options.requireSignificance;
    else problems.push({ path: 'requireSignificance', message: `must be true or false, got ${describe(options.requireSignificance)}` });
  }

  const methods = { numeric: 'auto' as 'auto' | NumericMethod, categorical: 'auto' as 'auto' | CategoricalMethod };
  if (options.methods !== undefined) {
    if (!isRecord(options.methods)) problems.push({ path: 'methods', message: `must be a mapping, got ${describe(options.methods)}` });
    else {
      for (const key of Object.keys(options.methods)) if (key !== 'numeric' && key !== 'categorical') problems.push({ path: `methods.${key}`, message: 'unknown key (known: numeric, categorical)' });
      const { numeric, categorical } = options.methods;
      if (numeric !== undefined) {
        if (numeric === 'auto' || (NUMERIC_METHODS as readonly string[]).includes(numeric)) methods.numeric = numeric;
        else problems.push({ path: 'methods.numeric', message: `must be auto or one of ${NUMERIC_METHODS.join(', ')}, got ${describe(numeric)}` });
      }
      if (categorical !== undefined) {
        if (categorical === 'auto' || (CATEGORICAL_METHODS as readonly string[]).includes(categorical)) methods.categorical = categorical;
        else problems.push({ path: 'methods.categorical', message: `must be auto or one of ${CATEGORICAL_METHODS.join(', ')}, got ${describe(categorical)}` });
      }
    }
  }

  const featureMethods: Record<string, NumericMethod | CategoricalMethod> = {};
  if (options.featureMethods !== undefined) {
    if (!isRecord(options.featureMethods)) problems.push({ path: 'featureMethods', message: `must be a mapping, got ${describe(options.featureMethods)}` });
    else {
      for (const [name, m] of Object.entries(options.featureMethods)) {
        if (typeof m === 'string' && ((NUMERIC_METHODS as readonly string[]).includes(m) || (CATEGORICAL_METHODS as readonly string[]).includes(m))) featureMethods[name] = m;
        else problems.push({ path: `featureMethods.${name}`, message: `must be one of ${[...new Set([...NUMERIC_METHODS, ...CATEGORICAL_METHODS])].join(', ')}, got ${describe(m)}` });
      }
    }
  }

  const thresholds: Record<DriftMethod, number> = { ...DRIFT_CHECK_DEFAULTS.thresholds };
  if (options.thresholds !== undefined) {
    if (!isRecord(options.thresholds)) problems.push({ path: 'thresholds', message: `must be a mapping, got ${describe(options.thresholds)}` });
    else {
      for (const [key, value] of Object.entries(options.thresholds)) {
        if (!(key in thresholds)) {
          problems.push({ path: `thresholds.${key}`, message: `unknown method (known: ${Object.keys(thresholds).join(', ')})` });
          continue;
        }
        const method = key as DriftMethod;
        // D, V and the JS distance live in [0, 1]; normalised W₁ and PSI are unbounded.
        const bounded = method === 'ks' || method === 'chisquare' || method === 'z' || method === 'jensenshannon';
        thresholds[method] = num(value, `thresholds.${key}`, thresholds[method], (t) => t >= 0 && (!bounded || t <= 1), bounded ? 'a number in [0, 1]' : 'a number ≥ 0');
      }
    }
  }

  const referencePerformance = optionalNum(options.referencePerformance, 'referencePerformance', () => true, 'a finite number');
  const performanceTolerance = optionalNum(options.performanceTolerance, 'performanceTolerance', (t) => t >= 0, 'a number ≥ 0');
  const performanceRelativeTolerance = optionalNum(options.performanceRelativeTolerance, 'performanceRelativeTolerance', (t) => t >= 0, 'a number ≥ 0') ?? DRIFT_CHECK_DEFAULTS.performanceRelativeTolerance;
  let performanceMetric: PerformanceMetric | undefined;
  if (options.performanceMetric !== undefined) {
    const allowed: readonly string[] = ['accuracy', 'macroF1', 'mae', 'rmse'];
    if (allowed.includes(options.performanceMetric)) performanceMetric = options.performanceMetric;
    else problems.push({ path: 'performanceMetric', message: `must be one of ${allowed.join(', ')}, got ${describe(options.performanceMetric)}` });
  }

  if (problems.length > 0) {
    const lines = problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
    throw DriftErrors.MONITORING_DRIFT_INVALID_OPTIONS(`invalid drift check options (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines}`, { details: { problems } });
  }
  return deepFreeze({
    alpha,
    multipleTesting,
    driftShare,
    smallSampleRows,
    discreteMaxUnique,
    minRows,
    requireSignificance,
    methods,
    featureMethods,
    thresholds,
    referencePerformance,
    performanceMetric,
    performanceTolerance,
    performanceRelativeTolerance,
    ksExactMaxProduct,
  });
}
