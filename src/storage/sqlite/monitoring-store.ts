/**
 * The SQLite adapter of the MonitoringStore port, on a database it is handed (shared with the
 * registry; it never opens one itself). Outcome arms are computed by SQL aggregates over the
 * (endpoint, at) index; each write is one BEGIN IMMEDIATE transaction.
 *
 * Given store threads (see store-thread.ts), writes run on the writer's connection and aggregates
 * on the reader's; point reads (a request id's record and feedback) and size stay on `db`.
 */
import { systemClock, type Clock } from '../../core/index.js';
import type { FeedbackOutcome, MonitoringStore, PredictionFeedback, PredictionRecord } from '../../monitoring/index.js';
import type { SqliteDatabase } from './database.js';
import { migrate, type MigrationOutcome } from './migrate.js';
import { prepareMonitoringOps, type MonitoringOps } from './monitoring-ops.js';
import type { StoreThread } from './store-thread.js';
import { parseStoredSummary } from '../../monitoring/predictions/summary.js';
import { copyTape, encodeRecord, tapeTransferList, type PredictionTape } from '../../monitoring/predictions/tape.js';
import { MONITORING_COMPONENT, monitoringMigrations } from './monitoring-migrations.js';

export interface SqliteMonitoringStoreOptions {
  /** An open database (see openSqliteDatabase), usually the registry's; this store never closes it. */
  readonly db: SqliteDatabase;
  /** Stamps `schema_migrations.applied_at`. Default: the system clock. */
  readonly clock?: Clock;
  /**
   * Runs the writes — prediction records, feedback, retention — on a thread with its own connection
   * to the same file (startStoreThread, role `writer`), so the request thread never binds a row or
   * waits for a commit. Default: on `db`, in this thread.
   */
  readonly writer?: StoreThread;
  /**
   * Runs the aggregates — outcome arms, prediction counts, predicted values — on a thread with its
   * own connection (role `reader`), so a query over a million records never holds the request
   * thread. Default: on `db`, in this thread.
   */
  readonly reader?: StoreThread;
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

/** Brings the monitoring schema up to date on `db` and returns the store. Throws STORAGE_SCHEMA_TOO_NEW for a newer schema. */
export function createSqliteMonitoringStore(options: SqliteMonitoringStoreOptions): SqliteMonitoringStore {
  const { db } = options;
  if (options.writer !== undefined && options.writer.role !== 'writer') throw new TypeError(`the store's writer must be a writer thread, not a ${options.writer.role}`);
  if (options.reader !== undefined && options.reader.role !== 'reader') throw new TypeError(`the store's reader must be a reader thread, not a ${options.reader.role}`);
  const migration = migrate(db, MONITORING_COMPONENT, monitoringMigrations, { clock: options.clock ?? systemClock });

  const sql = {
    byRequest: db.prepare('SELECT * FROM monitoring_predictions WHERE request_id = ? ORDER BY shadow'),
    label: db.prepare('SELECT label, label_type, at FROM monitoring_labels WHERE request_id = ?'),
    outcomes: db.prepare('SELECT event, value, at FROM monitoring_outcomes WHERE request_id = ? ORDER BY event'),
    countPredictions: db.prepare('SELECT COUNT(*) AS n FROM monitoring_predictions'),
    countLabels: db.prepare('SELECT COUNT(*) AS n FROM monitoring_labels'),
    countOutcomes: db.prepare('SELECT COUNT(*) AS n FROM monitoring_outcomes'),
  };

  // prepared on first use: a store whose threads run every operation never needs them here
  let localOps: MonitoringOps | undefined;
  const local = (): MonitoringOps => (localOps ??= prepareMonitoringOps(db, { clock: options.clock ?? systemClock }));
  /** Runs `op` on `thread`, or here without one; here too, as its fallback, should the thread be gone. */
  const run = <K extends keyof MonitoringOps>(thread: StoreThread | undefined, op: K, ...args: Parameters<MonitoringOps[K]>): Promise<ReturnType<MonitoringOps[K]>> => {
    const here = (): ReturnType<MonitoringOps[K]> => (local()[op] as (...a: readonly unknown[]) => ReturnType<MonitoringOps[K]>)(...args);
    // async: what runs here and throws becomes a rejection, as on a thread
    return thread === undefined ? Promise.resolve().then(here) : thread.call(op, args, here);
  };
  const { writer, reader } = options;

  return {
    db,
    migration,

    async insertPredictions(records) {
      return run(writer, 'insertEncoded', records.map(encodeRecord));
    },

    // with a writer, tapes are read and written on its thread; the copy kept for a dead thread is read here
    ...(writer === undefined
      ? {}
      : {
          insertTape: (tape: PredictionTape) => {
            // the fallback needs the tape should the thread die with it; its buffers are about to leave
            const kept = copyTape(tape);
            return writer.call('insertTape', [tape], () => local().insertTape(kept), tapeTransferList(tape));
          },
        }),

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

    addFeedback: (items, feedbackOptions) => run(writer, 'addFeedback', items, feedbackOptions),
    outcomeSnapshot: (endpoint, window, metrics, span) => run(reader, 'outcomeSnapshot', endpoint, window, metrics, span),
    predictedValues: (endpoint, window) => run(reader, 'predictedValues', endpoint, window),
    predictionCounts: (endpoint, window) => run(reader, 'predictionCounts', endpoint, window),
    prune: (policy) => run(writer, 'prune', policy),

    async size() {
      const n = (statement: typeof sql.countPredictions): number => (statement.get() as { n: number }).n;
      return { predictions: n(sql.countPredictions), labels: n(sql.countLabels), outcomes: n(sql.countOutcomes) };
    },
  };
}
