/**
 * The Shapiro–Wilk test of normality: the W statistic and its p-value by Royston's algorithm,
 * J. P. Royston, "Approximating the Shapiro–Wilk W-test for non-normality", Statistics and
 * Computing 2 (1992) 117–119, as published in "Remark AS R94: A remark on Algorithm AS 181: the
 * W-test for normality", Applied Statistics 44 (1995) 547–551 — the algorithm behind R's
 * `shapiro.test` and scipy's `stats.shapiro`, valid for 3 ≤ n ≤ 5000.
 *
 * The coefficients a_i approximate the expected normal order statistics m_i = Φ⁻¹((i − 3/8)/(n + 1/4))
 * normalised, with the two extreme ones corrected by Royston's polynomials in 1/√n. W is the squared
 * correlation between the sorted sample and the coefficients, computed as 1 − W to keep accuracy
 * for W near 1. The p-value is exact for n = 3 (W's distribution is known there), otherwise from a
 * normal approximation of log(1 − W) (of −log(γ − log(1 − W)) for n ≤ 11).
 */
import { StatsErrors } from './errors.js';
import { normalQuantile, normalSf } from './normal.js';

/** Smallest sample the test accepts. */
export const SHAPIRO_WILK_MIN_N = 3;
/** Largest sample the approximation of the p-value is valid for (Royston 1995). */
export const SHAPIRO_WILK_MAX_N = 5000;

export interface ShapiroWilkResult {
  /** Sample size. */
  readonly n: number;
  /** The W statistic, in (0, 1]; small values speak against normality. */
  readonly w: number;
  /** P(W ≤ w) for a normal sample of size n. */
  readonly pValue: number;
}

// AS R94's polynomial coefficients, lowest order first.
const G = [-2.273, 0.459] as const;
const C1 = [0, 0.221157, -0.147981, -2.07119, 4.434685, -2.706056] as const;
const C2 = [0, 0.042981, -0.293762, -1.752461, 5.682633, -3.582633] as const;
const C3 = [0.544, -0.39978, 0.025054, -6.714e-4] as const;
const C4 = [1.3822, -0.77857, 0.062767, -0.0020322] as const;
const C5 = [-1.5861, -0.31082, -0.083751, 0.0038915] as const;
const C6 = [-0.4803, -0.082676, 0.0030302] as const;

/** A range below this (relative to the largest magnitude) is no spread at all. */
const ZERO_RANGE = 1e-10;

function poly(c: readonly number[], x: number): number {
  let v = 0;
  for (let i = c.length - 1; i >= 0; i--) v = v * x + (c[i] as number);
  return v;
}

/** Coefficient arrays by n, most recently used last: the detector asks for a few sizes again and again. */
const coefficientCache = new Map<number, Float64Array>();
const COEFFICIENT_CACHE_SIZE = 16;

/**
 * The upper half of the Shapiro–Wilk coefficients for sample size n, largest first: a[0]
 * multiplies x₍ₙ₎ − x₍₁₎, a[1] multiplies x₍ₙ₋₁₎ − x₍₂₎, and so on (⌊n/2⌋ values). Cached for
 * the last few sizes asked; the returned array must not be changed.
 */
export function shapiroWilkCoefficients(n: number): Float64Array {
  if (!Number.isInteger(n) || n < SHAPIRO_WILK_MIN_N || n > SHAPIRO_WILK_MAX_N) {
    throw StatsErrors.STATS_INVALID_INPUT(`shapiroWilk: the sample size must be a whole number from ${SHAPIRO_WILK_MIN_N} to ${SHAPIRO_WILK_MAX_N}, got ${n}`);
  }
  const cached = coefficientCache.get(n);
  if (cached !== undefined) {
    coefficientCache.delete(n);
    coefficientCache.set(n, cached);
    return cached;
  }
  const half = Math.floor(n / 2);
  const a = new Float64Array(half);
  if (n === 3) {
    a[0] = Math.SQRT1_2;
  } else {
    const an25 = n + 0.25;
    let summ2 = 0;
    for (let i = 0; i < half; i++) {
      const m = normalQuantile((i + 1 - 0.375) / an25);
      a[i] = m;
      summ2 += m * m;
    }
    summ2 *= 2;
    const ssumm2 = Math.sqrt(summ2);
    const rsn = 1 / Math.sqrt(n);
    const m1 = a[0] as number;
    const a1 = poly(C1, rsn) - m1 / ssumm2;
    let first: number;
    let fac: number;
    if (n > 5) {
      first = 2;
      const m2 = a[1] as number;
      const a2 = -m2 / ssumm2 + poly(C2, rsn);
      fac = Math.sqrt((summ2 - 2 * m1 * m1 - 2 * m2 * m2) / (1 - 2 * a1 * a1 - 2 * a2 * a2));
      a[1] = a2;
    } else {
      first = 1;
      fac = Math.sqrt((summ2 - 2 * m1 * m1) / (1 - 2 * a1 * a1));
    }
    a[0] = a1;
    for (let i = first; i < half; i++) a[i] = -(a[i] as number) / fac;
  }
  coefficientCache.set(n, a);
  if (coefficientCache.size > COEFFICIENT_CACHE_SIZE) {
    const oldest = coefficientCache.keys().next().value;
    if (oldest !== undefined) coefficientCache.delete(oldest);
  }
  return a;
}

/**
 * The test on a sample already sorted in increasing order (not checked beyond its ends; the
 * caller sorted it). Throws STATS_INVALID_INPUT for fewer than 3 or more than 5000 values, a value
 * that is not finite, or a sample whose values are all equal (W is undefined: R refuses it too).
 */
export function shapiroWilkSorted(sorted: ArrayLike<number>): ShapiroWilkResult {
  const n = sorted.length;
  const a = shapiroWilkCoefficients(n);
  const lo = sorted[0] as number;
  const hi = sorted[n - 1] as number;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw StatsErrors.STATS_INVALID_INPUT('shapiroWilk: every value must be a finite number');
  const range = hi - lo;
  if (!(range > ZERO_RANGE * Math.max(Math.abs(lo), Math.abs(hi)))) {
    throw StatsErrors.STATS_INVALID_INPUT(`shapiroWilk: all ${n} values are equal (${lo}); W is undefined without spread`);
  }
  // W as the squared correlation of the range-scaled sample with the coefficients (AS R94)
  let sx = 0;
  let sa = 0;
  for (let i = 0; i < n; i++) {
    const x = sorted[i] as number;
    if (!Number.isFinite(x)) throw StatsErrors.STATS_INVALID_INPUT('shapiroWilk: every value must be a finite number');
    sx += x / range;
    sa += coefficientAt(a, i, n);
  }
  sx /= n;
  sa /= n;
  let ssa = 0;
  let ssx = 0;
  let sax = 0;
  for (let i = 0; i < n; i++) {
    const asa = coefficientAt(a, i, n) - sa;
    const xsx = (sorted[i] as number) / range - sx;
    ssa += asa * asa;
    ssx += xsx * xsx;
    sax += asa * xsx;
  }
  const ssassx = Math.sqrt(ssa * ssx);
  // 1 − W, computed so that W near 1 keeps its accuracy
  const w1 = Math.max(0, ((ssassx - sax) * (ssassx + sax)) / (ssa * ssx));
  const w = 1 - w1;
  return { n, w, pValue: shapiroWilkPValue(w, w1, n) };
}

/** The test on an unsorted sample (copied, then sorted); see {@link shapiroWilkSorted}. */
export function shapiroWilk(sample: ArrayLike<number>): ShapiroWilkResult {
  const sorted = Float64Array.from(sample);
  sorted.sort();
  if (sorted.length > 0 && Number.isNaN(sorted[sorted.length - 1])) throw StatsErrors.STATS_INVALID_INPUT('shapiroWilk: every value must be a finite number, got NaN');
  return shapiroWilkSorted(sorted);
}

/** The coefficient of the i-th smallest of n values: −a for the lower half, +a for the upper, 0 for the median of odd n. */
function coefficientAt(a: Float64Array, i: number, n: number): number {
  const j = n - 1 - i;
  if (i < j) return -(a[i] as number);
  if (i > j) return a[j] as number;
  return 0;
}

function shapiroWilkPValue(w: number, w1: number, n: number): number {
  if (n === 3) {
    // exact: P(W ≤ w) = (6/π)(asin √w − asin √(3/4))
    return Math.min(1, Math.max(0, (6 / Math.PI) * (Math.asin(Math.sqrt(w)) - Math.PI / 3)));
  }
  if (w1 <= 0) return 1;
  let y = Math.log(w1);
  let m: number;
  let s: number;
  if (n <= 11) {
    const gamma = poly(G, n);
    // beyond the approximation's support: W is as far from normal as it gets at this n
    if (y >= gamma) return 1e-99;
    y = -Math.log(gamma - y);
    m = poly(C3, n);
    s = Math.exp(poly(C4, n));
  } else {
    const ln = Math.log(n);
    m = poly(C5, ln);
    s = Math.exp(poly(C6, ln));
  }
  return normalSf((y - m) / s);
}
