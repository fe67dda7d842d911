import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFakeClock, type Tensor } from '../../../../src/core/index.js';
import { checkDrift, createDriftMonitor, createDriftWindow, evaluatePerformance, performanceTest } from '../../../../src/monitoring/drift/index.js';
import type { ClassificationPerformanceState, RegressionPerformanceState } from '../../../../src/monitoring/drift/index.js';
import type { ReferenceProfile } from '../../../../src/monitoring/profiles/index.js';
import { createMemoryDriftResultStore } from '../../../../src/storage/index.js';
import { createSeededRandom } from '../../../../src/stats/index.js';
import { makeProfile, normals, numericProfile } from './fixtures.js';

const regression = (errors: readonly number[]): RegressionPerformanceState => ({
  task: 'regression',
  labels: errors.length,
  sumError: errors.reduce((a, b) => a + b, 0),
  sumAbsError: errors.reduce((a, b) => a + Math.abs(b), 0),
  sumSquaredError: errors.reduce((a, b) => a + b * b, 0),
});
const classification = (labels: number, correct: number): ClassificationPerformanceState => ({ task: 'classification', labels, correct, classes: {} });

describe('performance drift against the profile', () => {
  test('the accuracy test is the pooled one-sided two-proportion z-test (checked by hand)', () => {
    // reference 900/1000, live 160/200: pooled p = 1060/1200, se = sqrt(p(1-p)(1/1000+1/200)), z = 0.1/se
    const t = performanceTest(classification(200, 160), classification(1000, 900), 'accuracy');
    const pooled = 1060 / 1200;
    const z = 0.1 / Math.sqrt(pooled * (1 - pooled) * (1 / 1000 + 1 / 200));
    assert.equal(t?.test, 'two-proportion-z');
    assert.ok(Math.abs(z - 4.0215) < 1e-3, `z ${z}`);
    // upper tail of the standard normal at 4.0215 (tables: 2.89e-5)
    assert.ok(Math.abs((t?.pValue ?? 1) - 2.89e-5) < 0.01e-5, `p ${t?.pValue}`);
  });

  test('the MAE test is Welch z on the absolute errors, whose variance comes from the squared errors', () => {
    const ref = regression([1, -1, 2, -2, 1, -1, 2, -2]); // |e| mean 1.5, sample var 0.2857
    const live = regression([3, -3, 4, -4, 3, -3, 4, -4]); // |e| mean 3.5, the same var
    const t = performanceTest(live, ref, 'mae');
    const se = Math.sqrt((2 * (2 / 7)) / 8);
    const z = 2 / se; // 7.483
    assert.equal(t?.test, 'welch-z');
    assert.ok(Math.abs(z - 7.483) < 1e-3);
    // upper tail at 7.483: 3.6e-14
    assert.ok((t?.pValue ?? 1) > 3e-14 && (t?.pValue ?? 1) < 4.5e-14, `p ${t?.pValue}`);
    assert.ok(Math.abs((performanceTest(ref, live, 'mae')?.pValue ?? 0) - 1) < 1e-12, 'the other direction is not worse');
    assert.equal(performanceTest(live, ref, 'rmse'), null, 'RMSE has no test');
  });

  test('degraded needs both a significant test and a relative worsening beyond the tolerance', () => {
    const baseline = classification(1000, 900);
    const worse = evaluatePerformance(classification(1000, 800), { metric: undefined, reference: undefined, tolerance: undefined, baseline });
    assert.equal(worse.degraded, true);
    assert.equal(worse.reference, 0.9);
    assert.ok(Math.abs((worse.relativeChange ?? 0) - 0.1 / 0.9) < 1e-12);
    // significant but small: 0.9 → 0.88 on 100,000 labels is 2.2 % worse, under the 10 % tolerance
    const small = evaluatePerformance(classification(100_000, 88_000), { metric: undefined, reference: undefined, tolerance: undefined, baseline });
    assert.ok((small.pValue ?? 1) < 0.05);
    assert.equal(small.degraded, false);
    // large but not significant: 20 labels
    const few = evaluatePerformance(classification(120, 96), { metric: undefined, reference: undefined, tolerance: undefined, baseline, minLabels: 100 });
    assert.equal(few.degraded, few.pValue !== null && few.pValue < 0.05);
    const tooFew = evaluatePerformance(classification(20, 10), { metric: undefined, reference: undefined, tolerance: undefined, baseline });
    assert.equal(tooFew.degraded, null, 'fewer labels than minRows are not judged');
    const noReference = evaluatePerformance(classification(1000, 500), { metric: undefined, reference: undefined, tolerance: undefined });
    assert.equal(noReference.degraded, null);
  });

  test('a profile with performance turns a worse window into a drift report', () => {
    const random = createSeededRandom(3);
    const base = makeProfile([{ ...numericProfile('a', normals(2000, random)), input: 'x', column: 0 }], numericProfile('prediction', normals(2000, random)));
    const profile: ReferenceProfile = { ...base, performance: regression(Array.from({ length: 500 }, (_, i) => (i % 2 === 0 ? 1 : -1))) };
    const window = createDriftWindow({ profile, clock: createFakeClock(0) });
    const a = normals(500, random);
    const p = normals(500, random);
    for (let i = 0; i < 500; i++) {
      window.add([a[i] ?? 0], p[i] ?? 0);
      window.addLabel(p[i] ?? 0, (p[i] ?? 0) + (i % 2 === 0 ? 3 : -3));
    }
    const report = checkDrift(profile, window.snapshot());
    assert.equal(report.dataset.drifted, false);
    assert.equal(report.performance?.metric, 'mae');
    assert.equal(report.performance?.value, 3);
    assert.equal(report.performance?.reference, 1);
    assert.equal(report.performance?.degraded, true);
    assert.equal(report.status, 'drift');
  });
});

describe('drift monitor: labels, periodic checks, stored results', () => {
  const random = createSeededRandom(11);
  const profile: ReferenceProfile = {
    ...makeProfile([{ ...numericProfile('a', normals(2000, random)), input: 'x', column: 0 }], { ...numericProfile('prediction', normals(2000, random)), input: 'y', column: null }),
    performance: regression(Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? 0.5 : -0.5))),
  };
  const rows = (n: number, shift: number): { inputs: Tensor[]; outputs: Tensor[] } => ({
    inputs: [{ name: 'x', datatype: 'FP32', shape: [n, 1], data: Float32Array.from(normals(n, random, shift)) }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [n], data: Float32Array.from(normals(n, random)) }],
  });

  test('labels join the version\'s window; the timer\'s check feeds latest(); a closed window is checked and stored', async () => {
    const clock = createFakeClock(1_000_000);
    const results = createMemoryDriftResultStore();
    const monitor = createDriftMonitor({ profile: async () => profile, clock, results, checkIntervalMs: 60_000, maxRows: 300 });
    monitor.profileChanged('m', 1, profile);
    assert.deepEqual(monitor.latest(), []);
    const first = rows(200, 2);
    monitor.observe('ep', 'm', 1, first.inputs, first.outputs);
    for (let i = 0; i < 150; i++) monitor.label('ep', 'm', 1, 1, 1 + (i % 2 === 0 ? 4 : -4));
    monitor.label('ep', 'm', 1, 'not a number', 3); // refused inside, never thrown
    await clock.advance(60_000);
    await new Promise((resolve) => setImmediate(resolve));
    const latest = monitor.latest();
    assert.equal(latest.length, 1);
    assert.equal(latest[0]?.endpoint, 'ep');
    assert.equal(latest[0]?.report.window.rows, 200);
    assert.deepEqual(latest[0]?.report.dataset.driftedFeatures, ['a']);
    assert.equal(latest[0]?.report.performance?.labels, 150);
    assert.equal(latest[0]?.report.performance?.degraded, true);
    // 200 + 200 rows: the window closes at 300 and its check is stored
    const more = rows(200, 2);
    monitor.observe('ep', 'm', 1, more.inputs, more.outputs);
    const history = await monitor.history('ep', { limit: 10 });
    assert.equal(history.length, 1);
    assert.equal(history[0]?.report.window.state, 'closed');
    assert.equal(history[0]?.report.window.rows, 300);
    assert.equal(history[0]?.report.status, 'drift');
    assert.deepEqual(await monitor.history('ep', { limit: 10, version: 2 }), []);
    monitor.forget('ep');
    assert.deepEqual(monitor.latest(), []);
    await monitor.close();
  });
});
