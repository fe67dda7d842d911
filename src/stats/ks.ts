/**
 * The two-sample Kolmogorov–Smirnov test: the statistic D = sup |F_a − F_b| with ties handled (the
 * empirical cdfs are compared only after every copy of a tied value), an exact p-value for small
 * samples that is also exact under ties, and an asymptotic p-value with Stephens' correction for
 * large ones.
 *
 * Exact: the permutation distribution of D given the pooled sample, by counting lattice paths that
 * stay inside the band (Hodges 1957; the normalised recursion of R's `psmirnov`). With ties, a
 * path's position is only checked where a run of equal pooled values ends — the same rule R ≥ 4.3
 * uses for its exact conditional distribution.
 * Asymptotic: P(D ≥ d) ≈ Q_KS((√nₑ + 0.12 + 0.11/√nₑ) d), nₑ = nm/(n + m) (M. A. Stephens, JRSS B
 * 32 (1970); Numerical Recipes §14.3).
 */
import { kolmogorovSf } from './distributions.js';
import { logGamma } from './gamma.js';
import { StatsErrors } from './errors.js';

/** Which p-value a KS test used. */
export type KsMethod = 'exact' | 'asymptotic';

export interface KsTwoSampleOptions {
  /** 'auto' (default) uses the exact distribution when n·m ≤ exactMaxProduct. */
  readonly method?: 'auto' | KsMethod;
  /** Largest n·m for which 'auto' computes the exact p-value (cost is O(n·m)). Default 4,000,000. */
  readonly exactMaxProduct?: number;
}

export interface KsTwoSampleResult {
  /** D = sup |F_a − F_b|, in [0, 1]. */
  readonly statistic: number;
  /** P(D ≥ observed) under "both samples come from one distribution". */
  readonly pValue: number;
  readonly method: KsMethod;
  readonly sizeA: number;
  readonly sizeB: number;
  /** nₑ = nm/(n + m), the effective size of the asymptotic approximation. */
  readonly effectiveSize: number;
  /** Whether the pooled sample has tied values (the exact p-value accounts for them). */
  readonly ties: boolean;
}

/** Default cap on n·m for the exact p-value: about 2,000 × 2,000. */
export const KS_EXACT_MAX_PRODUCT = 4_000_000;

interface Pooled {
  /** D·n·m as an integer, so the exact recursion compares integers, not rounded fractions. */
  readonly dScaled: number;
  /** blockEnd[k] is true when the k-th smallest pooled value (1-based) ends a run of ties. */
  readonly blockEnd: Uint8Array;
  readonly ties: boolean;
}

function sortedCopy(xs: readonly number[], name: string): Float64Array {
  if (xs.length === 0) throw StatsErrors.STATS_INVALID_INPUT(`ksTwoSample: ${name} must not be empty`);
  const out = Float64Array.from(xs);
  for (const v of out) if (Number.isNaN(v)) throw StatsErrors.STATS_INVALID_INPUT(`ksTwoSample: ${name} contains NaN`);
  return out.sort();
}

function pool(a: Float64Array, b: Float64Array): Pooled {
  const n = a.length;
  const m = b.length;
  const blockEnd = new Uint8Array(n + m + 1);
  let i = 0;
  let j = 0;
  let dScaled = 0;
  let ties = false;
  while (i < n || j < m) {
    const v = j >= m || (i < n && (a[i] as number) <= (b[j] as number)) ? (a[i] as number) : (b[j] as number);
    let run = 0;
    while (i < n && a[i] === v) {
      i++;
      run++;
    }
    while (j < m && b[j] === v) {
      j++;
      run++;
    }
    if (run > 1) ties = true;
    blockEnd[i + j] = 1;
    dScaled = Math.max(dScaled, Math.abs(i * m - j * n));
  }
  return { dScaled, blockEnd, ties };
}

/**
 * P(D ≥ d) exactly, where d = dScaled/(n·m), for samples of sizes n and m whose pooled order has the
 * given tie structure (`blockEnd[k]` = 1 where a run of equal values ends after k pooled values;
 * omit it for continuous data). O(n·m) time, O(min(n, m)) memory.
 */
export function ksTwoSampleExactPValue(dScaled: number, n: number, m: number, blockEnd?: Uint8Array): number {
  if (!Number.isInteger(n) || !Number.isInteger(m) || n < 1 || m < 1) {
    throw StatsErrors.STATS_INVALID_INPUT(`ksTwoSampleExactPValue: sizes must be positive integers, got ${n} and ${m}`);
  }
  if (dScaled <= 0) return 1;
  // u[j] holds (paths from (0, 0) to (i, j) that stayed inside the band) / C(i + m, i) — R's psmirnov2x
  // scaling. Rather than 1 − P(inside), which cancels for small p, sum over first exits:
  // P(D ≥ d) = Σ paths(first exit at (i, j)) · paths((i, j) → (n, m)) / C(n + m, n), all terms positive.
  const logFactorial = new Float64Array(n + m + 1);
  for (let k = 0; k <= n + m; k++) logFactorial[k] = logGamma(k + 1);
  const logChoose = (a: number, b: number): number => (logFactorial[a] as number) - (logFactorial[b] as number) - (logFactorial[a - b] as number);
  const logTotal = logChoose(n + m, n);
  const outside = (i: number, j: number): boolean => Math.abs(i * m - j * n) >= dScaled && (blockEnd === undefined || blockEnd[i + j] === 1);
  let pValue = 0;
  const exit = (i: number, j: number, arrivingScaled: number): void => {
    if (arrivingScaled > 0) pValue += Math.exp(Math.log(arrivingScaled) + logChoose(i + m, i) + logChoose(n - i + m - j, n - i) - logTotal);
  };
  const u = new Float64Array(m + 1);
  u[0] = 1;
  for (let j = 1; j <= m; j++) {
    const arriving = u[j - 1] as number;
    if (outside(0, j)) {
      exit(0, j, arriving);
      u[j] = 0;
    } else u[j] = arriving;
  }
  for (let i = 1; i <= n; i++) {
    const w = i / (i + m);
    for (let j = 0; j <= m; j++) {
      const arriving = w * (u[j] as number) + (j > 0 ? (u[j - 1] as number) : 0);
      if (outside(i, j)) {
        exit(i, j, arriving);
        u[j] = 0;
      } else u[j] = arriving;
    }
  }
  // Where p is large, 1 − P(inside) is the more accurate of the two (no lgamma rounding).
  const inside = u[m] as number;
  return inside < 0.5 ? Math.min(1, Math.max(0, 1 - inside)) : Math.min(1, pValue);
}

/** P(D ≥ d) from the Kolmogorov distribution with Stephens' small-sample correction. */
export function ksTwoSampleAsymptoticPValue(d: number, n: number, m: number): number {
  if (!(n > 0) || !(m > 0) || Number.isNaN(d)) return NaN;
  const en = (n * m) / (n + m);
  const sq = Math.sqrt(en);
  return kolmogorovSf((sq + 0.12 + 0.11 / sq) * d);
}

/** Runs the two-sample KS test on two samples (NaN is refused; ±Infinity are ordinary values). */
export function ksTwoSample(a: readonly number[], b: readonly number[], options: KsTwoSampleOptions = {}): KsTwoSampleResult {
  const sa = sortedCopy(a, 'sample a');
  const sb = sortedCopy(b, 'sample b');
  const n = sa.length;
  const m = sb.length;
  const pooled = pool(sa, sb);
  const statistic = pooled.dScaled / (n * m);
  const maxProduct = options.exactMaxProduct ?? KS_EXACT_MAX_PRODUCT;
  const method: KsMethod = options.method === undefined || options.method === 'auto' ? (n * m <= maxProduct ? 'exact' : 'asymptotic') : options.method;
  const pValue =
    method === 'exact' ? ksTwoSampleExactPValue(pooled.dScaled, n, m, pooled.ties ? pooled.blockEnd : undefined) : ksTwoSampleAsymptoticPValue(statistic, n, m);
  return { statistic, pValue, method, sizeA: n, sizeB: m, effectiveSize: (n * m) / (n + m), ties: pooled.ties };
}
