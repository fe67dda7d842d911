import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlatformError } from '../../../../src/core/index.js';
import {
  continuousArmOf,
  createCategoricalArm,
  evaluateCheck,
  latencyArmOf,
  type ArmSummary,
  type CheckDefinition,
  type CheckEvaluation,
  type RateArm,
} from '../../../../src/rollout/analysis/index.js';
import { createSeededRandom } from '../../../../src/stats/index.js';

const errors: CheckDefinition = { metric: 'errors', kind: 'rate', direction: 'lower-is-better', minimumDetectableEffect: 0.02 };
const rate = (n: number, successes: number): RateArm => ({ kind: 'rate', n, successes });

/** Results must survive JSON unchanged: no Infinity, NaN or undefined anywhere. */
function assertJsonSafe(value: CheckEvaluation): void {
  assert.deepEqual(JSON.parse(JSON.stringify(value)), value);
  JSON.stringify(value, (_k, v: unknown) => {
    assert.ok(v !== undefined && !(typeof v === 'number' && !Number.isFinite(v)), 'non-JSON value in result');
    return v;
  });
}

function lognormalArm(seed: number, n: number, scale: number): ArmSummary {
  const rnd = createSeededRandom(seed);
  return latencyArmOf(Array.from({ length: n }, () => 20 * scale * Math.exp(0.5 * rnd.normal())));
}

describe('evaluateCheck: too little data', () => {
  test('no data at all is InsufficientData, never a failure', () => {
    for (const def of [
      errors,
      { metric: 'latency', kind: 'latency' } as const,
      { metric: 'revenue', kind: 'continuous', direction: 'higher-is-better', tolerance: 1 } as const,
      { metric: 'outputs', kind: 'distribution' } as const,
      { metric: 'shadow', kind: 'disagreement' } as const,
    ]) {
      const r = evaluateCheck(def, null, undefined);
      assert.equal(r.verdict, 'InsufficientData', def.kind);
      assert.equal(r.evidence.nCandidate, 0);
      assertJsonSafe(r);
    }
  });

  test('an arm below its minimum sample is InsufficientData even when the other arm looks terrible', () => {
    const r = evaluateCheck({ ...errors, minimumSample: 200 }, rate(5000, 50), rate(150, 150));
    assert.equal(r.verdict, 'InsufficientData');
    assert.match(r.evidence.reason, /candidate has 150 of the 200/);
    assert.equal(r.evidence.estimates.candidate, 1);
    assert.equal(r.state.looks, 0);
  });
});

describe('evaluateCheck: rates', () => {
  test('an established regression fails with its evidence: n per arm, estimates, interval, statistic, always-valid p', () => {
    const r = evaluateCheck(errors, rate(10000, 100), rate(1000, 60));
    assert.equal(r.verdict, 'Fail');
    const e = r.evidence;
    assert.equal(e.nBaseline, 10000);
    assert.equal(e.nCandidate, 1000);
    assert.deepEqual(e.estimates, { baseline: 0.01, candidate: 0.06 });
    assert.ok(Math.abs((e.difference as number) - 0.05) < 1e-12);
    assert.ok((e.interval?.lower as number) > 0 && (e.interval?.upper as number) > 0.05);
    assert.equal(e.statisticName, 'mSPRT ln Λ');
    assert.ok((e.pValue as number) < 0.05);
    assert.equal(e.threshold, 0);
    assert.equal(e.scale, 'absolute');
    assert.match(e.reason, /regression established/);
    assert.equal(e.fixedHorizon?.test, 'z');
    assert.ok((e.chanceToWin as number) < 0.01);
    assert.ok(Math.abs((e.lift?.estimate as number) - 5) < 1e-12);
    assertJsonSafe(r);
  });

  test('non-inferiority passes once a regression of the minimum detectable effect is excluded', () => {
    const r = evaluateCheck(errors, rate(10000, 100), rate(1500, 14));
    assert.equal(r.verdict, 'Pass');
    assert.ok((r.evidence.interval?.upper as number) < 0.02);
    assert.match(r.evidence.reason, /non-inferiority established/);
  });

  test('a small difference with a tight margin is Inconclusive until more data arrives', () => {
    const r = evaluateCheck({ ...errors, minimumDetectableEffect: 0.005 }, rate(10000, 100), rate(1000, 13));
    assert.equal(r.verdict, 'Inconclusive');
    assert.ok((r.evidence.interval?.lower as number) < 0 && (r.evidence.interval?.upper as number) > 0.005);
  });

  test('a tolerance lets a small established regression pass the Fail bar', () => {
    // Candidate 1.5 pp worse, well measured: fails at tolerance 0, not at tolerance 0.03.
    assert.equal(evaluateCheck(errors, rate(200000, 2000), rate(50000, 1250)).verdict, 'Fail');
    assert.notEqual(evaluateCheck({ ...errors, tolerance: 0.03 }, rate(200000, 2000), rate(50000, 1250)).verdict, 'Fail');
  });

  test('for higher-is-better rates (conversions) a drop is the regression', () => {
    const conversions: CheckDefinition = { metric: 'conversions', kind: 'rate', direction: 'higher-is-better', minimumDetectableEffect: 0.02 };
    assert.equal(evaluateCheck(conversions, rate(10000, 1000), rate(2000, 120)).verdict, 'Fail');
    assert.equal(evaluateCheck(conversions, rate(10000, 1000), rate(2000, 280)).verdict, 'Pass');
    assert.ok((evaluateCheck(conversions, rate(10000, 1000), rate(2000, 280)).evidence.chanceToWin as number) > 0.99);
  });

  test('relative checks compare the lift and refuse to divide by a zero baseline', () => {
    const rel: CheckDefinition = { metric: 'errors', kind: 'rate', direction: 'lower-is-better', relative: true, minimumDetectableEffect: 0.5 };
    const r = evaluateCheck(rel, rate(10000, 100), rate(1000, 30));
    assert.equal(r.evidence.scale, 'relative');
    assert.ok(Math.abs((r.evidence.difference as number) - 2) < 1e-12);
    assert.equal(r.verdict, 'Fail');
    const zero = evaluateCheck(rel, rate(10000, 0), rate(1000, 3));
    assert.equal(zero.verdict, 'Inconclusive');
    assert.match(zero.evidence.reason, /baseline mean is 0, not positive/);
  });

  test('arms with no events yet are judged with a non-zero variance', () => {
    const r = evaluateCheck(errors, rate(5000, 0), rate(600, 0));
    assert.equal(r.verdict, 'Pass');
    assert.ok((r.evidence.interval?.upper as number) > 0);
    assertJsonSafe(r);
  });

  test('with tolerance 0 a Fail coincides with the always-valid p-value reaching α', () => {
    for (let x = 10; x <= 40; x += 2) {
      const r = evaluateCheck({ ...errors, minimumSample: 10 }, rate(10000, 100), rate(1000, x));
      assert.equal(r.verdict === 'Fail', (r.evidence.pValue as number) <= 0.05, `x = ${x}`);
    }
  });

  test('the confidence-sequence method gives the same kind of verdicts', () => {
    const cs: CheckDefinition = { metric: 'errors', kind: 'rate', direction: 'lower-is-better', method: 'confidence-sequence', nonInferiorityMargin: 0.02 };
    const fail = evaluateCheck(cs, rate(10000, 100), rate(1000, 60));
    assert.equal(fail.verdict, 'Fail');
    assert.equal(fail.evidence.statisticName, 'confidence sequence ln e');
    assert.equal(evaluateCheck(cs, rate(10000, 100), rate(1500, 14)).verdict, 'Pass');
  });

  test('malformed arm data is refused with ROLLOUT_ANALYSIS_INVALID_DATA', () => {
    const isData = (e: unknown): boolean => e instanceof PlatformError && e.code === 'ROLLOUT_ANALYSIS_INVALID_DATA';
    assert.throws(() => evaluateCheck(errors, rate(10, 11), rate(10, 1)), isData);
    assert.throws(() => evaluateCheck(errors, rate(10.5, 1), rate(10, 1)), isData);
    assert.throws(() => evaluateCheck(errors, continuousArmOf([1, 2]), rate(10, 1)), isData);
  });
});

describe('evaluateCheck: state across looks', () => {
  test('the always-valid p-value is the running minimum, carried in the state', () => {
    const def = { ...errors, minimumSample: 10 };
    const first = evaluateCheck(def, rate(5000, 50), rate(500, 25));
    const second = evaluateCheck(def, rate(10000, 100), rate(1000, 14), first.state);
    assert.equal(second.state.looks, 2);
    assert.equal(second.state.maxLogEvidence, first.state.maxLogEvidence);
    assert.equal(second.evidence.pValue, first.evidence.pValue);
    // Without the history the second look alone has much weaker evidence.
    assert.ok((evaluateCheck(def, rate(10000, 100), rate(1000, 14)).evidence.pValue as number) > (second.evidence.pValue as number));
    assert.deepEqual(JSON.parse(JSON.stringify(second.state)), second.state);
  });

  test('evidence is discarded when the check’s parameters change or its data shrinks', () => {
    const first = evaluateCheck(errors, rate(5000, 50), rate(500, 25));
    const changed = evaluateCheck({ ...errors, minimumDetectableEffect: 0.01 }, rate(10000, 100), rate(1000, 14), first.state);
    assert.equal(changed.state.looks, 1);
    assert.match(changed.evidence.reason, /parameters changed/);
    const shrunk = evaluateCheck(errors, rate(1000, 10), rate(200, 2), first.state);
    assert.equal(shrunk.state.looks, 1);
    assert.match(shrunk.evidence.reason, /fewer observations/);
  });

  test('the same inputs give the same result', () => {
    const a = evaluateCheck(errors, rate(10000, 100), rate(1000, 60));
    const b = evaluateCheck(errors, rate(10000, 100), rate(1000, 60));
    assert.deepEqual(a, b);
  });
});

describe('evaluateCheck: latency and continuous outcomes', () => {
  test('latency compares mean log latency and reports the ratio of geometric means with p50/p99', () => {
    const def: CheckDefinition = { metric: 'latency', kind: 'latency' };
    const slow = evaluateCheck(def, lognormalArm(1, 3000, 1), lognormalArm(2, 400, 1.5));
    assert.equal(slow.verdict, 'Fail');
    assert.equal(slow.evidence.scale, 'ratio');
    assert.ok(Math.abs((slow.evidence.difference as number) - 0.5) < 0.1, `ratio − 1 = ${slow.evidence.difference}`);
    assert.ok((slow.evidence.estimates.baseline as number) > 18 && (slow.evidence.estimates.baseline as number) < 22);
    const q = slow.evidence.quantiles;
    assert.ok(q !== null && (q.candidate.p99 as number) > (q.baseline.p99 as number) && (q.baseline.p50 as number) > 15);
    assert.equal(slow.evidence.fixedHorizon?.test, 'welch-t');
    assertJsonSafe(slow);
    assert.equal(evaluateCheck(def, lognormalArm(3, 3000, 1), lognormalArm(4, 3000, 1)).verdict, 'Pass');
  });

  test('a continuous outcome where higher is better fails on a drop and passes within its margin', () => {
    const rnd = createSeededRandom(17);
    const revenue = (mean: number, n: number): ArmSummary => continuousArmOf(Array.from({ length: n }, () => mean + 4 * rnd.normal()));
    const def: CheckDefinition = { metric: 'revenue', kind: 'continuous', direction: 'higher-is-better', minimumDetectableEffect: 0.5 };
    assert.equal(evaluateCheck(def, revenue(10, 5000), revenue(8, 800)).verdict, 'Fail');
    assert.equal(evaluateCheck(def, revenue(10, 20000), revenue(10, 8000)).verdict, 'Pass');
    const constant = evaluateCheck(def, continuousArmOf(Array(200).fill(3)), continuousArmOf(Array(200).fill(3)));
    assert.equal(constant.verdict, 'Inconclusive');
    assert.match(constant.evidence.reason, /zero variance/);
  });
});

describe('evaluateCheck: shadow disagreement and output distributions', () => {
  const shadow: CheckDefinition = { metric: 'shadow', kind: 'disagreement', tolerance: 0.05 };

  test('disagreement is judged on its always-valid beta-binomial interval against the tolerance', () => {
    assert.equal(evaluateCheck(shadow, null, rate(500, 2)).verdict, 'Pass');
    const fail = evaluateCheck(shadow, null, rate(500, 60));
    assert.equal(fail.verdict, 'Fail');
    assert.ok((fail.evidence.interval?.lower as number) > 0.05);
    assert.equal(evaluateCheck(shadow, null, rate(500, 24)).verdict, 'Inconclusive');
    assertJsonSafe(fail);
  });

  test('output histograms pass below the Jensen–Shannon threshold and fail above it only when the difference is not noise', () => {
    const def: CheckDefinition = { metric: 'outputs', kind: 'distribution' };
    const same = evaluateCheck(def, { kind: 'histogram', counts: [500, 300, 200] }, { kind: 'histogram', counts: [260, 140, 100] });
    assert.equal(same.verdict, 'Pass');
    const shifted = evaluateCheck(def, { kind: 'histogram', counts: [500, 300, 200] }, { kind: 'histogram', counts: [100, 300, 600] });
    assert.equal(shifted.verdict, 'Fail');
    assert.equal(shifted.evidence.statisticName, 'Jensen–Shannon distance (base 2)');
    assert.equal(shifted.evidence.fixedHorizon?.test, 'chi-square-homogeneity');
    // 100 draws per arm from the same 20 categories: the distance is inflated by noise, the chi-square test says so.
    const rnd = createSeededRandom(1);
    const a = createCategoricalArm(20);
    const b = createCategoricalArm(20);
    for (let i = 0; i < 100; i++) {
      a.add(rnd.int(20));
      b.add(rnd.int(20));
    }
    const noisy = evaluateCheck(def, a.summary(), b.summary());
    assert.ok((noisy.evidence.difference as number) >= 0.1, `distance ${noisy.evidence.difference}`);
    assert.equal(noisy.verdict, 'Inconclusive');
    assert.throws(() => evaluateCheck(def, { kind: 'histogram', counts: Array(3).fill(100) }, { kind: 'histogram', counts: Array(4).fill(100) }), /same bins/);
  });
});
