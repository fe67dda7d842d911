import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSeededRandom, ksTwoSample, ksTwoSampleAsymptoticPValue, ksTwoSampleExactPValue } from '../../../src/stats/index.js';
import { assertClose } from './assert-close.js';

/** P(D ≥ observed) by enumerating every way to split the pooled sample: the definition of the exact test. */
function bruteForcePValue(a: readonly number[], b: readonly number[]): number {
  const pooled = [...a, ...b];
  const n = a.length;
  const observed = ksTwoSample(a, b, { method: 'exact' }).statistic;
  let extreme = 0;
  let total = 0;
  const pick: number[] = [];
  const walk = (start: number): void => {
    if (pick.length === n) {
      const x = pick.map((i) => pooled[i] as number);
      const y = pooled.filter((_, i) => !pick.includes(i));
      total += 1;
      if (ksTwoSample(x, y, { method: 'asymptotic' }).statistic >= observed - 1e-12) extreme += 1;
      return;
    }
    for (let i = start; i < pooled.length; i++) {
      pick.push(i);
      walk(i + 1);
      pick.pop();
    }
  };
  walk(0);
  return extreme / total;
}

describe('two-sample Kolmogorov–Smirnov', () => {
  test('statistic and exact p-value match scipy.stats.ks_2samp(method="exact")', () => {
    // Samples from numpy.random.default_rng(7), rounded to 6 decimals; values from scipy 1.10.
    const a1 = [0.00123, 0.298746, -0.274138, -0.890592, -0.454671, -0.991647, 0.060144, 1.340215, -0.492207, -0.620475, 0.489842, 0.356887];
    const b1 = [0.905414, -0.130468, 0.770748, 1.495303, -0.544215, 0.342384, -1.101223, -0.489538, -1.041735];
    const r1 = ksTwoSample(a1, b1);
    assert.equal(r1.method, 'exact');
    assertClose(r1.statistic, 0.25, 1e-15);
    assertClose(r1.pValue, 0.8505766679141292, 1e-13);
    const a2 = [
      -0.235091, -1.267446, 0.271264, 0.156751, -0.186931, -2.51676, -0.538693, -0.048501, 0.113309, -1.530136, -0.477753, -0.978519, -0.808837, 1.060899,
      -0.807535, -0.032522, 0.88439, -0.5836, -0.111702, 0.110464, 0.063782, -1.225056, 0.07614, 1.358823, -1.547145, 0.859383, 0.119354, -0.64147, 2.000417,
      0.76226, -1.199289, 0.074516, 0.57669, -0.188782, 0.68291, -0.066517, 0.667248, 1.438523, -0.675662, 0.203139,
    ];
    const b2 = [
      -0.3023, 0.465449, -1.243353, -0.453092, 0.044945, 1.468393, 1.788789, -1.420586, -0.733035, 1.140974, -2.290146, -0.302121, 0.173527, 1.934119,
      1.196225, -0.125377, -0.179149, -0.025254, 2.280588, -0.256432, -0.094785, 0.758366, 0.142998, 0.043531, -1.148287, 0.285022, -0.276656, 1.815966,
      1.149015, 0.268613, 1.168895, -0.14183, 1.667764, 0.292981, 1.058397, -1.378161, 0.750684, -1.894665, -2.345928, -0.09582, -0.869906, 0.513269,
      3.218184, -0.78124, -0.511127, 0.567025, 0.940917, 0.070672, 0.032291, 1.213202, 0.97588, -1.043779, 0.197064, 0.345873, -1.07083,
    ];
    const r2 = ksTwoSample(a2, b2);
    assertClose(r2.statistic, 0.17272727272727273, 1e-15);
    assertClose(r2.pValue, 0.43892750361694705, 1e-13);
  });

  test('two fully separated samples of ten give the textbook exact p-value 2/C(20, 10)', () => {
    const a = Array.from({ length: 10 }, (_, i) => i);
    const b = Array.from({ length: 10 }, (_, i) => 10 + i);
    const r = ksTwoSample(a, b);
    assert.equal(r.statistic, 1);
    assertClose(r.pValue, 2 / 184756, 1e-12);
  });

  test('with ties the statistic compares the cdfs only after every copy of a value, and the exact p-value is the permutation one', () => {
    const a = [1, 2, 2, 3, 3, 3];
    const b = [2, 3, 4, 4, 5];
    const r = ksTwoSample(a, b);
    assert.equal(r.ties, true);
    // F_a − F_b after 1: 1/6; after 2: 3/6 − 1/5; after 3: 1 − 2/5 = 0.6 (the maximum).
    assertClose(r.statistic, 0.6, 1e-15);
    assertClose(r.pValue, bruteForcePValue(a, b), 1e-12);
    const c = [0, 0, 1, 1, 1, 2];
    const d = [0, 1, 2, 2, 2, 2, 3];
    assertClose(ksTwoSample(c, d).pValue, bruteForcePValue(c, d), 1e-12);
  });

  test('exact p-values of tie-free samples agree with brute-force enumeration', () => {
    const rnd = createSeededRandom(11);
    for (let k = 0; k < 4; k++) {
      const a = Array.from({ length: 5 + k }, () => rnd.normal());
      const b = Array.from({ length: 6 }, () => rnd.normal() + 0.5);
      assertClose(ksTwoSample(a, b).pValue, bruteForcePValue(a, b), 1e-12, 0, `case ${k}`);
    }
  });

  test('the corrected asymptotic p-value tracks the exact one for large samples', () => {
    const rnd = createSeededRandom(3);
    const a = Array.from({ length: 600 }, () => rnd.normal());
    const b = Array.from({ length: 500 }, () => rnd.normal() * 1.1 + 0.05);
    const exact = ksTwoSample(a, b, { method: 'exact' });
    const asymptotic = ksTwoSample(a, b, { method: 'asymptotic' });
    assert.equal(asymptotic.statistic, exact.statistic);
    assert.ok(Math.abs(asymptotic.pValue - exact.pValue) < 0.02, `exact ${exact.pValue}, asymptotic ${asymptotic.pValue}`);
    // Auto switches to the asymptotic distribution above the size cap.
    assert.equal(ksTwoSample(a, b, { exactMaxProduct: 1000 }).method, 'asymptotic');
  });

  test('exact p-values are monotone in D and equal 1 at D = 0', () => {
    let previous = 1;
    for (let k = 0; k <= 48; k += 3) {
      const p = ksTwoSampleExactPValue(k, 6, 8);
      assert.ok(p <= previous + 1e-15, `p rose at k = ${k}`);
      previous = p;
    }
    assert.equal(ksTwoSampleExactPValue(0, 6, 8), 1);
    assert.ok(ksTwoSampleAsymptoticPValue(0.01, 100, 100) > 0.99);
  });

  test('empty or NaN samples are refused', () => {
    assert.throws(() => ksTwoSample([], [1]), /STATS_INVALID_INPUT|must not be empty/);
    assert.throws(() => ksTwoSample([NaN], [1]), /NaN/);
  });
});
