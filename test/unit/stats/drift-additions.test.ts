import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  balancedCramersV,
  chiSquareHomogeneity,
  createReservoirSampler,
  createSeededRandom,
  cramersV,
  normalizedWasserstein1,
  normalizedWasserstein1Sorted,
  twoProportionZTest,
  wasserstein1,
  wasserstein1Sorted,
} from '../../../src/stats/index.js';
import { assertClose } from './assert-close.js';

describe('two-proportion z test', () => {
  test('matches the pooled z statistic and scipy.stats.norm two-sided p-value', () => {
    // x1/n1 = 45/100, x2/n2 = 30/90; z = (p2 − p1)/√(P(1−P)(1/n1 + 1/n2)), computed with numpy/scipy 1.10.
    const r = twoProportionZTest({ n: 100, successes: 45 }, { n: 90, successes: 30 });
    assertClose(r.statistic, -1.6427266128719296, 1e-13);
    assertClose(r.pValue, 0.10043950997963545, 1e-12);
    // z² is the uncorrected 2 × 2 chi-square (scipy.stats.chi2_contingency(correction=False): 2.698550724637682).
    const chi = chiSquareHomogeneity([45, 55], [30, 60]);
    assertClose(r.statistic ** 2, chi.statistic, 1e-12);
    assertClose(chi.statistic, 2.698550724637682, 1e-12);
  });

  test('samples that cannot differ give z = 0 and p = 1, and empty samples are refused', () => {
    assert.deepEqual(twoProportionZTest({ n: 10, successes: 0 }, { n: 20, successes: 0 }), { statistic: 0, pValue: 1 });
    assert.deepEqual(twoProportionZTest({ n: 10, successes: 10 }, { n: 5, successes: 5 }), { statistic: 0, pValue: 1 });
    assert.throws(() => twoProportionZTest({ n: 0, successes: 0 }, { n: 5, successes: 1 }), /at least one trial/);
    assert.throws(() => twoProportionZTest({ n: 5, successes: 6 }, { n: 5, successes: 1 }), /successes/);
  });
});

describe("Cramér's V", () => {
  test('matches scipy.stats.contingency.association(method="cramer") for a 2 × 3 table', () => {
    const a = [10, 20, 30];
    const b = [25, 15, 5];
    const chi = chiSquareHomogeneity(a, b);
    // scipy 1.10: chi2_contingency → 23.333333333333336; association → 0.4714045207910317.
    assertClose(chi.statistic, 23.333333333333336, 1e-13);
    assertClose(cramersV(chi.statistic, 105, 2, 3), 0.4714045207910317, 1e-13);
    assert.equal(cramersV(5, 10, 1, 4), 0);
    assert.throws(() => cramersV(-1, 10, 2, 2), /cramersV/);
  });

  test('the balanced form equals V of the table with equally many observations on both sides', () => {
    const a = [10, 20, 30];
    const b = [25, 15, 5];
    // numpy: √(½ Σ (p − q)²/(p + q)) over the shares = 0.47795211939924326, equal to √(χ²/N) of the
    // table [p·1000, q·1000] (scipy chi2_contingency).
    assertClose(balancedCramersV(a, b), 0.47795211939924326, 1e-13);
    const pa = a.map((x) => (x / 60) * 1000);
    const pb = b.map((x) => (x / 45) * 1000);
    assertClose(balancedCramersV(a, b), cramersV(chiSquareHomogeneity(pa, pb).statistic, 2000, 2, 3), 1e-12);
    // Unlike V of the observed table, it does not shrink when one side is 1,000 times larger.
    assertClose(balancedCramersV([50, 50], [20_000, 80_000]), balancedCramersV([50, 50], [20, 80]), 1e-12);
    assert.equal(balancedCramersV([1, 2, 3], [2, 4, 6]), 0);
    assertClose(balancedCramersV([1, 0], [0, 1]), 1, 1e-15);
  });
});

describe('reservoir sampler (Algorithm L)', () => {
  test('fills slots 0…k−1 in order, then keeps each later item in a slot or not at all', () => {
    const s = createReservoirSampler(4, createSeededRandom(1));
    assert.deepEqual([s.offer(), s.offer(), s.offer()], [0, 1, 2]);
    assert.equal(s.size, 3);
    assert.equal(s.offer(), 3);
    for (let i = 0; i < 1000; i++) {
      const slot = s.offer();
      assert.ok(slot === -1 || (Number.isInteger(slot) && slot >= 0 && slot < 4), `slot ${slot}`);
    }
    assert.equal(s.seen, 1004);
    assert.equal(s.size, 4);
    s.reset();
    assert.equal(s.seen, 0);
    assert.equal(s.offer(), 0);
  });

  test('keeps every item of a stream with the same probability k/n', () => {
    // 4,000 streams of 20 items into 5 slots: each item should survive 1,000 times (σ ≈ 27).
    const k = 5;
    const n = 20;
    const trials = 4000;
    const kept = new Array<number>(n).fill(0);
    const s = createReservoirSampler(k, createSeededRandom(2024));
    for (let t = 0; t < trials; t++) {
      s.reset();
      const slots = new Array<number>(k).fill(-1);
      for (let i = 0; i < n; i++) {
        const slot = s.offer();
        if (slot >= 0) slots[slot] = i;
      }
      for (const i of slots) kept[i]! += 1;
    }
    const expected = (trials * k) / n;
    const sd = Math.sqrt(trials * (k / n) * (1 - k / n));
    for (let i = 0; i < n; i++) assert.ok(Math.abs(kept[i]! - expected) < 5 * sd, `item ${i} kept ${kept[i]} times, expected ${expected} ± ${(5 * sd).toFixed(0)}`);
  });

  test('draws far fewer random numbers than items on a long stream', () => {
    const base = createSeededRandom(3);
    let draws = 0;
    const counting = { ...base, next: () => ((draws += 1), base.next()), int: (m: number) => ((draws += 1), base.int(m)) };
    const s = createReservoirSampler(100, counting);
    for (let i = 0; i < 1_000_000; i++) s.offer();
    // Algorithm L needs about 3k(1 + ln(n/k)) ≈ 3,100 draws here; Algorithm R would need 1,000,000.
    assert.ok(draws < 10_000, `${draws} draws`);
  });

  test('is deterministic for a seed and refuses a capacity below 1', () => {
    const run = (seed: number): number[] => {
      const s = createReservoirSampler(10, createSeededRandom(seed));
      return Array.from({ length: 500 }, () => s.offer());
    };
    assert.deepEqual(run(7), run(7));
    assert.notDeepEqual(run(7), run(8));
    assert.throws(() => createReservoirSampler(0, createSeededRandom(1)), /capacity/);
  });
});

describe('Wasserstein-1 on sorted samples', () => {
  test('equals wasserstein1 (scipy.stats.wasserstein_distance) with ties and unequal sizes', () => {
    const random = createSeededRandom(4);
    const u = Array.from({ length: 300 }, () => Math.round(random.normal() * 4) / 4);
    const v = Array.from({ length: 170 }, () => Math.round((0.3 + random.normal()) * 4) / 4);
    const su = Float64Array.from(u).sort();
    const sv = Float64Array.from(v).sort();
    assertClose(wasserstein1Sorted(su, sv), wasserstein1(u, v), 1e-12);
    assertClose(normalizedWasserstein1Sorted(su, sv), normalizedWasserstein1(u, v), 1e-12);
    // scipy.stats.wasserstein_distance([0, 1, 3], [5, 6, 8]) = 5.
    assert.equal(wasserstein1Sorted(Float64Array.of(0, 1, 3), Float64Array.of(5, 6, 8)), 5);
    assert.throws(() => wasserstein1Sorted(Float64Array.of(1, 1, 2), Float64Array.of(1, 2, 1)), /sorted/);
    assert.throws(() => wasserstein1Sorted(Float64Array.of(), Float64Array.of(1)), /empty/);
  });
});
