import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { erf, erfc, normalCdf, normalIsf, normalPdf, normalQuantile, normalSf, normalTwoSidedPValue } from '../../../src/stats/index.js';
import { assertClose } from './assert-close.js';

describe('standard normal', () => {
  test('the cdf matches scipy.special.ndtr to 1e-12 relative, deep into the lower tail', () => {
    // scipy.special.ndtr(x); for x = -30, mpmath.ncdf(-30) at 40 digits (scipy itself is off by 6e-14 there).
    const cases: [number, number][] = [
      [-37.5, 4.605353009581954e-308],
      [-30, 4.906713927148187e-198],
      [-20, 2.7536241186061556e-89],
      [-10, 7.61985302416047e-24],
      [-8.3, 5.2055697448902465e-17],
      [-5, 2.866515718791933e-7],
      [-3, 0.0013498980316300933],
      [-1.5, 0.06680720126885807],
      [-0.5, 0.3085375387259869],
      [0, 0.5],
      [0.3, 0.6179114221889526],
      [1.96, 0.9750021048517795],
      [5, 0.9999997133484281],
    ];
    for (const [x, p] of cases) assertClose(normalCdf(x), p, 1e-12, 0, `ndtr(${x})`);
  });

  test('the survival function is the mirrored cdf and keeps relative accuracy in the upper tail', () => {
    // scipy.special.ndtr(-x) = P(Z > x).
    assertClose(normalSf(10), 7.61985302416047e-24, 1e-12);
    assertClose(normalSf(5), 2.866515718791933e-7, 1e-12);
    assertClose(normalTwoSidedPValue(-1.959963984540054), 0.05, 1e-12);
    for (let x = -8; x <= 8; x += 0.37) assertClose(normalCdf(x) + normalSf(x), 1, 1e-15, 0, `Φ+Q at ${x}`);
  });

  test('erf and erfc match scipy.special to 1e-15 relative on both sides of Cody’s interval breaks', () => {
    // scipy.special.erfc(x) / scipy.special.erf(x).
    const erfcCases: [number, number][] = [
      [-3, 1.9999779095030015],
      [-0.3, 1.3286267594591274],
      [0, 1],
      [0.2, 0.7772974107895215],
      [0.46875, 0.507386526782062],
      [0.5, 0.4795001221869535],
      [1, 0.15729920705028516],
      [2.5, 0.00040695201744495886],
      [4, 1.541725790028002e-8],
      [4.5, 1.9661604415428878e-10],
      [10, 2.0884875837625446e-45],
      [26, 5.663192408856145e-296],
    ];
    for (const [x, v] of erfcCases) assertClose(erfc(x), v, 1e-15, 0, `erfc(${x})`);
    const erfCases: [number, number][] = [
      [-2, -0.9953222650189527],
      [-0.4, -0.42839235504666845],
      [1e-10, 1.1283791670955126e-10],
      [0.1, 0.1124629160182849],
      [0.46, 0.4846553900016797],
      [0.47, 0.49374505088608206],
      [1, 0.8427007929497148],
      [3.9, 0.9999999652077514],
      [5, 0.9999999999984626],
    ];
    for (const [x, v] of erfCases) assertClose(erf(x), v, 1e-15, 0, `erf(${x})`);
  });

  test('the quantile matches scipy.special.ndtri (AS 241) to 1e-15 relative from 1e-300 to 1 − 1e-10', () => {
    const cases: [number, number][] = [
      [1e-300, -37.0470962993612],
      [1e-100, -21.273453560965322],
      [1e-20, -9.262340089798409],
      [1e-10, -6.361340902404056],
      [1e-5, -4.264890793922825],
      [0.001, -3.090232306167813],
      [0.025, -1.9599639845400545],
      [0.075, -1.4395314709384563],
      [0.3, -0.5244005127080409],
      [0.5, 0],
      [0.6, 0.2533471031357997],
      [0.925, 1.4395314709384563],
      [0.975, 1.959963984540054],
      [0.999, 3.090232306167813],
      [0.9999999999, 6.361340889697422],
    ];
    for (const [p, z] of cases) assertClose(normalQuantile(p), z, 1e-15, 1e-16, `ndtri(${p})`);
    assert.equal(normalQuantile(0), -Infinity);
    assert.equal(normalQuantile(1), Infinity);
    assert.ok(Number.isNaN(normalQuantile(1.5)));
    assertClose(normalIsf(1e-20), 9.262340089798409, 1e-15);
  });

  test('the cdf is monotone and the quantile inverts it', () => {
    let previous = 0;
    for (let x = -37; x <= 8; x += 0.25) {
      const p = normalCdf(x);
      assert.ok(p >= previous, `cdf decreased at ${x}`);
      previous = p;
      // Below the median the cdf is representable to full relative precision, so the round trip is tight.
      if (x < 0) assertClose(normalQuantile(p), x, 1e-13, 1e-13, `quantile(cdf(${x}))`);
    }
    for (let p = 0.001; p < 1; p += 0.0173) assertClose(normalCdf(normalQuantile(p)), p, 1e-14, 0, `cdf(quantile(${p}))`);
  });

  test('the density integrates to the cdf', () => {
    // Simpson's rule of φ over [-1, 1.5] equals Φ(1.5) − Φ(−1).
    const a = -1;
    const b = 1.5;
    const steps = 1000;
    const h = (b - a) / steps;
    let s = normalPdf(a) + normalPdf(b);
    for (let i = 1; i < steps; i++) s += (i % 2 === 1 ? 4 : 2) * normalPdf(a + i * h);
    assertClose((s * h) / 3, normalCdf(b) - normalCdf(a), 1e-12);
  });
});
