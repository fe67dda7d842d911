import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  asymptoticCsHalfWidth,
  asymptoticCsLogEValue,
  asymptoticCsRho,
  betaBinomialConfidenceSequence,
  betaBinomialLogMixture,
  createSeededRandom,
  msprtHalfWidth,
  msprtInterval,
  msprtLogLambda,
  normalIsf,
  pValueFromLogEvidence,
} from '../../../src/stats/index.js';
import { assertClose } from './assert-close.js';

describe('normal-mixture mSPRT', () => {
  test('Λ and the interval half-width match Johari et al.’s formulas evaluated in numpy', () => {
    // 0.5·ln(V/(V+τ)) + τΔ²/(2V(V+τ)) and √(V(V+τ)/τ · (−2 ln α + ln((V+τ)/V))) with V = 2.5e-5, τ = 4e-4, Δ = 0.012.
    assertClose(msprtLogLambda(0.012, 2.5e-5, 4e-4), 1.2939815632660094, 1e-14);
    assertClose(msprtHalfWidth(2.5e-5, 4e-4, 0.05), 0.015310307197572785, 1e-14);
    assertClose(pValueFromLogEvidence(1.2939815632660094), Math.exp(-1.2939815632660094), 1e-15);
    assert.equal(pValueFromLogEvidence(-3), 1);
  });

  test('the interval is exactly the set of effects the test does not reject', () => {
    for (const [d, v, tau] of [
      [0.03, 1e-4, 4e-4],
      [-2, 0.3, 1],
      [0, 5e-6, 1e-6],
    ] as const) {
      const { lower, upper } = msprtInterval(d, v, tau, 0.05);
      assertClose(msprtLogLambda(d, v, tau, lower), -Math.log(0.05), 1e-10, 1e-12, 'at the lower bound');
      assertClose(msprtLogLambda(d, v, tau, upper), -Math.log(0.05), 1e-10, 1e-12, 'at the upper bound');
      assert.ok(msprtLogLambda(d, v, tau, d) < -Math.log(0.05));
    }
  });

  test('it is wider than the fixed-horizon interval, and keeps its error rate under continuous monitoring where the z test does not', () => {
    assert.ok(msprtHalfWidth(1e-4, 1e-4, 0.05) > normalIsf(0.025) * Math.sqrt(1e-4));
    // 300 A/A streams of N(0, 1) per arm, looked at every 20 pairs up to 2,000.
    const rnd = createSeededRandom(42);
    let msprtRejections = 0;
    let naiveRejections = 0;
    for (let run = 0; run < 300; run++) {
      let sa = 0;
      let sb = 0;
      let msprtRejected = false;
      let naiveRejected = false;
      for (let n = 1; n <= 2000; n++) {
        sa += rnd.normal();
        sb += rnd.normal();
        if (n % 20 !== 0) continue;
        const v = 2 / n;
        const d = (sb - sa) / n;
        if (msprtLogLambda(d, v, 0.01) >= -Math.log(0.05)) msprtRejected = true;
        if (Math.abs(d / Math.sqrt(v)) > 1.959963984540054) naiveRejected = true;
      }
      if (msprtRejected) msprtRejections++;
      if (naiveRejected) naiveRejections++;
    }
    assert.ok(msprtRejections / 300 <= 0.07, `mSPRT false rejections ${msprtRejections / 300}`);
    assert.ok(naiveRejections / 300 > 0.15, `peeking z test false rejections ${naiveRejections / 300}`);
  });
});

describe('asymptotic confidence sequence (GrowthBook)', () => {
  test('ρ, half-width and p-value match GrowthBook’s gbstats formulas evaluated in numpy', () => {
    // sequential_rho(0.05, 5000); sequential_interval_halfwidth(s2 = V·N, N = 3000, 5000, 0.05) with V = 2.5e-5;
    // the two-sided p-value 1/e for Δ = 0.012.
    assertClose(asymptoticCsRho(0.05, 5000), 0.03984006677137368, 1e-14);
    assertClose(asymptoticCsHalfWidth(2.5e-5, 3000, 0.05, 5000), 0.01530419418252452, 1e-13);
    assertClose(pValueFromLogEvidence(asymptoticCsLogEValue(0.012, 2.5e-5, 3000, 0.05, 5000)), 0.2221213908189183, 1e-13);
  });

  test('it is tightest relative to the fixed-horizon width near the tuning sample size', () => {
    const ratio = (n: number): number => asymptoticCsHalfWidth(1 / n, n, 0.05, 5000) / (normalIsf(0.025) * Math.sqrt(1 / n));
    assert.ok(ratio(5000) < ratio(100));
    assert.ok(ratio(5000) < ratio(1e6));
  });
});

describe('beta-binomial confidence sequence', () => {
  test('its bounds are where the mixture martingale reaches 1/α', () => {
    const { lower, upper } = betaBinomialConfidenceSequence(7, 400, 0.05);
    assert.ok(lower < 7 / 400 && 7 / 400 < upper);
    assertClose(betaBinomialLogMixture(7, 400, lower), -Math.log(0.05), 1e-9);
    assertClose(betaBinomialLogMixture(7, 400, upper), -Math.log(0.05), 1e-9);
    assert.deepEqual(betaBinomialConfidenceSequence(0, 0, 0.05), { lower: 0, upper: 1 });
    assert.equal(betaBinomialConfidenceSequence(0, 300, 0.05).lower, 0);
  });

  test('it covers the true rate at every look in at least 1 − α of runs', () => {
    const rnd = createSeededRandom(8);
    let missed = 0;
    for (let run = 0; run < 300; run++) {
      let x = 0;
      for (let n = 1; n <= 2000; n++) {
        if (rnd.next() < 0.05) x++;
        if (n % 50 !== 0) continue;
        const { lower, upper } = betaBinomialConfidenceSequence(x, n, 0.05);
        if (lower > 0.05 || upper < 0.05) {
          missed++;
          break;
        }
      }
    }
    assert.ok(missed / 300 <= 0.05, `miscoverage ${missed / 300}`);
  });
});
