/**
 * Quantiles of a sample: the linear-interpolation estimator (Hyndman & Fan type 7; the default of R
 * and numpy) and the Harrell–Davis estimator (F. E. Harrell & C. E. Davis, Biometrika 69 (1982)
 * 635–640), a Beta-weighted average of all order statistics that is much less noisy than one or two
 * order statistics for tail quantiles of small samples.
 */
import { StatsErrors } from './errors.js';
import { regularizedBeta } from './gamma.js';

function checkP(p: number, fn: string): void {
  if (!(p >= 0 && p <= 1)) throw StatsErrors.STATS_INVALID_INPUT(`${fn}: probability must be in [0, 1], got ${p}`);
}

function sortedSample(xs: readonly number[], fn: string): Float64Array {
  if (xs.length === 0) throw StatsErrors.STATS_INVALID_INPUT(`${fn}: the sample must not be empty`);
  const s = Float64Array.from(xs);
  for (const v of s) if (Number.isNaN(v)) throw StatsErrors.STATS_INVALID_INPUT(`${fn}: the sample contains NaN`);
  return s.sort();
}

/** The type-7 quantile of an already sorted sample: x₍ₕ₎ interpolated at h = (n − 1)p. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  checkP(p, 'quantileSorted');
  const n = sorted.length;
  if (n === 0) throw StatsErrors.STATS_INVALID_INPUT('quantileSorted: the sample must not be empty');
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (h - lo) * (b - a);
}

/** The type-7 quantile (R's and numpy's default) of a sample, at probability p. */
export function quantile(xs: readonly number[], p: number): number {
  return quantileSorted(sortedSample(xs, 'quantile'), p);
}

/**
 * The Harrell–Davis estimate of the p-quantile: Σ wᵢ x₍ᵢ₎ with wᵢ = I_{i/n}(a, b) − I_{(i−1)/n}(a, b),
 * a = p(n + 1), b = (1 − p)(n + 1). At p = 0 or 1 it is the minimum or maximum.
 */
export function harrellDavisQuantile(xs: readonly number[], p: number): number {
  checkP(p, 'harrellDavisQuantile');
  const s = sortedSample(xs, 'harrellDavisQuantile');
  const n = s.length;
  if (n === 1 || p === 0) return s[0] as number;
  if (p === 1) return s[n - 1] as number;
  const a = p * (n + 1);
  const b = (1 - p) * (n + 1);
  let previous = 0;
  let sum = 0;
  for (let i = 1; i <= n; i++) {
    const current = i === n ? 1 : regularizedBeta(i / n, a, b);
    sum += (current - previous) * (s[i - 1] as number);
    previous = current;
  }
  return sum;
}

/** A confidence interval for a median, with the coverage its order statistics give. */
export interface MedianInterval {
  readonly lower: number;
  readonly upper: number;
  /** P(lower ≤ median ≤ upper) whatever the continuous distribution: at least 1 − α, exactly as computed. */
  readonly coverage: number;
}

/**
 * A distribution-free confidence interval for the median of the population `xs` was drawn from:
 * the order statistics x₍ₖ₎ and x₍ₙ₋ₖ₊₁₎, with k the largest rank for which
 * P(Binomial(n, ½) ≤ k − 1) ≤ α/2 (W. J. Conover, Practical Nonparametric Statistics, 3rd ed.,
 * Wiley 1999, §3.2). Its coverage 1 − 2·P(Binomial(n, ½) ≤ k − 1) is at least 1 − α. A sample too
 * small for any such interval (fewer than 6 values at α = 0.05) gets infinite bounds.
 */
export function medianInterval(xs: readonly number[], alpha = 0.05): MedianInterval {
  if (!(alpha > 0 && alpha < 1)) throw StatsErrors.STATS_INVALID_INPUT(`medianInterval: alpha must be in (0, 1), got ${alpha}`);
  const s = sortedSample(xs, 'medianInterval');
  const n = s.length;
  // P(B ≤ j) for B ~ Binomial(n, ½) is I_½(n − j, j + 1); the tail grows with j
  const tail = (j: number): number => (j < 0 ? 0 : j >= n ? 1 : regularizedBeta(0.5, n - j, j + 1));
  let k = 0;
  while (k + 1 <= n / 2 && tail(k) <= alpha / 2) k++;
  if (k === 0) return { lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY, coverage: 1 };
  return { lower: s[k - 1] as number, upper: s[n - k] as number, coverage: 1 - 2 * tail(k - 1) };
}
