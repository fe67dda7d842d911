import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createFakeClock, PlatformError } from '../../../src/core/index.js';
import { labelText, storedSummaryJson } from '../../../src/monitoring/index.js';
import {
  createSqliteMonitoringStore,
  createSqliteRegistryStore,
  MONITORING_COMPONENT,
  openSqliteDatabase,
  REGISTRY_COMPONENT,
  schemaVersion,
  startStoreThread,
  type SqliteDatabase,
  type StoreThread,
} from '../../../src/storage/index.js';
import { feedbackJoinSql, prepareMonitoringOps, PRUNE_OLDER_SQL, UNSYNCED_AT_MOST_MS, type Driver } from '../../../src/storage/sqlite/monitoring-ops.js';
import { createTapeWriter } from '../../../src/monitoring/predictions/tape.js';
import { record, rid, T0 } from './fixtures.js';
import { monitoringStoreContract } from './monitoring-store.contract.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'slipway-monitoring-'));
}

monitoringStoreContract('sqlite', () => {
  const dir = tempDir();
  const db = openSqliteDatabase(join(dir, 'slipway.db'));
  return {
    store: createSqliteMonitoringStore({ db }),
    cleanup: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

// The contract again with the server's arrangement: writes on a writer thread, aggregates on a
// reader thread, point reads here. One database and one pair of threads serve the whole suite (a
// thread takes ~0.4 s to start under tsx), emptied after each test.
let threaded: Promise<{ dir: string; db: SqliteDatabase; writer: StoreThread; reader: StoreThread }> | undefined;
monitoringStoreContract('sqlite with store threads', async () => {
  threaded ??= (async () => {
    const dir = tempDir();
    const path = join(dir, 'slipway.db');
    const db = openSqliteDatabase(path);
    const [writer, reader] = await Promise.all([startStoreThread({ path, role: 'writer' }), startStoreThread({ path, role: 'reader' })]);
    return { dir, db, writer, reader };
  })();
  const t = await threaded;
  const store = createSqliteMonitoringStore({ db: t.db, writer: t.writer, reader: t.reader });
  return {
    store,
    cleanup: () => {
      assert.ok(t.writer.offThread && t.reader.offThread, 'both threads ran the test');
      t.db.exec('DELETE FROM monitoring_predictions; DELETE FROM monitoring_labels; DELETE FROM monitoring_outcomes;');
    },
  };
});
after(async () => {
  if (threaded === undefined) return;
  const t = await threaded;
  await Promise.all([t.writer.close(), t.reader.close()]);
  t.db.close();
  rmSync(t.dir, { recursive: true, force: true });
});

describe('SqliteMonitoringStore', () => {
  test('shares the registry’s connection: both schemas live in one database, each with its own migrations', async () => {
    const dir = tempDir();
    try {
      const db = openSqliteDatabase(join(dir, 'slipway.db'));
      const registry = createSqliteRegistryStore({ db });
      const monitoring = createSqliteMonitoringStore({ db });
      assert.deepEqual(monitoring.migration, { component: MONITORING_COMPONENT, from: 0, to: 2, applied: ['predictions-and-feedback', 'predictions-without-time-index'] });
      assert.equal(schemaVersion(db, REGISTRY_COMPONENT), 2);
      assert.equal(schemaVersion(db, MONITORING_COMPONENT), 2);
      await monitoring.insertPredictions([record(1)]);
      assert.deepEqual(registry.checkIntegrity(), ['ok']);
      registry.close();
      assert.equal(db.open, true, 'a store handed a connection leaves it open');
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("stores a record's outputs summary in the stored form, and reads a record stored as the summary's own JSON", async () => {
    const dir = tempDir();
    try {
      const db = openSqliteDatabase(join(dir, 'slipway.db'));
      const store = createSqliteMonitoringStore({ db });
      const r = record(1);
      await store.insertPredictions([r]);
      const stored = db.prepare('SELECT outputs FROM monitoring_predictions WHERE request_id = ?').get(r.requestId) as { outputs: string };
      assert.equal(stored.outputs, storedSummaryJson(r.outputs));
      // a row as the releases before the stored form wrote it
      db.prepare(
        `INSERT INTO monitoring_predictions (request_id, shadow, at, endpoint, model, version, variant, latency_ms, status, predicted, outputs)
         VALUES (?, 0, ?, 'e', 'm', 1, 'stable', 1, 200, ?, ?)`,
      ).run(rid(2), T0, labelText(r.outputs.predicted?.value ?? ''), JSON.stringify(r.outputs));
      assert.deepEqual((await store.getPredictions(rid(2)))[0]?.outputs, r.outputs);
      assert.deepEqual((await store.getPredictions(r.requestId))[0]?.outputs, r.outputs);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('keeps records and feedback across a close and reopen, migrating only once', async () => {
    const dir = tempDir();
    const path = join(dir, 'slipway.db');
    try {
      const first = openSqliteDatabase(path);
      const a = createSqliteMonitoringStore({ db: first });
      await a.insertPredictions([record(1)]);
      await a.addFeedback([{ requestId: rid(1), label: 'cat', event: 'click', at: T0 }], { skipUnknown: false });
      first.close();

      const second = openSqliteDatabase(path);
      const b = createSqliteMonitoringStore({ db: second });
      assert.deepEqual(b.migration.applied, []);
      assert.deepEqual(await b.getPredictions(rid(1)), [record(1)]);
      assert.deepEqual(await b.getFeedback(rid(1)), { label: { value: 'cat', at: T0 }, outcomes: [{ event: 'click', value: null, at: T0 }] });
      second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('declares its tables STRICT, so a value of the wrong type is refused', () => {
    const db = openSqliteDatabase(':memory:');
    try {
      createSqliteMonitoringStore({ db });
      const tables = db.prepare("SELECT name, strict FROM pragma_table_list WHERE name LIKE 'monitoring_%' ORDER BY name").all() as { name: string; strict: number }[];
      assert.deepEqual(
        tables.map((t) => [t.name, t.strict]),
        [
          ['monitoring_labels', 1],
          ['monitoring_outcomes', 1],
          ['monitoring_predictions', 1],
        ],
      );
      assert.throws(
        () =>
          db
            .prepare("INSERT INTO monitoring_predictions (request_id, shadow, at, endpoint, variant, latency_ms, status, outputs) VALUES ('r', 0, 'noon', 'e', 'stable', 1, 200, '{}')")
            .run(),
        /cannot store TEXT value in INTEGER column/,
      );
    } finally {
      db.close();
    }
  });

  test('indexes request ids and (endpoint, at) and nothing else; window queries and retention by age use the endpoint index', () => {
    const db = openSqliteDatabase(':memory:');
    try {
      createSqliteMonitoringStore({ db });
      const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'monitoring_predictions'").all() as { name: string }[]).map((r) => r.name);
      assert.ok(indexes.includes('monitoring_predictions_by_endpoint'), indexes.join(', '));
      assert.equal(indexes.length, 2, `one index per prediction written beside the table's own B-tree costs CPU: ${indexes.join(', ')}`);
      assert.ok(indexes.some((n) => n.startsWith('sqlite_autoindex_monitoring_predictions')), 'UNIQUE (request_id, shadow) has an index');
      const plan = db
        .prepare("EXPLAIN QUERY PLAN SELECT variant, version, COUNT(*) FROM monitoring_predictions p WHERE p.endpoint = 'e' AND p.at >= 0 AND p.at < 10 GROUP BY variant, version")
        .all() as { detail: string }[];
      assert.ok(plan.some((row) => row.detail.includes('monitoring_predictions_by_endpoint')), JSON.stringify(plan));
      const lookup = db.prepare("EXPLAIN QUERY PLAN SELECT * FROM monitoring_predictions WHERE request_id = 'x'").all() as { detail: string }[];
      assert.ok(lookup.some((row) => row.detail.includes('USING INDEX sqlite_autoindex_monitoring_predictions')), JSON.stringify(lookup));
      const prune = db.prepare(`EXPLAIN QUERY PLAN ${PRUNE_OLDER_SQL}`).all(10, 5) as { detail: string }[];
      assert.ok(!prune.some((row) => /^SCAN (monitoring_predictions|p)\b/.test(row.detail)), `retention by age reads no whole table: ${JSON.stringify(prune)}`);
    } finally {
      db.close();
    }
  });

  test('joins with feedback read one side in full and look the other up by request id, never walking the window per row', () => {
    const db = openSqliteDatabase(':memory:');
    try {
      createSqliteMonitoringStore({ db });
      const params = { endpoint: 'e', since: 0, until: 10, event: 'x' };
      for (const table of ['monitoring_outcomes', 'monitoring_labels'] as const) {
        for (const onPrediction of ['', 'p.shadow = 0']) {
          const plan = (driver: Driver): string[] =>
            (db.prepare(`EXPLAIN QUERY PLAN SELECT COUNT(*) ${feedbackJoinSql(driver, table, '', onPrediction)}`).all(params) as { detail: string }[]).map((r) => r.detail);
          const byWindow = plan('window');
          assert.match(byWindow[0] ?? '', /monitoring_predictions_by_endpoint/, `${table} ${onPrediction}: ${byWindow.join(' | ')}`);
          assert.match(byWindow[1] ?? '', /^SEARCH f USING PRIMARY KEY \(request_id=/, `${table} ${onPrediction}: ${byWindow.join(' | ')}`);
          const byFeedback = plan('feedback');
          assert.match(byFeedback[0] ?? '', /^SCAN f\b/, `${table} ${onPrediction}: ${byFeedback.join(' | ')}`);
          assert.match(byFeedback[1] ?? '', /^SEARCH p USING INDEX sqlite_autoindex_monitoring_predictions_1 \(request_id=/, `${table} ${onPrediction}: ${byFeedback.join(' | ')}`);
        }
      }
    } finally {
      db.close();
    }
  });

  test('commits prediction records and retention without waiting for the disk, feedback with it, and leaves the connection as it was', async () => {
    const dir = tempDir();
    const db = openSqliteDatabase(join(dir, 'slipway.db'));
    const clock = createFakeClock(T0);
    try {
      const store = createSqliteMonitoringStore({ db, clock });
      // what `synchronous` was when each write ran, seen from inside its transaction
      db.exec(`
        CREATE TEMP TABLE seen (what TEXT, sync INTEGER);
        CREATE TEMP TRIGGER seen_prediction AFTER INSERT ON main.monitoring_predictions BEGIN INSERT INTO seen SELECT 'prediction', synchronous FROM pragma_synchronous; END;
        CREATE TEMP TRIGGER seen_label AFTER INSERT ON main.monitoring_labels BEGIN INSERT INTO seen SELECT 'label', synchronous FROM pragma_synchronous; END;
        CREATE TEMP TRIGGER seen_prune AFTER DELETE ON main.monitoring_predictions BEGIN INSERT INTO seen SELECT 'prune', synchronous FROM pragma_synchronous; END;`);
      // a tape as the writer thread inserts it, and records as the store does without one
      const writer = createTapeWriter();
      writer.add({ requestId: rid(1), endpoint: 'e', latencyMs: 1, status: 200 }, T0);
      prepareMonitoringOps(db, { clock }).insertTape(writer.seal());
      await store.insertPredictions([record(2)]);
      await store.addFeedback([{ requestId: rid(1), label: 1, at: T0 }], { skipUnknown: false });
      await store.prune({ keepNewest: 1, limit: 10 });
      const NORMAL = 1;
      const FULL = 2;
      assert.deepEqual(db.prepare('SELECT what, sync FROM seen').all(), [
        { what: 'prediction', sync: NORMAL },
        { what: 'prediction', sync: NORMAL },
        { what: 'label', sync: FULL },
        { what: 'prune', sync: NORMAL },
      ]);
      assert.equal(db.pragma('synchronous', { simple: true }), FULL, 'the connection is back to FULL for the registry');
      // and after a write that fails
      await assert.rejects(store.insertPredictions([record(3, { endpoint: undefined as unknown as string })]));
      assert.equal(db.pragma('synchronous', { simple: true }), FULL);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('syncs the log within a second of a commit that skipped the fsync: one passive checkpoint for the commits of that second', async () => {
    const dir = tempDir();
    const db = openSqliteDatabase(join(dir, 'slipway.db'));
    const clock = createFakeClock(T0);
    try {
      const store = createSqliteMonitoringStore({ db, clock });
      const pragmas: string[] = [];
      const pragma = db.pragma.bind(db);
      db.pragma = ((source: string, options?: Parameters<typeof pragma>[1]) => {
        pragmas.push(source);
        return pragma(source, options);
      });
      const checkpoints = (): number => pragmas.filter((p) => p === 'wal_checkpoint(PASSIVE)').length;
      await store.insertPredictions([record(1)]);
      await clock.advance(UNSYNCED_AT_MOST_MS / 2);
      await store.insertPredictions([record(2)]);
      assert.equal(checkpoints(), 0, 'not before the second is up');
      await clock.advance(UNSYNCED_AT_MOST_MS / 2);
      assert.equal(checkpoints(), 1, 'both commits synced by one checkpoint');
      await clock.advance(10 * UNSYNCED_AT_MOST_MS);
      assert.equal(checkpoints(), 1, 'nothing more to sync without another commit');
      await store.prune({ keepNewest: 1, limit: 10 });
      await clock.advance(UNSYNCED_AT_MOST_MS);
      assert.equal(checkpoints(), 2, 'a deletion is synced too');
      // a checkpoint due after the database closed is skipped, not thrown from the timer
      await store.insertPredictions([record(3)]);
      db.close();
      await clock.advance(UNSYNCED_AT_MOST_MS);
      assert.equal(checkpoints(), 2);
    } finally {
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('refuses a database whose monitoring schema is newer than this build', () => {
    const db = openSqliteDatabase(':memory:');
    try {
      createSqliteMonitoringStore({ db });
      db.prepare("INSERT INTO schema_migrations (component, version, name, applied_at) VALUES ('monitoring', 99, 'future', '2030-01-01T00:00:00.000Z')").run();
      assert.throws(
        () => createSqliteMonitoringStore({ db }),
        (error: unknown) => error instanceof PlatformError && error.code === 'STORAGE_SCHEMA_TOO_NEW',
      );
    } finally {
      db.close();
    }
  });
});
