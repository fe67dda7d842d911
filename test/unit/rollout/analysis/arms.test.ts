import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  armSize,
  createCategoricalArm,
  createContinuousArm,
  createHistogramArm,
  createLatencyArm,
  createRateArm,
  LATENCY_FLOOR_MS,
  mergeArms,
} from '../../../../src/rollout/analysis/index.js';

describe('arm accumulators', () => {
  test('a rate arm counts trials and successes, and resumes from a stored summary', () => {
    const a = createRateArm();
    [true, false, false, true].forEach((s) => a.add(s));
    a.addCounts(10, 1);
    assert.deepEqual(a.summary(), { kind: 'rate', n: 14, successes: 3 });
    const resumed = createRateArm(a.summary());
    resumed.add(true);
    assert.deepEqual(resumed.summary(), { kind: 'rate', n: 15, successes: 4 });
    assert.throws(() => a.addCounts(2, 3), /successes/);
  });

  test('a latency arm keeps Welford moments of ln(ms) and a sketch for p50/p99', () => {
    const arm = createLatencyArm();
    [10, 20, 40].forEach((ms) => arm.add(ms));
    const s = arm.summary();
    assert.equal(s.n, 3);
    assert.ok(Math.abs(Math.exp(s.logMean) - 20) < 1e-12, 'geometric mean of 10, 20, 40 is 20');
    assert.equal(s.sketch?.count, 3);
    const zero = createLatencyArm({ sketch: false });
    zero.add(0);
    assert.equal(zero.summary().logMean, Math.log(LATENCY_FLOOR_MS));
    assert.equal(zero.summary().sketch, null);
    assert.throws(() => arm.add(-1), /ms ≥ 0/);
  });

  test('histogram arms bin by fixed edges with open ends; categorical arms count labels', () => {
    const h = createHistogramArm([0.25, 0.5, 0.75]);
    [-1, 0.1, 0.25, 0.6, 0.75, 2].forEach((v) => h.add(v));
    assert.deepEqual(h.summary().counts, [2, 1, 1, 2]);
    const c = createCategoricalArm(3);
    [0, 2, 2].forEach((i) => c.add(i));
    assert.deepEqual(c.summary().counts, [1, 0, 2]);
    assert.throws(() => c.add(3), /category/);
    assert.throws(() => createHistogramArm([1, 1]), /strictly increasing/);
  });

  test('merging summaries equals accumulating the pooled observations', () => {
    const x = createContinuousArm();
    const y = createContinuousArm();
    const all = createContinuousArm();
    for (let i = 0; i < 50; i++) {
      const v = Math.sin(i) * 10;
      (i < 20 ? x : y).add(v);
      all.add(v);
    }
    const merged = mergeArms(x.summary(), y.summary());
    assert.equal(merged.n, 50);
    assert.ok(Math.abs(merged.mean - all.summary().mean) < 1e-12);
    assert.ok(Math.abs(merged.m2 - all.summary().m2) < 1e-9);
    const l1 = createLatencyArm();
    const l2 = createLatencyArm();
    [5, 6].forEach((v) => l1.add(v));
    [7, 8, 9].forEach((v) => l2.add(v));
    const ml = mergeArms(l1.summary(), l2.summary());
    assert.equal(ml.n, 5);
    assert.equal(ml.sketch?.count, 5);
    assert.equal(armSize(mergeArms({ kind: 'histogram', counts: [1, 2] }, { kind: 'histogram', counts: [3, 4] })), 10);
  });
});
