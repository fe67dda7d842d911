/**
 * Streaming mean and variance (B. P. Welford, Technometrics 4 (1962) 419–420) and the pairwise merge
 * of two summaries (Chan, Golub & LeVeque, "Updating formulae and a pairwise algorithm for computing
 * sample variances", 1979). Summaries are plain JSON-safe objects, so they can be stored per window
 * and merged later without rescanning raw values.
 */
import { StatsErrors } from './errors.js';

/** Count, mean and M2 = Σ (x − mean)² of a sample. */
export interface Moments {
  readonly n: number;
  readonly mean: number;
  readonly m2: number;
}

/** The summary of an empty sample. */
export const EMPTY_MOMENTS: Moments = Object.freeze({ n: 0, mean: 0, m2: 0 });

/** Adds one value (Welford's update) and returns the new summary. */
export function addToMoments(m: Moments, x: number): Moments {
  if (!Number.isFinite(x)) throw StatsErrors.STATS_INVALID_INPUT(`addToMoments: value must be a finite number, got ${x}`);
  const n = m.n + 1;
  const delta = x - m.mean;
  const mean = m.mean + delta / n;
  return { n, mean, m2: m.m2 + delta * (x - mean) };
}

/** Merges two summaries as if their samples had been concatenated (Chan et al.). */
export function mergeMoments(a: Moments, b: Moments): Moments {
  if (a.n === 0) return { n: b.n, mean: b.mean, m2: b.m2 };
  if (b.n === 0) return { n: a.n, mean: a.mean, m2: a.m2 };
  const n = a.n + b.n;
  const delta = b.mean - a.mean;
  return { n, mean: a.mean + (delta * b.n) / n, m2: a.m2 + b.m2 + (delta * delta * a.n * b.n) / n };
}

/** The summary of a whole sample. */
export function momentsOf(xs: Iterable<number>): Moments {
  let m = EMPTY_MOMENTS;
  for (const x of xs) m = addToMoments(m, x);
  return m;
}

/** The unbiased sample variance M2/(n − 1); NaN below two values. */
export function sampleVariance(m: Moments): number {
  return m.n < 2 ? NaN : Math.max(0, m.m2) / (m.n - 1);
}

/** The population variance M2/n (numpy's default ddof = 0); NaN for an empty sample. */
export function populationVariance(m: Moments): number {
  return m.n < 1 ? NaN : Math.max(0, m.m2) / m.n;
}

/** A mutable Welford accumulator for hot paths; `snapshot()` gives the plain summary. */
export interface MomentsAccumulator {
  add(x: number): void;
  merge(other: Moments): void;
  snapshot(): Moments;
}

/** Creates an accumulator, optionally resuming from a stored summary. */
export function createMomentsAccumulator(initial: Moments = EMPTY_MOMENTS): MomentsAccumulator {
  let n = initial.n;
  let mean = initial.mean;
  let m2 = initial.m2;
  return {
    add(x) {
      if (!Number.isFinite(x)) throw StatsErrors.STATS_INVALID_INPUT(`moments: value must be a finite number, got ${x}`);
      n += 1;
      const delta = x - mean;
      mean += delta / n;
      m2 += delta * (x - mean);
    },
    merge(other) {
      const merged = mergeMoments({ n, mean, m2 }, other);
      n = merged.n;
      mean = merged.mean;
      m2 = merged.m2;
    },
    snapshot: () => ({ n, mean, m2 }),
  };
}
