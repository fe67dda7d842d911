import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFakeClock, type Logger } from '../../../src/core/index.js';
import { createPredictionRecorder, type MonitoringStore, type PredictionInput, type PredictionRecord } from '../../../src/monitoring/index.js';
import { createMemoryMonitoringStore } from '../../../src/storage/index.js';
import { probabilities, rid, T0 } from './fixtures.js';

const input = (n: number, overrides: Partial<PredictionInput> = {}): PredictionInput => ({
  requestId: rid(n),
  endpoint: 'fraud',
  model: 'fraud',
  version: 1,
  latencyMs: 2,
  status: 200,
  outputs: [probabilities([1])],
  ...overrides,
});

/** A memory store that logs the size of every batch written, and can be made to fail or wait. */
function spyStore() {
  const inner = createMemoryMonitoringStore();
  const batches: number[] = [];
  let fail = false;
  let gate: Promise<void> | undefined;
  const store: MonitoringStore = {
    ...inner,
    async insertPredictions(records: readonly PredictionRecord[]) {
      batches.push(records.length);
      if (gate !== undefined) await gate;
      if (fail) throw new Error('disk full');
      return inner.insertPredictions(records);
    },
  };
  return {
    store,
    batches,
    failWrites: (value: boolean) => {
      fail = value;
    },
    /** Holds writes until the returned function is called. */
    hold(): () => void {
      let release = (): void => {};
      gate = new Promise<void>((resolve) => {
        release = () => {
          gate = undefined;
          resolve();
        };
      });
      return release;
    },
  };
}

/** Lets pending promise callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('prediction recorder', () => {
  test('returns at once and writes the record at the next flush interval', async () => {
    const clock = createFakeClock(T0);
    const { store, batches } = spyStore();
    const recorder = createPredictionRecorder({ store, clock, flushIntervalMs: 1000 });
    assert.equal(recorder.recordPrediction(input(1)), true);
    assert.deepEqual(await store.getPredictions(rid(1)), []);
    assert.equal(recorder.stats().buffered, 1);
    await clock.advance(999);
    assert.deepEqual(batches, []);
    await clock.advance(1);
    const [stored] = await store.getPredictions(rid(1));
    assert.equal(stored?.at, T0, 'stamped when recorded');
    assert.equal(stored?.variant, 'stable', 'the default variant');
    assert.deepEqual(stored?.outputs.predicted, { output: 'probabilities', kind: 'scores', value: 1 });
    assert.deepEqual(recorder.stats(), { buffered: 0, accepted: 1, written: 1, duplicates: 0, dropped: 0, failed: 0 });
    await recorder.close();
  });

  test('writes on flush after idle timer ticks found nothing to write', async () => {
    const clock = createFakeClock(T0);
    const { store } = spyStore();
    const recorder = createPredictionRecorder({ store, clock, flushIntervalMs: 1000 });
    await clock.advance(5000);
    recorder.recordPrediction(input(1));
    await recorder.flush();
    assert.equal((await store.getPredictions(rid(1))).length, 1);
    await recorder.close();
  });

  test('drops and counts records when the buffer is full, and takes them again once it is written', async () => {
    const clock = createFakeClock(T0);
    const { store } = spyStore();
    const recorder = createPredictionRecorder({ store, clock, bufferSize: 3, flushBatchSize: 100 });
    const accepted = [1, 2, 3, 4, 5].map((n) => recorder.recordPrediction(input(n)));
    assert.deepEqual(accepted, [true, true, true, false, false]);
    assert.equal(recorder.stats().dropped, 2);
    await recorder.flush();
    assert.equal(recorder.recordPrediction(input(6)), true);
    await recorder.flush();
    assert.deepEqual((await store.size()).predictions, 4);
    await recorder.close();
  });

  test('writes in batches of flushBatchSize, starting as soon as a batch is full', async () => {
    const clock = createFakeClock(T0);
    const { store, batches } = spyStore();
    const recorder = createPredictionRecorder({ store, clock, flushBatchSize: 2, flushIntervalMs: 60_000 });
    for (let n = 1; n <= 5; n++) recorder.recordPrediction(input(n));
    await clock.advance(0);
    await recorder.flush();
    assert.deepEqual(batches, [2, 2, 1]);
    assert.equal(recorder.stats().written, 5);
    await recorder.close();
  });

  test('keeps taking records while a write is in progress', async () => {
    const clock = createFakeClock(T0);
    const spy = spyStore();
    const recorder = createPredictionRecorder({ store: spy.store, clock });
    recorder.recordPrediction(input(1));
    const release = spy.hold();
    const flushing = recorder.flush();
    assert.equal(recorder.recordPrediction(input(2)), true, 'recording never waits for storage');
    assert.equal(recorder.stats().buffered, 2, 'one buffered, one being written');
    release();
    await flushing;
    assert.equal((await spy.store.size()).predictions, 1, 'a flush writes what was accepted before it was called');
    assert.equal(recorder.stats().buffered, 1);
    await recorder.flush();
    assert.equal((await spy.store.size()).predictions, 2, 'and the next flush writes what arrived meanwhile');
    await recorder.close();
  });

  test('keeps batches full under steady traffic: what arrives during a write waits for a full batch or the interval', async () => {
    const clock = createFakeClock(T0);
    const spy = spyStore();
    const recorder = createPredictionRecorder({ store: spy.store, clock, flushBatchSize: 3, flushIntervalMs: 1000 });
    const release = spy.hold();
    for (let n = 1; n <= 3; n++) recorder.recordPrediction(input(n));
    await clock.advance(0);
    assert.deepEqual(spy.batches, [3], 'a full batch is written at once');
    // records keep arriving while that write is held
    recorder.recordPrediction(input(4));
    recorder.recordPrediction(input(5));
    release();
    await clock.advance(0);
    for (let i = 0; i < 5; i++) await settle();
    assert.deepEqual(spy.batches, [3], 'the two that arrived during the write are not sent as a batch of their own');
    recorder.recordPrediction(input(6));
    await clock.advance(0);
    await settle();
    assert.deepEqual(spy.batches, [3, 3], 'they go with the next full batch');
    recorder.recordPrediction(input(7));
    await clock.advance(1000);
    await recorder.flush();
    assert.deepEqual(spy.batches, [3, 3, 1], 'a partial batch waits for the flush interval');
    assert.equal(recorder.stats().written, 7);
    await recorder.close();
  });

  test('counts records lost to a failed write, logs them, and carries on', async () => {
    const clock = createFakeClock(T0);
    const spy = spyStore();
    const warnings: string[] = [];
    const logger: Logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (_o, m) => warnings.push(m ?? '') };
    const recorder = createPredictionRecorder({ store: spy.store, clock, logger });
    spy.failWrites(true);
    recorder.recordPrediction(input(1));
    recorder.recordPrediction(input(2));
    await recorder.flush();
    assert.equal(recorder.stats().failed, 2);
    assert.equal(warnings.length, 1);
    spy.failWrites(false);
    recorder.recordPrediction(input(3));
    await recorder.flush();
    assert.deepEqual(await spy.store.size(), { predictions: 1, labels: 0, outcomes: 0 });
    await recorder.close();
  });

  test('counts a second answer under the same request id as a duplicate', async () => {
    const clock = createFakeClock(T0);
    const { store } = spyStore();
    const recorder = createPredictionRecorder({ store, clock });
    recorder.recordPrediction(input(1));
    recorder.recordPrediction(input(1, { latencyMs: 50 }));
    recorder.recordPrediction(input(1, { variant: 'shadow', version: 2 }));
    await recorder.flush();
    assert.equal(recorder.stats().duplicates, 1);
    assert.equal((await store.getPredictions(rid(1))).length, 2, 'primary and shadow');
    await recorder.close();
  });

  test('summarises outputs when called, so later changes to the tensors do not reach the record', async () => {
    const clock = createFakeClock(T0);
    const { store } = spyStore();
    const recorder = createPredictionRecorder({ store, clock });
    const tensor = probabilities([0]);
    recorder.recordPrediction(input(1, { outputs: [tensor] }));
    (tensor.data as Float32Array).fill(0).set([0, 0, 1]);
    await recorder.flush();
    assert.deepEqual((await store.getPredictions(rid(1)))[0]?.outputs.predicted?.value, 0);
    await recorder.close();
  });

  test('turns odd numbers into a record rather than failing the request', async () => {
    const clock = createFakeClock(T0);
    const { store } = spyStore();
    const recorder = createPredictionRecorder({ store, clock });
    assert.equal(recorder.recordPrediction(input(1, { latencyMs: NaN, at: Number.NaN, status: 503.7, outputs: undefined, model: undefined, version: 1.5 })), true);
    await recorder.flush();
    const [stored] = await store.getPredictions(rid(1));
    assert.deepEqual(
      { latencyMs: stored?.latencyMs, at: stored?.at, status: stored?.status, model: stored?.model, version: stored?.version, predicted: stored?.outputs.predicted },
      { latencyMs: 0, at: T0, status: 503, model: null, version: null, predicted: null },
    );
    await recorder.close();
  });

  test('writes what is buffered on close, then drops later records', async () => {
    const clock = createFakeClock(T0);
    const { store } = spyStore();
    const recorder = createPredictionRecorder({ store, clock, flushIntervalMs: 60_000 });
    recorder.recordPrediction(input(1));
    await recorder.close();
    assert.equal((await store.size()).predictions, 1);
    assert.equal(recorder.recordPrediction(input(2)), false);
    assert.equal(recorder.stats().dropped, 1);
    assert.equal(clock.pendingTimers(), 0, 'no timer left behind');
    await recorder.close();
  });

  test('records nothing, and counts nothing as dropped, when switched off', async () => {
    const clock = createFakeClock(T0);
    const { store } = spyStore();
    const recorder = createPredictionRecorder({ store, clock, enabled: false });
    assert.equal(recorder.recordPrediction(input(1)), false);
    await recorder.flush();
    assert.deepEqual(recorder.stats(), { buffered: 0, accepted: 0, written: 0, duplicates: 0, dropped: 0, failed: 0 });
    await recorder.close();
  });
});
