import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlatformError } from '../../../../src/core/index.js';
import {
  ANALYSIS_VERDICT_ORDER,
  analyse,
  checkSampleRatio,
  compileChecks,
  evaluateCheck,
  latencyArmOf,
  worstVerdict,
  type AnalysisInput,
  type CheckDefinition,
  type RateArm,
} from '../../../../src/rollout/analysis/index.js';

const rate = (n: number, successes: number): RateArm => ({ kind: 'rate', n, successes });
const errors: CheckDefinition = { metric: 'errors', kind: 'rate', direction: 'lower-is-better', minimumDetectableEffect: 0.02 };
const latency: CheckDefinition = { metric: 'latency', kind: 'latency' };
const shadow: CheckDefinition = { metric: 'shadow', kind: 'disagreement' };
const steady = (n: number, scale = 1): ReturnType<typeof latencyArmOf> =>
  latencyArmOf(Array.from({ length: n }, (_, i) => scale * (15 + ((i * 7919) % 100) / 10)));

describe('worst-wins order', () => {
  test('is Fail, SampleRatioMismatch, InsufficientData, Inconclusive, Pass', () => {
    assert.deepEqual(ANALYSIS_VERDICT_ORDER, ['Fail', 'SampleRatioMismatch', 'InsufficientData', 'Inconclusive', 'Pass']);
    assert.equal(worstVerdict(['Pass', 'Inconclusive', 'Fail', 'InsufficientData']), 'Fail');
    assert.equal(worstVerdict(['Pass', 'Inconclusive', 'InsufficientData']), 'InsufficientData');
    assert.equal(worstVerdict(['Pass', 'SampleRatioMismatch', 'InsufficientData']), 'SampleRatioMismatch');
    assert.equal(worstVerdict(['Pass', 'Inconclusive']), 'Inconclusive');
    assert.equal(worstVerdict([]), 'Pass');
  });

  test('a single failing check fails the analysis and the reason names it', () => {
    const r = analyse([errors, latency], { metrics: { errors: { baseline: rate(10000, 100), candidate: rate(1000, 80) }, latency: { baseline: steady(3000), candidate: steady(500) } } });
    assert.equal(r.verdict, 'Fail');
    assert.match(r.reason, /^failed: errors/);
    assert.deepEqual(
      r.checks.map((c) => [c.name, c.verdict]),
      [
        ['errors', 'Fail'],
        ['latency', 'Pass'],
      ],
    );
  });

  test('the analysis passes only when every check passes; missing data holds it at InsufficientData', () => {
    const input: AnalysisInput = { metrics: { errors: { baseline: rate(10000, 100), candidate: rate(2000, 19) }, latency: { baseline: steady(3000), candidate: steady(2000) } } };
    assert.equal(analyse([errors, latency], input).verdict, 'Pass');
    const withShadow = analyse([errors, latency, shadow], input);
    assert.equal(withShadow.verdict, 'InsufficientData');
    assert.match(withShadow.reason, /waiting for data: shadow/);
  });
});

describe('sample-ratio mismatch', () => {
  test('the chi-square test flags a 10 % canary that received 11.5 % of traffic, and the analysis stops on it', () => {
    const srm = checkSampleRatio({ arms: ['stable', 'canary'], counts: [8850, 1150], weights: [90, 10] });
    assert.equal(srm.flagged, true);
    assert.ok(Math.abs((srm.statistic as number) - 25) < 1e-12);
    assert.deepEqual(srm.expected, [9000, 1000]);
    const input: AnalysisInput = {
      metrics: { errors: { baseline: rate(8850, 88), candidate: rate(1150, 11) } },
      traffic: { arms: ['stable', 'canary'], counts: [8850, 1150], weights: [90, 10] },
    };
    const r = analyse([errors], input);
    assert.equal(r.verdict, 'SampleRatioMismatch');
    assert.match(r.reason, /8850\/1150/);
  });

  test('a split within chance is not flagged, and a Fail still wins over a mismatch', () => {
    assert.equal(checkSampleRatio({ counts: [9050, 950], weights: [0.9, 0.1] }).flagged, false);
    const r = analyse([errors], { metrics: { errors: { baseline: rate(8850, 88), candidate: rate(1150, 120) } }, traffic: { counts: [8850, 1150], weights: [90, 10] } });
    assert.equal(r.verdict, 'Fail');
    assert.equal(r.sampleRatio?.flagged, true);
  });
});

describe('multiple testing and state', () => {
  test('α is split across the checks by Bonferroni unless switched off, and familySize widens the family for k variants', () => {
    const input: AnalysisInput = { metrics: { errors: { baseline: rate(10000, 100), candidate: rate(1000, 20) }, latency: { baseline: steady(3000), candidate: steady(500) } } };
    const split = analyse([errors, latency], input);
    assert.deepEqual(
      split.checks.map((c) => c.evidence.alpha),
      [0.025, 0.025],
    );
    assert.deepEqual(split.multipleTesting, { method: 'bonferroni', familySize: 2 });
    assert.equal(analyse([errors, latency], input, null, { multipleTesting: 'none' }).checks[0]?.evidence.alpha, 0.05);
    assert.equal(analyse([errors, latency], input, null, { familySize: 6 }).checks[1]?.evidence.alpha, 0.05 / 6);
    assert.throws(() => analyse([errors, latency], input, null, { familySize: 1 }), (e: unknown) => e instanceof PlatformError && e.code === 'ROLLOUT_ANALYSIS_INVALID_CHECK');
    // The split is what the single-check evaluator sees at α/2.
    const single = evaluateCheck(errors, rate(10000, 100), rate(1000, 20), null, { alpha: 0.025 });
    assert.deepEqual(split.checks[0]?.evidence, single.evidence);
  });

  test('state persists across looks as JSON, keyed by check name, and results are plain JSON', () => {
    const checks = compileChecks([errors, latency]);
    let state = null;
    for (let look = 1; look <= 3; look++) {
      const r = analyse(checks, { metrics: { errors: { baseline: rate(3000 * look, 30 * look), candidate: rate(300 * look, 3 * look) }, latency: { baseline: steady(3000 * look), candidate: steady(300 * look) } } }, state);
      assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
      state = JSON.parse(JSON.stringify(r.state)) as typeof r.state;
    }
    assert.equal(state?.checks.errors?.looks, 3);
    assert.equal(state?.checks.latency?.looks, 3);
  });

  test('definitions are validated as a whole', () => {
    assert.throws(
      () => analyse([{ metric: 'errors', kind: 'rate' }], { metrics: {} }),
      (e: unknown) => e instanceof PlatformError && e.code === 'ROLLOUT_ANALYSIS_INVALID_CHECK' && /checks\[0\]\.direction/.test(e.message),
    );
  });
});
