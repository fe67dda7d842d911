import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFakeClock, PlatformError, type ModelSignature, type Tensor } from '../../../src/core/index.js';
import { RuntimeErrors } from '../../../src/runtime/errors.js';
import { createBatchScheduler, withBatching, type BatchSchedulerOptions } from '../../../src/serving/batching/index.js';
import { compute, fakeModel, outcome, request, tick, type FakeModel } from './fake-model.js';

function setup(options: BatchSchedulerOptions = {}, model: FakeModel = fakeModel()) {
  const clock = createFakeClock(0);
  const scheduler = createBatchScheduler(model, options, clock);
  return { clock, model, scheduler };
}

function codeOf(error: unknown): string | undefined {
  return error instanceof PlatformError ? error.code : undefined;
}

/** Asserts that `got` is exactly what the model computes for `inputs` alone. */
function assertOwnRows(got: readonly Tensor[] | undefined, inputs: readonly Tensor[], outputs?: readonly string[]): void {
  assert.ok(got !== undefined, 'no answer');
  assert.deepEqual(got, compute(inputs, outputs));
}

describe('adaptive dispatch', () => {
  test('never holds a request while a replica is idle: it runs at once, with no timer armed', async () => {
    const { clock, model, scheduler } = setup({}, fakeModel({ replicas: 2 }));
    void scheduler.infer(request(0, 1), undefined).catch(() => undefined);
    assert.equal(model.calls.length, 1, 'the first request runs synchronously');
    void scheduler.infer(request(1, 1), undefined).catch(() => undefined);
    assert.equal(model.calls.length, 2, 'the second replica takes the second request at once');
    const third = scheduler.infer(request(2, 1), undefined);
    assert.equal(model.calls.length, 2, 'with both replicas busy the third request waits');
    assert.equal(scheduler.stats().queueDepth, 1);
    assert.equal(clock.pendingTimers(), 0);
    model.calls[0]?.release();
    await tick();
    assert.equal(model.calls.length, 3, 'a freed replica takes the waiting request');
    model.calls[2]?.release();
    assertOwnRows(await third, request(2, 1));
  });

  test('tells its observer how long each request queued, and the rows and time of every run', async () => {
    const events: string[] = [];
    const clock = createFakeClock(0);
    const model = fakeModel();
    const scheduler = createBatchScheduler(model, { observer: { queued: (s) => events.push(`queued ${s}`), ran: (rows, s) => events.push(`ran ${rows} rows in ${s}`) } }, clock);
    const first = scheduler.infer(request(0, 1), undefined);
    const queued = [1, 2].map((k) => scheduler.infer(request(k * 100, 2), undefined));
    await clock.advance(5);
    model.calls[0]?.release();
    await first;
    await tick();
    await clock.advance(3);
    model.calls[1]?.release();
    await Promise.all(queued);
    await tick();
    assert.deepEqual(events, ['queued 0', 'ran 1 rows in 0.005', 'queued 0.005', 'queued 0.005', 'ran 4 rows in 0.003']);
  });

  test('merges every queued request into one run when a replica frees', async () => {
    const { model, scheduler } = setup();
    const first = scheduler.infer(request(0, 1), undefined);
    const queued = [1, 2, 3].map((k) => scheduler.infer(request(k * 100, 1), undefined));
    assert.equal(model.calls.length, 1);
    model.calls[0]?.release();
    await first;
    await tick();
    assert.equal(model.calls.length, 2, 'the three queued requests go out together');
    assert.deepEqual(model.calls[1]?.inputs[0]?.shape, [3, 2]);
    model.calls[1]?.release();
    const answers = await Promise.all(queued);
    answers.forEach((a, i) => assertOwnRows(a, request((i + 1) * 100, 1)));
    const stats = scheduler.stats();
    assert.equal(stats.batches, 2);
    assert.equal(stats.requests, 4);
    assert.equal(stats.meanRequestsPerBatch, 2);
    assert.equal(stats.meanBatchSize, 2);
  });

  test('follows the replica count as it changes (read at every dispatch)', async () => {
    const model = fakeModel({ replicas: 1 });
    const { scheduler } = setup({}, model);
    const all = [scheduler.infer(request(0, 1), undefined), scheduler.infer(request(1, 1), undefined)];
    assert.equal(model.calls.length, 1);
    model.replicas = 2; // scaled up while a request waits
    all.push(scheduler.infer(request(2, 1), undefined));
    assert.equal(model.calls.length, 2, 'the new replica takes the queued requests without waiting for the busy one');
    assert.deepEqual(model.calls[1]?.inputs[0]?.shape, [2, 2]);
    model.calls[0]?.release();
    model.calls[1]?.release();
    const answers = await Promise.all(all);
    answers.forEach((a, i) => assertOwnRows(a, request(i, 1)));
  });
});

describe('scale from zero', () => {
  test('with no replica ready, one run goes to the model (which holds it) and the rest merge behind it', async () => {
    const { model, scheduler } = setup({}, fakeModel({ replicas: 0 }));
    const all = [0, 1, 2, 3].map((k) => scheduler.infer(request(k, 1), undefined));
    assert.equal(model.calls.length, 1);
    assert.equal(scheduler.stats().queueDepth, 3);
    model.replicas = 1;
    model.calls[0]?.release();
    await tick();
    assert.equal(model.calls.length, 2);
    assert.deepEqual(model.calls[1]?.inputs[0]?.shape, [3, 2]);
    model.calls[1]?.release();
    const answers = await Promise.all(all);
    answers.forEach((a, i) => assertOwnRows(a, request(i, 1)));
  });
});

describe('merging', () => {
  test('each caller gets exactly its own rows back: mixed batch sizes, several inputs and outputs, BYTES and INT64', async () => {
    const { model, scheduler } = setup({ maxBatchSize: 100 });
    const blocker = scheduler.infer(request(-50, 2), undefined);
    const sizes = [1, 2, 3, 4, 5, 6, 7];
    const inputs = sizes.map((rows, i) => request(i * 1000, rows));
    const pending = inputs.map((x) => scheduler.infer(x, undefined));
    model.calls[0]?.release();
    assertOwnRows(await blocker, request(-50, 2));
    await tick();
    assert.equal(model.calls.length, 2);
    const merged = model.calls[1];
    assert.deepEqual(merged?.inputs.map((t) => t.shape), [
      [28, 2],
      [28],
    ]);
    merged?.release();
    const answers = await Promise.all(pending);
    answers.forEach((a, i) => assertOwnRows(a, inputs[i] ?? []));
  });

  test('inputs sent in a different order still merge, and each answer follows its own request', async () => {
    const { model, scheduler } = setup();
    void scheduler.infer(request(0, 1), undefined).catch(() => undefined);
    const a = request(10, 2);
    const b = [...request(20, 3)].reverse();
    const pa = scheduler.infer(a, undefined);
    const pb = scheduler.infer(b, undefined);
    model.calls[0]?.release();
    await tick();
    assert.equal(model.calls.length, 2);
    model.calls[1]?.release();
    assertOwnRows(await pa, a);
    assertOwnRows(await pb, b);
  });

  test('requests asking for different outputs are not merged together', async () => {
    const { model, scheduler } = setup();
    void scheduler.infer(request(0, 1), undefined).catch(() => undefined);
    const p1 = scheduler.infer(request(1, 1), ['y']);
    const p2 = scheduler.infer(request(2, 1), ['tag']);
    const p3 = scheduler.infer(request(3, 1), ['y']);
    model.calls[0]?.release();
    await tick();
    assert.equal(model.calls.length, 2);
    assert.deepEqual(model.calls[1]?.outputs, ['y']);
    assert.deepEqual(model.calls[1]?.inputs[0]?.shape, [2, 2], 'the two y requests merge, skipping the tag one');
    model.calls[1]?.release();
    assertOwnRows(await p1, request(1, 1), ['y']);
    assertOwnRows(await p3, request(3, 1), ['y']);
    await tick();
    assert.equal(model.calls.length, 3);
    model.calls[2]?.release();
    assertOwnRows(await p2, request(2, 1), ['tag']);
  });

  test('respects maxBatchSize in rows, and a request larger than it runs alone', async () => {
    const { model, scheduler } = setup({ maxBatchSize: 4 });
    const all = [scheduler.infer(request(0, 1), undefined)];
    for (const [k, rows] of [1, 1, 1, 1, 1, 3, 6].entries()) all.push(scheduler.infer(request(100 * (k + 1), rows), undefined));
    for (let i = 0; i < 6 && model.calls.length > i; i++) {
      model.calls[i]?.release();
      await tick();
    }
    await Promise.all(all);
    const rowsPerRun = model.calls.map((c) => c.inputs[0]?.shape[0]);
    assert.deepEqual(rowsPerRun, [1, 4, 4, 6]);
    assert.ok(rowsPerRun.slice(0, 3).every((r) => (r ?? 0) <= 4));
  });

  test('one bad request does not fail its batch-mates: the batch is re-run one request at a time', async () => {
    const { model, scheduler } = setup();
    void scheduler.infer(request(0, 1), undefined).catch(() => undefined);
    const good1 = scheduler.infer(request(10, 2), undefined);
    const badInput = request(20, 1);
    (badInput[0]?.data as Float32Array)[1] = NaN;
    const bad = outcome(scheduler.infer(badInput, undefined));
    const good2 = scheduler.infer(request(30, 3), undefined);
    model.calls[0]?.release();
    await tick();
    model.calls[1]?.release(); // the merged run: fails on the NaN
    for (let i = 2; i < 5; i++) {
      await tick();
      model.calls[i]?.release();
    }
    assertOwnRows(await good1, request(10, 2));
    assertOwnRows(await good2, request(30, 3));
    await tick();
    assert.equal(codeOf(bad.error()), 'RUNTIME_INFERENCE_FAILED');
    assert.equal(model.calls.length, 5, 'one merged run, then each of its three requests alone');
    assert.equal(scheduler.stats().isolatedBatches, 1);
    assert.equal(scheduler.stats().merging, true, 'a genuinely bad request does not switch merging off');
  });

  test('a crash fails the whole batch at once, without re-running anything', async () => {
    const { model, scheduler } = setup();
    void scheduler.infer(request(0, 1), undefined).catch(() => undefined);
    const members = [1, 2, 3].map((k) => outcome(scheduler.infer(request(k, 1), undefined)));
    model.calls[0]?.release();
    await tick();
    model.calls[1]?.fail(RuntimeErrors.RUNTIME_REPLICA_CRASHED('the worker died'));
    await tick();
    for (const m of members) assert.equal(codeOf(m.error()), 'RUNTIME_REPLICA_CRASHED');
    assert.equal(model.calls.length, 2);
  });

  test('stops merging when a merged run fails although each of its requests succeeds alone', async () => {
    // a model that refuses any run of more than 2 rows, whatever the values
    const model = fakeModel({
      answer: (inputs, outputs) => {
        if ((inputs[0]?.shape[0] ?? 0) > 2) throw RuntimeErrors.RUNTIME_INFERENCE_FAILED('Reshape: batch must be ≤ 2');
        return compute(inputs, outputs);
      },
    });
    const { scheduler } = setup({}, model);
    void scheduler.infer(request(0, 1), undefined).catch(() => undefined);
    const members = [1, 2, 3].map((k) => scheduler.infer(request(k, 1), undefined));
    model.calls[0]?.release();
    for (let i = 1; i < 5; i++) {
      await tick();
      model.calls[i]?.release();
    }
    const answers = await Promise.all(members);
    answers.forEach((a, i) => assertOwnRows(a, request(i + 1, 1)));
    assert.equal(scheduler.stats().merging, false);
    // from now on queued requests run one at a time
    void scheduler.infer(request(10, 1), undefined).catch(() => undefined);
    const later = [11, 12].map((k) => scheduler.infer(request(k, 1), undefined));
    for (let i = 5; i < 8; i++) {
      await tick();
      model.calls[i]?.release();
    }
    await Promise.all(later);
    assert.deepEqual(
      model.calls.slice(5).map((c) => c.inputs[0]?.shape[0]),
      [1, 1, 1],
    );
  });

  test('stops merging when an output cannot be split by rows at run time, and still answers everyone', async () => {
    // the signature promises a batch dimension, but the model answers a single summary row
    const model = fakeModel({
      answer: (inputs) => {
        const x = inputs[0]?.data as Float32Array;
        let sum = 0;
        for (const v of x) sum += v;
        return [{ name: 'y', datatype: 'FP32', shape: [1, 1], data: new Float32Array([sum]) }];
      },
    });
    const { scheduler } = setup({}, model);
    void scheduler.infer(request(0, 1), undefined).catch(() => undefined);
    const members = [1, 2].map((k) => scheduler.infer(request(k, 1), undefined));
    model.calls[0]?.release();
    for (let i = 1; i < 4; i++) {
      await tick();
      model.calls[i]?.release();
    }
    const answers = await Promise.all(members);
    assert.deepEqual(
      answers.map((a) => Array.from(a[0]?.data as Float32Array)),
      [[1 + 2], [2 + 3]],
    );
    assert.equal(scheduler.stats().merging, false);
  });

  test('a fixed-shape model runs one request at a time through the same queue', async () => {
    const fixed: ModelSignature = {
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [1, 2] },
        { name: 's', datatype: 'BYTES', shape: [1] },
      ],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 2] }],
    };
    const model = fakeModel({ signature: fixed });
    const { scheduler } = setup({}, model);
    assert.equal(scheduler.stats().merging, false);
    const all = [0, 1, 2, 3].map((k) => scheduler.infer(request(k, 1), ['y']));
    assert.equal(scheduler.stats().queueDepth, 3);
    for (let i = 0; i < 4; i++) {
      await tick();
      assert.equal(model.running(), 1);
      model.calls[i]?.release();
    }
    const answers = await Promise.all(all);
    answers.forEach((a, i) => assertOwnRows(a, request(i, 1), ['y']));
    assert.equal(model.calls.length, 4);
    assert.ok(model.calls.every((c) => c.inputs[0]?.shape[0] === 1));
    assert.equal(model.peak(), 1);
  });
});

describe('limits', () => {
  test('a full queue refuses the next request with SERVING_QUEUE_FULL (limited, with a retry delay)', async () => {
    const { model, scheduler } = setup({ maxQueueSize: 2 });
    const all = [0, 1, 2].map((k) => scheduler.infer(request(k, 1), undefined));
    const refused = outcome(scheduler.infer(request(3, 1), undefined));
    await tick();
    const error = refused.error();
    assert.ok(error instanceof PlatformError);
    assert.equal(error.code, 'SERVING_QUEUE_FULL');
    assert.equal(error.kind, 'limited');
    assert.ok((error.retryAfterSeconds ?? 0) >= 1);
    assert.equal(scheduler.stats().rejected, 1);
    assert.equal(scheduler.stats().queueDepth, 2);
    model.calls[0]?.release();
    await tick();
    model.calls[1]?.release();
    await Promise.all(all);
  });

  test('a request that waits longer than queueTimeoutMs gets SERVING_QUEUE_TIMEOUT and never runs', async () => {
    const { clock, model, scheduler } = setup({ queueTimeoutMs: 100 });
    const first = scheduler.infer(request(0, 1), undefined);
    const waiting = outcome(scheduler.infer(request(1, 1), undefined));
    await clock.advance(99);
    assert.equal(waiting.settled(), false);
    await clock.advance(1);
    await tick();
    const error = waiting.error();
    assert.ok(error instanceof PlatformError);
    assert.equal(error.code, 'SERVING_QUEUE_TIMEOUT');
    assert.equal(error.kind, 'limited');
    assert.equal(scheduler.stats().timedOut, 1);
    model.calls[0]?.release();
    await first;
    await tick();
    assert.equal(model.calls.length, 1, 'the timed-out request was not run');
  });

  test('a dispatched request is not timed out by the queue timeout', async () => {
    const { clock, model, scheduler } = setup({ queueTimeoutMs: 100 });
    const first = outcome(scheduler.infer(request(0, 1), undefined));
    await clock.advance(500);
    model.calls[0]?.release();
    await tick();
    assertOwnRows(first.value(), request(0, 1));
    assert.equal(clock.pendingTimers(), 0);
  });

  test('a request whose client went away leaves the queue at once and never runs', async () => {
    const { model, scheduler } = setup();
    const first = scheduler.infer(request(0, 1), undefined);
    const controller = new AbortController();
    const gone = outcome(scheduler.infer(request(1, 1), undefined, controller.signal));
    const stays = scheduler.infer(request(2, 1), undefined);
    controller.abort();
    await tick();
    assert.equal(codeOf(gone.error()), 'RUNTIME_ABORTED');
    assert.equal(scheduler.stats().queueDepth, 1);
    assert.equal(scheduler.stats().aborted, 1);
    model.calls[0]?.release();
    await first;
    await tick();
    assert.equal(model.calls.length, 2);
    assert.deepEqual(model.calls[1]?.inputs[0]?.shape, [1, 2], 'only the request that stayed is run');
    model.calls[1]?.release();
    assertOwnRows(await stays, request(2, 1));
  });

  test('an already aborted signal is refused without queueing or running', async () => {
    const { model, scheduler } = setup();
    await assert.rejects(scheduler.infer(request(0, 1), undefined, AbortSignal.abort()), (e: unknown) => codeOf(e) === 'RUNTIME_ABORTED');
    assert.equal(model.calls.length, 0);
  });

  test('when every caller of a running merged batch leaves, the run is cancelled', async () => {
    const { model, scheduler } = setup();
    void scheduler.infer(request(0, 1), undefined).catch(() => undefined);
    const controllers = [new AbortController(), new AbortController()];
    const members = controllers.map((c, k) => outcome(scheduler.infer(request(k + 1, 1), undefined, c.signal)));
    model.calls[0]?.release();
    await tick();
    const merged = model.calls[1];
    assert.equal(merged?.signal?.aborted, false);
    controllers[0]?.abort();
    assert.equal(merged?.signal?.aborted, false, 'one caller is still waiting');
    controllers[1]?.abort();
    assert.equal(merged?.signal?.aborted, true);
    await tick();
    for (const m of members) assert.equal(codeOf(m.error()), 'RUNTIME_ABORTED');
    merged?.release();
  });

  test('close refuses new requests and rejects queued ones with RUNTIME_UNLOADED', async () => {
    const { model, scheduler } = setup();
    const first = scheduler.infer(request(0, 1), undefined);
    const queued = outcome(scheduler.infer(request(1, 1), undefined));
    scheduler.close();
    await tick();
    assert.equal(codeOf(queued.error()), 'RUNTIME_UNLOADED');
    await assert.rejects(scheduler.infer(request(2, 1), undefined), (e: unknown) => codeOf(e) === 'RUNTIME_UNLOADED');
    model.calls[0]?.release();
    assertOwnRows(await first, request(0, 1));
  });
});

describe('delay mode (maxQueueDelayMicros > 0)', () => {
  test('holds a request up to the delay, then sends what it has', async () => {
    const { clock, model, scheduler } = setup({ maxQueueDelayMicros: 5000 });
    const a = outcome(scheduler.infer(request(0, 1), undefined));
    assert.equal(model.calls.length, 0);
    await clock.advance(2);
    const b = outcome(scheduler.infer(request(1, 2), undefined));
    await clock.advance(2.9);
    assert.equal(model.calls.length, 0);
    await clock.advance(0.1);
    assert.equal(model.calls.length, 1);
    assert.deepEqual(model.calls[0]?.inputs[0]?.shape, [3, 2]);
    model.calls[0]?.release();
    await tick();
    assertOwnRows(a.value(), request(0, 1));
    assertOwnRows(b.value(), request(1, 2));
  });

  test('never holds a request that cannot be merged with anything', async () => {
    const fixed: ModelSignature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 2] }] };
    const { clock, model, scheduler } = setup({ maxQueueDelayMicros: 1_000_000 }, fakeModel({ signature: fixed }));
    void scheduler.infer(request(0, 1), ['y']).catch(() => undefined);
    assert.equal(model.calls.length, 1);
    assert.equal(clock.pendingTimers(), 0);
    model.calls[0]?.release();
  });

  test('sends at once when the largest preferred batch size fills', async () => {
    const { model, scheduler } = setup({ maxQueueDelayMicros: 1_000_000, preferredBatchSizes: [2, 4] });
    const all = [0, 1, 2].map((k) => scheduler.infer(request(k, 1), undefined));
    assert.equal(model.calls.length, 0);
    all.push(scheduler.infer(request(3, 1), undefined));
    assert.equal(model.calls.length, 1);
    assert.deepEqual(model.calls[0]?.inputs[0]?.shape, [4, 2]);
    model.calls[0]?.release();
    const answers = await Promise.all(all);
    answers.forEach((a, i) => assertOwnRows(a, request(i, 1)));
  });

  test('when the delay runs out, sends the largest preferred size that is full and keeps the rest', async () => {
    const { clock, model, scheduler } = setup({ maxQueueDelayMicros: 1000, preferredBatchSizes: [2, 4], maxBatchSize: 8 });
    const all = [0, 1, 2].map((k) => scheduler.infer(request(k, 1), undefined));
    await clock.advance(1);
    assert.deepEqual(
      model.calls.map((c) => c.inputs[0]?.shape[0]),
      [2],
    );
    assert.equal(scheduler.stats().queueDepth, 1);
    model.calls[0]?.release();
    await tick();
    // the third request has waited its whole delay already: it goes as soon as the replica is free
    assert.equal(model.calls.length, 2);
    model.calls[1]?.release();
    await Promise.all(all);
  });
});

test('withBatching gives a LoadedModel whose infer goes through the scheduler and whose unload closes it', async () => {
  const model = fakeModel();
  const clock = createFakeClock(0);
  const scheduler = createBatchScheduler(model, {}, clock);
  const wrapped = withBatching(model, scheduler);
  assert.equal(wrapped.signature, model.signature);
  assert.equal(wrapped.stats().length, 1);
  const first = wrapped.infer(request(0, 1), undefined);
  const queued = outcome(wrapped.infer(request(1, 1), undefined));
  assert.equal(scheduler.stats().queueDepth, 1);
  model.calls[0]?.release();
  await first;
  await tick();
  model.calls[1]?.release();
  await tick();
  assert.ok(queued.value());
  await wrapped.unload();
  await assert.rejects(wrapped.infer(request(2, 1), undefined), (e: unknown) => codeOf(e) === 'RUNTIME_UNLOADED');
});

test('invalid options are refused with every problem and its path', () => {
  assert.throws(
    () => createBatchScheduler(fakeModel(), { maxBatchSize: 0, maxQueueSize: -1, preferredBatchSizes: [64] }, createFakeClock(0)),
    (e: unknown) =>
      e instanceof PlatformError &&
      e.code === 'CORE_INVALID_CONFIG' &&
      /batching\.maxBatchSize/.test(e.message) &&
      /batching\.maxQueueSize/.test(e.message) &&
      /batching\.preferredBatchSizes\[0\]/.test(e.message),
  );
});
