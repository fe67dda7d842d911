/**
 * The recommendation arithmetic of capacity planning on recorded (hand-written) measurements:
 * every expected figure below is worked out by hand in the comment next to it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlatformError } from '../../../src/core/index.js';
import {
  capacityOf,
  formatPlan,
  readAt,
  recommendPlan,
  type ConfigurationMeasurement,
  type LoadPoint,
  type PlanConfiguration,
  type PlanMeasurements,
  type ServiceTimeMeasurement,
} from '../../../src/optimize/plan/index.js';

const MiB = 2 ** 20;

/** A load point that answered every request; p99 and friends as given. */
function point(offeredRps: number, p99Ms: number, extra: Partial<LoadPoint> & { meanMs?: number } = {}): LoadPoint {
  const { meanMs, ...rest } = extra;
  return {
    offeredRps,
    achievedRps: offeredRps,
    sent: 1000,
    completed: 1000,
    errors: 0,
    errorsByCode: {},
    abandoned: 0,
    latency: { count: 1000, meanMs: meanMs ?? p99Ms / 2, p50Ms: p99Ms / 2, p95Ms: p99Ms * 0.9, p99Ms, maxMs: p99Ms * 1.2 },
    seconds: 1,
    cpuSeconds: 0.5,
    busyCores: 0.5,
    meanBatchSize: null,
    stoppedEarly: null,
    meetsTarget: true,
    ...rest,
  };
}

function config(id: string, placement: 'worker' | 'main-thread', replicas: number, threads: number, batching: PlanConfiguration['batching'] = { enabled: false, maxBatchSize: 1, maxQueueDelayMicros: 0 }): PlanConfiguration {
  return { id, label: id, placement, replicas, intraOpThreads: threads, cores: placement === 'main-thread' ? 1 : replicas * threads, batching };
}

function measured(configuration: PlanConfiguration, points: LoadPoint[], rssBytes = 200 * MiB): ConfigurationMeasurement {
  return { configuration, status: 'measured', reason: null, loadMs: 300, rssBytes, heapBytes: 4 * MiB, points, capacityRps: null, capacityReason: '' };
}

function service(threads: number, p50Ms: number, p99Ms: number): ServiceTimeMeasurement {
  return {
    intraOpThreads: threads,
    loadMs: 300,
    rssBytes: 150 * MiB,
    heapBytes: 4 * MiB,
    points: [{ batchSize: 1, calls: 500, failures: 0, failure: null, seconds: 0.3, rowsPerSecond: 1000 / p50Ms, latency: { count: 500, meanMs: p50Ms, p50Ms, p95Ms: p99Ms, p99Ms, maxMs: p99Ms } }],
    skippedBatchSizes: [],
    failure: null,
  };
}

function measurements(configurations: ConfigurationMeasurement[], serviceTimes: ServiceTimeMeasurement[] = [service(1, 1, 2)]): PlanMeasurements {
  return {
    version: 1,
    label: 'fraud:3',
    startedAt: '2026-03-01T09:00:00.000Z',
    finishedAt: '2026-03-01T09:01:00.000Z',
    seconds: 60,
    machine: { cores: 2, cpuModel: 'Test CPU', totalMemoryBytes: 8 * 2 ** 30, platform: 'linux', arch: 'x64', node: 'v20.0.0' },
    p99TargetMs: 20,
    rowsPerRequest: 1,
    mergeable: true,
    baselineRssBytes: 100 * MiB,
    grid: {
      intraOpThreads: [1, 2],
      replicas: [1, 2],
      batchSizes: [1, 2, 4],
      maxQueueDelaysMicros: [0],
      batchingOff: true,
      mainThread: 'auto',
      maxPointsPerConfiguration: 6,
      minRequestsPerPoint: 100,
      maxRequestsPerPoint: 20_000,
      maxOfferedRps: 100_000,
      arrivals: 'poisson',
      seed: 1,
    },
    durations: { servicePointMs: 300, loadPointMs: 1500, budgetMs: 60_000 },
    serviceTimes,
    configurations,
    truncated: false,
    notes: [],
  };
}

/** A: 1 replica × 1 thread, batching off; passes at 100 and 200 req/s, fails at 400 (p99 30 > 20): capacity 200. */
const A = measured(config('A', 'worker', 1, 1), [
  point(100, 5, { meanMs: 2, busyCores: 0.3 }),
  point(200, 8, { meanMs: 3, busyCores: 0.5 }),
  point(400, 30, { meanMs: 12, busyCores: 0.9 }),
]);
/** B: 2 replicas × 1 thread, adaptive batching ≤32; passes up to 1000 req/s (nothing failed): capacity 1000. */
const B = measured(config('B', 'worker', 2, 1, { enabled: true, maxBatchSize: 32, maxQueueDelayMicros: 0 }), [point(250, 9), point(500, 10), point(1000, 12)], 250 * MiB);
/** C: main thread, batching off; capacity 150. */
const C = measured(config('C', 'main-thread', 1, 1), [point(50, 3), point(150, 9), point(300, 50)]);

describe('recommendPlan arithmetic', () => {
  test('instances, cores, utilisation, p99, memory and cost per 1M predictions follow the formulas', () => {
    const plan = recommendPlan(measurements([A]), { rps: 300, p99Ms: 20, pricePerCoreHour: 0.05 });
    const r = plan.recommendation;
    assert.ok(r !== null && plan.feasible);
    // usable = 200 × 0.7 = 140; instances = ⌈300 / 140⌉ = ⌈2.14⌉ = 3; cores = 3 × (1 × 1) = 3
    assert.equal(r.instances, 3);
    assert.equal(r.cores, 3);
    assert.equal(r.capacityRps, 200);
    // per instance 300 / 3 = 100 req/s, a measured rate: p99 5 ms exactly
    assert.equal(r.perInstanceRps, 100);
    assert.equal(r.expectedP99Ms, 5);
    assert.match(r.p99Basis, /measured at 100 req\/s/);
    // utilisation = 300 / (3 × 200) = 0.5
    assert.equal(r.utilisation, 0.5);
    // cost per 1M = 3 cores × 0.05 / (300 × 3600) × 1e6 = 0.15 / 1 080 000 × 1e6 = 0.138 888…
    assert.ok(Math.abs((r.costPer1MPredictions ?? NaN) - 0.15 / 1.08) < 1e-12, String(r.costPer1MPredictions));
    assert.ok(Math.abs((r.costPerHour ?? NaN) - 0.15) < 1e-12);
    // memory: 200 MiB per instance, 600 MiB over three
    assert.equal(r.memoryBytesPerInstance, 200 * MiB);
    assert.equal(r.memoryBytes, 600 * MiB);
    // busy cores at 100 req/s: 0.3; concurrency = 100 req/s × 2 ms / 1 replica = 0.2
    assert.equal(r.busyCoresPerInstance, 0.3);
    assert.ok(Math.abs((r.concurrencyPerReplica ?? NaN) - 0.2) < 1e-12);
    assert.deepEqual(r.config, {
      serving: { replicas: 1, intraOpThreads: 1, placement: 'worker', batching: { enabled: false }, autoscaling: { enabled: false } },
    });
  });

  test('p99, busy cores and mean latency are interpolated between the measured rates around the load', () => {
    const r = recommendPlan(measurements([A]), { rps: 450, p99Ms: 20, pricePerCoreHour: 0.05 }).recommendation;
    assert.ok(r !== null);
    // instances = ⌈450 / 140⌉ = ⌈3.21⌉ = 4; per instance 112.5 req/s, between 100 and 200
    assert.equal(r.instances, 4);
    assert.equal(r.perInstanceRps, 112.5);
    // share = 12.5 / 100 = 0.125; p99 = 5 + 0.125 × (8 − 5) = 5.375; busy = 0.3 + 0.125 × 0.2 = 0.325
    assert.ok(Math.abs(r.expectedP99Ms - 5.375) < 1e-12, String(r.expectedP99Ms));
    assert.ok(Math.abs((r.busyCoresPerInstance ?? NaN) - 0.325) < 1e-12);
    assert.match(r.p99Basis, /interpolated between 100 and 200 req\/s/);
    // utilisation = 450 / (4 × 200) = 0.5625; cost = 4 × 0.05 / (450 × 3600) × 1e6 = 0.2 / 1.62 = 0.123 456…
    assert.equal(r.utilisation, 0.5625);
    assert.ok(Math.abs((r.costPer1MPredictions ?? NaN) - 0.2 / 1.62) < 1e-12);
    // mean latency 2 + 0.125 × 1 = 2.125 ms; concurrency = 112.5 × 0.002125 = 0.2390625
    assert.ok(Math.abs((r.concurrencyPerReplica ?? NaN) - 0.2390625) < 1e-12);
  });

  test('below the lowest measured rate the lowest point is used and the basis says it is not extrapolated', () => {
    const r = recommendPlan(measurements([A]), { rps: 50, p99Ms: 20 }).recommendation;
    assert.ok(r !== null);
    // 1 instance at 50 req/s, below 100: p99 5 ms, utilisation 50 / 200 = 0.25
    assert.equal(r.instances, 1);
    assert.equal(r.expectedP99Ms, 5);
    assert.equal(r.utilisation, 0.25);
    assert.match(r.p99Basis, /below the lowest measured rate.*100 req\/s.*not extrapolated/);
  });

  test('an exact fit is one instance, not two from floating-point rounding', () => {
    // 3 × 0.7 = 2.0999999999999996 in binary floating point; 2.1 / that is 1.0000000000000002
    const tiny = measured(config('T', 'worker', 1, 1), [point(1, 5), point(3, 6)]);
    const r = recommendPlan(measurements([tiny]), { rps: 2.1, p99Ms: 20 }).recommendation;
    assert.equal(r?.instances, 1);
  });

  test('without a price the cost is null and the plan says why', () => {
    const plan = recommendPlan(measurements([A]), { rps: 300, p99Ms: 20 });
    assert.equal(plan.recommendation?.costPer1MPredictions, null);
    assert.equal(plan.recommendation?.costPerHour, null);
    assert.match(plan.costReason ?? '', /no price per core-hour/);
    // 0 means no price, as monitoring.business.pricePerCoreHour does
    assert.equal(recommendPlan(measurements([A]), { rps: 300, p99Ms: 20, pricePerCoreHour: 0 }).recommendation?.costPer1MPredictions, null);
  });
});

describe('capacityOf and readAt', () => {
  test('capacity is the top of the passing prefix: a pass above a failure does not count', () => {
    const c = capacityOf([point(100, 5), point(300, 9), point(200, 25)], 20);
    assert.equal(c.capacityRps, 100);
    assert.deepEqual(
      c.passing.map((p) => p.offeredRps),
      [100],
    );
    assert.match(c.reason, /200 req\/s failed: p99 25 ms > 20 ms/);
  });

  test('errors, early stops and unanswered requests fail a point whatever its p99', () => {
    assert.equal(capacityOf([point(100, 5, { errors: 2, errorsByCode: { SERVING_QUEUE_FULL: 2 } })], 20).capacityRps, null);
    assert.match(capacityOf([point(100, 5, { errors: 2, errorsByCode: { SERVING_QUEUE_FULL: 2 } })], 20).reason, /2 errors \(SERVING_QUEUE_FULL ×2\)/);
    assert.equal(capacityOf([point(100, 5, { stoppedEarly: 'more than 1 % late' })], 20).capacityRps, null);
    assert.equal(capacityOf([point(100, 5, { abandoned: 1 })], 20).capacityRps, null);
    assert.equal(capacityOf([point(100, 5, { latency: null })], 20).capacityRps, null);
  });

  test('a failure confirmed as a hiccup (the same rate passing when run again) does not stop the prefix', () => {
    const c = capacityOf([point(100, 5), point(200, 40), point(200, 9), point(400, 30)], 20);
    assert.equal(c.capacityRps, 200);
    assert.equal(c.passing[1]?.latency?.p99Ms, 9, 'the passing run is the one read');
  });

  test('the target decides: the same points give a lower capacity at a tighter p99', () => {
    assert.equal(capacityOf(A.points, 20).capacityRps, 200);
    assert.equal(capacityOf(A.points, 6).capacityRps, 100);
    assert.equal(capacityOf(A.points, 40).capacityRps, 400);
    assert.equal(capacityOf(A.points, 4).capacityRps, null);
  });

  test('readAt never reads above the highest point', () => {
    assert.equal(
      readAt(A.points, 401, (p) => p.busyCores),
      undefined,
    );
    assert.equal(readAt(A.points, 400, (p) => p.busyCores)?.value, 0.9);
  });
});

describe('choosing', () => {
  test('the feasible configuration with the fewest cores wins; ties go to the lower expected p99', () => {
    const plan = recommendPlan(measurements([A, B, C]), { rps: 300, p99Ms: 20, pricePerCoreHour: 0.05 });
    // A: ⌈300/140⌉ = 3 instances × 1 core = 3; B: ⌈300/700⌉ = 1 × 2 cores = 2; C: ⌈300/105⌉ = 3 × 1 = 3
    assert.equal(plan.recommendation?.configuration.id, 'B');
    assert.equal(plan.recommendation?.cores, 2);
    assert.deepEqual(
      plan.alternatives.map((a) => [a.configuration.id, a.cores, a.chosen]),
      [
        ['B', 2, true],
        // A and C both need 3 cores; at 100 req/s A reads p99 5 ms, C 3 + (50/100) × 6 = 6 ms
        ['A', 3, false],
        ['C', 3, false],
      ],
    );
    const c = plan.alternatives.find((a) => a.configuration.id === 'C');
    assert.equal(c?.expectedP99Ms, 6);
    assert.match(plan.alternatives[1]?.why ?? '', /needs 3 cores \(3 × 1\) against 2/);
    assert.deepEqual(plan.recommendation?.config.serving.batching, { enabled: true, maxBatchSize: 32, maxQueueDelayMicros: 0 });
    assert.equal(plan.recommendation?.config.serving.replicas, 2);
  });

  test('headroom changes the choice', () => {
    // 380 req/s. Headroom 0.7: A needs ⌈380/140⌉ = 3 cores, B ⌈380/700⌉ × 2 = 2 → B.
    const tight = recommendPlan(measurements([A, B]), { rps: 380, p99Ms: 20 });
    assert.equal(tight.recommendation?.configuration.id, 'B');
    // Headroom 1: A needs ⌈380/200⌉ = 2 cores, B still 2: tie on cores. A at 190 req/s reads
    // 5 + 0.9 × 3 = 7.7 ms; B at 380 reads 9 + (130/250) × 1 = 9.52 ms → A.
    const loose = recommendPlan(measurements([A, B]), { rps: 380, p99Ms: 20, headroom: 1 });
    assert.equal(loose.recommendation?.configuration.id, 'A');
    assert.ok(Math.abs((loose.recommendation?.expectedP99Ms ?? NaN) - 7.7) < 1e-12);
    const b = loose.alternatives.find((a) => a.configuration.id === 'B');
    assert.ok(Math.abs((b?.expectedP99Ms ?? NaN) - 9.52) < 1e-12);
    assert.match(b?.why ?? '', /as few cores \(2\) but an expected p99 of 9\.52 ms against 7\.70 ms/);
    assert.match(loose.assumptions[0] ?? '', /Headroom 100 %/);
  });

  test('skipped and failed configurations are listed last with their reason', () => {
    const skipped: ConfigurationMeasurement = { ...measured(config('S', 'worker', 1, 2), []), status: 'skipped', reason: 'the time budget ran out before it could be measured' };
    const failed: ConfigurationMeasurement = { ...measured(config('F', 'worker', 2, 1), []), status: 'failed', reason: 'RUNTIME_LOAD_FAILED: out of memory' };
    const plan = recommendPlan(measurements([skipped, A, failed]), { rps: 100, p99Ms: 20 });
    assert.deepEqual(
      plan.alternatives.map((a) => a.configuration.id),
      ['A', 'S', 'F'],
    );
    assert.equal(plan.alternatives[1]?.why, 'not measured: the time budget ran out before it could be measured');
    assert.equal(plan.alternatives[2]?.why, 'failed: RUNTIME_LOAD_FAILED: out of memory');
    assert.equal(plan.alternatives[1]?.instances, null);
  });
});

describe('an unreachable target', () => {
  test('a single-row service time above the target makes the plan infeasible and says so', () => {
    // every point fails at 2 ms; one call alone takes 3 ms at p99 (1.5 at p50)
    const plan = recommendPlan(measurements([A, C], [service(1, 1.5, 3), service(2, 1.6, 3.5)]), { rps: 100, p99Ms: 2 });
    assert.equal(plan.feasible, false);
    assert.equal(plan.recommendation, null);
    assert.match(plan.reason ?? '', /single-row service time alone is 3 ms at p99 \(1\.50 ms at p50, 1 intra-op thread/);
    // the lowest p99 measured anywhere: C at 50 req/s, 3 ms (A's lowest is 5)
    assert.equal(plan.bestAchievableP99Ms, 3);
    assert.ok(plan.alternatives.every((a) => !a.meetsTarget && /never meets p99 ≤ 2 ms/.test(a.why)));
  });

  test('when one call is fast enough but no load passes, the reason names the best load point', () => {
    const plan = recommendPlan(measurements([A, C], [service(1, 0.5, 1)]), { rps: 100, p99Ms: 2.5 });
    assert.equal(plan.feasible, false);
    assert.match(plan.reason ?? '', /lowest p99 under load was 3 ms \(C at 50 req\/s\)/);
    assert.equal(plan.bestAchievableP99Ms, 3);
  });
});

describe('invalid targets', () => {
  const m = measurements([A]);
  const refuses = (target: unknown, ...fields: string[]): void => {
    assert.throws(
      () => recommendPlan(m, target as Parameters<typeof recommendPlan>[1]),
      (e: unknown) => {
        assert.ok(e instanceof PlatformError);
        assert.equal(e.code, 'OPTIMIZE_PLAN_INVALID_TARGET');
        assert.equal(e.kind, 'invalid');
        for (const f of fields) assert.match(e.message, new RegExp(`target\\.${f}:`));
        return true;
      },
    );
  };
  test('rps ≤ 0 or NaN, a non-positive p99, a negative price and a headroom outside (0, 1] name their fields', () => {
    refuses({ rps: 0, p99Ms: 20 }, 'rps');
    refuses({ rps: -5, p99Ms: 20 }, 'rps');
    refuses({ rps: NaN, p99Ms: 20 }, 'rps');
    refuses({ rps: 100, p99Ms: Infinity }, 'p99Ms');
    refuses({ rps: 100, p99Ms: 0 }, 'p99Ms');
    refuses({ rps: 100, p99Ms: 20, pricePerCoreHour: -1 }, 'pricePerCoreHour');
    refuses({ rps: 100, p99Ms: 20, headroom: 1.5 }, 'headroom');
    refuses({ rps: 100, p99Ms: 20, headroom: 0 }, 'headroom');
    refuses({ rps: '100', p99Ms: 20 }, 'rps');
    // every problem at once
    refuses({ rps: NaN, p99Ms: -1, headroom: 2 }, 'rps', 'p99Ms', 'headroom');
  });
});

describe('formatPlan', () => {
  test('renders the recommendation, the snippet, every alternative and every measured point', () => {
    const plan = recommendPlan(measurements([A, B, C]), { rps: 300, p99Ms: 20, pricePerCoreHour: 0.05 });
    const text = formatPlan(plan);
    assert.match(text, /^Capacity plan for fraud:3: 300 req\/s at p99 ≤ 20\.00 ms, headroom 70 %/);
    assert.match(text, /configuration +B \(B\)/);
    assert.match(text, /instances +1 machine like this one, 300 req\/s each/);
    assert.match(text, /\n {6}maxBatchSize: 32\n/);
    assert.match(text, /\n {2}\* B +1000 +1 +2 +30 %/);
    // 9 load points, each on a line with its verdict
    assert.equal(text.match(/ pass$/gm)?.length, 7);
    assert.equal(text.match(/ fail: p99 /gm)?.length, 2);
    assert.match(text, /HTTP parsing, JSON encoding and the network are not included/);
  });

  test('an infeasible plan says why instead of recommending', () => {
    const text = formatPlan(recommendPlan(measurements([A], [service(1, 1.5, 3)]), { rps: 100, p99Ms: 2 }));
    assert.match(text, /No configuration meets the target: the single-row service time alone is 3 ms/);
    assert.doesNotMatch(text, /^Recommendation$/m);
  });
});
