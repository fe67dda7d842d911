import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { PlatformError } from '../../../src/core/index.js';
import { createTapeWriter, readTape, type PredictionTape } from '../../../src/monitoring/predictions/tape.js';
import { createSqliteMonitoringStore, openSqliteDatabase, startStoreThread } from '../../../src/storage/index.js';
import { labels, probabilities, record, rid, T0 } from '../monitoring/fixtures.js';

/** A tape of predictions `from`…`to` (request ids rid(n)), one row each, class n mod 3. */
function tapeOf(from: number, to: number): PredictionTape {
  const writer = createTapeWriter();
  for (let n = from; n <= to; n++) {
    writer.add({ requestId: rid(n), endpoint: 'fraud', model: 'fraud-model', version: 1, variant: 'stable', latencyMs: 2, status: 200, outputs: [probabilities([n % 3]), labels([n % 3])] }, T0 + n);
  }
  return writer.seal();
}

describe('store threads (worker threads with their own connections)', () => {
  const setup = async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-store-thread-'));
    const path = join(dir, 'slipway.db');
    const db = openSqliteDatabase(path);
    const [writer, reader] = await Promise.all([startStoreThread({ path, role: 'writer' }), startStoreThread({ path, role: 'reader' })]);
    const store = createSqliteMonitoringStore({ db, writer, reader });
    const count = (): number => (db.prepare('SELECT COUNT(*) AS n FROM monitoring_predictions').get() as { n: number }).n;
    return {
      db,
      path,
      writer,
      reader,
      store,
      count,
      cleanup: async () => {
        await Promise.all([writer.close(), reader.close()]);
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };

  test('reads the tape on its thread — outputs summarised there — and writes what the request thread then reads; a request id already stored is skipped', async () => {
    const t = await setup();
    try {
      const expected = readTape(tapeOf(1, 120));
      const tape = tapeOf(1, 120);
      assert.deepEqual(await t.writer.call('insertTape', [tape], () => assert.fail('the thread is alive: no fallback')), { inserted: 120, duplicates: 0 });
      assert.ok(t.store.insertTape !== undefined, 'a store with a writer takes tapes');
      assert.deepEqual(await t.store.insertTape(tapeOf(120, 121)), { inserted: 1, duplicates: 1 });
      assert.deepEqual(await t.store.getPredictions(rid(77)), [expected[76]]);
      assert.deepEqual((await t.store.getPredictions(rid(77)))[0]?.outputs.predicted, { output: 'label', kind: 'label', value: 77 % 3 });
      assert.equal(t.writer.offThread, true);
      assert.equal(t.count(), 121);
    } finally {
      await t.cleanup();
    }
  });

  test('a thread that dies with tapes in flight: they and every later tape are written in-process, none lost or doubled', async () => {
    const t = await setup();
    try {
      const sent = t.store.insertTape?.(tapeOf(1, 200));
      await t.writer.terminate();
      const first = await sent;
      assert.equal((first?.inserted ?? 0) + (first?.duplicates ?? 0), 200);
      assert.equal(t.writer.offThread, false);
      assert.deepEqual(await t.store.insertTape?.(tapeOf(200, 201)), { inserted: 1, duplicates: 1 });
      assert.equal(t.count(), 201);
    } finally {
      await t.cleanup();
    }
  });

  test('after close, a tape without a fallback is refused with a storage error; close is idempotent', async () => {
    const t = await setup();
    try {
      await t.writer.close();
      await t.writer.close();
      await assert.rejects(
        t.writer.call('insertTape', [tapeOf(1, 1)], undefined),
        (e: unknown) => e instanceof PlatformError && e.code === 'STORAGE_DATABASE_UNUSABLE' && e.message.includes('writer thread') && e.message.includes('closed'),
      );
      assert.deepEqual(await t.store.insertTape?.(tapeOf(1, 1)), { inserted: 1, duplicates: 0 }, 'the store passes its in-process insert');
    } finally {
      await t.cleanup();
    }
  });

  test('the reader aggregates what the writer committed; feedback sent after a tape is checked against it; a reader that dies answers the same here', async () => {
    const t = await setup();
    try {
      void t.store.insertTape?.(tapeOf(1, 30));
      // sent after the tape, run after it on the same thread: all 30 are known
      assert.deepEqual(
        await t.store.addFeedback(
          Array.from({ length: 30 }, (_, i) => ({ requestId: rid(i + 1), label: (i + 1) % 3 === 0 ? 0 : 2, at: T0 + 100 })),
          { skipUnknown: false },
        ),
        { applied: 30, unknownRequestIds: [] },
      );
      const window = { since: T0 };
      const accuracy = (await t.store.outcomeSnapshot('fraud', window, [{ kind: 'accuracy' }])).arms[0];
      // class n mod 3 predicted; labels 0 for n ≡ 0 and 2 otherwise: right for n ≡ 0 (10) and n ≡ 2 (10)
      assert.deepEqual(accuracy, [{ variant: 'stable', version: 1, arm: { kind: 'rate', n: 30, successes: 20 } }]);
      const counts = await t.store.predictionCounts('fraud', window);
      const values = await t.store.predictedValues('fraud', window);
      assert.deepEqual(counts, [{ variant: 'stable', version: 1, predictions: 30, answered: 30 }]);

      const pending = t.store.predictionCounts('fraud', window);
      await t.reader.terminate();
      assert.equal(t.reader.offThread, false);
      assert.deepEqual(await pending, counts, 'a call the dead thread held runs here');
      assert.deepEqual(await t.store.predictedValues('fraud', window), values);
      assert.deepEqual((await t.store.outcomeSnapshot('fraud', window, [{ kind: 'accuracy' }])).arms[0], accuracy);
    } finally {
      await t.cleanup();
    }
  });

  test('retention runs on the writer thread and removes feedback with the last record', async () => {
    const t = await setup();
    try {
      await t.store.insertPredictions([1, 2, 3].map((n) => record(n, { at: T0 - n })));
      await t.store.addFeedback([{ requestId: rid(3), label: 'cat', at: T0 }], { skipUnknown: false });
      assert.deepEqual(await t.store.prune({ olderThan: T0 - 1, limit: 10 }), { deleted: 2, more: false });
      assert.deepEqual(await t.store.size(), { predictions: 1, labels: 0, outcomes: 0 });
    } finally {
      await t.cleanup();
    }
  });

  test('each thread runs only its own kind of operation, and a store takes each only in its role', async () => {
    const t = await setup();
    try {
      await assert.rejects(t.reader.call('prune', [{ limit: 1 }], undefined), /the reader thread does not run prune/);
      await assert.rejects(t.writer.call('predictionCounts', ['fraud', { since: 0 }], undefined), /the writer thread does not run predictionCounts/);
      assert.throws(() => createSqliteMonitoringStore({ db: t.db, writer: t.reader }), /writer must be a writer thread, not a reader/);
      assert.throws(() => createSqliteMonitoringStore({ db: t.db, reader: t.writer }), /reader must be a reader thread, not a writer/);
    } finally {
      await t.cleanup();
    }
  });

  test('a database the thread cannot open is refused at start, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-store-thread-'));
    try {
      const path = join(dir, 'missing', 'slipway.db');
      await assert.rejects(startStoreThread({ path, role: 'reader' }), (e: unknown) => e instanceof PlatformError && e.code === 'STORAGE_DATABASE_UNUSABLE' && e.message.includes(path));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
