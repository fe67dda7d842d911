/**
 * The SQLite adapter of the MonitoringStore port, on a database it is handed (shared with the
 * registry; it never opens one itself). Outcome arms are computed by SQL aggregates over the
 * (endpoint, at) index; each write is one BEGIN IMMEDIATE transaction.
 */
import { systemClock, type Clock } from '../../core/index.js';
import {
  labelText,
  type AddFeedbackResult,
  type InsertPredictionsResult,
  type ArmRow,
  type FeedbackOutcome,
  type MonitoringStore,
  type OutcomeMetric,
  type PredictedValueRow,
  type PredictionCountRow,
  type PredictionFeedback,
  type PredictionRecord,
  type TimeWindow,
} from '../../monitoring/index.js';
import { writeTransaction, type SqliteDatabase } from './database.js';
import { migrate, type MigrationOutcome } from './migrate.js';
import { encodedRows, preparePredictionInsert } from './prediction-insert.js';
import type { PredictionWriter } from './prediction-writer.js';
import { parseStoredSummary } from '../../monitoring/predictions/summary.js';
import { encodeRecord, encodeTape, type EncodedPrediction, type PredictionTape } from '../../monitoring/predictions/tape.js';
import { MONITORING_COMPONENT, monitoringMigrations } from './monitoring-migrations.js';

/**
 * Retention by age: the records older than a cutoff (first parameter), at most a limit (second),
 * endpoint by endpoint through the (endpoint, at) index. The endpoints are found by skipping along
 * that index (one seek each), not by reading every row. Exported for its query-plan test.
 */
export const PRUNE_OLDER_SQL = `
  WITH RECURSIVE endpoints (name) AS (
    SELECT MIN(endpoint) FROM monitoring_predictions
    UNION ALL
    SELECT (SELECT MIN(endpoint) FROM monitoring_predictions WHERE endpoint > name) FROM endpoints WHERE name IS NOT NULL
  )
  DELETE FROM monitoring_predictions
  WHERE seq IN (SELECT p.seq FROM endpoints e JOIN monitoring_predictions p ON p.endpoint = e.name AND p.at < ? LIMIT ?)
  RETURNING request_id`;

export interface SqliteMonitoringStoreOptions {
  /** An open database (see openSqliteDatabase), usually the registry's; this store never closes it. */
  readonly db: SqliteDatabase;
  /** Stamps `schema_migrations.applied_at`. Default: the system clock. */
  readonly clock?: Clock;
  /**
   * Where prediction records are written: a worker thread with its own connection to the same
   * file (see startPredictionWriter), so the request thread never waits for SQLite or fsync.
   * Default: on `db`, in this thread.
   */
  readonly writer?: PredictionWriter;
}

/** The SQLite adapter, with its connection and what opening did to the schema. */
export interface SqliteMonitoringStore extends MonitoringStore {
  readonly db: SqliteDatabase;
  readonly migration: MigrationOutcome;
}

interface PredictionRow {
  request_id: string;
  at: number;
  endpoint: string;
  model: string | null;
  version: number | null;
  variant: string;
  latency_ms: number;
  status: number;
  outputs: string;
}

interface LabelRow {
  label: string;
  label_type: 'string' | 'number';
  at: number;
}

interface OutcomeRow {
  event: string;
  value: number | null;
  at: number;
}

interface RateRow {
  variant: string;
  version: number | null;
  n: number;
  successes: number;
}

interface MeanRow {
  variant: string;
  version: number | null;
  n: number;
  mean: number;
  m2: number;
}

interface CountRow {
  variant: string;
  version: number | null;
  predictions: number;
  answered: number;
}

/** SQLite INTEGER holds 2^63; the window's open end is the largest time JavaScript can name exactly. */
const OPEN_END = Number.MAX_SAFE_INTEGER;

const WINDOW = 'p.endpoint = @endpoint AND p.at >= @since AND p.at < @until AND p.status BETWEEN 200 AND 299';

function toRecord(row: PredictionRow): PredictionRecord {
  return {
    requestId: row.request_id,
    at: row.at,
    endpoint: row.endpoint,
    model: row.model,
    version: row.version,
    variant: row.variant,
    latencyMs: row.latency_ms,
    status: row.status,
    // the stored form, or a summary's own JSON in rows written before it
    outputs: parseStoredSummary(row.outputs),
  };
}

function meanSql(missing: 'skip' | 'zero'): string {
  // Per prediction: the sum of its values in scope (usually one). Then a two-pass mean and M2 per
  // arm — Σ(v − mean)² rather than Σv² − n·mean², which cancels catastrophically for large values.
  const join =
    missing === 'zero'
      ? 'LEFT JOIN monitoring_outcomes e ON e.request_id = p.request_id AND e.value IS NOT NULL AND (@event IS NULL OR e.event = @event)'
      : 'JOIN monitoring_outcomes e ON e.request_id = p.request_id AND e.value IS NOT NULL AND (@event IS NULL OR e.event = @event)';
  return `
    WITH per AS MATERIALIZED (
      SELECT p.variant AS variant, p.version AS version, TOTAL(e.value) AS v
      FROM monitoring_predictions p ${join}
      WHERE ${WINDOW} AND p.shadow = 0
      GROUP BY p.seq
    ), arm AS (
      SELECT variant, version, COUNT(*) AS n, AVG(v) AS mean FROM per GROUP BY variant, version
    )
    SELECT arm.variant AS variant, arm.version AS version, arm.n AS n, arm.mean AS mean, TOTAL((per.v - arm.mean) * (per.v - arm.mean)) AS m2
    FROM arm JOIN per ON per.variant = arm.variant AND per.version IS arm.version
    GROUP BY arm.variant, arm.version`;
}

/** Brings the monitoring schema up to date on `db` and returns the store. Throws STORAGE_SCHEMA_TOO_NEW for a newer schema. */
export function createSqliteMonitoringStore(options: SqliteMonitoringStoreOptions): SqliteMonitoringStore {
  const { db } = options;
  const migration = migrate(db, MONITORING_COMPONENT, monitoringMigrations, { clock: options.clock ?? systemClock });

  const sql = {
    byRequest: db.prepare('SELECT * FROM monitoring_predictions WHERE request_id = ? ORDER BY shadow'),
    exists: db.prepare('SELECT 1 AS one FROM monitoring_predictions WHERE request_id = ? LIMIT 1'),
    label: db.prepare('SELECT label, label_type, at FROM monitoring_labels WHERE request_id = ?'),
    outcomes: db.prepare('SELECT event, value, at FROM monitoring_outcomes WHERE request_id = ? ORDER BY event'),
    upsertLabel: db.prepare(`
      INSERT INTO monitoring_labels (request_id, label, label_type, at) VALUES (?, ?, ?, ?)
      ON CONFLICT (request_id) DO UPDATE SET label = excluded.label, label_type = excluded.label_type, at = excluded.at`),
    upsertOutcome: db.prepare(`
      INSERT INTO monitoring_outcomes (request_id, event, value, at) VALUES (?, ?, ?, ?)
      ON CONFLICT (request_id, event) DO UPDATE SET value = COALESCE(excluded.value, value), at = excluded.at`),
    rate: db.prepare(`
      SELECT p.variant AS variant, p.version AS version, COUNT(*) AS n, COUNT(e.request_id) AS successes
      FROM monitoring_predictions p
      LEFT JOIN monitoring_outcomes e ON e.request_id = p.request_id AND e.event = @event
      WHERE ${WINDOW} AND p.shadow = 0
      GROUP BY p.variant, p.version`),
    accuracy: db.prepare(`
      SELECT p.variant AS variant, p.version AS version, COUNT(*) AS n, SUM(l.label = p.predicted) AS successes
      FROM monitoring_predictions p
      JOIN monitoring_labels l ON l.request_id = p.request_id
      WHERE ${WINDOW} AND p.predicted IS NOT NULL
      GROUP BY p.variant, p.version`),
    meanSkip: db.prepare(meanSql('skip')),
    meanZero: db.prepare(meanSql('zero')),
    predictedValues: db.prepare(`
      SELECT variant, predicted, COUNT(*) AS count
      FROM monitoring_predictions
      WHERE endpoint = @endpoint AND at >= @since AND at < @until AND predicted IS NOT NULL AND status BETWEEN 200 AND 299
      GROUP BY variant, predicted`),
    counts: db.prepare(`
      SELECT variant, version, COUNT(*) AS predictions, SUM(status BETWEEN 200 AND 299) AS answered
      FROM monitoring_predictions
      WHERE endpoint = @endpoint AND at >= @since AND at < @until
      GROUP BY variant, version`),
    pruneOld: db.prepare(PRUNE_OLDER_SQL),
    keepBoundary: db.prepare('SELECT seq FROM monitoring_predictions ORDER BY seq DESC LIMIT 1 OFFSET ?'),
    pruneBeyond: db.prepare(`
      DELETE FROM monitoring_predictions
      WHERE seq IN (SELECT seq FROM monitoring_predictions WHERE seq <= ? ORDER BY seq LIMIT ?)
      RETURNING request_id`),
    deleteLabel: db.prepare('DELETE FROM monitoring_labels WHERE request_id = ?'),
    deleteOutcomes: db.prepare('DELETE FROM monitoring_outcomes WHERE request_id = ?'),
    countPredictions: db.prepare('SELECT COUNT(*) AS n FROM monitoring_predictions'),
    countLabels: db.prepare('SELECT COUNT(*) AS n FROM monitoring_labels'),
    countOutcomes: db.prepare('SELECT COUNT(*) AS n FROM monitoring_outcomes'),
  };

  // prepared on first use: a store whose records go through a writer never needs it
  let insertHere: ReturnType<typeof preparePredictionInsert> | undefined;
  const insertInProcess = (records: readonly EncodedPrediction[]): InsertPredictionsResult => {
    insertHere ??= preparePredictionInsert(db);
    const insert = insertHere;
    return writeTransaction(db, () => insert(records.length, encodedRows(records)));
  };
  const writer = options.writer;
  /** Retention by count's boundary, kept between calls while rows up to it remain (see prune). */
  let countBoundary: { readonly keepNewest: number; readonly seq: number } | undefined;
  const windowParams = (endpoint: string, window: TimeWindow) => ({ endpoint, since: window.since, until: window.until ?? OPEN_END });

  return {
    db,
    migration,

    async insertPredictions(records) {
      return insertInProcess(records.map(encodeRecord));
    },

    // with a writer, tapes are read and written on its thread; the copy kept for a dead thread is read here
    ...(writer === undefined ? {} : { insertTape: (tape: PredictionTape) => writer.insertTape(tape, (t) => insertInProcess(encodeTape(t))) }),

    async getPredictions(requestId) {
      return (sql.byRequest.all(requestId) as PredictionRow[]).map(toRecord);
    },

    async getFeedback(requestId): Promise<PredictionFeedback> {
      const label = sql.label.get(requestId) as LabelRow | undefined;
      const outcomes = (sql.outcomes.all(requestId) as OutcomeRow[]).map(
        (o): FeedbackOutcome => ({ event: o.event === '' ? null : o.event, value: o.value, at: o.at }),
      );
      return { label: label === undefined ? null : { value: label.label_type === 'number' ? Number(label.label) : label.label, at: label.at }, outcomes };
    },

    async addFeedback(items, options): Promise<AddFeedbackResult> {
      return writeTransaction(db, () => {
        const known = new Map<string, boolean>();
        const unknown: string[] = [];
        for (const item of items) {
          if (known.has(item.requestId)) continue;
          const exists = sql.exists.get(item.requestId) !== undefined;
          known.set(item.requestId, exists);
          if (!exists) unknown.push(item.requestId);
        }
        if (unknown.length > 0 && !options.skipUnknown) return { applied: 0, unknownRequestIds: unknown };
        let applied = 0;
        for (const item of items) {
          if (known.get(item.requestId) !== true) continue;
          if (item.label !== undefined) sql.upsertLabel.run(item.requestId, labelText(item.label), typeof item.label === 'number' ? 'number' : 'string', item.at);
          if (item.event !== undefined || item.value !== undefined) sql.upsertOutcome.run(item.requestId, item.event ?? '', item.value ?? null, item.at);
          applied++;
        }
        return { applied, unknownRequestIds: unknown };
      });
    },

    async outcomeArms(endpoint, window, metric: OutcomeMetric): Promise<readonly ArmRow[]> {
      const params = windowParams(endpoint, window);
      switch (metric.kind) {
        case 'rate':
          return (sql.rate.all({ ...params, event: metric.event }) as RateRow[]).map((r) => ({
            variant: r.variant,
            version: r.version,
            arm: { kind: 'rate', n: r.n, successes: r.successes },
          }));
        case 'accuracy':
          return (sql.accuracy.all(params) as RateRow[]).map((r) => ({ variant: r.variant, version: r.version, arm: { kind: 'rate', n: r.n, successes: r.successes } }));
        case 'mean': {
          const statement = metric.missing === 'zero' ? sql.meanZero : sql.meanSkip;
          return (statement.all({ ...params, event: metric.event ?? null }) as MeanRow[]).map((r) => ({
            variant: r.variant,
            version: r.version,
            arm: { kind: 'continuous', n: r.n, mean: r.mean, m2: Math.max(0, r.m2) },
          }));
        }
      }
    },

    async predictedValues(endpoint, window): Promise<readonly PredictedValueRow[]> {
      return (sql.predictedValues.all(windowParams(endpoint, window)) as PredictedValueRow[]).map((r) => ({ variant: r.variant, predicted: r.predicted, count: r.count }));
    },

    async predictionCounts(endpoint, window): Promise<readonly PredictionCountRow[]> {
      return (sql.counts.all(windowParams(endpoint, window)) as CountRow[]).map((r) => ({ ...r }));
    },

    async prune(policy) {
      return writeTransaction(db, () => {
        const removed: string[] = [];
        if (policy.olderThan !== undefined && policy.limit > 0) {
          for (const row of sql.pruneOld.all(policy.olderThan, policy.limit) as { request_id: string }[]) removed.push(row.request_id);
        }
        const room = policy.limit - removed.length;
        if (policy.keepNewest !== undefined && room > 0) {
          // Finding the boundary walks keepNewest rows (a million by default), so it is found once
          // and kept while calls delete up to it, `limit` records at a time: a row beyond the newest
          // keepNewest stays beyond them as newer rows arrive, so a kept boundary never deletes too much.
          if (countBoundary?.keepNewest !== policy.keepNewest) {
            const found = sql.keepBoundary.get(policy.keepNewest) as { seq: number } | undefined;
            countBoundary = found === undefined ? undefined : { keepNewest: policy.keepNewest, seq: found.seq };
          }
          if (countBoundary !== undefined) {
            const rows = sql.pruneBeyond.all(countBoundary.seq, room) as { request_id: string }[];
            for (const row of rows) removed.push(row.request_id);
            // everything up to it is gone: the next call looks for the boundary afresh
            if (rows.length < room) countBoundary = undefined;
          }
        }
        // feedback goes with the last record of its request id
        for (const requestId of new Set(removed)) {
          if (sql.exists.get(requestId) !== undefined) continue;
          sql.deleteLabel.run(requestId);
          sql.deleteOutcomes.run(requestId);
        }
        return { deleted: removed.length, more: removed.length >= policy.limit };
      });
    },

    async size() {
      const n = (statement: typeof sql.countPredictions): number => (statement.get() as { n: number }).n;
      return { predictions: n(sql.countPredictions), labels: n(sql.countLabels), outcomes: n(sql.countOutcomes) };
    },
  };
}
