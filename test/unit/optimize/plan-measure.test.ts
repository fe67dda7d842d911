/**
 * The measurement procedure of capacity planning. Two kinds of runtime:
 *
 * - the real onnxruntime runtime with a tiny model (y = x + 1, test/support/models.ts), a small
 *   grid and short points: every figure is present, positive and within its bounds, every model is
 *   unloaded, and an abort stops the run;
 * - a timer-driven fake whose runs take a known time (2 ms plus 0.02 ms per row) and use no CPU,
 *   so the search's answers can be checked against queueing arithmetic: one request at a time
 *   serves at most 1000 / 2 = 500 req/s, while batches of up to 32 rows serve far more.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PlatformError, type ModelSignature, type Tensor } from '../../../src/core/index.js';
import {
  capacityOf,
  lateLimitFor,
  measurePlan,
  plannedRequests,
  recommendPlan,
  repeatRows,
  summariseLatencies,
  zeroInputs,
  type LoadPoint,
} from '../../../src/optimize/plan/index.js';
import { createOnnxRuntime, RuntimeErrors, type LoadedModel, type LoadOptions, type ModelRuntime, type ReplicaStats } from '../../../src/runtime/index.js';
import { addModel } from '../../support/models.js';

/** A runtime that records every model it loads and whether it was unloaded. */
function tracking(inner: ModelRuntime): ModelRuntime & { loads: LoadOptions[]; models: { model: LoadedModel; unloaded: boolean }[] } {
  const loads: LoadOptions[] = [];
  const models: { model: LoadedModel; unloaded: boolean }[] = [];
  return {
    loads,
    models,
    async load(options) {
      loads.push(options);
      const model = await inner.load(options);
      const entry = { model, unloaded: false };
      models.push(entry);
      const unload = model.unload.bind(model);
      return Object.assign(Object.create(model) as LoadedModel, {
        unload: async () => {
          entry.unloaded = true;
          await unload();
        },
      });
    },
    probe: (path) => inner.probe(path),
    close: () => inner.close(),
  };
}

const SIGNATURE: ModelSignature = {
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 2] }],
};

/**
 * A runtime whose replicas each run one call at a time, taking `serviceMs(rows)` on a timer; calls
 * wait in one first-in-first-out queue for a free replica (as the replica pool holds them).
 */
function timedRuntime(serviceMs: (rows: number) => number, options: { signature?: ModelSignature; refuse?: boolean } = {}): ModelRuntime {
  return {
    async load(o) {
      const busy = new Array<number>(o.replicas).fill(0);
      const served = new Array<number>(o.replicas).fill(0);
      const queue: { rows: number; resolve: (t: Tensor[]) => void; reject: (e: Error) => void; signal: AbortSignal | undefined }[] = [];
      let stopped = false;
      const pump = (): void => {
        for (let r = 0; r < busy.length && queue.length > 0; r++) {
          if (busy[r] !== 0) continue;
          const job = queue.shift();
          if (job === undefined) return;
          busy[r] = 1;
          setTimeout(() => {
            busy[r] = 0;
            served[r] = (served[r] ?? 0) + 1;
            if (options.refuse === true) job.reject(RuntimeErrors.RUNTIME_INFERENCE_FAILED('onnxruntime refused the request: bad input'));
            else job.resolve([{ name: 'y', datatype: 'FP32', shape: [job.rows, 2], data: new Float32Array(job.rows * 2) }]);
            pump();
          }, serviceMs(job.rows));
        }
      };
      const model: LoadedModel = {
        label: o.label,
        signature: options.signature ?? SIGNATURE,
        infer(inputs, _outputs, signal) {
          if (stopped) return Promise.reject(RuntimeErrors.RUNTIME_UNLOADED('unloaded'));
          if (signal?.aborted === true) return Promise.reject(RuntimeErrors.RUNTIME_ABORTED('aborted'));
          return new Promise<Tensor[]>((resolve, reject) => {
            const job = { rows: inputs[0]?.shape[0] ?? 1, resolve, reject, signal };
            signal?.addEventListener(
              'abort',
              () => {
                const i = queue.indexOf(job);
                if (i >= 0) queue.splice(i, 1);
                reject(RuntimeErrors.RUNTIME_ABORTED('aborted'));
              },
              { once: true },
            );
            queue.push(job);
            pump();
          });
        },
        stats: (): ReplicaStats[] =>
          busy.map((b, i) => ({ id: `${o.label}/r${i}`, state: stopped ? 'stopped' : 'ready', inFlight: b, served: served[i] ?? 0, failed: 0, busyMs: 0, loadMs: 1, heapBytes: 1024 })),
        async unload() {
          stopped = true;
          for (const job of queue.splice(0)) job.reject(RuntimeErrors.RUNTIME_UNLOADED('unloaded'));
        },
      };
      return model;
    },
    probe: async () => undefined,
    close: async () => undefined,
  };
}

/**
 * Checks what every load point must satisfy, whatever the machine. A point sends at most
 * `maxRequests`, unless its shortest window (5 × the p99 target) holds more arrivals.
 */
function checkPoint(p: LoadPoint, maxRequests: number, minWindowMs: number): void {
  assert.ok(p.offeredRps > 0, `offered ${p.offeredRps}`);
  const most = Math.max(maxRequests, Math.ceil((p.offeredRps * minWindowMs) / 1000));
  assert.ok(p.sent >= 1 && p.sent <= most, `sent ${p.sent} of at most ${most}`);
  assert.equal(p.completed + p.errors + p.abandoned, p.sent, 'every request sent is answered, failed or abandoned');
  assert.ok(p.seconds > 0 && p.seconds < 10, `seconds ${p.seconds}`);
  assert.ok(p.cpuSeconds >= 0 && p.busyCores >= 0);
  if (p.latency !== null) {
    assert.equal(p.latency.count, p.completed);
    assert.ok(p.latency.p50Ms > 0 && p.latency.p50Ms <= p.latency.p95Ms && p.latency.p95Ms <= p.latency.p99Ms && p.latency.p99Ms <= p.latency.maxMs, JSON.stringify(p.latency));
    assert.ok(p.achievedRps > 0);
  }
}

describe('measurePlan on a tiny onnxruntime model', () => {
  let scratch: string;
  let artifact: string;
  const onnx = createOnnxRuntime({ cores: 2 });

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'slipway-plan-'));
    artifact = join(scratch, 'add.onnx');
    writeFileSync(artifact, addModel(1));
  });
  after(async () => {
    await onnx.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('measures service times and load points within their bounds, and unloads every model', async () => {
    const runtime = tracking(onnx);
    const progress: [number, number][] = [];
    const started = performance.now();
    const m = await measurePlan({
      runtime,
      artifactPath: artifact,
      label: 'add:1',
      // generous for a shared machine; step-2 windows last at least 5 × this (500 ms)
      p99TargetMs: 100,
      cores: 2,
      grid: { intraOpThreads: [1], replicas: [1], batchSizes: [1, 4], maxQueueDelaysMicros: [0], mainThread: false, maxPointsPerConfiguration: 3, minRequestsPerPoint: 30, maxRequestsPerPoint: 400 },
      servicePointMs: 60,
      loadPointMs: 150,
      budgetMs: 15_000,
      onProgress: (done, total) => progress.push([done, total]),
    });
    const elapsed = (performance.now() - started) / 1000;

    // step 1: one thread count, two batch sizes, each with calls and ordered quantiles
    assert.equal(m.serviceTimes.length, 1);
    const s = m.serviceTimes[0];
    assert.ok(s !== undefined && s.loadMs !== null && s.loadMs > 0 && (s.rssBytes ?? 0) > 0 && s.heapBytes !== null);
    assert.deepEqual(
      s.points.map((p) => p.batchSize),
      [1, 4],
    );
    for (const p of s.points) {
      assert.ok(p.calls > 0 && p.failures === 0 && p.rowsPerSecond > 0, JSON.stringify(p));
      assert.ok(p.latency !== null && p.latency.p50Ms > 0 && p.latency.p50Ms <= p.latency.p99Ms);
      // rows per second is batch × calls over the time they took
      assert.ok(Math.abs(p.rowsPerSecond - (p.batchSize * p.calls) / p.seconds) < 1e-6);
    }

    // step 2: batching off and adaptive batching up to 4 rows, on 1 replica × 1 thread
    assert.deepEqual(
      m.configurations.map((c) => c.configuration.id),
      ['w-r1-t1-off', 'w-r1-t1-b4-d0'],
    );
    for (const c of m.configurations) {
      assert.equal(c.status, 'measured', c.reason ?? '');
      assert.ok(c.points.length >= 1 && c.points.length <= 3, `${c.points.length} points`);
      assert.ok((c.loadMs ?? 0) > 0 && (c.rssBytes ?? 0) > 0);
      for (const p of c.points) checkPoint(p, 400, 500);
      // the recorded capacity is the rule applied to the recorded points
      assert.equal(c.capacityRps, capacityOf(c.points, 100).capacityRps);
      // a model of one Add meets 100 ms at a few hundred requests per second on every machine this runs on
      assert.ok(c.capacityRps !== null && c.capacityRps > 0, c.capacityReason);
    }
    const batched = m.configurations[1];
    assert.ok(batched?.points.every((p) => p.meanBatchSize !== null && p.meanBatchSize >= 1 && p.meanBatchSize <= 4));
    assert.ok(m.configurations[0]?.points.every((p) => p.meanBatchSize === null));

    // every model loaded was unloaded: one for step 1, one for the pair
    assert.equal(runtime.loads.length, 2);
    assert.ok(runtime.models.every((x) => x.unloaded));
    assert.ok(runtime.models.every((x) => x.model.stats().every((r) => r.state === 'stopped')));

    // progress never goes back and ends at its total: 2 sizes + 2 configurations × 3 points
    assert.deepEqual(progress.at(-1), [8, 8]);
    for (let i = 1; i < progress.length; i++) assert.ok((progress[i]?.[0] ?? 0) >= (progress[i - 1]?.[0] ?? 0));

    assert.equal(m.rowsPerRequest, 1);
    assert.equal(m.mergeable, true);
    assert.equal(m.machine.cores, 2);
    assert.ok(m.seconds > 0 && m.seconds <= elapsed + 0.01 && m.seconds < 15);
    // the JSON round trip keeps every figure (it goes into an API response as it is)
    assert.deepEqual(JSON.parse(JSON.stringify(m)), m);

    const plan = recommendPlan(m, { rps: 50, p99Ms: 100 });
    assert.equal(plan.feasible, true);
    assert.equal(plan.recommendation?.cores, 1);
  });

  test('an abort stops the run, rejects with CORE_ABORTED and unloads what it loaded', async () => {
    const runtime = tracking(onnx);
    const controller = new AbortController();
    const started = performance.now();
    // step 1 would call the model back to back for 5 s per batch size: abort 1.5 s in
    const timer = setTimeout(() => controller.abort(), 1500);
    await assert.rejects(
      measurePlan({
        runtime,
        artifactPath: artifact,
        p99TargetMs: 250,
        cores: 2,
        grid: { intraOpThreads: [1], replicas: [1], batchSizes: [1, 2], mainThread: false },
        servicePointMs: 5000,
        signal: controller.signal,
      }),
      (e: unknown) => e instanceof PlatformError && e.code === 'CORE_ABORTED',
    );
    clearTimeout(timer);
    assert.ok(performance.now() - started < 4500, `stopped long before the two 5 s points ended (${Math.round(performance.now() - started)} ms)`);
    assert.equal(runtime.loads.length, 1);
    assert.ok(runtime.models.every((x) => x.unloaded));
  });

  test('an already aborted signal loads nothing', async () => {
    const runtime = tracking(onnx);
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(measurePlan({ runtime, artifactPath: artifact, p99TargetMs: 10, signal: controller.signal }), (e: unknown) => e instanceof PlatformError && e.code === 'CORE_ABORTED');
    assert.equal(runtime.loads.length, 0);
  });
});

describe('measurePlan on a runtime of known service time', () => {
  test('finds the capacity queueing predicts, and batching raises it', async () => {
    // a run takes 2 ms + 0.02 ms per row (timers add about a millisecond)
    const runtime = tracking(timedRuntime((rows) => 2 + 0.02 * rows));
    const m = await measurePlan({
      runtime,
      artifactPath: '/models/fake.onnx',
      p99TargetMs: 50,
      cores: 1,
      grid: { batchSizes: [1, 32], maxQueueDelaysMicros: [0], mainThread: false, maxPointsPerConfiguration: 5, minRequestsPerPoint: 40 },
      servicePointMs: 60,
      loadPointMs: 200,
      budgetMs: 15_000,
    });
    const [one, thirtyTwo] = m.serviceTimes[0]?.points ?? [];
    // one call at a time: at least the 2 ms the timer waits, at most a few timer ticks more
    assert.ok(one?.latency != null && one.latency.p50Ms >= 2 && one.latency.p50Ms < 10, JSON.stringify(one?.latency));
    // 32 rows per call cost 2.64 ms: many times the rows per second of single rows
    assert.ok(thirtyTwo !== undefined && thirtyTwo.rowsPerSecond > 8 * one.rowsPerSecond, `${thirtyTwo?.rowsPerSecond} vs ${one.rowsPerSecond}`);

    const off = m.configurations.find((c) => c.configuration.id === 'w-r1-t1-off');
    const batched = m.configurations.find((c) => c.configuration.id === 'w-r1-t1-b32-d0');
    assert.ok(off?.capacityRps != null && batched?.capacityRps != null, `${off?.capacityReason} / ${batched?.capacityReason}`);
    // One replica serving one run of ≥ 2 ms at a time sustains at most 500 req/s. Windows last
    // 5 × the target, long enough for a rate 25 % above that to fail (its backlog makes the last
    // requests wait more than 50 ms), so no capacity above 625 can be measured; and with a 50 ms
    // p99 budget it passes well above a fifth of 500.
    assert.ok(off.capacityRps > 100 && off.capacityRps <= 625, `off: ${off.capacityRps}`);
    // merged runs of up to 32 rows serve several times as many single-row requests
    assert.ok(batched.capacityRps > 2 * off.capacityRps, `batched ${batched.capacityRps} vs off ${off.capacityRps}`);
    assert.ok(batched.points.some((p) => (p.meanBatchSize ?? 0) > 2), 'requests were merged');
    assert.ok(runtime.models.every((x) => x.unloaded));
  });

  test('a model with a fixed batch of one is measured one request at a time, without batching', async () => {
    const fixed: ModelSignature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 2] }] };
    const m = await measurePlan({
      runtime: timedRuntime(() => 1, { signature: fixed }),
      artifactPath: '/models/fixed.onnx',
      p99TargetMs: 40,
      cores: 1,
      grid: { maxPointsPerConfiguration: 2, minRequestsPerPoint: 20 },
      servicePointMs: 30,
      loadPointMs: 100,
    });
    assert.equal(m.rowsPerRequest, 1);
    assert.equal(m.mergeable, false);
    assert.deepEqual(
      m.serviceTimes[0]?.points.map((p) => p.batchSize),
      [1],
    );
    const batching = m.configurations.filter((c) => c.configuration.batching.enabled);
    assert.ok(batching.length > 0 && batching.every((c) => c.status === 'skipped' && /fixed at 1/.test(c.reason ?? '')));
    assert.equal(m.configurations.find((c) => c.configuration.id === 'w-r1-t1-off')?.status, 'measured');
  });

  test('a model that refuses the measurement inputs fails with OPTIMIZE_PLAN_INPUTS_REFUSED and is unloaded', async () => {
    const runtime = tracking(timedRuntime(() => 1, { refuse: true }));
    await assert.rejects(
      measurePlan({ runtime, artifactPath: '/models/picky.onnx', p99TargetMs: 50, cores: 1, servicePointMs: 20 }),
      (e: unknown) => e instanceof PlatformError && e.code === 'OPTIMIZE_PLAN_INPUTS_REFUSED' && /bad input/.test(e.message),
    );
    assert.equal(runtime.models.length, 1);
    assert.ok(runtime.models.every((x) => x.unloaded));
  });

  test('invalid options are refused at once, every problem named by its path', async () => {
    const runtime = tracking(timedRuntime(() => 1));
    await assert.rejects(
      measurePlan({ runtime, artifactPath: '', p99TargetMs: NaN, cores: 0, grid: { intraOpThreads: [0], minRequestsPerPoint: 10, maxRequestsPerPoint: 5 }, budgetMs: 5 }),
      (e: unknown) => {
        assert.ok(e instanceof PlatformError && e.code === 'OPTIMIZE_PLAN_INVALID_OPTIONS');
        for (const path of ['cores', 'p99TargetMs', 'grid.intraOpThreads[0]', 'grid.minRequestsPerPoint', 'budgetMs', 'artifactPath']) assert.match(e.message, new RegExp(`${path.replace(/[[\]]/g, '\\$&')}:`));
        return true;
      },
    );
    assert.equal(runtime.loads.length, 0);
  });
});

describe('point sizing', () => {
  test('a point is failed once more than 1 % of its requests, plus one, are late', () => {
    // p99 (type 7) of n samples sits at h = 0.99(n − 1): with ⌈0.01n + 1⌉ samples above the
    // target, the order statistics it interpolates between are both late
    assert.equal(lateLimitFor(100), 2);
    assert.equal(lateLimitFor(1000), 11);
    assert.equal(lateLimitFor(1), 2);
    for (const n of [100, 250, 1000, 4321]) {
      const late = lateLimitFor(n);
      const sample = Array.from({ length: n }, (_, i) => (i < n - late ? 1 : 100));
      assert.ok((summariseLatencies(sample)?.p99Ms ?? 0) > 50, `n = ${n}`);
      const fewer = Array.from({ length: n }, (_, i) => (i < n - late + 1 ? 1 : 100));
      // one late request fewer can still leave p99 below the target
      assert.ok((summariseLatencies(fewer)?.p99Ms ?? Infinity) < 100, `n = ${n}`);
    }
  });

  test('planned requests: rate × duration, within the minimum, the maximum and the windows', () => {
    const base = { durationMs: 1000, min: 100, max: 20_000, maxWindowMs: 3000, minWindowMs: 0 };
    assert.equal(plannedRequests({ ...base, rate: 500 }), 500);
    // 20 req/s × 1 s = 20, raised to 100 needs 5 s, but the window stops at 3 s: 60
    assert.equal(plannedRequests({ ...base, rate: 20 }), 60);
    assert.equal(plannedRequests({ ...base, rate: 50_000 }), 20_000);
    // a 2 s shortest window wins over the maximum: 50 000 × 2 = 100 000
    assert.equal(plannedRequests({ ...base, rate: 50_000, minWindowMs: 2000 }), 100_000);
    assert.equal(plannedRequests({ ...base, rate: 0.01 }), 1);
  });
});

describe('measurement inputs', () => {
  test('zeroInputs fills a dynamic batch with the rows asked for and other dynamic dimensions with 1', () => {
    const [x] = zeroInputs({ inputs: [{ name: 'x', datatype: 'INT64', shape: [-1, -1, 3] }], outputs: [] }, 5);
    assert.deepEqual(x?.shape, [5, 1, 3]);
    assert.ok(x?.data instanceof BigInt64Array && x.data.length === 15);
  });

  test('repeatRows cycles the sample rows in order', () => {
    const [x] = repeatRows([{ name: 'x', datatype: 'FP32', shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) }], 5);
    assert.deepEqual(x?.shape, [5, 2]);
    assert.deepEqual(Array.from(x?.data as Float32Array), [1, 2, 3, 4, 1, 2, 3, 4, 1, 2]);
  });
});
