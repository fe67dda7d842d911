/**
 * Reference profiles for drift tests, built here from generated data (the real builder lives in
 * src/monitoring/profiles): equal-width histogram bins over the reference's range, type-7
 * quantiles, Welford moments and a seeded reservoir sample of at most 5,000 values.
 */
import {
  OTHER_CATEGORY,
  PROFILE_MAX_CATEGORIES,
  PROFILE_QUANTILES,
  PROFILE_SAMPLE_SIZE,
  type CategoricalFeatureProfile,
  type FeatureProfile,
  type NumericFeatureProfile,
  type ReferenceProfile,
} from '../../../../src/monitoring/profiles/types.js';
import { createReservoirSampler, createSeededRandom, quantileSorted, type SeededRandom } from '../../../../src/stats/index.js';

export function numericProfile(name: string, values: ArrayLike<number>, options: { bins?: number; seed?: number; sampleSize?: number } = {}): NumericFeatureProfile {
  const bins = options.bins ?? 20;
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  const min = sorted[0]!;
  const max = sorted[n - 1]!;
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    const d = x - mean;
    mean += d / (i + 1);
    m2 += d * (x - mean);
  }
  const width = (max - min) / bins || 1;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? Math.max(max, min + width * bins) : min + width * i));
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < n; i++) counts[Math.min(bins - 1, Math.floor((values[i]! - min) / width))]! += 1;
  const size = options.sampleSize ?? PROFILE_SAMPLE_SIZE;
  const sampler = createReservoirSampler(size, createSeededRandom(options.seed ?? 99));
  const sample = new Array<number>(Math.min(size, n));
  for (let i = 0; i < n; i++) {
    const slot = sampler.offer();
    if (slot >= 0) sample[slot] = values[i]!;
  }
  return {
    kind: 'numeric',
    name,
    input: 'input',
    column: null,
    count: n,
    missing: 0,
    min,
    max,
    mean,
    std: n < 2 ? 0 : Math.sqrt(m2 / (n - 1)),
    quantiles: PROFILE_QUANTILES.map((q) => quantileSorted(sorted, q)),
    histogram: { edges, counts },
    sample,
  };
}

export function categoricalProfile(name: string, values: readonly string[], maxCategories = PROFILE_MAX_CATEGORIES): CategoricalFeatureProfile {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  const frequencies: Record<string, number> = {};
  for (const [k, c] of sorted.slice(0, maxCategories)) frequencies[k] = c;
  const rest = sorted.slice(maxCategories).reduce((s, [, c]) => s + c, 0);
  if (sorted.length > maxCategories) frequencies[OTHER_CATEGORY] = rest;
  return { kind: 'categorical', name, input: 'input', column: null, count: values.length, missing: 0, frequencies };
}

/** Categorical frequencies given directly (for million-row references that need no array). */
export function categoricalProfileFromCounts(name: string, frequencies: Record<string, number>): CategoricalFeatureProfile {
  const count = Object.values(frequencies).reduce((s, c) => s + c, 0);
  return { kind: 'categorical', name, input: 'input', column: null, count, missing: 0, frequencies };
}

export function makeProfile(features: FeatureProfile[], predictions: FeatureProfile | null = null): ReferenceProfile {
  const rows = features[0] === undefined ? 0 : features[0].count + features[0].missing;
  return { format: 1, model: 'm', version: 1, rows, source: 'test.csv', createdAt: 0, createdBy: 'test', features, predictions };
}

export function normals(n: number, random: SeededRandom, mean = 0, sd = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + sd * random.normal();
  return out;
}

/** A category drawn with the given shares (in order). */
export function pick(random: SeededRandom, categories: readonly string[], shares: readonly number[]): string {
  let u = random.next();
  for (let i = 0; i < categories.length; i++) {
    u -= shares[i]!;
    if (u < 0) return categories[i]!;
  }
  return categories[categories.length - 1]!;
}
