import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFakeClock, PlatformError } from '../../../../src/core/index.js';
import { checkDrift, createDriftWindow, type DriftCheckOptions, type DriftReport, type DriftValue, type FeatureDrift } from '../../../../src/monitoring/drift/index.js';
import type { FeatureProfile, ReferenceProfile } from '../../../../src/monitoring/profiles/types.js';
import { benjaminiHochberg, createSeededRandom, holm, welchTTest } from '../../../../src/stats/index.js';
import { assertClose } from '../../stats/assert-close.js';
import { categoricalProfile, categoricalProfileFromCounts, makeProfile, normals, numericProfile, pick } from './fixtures.js';

/** Fills a window with the rows and checks it against the profile. */
function run(profile: ReferenceProfile, rows: Iterable<readonly DriftValue[]>, options: DriftCheckOptions = {}, predicted?: (i: number) => DriftValue): DriftReport {
  const w = createDriftWindow({ profile, maxRows: 10_000_000, clock: createFakeClock() });
  let i = 0;
  for (const row of rows) w.add(row, predicted?.(i++));
  return checkDrift(profile, w.snapshot(), options);
}

function repeat(counts: Record<string, number>): string[] {
  return Object.entries(counts).flatMap(([k, n]) => new Array<string>(n).fill(k));
}

function feature(r: DriftReport, name: string): FeatureDrift {
  const f = r.features.find((x) => x.name === name);
  assert.ok(f, `no feature ${name}`);
  return f;
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof PlatformError ? e.code : String(e);
  }
  return 'no error';
}

describe('method selection (Evidently’s default rule)', () => {
  const random = createSeededRandom(1);
  const small = makeProfile([
    numericProfile('continuous', normals(500, random)),
    numericProfile('three-valued', Array.from({ length: 500 }, (_, i) => i % 3)),
    numericProfile('binary-number', Array.from({ length: 500 }, (_, i) => i % 2)),
    categoricalProfile('colour', Array.from({ length: 500 }, (_, i) => ['red', 'green', 'blue'][i % 3]!)),
    categoricalProfile('flag', Array.from({ length: 500 }, (_, i) => (i % 4 === 0 ? 'yes' : 'no'))),
  ]);
  const large = makeProfile([
    numericProfile('continuous', normals(5000, random)),
    numericProfile('three-valued', Array.from({ length: 5000 }, (_, i) => i % 3)),
    categoricalProfile('colour', Array.from({ length: 5000 }, (_, i) => ['red', 'green', 'blue'][i % 3]!)),
    categoricalProfile('flag', Array.from({ length: 5000 }, (_, i) => (i % 4 === 0 ? 'yes' : 'no'))),
  ]);
  const live = (n: number, withBinary: boolean): DriftValue[][] =>
    Array.from({ length: n }, (_, i) => [random.normal(), i % 3, ...(withBinary ? [i % 2] : []), ['red', 'green', 'blue'][i % 3]!, i % 4 === 0 ? 'yes' : 'no']);

  test('≤ 1,000 reference values: KS for numeric, chi-square for categorical, z for two categories', () => {
    const r = run(small, live(300, true));
    assert.deepEqual(
      r.features.map((f) => [f.name, f.method, f.test, f.effectMeasure, f.discrete]),
      [
        ['continuous', 'ks', 'ks', 'ks_statistic', false],
        ['three-valued', 'chisquare', 'chisquare', 'cramers_v', true],
        ['binary-number', 'z', 'z', 'cramers_v', true],
        ['colour', 'chisquare', 'chisquare', 'cramers_v', false],
        ['flag', 'z', 'z', 'cramers_v', false],
      ],
    );
    assert.ok(r.features.every((f) => f.methodSource === 'auto' && f.effectThreshold === 0.1));
  });

  test('> 1,000 reference values: normalised Wasserstein for numeric, Jensen–Shannon for categorical and few-valued', () => {
    const r = run(large, live(300, false));
    assert.deepEqual(
      r.features.map((f) => [f.name, f.method, f.test, f.effectMeasure]),
      [
        ['continuous', 'wasserstein', 'ks', 'wasserstein_normed'],
        ['three-valued', 'jensenshannon', 'chisquare', 'jensenshannon'],
        ['colour', 'jensenshannon', 'chisquare', 'jensenshannon'],
        ['flag', 'jensenshannon', 'chisquare', 'jensenshannon'],
      ],
    );
  });

  test('methods and featureMethods override the rule; PSI bins numeric features on the profile histogram', () => {
    const r = run(large, live(300, false), { methods: { numeric: 'psi' }, featureMethods: { colour: 'chisquare' } });
    const c = feature(r, 'continuous');
    assert.deepEqual([c.method, c.methodSource, c.test, c.effectMeasure], ['psi', 'option', 'chisquare', 'psi']);
    assert.equal(c.sizes.reference, 5000, 'the histogram holds every reference value');
    assert.deepEqual([feature(r, 'colour').method, feature(r, 'colour').methodSource], ['chisquare', 'feature']);
    assert.equal(feature(r, 'flag').method, 'jensenshannon');
  });
});

describe('statistics against reference values', () => {
  test('KS with ties: D as scipy.stats.ks_2samp, p-value the exact permutation probability under ties', () => {
    const ref = [1, 2, 2, 3, 3, 3, 4, 5];
    const live = [3, 3, 4, 4, 5, 5, 5, 6];
    const profile = makeProfile([numericProfile('x', ref)]);
    const f = feature(run(profile, live.map((v) => [v]), { minRows: 1, discreteMaxUnique: 0 }), 'x');
    assert.equal(f.method, 'ks');
    // scipy 1.10 ks_2samp: D = 0.5 (its exact p 0.2827 assumes no ties). Enumerating all 12,870 ways
    // to split the 16 pooled values: 1,810 give D ≥ 0.5.
    assert.equal(f.statistic, 0.5);
    assertClose(f.pValue!, 1810 / 12870, 1e-12);
    assert.equal(f.drifted, false);
  });

  test('chi-square of two category histograms matches scipy.stats.chi2_contingency, with its size-free V', () => {
    const profile = makeProfile([categoricalProfileFromCounts('c', { a: 300, b: 200, c: 100 })]);
    const f = feature(run(profile, repeat({ a: 150, b: 150, c: 100 }).map((v) => [v])), 'c');
    assert.equal(f.method, 'chisquare');
    assertClose(f.statistic!, 17.857142857142854, 1e-13);
    assertClose(f.pValue!, 0.00013254724254567517, 1e-10);
    assertClose(f.effectSize!, 0.1359683601356698, 1e-13);
    assert.equal(f.drifted, true);
    assert.deepEqual(f.sizes, { reference: 600, live: 400 });
  });

  test('the z test of a binary feature matches the pooled two-proportion z', () => {
    const profile = makeProfile([categoricalProfileFromCounts('flag', { yes: 400, no: 200 })]);
    const f = feature(run(profile, repeat({ yes: 150, no: 150 }).map((v) => [v])), 'flag');
    assert.equal(f.method, 'z');
    assertClose(f.statistic!, 4.834937784152282, 1e-12);
    assertClose(f.pValue!, 1.3318728439003627e-6, 1e-9);
    assertClose(f.effectSize!, 0.1690308509457033, 1e-13);
  });

  test('Jensen–Shannon distance matches scipy.spatial.distance.jensenshannon(base=2)', () => {
    const profile = makeProfile([categoricalProfileFromCounts('c', { a: 300, b: 200, c: 100 })]);
    const f = feature(run(profile, repeat({ a: 150, b: 150, c: 100 }).map((v) => [v]), { smallSampleRows: 0 }), 'c');
    assert.equal(f.method, 'jensenshannon');
    assertClose(f.statistic!, 0.11575476146245885, 1e-13);
    assert.equal(f.drifted, true);
  });

  test('normalised Wasserstein matches scipy; a distance on ten values still needs a significant test', () => {
    const ref = Array.from({ length: 10 }, (_, i) => i);
    const live = ref.map((v) => [v + 2]);
    const profile = makeProfile([numericProfile('x', ref)]);
    const f = feature(run(profile, live, { minRows: 1, smallSampleRows: 0 }), 'x');
    // scipy.stats.wasserstein_distance(0..9, 2..11) / numpy.std(0..9) = 0.6963106238227914; ks_2samp p = 0.9945.
    assert.equal(f.method, 'wasserstein');
    assertClose(f.statistic!, 0.6963106238227914, 1e-13);
    assertClose(f.pValue!, 0.9944575548290717, 1e-9);
    assert.equal(f.drifted, false, 'ten values cannot tell a shift of 0.7σ from noise');
    const alone = feature(run(profile, live, { minRows: 1, smallSampleRows: 0, requireSignificance: false }), 'x');
    assert.deepEqual([alone.test, alone.pValue, alone.adjustedPValue, alone.drifted], [null, null, null, true], 'Evidently’s distance-only rule');
  });
});

describe('sample-size awareness', () => {
  test('a 1,000,000-row window with a 0.01σ shift does not drift though a p-value alone would flag it; a 0.5σ shift does', () => {
    const random = createSeededRandom(20240501);
    const reference = normals(1_000_000, random);
    const profile = makeProfile([
      numericProfile('x', reference, { bins: 30 }),
      categoricalProfileFromCounts('c', { a: 500_000, b: 300_000, z: 200_000 }),
    ]);
    const check = (shift: number, shares: number[]): { report: DriftReport; welchP: number } => {
      const w = createDriftWindow({ profile, maxRows: 1_000_000, clock: createFakeClock() });
      for (let i = 0; i < 1_000_000; i++) w.add([shift + random.normal(), pick(random, ['a', 'b', 'z'], shares)]);
      const closed = w.lastClosed();
      assert.ok(closed !== null && closed.rows === 1_000_000 && closed.closeReason === 'rows');
      const x = closed.features[0];
      assert.ok(x?.kind === 'numeric');
      const p = profile.features[0]!;
      assert.ok(p.kind === 'numeric');
      // What evidently#50 complains of: a test on all the rows.
      const welch = welchTTest({ n: p.count, mean: p.mean, variance: p.std ** 2 }, { n: x.moments.n, mean: x.moments.mean, variance: x.moments.m2 / (x.moments.n - 1) });
      return { report: checkDrift(profile, closed), welchP: welch.pValue };
    };

    const tiny = check(0.01, [0.51, 0.29, 0.2]);
    assert.ok(tiny.welchP < 1e-6, `Welch p on 10⁶ rows per side: ${tiny.welchP}`);
    const cTiny = feature(tiny.report, 'c');
    assert.ok(cTiny.pValue! < 1e-6, `chi-square on 10⁶ rows flags a 1-point shift: p = ${cTiny.pValue}`);
    assert.ok(cTiny.effectSize! < 0.02, `JS ${cTiny.effectSize}`);
    assert.ok(feature(tiny.report, 'x').effectSize! < 0.05, `W ${feature(tiny.report, 'x').effectSize}`);
    assert.deepEqual(tiny.report.dataset.driftedFeatures, []);
    assert.equal(tiny.report.status, 'no_drift');

    const half = check(0.5, [0.3, 0.3, 0.4]);
    const xHalf = feature(half.report, 'x');
    assert.ok(xHalf.drifted && xHalf.effectSize! > 0.4 && xHalf.adjustedPValue! < 1e-10, JSON.stringify([xHalf.effectSize, xHalf.adjustedPValue]));
    assert.ok(feature(half.report, 'c').drifted);
    assert.deepEqual(half.report.dataset.driftedFeatures, ['x', 'c']);
    assert.equal(half.report.status, 'drift');
  });

  test('a significant p-value with an effect below its threshold is not drift', () => {
    // 0.25σ shift against a 1,000-row reference: KS is significant (D ≈ 0.1 ± noise) but small;
    // with a D threshold of 0.2 the feature must not drift, with 0.05 it must.
    const random = createSeededRandom(8);
    const profile = makeProfile([numericProfile('x', normals(1000, random))]);
    const rows = Array.from({ length: 5000 }, () => [0.25 + random.normal()]);
    const strict = feature(run(profile, rows, { thresholds: { ks: 0.2 } }), 'x');
    assert.equal(strict.method, 'ks');
    assert.ok(strict.adjustedPValue! < 0.05 && strict.effectSize! < 0.2, JSON.stringify([strict.adjustedPValue, strict.effectSize]));
    assert.equal(strict.drifted, false);
    assert.equal(feature(run(profile, rows, { thresholds: { ks: 0.05 } }), 'x').drifted, true);
  });
});

describe('feature, dataset and prediction drift', () => {
  const names = Array.from({ length: 10 }, (_, i) => `f${i}`);
  const build = (n: number, seed: number): ReferenceProfile => {
    const random = createSeededRandom(seed);
    const features: FeatureProfile[] = names.map((name) => numericProfile(name, normals(n, random)));
    features.push(categoricalProfile('city', Array.from({ length: n }, () => pick(random, ['a', 'b', 'c', 'd'], [0.4, 0.3, 0.2, 0.1]))));
    return makeProfile(features, categoricalProfile('predicted', Array.from({ length: n }, () => pick(random, ['0', '1'], [0.7, 0.3]))));
  };
  const live = (rows: number, seed: number, shifted: string | null, citySeen: number[], predictedShares = [0.7, 0.3]): { rows: DriftValue[][]; predicted: DriftValue[] } => {
    const random = createSeededRandom(seed);
    return {
      rows: Array.from({ length: rows }, () => [...names.map((name) => (name === shifted ? 1.5 + 2 * random.normal() : random.normal())), pick(random, ['a', 'b', 'c', 'd'], citySeen)]),
      predicted: Array.from({ length: rows }, () => pick(random, ['0', '1'], predictedShares)),
    };
  };

  for (const [label, refRows] of [
    ['small reference (KS)', 800],
    ['large reference (Wasserstein)', 20_000],
  ] as const) {
    test(`names the one shifted feature among ten unshifted ones — ${label}`, () => {
      const profile = build(refRows, 3);
      const l = live(3000, 4, 'f6', [0.4, 0.3, 0.2, 0.1]);
      const r = run(profile, l.rows, {}, (i) => l.predicted[i]);
      assert.deepEqual(r.dataset.driftedFeatures, ['f6']);
      assert.equal(r.dataset.evaluated, 11);
      assertClose(r.dataset.driftedShare, 1 / 11, 1e-15);
      assert.equal(r.dataset.drifted, false);
      assert.equal(r.status, 'no_drift');
      assert.equal(feature(r, 'f6').status, 'drift');
      assert.equal(r.predictions?.drifted, false);
    });
  }

  test('a categorical shift drifts its feature and a new category is named', () => {
    const profile = build(20_000, 5);
    const l = live(3000, 6, null, [0.1, 0.2, 0.3, 0.4]);
    l.rows.forEach((row, i) => {
      if (i % 10 === 0) row[10] = 'zz-new';
    });
    const r = run(profile, l.rows);
    const city = feature(r, 'city');
    assert.deepEqual(r.dataset.driftedFeatures, ['city']);
    assert.equal(city.method, 'jensenshannon');
    assert.ok(city.effectSize! > 0.2, `JS ${city.effectSize}`);
    assert.deepEqual(city.newCategories, ['zz-new']);
    assert.ok(city.reference.kind === 'categorical' && city.live.kind === 'categorical');
    assert.deepEqual(
      city.reference.top.map((t) => t.category),
      city.live.top.map((t) => t.category),
      'both sides list the same categories in the same order',
    );
    const zz = city.live.top.find((t) => t.category === 'zz-new');
    assert.equal(zz?.count, 300);
    assert.equal(city.reference.top.find((t) => t.category === 'zz-new')?.count, 0);
  });

  test('a capped profile counts unseen live categories under its __other__ bucket', () => {
    const values = Array.from({ length: 2000 }, (_, i) => `c${i % 8}`);
    const profile = makeProfile([categoricalProfile('c', values, 4)]);
    assert.ok('__other__' in (profile.features[0] as { frequencies: object }).frequencies);
    const r = run(profile, Array.from({ length: 2000 }, (_, i) => [`c${i % 8}`]));
    const f = feature(r, 'c');
    assert.deepEqual(f.newCategories, []);
    assert.equal(f.drifted, false);
    assert.ok(f.effectSize! < 1e-12, 'c4…c7 land in __other__ exactly as in the reference');
  });

  test('dataset drift when the drifted share reaches driftShare; predictions drift reported apart', () => {
    const profile = build(20_000, 7);
    const random = createSeededRandom(9);
    const rows = Array.from({ length: 2000 }, () => [...names.map((_, j) => (j < 5 ? 1 + random.normal() : random.normal())), pick(random, ['a', 'b', 'c', 'd'], [0.4, 0.3, 0.2, 0.1])]);
    const r = run(profile, rows, {}, () => pick(random, ['0', '1'], [0.3, 0.7]));
    assert.deepEqual(r.dataset.driftedFeatures, ['f0', 'f1', 'f2', 'f3', 'f4']);
    assertClose(r.dataset.driftedShare, 5 / 11, 1e-15);
    assert.equal(r.dataset.drifted, false, '5 of 11 < 0.5');
    assert.equal(r.predictions?.drifted, true);
    assert.equal(r.predictions?.method, 'jensenshannon');
    assert.equal(r.predictions?.adjustedPValue, r.predictions?.pValue, 'predictions are their own family');
    assert.equal(r.status, 'drift', 'prediction drift alone makes the report drift');
    const looser = run(profile, rows, { driftShare: 0.45 });
    assert.equal(looser.dataset.drifted, true);
    assert.equal(looser.dataset.status, 'drift');
  });

  test('p-values are adjusted across features by Benjamini–Hochberg, or Holm on request', () => {
    const profile = build(800, 10);
    const l = live(400, 11, 'f2', [0.4, 0.3, 0.2, 0.1]);
    const bh = run(profile, l.rows);
    const ps = bh.features.map((f) => f.pValue!);
    assert.deepEqual(
      bh.features.map((f) => f.adjustedPValue),
      benjaminiHochberg(ps),
    );
    const hm = run(profile, l.rows, { multipleTesting: 'holm' });
    assert.deepEqual(
      hm.features.map((f) => f.adjustedPValue),
      holm(ps),
    );
  });
});

describe('insufficient data, performance, validation', () => {
  const random = createSeededRandom(12);
  const profile = makeProfile([numericProfile('x', normals(3000, random)), categoricalProfile('c', ['a', 'b', 'b'])], numericProfile('y', normals(3000, random)));

  test('a window below minRows is insufficient_data, never no_drift, and the report is JSON-exact', () => {
    const r = run(profile, [[1, 'a']]);
    assert.equal(r.status, 'insufficient_data');
    assert.equal(r.dataset.status, 'insufficient_data');
    assert.ok(r.features.every((f) => f.status === 'insufficient_data' && !f.drifted && f.statistic === null && f.pValue === null));
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
    const empty = checkDrift(profile, createDriftWindow({ profile }).snapshot());
    assert.deepEqual(JSON.parse(JSON.stringify(empty)), empty);
    assert.equal(empty.window.since, null);
    assert.equal(empty.predictions?.status, 'insufficient_data');
  });

  test('a full report is JSON-exact and carries summaries for charts', () => {
    const r = run(
      profile,
      Array.from({ length: 500 }, () => [random.normal(), 'b']),
      {},
      () => random.normal(),
    );
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
    const x = feature(r, 'x');
    assert.ok(x.reference.kind === 'numeric' && x.live.kind === 'numeric');
    assert.deepEqual(x.live.histogram.edges, x.reference.histogram.edges);
    assert.equal(x.live.histogram.counts.reduce((s, c) => s + c, 0), 500);
    assert.equal(x.live.quantiles?.length, 7);
    assert.deepEqual(r.window.rows, 500);
    assert.equal(r.predictions?.method, 'wasserstein');
  });

  test('classification performance: accuracy and macro-F1 per window, compared with the reference', () => {
    const cls = makeProfile([numericProfile('x', [1, 2, 3])], categoricalProfile('label', ['a', 'b', 'c']));
    const w = createDriftWindow({ profile: cls, clock: createFakeClock() });
    const predicted = ['a', 'a', 'b', 'b', 'c', 'a'];
    const actual = ['a', 'b', 'b', 'c', 'c', 'a'];
    predicted.forEach((p, i) => w.addLabel(p, actual[i]));
    const report = checkDrift(cls, w.snapshot(), { referencePerformance: 0.9 });
    const p = report.performance!;
    // F1: a 2·2/(4 + 1) = 0.8, b 2/(2 + 1 + 1) = 0.5, c 2/(2 + 0 + 1) = 2/3.
    assertClose(p.accuracy!, 4 / 6, 1e-15);
    assertClose(p.macroF1!, (0.8 + 0.5 + 2 / 3) / 3, 1e-15);
    assert.equal(p.metric, 'accuracy');
    assertClose(p.change!, 4 / 6 - 0.9, 1e-15);
    assert.equal(p.degraded, null, 'reported, not judged, without a tolerance');
    assert.equal(checkDrift(cls, w.snapshot(), { referencePerformance: 0.9, performanceTolerance: 0.1 }).performance?.degraded, true);
    assert.equal(checkDrift(cls, w.snapshot(), { referencePerformance: 0.7, performanceTolerance: 0.1 }).performance?.degraded, false);
    assert.equal(report.status, 'insufficient_data', 'labels alone do not make a drift verdict');
    w.close();
    assert.equal(checkDrift(cls, w.snapshot()).performance?.labels, 0, 'labels belong to their window');
  });

  test('regression performance: MAE, RMSE and mean error', () => {
    const w = createDriftWindow({ profile, clock: createFakeClock() });
    [1, 2, 3].forEach((p, i) => w.addLabel(p, [1.5, 2, 1][i]));
    const p = checkDrift(profile, w.snapshot(), { referencePerformance: 0.5, performanceTolerance: 0.2 }).performance!;
    assert.equal(p.task, 'regression');
    assertClose(p.mae!, 2.5 / 3, 1e-15);
    assertClose(p.rmse!, Math.sqrt(4.25 / 3), 1e-15);
    assertClose(p.meanError!, 0.5, 1e-15);
    assert.equal(p.metric, 'mae');
    assert.equal(p.degraded, true);
    assert.equal(code(() => checkDrift(profile, w.snapshot(), { performanceMetric: 'accuracy' })), 'MONITORING_DRIFT_INVALID_OPTIONS');
  });

  test('refuses a snapshot from another profile and options that do not apply', () => {
    const other = makeProfile([numericProfile('x', [1, 2, 3]), numericProfile('c', [1, 2, 3])]);
    const snapshot = createDriftWindow({ profile: other }).snapshot();
    assert.equal(code(() => checkDrift(profile, snapshot)), 'MONITORING_DRIFT_PROFILE_MISMATCH');
    const own = createDriftWindow({ profile }).snapshot();
    assert.equal(code(() => checkDrift({ ...profile, version: 2 }, own)), 'MONITORING_DRIFT_PROFILE_MISMATCH');
    assert.equal(code(() => checkDrift(profile, own, { featureMethods: { nope: 'psi' } })), 'MONITORING_DRIFT_INVALID_OPTIONS');
    assert.equal(code(() => checkDrift(profile, own, { featureMethods: { c: 'ks' } })), 'MONITORING_DRIFT_INVALID_OPTIONS');
    try {
      checkDrift(profile, own, { alpha: 2, driftShare: 0, thresholds: { ks: 3 }, methods: { numeric: 'z' as never } });
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof PlatformError);
      assert.match(e.message, /4 problems/);
      for (const path of ['alpha', 'driftShare', 'thresholds.ks', 'methods.numeric']) assert.match(e.message, new RegExp(path.replace('.', '\\.')));
    }
  });
});

describe('determinism', () => {
  test('the same profile, rows, seed and options give the same report', () => {
    const make = (): DriftReport => {
      const random = createSeededRandom(77);
      const profile = makeProfile([numericProfile('x', normals(3000, random))]);
      const w = createDriftWindow({ profile, seed: 5, sampleSize: 300, clock: createFakeClock() });
      for (let i = 0; i < 10_000; i++) w.add([0.2 + random.normal()]);
      return checkDrift(profile, w.snapshot());
    };
    assert.deepEqual(make(), make());
  });
});
