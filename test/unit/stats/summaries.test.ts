import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  addToMoments,
  adjustedProportionVariance,
  createMomentsAccumulator,
  createQuantileSketch,
  createSeededRandom,
  EMPTY_MOMENTS,
  harrellDavisQuantile,
  medianInterval,
  mergeMoments,
  mergeSketches,
  momentsOf,
  populationVariance,
  quantile,
  quantileSorted,
  sampleVariance,
  sketchQuantile,
  wilsonInterval,
} from '../../../src/stats/index.js';
import { assertClose } from './assert-close.js';

describe('streaming moments (Welford)', () => {
  test('mean and variance match numpy, even around a large offset where the naive formula cancels', () => {
    // numpy.mean(x), numpy.var(x, ddof=1).
    const x = [3.1, 4.7, -2.2, 8.8, 0.5, 1e6 + 0.25, 1e6 - 0.5];
    const m = momentsOf(x);
    assertClose(m.mean, 285716.37857142853, 1e-15);
    assertClose(sampleVariance(m), 238093759537.7899, 1e-14);
    // Values near 1e9 with spread 1: Σx² − n·mean² would lose every digit.
    const shifted = momentsOf([1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4]);
    assertClose(sampleVariance(shifted), 5 / 3, 1e-9);
    assert.ok(Number.isNaN(sampleVariance(momentsOf([1]))));
    assertClose(populationVariance(momentsOf([1, 2, 3, 4])), 1.25, 1e-15);
  });

  test('merging two summaries equals summarising the concatenated sample', () => {
    const rnd = createSeededRandom(5);
    const a = Array.from({ length: 137 }, () => rnd.normal() * 3 + 10);
    const b = Array.from({ length: 59 }, () => rnd.normal() * 0.5 - 4);
    const merged = mergeMoments(momentsOf(a), momentsOf(b));
    const direct = momentsOf([...a, ...b]);
    assert.equal(merged.n, direct.n);
    assertClose(merged.mean, direct.mean, 1e-13);
    assertClose(merged.m2, direct.m2, 1e-12);
    assert.deepEqual(mergeMoments(EMPTY_MOMENTS, momentsOf(a)), momentsOf(a));
    const acc = createMomentsAccumulator();
    a.forEach((v) => acc.add(v));
    acc.merge(momentsOf(b));
    assertClose(acc.snapshot().m2, direct.m2, 1e-12);
    assert.throws(() => addToMoments(EMPTY_MOMENTS, Infinity), /finite/);
  });
});

describe('sample quantiles', () => {
  // numpy.random.default_rng(7).lognormal(0, 1, 23) rounded to 4 decimals.
  const x = [1.0653, 1.2447, 4.6342, 0.883, 0.3767, 1.124, 1.5707, 0.4364, 0.1928, 0.2377, 1.9453, 0.4684, 0.8682, 1.2368, 1.8573, 0.7154, 1.6466, 0.4106, 0.6965, 0.359, 3.1011, 0.9733, 0.4774];

  test('type-7 quantiles match numpy.quantile', () => {
    const cases: [number, number][] = [
      [0, 0.1928],
      [0.1, 0.36254],
      [0.5, 0.883],
      [0.9, 1.9277],
      [0.99, 4.296918000000002],
      [1, 4.6342],
    ];
    for (const [p, v] of cases) assertClose(quantile(x, p), v, 1e-14, 0, `q(${p})`);
    assert.equal(quantileSorted([5], 0.3), 5);
    assert.throws(() => quantile(x, 1.2), /\[0, 1\]/);
  });

  test('Harrell–Davis quantiles match scipy.stats.mstats.hdquantiles', () => {
    const cases: [number, number][] = [
      [0.1, 0.3033398010274349],
      [0.5, 0.8992697103408175],
      [0.9, 2.706058832064546],
      [0.99, 4.524013305123703],
    ];
    for (const [p, v] of cases) assertClose(harrellDavisQuantile(x, p), v, 1e-13, 0, `hd(${p})`);
    assert.equal(harrellDavisQuantile(x, 0), 0.1928);
    assert.equal(harrellDavisQuantile(x, 1), 4.6342);
  });

  test('Harrell–Davis is less noisy than type 7 for a tail quantile of small samples', () => {
    // Mean squared error of the 0.9-quantile of 15 standard normals, over 400 seeded samples.
    const truth = 1.2815515655446004;
    const rnd = createSeededRandom(21);
    let mseHd = 0;
    let mse7 = 0;
    for (let k = 0; k < 400; k++) {
      const s = Array.from({ length: 15 }, () => rnd.normal());
      mseHd += (harrellDavisQuantile(s, 0.9) - truth) ** 2;
      mse7 += (quantile(s, 0.9) - truth) ** 2;
    }
    assert.ok(mseHd < mse7, `HD ${mseHd / 400} vs type 7 ${mse7 / 400}`);
  });

  test('the median interval takes the order statistics the exact binomial gives (Conover §3.2)', () => {
    // ranks and coverage from Σ C(n, i) / 2ⁿ computed exactly (Python fractions), α = 0.05
    const cases: [number, number, number][] = [
      [6, 1, 0.96875],
      [10, 2, 0.978515625],
      [15, 4, 0.96484375],
      [20, 6, 0.9586105346679688],
      [30, 10, 0.9572260547429323],
      [40, 14, 0.9615226917157997],
    ];
    for (const [n, k, coverage] of cases) {
      // shuffled 1..n, so the bounds are the ranks themselves
      const xs = Array.from({ length: n }, (_, i) => ((i * 7) % n) + 1);
      const ci = medianInterval(xs);
      assert.equal(ci.lower, k, `n = ${n}: lower rank`);
      assert.equal(ci.upper, n - k + 1, `n = ${n}: upper rank`);
      assertClose(ci.coverage, coverage, 1e-12, 0, `n = ${n}: coverage`);
    }
    assert.deepEqual(medianInterval([3, 1, 2, 5, 4]), { lower: -Infinity, upper: Infinity, coverage: 1 }, 'five values are too few at 95 %');
    assert.equal(medianInterval(x, 0.5).lower <= 0.883, true);
    assert.throws(() => medianInterval([1, 2, 3], 0), /alpha/);
    assert.throws(() => medianInterval([]), /empty/);
  });

  test('the median interval covers the median at least as often as it says', () => {
    // 2,000 seeded samples of 15 exponentials (median ln 2): coverage 96.5 % claimed
    const rnd = createSeededRandom(5);
    let covered = 0;
    for (let k = 0; k < 2000; k++) {
      const ci = medianInterval(Array.from({ length: 15 }, () => -Math.log(1 - rnd.next())));
      if (ci.lower <= Math.LN2 && Math.LN2 <= ci.upper) covered++;
    }
    // binomial sd at 0.965 over 2,000 draws is 0.4 %: 3 sd below
    assert.ok(covered / 2000 >= 0.952, `covered ${covered / 2000}`);
  });
});

describe('quantile sketch', () => {
  test('every quantile is within the relative accuracy of a true sample quantile', () => {
    const rnd = createSeededRandom(9);
    const values = Array.from({ length: 20000 }, () => Math.exp(rnd.normal() * 1.5 + 3));
    const sketch = createQuantileSketch({ relativeAccuracy: 0.01 });
    values.forEach((v) => sketch.add(v));
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1]) {
      // The sketch answers at rank ⌊q(n − 1)⌋ of the sorted sample.
      const exact = sorted[Math.floor(q * (values.length - 1))] as number;
      assertClose(sketch.quantile(q), exact, 0.0100001, 0, `q = ${q}`);
    }
    assert.equal(sketch.count, 20000);
  });

  test('merging sketches equals sketching the union, and the state survives JSON', () => {
    const rnd = createSeededRandom(2);
    const a = createQuantileSketch();
    const b = createQuantileSketch();
    const all = createQuantileSketch();
    for (let i = 0; i < 3000; i++) {
      const v = rnd.next() * 100;
      (i % 3 === 0 ? a : b).add(v);
      all.add(v);
    }
    const stored = JSON.parse(JSON.stringify(a.toJSON())) as ReturnType<typeof a.toJSON>;
    const merged = mergeSketches(stored, b.toJSON());
    assert.deepEqual(merged, all.toJSON());
    assert.equal(sketchQuantile(merged, 0.5), all.quantile(0.5));
  });

  test('a capped sketch keeps its bucket count bounded and its high quantiles accurate', () => {
    const sketch = createQuantileSketch({ relativeAccuracy: 0.01, maxBins: 64 });
    for (let i = 1; i <= 100000; i++) sketch.add(i * 1e-3);
    assert.ok(sketch.toJSON().bins.length <= 64);
    assertClose(sketch.quantile(0.99), 99.0, 0.011);
    assert.equal(createQuantileSketch().quantile(0.5), NaN);
    assert.throws(() => sketch.add(-1), /≥ 0/);
  });
});

describe('proportions', () => {
  test('the Wilson interval matches its closed form for 81 of 263', () => {
    const w = wilsonInterval({ n: 263, successes: 81 });
    assertClose(w.lower, 0.2552885198782742, 1e-12);
    assertClose(w.upper, 0.36620957698280004, 1e-12);
  });

  test('the adjusted variance is never zero, even with no events', () => {
    assertClose(adjustedProportionVariance({ n: 98, successes: 0 }), (1 / 100) * (99 / 100), 1e-15);
    assert.ok(adjustedProportionVariance({ n: 0, successes: 0 }) > 0);
  });
});
