import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { PlatformError } from '../../../src/core/index.js';
import { createSqliteMonitoringStore, openSqliteDatabase, startPredictionWriter, type InsertInProcess } from '../../../src/storage/index.js';
import { record, rid } from '../monitoring/fixtures.js';

describe('prediction writer (a worker thread with its own connection)', () => {
  const setup = async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-writer-'));
    const path = join(dir, 'slipway.db');
    const db = openSqliteDatabase(path);
    const writer = await startPredictionWriter({ path });
    const store = createSqliteMonitoringStore({ db, writer });
    return {
      db,
      writer,
      store,
      cleanup: async () => {
        await writer.close();
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };

  test('writes on its thread what the request thread then reads, and skips a request id already stored', async () => {
    const t = await setup();
    try {
      const fallbackCalls: number[] = [];
      const fallback: InsertInProcess = (records) => {
        fallbackCalls.push(records.length);
        return { inserted: 0, duplicates: 0 };
      };
      const batch = Array.from({ length: 120 }, (_, i) => record(i + 1));
      assert.deepEqual(await t.writer.insert(batch, fallback), { inserted: 120, duplicates: 0 });
      assert.deepEqual(await t.store.insertPredictions([record(1), record(500)]), { inserted: 1, duplicates: 1 });
      assert.deepEqual(await t.store.getPredictions(rid(77)), [record(77)]);
      assert.deepEqual(fallbackCalls, [], 'the thread wrote everything');
      assert.equal(t.writer.offThread, true);
    } finally {
      await t.cleanup();
    }
  });

  test('a thread that dies with batches in flight: they and every later batch are written in-process, none lost or doubled', async () => {
    const t = await setup();
    try {
      const sent = t.store.insertPredictions(Array.from({ length: 200 }, (_, i) => record(i + 1)));
      await t.writer.terminate();
      const first = await sent;
      assert.equal(first.inserted + first.duplicates, 200);
      assert.equal(t.writer.offThread, false);
      assert.deepEqual(await t.store.insertPredictions([record(201), record(5)]), { inserted: 1, duplicates: 1 });
      const n = t.db.prepare('SELECT COUNT(*) AS n FROM monitoring_predictions').get() as { n: number };
      assert.equal(n.n, 201);
    } finally {
      await t.cleanup();
    }
  });

  test('after close, a batch without a fallback is refused with a storage error; close is idempotent', async () => {
    const t = await setup();
    try {
      await t.writer.close();
      await t.writer.close();
      await assert.rejects(t.writer.insert([record(1)]), (e: unknown) => e instanceof PlatformError && e.code === 'STORAGE_DATABASE_UNUSABLE');
      assert.deepEqual(await t.store.insertPredictions([record(1)]), { inserted: 1, duplicates: 0 }, 'the store passes its in-process insert');
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
