import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chiSquareGoodnessOfFit, chiSquareHomogeneity, welchTTest, zTest } from '../../../src/stats/index.js';
import { assertClose } from './assert-close.js';

describe('fixed-horizon tests', () => {
  test('Welch’s t test matches scipy.stats.ttest_ind_from_stats(equal_var=False)', () => {
    const r = welchTTest({ n: 30, mean: 10, variance: 4 }, { n: 25, mean: 11.2, variance: 12.25 });
    // scipy reports a − b: t = −1.5199…; ours is b − a.
    assertClose(r.statistic, 1.5199211913146957, 1e-13);
    assertClose(r.pValue, 0.137124395433114, 1e-12);
    assertClose(r.degreesOfFreedom, 36.59577692873285, 1e-14);
    // 1.2 ∓ scipy.stats.t.ppf(0.975, ν)·SE.
    assertClose(r.interval.lower, -0.40030522339410113, 1e-12);
    assertClose(r.interval.upper, 2.8003052233941013, 1e-12);
    assert.throws(() => welchTTest({ n: 1, mean: 0, variance: 1 }, { n: 5, mean: 0, variance: 1 }), /at least 2/);
  });

  test('the z test gives the textbook two-sided p-value', () => {
    const r = zTest(1.959963984540054, 1);
    assertClose(r.pValue, 0.05, 1e-12);
    assertClose(r.interval.lower, 0, 1e-12, 1e-12);
  });

  test('Pearson goodness of fit matches scipy.stats.chisquare', () => {
    const a = chiSquareGoodnessOfFit([9050, 950], [0.9, 0.1]);
    assertClose(a.statistic, 2.7777777777777777, 1e-14);
    assertClose(a.pValue, 0.09558070454562936, 1e-13);
    const b = chiSquareGoodnessOfFit([8850, 1150], [90, 10]);
    assertClose(b.statistic, 25, 1e-14);
    assertClose(b.pValue, 5.733031437583875e-7, 1e-12);
    const c = chiSquareGoodnessOfFit([3300, 3350, 3350], [1, 1, 1]);
    assert.equal(c.degreesOfFreedom, 2);
    assertClose(c.pValue, 0.7788007830714049, 1e-13);
    // Traffic routed to an arm with zero weight is an infinite mismatch.
    assert.equal(chiSquareGoodnessOfFit([10, 1], [1, 0]).pValue, 0);
    assert.equal(chiSquareGoodnessOfFit([0, 0], [1, 1]).pValue, 1);
  });

  test('the homogeneity test matches scipy.stats.chi2_contingency(correction=False) and drops bins empty in both', () => {
    const r = chiSquareHomogeneity([30, 50, 20, 0, 0], [40, 40, 15, 5, 0]);
    assertClose(r.statistic, 8.253968253968253, 1e-13);
    assert.equal(r.degreesOfFreedom, 3);
    assertClose(r.pValue, 0.041044438068105454, 1e-12);
    assert.equal(chiSquareHomogeneity([5, 0], [7, 0]).pValue, 1);
  });
});
