import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PlatformError, type Tensor } from '../../../src/core/index.js';
import { buildModel, type NodeSpec } from '../../../src/onnx/index.js';
import { createOnnxRuntime, defaultIntraOpThreads, type OnnxLoadedModel, type OnnxModelRuntime, type WorkerReplica } from '../../../src/runtime/index.js';
import { ensureFixtures, fixture, fixturePath, type FixtureManifest } from '../../fixtures/corpus.js';

let manifest: FixtureManifest;
let runtime: OnnxModelRuntime;
let scratch: string;

before(async () => {
  manifest = await ensureFixtures();
  runtime = createOnnxRuntime({ testHooks: true });
  scratch = mkdtempSync(join(tmpdir(), 'slipway-runtime-'));
});
after(async () => {
  await runtime.close();
  rmSync(scratch, { recursive: true, force: true });
});

function path(name: string): string {
  return fixturePath(fixture(manifest, name));
}

/** Inputs for the multi-io fixture (x + y, x * y over [rows, 4]). */
function pair(rows = 1, base = 1): Tensor[] {
  const x = Float32Array.from({ length: rows * 4 }, (_, i) => base + i);
  const y = new Float32Array(rows * 4).fill(2);
  return [
    { name: 'x', datatype: 'FP32', shape: [rows, 4], data: x },
    { name: 'y', datatype: 'FP32', shape: [rows, 4], data: y },
  ];
}

async function failure(promise: Promise<unknown>, code: string): Promise<PlatformError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof PlatformError, `expected a PlatformError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  return error;
}

function replicaOf(model: OnnxLoadedModel, index = 0): WorkerReplica {
  const r = model.pool.replicas()[index];
  assert.ok(r, `replica ${index} is ready`);
  return r as WorkerReplica;
}

describe('onnxruntime runtime: loading', () => {
  test('shares the cores out as intra-op threads, at least one per replica', () => {
    assert.equal(defaultIntraOpThreads(2, 1), 2);
    assert.equal(defaultIntraOpThreads(2, 2), 1);
    assert.equal(defaultIntraOpThreads(2, 3), 1);
    assert.equal(defaultIntraOpThreads(8, 3), 2);
  });

  test('loads a model into warm replicas and reports its signature and stats', async () => {
    const local = createOnnxRuntime({ cores: 4 });
    try {
      const model = await local.load({ label: 'multi:1', artifactPath: path('multi-io'), replicas: 2 });
      assert.equal(model.intraOpThreads, 2);
      assert.deepEqual(model.signature, fixture(manifest, 'multi-io').signature);
      const stats = model.stats();
      assert.deepEqual(stats.map((s) => [s.id, s.state, s.inFlight, s.served]), [
        ['multi:1/r1', 'ready', 0, 0],
        ['multi:1/r2', 'ready', 0, 0],
      ]);
      for (const s of stats) {
        assert.ok(s.loadMs > 0);
        assert.ok(s.heapBytes > 0);
      }
      await model.unload();
    } finally {
      await local.close();
    }
  });

  test('refuses bad load options with every problem named', async () => {
    const error = await failure(runtime.load({ label: 'bad', artifactPath: path('multi-io'), replicas: 0, intraOpThreads: 0.5 }), 'RUNTIME_INVALID_OPTIONS');
    assert.match(error.message, /replicas must be a whole number ≥ 1, got 0/);
    assert.match(error.message, /intraOpThreads must be a whole number ≥ 1, got 0.5/);
  });

  test('still loads a model whose warm-up with zero-filled inputs fails, and records why', async () => {
    // Reshape to [2, -1] cannot take the single element a warm-up with n = 1 provides, but serves even lengths
    const file = join(scratch, 'reshape.onnx');
    writeFileSync(
      file,
      buildModel({
        graph: {
          inputs: [{ name: 'x', elemType: 'FLOAT', shape: ['n'] }],
          outputs: [{ name: 'y', elemType: 'FLOAT', shape: [2, null] }],
          initializers: [{ name: 'shape', elemType: 'INT64', dims: [2], values: [2n, -1n] }],
          nodes: [{ opType: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] }],
        },
      }),
    );
    const model = await runtime.load({ label: 'reshape', artifactPath: file, replicas: 1 });
    try {
      const failures = model.warmupFailures();
      assert.equal(failures.length, 1);
      assert.equal(failures[0]?.code, 'RUNTIME_INFERENCE_FAILED');
      const [y] = await model.infer([{ name: 'x', datatype: 'FP32', shape: [4], data: new Float32Array([1, 2, 3, 4]) }], undefined);
      assert.deepEqual(y?.shape, [2, 2]);
    } finally {
      await model.unload();
    }
  });
});

describe('onnxruntime runtime: serving', () => {
  test('leaves the caller’s input arrays intact', async () => {
    const model = await runtime.load({ label: 'keep', artifactPath: path('multi-io'), replicas: 1 });
    try {
      const inputs = pair();
      const [sum] = await model.infer(inputs, ['sum']);
      assert.deepEqual(Array.from(sum?.data as Float32Array), [3, 4, 5, 6]);
      assert.deepEqual(Array.from(inputs[0]?.data as Float32Array), [1, 2, 3, 4]);
    } finally {
      await model.unload();
    }
  });

  test('carries onnxruntime’s refusal of an input back as RUNTIME_INFERENCE_FAILED', async () => {
    const model = await runtime.load({ label: 'refuse', artifactPath: path('multi-io'), replicas: 1 });
    try {
      const wrongType: Tensor[] = [
        { name: 'x', datatype: 'FP64', shape: [1, 4], data: new Float64Array(4) },
        { name: 'y', datatype: 'FP32', shape: [1, 4], data: new Float32Array(4) },
      ];
      const error = await failure(model.infer(wrongType, undefined), 'RUNTIME_INFERENCE_FAILED');
      assert.equal(error.kind, 'invalid');
      assert.match(error.message, /expected: \(tensor\(float\)\)/);
      const inconsistent: Tensor[] = [{ name: 'x', datatype: 'FP32', shape: [2, 4], data: new Float32Array(4) }, ...pair().slice(1)];
      await failure(model.infer(inconsistent, undefined), 'RUNTIME_TENSOR_INVALID');
      // the replica survives both
      assert.equal((await model.infer(pair(), undefined)).length, 2);
      assert.deepEqual(model.stats().map((s) => [s.served, s.failed]), [[1, 2]]);
    } finally {
      await model.unload();
    }
  });

  test('spreads concurrent requests over the replicas by outstanding requests', async () => {
    const model = await runtime.load({ label: 'spread', artifactPath: path('multi-io'), replicas: 2, warmup: false });
    try {
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => model.infer(pair(1, i), ['sum'])));
      results.forEach(([sum], i) => assert.equal((sum?.data as Float32Array)[0], i + 2));
      assert.deepEqual(model.stats().map((s) => s.served), [3, 3]);
    } finally {
      await model.unload();
    }
  });

  test('rejects a request whose signal is already aborted without running it', async () => {
    const model = await runtime.load({ label: 'abort', artifactPath: path('multi-io'), replicas: 1, warmup: false });
    try {
      const ac = new AbortController();
      ac.abort();
      await failure(model.infer(pair(), undefined, ac.signal), 'RUNTIME_ABORTED');
      assert.deepEqual(model.stats().map((s) => [s.served, s.failed, s.inFlight]), [[0, 0, 0]]);
    } finally {
      await model.unload();
    }
  });
});

describe('onnxruntime runtime: failures', () => {
  test('runs the in-flight requests of a crashed replica once more on its replacement', async () => {
    const model = await runtime.load({ label: 'crash', artifactPath: path('multi-io'), replicas: 1, warmup: false, hangTimeoutMs: 120_000 });
    try {
      const doomed = replicaOf(model);
      // the worker blocks (as in a long native call), then dies with the two requests still in flight
      doomed.test({ hook: 'block', ms: 200, exitCode: 7 });
      const inFlight = [model.infer(pair(), ['sum']), model.infer(pair(), ['sum'])];
      for (const p of inFlight) {
        const [answer] = await p;
        assert.deepEqual(Array.from(answer?.data as Float32Array), [3, 4, 5, 6], 'answered by the replacement');
      }
      const [sum] = await model.infer(pair(), ['sum']);
      assert.deepEqual(Array.from(sum?.data as Float32Array), [3, 4, 5, 6]);
      assert.equal(model.pool.counters().crashed, 1);
      assert.deepEqual(model.stats().map((s) => [s.id, s.state]), [['crash/r2', 'ready']]);
    } finally {
      await model.unload();
    }
  });

  test('treats an uncaught error in a replica as a crash and answers from the replacement', async () => {
    const model = await runtime.load({ label: 'throw', artifactPath: path('multi-io'), replicas: 1, warmup: false });
    try {
      // the throw is scheduled before the request can run, so the request meets a dying replica
      replicaOf(model).test({ hook: 'throw', message: 'boom in the worker' });
      const [first] = await model.infer(pair(), ['sum']);
      assert.equal((first?.data as Float32Array)[0], 3);
      const [sum] = await model.infer(pair(), ['sum']);
      assert.equal((sum?.data as Float32Array)[0], 3);
      assert.equal(model.pool.counters().crashed, 1);
    } finally {
      await model.unload();
    }
  });

  test('terminates and replaces a replica that exceeds hangTimeoutMs', async () => {
    const model = await runtime.load({ label: 'hang', artifactPath: path('multi-io'), replicas: 1, warmup: false, hangTimeoutMs: 300 });
    try {
      replicaOf(model).test({ hook: 'block', ms: 60_000 });
      const error = await failure(model.infer(pair(), undefined), 'RUNTIME_REPLICA_HUNG');
      assert.equal(error.kind, 'timeout');
      const [sum] = await model.infer(pair(), ['sum']);
      assert.equal((sum?.data as Float32Array)[0], 3);
      assert.equal(model.pool.counters().hung, 1);
    } finally {
      await model.unload();
    }
  });

  test('stops a replica or a probe that does not finish loading within startTimeoutMs', async () => {
    // 1 ms is less than any worker needs to start: every start runs out of time
    const hasty = createOnnxRuntime({ startTimeoutMs: 1 });
    try {
      const probe = await failure(hasty.probe(path('multi-io')), 'RUNTIME_LOAD_FAILED');
      assert.match(probe.message, /was still loading .*multi-io.* after 1 ms and was stopped/, probe.message);
      assert.deepEqual(probe.details?.startTimeoutMs, 1);
      await failure(hasty.load({ label: 'hasty', artifactPath: path('multi-io'), replicas: 1, warmup: false }), 'RUNTIME_LOAD_FAILED');
    } finally {
      await hasty.close();
    }
  });

  test('terminates a closing replica that does not exit within closeGraceMs', async () => {
    const impatient = createOnnxRuntime({ testHooks: true, closeGraceMs: 200 });
    const model = await impatient.load({ label: 'stuck', artifactPath: path('multi-io'), replicas: 1, warmup: false });
    // the thread is stuck (as in a native call that never returns) when it is asked to close
    replicaOf(model).test({ hook: 'block', ms: 60_000 });
    const started = performance.now();
    await model.unload();
    const waited = performance.now() - started;
    // the pool's own stop timeout (10 s) would end the wait too, later: 5 s tells them apart
    assert.ok(waited < 5_000, `unload waited ${Math.round(waited)} ms for a thread blocked for 60 s; closeGraceMs is 200`);
    assert.deepEqual(model.stats().map((s) => s.state), ['stopped']);
    await impatient.close();
  });

  test('unload waits for in-flight requests, then refuses new ones, and is idempotent', async () => {
    const model = await runtime.load({ label: 'drain', artifactPath: path('multi-io'), replicas: 1, warmup: false });
    replicaOf(model).test({ hook: 'block', ms: 200 });
    const inFlight = model.infer(pair(), ['product']);
    const unloading = model.unload();
    assert.equal(model.unload(), unloading);
    await failure(model.infer(pair(), undefined), 'RUNTIME_UNLOADED');
    const [product] = await inFlight;
    assert.deepEqual(Array.from(product?.data as Float32Array), [2, 4, 6, 8]);
    await unloading;
    assert.deepEqual(model.stats().map((s) => [s.state, s.served]), [['stopped', 1]]);
    await model.unload();
  });
});

describe('onnxruntime runtime: threads', () => {
  test('keeps the main thread responsive while a replica runs a heavy model', async (t) => {
    // a model whose every call is long: 32 × (MatMul by a 512×512 weight, Tanh) over a batch of 1024
    const width = 512;
    const layers = 32;
    let seed = 7;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    const nodes: NodeSpec[] = [];
    let prev = 'x';
    for (let l = 0; l < layers; l++) {
      nodes.push({ opType: 'MatMul', inputs: [prev, 'w'], outputs: [`m${l}`] }, { opType: 'Tanh', inputs: [`m${l}`], outputs: [`h${l}`] });
      prev = `h${l}`;
    }
    nodes.push({ opType: 'ReduceSum', inputs: [prev, 'axes'], outputs: ['y'], attributes: { keepdims: { i: 1 } } });
    const file = join(scratch, 'long-matmul.onnx');
    writeFileSync(
      file,
      buildModel({
        graph: {
          inputs: [{ name: 'x', elemType: 'FLOAT', shape: ['batch', width] }],
          outputs: [{ name: 'y', elemType: 'FLOAT', shape: ['batch', 1] }],
          initializers: [
            { name: 'w', elemType: 'FLOAT', dims: [width, width], values: Array.from({ length: width * width }, () => (random() * 1.7) / Math.sqrt(width)) },
            { name: 'axes', elemType: 'INT64', dims: [1], values: [1n] },
          ],
          nodes,
        },
      }),
    );
    const model = await runtime.load({ label: 'long', artifactPath: file, replicas: 1, intraOpThreads: 1, warmup: false });
    try {
      const rows = 1024;
      const x: Tensor = { name: 'x', datatype: 'FP32', shape: [rows, width], data: Float32Array.from({ length: rows * width }, (_, i) => Math.cos(i)) };
      const histogram = monitorEventLoopDelay({ resolution: 5 });
      histogram.enable();
      let longestMs = 0;
      // at least 200 ms of inference (bounded, in case a machine is very fast)
      for (let i = 0; i < 50 && (model.stats()[0]?.busyMs ?? 0) < 200; i++) {
        const before = model.stats()[0]?.busyMs ?? 0;
        const [y] = await model.infer([x], undefined);
        assert.deepEqual(y?.shape, [rows, 1]);
        longestMs = Math.max(longestMs, (model.stats()[0]?.busyMs ?? 0) - before);
      }
      histogram.disable();
      const busyMs = model.stats()[0]?.busyMs ?? 0;
      const maxDelayMs = histogram.max / 1e6;
      assert.ok(busyMs >= 200, `the replica ran for ${busyMs} ms`);
      // run on the main thread, each call would hold the loop for its whole length; other processes
      // on a shared 2-core machine cause scheduling stalls, hence half the longest call when that is more than 50 ms
      const limitMs = Math.max(50, longestMs / 2);
      t.diagnostic(`replica busy ${busyMs.toFixed(0)} ms, longest call ${longestMs.toFixed(0)} ms, max event-loop delay ${maxDelayMs.toFixed(1)} ms`);
      assert.ok(
        maxDelayMs < limitMs,
        `the main event loop was held up to ${maxDelayMs.toFixed(1)} ms (limit ${limitMs.toFixed(0)} ms) while the replica ran ${busyMs.toFixed(0)} ms, longest call ${longestMs.toFixed(0)} ms`,
      );
    } finally {
      await model.unload();
    }
  });

  test('does not keep the process alive once the work is done, with or without unload', () => {
    const runtimeIndex = fileURLToPath(new URL('../../../src/runtime/index.ts', import.meta.url));
    for (const unload of [true, false]) {
      const script = join(scratch, `exit-${unload}.mts`);
      writeFileSync(
        script,
        `import { createOnnxRuntime } from ${JSON.stringify(runtimeIndex)};
const runtime = createOnnxRuntime();
const model = await runtime.load({ label: 'exit', artifactPath: ${JSON.stringify(path('multi-io'))}, replicas: 2 });
const x = { name: 'x', datatype: 'FP32', shape: [1, 4], data: new Float32Array(4) };
const out = await model.infer([x, { ...x, name: 'y' }], undefined);
console.log('outputs', out.length);
${unload ? 'await runtime.close();' : ''}
`,
      );
      const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000, cwd: fileURLToPath(new URL('../../..', import.meta.url)) });
      assert.equal(child.error, undefined, `the process did not exit on its own (unload: ${unload})`);
      assert.equal(child.status, 0, child.stderr);
      assert.match(child.stdout, /outputs 2/);
    }
  });
});
