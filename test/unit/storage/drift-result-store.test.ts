import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { DriftResult, DriftResultStore } from '../../../src/monitoring/drift/index.js';
import { createMemoryDriftResultStore, createSqliteDriftResultStore } from '../../../src/storage/index.js';
import { openSqliteDatabase } from '../../../src/storage/sqlite/database.js';

const result = (endpoint: string, version: number, at: number): DriftResult =>
  ({ endpoint, model: 'm', version, at, report: { format: 1, model: 'm', version, status: at % 2 === 0 ? 'drift' : 'no_drift' } }) as unknown as DriftResult;

async function contract(store: DriftResultStore): Promise<void> {
  for (let i = 1; i <= 5; i++) await store.put(result('a', i <= 3 ? 1 : 2, i));
  await store.put(result('b', 1, 10));
  assert.deepEqual((await store.list('a', { limit: 10 })).map((r) => r.at), [5, 4, 3, 2, 1], 'newest first');
  assert.deepEqual((await store.list('a', { limit: 2 })).map((r) => r.at), [5, 4]);
  assert.deepEqual((await store.list('a', { limit: 10, version: 1 })).map((r) => r.at), [3, 2, 1]);
  assert.equal((await store.list('a', { limit: 1 }))[0]?.report.status, 'no_drift');
  assert.equal(await store.prune(2), 3, 'keeps the newest two of each endpoint');
  assert.deepEqual((await store.list('a', { limit: 10 })).map((r) => r.at), [5, 4]);
  assert.deepEqual((await store.list('b', { limit: 10 })).map((r) => r.at), [10]);
  assert.deepEqual(await store.list('nobody', { limit: 10 }), []);
}

describe('drift result stores', () => {
  test('the memory store lists newest first, by version, and prunes per endpoint', async () => {
    await contract(createMemoryDriftResultStore());
  });

  test('the SQLite store does the same and keeps results across reopening', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slipway-drift-results-'));
    try {
      const path = join(dir, 'db.sqlite');
      let db = openSqliteDatabase(path);
      await contract(createSqliteDriftResultStore(db));
      db.close();
      db = openSqliteDatabase(path);
      assert.deepEqual((await createSqliteDriftResultStore(db).list('a', { limit: 10 })).map((r) => r.at), [5, 4]);
      db.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
