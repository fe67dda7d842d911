import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { PlatformError } from '../../../src/core/index.js';
import { createTapeWriter, readTape, type PredictionTape } from '../../../src/monitoring/predictions/tape.js';
import { createSqliteMonitoringStore, openSqliteDatabase, startPredictionWriter, type InsertInProcess } from '../../../src/storage/index.js';
import { labels, probabilities, rid, T0 } from '../monitoring/fixtures.js';

/** A tape of predictions `from`…`to` (request ids rid(n)), one row each, class n mod 3. */
function tapeOf(from: number, to: number): PredictionTape {
  const writer = createTapeWriter();
  for (let n = from; n <= to; n++) {
    writer.add({ requestId: rid(n), endpoint: 'fraud', model: 'fraud-model', version: 1, variant: 'stable', latencyMs: 2, status: 200, outputs: [probabilities([n % 3]), labels([n % 3])] }, T0 + n);
  }
  return writer.seal();
}

describe('prediction writer (a worker thread with its own connection)', () => {
  const setup = async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-writer-'));
    const path = join(dir, 'slipway.db');
    const db = openSqliteDatabase(path);
    const writer = await startPredictionWriter({ path });
    const store = createSqliteMonitoringStore({ db, writer });
    const count = (): number => (db.prepare('SELECT COUNT(*) AS n FROM monitoring_predictions').get() as { n: number }).n;
    return {
      db,
      writer,
      store,
      count,
      cleanup: async () => {
        await writer.close();
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };

  test('reads the tape on its thread — outputs summarised there — and writes what the request thread then reads; a request id already stored is skipped', async () => {
    const t = await setup();
    try {
      const expected = readTape(tapeOf(1, 120));
      const fallback: InsertInProcess = () => assert.fail('the thread is alive: no fallback');
      assert.deepEqual(await t.writer.insertTape(tapeOf(1, 120), fallback), { inserted: 120, duplicates: 0 });
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
      await assert.rejects(t.writer.insertTape(tapeOf(1, 1)), (e: unknown) => e instanceof PlatformError && e.code === 'STORAGE_DATABASE_UNUSABLE');
      assert.deepEqual(await t.store.insertTape?.(tapeOf(1, 1)), { inserted: 1, duplicates: 0 }, 'the store passes its in-process insert');
    } finally {
      await t.cleanup();
    }
  });

  test('a database the thread cannot open is refused at start, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-writer-'));
    try {
      const path = join(dir, 'missing', 'slipway.db');
      await assert.rejects(startPredictionWriter({ path }), (e: unknown) => e instanceof PlatformError && e.code === 'STORAGE_DATABASE_UNUSABLE' && e.message.includes(path));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
