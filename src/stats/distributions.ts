/**
 * Distribution functions built on the special functions: chi-square, Fisher's F, Student t and the Kolmogorov
 * (limiting Kolmogorov–Smirnov) distribution. Survival functions are computed directly, never as
 * 1 − cdf, so small p-values keep their relative accuracy. Outside their domains they return NaN.
 */
import { incompleteBetaTails, logBeta, regularizedGammaP, regularizedGammaQ } from './gamma.js';
import { normalCdf, normalPdf as normalPdfLocal, normalQuantile, normalSf } from './normal.js';

/** P(X ≤ x) for X ~ χ²(df). */
export function chiSquareCdf(x: number, df: number): number {
  if (Number.isNaN(x) || !(df > 0)) return NaN;
  if (x <= 0) return 0;
  return regularizedGammaP(df / 2, x / 2);
}

/** P(X > x) for X ~ χ²(df) — the p-value of a chi-square statistic. */
export function chiSquareSf(x: number, df: number): number {
  if (Number.isNaN(x) || !(df > 0)) return NaN;
  if (x <= 0) return 1;
  return regularizedGammaQ(df / 2, x / 2);
}

/**
 * P(X > x) for X ~ F(d1, d2), Fisher's F: I_y(d2/2, d1/2) with y = d2/(d2 + d1·x), whose
 * complement d1·x/(d2 + d1·x) is passed as computed, so a far tail keeps its digits.
 */
export function fSf(x: number, d1: number, d2: number): number {
  if (Number.isNaN(x) || !(d1 > 0) || !(d2 > 0)) return NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  const denominator = d2 + d1 * x;
  return incompleteBetaTails(d2 / denominator, d2 / 2, d1 / 2, (d1 * x) / denominator).lower;
}

/** The Student t density with `df` degrees of freedom (df may be fractional, as Welch's is). */
export function studentTPdf(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN;
  if (df === Infinity) return Math.exp(-0.5 * t * t) / Math.sqrt(2 * Math.PI);
  return Math.exp(-0.5 * Math.log(df) - logBeta(df / 2, 0.5) - ((df + 1) / 2) * Math.log1p((t * t) / df));
}

/**
 * Beyond ν ≥ 5e4·max(1, t⁴) the tail comes from the normal with two correction terms: there the
 * expansion's O(t¹²/ν³) error is below the continued fraction's ~ν·ε.
 */
const T_LARGE_DF = 5e4;

/** P(T > |t|), the one-sided tail, from I_x(ν/2, ½) with x = ν/(ν + t²) and 1 − x = t²/(ν + t²). */
function studentTTail(t: number, df: number): number {
  const t2 = t * t;
  if (df >= T_LARGE_DF * Math.max(1, t2 * t2)) {
    // The continued fraction loses about ν·ε relative accuracy here; Fisher's expansion
    // P(T > t) = Q(t) + φ(t)[(t³ + t)/(4ν) + (3t⁷ − 7t⁵ − 5t³ − 3t)/(96ν²)] + O(ν⁻³)
    // (coefficients checked against mpmath quadrature of the density) does not.
    const a = Math.abs(t);
    const a3 = a * t2;
    const a5 = a3 * t2;
    const a7 = a5 * t2;
    return normalSf(a) + normalPdfLocal(a) * ((a3 + a) / (4 * df) + (3 * a7 - 7 * a5 - 5 * a3 - 3 * a) / (96 * df * df));
  }
  const x = df / (df + t2);
  const y = t2 / (df + t2);
  return 0.5 * incompleteBetaTails(x, df / 2, 0.5, y).lower;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  if (Number.isNaN(t) || Number.isNaN(df) || !(df > 0)) return NaN;
  if (df === Infinity) return normalCdf(t);
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const tail = studentTTail(t, df);
  return t < 0 ? tail : 1 - tail;
}

/** P(T > t) for Student's t with `df` degrees of freedom. */
export function studentTSf(t: number, df: number): number {
  return studentTCdf(-t, df);
}

/** Two-sided p-value P(|T| ≥ |t|). */
export function studentTTwoSidedPValue(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN;
  if (df === Infinity) return Math.min(1, 2 * normalSf(Math.abs(t)));
  return Math.min(1, 2 * studentTTail(Math.abs(t), df));
}

/**
 * The Student t quantile: t with P(T ≤ t) = p. Closed forms for ν = 1 and 2; otherwise Newton's
 * method on the cdf, started from the normal quantile and safeguarded by bisection.
 */
export function studentTQuantile(p: number, df: number): number {
  if (Number.isNaN(p) || Number.isNaN(df) || p < 0 || p > 1 || !(df > 0)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  if (df === Infinity) return normalQuantile(p);
  if (df === 1) return Math.tan(Math.PI * (p - 0.5));
  if (df === 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
  // Solve in the lower tail (q ≤ ½) where the cdf is computed to full relative accuracy.
  const lower = p < 0.5;
  const q = lower ? p : 1 - p;
  let lo = -1;
  while (studentTCdf(lo, df) > q) lo *= 2;
  let hi = 0;
  const z = normalQuantile(q);
  // Cornish–Fisher start; good for moderate df, and the bracket rescues the rest.
  let t = z + (z * z * z + z) / (4 * df);
  if (!(t > lo && t < hi)) t = (lo + hi) / 2;
  for (let i = 0; i < 200; i++) {
    const f = studentTCdf(t, df) - q;
    if (f === 0) break;
    if (f > 0) hi = t;
    else lo = t;
    let next = t - f / studentTPdf(t, df);
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - t) <= 1e-15 * Math.max(1, Math.abs(t))) {
      t = next;
      break;
    }
    t = next;
  }
  return lower ? t : -t;
}

/**
 * The survival function of the Kolmogorov distribution, P(K > x) with K = sup|B(t)| of a Brownian
 * bridge: 2 Σ (−1)^{k−1} e^{−2k²x²} for x ≥ 1, and one minus the Jacobi-theta form
 * √(2π)/x Σ e^{−(2k−1)²π²/(8x²)} below, where that series converges faster (scipy `kolmogorov`).
 */
export function kolmogorovSf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  if (x < 1) return 1 - kolmogorovCdfSmall(x);
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * x * x);
    sum += k % 2 === 1 ? term : -term;
    if (term < 1e-300 || term < 1e-17 * sum) break;
  }
  return Math.max(0, Math.min(1, 2 * sum));
}

function kolmogorovCdfSmall(x: number): number {
  const w = (Math.PI * Math.PI) / (8 * x * x);
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const j = 2 * k - 1;
    const term = Math.exp(-j * j * w);
    sum += term;
    if (term < 1e-17 * sum || term === 0) break;
  }
  return (Math.sqrt(2 * Math.PI) / x) * sum;
}

/** The Kolmogorov distribution's cdf P(K ≤ x). */
export function kolmogorovCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 0;
  if (x < 1) return kolmogorovCdfSmall(x);
  return 1 - kolmogorovSf(x);
}
