import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  chiSquareCdf,
  chiSquareSf,
  fSf,
  kolmogorovCdf,
  kolmogorovSf,
  normalCdf,
  studentTCdf,
  studentTPdf,
  studentTQuantile,
  studentTSf,
  studentTTwoSidedPValue,
} from '../../../src/stats/index.js';
import { assertClose } from './assert-close.js';

describe('chi-square', () => {
  test('the survival function matches scipy.stats.chi2.sf, including a 1e-208 tail', () => {
    const cases: [number, number, number, number][] = [
      [7.5, 2, 0.023517745856009114, 0.9764822541439909],
      [3.841458820694124, 1, 0.04999999999999989, 0.9500000000000001],
      [100, 50, 3.454931382984871e-5, 0.9999654506861702],
      [1000, 10, 1.870290720915977e-208, 1],
      [0.5, 7, 0.9994464813904249, 0.000553518609575035],
      // mpmath.gammainc(10, 10, inf, regularized=True).
      [20, 20, 0.4579297144718522, 0.5420702855281478],
      [0.001, 1, 0.9747728793699604, 0.02522712063003961],
      [300, 300, 0.4891417702506403, 0.5108582297493597],
    ];
    for (const [x, k, sf, cdf] of cases) {
      assertClose(chiSquareSf(x, k), sf, 1e-13, 0, `chi2.sf(${x}, ${k})`);
      assertClose(chiSquareCdf(x, k), cdf, 1e-13, 0, `chi2.cdf(${x}, ${k})`);
    }
    assert.equal(chiSquareSf(0, 3), 1);
    assert.ok(Number.isNaN(chiSquareSf(1, 0)));
  });
});

describe('Fisher F', () => {
  test('the survival function matches scipy.stats.f.sf, table values and far tails included', () => {
    const cases: [number, number, number, number][] = [
      [3.3258, 5, 10, 0.05000140148269155],
      [5.8489, 2, 20, 0.010000201432910262],
      [161.4476, 1, 1, 0.05000000598309208],
      [1.868, 30, 426, 0.004201212313367398],
      [0.5, 3, 7, 0.6940363875688136],
      [40, 30, 426, 1.3332187575453442e-104],
      [0.001, 4, 9, 0.9999975602574956],
      [2.0, 1, 1e6, 0.1572995184079021],
      [15, 10, 1000, 3.634135638709712e-25],
    ];
    // the continued fraction loses about d2·ε of relative accuracy: 1e-10 holds up to d2 ≈ 1e5
    for (const [x, d1, d2, sf] of cases) assertClose(fSf(x, d1, d2), sf, d2 > 1e5 ? 1e-9 : 1e-10, 0, `f.sf(${x}, ${d1}, ${d2})`);
  });
  test('F(1, ν) is t² and F(d, ν) tends to χ²(d)/d; edges and bad arguments', () => {
    assertClose(fSf(2.5 * 2.5, 1, 12), studentTTwoSidedPValue(2.5, 12), 1e-12, 0, 'F(1, 12) at t² = two-sided t');
    assertClose(fSf(1.5, 8, 1e9), chiSquareSf(12, 8), 1e-6, 0, 'F(8, 1e9) at x = χ²(8) at 8x');
    assert.equal(fSf(0, 3, 4), 1);
    assert.equal(fSf(Infinity, 3, 4), 0);
    assert.ok(Number.isNaN(fSf(1, 0, 4)) && Number.isNaN(fSf(1, 3, -1)) && Number.isNaN(fSf(Number.NaN, 3, 4)));
  });
});

describe('Student t', () => {
  test('the cdf matches scipy.stats.t.cdf, fractional (Welch) degrees of freedom included', () => {
    const cases: [number, number, number][] = [
      [1.5, 3, 0.8847080673775886],
      [-2.1, 10, 0.031038622101109265],
      [0.3, 1, 0.5927735790777423],
      [4, 2.5, 0.9804935120793409],
      [2, 1e6, 0.9772497330743404],
      [-40, 5, 9.205981085886476e-8],
      [12.706204736174698, 1, 0.975],
      [-3, 7.3, 0.009490275511566747],
      [0.01, 30, 0.5039562537134111],
      [-8, 100, 1.1364324038640401e-12],
      [2.5, 2, 0.9351941398892446],
    ];
    for (const [t, df, p] of cases) assertClose(studentTCdf(t, df), p, 1e-13, 0, `t.cdf(${t}, ${df})`);
  });

  test('the quantile matches an mpmath root of the cdf to 1e-14 (scipy.stats.t.ppf is off by 2e-9 at 0.995, 3)', () => {
    // Bisection on mpmath.betainc at 30 digits.
    const cases: [number, number, number][] = [
      [0.975, 10, 2.2281388519862744],
      [0.995, 3, 5.840909309733355],
      [0.025, 4.5, -2.658912347204404],
      [1e-8, 12, -12.984098090861069],
      [0.6, 2, 0.2886751345948128],
      [0.9, 1, 3.077683537175254],
      [0.999999, 50, 5.376673401732293],
      [0.05, 1.5, -3.7051808200967513],
    ];
    for (const [p, df, t] of cases) assertClose(studentTQuantile(p, df), t, 1e-14, 0, `t.ppf(${p}, ${df})`);
  });

  test('the quantile inverts the cdf and the cdf is symmetric and monotone', () => {
    for (const df of [1.2, 3, 7.5, 40, 1e4]) {
      let previous = 0;
      for (let t = -12; t <= 12; t += 0.4) {
        const p = studentTCdf(t, df);
        assert.ok(p >= previous, `cdf not monotone at ${t}, df ${df}`);
        previous = p;
        assertClose(p + studentTSf(t, df), 1, 1e-14);
        // Below the median p carries full relative precision; above it, 1 − p would lose digits.
        if (t <= 0 && p > 1e-300) assertClose(studentTQuantile(p, df), t, 1e-12, 1e-12, `quantile(cdf(${t})) at df ${df}`);
        if (t > 0) assertClose(studentTQuantile(studentTSf(t, df), df), -t, 1e-12, 1e-12, `quantile(sf(${t})) at df ${df}`);
      }
    }
  });

  test('t approaches the normal as the degrees of freedom grow, and the density integrates to the cdf', () => {
    // The t cdf differs from Φ by O(1/ν): about 1e-10 at ν = 1e9.
    assertClose(studentTCdf(1.3, 1e9), normalCdf(1.3), 1e-9);
    assert.equal(studentTCdf(1.3, Infinity), normalCdf(1.3));
    assertClose(studentTTwoSidedPValue(2.1, 10), 2 * 0.031038622101109265, 1e-13);
    const a = -2;
    const b = 1;
    const steps = 2000;
    const h = (b - a) / steps;
    let s = studentTPdf(a, 4.5) + studentTPdf(b, 4.5);
    for (let i = 1; i < steps; i++) s += (i % 2 === 1 ? 4 : 2) * studentTPdf(a + i * h, 4.5);
    assertClose((s * h) / 3, studentTCdf(b, 4.5) - studentTCdf(a, 4.5), 1e-12);
  });
});

describe('Kolmogorov distribution', () => {
  test('the survival function matches scipy.special.kolmogorov on both sides of the series switch', () => {
    const cases: [number, number][] = [
      [0.05, 1],
      [0.2, 0.999999999999495],
      [0.5, 0.9639452436648751],
      [0.8, 0.5441424115741981],
      [0.99, 0.2808738392255489],
      [1, 0.26999967167735456],
      [1.0001, 0.2698924922564844],
      [1.36, 0.049485876755377876],
      [2, 0.0006709252557796953],
      [3, 3.045995948942526e-8],
      [6, 1.0760372320042276e-31],
    ];
    for (const [x, v] of cases) assertClose(kolmogorovSf(x), v, 1e-14, 0, `kolmogorov(${x})`);
    // scipy.stats.kstwobign.cdf(x).
    const cdf: [number, number][] = [
      [0.2, 5.050407338670114e-13],
      [0.5, 0.036054756335124914],
      [0.8, 0.45585758842580193],
      [1.2, 0.887750333329275],
    ];
    for (const [x, v] of cdf) assertClose(kolmogorovCdf(x), v, 1e-13, 0, `kstwobign.cdf(${x})`);
  });
});
