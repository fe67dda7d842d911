/**
 * Fixed-horizon tests (valid for one look only; Slipway reports them beside the always-valid
 * statistics, never decides on them) and chi-square tests of counts.
 * - z test: z = Δ̂/√V, two-sided p = 2(1 − Φ(|z|)).
 * - Welch's t test: t = Δ̂/√V with V = s²_a/n_a + s²_b/n_b and Welch–Satterthwaite
 *   ν = V² / ((s²_a/n_a)²/(n_a − 1) + (s²_b/n_b)²/(n_b − 1)).
 * - Pearson chi-square goodness of fit against expected weights (df = k − 1), and the chi-square
 *   test of homogeneity of two histograms (a 2 × k contingency table, df = k' − 1 over the k'
 *   non-empty bins).
 * - Pearson's two-proportion z test (pooled variance) and Cramér's V, the effect size of a
 *   contingency table.
 */
import { chiSquareSf, studentTQuantile, studentTTwoSidedPValue } from './distributions.js';
import { StatsErrors } from './errors.js';
import { normalIsf, normalTwoSidedPValue } from './normal.js';
import { checkProportionCounts, type ProportionCounts } from './proportions.js';
import type { Interval } from './sequential.js';

export interface ZTestResult {
  readonly statistic: number;
  readonly pValue: number;
  /** The fixed-horizon interval Δ̂ ± z_{1−α/2}√V. */
  readonly interval: Interval;
}

/** The two-sided z test of an estimate with variance V. */
export function zTest(estimate: number, variance: number, alpha = 0.05): ZTestResult {
  const se = Math.sqrt(variance);
  const statistic = estimate / se;
  const h = normalIsf(alpha / 2) * se;
  return { statistic, pValue: normalTwoSidedPValue(statistic), interval: { lower: estimate - h, upper: estimate + h } };
}

/** Summary of one sample for Welch's test: size, mean and unbiased variance. */
export interface SampleSummary {
  readonly n: number;
  readonly mean: number;
  readonly variance: number;
}

export interface WelchResult {
  /** mean_b − mean_a. */
  readonly difference: number;
  readonly statistic: number;
  readonly degreesOfFreedom: number;
  readonly pValue: number;
  readonly interval: Interval;
}

/** Welch's unequal-variance t test of mean_b − mean_a. */
export function welchTTest(a: SampleSummary, b: SampleSummary, alpha = 0.05): WelchResult {
  if (a.n < 2 || b.n < 2) throw StatsErrors.STATS_INVALID_INPUT(`welchTTest: each sample needs at least 2 values, got ${a.n} and ${b.n}`);
  const va = a.variance / a.n;
  const vb = b.variance / b.n;
  const v = va + vb;
  const difference = b.mean - a.mean;
  const statistic = difference / Math.sqrt(v);
  const degreesOfFreedom = (v * v) / ((va * va) / (a.n - 1) + (vb * vb) / (b.n - 1));
  const h = studentTQuantile(1 - alpha / 2, degreesOfFreedom) * Math.sqrt(v);
  return {
    difference,
    statistic,
    degreesOfFreedom,
    pValue: studentTTwoSidedPValue(statistic, degreesOfFreedom),
    interval: { lower: difference - h, upper: difference + h },
  };
}

export interface ChiSquareResult {
  readonly statistic: number;
  readonly degreesOfFreedom: number;
  readonly pValue: number;
}

/**
 * Pearson's goodness-of-fit test of observed counts against expected shares proportional to
 * `weights`. A category with zero weight but observations makes the statistic infinite (p = 0).
 */
export function chiSquareGoodnessOfFit(observed: readonly number[], weights: readonly number[]): ChiSquareResult & { expected: number[] } {
  if (observed.length !== weights.length || observed.length < 2) {
    throw StatsErrors.STATS_INVALID_INPUT(`chiSquareGoodnessOfFit: need as many weights as counts (at least 2), got ${observed.length} counts and ${weights.length} weights`);
  }
  let total = 0;
  let weightSum = 0;
  observed.forEach((o, i) => {
    if (!(o >= 0) || !Number.isFinite(o)) throw StatsErrors.STATS_INVALID_INPUT(`chiSquareGoodnessOfFit: counts must be finite and ≥ 0, got ${o} at ${i}`);
    const w = weights[i] as number;
    if (!(w >= 0) || !Number.isFinite(w)) throw StatsErrors.STATS_INVALID_INPUT(`chiSquareGoodnessOfFit: weights must be finite and ≥ 0, got ${w} at ${i}`);
    total += o;
    weightSum += w;
  });
  if (!(weightSum > 0)) throw StatsErrors.STATS_INVALID_INPUT('chiSquareGoodnessOfFit: weights sum to 0');
  const expected = weights.map((w) => (w / weightSum) * total);
  if (total === 0) return { statistic: 0, degreesOfFreedom: observed.length - 1, pValue: 1, expected };
  let statistic = 0;
  let categories = 0;
  observed.forEach((o, i) => {
    const e = expected[i] as number;
    if (e === 0) {
      if (o > 0) statistic = Infinity;
      return;
    }
    categories += 1;
    statistic += ((o - e) * (o - e)) / e;
  });
  const degreesOfFreedom = Math.max(1, categories - 1);
  return { statistic, degreesOfFreedom, pValue: statistic === Infinity ? 0 : chiSquareSf(statistic, degreesOfFreedom), expected };
}

/**
 * The chi-square test that two histograms over the same bins come from one distribution (2 × k
 * contingency table; bins empty in both are dropped). With fewer than two non-empty bins the
 * histograms cannot differ: statistic 0, p = 1.
 */
export function chiSquareHomogeneity(a: readonly number[], b: readonly number[]): ChiSquareResult {
  if (a.length !== b.length) throw StatsErrors.STATS_INVALID_INPUT(`chiSquareHomogeneity: histograms must have the same bins, got ${a.length} and ${b.length}`);
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (!(x >= 0) || !(y >= 0) || !Number.isFinite(x) || !Number.isFinite(y)) {
      throw StatsErrors.STATS_INVALID_INPUT(`chiSquareHomogeneity: counts must be finite and ≥ 0 (bin ${i})`);
    }
    na += x;
    nb += y;
  }
  if (na === 0 || nb === 0) return { statistic: 0, degreesOfFreedom: 0, pValue: 1 };
  const n = na + nb;
  let statistic = 0;
  let bins = 0;
  for (let i = 0; i < a.length; i++) {
    const col = (a[i] as number) + (b[i] as number);
    if (col === 0) continue;
    bins += 1;
    const ea = (col * na) / n;
    const eb = (col * nb) / n;
    statistic += ((a[i] as number) - ea) ** 2 / ea + ((b[i] as number) - eb) ** 2 / eb;
  }
  if (bins < 2) return { statistic: 0, degreesOfFreedom: 0, pValue: 1 };
  return { statistic, degreesOfFreedom: bins - 1, pValue: chiSquareSf(statistic, bins - 1) };
}

/**
 * Pearson's two-proportion z test with the pooled variance (the test Evidently uses for binary
 * columns, `proportions_diff_z_stat_ind`): z = (p̂_b − p̂_a)/√(P(1 − P)(1/n_a + 1/n_b)), P the pooled
 * rate; z² equals the 2 × 2 chi-square statistic without continuity correction. When the pooled rate
 * is 0 or 1 the samples cannot differ: z = 0, p = 1.
 */
export function twoProportionZTest(a: ProportionCounts, b: ProportionCounts): { statistic: number; pValue: number } {
  checkProportionCounts(a, 'twoProportionZTest (a)');
  checkProportionCounts(b, 'twoProportionZTest (b)');
  if (a.n === 0 || b.n === 0) throw StatsErrors.STATS_INVALID_INPUT(`twoProportionZTest: both samples need at least one trial, got ${a.n} and ${b.n}`);
  const pooled = (a.successes + b.successes) / (a.n + b.n);
  const variance = pooled * (1 - pooled) * (1 / a.n + 1 / b.n);
  if (!(variance > 0)) return { statistic: 0, pValue: 1 };
  const statistic = (b.successes / b.n - a.successes / a.n) / Math.sqrt(variance);
  return { statistic, pValue: normalTwoSidedPValue(statistic) };
}

/**
 * Cramér's V of an r × c contingency table from its chi-square statistic: √(χ²/(N·(min(r, c) − 1))),
 * in [0, 1] (scipy.stats.contingency.association, method "cramer", without correction). 0 when the
 * table has a single row or column.
 */
export function cramersV(statistic: number, total: number, rows: number, columns: number): number {
  if (!(statistic >= 0) || !(total > 0) || !Number.isInteger(rows) || !Number.isInteger(columns) || rows < 1 || columns < 1) {
    throw StatsErrors.STATS_INVALID_INPUT(`cramersV: need χ² ≥ 0, N > 0 and whole table dimensions, got χ² = ${statistic}, N = ${total}, ${rows} × ${columns}`);
  }
  const k = Math.min(rows, columns) - 1;
  if (k === 0) return 0;
  return Math.min(1, Math.sqrt(statistic / (total * k)));
}
