import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlatformError } from '../../../src/core/index.js';
import { shapiroWilk, shapiroWilkCoefficients, shapiroWilkSorted } from '../../../src/stats/index.js';
import { assertClose } from './assert-close.js';

/** u_i = frac(i·φ⁻¹): the same numbers in Python and here, so reference values can be recomputed. */
const u = (i: number): number => (i * 0.6180339887498949) % 1;

function vector(kind: 'uniform' | 'exp' | 'sum3' | 'ties', n: number): number[] {
  const out: number[] = [];
  for (let i = 1; i <= n; i++) {
    if (kind === 'uniform') out.push(u(i));
    else if (kind === 'exp') out.push(-Math.log(u(i)));
    else if (kind === 'sum3') out.push(u(i) + u(i + n) + u(i + 2 * n));
    else out.push(Math.round(10 * (u(i) + u(i + n) + u(i + 2 * n))));
  }
  return out;
}

/**
 * scipy.stats.shapiro (scipy 1.10.1, Debian's python3-scipy: Fortran swilk, AS R94) on the vectors
 * above, e.g. `stats.shapiro([(i*0.6180339887498949) % 1.0 for i in range(1, 13)])`. scipy runs the
 * algorithm in single precision, so W agrees to a few 1e-6 and p to what that error in 1 − W makes.
 */
const SCIPY: readonly (readonly [kind: 'uniform' | 'exp' | 'sum3' | 'ties', n: number, w: number, p: number])[] = [
  ['exp', 5, 0.9307044744491577, 0.6011823415756226],
  ['sum3', 6, 0.9847647547721863, 0.9726446866989136],
  ['exp', 7, 0.9126344323158264, 0.41441598534584045],
  ['sum3', 11, 0.9758641719818115, 0.9388349056243896],
  ['uniform', 12, 0.9680237174034119, 0.8890367150306702],
  ['sum3', 20, 0.9501100182533264, 0.36876294016838074],
  ['exp', 50, 0.8459576368331909, 1.2046523806930054e-5],
  ['sum3', 100, 0.9853384494781494, 0.3358519375324249],
  ['ties', 100, 0.9807183146476746, 0.15115578472614288],
  ['uniform', 1000, 0.9547687768936157, 5.28971446903045e-17],
  ['sum3', 5000, 0.9829269051551819, 4.1234915197128436e-24],
  ['ties', 5000, 0.9805763959884644, 1.2518139114707943e-25],
];

describe('Shapiro–Wilk (Royston, AS R94)', () => {
  test('n = 3: W and its exact p-value, (6/π)(asin √W − π/3)', () => {
    // sorted 1, 2, 4: a = (−1/√2, 0, 1/√2), so W = (4 − 1)²/2 ÷ Σ(x − 7/3)² = 4.5 / (42/9) = 27/28
    const r = shapiroWilk([4, 1, 2]);
    assert.equal(r.n, 3);
    assertClose(r.w, 27 / 28, 1e-14, 0, 'W');
    assertClose(r.pValue, (6 / Math.PI) * (Math.asin(Math.sqrt(27 / 28)) - Math.PI / 3), 1e-12, 0, 'p');
    // scipy.stats.shapiro([1, 2, 4]) = (0.9642857313156128, 0.6368856430053711)
    assertClose(r.pValue, 0.6368856430053711, 1e-5, 0, 'p vs scipy');
    // equally spaced: as normal as three values get, p = 1
    const even = shapiroWilk([1, 2, 3]);
    assertClose(even.w, 1, 1e-14, 0, 'W of 1, 2, 3');
    assertClose(even.pValue, 1, 1e-12, 0, 'p of 1, 2, 3');
  });

  test('the weights of 11 men from Shapiro and Wilk (1965): W = 0.7888, p = 0.0067, as R and scipy give', () => {
    const r = shapiroWilk([148, 154, 158, 160, 161, 162, 166, 170, 182, 195, 236]);
    // R: shapiro.test(...) W = 0.78881, p-value = 0.006704; scipy: (0.7888147830963135, 0.006703833118081093)
    assertClose(r.w, 0.7888147830963135, 0, 2e-6, 'W');
    assertClose(r.pValue, 0.006703833118081093, 1e-4, 0, 'p');
  });

  test('matches scipy.stats.shapiro from n = 5 to 5000, ties included', () => {
    for (const [kind, n, w, p] of SCIPY) {
      const r = shapiroWilk(vector(kind, n));
      assert.equal(r.n, n);
      assertClose(r.w, w, 0, 5e-6, `W ${kind}${n}`);
      // scipy's single-precision 1 − W moves p by up to a few 1e-3 relative for large n
      assertClose(r.pValue, p, n >= 1000 ? 2e-2 : 5e-4, 0, `p ${kind}${n}`);
    }
  });

  test('small n branches (4 and 5 use one corrected coefficient, 6 and more two): the coefficients are normalised', () => {
    for (const n of [3, 4, 5, 6, 7, 11, 12, 100, 5000]) {
      const a = shapiroWilkCoefficients(n);
      assert.equal(a.length, Math.floor(n / 2));
      let ss = 0;
      for (const v of a) ss += 2 * v * v;
      assertClose(ss, 1, 1e-9, 0, `Σa² for n = ${n}`);
      for (let i = 1; i < a.length; i++) assert.ok((a[i - 1] as number) > (a[i] as number), `coefficients decrease, n = ${n}`);
    }
    // n = 4: a strongly bimodal sample is far from normal; n ≤ 11 uses Royston's small-sample transform
    const four = shapiroWilk([0, 0.01, 10, 10.01]);
    assert.ok(four.w < 0.8 && four.pValue < 0.05, `bimodal n = 4: W ${four.w}, p ${four.pValue}`);
  });

  test('invariant to order, shift and scale', () => {
    const x = vector('exp', 40);
    const base = shapiroWilk(x);
    const moved = shapiroWilk(x.map((v) => 1000 + 3 * v).reverse());
    assertClose(moved.w, base.w, 1e-12, 0, 'W');
    assertClose(moved.pValue, base.pValue, 1e-9, 0, 'p');
    const sorted = Float64Array.from(x).sort();
    assert.deepEqual(shapiroWilkSorted(sorted), base);
  });

  test('refuses fewer than 3 or more than 5000 values, non-finite values, and no spread, naming the problem', () => {
    const refused = (f: () => unknown, pattern: RegExp): void => {
      assert.throws(f, (e: unknown) => e instanceof PlatformError && e.code === 'STATS_INVALID_INPUT' && pattern.test(e.message));
    };
    refused(() => shapiroWilk([1, 2]), /from 3 to 5000, got 2/);
    refused(() => shapiroWilk(vector('uniform', 5001)), /got 5001/);
    refused(() => shapiroWilk([1, 2, Number.NaN, 4]), /finite/);
    refused(() => shapiroWilk([1, 2, Number.POSITIVE_INFINITY]), /finite/);
    refused(() => shapiroWilk([5, 5, 5, 5]), /all 4 values are equal/);
  });
});
