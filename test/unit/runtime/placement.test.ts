/**
 * Where sessions run (`placement`) and how intra-op threads follow the replica count. The `auto`
 * cases give the runtime a budget far from the models' costs — 50 ms for one Add (microseconds),
 * 1 µs for 24 chained 512×512 MatMuls (milliseconds) — so a busy machine cannot change the
 * decision; the default budget is documented in docs/runtime.md and seen in the server's log.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PlatformError, type Tensor } from '../../../src/core/index.js';
import { createOnnxRuntime, type OnnxModelRuntime } from '../../../src/runtime/index.js';
import { addModel, slowModel } from '../../support/models.js';

let runtime: OnnxModelRuntime;
/** Everything fits its budget: cheap models go to the main thread however loaded the machine is. */
let generous: OnnxModelRuntime;
/** Nothing fits: costly models stay in workers. */
let strict: OnnxModelRuntime;
let scratch: string;
let cheap: string;
let costly: string;

before(() => {
  runtime = createOnnxRuntime({ cores: 2 });
  generous = createOnnxRuntime({ cores: 2, mainThreadBudget: { singleMs: 50, batchMs: 500 } });
  strict = createOnnxRuntime({ cores: 2, mainThreadBudget: { singleMs: 0.001, batchMs: 0.001 } });
  scratch = mkdtempSync(join(tmpdir(), 'slipway-placement-'));
  cheap = join(scratch, 'add.onnx');
  writeFileSync(cheap, addModel(1));
  costly = join(scratch, 'slow.onnx');
  writeFileSync(costly, slowModel());
});
after(async () => {
  await Promise.all([runtime.close(), generous.close(), strict.close()]);
  rmSync(scratch, { recursive: true, force: true });
});

const rows = (...values: number[][]): Tensor[] => [{ name: 'x', datatype: 'FP32', shape: [values.length, 4], data: Float32Array.from(values.flat()) }];

describe('placement', () => {
  test('auto moves a model cheaper than a thread hop to the main thread, and it answers correctly', async () => {
    const model = await generous.load({ label: 'cheap', artifactPath: cheap, replicas: 2, placement: 'auto', batchSizeHint: 32 });
    try {
      assert.equal(model.placement, 'main-thread');
      assert.ok(model.timing !== undefined && model.timing.singleMs > 0, JSON.stringify(model.timing));
      assert.equal(model.timing.batchSize, 32, 'the largest batch the batcher may send was timed');
      assert.equal(model.maxReplicas, 1);
      assert.equal(model.pool.size(), 1, 'more sessions on one thread add nothing: one replica');
      const [y] = await model.infer(rows([1, 2, 3, 4], [5, 6, 7, 8]), undefined);
      assert.deepEqual(Array.from(y?.data as Float32Array), [2, 3, 4, 5, 6, 7, 8, 9]);
      await model.resize?.(3);
      assert.equal(model.pool.size(), 1, 'resizing a main-thread model stays at one replica');
    } finally {
      await model.unload();
    }
  });

  test('auto keeps a costly model in worker threads, and the replica that timed it serves (no second load)', async () => {
    const model = await strict.load({ label: 'costly', artifactPath: costly, replicas: 1, placement: 'auto', batchSizeHint: 8 });
    try {
      assert.equal(model.placement, 'worker');
      assert.ok(model.timing !== undefined, 'the model was timed');
      assert.equal(model.pool.counters().started, 1, 'the timing replica was adopted, not started twice');
      const x = Float32Array.from({ length: 512 }, (_, i) => i / 512);
      const [y] = await model.infer([{ name: 'x', datatype: 'FP32', shape: [1, 512], data: x }], undefined);
      assert.deepEqual(Array.from(y?.data as Float32Array), Array.from(x));
    } finally {
      await model.unload();
    }
  });

  test('auto times an artifact once: loading the same bytes again reuses the timing without a timing worker', async () => {
    const first = await generous.load({ label: 'again/1', artifactPath: cheap, replicas: 1, placement: 'auto', batchSizeHint: 16 });
    await first.unload();
    const second = await generous.load({ label: 'again/2', artifactPath: cheap, replicas: 1, placement: 'auto', batchSizeHint: 16 });
    try {
      assert.equal(second.placement, 'main-thread');
      assert.ok(first.timing !== undefined);
      assert.deepEqual(second.timing, first.timing, 'the same measurement, not a new one');
      const other = await generous.load({ label: 'again/3', artifactPath: cheap, replicas: 1, placement: 'auto', batchSizeHint: 8 });
      assert.notDeepEqual(other.timing, first.timing, 'another batch size is timed anew');
      await other.unload();
    } finally {
      await second.unload();
    }
  });

  test('a main-thread replica refuses a bad request with its reason and keeps serving', async () => {
    const model = await runtime.load({ label: 'main', artifactPath: cheap, replicas: 1, placement: 'main-thread' });
    try {
      assert.equal(model.placement, 'main-thread');
      const bad = await model.infer([{ name: 'x', datatype: 'FP32', shape: [1, 3], data: new Float32Array(3) }], undefined).then(
        () => assert.fail('expected a refusal'),
        (e: unknown) => e,
      );
      assert.ok(bad instanceof PlatformError && bad.code === 'RUNTIME_INFERENCE_FAILED', String(bad));
      const [y] = await model.infer(rows([0, 0, 0, 0]), undefined);
      assert.deepEqual(Array.from(y?.data as Float32Array), [1, 1, 1, 1]);
      assert.equal(model.stats()[0]?.served, 1);
      assert.equal(model.stats()[0]?.failed, 1);
    } finally {
      await model.unload();
    }
    await assert.rejects(model.infer(rows([0, 0, 0, 0]), undefined), (e: unknown) => e instanceof PlatformError && e.code === 'RUNTIME_UNLOADED');
  });

  test('worker placement skips the timing', async () => {
    const model = await runtime.load({ label: 'worker', artifactPath: cheap, replicas: 1, placement: 'worker' });
    try {
      assert.equal(model.placement, 'worker');
      assert.equal(model.timing, undefined);
    } finally {
      await model.unload();
    }
  });
});

describe('intra-op threads follow the replica count', () => {
  test('one replica gets every core; growing to two refits both to one thread each, and shrinking back to all', async () => {
    const model = await runtime.load({ label: 'fit', artifactPath: cheap, replicas: 1, placement: 'worker' });
    try {
      assert.equal(model.intraOpThreads, 2);
      await model.resize?.(2);
      assert.equal(model.intraOpThreads, 1);
      assert.equal(model.pool.counters().refitted, 1, 'the first replica, started with 2 threads, was replaced');
      assert.equal(model.pool.readyCount(), 2);
      await model.resize?.(1);
      assert.equal(model.intraOpThreads, 2);
      assert.equal(model.pool.counters().refitted, 2);
      assert.equal(model.pool.readyCount(), 1);
      const [y] = await model.infer(rows([1, 1, 1, 1]), undefined);
      assert.deepEqual(Array.from(y?.data as Float32Array), [2, 2, 2, 2]);
    } finally {
      await model.unload();
    }
  });

  test('a fixed thread count is never refitted', async () => {
    const model = await runtime.load({ label: 'fixed', artifactPath: cheap, replicas: 1, intraOpThreads: 1, placement: 'worker' });
    try {
      await model.resize?.(2);
      assert.equal(model.intraOpThreads, 1);
      assert.equal(model.pool.counters().refitted, 0);
    } finally {
      await model.unload();
    }
  });
});
