/**
 * Distances between two distributions, for drift and for comparing a candidate's outputs with its
 * baseline's. Histograms are given as counts (or shares) over the same bins, in the same order.
 *
 * - Jensen–Shannon distance, base 2, in [0, 1]: √(½ KL(p‖m) + ½ KL(q‖m)), m = ½(p + q)
 *   (scipy.spatial.distance.jensenshannon with base=2). Empty bins need no floor.
 * - Population Stability Index: Σ (qᵢ − pᵢ) ln(qᵢ/pᵢ), with empty-bin shares replaced by a floor of
 *   0.0001 as Evidently does (and, as Evidently does, by the smallest non-zero share / 10⁶ when that
 *   share is itself ≤ the floor, so the floor never outweighs a real bin).
 * - Wasserstein-1 (earth mover's) distance between two weighted samples, ∫ |F_u − F_v| dx, as
 *   scipy.stats.wasserstein_distance; between two histograms, with each bin's mass at its centre;
 *   normalised by the reference's standard deviation (ddof 0, floored at 0.001) as Evidently does.
 * - Cramér's V of two histograms weighted equally (an effect size for categorical drift that does not
 *   depend on the two sample sizes).
 */
import { StatsErrors } from './errors.js';

function shares(counts: readonly number[], name: string, fn: string): Float64Array {
  let total = 0;
  for (const c of counts) {
    if (!(c >= 0) || !Number.isFinite(c)) throw StatsErrors.STATS_INVALID_INPUT(`${fn}: ${name} must hold finite counts ≥ 0, got ${c}`);
    total += c;
  }
  if (!(total > 0)) throw StatsErrors.STATS_INVALID_INPUT(`${fn}: ${name} is empty (its counts sum to 0)`);
  return Float64Array.from(counts, (c) => c / total);
}

function pair(p: readonly number[], q: readonly number[], fn: string): [Float64Array, Float64Array] {
  if (p.length !== q.length) throw StatsErrors.STATS_INVALID_INPUT(`${fn}: histograms must have the same bins, got ${p.length} and ${q.length}`);
  if (p.length === 0) throw StatsErrors.STATS_INVALID_INPUT(`${fn}: histograms must have at least one bin`);
  return [shares(p, 'the first histogram', fn), shares(q, 'the second histogram', fn)];
}

/** The Jensen–Shannon distance (base 2, in [0, 1]) between two histograms over the same bins. */
export function jensenShannonDistance(p: readonly number[], q: readonly number[]): number {
  const [a, b] = pair(p, q, 'jensenShannonDistance');
  let divergence = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    const m = (x + y) / 2;
    if (x > 0) divergence += 0.5 * x * Math.log2(x / m);
    if (y > 0) divergence += 0.5 * y * Math.log2(y / m);
  }
  // Rounding can leave a tiny negative divergence for identical inputs.
  return Math.sqrt(Math.min(1, Math.max(0, divergence)));
}

/**
 * Cramér's V of two histograms weighted equally: √(½ Σ (pᵢ − qᵢ)²/(pᵢ + qᵢ)) over their shares, in
 * [0, 1]. It is the V of the 2 × k table the two distributions would give with equally many
 * observations each, so unlike V of the observed table it does not shrink when one sample is much
 * larger than the other (a 1,000-row reference against a 1,000,000-row window).
 */
export function balancedCramersV(p: readonly number[], q: readonly number[]): number {
  const [a, b] = pair(p, q, 'balancedCramersV');
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const s = (a[i] as number) + (b[i] as number);
    if (s > 0) sum += ((a[i] as number) - (b[i] as number)) ** 2 / s;
  }
  return Math.min(1, Math.sqrt(sum / 2));
}

/** The share an empty bin is given in PSI (Evidently's value). */
export const PSI_EMPTY_BIN_SHARE = 0.0001;

function floorEmpty(s: Float64Array, floor: number): Float64Array {
  let smallest = Infinity;
  for (const v of s) if (v > 0 && v < smallest) smallest = v;
  const fill = smallest <= floor ? smallest / 1e6 : floor;
  return s.map((v) => (v === 0 ? fill : v));
}

/**
 * The Population Stability Index of `current` against `reference` (counts or shares over the same
 * bins). Rule of thumb: < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 large shift.
 */
export function populationStabilityIndex(reference: readonly number[], current: readonly number[], options: { emptyBinShare?: number } = {}): number {
  const floor = options.emptyBinShare ?? PSI_EMPTY_BIN_SHARE;
  if (!(floor > 0 && floor < 1)) throw StatsErrors.STATS_INVALID_INPUT(`populationStabilityIndex: emptyBinShare must be in (0, 1), got ${floor}`);
  const [r0, c0] = pair(reference, current, 'populationStabilityIndex');
  const r = floorEmpty(r0, floor);
  const c = floorEmpty(c0, floor);
  let psi = 0;
  for (let i = 0; i < r.length; i++) psi += ((c[i] as number) - (r[i] as number)) * Math.log((c[i] as number) / (r[i] as number));
  return psi;
}

function checkSample(xs: readonly number[], weights: readonly number[] | undefined, name: string): number {
  if (xs.length === 0) throw StatsErrors.STATS_INVALID_INPUT(`wasserstein1: ${name} must not be empty`);
  for (const x of xs) if (!Number.isFinite(x)) throw StatsErrors.STATS_INVALID_INPUT(`wasserstein1: ${name} must hold finite values, got ${x}`);
  if (weights === undefined) return xs.length;
  if (weights.length !== xs.length) throw StatsErrors.STATS_INVALID_INPUT(`wasserstein1: ${name} has ${xs.length} values but ${weights.length} weights`);
  let total = 0;
  for (const w of weights) {
    if (!(w >= 0) || !Number.isFinite(w)) throw StatsErrors.STATS_INVALID_INPUT(`wasserstein1: ${name} weights must be finite and ≥ 0, got ${w}`);
    total += w;
  }
  if (!(total > 0)) throw StatsErrors.STATS_INVALID_INPUT(`wasserstein1: ${name} weights sum to 0`);
  return total;
}

/**
 * The Wasserstein-1 distance ∫ |F_u − F_v| dx between two (optionally weighted) samples, exactly as
 * scipy.stats.wasserstein_distance computes it.
 */
export function wasserstein1(u: readonly number[], v: readonly number[], uWeights?: readonly number[], vWeights?: readonly number[]): number {
  const uTotal = checkSample(u, uWeights, 'the first sample');
  const vTotal = checkSample(v, vWeights, 'the second sample');
  type Point = { x: number; du: number; dv: number };
  const points: Point[] = [];
  u.forEach((x, i) => points.push({ x, du: (uWeights?.[i] ?? 1) / uTotal, dv: 0 }));
  v.forEach((x, i) => points.push({ x, du: 0, dv: (vWeights?.[i] ?? 1) / vTotal }));
  points.sort((a, b) => a.x - b.x);
  let fu = 0;
  let fv = 0;
  let distance = 0;
  for (let k = 0; k < points.length - 1; k++) {
    const p = points[k] as Point;
    fu += p.du;
    fv += p.dv;
    distance += Math.abs(fu - fv) * ((points[k + 1] as Point).x - p.x);
  }
  return distance;
}

/** The population standard deviation (ddof 0) of a weighted sample. */
function weightedStd(xs: readonly number[], weights?: readonly number[]): number {
  let total = 0;
  let mean = 0;
  xs.forEach((x, i) => {
    const w = weights?.[i] ?? 1;
    total += w;
    mean += w * x;
  });
  mean /= total;
  let ss = 0;
  xs.forEach((x, i) => {
    const w = weights?.[i] ?? 1;
    ss += w * (x - mean) * (x - mean);
  });
  return Math.sqrt(ss / total);
}

/** Evidently's floor for the reference's standard deviation, so a constant reference cannot divide by zero. */
export const WASSERSTEIN_MIN_STD = 0.001;

/** W₁(reference, current) / max(std(reference), 0.001) — Evidently's normalised Wasserstein (drift at ≥ 0.1). */
export function normalizedWasserstein1(reference: readonly number[], current: readonly number[]): number {
  const w = wasserstein1(reference, current);
  return w / Math.max(weightedStd(reference), WASSERSTEIN_MIN_STD);
}

/**
 * W₁ between two unweighted samples given already sorted ascending (typed arrays): the same value
 * as {@link wasserstein1}, by one merge pass in O(n + m) instead of a sort of tagged points — for
 * callers that sort their samples anyway (drift checks sort for quantiles and KS).
 */
export function wasserstein1Sorted(u: Float64Array, v: Float64Array): number {
  const n = u.length;
  const m = v.length;
  if (n === 0 || m === 0) throw StatsErrors.STATS_INVALID_INPUT('wasserstein1Sorted: samples must not be empty');
  for (let k = 0; k < n; k++) {
    if (!Number.isFinite(u[k]) || (k > 0 && (u[k] as number) < (u[k - 1] as number))) throw StatsErrors.STATS_INVALID_INPUT('wasserstein1Sorted: the first sample must be finite and sorted ascending');
  }
  for (let k = 0; k < m; k++) {
    if (!Number.isFinite(v[k]) || (k > 0 && (v[k] as number) < (v[k - 1] as number))) throw StatsErrors.STATS_INVALID_INPUT('wasserstein1Sorted: the second sample must be finite and sorted ascending');
  }
  let i = 0;
  let j = 0;
  let distance = 0;
  let previous = Math.min(u[0] as number, v[0] as number);
  while (i < n || j < m) {
    const x = j >= m || (i < n && (u[i] as number) <= (v[j] as number)) ? (u[i] as number) : (v[j] as number);
    // |F_u − F_v| is constant between consecutive pooled values.
    distance += Math.abs(i / n - j / m) * (x - previous);
    previous = x;
    while (i < n && u[i] === x) i++;
    while (j < m && v[j] === x) j++;
  }
  return distance;
}

/** {@link normalizedWasserstein1} for samples already sorted ascending. */
export function normalizedWasserstein1Sorted(reference: Float64Array, current: Float64Array): number {
  const w = wasserstein1Sorted(reference, current);
  let mean = 0;
  for (const x of reference) mean += x;
  mean /= reference.length;
  let ss = 0;
  for (const x of reference) ss += (x - mean) * (x - mean);
  return w / Math.max(Math.sqrt(ss / reference.length), WASSERSTEIN_MIN_STD);
}

function binCentres(edges: readonly number[], bins: number, fn: string): number[] {
  if (edges.length !== bins + 1) throw StatsErrors.STATS_INVALID_INPUT(`${fn}: ${bins} bins need ${bins + 1} edges, got ${edges.length}`);
  for (let i = 0; i < edges.length; i++) {
    if (!Number.isFinite(edges[i])) throw StatsErrors.STATS_INVALID_INPUT(`${fn}: edges must be finite, got ${edges[i]}`);
    if (i > 0 && !((edges[i] as number) > (edges[i - 1] as number))) throw StatsErrors.STATS_INVALID_INPUT(`${fn}: edges must increase strictly`);
  }
  return Array.from({ length: bins }, (_, i) => ((edges[i] as number) + (edges[i + 1] as number)) / 2);
}

/** W₁ between two histograms over the same finite bin edges, each bin's mass at its centre. */
export function wasserstein1Histograms(edges: readonly number[], p: readonly number[], q: readonly number[]): number {
  if (p.length !== q.length) throw StatsErrors.STATS_INVALID_INPUT(`wasserstein1Histograms: histograms must have the same bins, got ${p.length} and ${q.length}`);
  const centres = binCentres(edges, p.length, 'wasserstein1Histograms');
  return wasserstein1(centres, centres, p, q);
}

/** W₁ between two histograms divided by the reference histogram's standard deviation (floored at 0.001). */
export function normalizedWasserstein1Histograms(edges: readonly number[], reference: readonly number[], current: readonly number[]): number {
  const w = wasserstein1Histograms(edges, reference, current);
  const centres = binCentres(edges, reference.length, 'normalizedWasserstein1Histograms');
  return w / Math.max(weightedStd(centres, reference), WASSERSTEIN_MIN_STD);
}
