/**
 * Multivariate summaries for outlier scores: a sample covariance with Schäfer–Strimmer shrinkage
 * toward its diagonal, the Cholesky factor of a symmetric positive-definite matrix, and the
 * squared Mahalanobis distance computed from that factor in O(d²/2) without forming an inverse.
 *
 * Symmetric matrices are kept as their lower triangle packed by rows: entry (i, j) with j ≤ i at
 * index i(i + 1)/2 + j ({@link packedIndex}), d(d + 1)/2 numbers for a d × d matrix.
 */
import { StatsErrors } from './errors.js';

/** Where entry (i, j), j ≤ i, of a lower triangle packed by rows is kept. */
export function packedIndex(i: number, j: number): number {
  return (i * (i + 1)) / 2 + j;
}

/**
 * The Cholesky factor L of a symmetric positive-definite matrix A (A = L·Lᵀ, L lower triangular),
 * both packed by rows; undefined when A is not numerically positive definite (a pivot at or below
 * d·ε times the largest diagonal entry), so the caller can regularise and try again.
 */
export function choleskyPacked(a: ArrayLike<number>, d: number): Float64Array | undefined {
  if (!Number.isInteger(d) || d < 1 || a.length < (d * (d + 1)) / 2) {
    throw StatsErrors.STATS_INVALID_INPUT(`choleskyPacked: expected ${(d * (d + 1)) / 2} packed entries for d = ${d}, got ${a.length}`);
  }
  let largest = 0;
  for (let i = 0; i < d; i++) largest = Math.max(largest, Math.abs(a[packedIndex(i, i)] as number));
  const floor = d * Number.EPSILON * largest;
  const l = new Float64Array((d * (d + 1)) / 2);
  for (let i = 0; i < d; i++) {
    const rowI = (i * (i + 1)) / 2;
    for (let j = 0; j <= i; j++) {
      const rowJ = (j * (j + 1)) / 2;
      let sum = a[rowI + j] as number;
      for (let k = 0; k < j; k++) sum -= (l[rowI + k] as number) * (l[rowJ + k] as number);
      if (i === j) {
        if (!(sum > floor)) return undefined;
        l[rowI + i] = Math.sqrt(sum);
      } else {
        l[rowI + j] = sum / (l[rowJ + j] as number);
      }
    }
  }
  return l;
}

/**
 * The squared Mahalanobis distance (x − μ)ᵀ Σ⁻¹ (x − μ), given the packed Cholesky factor L of Σ:
 * L·y = x − μ is solved by forward substitution and |y|² returned. `scratch` (length ≥ d) holds y,
 * so a caller that scores many rows allocates nothing per row. NaN when a value is NaN.
 */
export function mahalanobisSquared(l: Float64Array, d: number, mean: ArrayLike<number>, x: ArrayLike<number>, scratch: Float64Array): number {
  let total = 0;
  for (let i = 0; i < d; i++) {
    const row = (i * (i + 1)) / 2;
    let v = (x[i] as number) - (mean[i] as number);
    for (let k = 0; k < i; k++) v -= (l[row + k] as number) * (scratch[k] as number);
    const y = v / (l[row + i] as number);
    scratch[i] = y;
    total += y * y;
  }
  return total;
}

/**
 * A copy of the packed covariance with every off-diagonal entry multiplied by 1 − λ: the linear
 * shrinkage (1 − λ)·S + λ·diag(S) toward the diagonal (λ = 1 keeps the variances only).
 */
export function shrinkTowardDiagonal(covariance: ArrayLike<number>, d: number, lambda: number): Float64Array {
  const out = Float64Array.from({ length: (d * (d + 1)) / 2 }, (_, k) => covariance[k] as number);
  const keep = 1 - Math.min(1, Math.max(0, lambda));
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) out[packedIndex(i, j)] = (out[packedIndex(i, j)] as number) * keep;
  return out;
}

/** The mean, sample covariance and shrinkage intensity of a set of rows. */
export interface ShrinkageCovariance {
  /** Rows the estimate comes from. */
  readonly rows: number;
  readonly mean: Float64Array;
  /** The sample covariance (divided by n − 1), packed by rows. */
  readonly covariance: Float64Array;
  /**
   * The Schäfer–Strimmer intensity λ ∈ [0, 1] of shrinkage toward the diagonal, estimated on the
   * standardised data: λ = Σ_{i<j} Var̂(r_ij) / Σ_{i<j} r_ij², with r_ij the sample correlation and
   * Var̂(r_ij) = n/(n − 1)³ · Σ_k (w_kij − w̄_ij)², w_kij the product of the standardised values
   * (Schäfer & Strimmer 2005, target "D", as in R's corpcor). 1 when no pair is correlated.
   */
  readonly shrinkage: number;
}

/**
 * Mean, sample covariance and Schäfer–Strimmer shrinkage intensity of `rows` (each of length d, no
 * NaN), in two passes: means, then centred products and the fourth moments the intensity needs.
 * Cost O(n·d²), memory O(d²). A variable with zero variance takes part in no correlation.
 */
export function shrinkageCovariance(rows: readonly ArrayLike<number>[], d: number): ShrinkageCovariance {
  const n = rows.length;
  if (!Number.isInteger(d) || d < 1) throw StatsErrors.STATS_INVALID_INPUT(`shrinkageCovariance: d must be a whole number ≥ 1, got ${d}`);
  if (n < 2) throw StatsErrors.STATS_INVALID_INPUT(`shrinkageCovariance: needs at least 2 rows, got ${n}`);
  const mean = new Float64Array(d);
  for (const row of rows) {
    if (row.length < d) throw StatsErrors.STATS_INVALID_INPUT(`shrinkageCovariance: a row has ${row.length} values, expected ${d}`);
    for (let i = 0; i < d; i++) mean[i] = (mean[i] as number) + (row[i] as number);
  }
  for (let i = 0; i < d; i++) mean[i] = (mean[i] as number) / n;
  const size = (d * (d + 1)) / 2;
  const products = new Float64Array(size);
  // Σ_k c_ki² c_kj²: with the variances, the spread of the standardised products w_kij
  const fourth = new Float64Array(size);
  const centred = new Float64Array(d);
  for (const row of rows) {
    for (let i = 0; i < d; i++) centred[i] = (row[i] as number) - (mean[i] as number);
    let k = 0;
    for (let i = 0; i < d; i++) {
      const ci = centred[i] as number;
      for (let j = 0; j <= i; j++) {
        const p = ci * (centred[j] as number);
        products[k] = (products[k] as number) + p;
        fourth[k] = (fourth[k] as number) + p * p;
        k++;
      }
    }
  }
  const covariance = new Float64Array(size);
  for (let k = 0; k < size; k++) covariance[k] = (products[k] as number) / (n - 1);
  let varianceSum = 0;
  let squareSum = 0;
  for (let i = 0; i < d; i++) {
    const vi = covariance[packedIndex(i, i)] as number;
    for (let j = 0; j < i; j++) {
      const vj = covariance[packedIndex(j, j)] as number;
      if (!(vi > 0 && vj > 0)) continue;
      const k = packedIndex(i, j);
      const r = (covariance[k] as number) / Math.sqrt(vi * vj);
      const wBar = ((n - 1) / n) * r;
      const spread = Math.max(0, (fourth[k] as number) / (vi * vj) - n * wBar * wBar);
      varianceSum += (n / ((n - 1) * (n - 1) * (n - 1))) * spread;
      squareSum += r * r;
    }
  }
  const shrinkage = squareSum > 0 ? Math.min(1, Math.max(0, varianceSum / squareSum)) : 1;
  return { rows: n, mean, covariance, shrinkage };
}
