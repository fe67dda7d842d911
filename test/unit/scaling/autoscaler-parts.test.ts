import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AUTOSCALER_DEFAULTS,
  AutoscalerReasons,
  compileAutoscalerOptions,
  createDecisionLog,
  createTimeBucketWindow,
  type AutoscalerEventInput,
} from '../../../src/scaling/index.js';
import { problemsOf } from '../../support/config.js';

const T0 = Date.UTC(2026, 0, 1);


describe('autoscaler options', () => {
  test('no options compile to the Knative-style defaults, frozen', () => {
    const config = compileAutoscalerOptions(undefined);
    assert.deepEqual(config, AUTOSCALER_DEFAULTS);
    assert.equal(config.stableWindowSeconds, 60);
    assert.equal(config.panicWindowSeconds, 6);
    assert.equal(config.panicThresholdPercent, 200);
    assert.equal(config.tickIntervalMs, 2000);
    assert.ok(Object.isFrozen(config));
  });

  test('numeric strings from env vars and flags are accepted', () => {
    const config = compileAutoscalerOptions({ minReplicas: '1', maxReplicas: '3', targetConcurrency: '4' });
    assert.equal(config.minReplicas, 1);
    assert.equal(config.maxReplicas, 3);
    assert.equal(config.targetConcurrency, 4);
  });

  test('a compiled config compiles again to an equal one', () => {
    const config = compileAutoscalerOptions({ minReplicas: 2, maxReplicas: 5 });
    assert.deepEqual(compileAutoscalerOptions(config), config);
  });

  test('invalid options list every problem by path at once', () => {
    const problems = problemsOf(() =>
      compileAutoscalerOptions({
        minReplicas: -1,
        maxReplicas: 0,
        targetConcurrency: 1.5,
        stableWindowSeconds: 5,
        panicWindowSeconds: 'soon',
        panicThresholdPercent: 100,
        scaleDownDelaySeconds: 7200,
        scaleToZeroGracePeriodSeconds: -3,
        tickIntervalMs: 10,
        maxEvents: 0,
        panicWindow: 6,
      }),
    );
    const paths = problems.map((p) => p.path).sort();
    assert.deepEqual(paths, [
      'maxEvents',
      'maxReplicas',
      'minReplicas',
      'panicThresholdPercent',
      'panicWindow',
      'panicWindowSeconds',
      'scaleDownDelaySeconds',
      'scaleToZeroGracePeriodSeconds',
      'stableWindowSeconds',
      'targetConcurrency',
      'tickIntervalMs',
    ]);
    assert.match(problems.find((p) => p.path === 'panicWindow')?.message ?? '', /unknown key/);
  });

  test('cross-field rules are reported together with their paths', () => {
    const problems = problemsOf(() => compileAutoscalerOptions({ minReplicas: 5, maxReplicas: 2, panicWindowSeconds: 2, tickIntervalMs: 3000 }));
    assert.deepEqual(
      problems.map((p) => p.path),
      ['minReplicas', 'tickIntervalMs'],
    );
    assert.match(problems[0]?.message ?? '', /≤ maxReplicas \(2\)/);
    assert.match(problems[1]?.message ?? '', /at least one sample/);
    const windows = problemsOf(() => compileAutoscalerOptions({ stableWindowSeconds: 10, panicWindowSeconds: 20 }));
    assert.deepEqual(windows.map((p) => p.path), ['panicWindowSeconds']);
    assert.match(windows[0]?.message ?? '', /≤ stableWindowSeconds \(10\)/);
  });

  test('a cross-field rule is not checked against a value that was itself invalid', () => {
    const problems = problemsOf(() => compileAutoscalerOptions({ minReplicas: 3, maxReplicas: 'many' }));
    assert.deepEqual(problems.map((p) => p.path), ['maxReplicas']);
  });

  test('problem paths carry the prefix of the options in a larger config', () => {
    const problems = problemsOf(() => compileAutoscalerOptions({ maxReplicas: 0 }, { path: 'deployments.fraud.autoscaling' }));
    assert.deepEqual(problems.map((p) => p.path), ['deployments.fraud.autoscaling.maxReplicas']);
  });

  test('with scale to zero allowed, a grace period not above the observed load time is refused with the reason', () => {
    const problems = problemsOf(() => compileAutoscalerOptions({ minReplicas: 0, scaleToZeroGracePeriodSeconds: 5 }, { observedLoadMs: 7_500 }));
    assert.deepEqual(problems.map((p) => p.path), ['scaleToZeroGracePeriodSeconds']);
    assert.match(problems[0]?.message ?? '', /observed load time \(7\.50 s\)/);
    assert.match(problems[0]?.message ?? '', /set it above 8 or set minReplicas to 1/);
    // the same grace is fine when the load is faster, or when the endpoint never scales to zero
    assert.equal(compileAutoscalerOptions({ minReplicas: 0, scaleToZeroGracePeriodSeconds: 5 }, { observedLoadMs: 4_000 }).scaleToZeroGracePeriodSeconds, 5);
    assert.equal(compileAutoscalerOptions({ minReplicas: 1, scaleToZeroGracePeriodSeconds: 5 }, { observedLoadMs: 7_500 }).minReplicas, 1);
  });

  test('a non-mapping is one problem at the root path', () => {
    const problems = problemsOf(() => compileAutoscalerOptions([1, 2] as unknown as Record<string, unknown>, { path: 'autoscaling' }));
    assert.deepEqual(problems.map((p) => p.path), ['autoscaling']);
  });
});

describe('time bucket window', () => {
  test('averages the mean of each bucket over the buckets that hold samples', () => {
    const w = createTimeBucketWindow({ spanMs: 10_000, bucketMs: 1000 });
    w.record(T0, 2);
    w.record(T0 + 500, 4); // same bucket: its mean is 3
    w.record(T0 + 1000, 9);
    assert.equal(w.average(T0 + 1000, 10_000), 6);
    assert.equal(w.average(T0 + 1000, 1000), 9);
    assert.equal(w.max(T0 + 1000, 10_000), 9);
    assert.equal(w.max(T0 + 1000, 1000), 9);
  });

  test('samples older than the window no longer count', () => {
    const w = createTimeBucketWindow({ spanMs: 5000, bucketMs: 1000 });
    w.record(T0, 100);
    w.record(T0 + 4000, 1);
    assert.equal(w.average(T0 + 4000, 5000), 50.5);
    assert.equal(w.average(T0 + 5000, 5000), 1);
    assert.equal(w.average(T0 + 9000, 5000), 0);
    assert.equal(w.max(T0 + 9000, 5000), undefined);
  });

  test('a window longer than the span is answered over the span', () => {
    const w = createTimeBucketWindow({ spanMs: 3000, bucketMs: 1000 });
    for (let i = 0; i < 6; i++) w.record(T0 + i * 1000, i);
    assert.equal(w.average(T0 + 5000, 60_000), 4); // buckets 3, 4, 5
  });

  test('a sample older than the newest bucket is dropped rather than overwriting newer data', () => {
    const w = createTimeBucketWindow({ spanMs: 3000, bucketMs: 1000 });
    w.record(T0 + 3000, 5);
    w.record(T0, 100);
    assert.equal(w.average(T0 + 3000, 3000), 5);
  });

  test('the bucket count is fixed however long it runs', () => {
    const w = createTimeBucketWindow({ spanMs: 60_000, bucketMs: 2000 });
    assert.equal(w.bucketCount(), 30);
    for (let i = 0; i < 50_000; i++) w.record(T0 + i * 2000, i % 7);
    assert.equal(w.bucketCount(), 30);
    assert.equal(w.average(T0 + 49_999 * 2000, 6000), ((49_997 % 7) + (49_998 % 7) + (49_999 % 7)) / 3);
  });

  test('refuses a non-positive span or bucket', () => {
    assert.throws(() => createTimeBucketWindow({ spanMs: 0, bucketMs: 1000 }), RangeError);
    assert.throws(() => createTimeBucketWindow({ spanMs: 1000, bucketMs: 0 }), RangeError);
  });
});

function eventInput(atMs: number, reason: AutoscalerEventInput['reason'] = AutoscalerReasons.ScaleUpStable): AutoscalerEventInput {
  return {
    endpoint: 'demo',
    atMs,
    reason,
    mode: 'stable',
    previousMode: 'stable',
    stableConcurrency: 1,
    panicConcurrency: 1,
    targetConcurrency: 8,
    readyReplicas: 1,
    currentReplicas: 1,
    wantedReplicas: 2,
    desiredReplicas: 2,
    idleMs: 0,
    message: 'm',
  };
}

describe('decision log', () => {
  test('keeps the newest events up to its capacity, oldest first, with increasing seq', () => {
    const log = createDecisionLog(3);
    for (let i = 0; i < 5; i++) log.append(eventInput(T0 + i));
    assert.equal(log.size(), 3);
    assert.deepEqual(log.events().map((e) => e.seq), [3, 4, 5]);
    assert.deepEqual(log.events().map((e) => e.atMs), [T0 + 2, T0 + 3, T0 + 4]);
  });

  test('answers polling with afterSeq and limit', () => {
    const log = createDecisionLog(10);
    for (let i = 0; i < 6; i++) log.append(eventInput(T0 + i));
    assert.deepEqual(log.events({ afterSeq: 4 }).map((e) => e.seq), [5, 6]);
    assert.deepEqual(log.events({ limit: 2 }).map((e) => e.seq), [5, 6]);
    assert.deepEqual(log.events({ afterSeq: 6 }), []);
  });

  test('repeatLast counts a repeated decision on the newest event', () => {
    const log = createDecisionLog(2);
    assert.equal(log.repeatLast(T0), false);
    log.append(eventInput(T0, AutoscalerReasons.HeldByMaxReplicas));
    assert.equal(log.repeatLast(T0 + 2000), true);
    assert.equal(log.repeatLast(T0 + 4000), true);
    const [e] = log.events();
    assert.equal(e?.count, 3);
    assert.equal(e?.atMs, T0);
    assert.equal(e?.lastAtMs, T0 + 4000);
  });

  test('hands out frozen copies that cannot change the log', () => {
    const log = createDecisionLog(2);
    log.append(eventInput(T0));
    const [e] = log.events();
    assert.ok(e !== undefined && Object.isFrozen(e));
    log.repeatLast(T0 + 1);
    assert.equal(e.count, 1);
    assert.equal(log.last()?.count, 2);
  });

  test('refuses a capacity below one', () => {
    assert.throws(() => createDecisionLog(0), RangeError);
  });
});
