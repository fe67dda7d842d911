/** The profile builder: known statistics of small sets, bins, categories, missing values, the second pass, determinism. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlatformError, type Datatype } from '../../../../src/core/index.js';
import {
  createProfileBuilder,
  histogramBin,
  histogramEdges,
  OTHER_CATEGORY,
  PROFILE_QUANTILES,
  type CategoricalFeatureProfile,
  type FeatureValue,
  type NumericFeatureProfile,
  type PredictionValue,
  type ProfileBuilderOptions,
  type ReferenceProfile,
} from '../../../../src/monitoring/profiles/index.js';
import { createSeededRandom, quantile } from '../../../../src/stats/index.js';

const META = { model: 'm', version: 1, source: 'test.csv', createdAt: 1_700_000_000_000, createdBy: 'tester' };

function feature(name: string, datatype: Datatype = 'FP32') {
  return { name, input: 'x', column: null, datatype };
}

/** Builds a one-feature profile from values, running the second pass when the builder asks for it. */
function profileOf(values: readonly FeatureValue[], datatype: Datatype = 'FP32', options: Partial<ProfileBuilderOptions> = {}, predictions?: readonly PredictionValue[]): ReferenceProfile {
  const b = createProfileBuilder({ features: [feature('f', datatype)], ...options });
  values.forEach((v, i) => b.add([v], predictions?.[i]));
  const pass = b.seal();
  if (pass.needed) values.forEach((v, i) => b.recount([v], predictions?.[i]));
  return b.finish(META);
}

const numeric = (p: ReferenceProfile, i = 0): NumericFeatureProfile => {
  const f = p.features[i];
  assert.equal(f?.kind, 'numeric', JSON.stringify(f));
  return f;
};
const categorical = (p: ReferenceProfile, i = 0): CategoricalFeatureProfile => {
  const f = p.features[i];
  assert.equal(f?.kind, 'categorical', JSON.stringify(f));
  return f;
};

const close = (actual: number, expected: number, tol = 1e-12): void => assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);

void describe('numeric features', () => {
  void test('reports count, mean, sample std, min, max and type-7 quantiles of a small set exactly', () => {
    const f = numeric(profileOf([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    assert.equal(f.count, 10);
    assert.equal(f.missing, 0);
    assert.equal(f.min, 1);
    assert.equal(f.max, 10);
    close(f.mean, 5.5);
    close(f.std, 3.0276503540974917); // numpy.std(range(1, 11), ddof=1)
    // numpy.quantile(range(1, 11), [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
    [1.09, 1.45, 3.25, 5.5, 7.75, 9.55, 9.91].forEach((q, i) => close(f.quantiles[i] as number, q, 1e-9));
    assert.equal(f.quantiles.length, PROFILE_QUANTILES.length);
  });

  void test('gives each distinct value its own bin when there are at most ten, with edges halfway between them', () => {
    const f = numeric(profileOf([...Array<number>(70).fill(0), ...Array<number>(30).fill(1)]));
    assert.deepEqual(f.histogram, { edges: [0, 0.5, 1], counts: [70, 30] });
    const g = numeric(profileOf([1, 2, 2, 3, 3, 3]));
    assert.deepEqual(g.histogram, { edges: [1, 1.5, 2.5, 3], counts: [1, 2, 3] });
  });

  void test('cuts quantile bins of a tenth of the values each when there are more distinct values than bins', () => {
    const values = Array.from({ length: 100 }, (_, i) => 99 - i);
    const f = numeric(profileOf(values));
    assert.deepEqual(f.histogram.edges, [0, 9.5, 19.5, 29.5, 39.5, 49.5, 59.5, 69.5, 79.5, 89.5, 99]);
    assert.deepEqual(f.histogram.counts, Array<number>(10).fill(10));
  });

  void test('never splits a repeated value across bins: ties merge bins instead', () => {
    // half the values are 5: the bins that would cut through them merge into one
    const values = [...Array.from({ length: 50 }, (_, i) => i * 0.1), ...Array<number>(50).fill(5)];
    const f = numeric(profileOf(values));
    const fives = f.histogram.counts[histogramBin(f.histogram.edges, 5)];
    assert.equal(fives, 50);
    assert.equal(f.histogram.counts.reduce((a, b) => a + b, 0), 100);
    for (let i = 1; i < f.histogram.edges.length; i++) assert.ok((f.histogram.edges[i] as number) > (f.histogram.edges[i - 1] as number), 'edges increase strictly');
  });

  void test('gives a constant feature three bins — below, at and above its value — and a zero std', () => {
    const f = numeric(profileOf([7, 7, 7]));
    assert.equal(f.std, 0);
    assert.deepEqual(f.quantiles, Array<number>(PROFILE_QUANTILES.length).fill(7));
    assert.deepEqual(f.histogram.counts, [0, 3, 0]);
    const [a, b, c, d] = f.histogram.edges as [number, number, number, number];
    assert.ok(a < b && b < 7 && 7 < c && c < d, `edges ${f.histogram.edges.join(', ')}`);
    assert.equal(histogramBin(f.histogram.edges, 7), 1);
    assert.equal(histogramBin(f.histogram.edges, 6), 0, 'a smaller live value lands below');
    assert.equal(histogramBin(f.histogram.edges, 8), 2, 'a larger live value lands above');
  });

  void test('counts empty cells, NaN and infinities as missing and leaves them out of every statistic', () => {
    const f = numeric(profileOf([1, null, 3, Number.NaN, Number.POSITIVE_INFINITY, 5]));
    assert.equal(f.count, 3);
    assert.equal(f.missing, 3);
    close(f.mean, 3);
    close(f.std, 2);
    assert.deepEqual(f.sample, [1, 3, 5]);
    assert.equal(f.histogram.counts.reduce((a, b) => a + b, 0), 3);
  });

  void test('profiles a feature with no values at all with a zero count and JSON-safe zeros', () => {
    const p = profileOf([null, null]);
    const f = numeric(p);
    assert.equal(f.count, 0);
    assert.equal(f.missing, 2);
    assert.deepEqual([f.min, f.max, f.mean, f.std], [0, 0, 0, 0]);
    assert.deepEqual(f.histogram, { edges: [0, 1], counts: [0] });
    assert.deepEqual(JSON.parse(JSON.stringify(p)), p, 'survives JSON unchanged');
  });

  void test('counts a feature with many distinct values in a second pass, exactly, into bins from the sample', () => {
    const random = createSeededRandom(7);
    const values = Array.from({ length: 3000 }, () => random.normal() * 3 + 10);
    const b = createProfileBuilder({ features: [feature('f')], exactDistinctLimit: 100, sampleSize: 500 });
    for (const v of values) b.add([v]);
    assert.deepEqual(b.seal(), { needed: true, predictions: false });
    for (const v of values) b.recount([v]);
    const f = numeric(b.finish(META));
    const expected = new Array<number>(f.histogram.counts.length).fill(0);
    for (const v of values) expected[histogramBin(f.histogram.edges, v)]! += 1;
    assert.deepEqual(f.histogram.counts, expected, 'the counts are exact for the edges');
    assert.equal(f.histogram.counts.length, 10);
    for (const c of f.histogram.counts) assert.ok(c > 200 && c < 400, `about a tenth in each bin, got ${f.histogram.counts.join(', ')}`);
    assert.equal(f.sample.length, 500);
  });

  void test('refuses to finish a profile whose second pass was skipped or incomplete', () => {
    const b = createProfileBuilder({ features: [feature('f')], exactDistinctLimit: 2 });
    for (const v of [1, 2, 3, 4]) b.add([v]);
    assert.equal(b.seal().needed, true);
    b.recount([1]);
    assert.throws(() => b.finish(META), (e: unknown) => e instanceof PlatformError && /second pass saw 1 rows, the first 4/.test(e.message));
  });

  void test('keeps quantiles of a large offset sample within 0.5 % of its range (the sketch’s bound)', () => {
    const random = createSeededRandom(11);
    // kelvin-like data: far from zero compared with its spread, where a plain relative sketch is weakest
    const values = Array.from({ length: 20_000 }, () => 290 + 10 * random.normal());
    const f = numeric(profileOf(values, 'FP64', { exactDistinctLimit: 10 }));
    const range = f.max - f.min;
    PROFILE_QUANTILES.forEach((p, i) => {
      const truth = quantile(values, p);
      const error = Math.abs((f.quantiles[i] as number) - truth);
      assert.ok(error <= 0.005 * range, `p${p}: ${f.quantiles[i]} vs ${truth} (error ${error}, bound ${0.005 * range})`);
    });
  });
});

void describe('the sample', () => {
  const values = Array.from({ length: 2000 }, (_, i) => i);

  void test('holds every value while there are no more than the sample size', () => {
    assert.deepEqual(numeric(profileOf([3, 1, 2])).sample, [3, 1, 2]);
  });

  void test('is a uniform subset of the values, the same for the same seed and different for another', () => {
    const a = numeric(profileOf(values, 'FP32', { sampleSize: 100, seed: 1 })).sample;
    const b = numeric(profileOf(values, 'FP32', { sampleSize: 100, seed: 1 })).sample;
    const c = numeric(profileOf(values, 'FP32', { sampleSize: 100, seed: 2 })).sample;
    assert.equal(a.length, 100);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.equal(new Set(a).size, 100, 'no value twice');
    for (const v of a) assert.ok(values.includes(v));
    // a uniform sample of 0…1999 has a mean near 1000 (its standard error is about 58)
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    assert.ok(Math.abs(mean - 999.5) < 250, `sample mean ${mean}`);
  });
});

void describe('categorical features', () => {
  void test('counts text categories, keeps the most frequent by name and folds the rest under the other category', () => {
    const values = ['a', 'a', 'a', 'a', 'a', 'b', 'b', 'b', 'b', 'c', 'c', 'c', 'd', 'd', 'e', ''];
    const f = categorical(profileOf(values.map((v) => (v === '' ? null : v)), 'BYTES', { maxCategories: 3 }));
    assert.equal(f.count, 15);
    assert.equal(f.missing, 1);
    assert.deepEqual(f.frequencies, { a: 5, b: 4, c: 3, [OTHER_CATEGORY]: 3 });
  });

  void test('counts categories first seen after the tracked bound under the other category', () => {
    const f = categorical(profileOf(['a', 'b', 'c', 'a', 'd', 'd', 'd'], 'BYTES', { maxCategories: 2, trackedCategories: 2 }));
    assert.deepEqual(f.frequencies, { a: 2, b: 1, [OTHER_CATEGORY]: 4 });
  });

  void test('profiles a boolean input as categories true and false', () => {
    const f = categorical(profileOf([true, false, true, null], 'BOOL'));
    assert.deepEqual(f.frequencies, { true: 2, false: 1 });
    assert.equal(f.missing, 1);
  });

  void test('profiles an integer input with at most 20 distinct values as categorical, and one with more as numeric', () => {
    const few = categorical(profileOf([1, 2, 2, 3, 3, 3], 'INT64'));
    assert.deepEqual(few.frequencies, { 3: 3, 2: 2, 1: 1 });
    const many = numeric(profileOf(Array.from({ length: 21 }, (_, i) => i), 'INT32'));
    assert.equal(many.count, 21);
    assert.equal(many.kind, 'numeric');
  });
});

void describe('predictions', () => {
  void test('profiles class predictions as categories and regression values as numbers, and keeps the output name', () => {
    const b = createProfileBuilder({ features: [feature('f')] });
    ['1', '0', '1', null].forEach((p, i) => b.add([i], p));
    const p = b.finish({ ...META, predictionOutput: 'label' });
    assert.deepEqual(p.predictions, { kind: 'categorical', name: 'label', input: 'label', column: null, count: 3, missing: 1, frequencies: { 1: 2, 0: 1 } });

    const r = profileOf([1, 2, 3, 4], 'FP32', {}, [null, 0.5, 1.5, 2.5]);
    assert.equal(r.predictions?.kind, 'numeric');
    assert.equal(r.predictions?.count, 3);
    assert.equal(r.predictions?.missing, 1);
    close((r.predictions).mean, 1.5);
  });

  void test('is null when no row had a prediction', () => {
    assert.equal(profileOf([1, 2], 'FP32', {}, [null, null]).predictions, null);
    assert.equal(profileOf([1, 2]).predictions, null);
  });

  void test('asks for the predictions again when a numeric prediction has many distinct values', () => {
    const b = createProfileBuilder({ features: [feature('f', 'BYTES')], exactDistinctLimit: 3 });
    const preds = [0.1, 0.2, 0.3, 0.4, 0.5];
    preds.forEach((p) => b.add(['a'], p));
    assert.deepEqual(b.seal(), { needed: true, predictions: true });
    preds.forEach((p) => b.recount(['a'], p));
    const profile = b.finish(META);
    assert.equal((profile.predictions as NumericFeatureProfile).histogram.counts.reduce((a, c) => a + c, 0), 5);
  });
});

void describe('histogram rules', () => {
  void test('bins a value by edges[i] ≤ v < edges[i+1], the last bin closed, values outside in the end bins', () => {
    const edges = [0, 1, 2, 3];
    assert.deepEqual([-5, 0, 0.99, 1, 2.5, 3, 10].map((v) => histogramBin(edges, v)), [0, 0, 0, 1, 2, 2, 2]);
    assert.equal(histogramBin([4, 5], 100), 0);
  });

  void test('builds strictly increasing edges from min to max', () => {
    const edges = histogramEdges({ values: [1, 2, 3], counts: [1, 1, 1], total: 3 }, 0, 10, 10);
    assert.deepEqual(edges, [0, 1.5, 2.5, 10]);
  });
});

void describe('options', () => {
  void test('refuses options out of range, naming each', () => {
    assert.throws(
      () => createProfileBuilder({ features: [], bins: 0, sampleSize: 1.5 }),
      (e: unknown) => e instanceof PlatformError && e.code === 'MONITORING_PROFILE_INVALID_OPTIONS' && /sampleSize/.test(e.message) && /bins/.test(e.message),
    );
  });
});
