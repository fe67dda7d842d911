/**
 * The monitoring store's operations that write, or that aggregate over many records, on one
 * connection. The same code runs on the request thread's connection (the store without threads,
 * and the fallback when a thread is gone) and on a store thread's own connection (see
 * store-thread.ts): the writer thread runs the writes (prediction tapes, feedback, retention), the
 * reader thread the aggregates (outcome arms, counts, predicted values), so neither a commit's
 * fsync, a lock wait nor a query over a million rows ever holds the request thread.
 *
 * Every method is synchronous and takes and returns plain data (structured-cloneable).
 */
import {
  labelText,
  type AddFeedbackOptions,
  type AddFeedbackResult,
  type ArmRow,
  type FeedbackWrite,
  type InsertPredictionsResult,
  type OutcomeMetric,
  type OutcomeSnapshot,
  type PredictedValueRow,
  type PredictionCountRow,
  type PrunePolicy,
  type PruneResult,
  type TimeWindow,
  SHADOW_VARIANT,
} from '../../monitoring/index.js';
import type { EncodedPrediction, PredictionTape } from '../../monitoring/predictions/tape.js';
import { systemClock, type Clock, type TimerHandle } from '../../core/index.js';
import { writeTransaction, type SqliteDatabase } from './database.js';
import { encodedRows, prepareCountWrites, preparePredictionInsert, SecondCounts, tapeRows } from './prediction-insert.js';

/** What retention reads of each record it deletes: its request id (for its feedback) and what it was counted under. */
const DELETED = 'request_id, endpoint, at, variant, version, status';

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
  RETURNING ${DELETED}`;

/** What a store thread runs; the names are the messages' `op`. */
export interface MonitoringOps {
  /** Reads the tape's records (summarising their outputs) and inserts them in one transaction. */
  readonly insertTape: (tape: PredictionTape) => InsertPredictionsResult;
  /** Inserts encoded records in one transaction. */
  readonly insertEncoded: (records: readonly EncodedPrediction[]) => InsertPredictionsResult;
  readonly addFeedback: (items: readonly FeedbackWrite[], options: AddFeedbackOptions) => AddFeedbackResult;
  readonly prune: (policy: PrunePolicy) => PruneResult;
  readonly outcomeSnapshot: (endpoint: string, window: TimeWindow, metrics: readonly OutcomeMetric[], span?: TimeWindow) => OutcomeSnapshot;
  readonly predictedValues: (endpoint: string, window: TimeWindow) => readonly PredictedValueRow[];
  readonly predictionCounts: (endpoint: string, window: TimeWindow) => readonly PredictionCountRow[];
}

/** The operations a writer thread runs; the rest are a reader thread's. */
export const WRITE_OPS = Object.freeze(['insertTape', 'insertEncoded', 'addFeedback', 'prune'] as const satisfies readonly (keyof MonitoringOps)[]);
export type WriteOp = (typeof WRITE_OPS)[number];
export type ReadOp = Exclude<keyof MonitoringOps, WriteOp>;

interface SuccessRow {
  variant: string;
  version: number | null;
  successes: number;
}

interface MeanRow {
  variant: string;
  version: number | null;
  n: number;
  mean: number;
  m2: number;
}

/** Accuracy's counts and error's arm (n may be 0) of one (variant, version). */
interface LabelledRow extends MeanRow {
  labelled: number;
  successes: number;
}

interface CountRow {
  variant: string;
  version: number | null;
  predictions: number;
  answered: number;
}

/** A record retention deleted (see DELETED). */
interface DeletedRow {
  request_id: string;
  endpoint: string;
  at: number;
  variant: string;
  version: number | null;
  status: number;
}

/** `PRAGMA synchronous`'s NORMAL. */
const SYNCHRONOUS_NORMAL = 1;

/** SQLite INTEGER holds 2^63; the window's open end is the largest time JavaScript can name exactly. */
const OPEN_END = Number.MAX_SAFE_INTEGER;

const WINDOW = 'p.endpoint = @endpoint AND p.at >= @since AND p.at < @until AND p.status BETWEEN 200 AND 299';

/**
 * Which side of a join with feedback is read in full: the window's predictions (each probing the
 * feedback table by request id), or the feedback table (each row probing the predictions by request
 * id, then kept if its prediction is in the window). CROSS JOIN makes SQLite keep the order given.
 */
export type Driver = 'window' | 'feedback';

/**
 * The window's terms when the feedback drives: the unary `+` keeps SQLite from looking each
 * feedback row's prediction up through the (endpoint, at) index — a walk of the whole window per
 * row — rather than by its request id.
 */
const WINDOW_CHECKED = '+p.endpoint = @endpoint AND +p.at >= @since AND +p.at < @until AND p.status BETWEEN 200 AND 299';

/**
 * FROM … WHERE of predictions `p` joined with a feedback table `f` on request id, `onFeedback`
 * restricting the feedback rows and `onPrediction` the predictions beyond the window. Exported for
 * its query-plan test.
 */
export function feedbackJoinSql(driver: Driver, table: 'monitoring_outcomes' | 'monitoring_labels', onFeedback: string, onPrediction: string): string {
  const more = (terms: string): string => (terms === '' ? '' : ` AND ${terms}`);
  return driver === 'window'
    ? `FROM monitoring_predictions p CROSS JOIN ${table} f ON f.request_id = p.request_id${more(onFeedback)} WHERE ${WINDOW}${more(onPrediction)}`
    : `FROM ${table} f CROSS JOIN monitoring_predictions p ON p.request_id = f.request_id WHERE ${WINDOW_CHECKED}${more(onPrediction)}${more(onFeedback)}`;
}

const EVENT_VALUE = 'f.value IS NOT NULL AND (@event IS NULL OR f.event = @event)';

/**
 * The arm of each (variant, version) from `per`, a query of one value `v` per prediction (NULL: not
 * in the arm) with its variant and version: n, and a two-pass mean and M2 — Σ(v − mean)² rather
 * than Σv² − n·mean², which cancels catastrophically for large values. `more` adds aggregates of
 * `per` to each row.
 */
const armSql = (per: string, more = ''): string => `
    WITH per AS MATERIALIZED (${per}), arm AS (
      SELECT variant, version, COUNT(v) AS n, AVG(v) AS mean${more} FROM per GROUP BY variant, version
    )
    SELECT arm.*, TOTAL((per.v - arm.mean) * (per.v - arm.mean)) AS m2
    FROM arm JOIN per ON per.variant = arm.variant AND per.version IS arm.version
    GROUP BY arm.variant, arm.version`;

/** Per prediction with a value: the sum of its values in scope (usually one). */
const meanSql = (driver: Driver): string =>
  armSql(`SELECT p.variant AS variant, p.version AS version, TOTAL(f.value) AS v ${feedbackJoinSql(driver, 'monitoring_outcomes', EVENT_VALUE, 'p.shadow = 0')} GROUP BY p.seq`);

/** A prediction that is a number: JSON number text (numberOfText), which json_extract reads as one. */
const NUMERIC_PREDICTION = "p.predicted IS NOT NULL AND CASE WHEN json_valid(p.predicted) THEN json_type(p.predicted) IN ('integer', 'real') ELSE 0 END";

/**
 * One pass over the labelled one-row predictions for both metrics that read labels: accuracy (all
 * of them: `labelled`, and `successes` where the label equals the prediction as text) and error
 * (the arm of absolute errors, v, of those whose label and prediction are numbers).
 */
const labelledSql = (driver: Driver): string =>
  armSql(
    `SELECT p.variant AS variant, p.version AS version, f.label = p.predicted AS correct,
       CASE WHEN f.label_type = 'number' AND ${NUMERIC_PREDICTION} THEN ABS(CAST(f.label AS REAL) - json_extract(p.predicted, '$')) END AS v
     ${feedbackJoinSql(driver, 'monitoring_labels', '', 'p.predicted IS NOT NULL')}`,
    ', COUNT(*) AS labelled, SUM(correct) AS successes',
  );

const armKey = (variant: string, version: number | null): string => `${version ?? ''}\u0000${variant}`;

/** How long a commit that skipped the fsync stays unsynced at most: a checkpoint then syncs the log. */
export const UNSYNCED_AT_MOST_MS = 1000;

export interface MonitoringOpsOptions {
  /** Times the sync after commits that skipped the fsync ({@link UNSYNCED_AT_MOST_MS}). Default: the system clock. */
  readonly clock?: Pick<Clock, 'setTimeout'>;
}

/** Prepares the operations on `db`, whose monitoring schema is migrated. */
export function prepareMonitoringOps(db: SqliteDatabase, options: MonitoringOpsOptions = {}): MonitoringOps {
  const clock = options.clock ?? systemClock;
  const perDriver = <T>(make: (driver: Driver) => T): Record<Driver, T> => ({ window: make('window'), feedback: make('feedback') });
  const sql = {
    exists: db.prepare('SELECT 1 AS one FROM monitoring_predictions WHERE request_id = ? LIMIT 1'),
    upsertLabel: db.prepare(`
      INSERT INTO monitoring_labels (request_id, label, label_type, at) VALUES (?, ?, ?, ?)
      ON CONFLICT (request_id) DO UPDATE SET label = excluded.label, label_type = excluded.label_type, at = excluded.at`),
    upsertOutcome: db.prepare(`
      INSERT INTO monitoring_outcomes (request_id, event, value, at) VALUES (?, ?, ?, ?)
      ON CONFLICT (request_id, event) DO UPDATE SET value = COALESCE(excluded.value, value), at = excluded.at`),
    // each join with feedback both ways round; see Driver
    successes: perDriver((d) =>
      db.prepare(`SELECT p.variant AS variant, p.version AS version, COUNT(*) AS successes ${feedbackJoinSql(d, 'monitoring_outcomes', 'f.event = @event', 'p.shadow = 0')} GROUP BY p.variant, p.version`),
    ),
    labelled: perDriver((d) => db.prepare(labelledSql(d))),
    mean: perDriver((d) => db.prepare(meanSql(d))),
    outcomeRows: db.prepare('SELECT COUNT(*) AS n FROM monitoring_outcomes'),
    labelRows: db.prepare('SELECT COUNT(*) AS n FROM monitoring_labels'),
    predictedValues: db.prepare(`
      SELECT variant, predicted, COUNT(*) AS count
      FROM monitoring_predictions
      WHERE endpoint = @endpoint AND at >= @since AND at < @until AND predicted IS NOT NULL AND status BETWEEN 200 AND 299
      GROUP BY variant, predicted`),
    // a window's counts: its whole seconds from the per-second counts, the parts of a second at its ends from the records
    countRecords: db.prepare(`
      SELECT variant, version, COUNT(*) AS predictions, SUM(status BETWEEN 200 AND 299) AS answered
      FROM monitoring_predictions WHERE endpoint = ? AND at >= ? AND at < ? GROUP BY variant, version`),
    countSeconds: db.prepare(`
      SELECT variant, NULLIF(version, -1) AS version, SUM(predictions) AS predictions, SUM(answered) AS answered
      FROM monitoring_prediction_seconds WHERE endpoint = ? AND second >= ? AND second < ? GROUP BY variant, version`),
    pruneOld: db.prepare(PRUNE_OLDER_SQL),
    keepBoundary: db.prepare('SELECT seq, request_id FROM monitoring_predictions ORDER BY seq DESC LIMIT 1 OFFSET ?'),
    atSeq: db.prepare('SELECT request_id FROM monitoring_predictions WHERE seq = ?'),
    pruneBeyond: db.prepare(`
      DELETE FROM monitoring_predictions
      WHERE seq IN (SELECT seq FROM monitoring_predictions WHERE seq <= ? ORDER BY seq LIMIT ?)
      RETURNING ${DELETED}`),
    deleteLabel: db.prepare('DELETE FROM monitoring_labels WHERE request_id = ?'),
    deleteOutcomes: db.prepare('DELETE FROM monitoring_outcomes WHERE request_id = ?'),
  };
  const countWrites = prepareCountWrites(db);
  const insert = preparePredictionInsert(db, countWrites);
  /**
   * A write transaction committed without waiting for the disk (`synchronous = NORMAL` for it, in
   * WAL mode). A crash of the process loses nothing: the log is written before the call returns. The
   * fsync follows within {@link UNSYNCED_AT_MOST_MS}: a passive checkpoint, which syncs the log
   * first (a commit with the connection's own setting, FULL, syncs it sooner). So a
   * power loss may lose the last second of prediction records and deletions — as it loses the up to
   * a second of records the recorder holds in memory anyway, and a lost deletion is redone by the
   * next prune. The fsync at every commit was about 40 % of the writer thread's commit time (thread
   * CPU per record, 2.8 µs → 1.6 µs, served at concurrency 64); one a second costs nothing like it.
   * Feedback, which a client is told is stored, commits with FULL.
   */
  let syncSoon: TimerHandle | undefined;
  const unsynced = <T>(fn: () => T): T => {
    const was = db.pragma('synchronous', { simple: true }) as number;
    if (was <= SYNCHRONOUS_NORMAL) return writeTransaction(db, fn);
    db.pragma(`synchronous = ${SYNCHRONOUS_NORMAL}`);
    let result: T;
    try {
      result = writeTransaction(db, fn);
    } finally {
      db.pragma(`synchronous = ${was}`);
    }
    syncSoon ??= clock.setTimeout(() => {
      syncSoon = undefined;
      try {
        if (db.open) db.pragma('wal_checkpoint(PASSIVE)');
      } catch {
        // busy or closing: the next commit with FULL, or the next checkpoint, syncs the log
      }
    }, UNSYNCED_AT_MOST_MS);
    return result;
  };
  const insertEncoded = (records: readonly EncodedPrediction[]): InsertPredictionsResult => unsynced(() => insert(records.length, encodedRows(records)));
  /** Retention by count's boundary, kept between calls while rows up to it remain (see prune). */
  let countBoundary: { readonly keepNewest: number; readonly seq: number; readonly requestId: string } | undefined;
  const windowParams = (endpoint: string, window: TimeWindow) => ({ endpoint, since: window.since, until: window.until ?? OPEN_END });
  /**
   * The window's records per variant and version: the seconds wholly inside it summed from
   * monitoring_prediction_seconds (a row per second, however many records), the parts of a second
   * at its two ends counted from the records. Call it inside a read transaction: three statements.
   */
  const countsOf = (endpoint: string, window: TimeWindow): PredictionCountRow[] => {
    const since = window.since;
    const until = window.until ?? OPEN_END;
    const first = Math.ceil(since / 1000);
    const end = Math.floor(until / 1000);
    if (first >= end) return (sql.countRecords.all(endpoint, since, until) as CountRow[]).map((r) => ({ ...r }));
    const merged = new Map<string, CountRow>();
    const take = (rows: readonly CountRow[]): void => {
      for (const r of rows) {
        const key = armKey(r.variant, r.version);
        const m = merged.get(key);
        if (m === undefined) merged.set(key, { variant: r.variant, version: r.version, predictions: r.predictions, answered: r.answered });
        else {
          m.predictions += r.predictions;
          m.answered += r.answered;
        }
      }
    };
    take(sql.countRecords.all(endpoint, since, first * 1000) as CountRow[]);
    take(sql.countSeconds.all(endpoint, first, end) as CountRow[]);
    take(sql.countRecords.all(endpoint, end * 1000, until) as CountRow[]);
    return [...merged.values()].filter((r) => r.predictions > 0);
  };
  const countRows = (endpoint: string, window: TimeWindow): PredictionCountRow[] => db.transaction(() => countsOf(endpoint, window)).deferred();

  return {
    insertEncoded,

    insertTape(tape) {
      return unsynced(() => insert(tape.n, tapeRows(tape)));
    },

    addFeedback(items, options) {
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

    outcomeSnapshot(endpoint, window, metrics, span) {
      // one read transaction: the counts and every metric's arms see the same records
      return db
        .transaction((): OutcomeSnapshot => {
          const params = windowParams(endpoint, window);
          const counts = countsOf(endpoint, window);
          const spanCounts = span === undefined ? undefined : countsOf(endpoint, span);
          // the window's answered, non-shadow predictions per arm: n of a rate, and of a mean counting no value as 0
          const answered = counts.filter((c) => c.variant !== SHADOW_VARIANT && c.answered > 0);
          const inWindow = counts.reduce((sum, c) => sum + c.predictions, 0);
          // read the smaller side in full: the window, or the feedback table (counted once, when asked)
          const sizes = new Map<'outcomes' | 'labels', number>();
          const driver = (table: 'outcomes' | 'labels'): Driver => {
            let size = sizes.get(table);
            if (size === undefined) {
              size = ((table === 'outcomes' ? sql.outcomeRows : sql.labelRows).get() as { n: number }).n;
              sizes.set(table, size);
            }
            return size < inWindow ? 'feedback' : 'window';
          };
          // accuracy and error read the labels' join once between them
          let labelledRows: LabelledRow[] | undefined;
          const labelled = (): LabelledRow[] => (labelledRows ??= sql.labelled[driver('labels')].all(params) as LabelledRow[]);
          const arms = metrics.map((metric): readonly ArmRow[] => {
            switch (metric.kind) {
              case 'rate': {
                const found = new Map((sql.successes[driver('outcomes')].all({ ...params, event: metric.event }) as SuccessRow[]).map((r) => [armKey(r.variant, r.version), r.successes]));
                return answered.map((c) => ({ variant: c.variant, version: c.version, arm: { kind: 'rate', n: c.answered, successes: found.get(armKey(c.variant, c.version)) ?? 0 } }));
              }
              case 'accuracy':
                return labelled().map((r) => ({ variant: r.variant, version: r.version, arm: { kind: 'rate', n: r.labelled, successes: r.successes } }));
              case 'error':
                return labelled()
                  .filter((r) => r.n > 0)
                  .map((r) => ({ variant: r.variant, version: r.version, arm: { kind: 'continuous', n: r.n, mean: r.mean, m2: Math.max(0, r.m2) } }));
              case 'mean': {
                const valued = sql.mean[driver('outcomes')].all({ ...params, event: metric.event ?? null }) as MeanRow[];
                if (metric.missing !== 'zero') {
                  return valued.map((r) => ({ variant: r.variant, version: r.version, arm: { kind: 'continuous', n: r.n, mean: r.mean, m2: Math.max(0, r.m2) } }));
                }
                // every answered prediction, those without a value as 0: the arm of the k with values
                // merged with n − k zeros (Chan, Golub & LeVeque's pairwise update)
                const byArm = new Map(valued.map((r) => [armKey(r.variant, r.version), r]));
                return answered.map((c) => {
                  const v = byArm.get(armKey(c.variant, c.version));
                  const n = c.answered;
                  const k = v?.n ?? 0;
                  const mean = v === undefined ? 0 : (v.mean * k) / n;
                  const m2 = v === undefined ? 0 : Math.max(0, v.m2) + (v.mean * v.mean * k * (n - k)) / n;
                  return { variant: c.variant, version: c.version, arm: { kind: 'continuous', n, mean, m2 } };
                });
              }
            }
          });
          return spanCounts === undefined ? { counts, arms } : { counts, arms, spanCounts };
        })
        .deferred();
    },

    predictedValues(endpoint, window) {
      return (sql.predictedValues.all(windowParams(endpoint, window)) as PredictedValueRow[]).map((r) => ({ variant: r.variant, predicted: r.predicted, count: r.count }));
    },

    predictionCounts: countRows,

    prune(policy) {
      return unsynced(() => {
        const removed: string[] = [];
        const uncounted = new SecondCounts();
        const take = (rows: readonly DeletedRow[]): void => {
          for (const row of rows) {
            removed.push(row.request_id);
            uncounted.add(row.endpoint, row.at, row.variant, row.version, row.status);
          }
        };
        if (policy.olderThan !== undefined && policy.limit > 0) take(sql.pruneOld.all(policy.olderThan, policy.limit) as DeletedRow[]);
        const room = policy.limit - removed.length;
        if (policy.keepNewest !== undefined && room > 0) {
          // Finding the boundary walks keepNewest rows (a million by default), so it is found once
          // and kept while calls delete up to it, `limit` records at a time: a row beyond the newest
          // keepNewest stays beyond them as newer rows arrive, so a kept boundary never deletes too much.
          // It is kept only while its own row is still there: once every row is gone, SQLite numbers
          // new rows from 1 again, and a number kept from before would then name the newest ones.
          const kept = countBoundary?.keepNewest === policy.keepNewest && (sql.atSeq.get(countBoundary.seq) as { request_id: string } | undefined)?.request_id === countBoundary.requestId;
          if (!kept) {
            const found = sql.keepBoundary.get(policy.keepNewest) as { seq: number; request_id: string } | undefined;
            countBoundary = found === undefined ? undefined : { keepNewest: policy.keepNewest, seq: found.seq, requestId: found.request_id };
          }
          if (countBoundary !== undefined) {
            const rows = sql.pruneBeyond.all(countBoundary.seq, room) as DeletedRow[];
            take(rows);
            // everything up to it is gone: the next call looks for the boundary afresh
            if (rows.length < room) countBoundary = undefined;
          }
        }
        countWrites.remove(uncounted);
        // feedback goes with the last record of its request id
        for (const requestId of new Set(removed)) {
          if (sql.exists.get(requestId) !== undefined) continue;
          sql.deleteLabel.run(requestId);
          sql.deleteOutcomes.run(requestId);
        }
        return { deleted: removed.length, more: removed.length >= policy.limit };
      });
    },
  };
}
