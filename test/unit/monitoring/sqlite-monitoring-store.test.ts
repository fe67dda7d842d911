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
import { migrate } from '../../../src/storage/sqlite/migrate.js';
import { monitoringMigrations } from '../../../src/storage/sqlite/monitoring-migrations.js';
import type { PredictionCountRow, PredictionRecord, TimeWindow } from '../../../src/monitoring/index.js';
import { outputsGenerator, record, rid, T0 } from './fixtures.js';
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
      t.db.exec('DELETE FROM monitoring_predictions; DELETE FROM monitoring_prediction_seconds; DELETE FROM monitoring_labels; DELETE FROM monitoring_outcomes;');
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
      assert.deepEqual(monitoring.migration, {
        component: MONITORING_COMPONENT,
        from: 0,
        to: 3,
        applied: ['predictions-and-feedback', 'predictions-without-time-index', 'prediction-counts-per-second'],
      });
      assert.equal(schemaVersion(db, REGISTRY_COMPONENT), 2);
      assert.equal(schemaVersion(db, MONITORING_COMPONENT), 3);
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
          ['monitoring_prediction_seconds', 1],
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

  test('a window’s counts read its whole seconds from the per-second counts, by their key, and only its ends from the records', () => {
    const db = openSqliteDatabase(':memory:');
    try {
      createSqliteMonitoringStore({ db });
      const plan = db
        .prepare("EXPLAIN QUERY PLAN SELECT variant, version, SUM(predictions) FROM monitoring_prediction_seconds WHERE endpoint = 'e' AND second >= 0 AND second < 10 GROUP BY variant, version")
        .all() as { detail: string }[];
      assert.ok(
        plan.some((row) => /SEARCH monitoring_prediction_seconds USING PRIMARY KEY \(endpoint=\? AND second>\? AND second<\?\)/.test(row.detail)),
        JSON.stringify(plan),
      );
    } finally {
      db.close();
    }
  });

  test('counts what the stored records say, window by window, through duplicates and retention (seeded)', async () => {
    const db = openSqliteDatabase(':memory:');
    const store = createSqliteMonitoringStore({ db });
    const { random, pick } = outputsGenerator(7);
    // records over 6 seconds around T0; windows with ends inside seconds and on their boundaries
    const at = (): number => T0 - 3000 + Math.floor(random() * 6000);
    const window = (): TimeWindow => {
      const since = pick([at() - 500, T0 - 2000, T0 - 1, T0 + 1]);
      const until = pick([undefined, since, since + Math.floor(random() * 2500), since + 1000 * Math.floor(random() * 4), since + 7000, T0 + 1000]);
      return until === undefined ? { since } : { since, until };
    };
    // what the records themselves say, one by one
    const recordsSay = (w: TimeWindow): PredictionCountRow[] =>
      db
        .prepare(
          "SELECT variant, version, COUNT(*) AS predictions, SUM(status BETWEEN 200 AND 299) AS answered FROM monitoring_predictions WHERE endpoint = 'fraud' AND at >= ? AND at < ? GROUP BY variant, version",
        )
        .all(w.since, w.until ?? Number.MAX_SAFE_INTEGER) as PredictionCountRow[];
    const sorted = (rows: readonly PredictionCountRow[]): PredictionCountRow[] =>
      [...rows].map((r) => ({ variant: r.variant, version: r.version, predictions: r.predictions, answered: r.answered })).sort((a, b) => `${a.variant}/${a.version}`.localeCompare(`${b.variant}/${b.version}`));
    let next = 0;
    const check = async (step: string): Promise<void> => {
      for (let k = 0; k < 25; k++) {
        const w = window();
        const expected = sorted(recordsSay(w));
        assert.deepEqual(sorted(await store.predictionCounts('fraud', w)), expected, `${step}: counts of ${JSON.stringify(w)}`);
        const span = window();
        const snapshot = await store.outcomeSnapshot('fraud', w, [], span);
        assert.deepEqual(sorted(snapshot.counts), expected, `${step}: a snapshot's counts of ${JSON.stringify(w)}`);
        assert.deepEqual(sorted(snapshot.spanCounts ?? []), sorted(recordsSay(span)), `${step}: span ${JSON.stringify(span)} of ${JSON.stringify(w)}`);
      }
    };
    try {
      for (let round = 0; round < 6; round++) {
        const batch: PredictionRecord[] = [];
        for (let i = 0; i < 120; i++) {
          // a tenth repeat an earlier request id: stored once, counted once
          const n = random() < 0.1 && next > 0 ? Math.floor(random() * next) : next++;
          batch.push(
            record(n, {
              at: at(),
              endpoint: pick(['fraud', 'fraud', 'fraud', 'other']),
              variant: pick(['stable', 'stable', 'candidate', 'shadow']),
              version: pick([1, 2, null]),
              status: pick([200, 200, 201, 404, 500]),
            }),
          );
        }
        const { duplicates } = await store.insertPredictions(batch);
        assert.ok(round === 0 || duplicates > 0, 'the batch repeats request ids');
        await check(`round ${round}, inserted`);
        const policy = pick([{ olderThan: at(), limit: 40 }, { keepNewest: 150 + Math.floor(random() * 200), limit: 60 }, { olderThan: at(), keepNewest: 300, limit: 1000 }]);
        await store.prune(policy);
        await check(`round ${round}, after ${JSON.stringify(policy)}`);
      }
      const stored = db.prepare('SELECT COUNT(*) AS n FROM monitoring_predictions').get() as { n: number };
      const counted = db.prepare('SELECT SUM(predictions) AS n, MIN(predictions) AS least FROM monitoring_prediction_seconds').get() as { n: number; least: number };
      assert.equal(counted.n, stored.n, 'every stored record counted once');
      assert.ok(counted.least > 0, 'no second is left with no records');
    } finally {
      db.close();
    }
  });

  test('migration 3 counts the records already stored', async () => {
    const db = openSqliteDatabase(':memory:');
    try {
      migrate(db, MONITORING_COMPONENT, monitoringMigrations.slice(0, 2));
      const put = db.prepare(
        "INSERT INTO monitoring_predictions (request_id, shadow, at, endpoint, model, version, variant, latency_ms, status, predicted, outputs) VALUES (?, 0, ?, 'fraud', 'm', ?, ?, 1, ?, NULL, '{}')",
      );
      const rows: [number, number | null, string, number][] = [
        [T0, 1, 'stable', 200],
        [T0 + 10, 1, 'stable', 500],
        [T0 + 1000, 1, 'stable', 200],
        [T0 + 1000, null, 'stable', 200],
        [T0 + 2500, 2, 'candidate', 204],
        [-1500, 1, 'stable', 200],
      ];
      rows.forEach(([at, version, variant, status], i) => put.run(rid(i), at, version, variant, status));
      const store = createSqliteMonitoringStore({ db });
      assert.deepEqual(store.migration.applied, ['prediction-counts-per-second']);
      const seconds = db.prepare('SELECT second, variant, version, predictions, answered FROM monitoring_prediction_seconds ORDER BY second, variant, version').all();
      assert.deepEqual(
        seconds.map((r) => ({ ...(r as object) })),
        [
          { second: -2, variant: 'stable', version: 1, predictions: 1, answered: 1 },
          { second: T0 / 1000, variant: 'stable', version: 1, predictions: 2, answered: 1 },
          { second: T0 / 1000 + 1, variant: 'stable', version: -1, predictions: 1, answered: 1 },
          { second: T0 / 1000 + 1, variant: 'stable', version: 1, predictions: 1, answered: 1 },
          { second: T0 / 1000 + 2, variant: 'candidate', version: 2, predictions: 1, answered: 1 },
        ],
      );
      const counts = await store.predictionCounts('fraud', { since: -5000 });
      assert.deepEqual(
        [...counts].sort((a, b) => `${a.variant}/${a.version}`.localeCompare(`${b.variant}/${b.version}`)).map((r) => ({ ...r })),
        [
          { variant: 'candidate', version: 2, predictions: 1, answered: 1 },
          { variant: 'stable', version: 1, predictions: 4, answered: 3 },
          { variant: 'stable', version: null, predictions: 1, answered: 1 },
        ],
      );
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
