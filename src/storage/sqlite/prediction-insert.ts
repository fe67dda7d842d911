/**
 * Writing prediction records: the one statement both the monitoring store (in-process) and the
 * store's writer thread run, so the two cannot disagree about a row.
 */
import type { InsertPredictionsResult } from '../../monitoring/ports.js';
import { createEncodedReader, type EncodedPrediction, type PredictionTape } from '../../monitoring/predictions/tape.js';
import { SHADOW_VARIANT } from '../../monitoring/types.js';
import type { SqliteDatabase } from './database.js';

/** Records per multi-row INSERT (11 parameters each, well under SQLite's limit of 32,766). */
const INSERT_CHUNK = 50;

const insertSql = (rows: number): string =>
  `INSERT INTO monitoring_predictions (request_id, shadow, at, endpoint, model, version, variant, latency_ms, status, predicted, outputs)
   VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
   ON CONFLICT (request_id, shadow) DO NOTHING`;

/** Appends record `i`'s 11 column values to `args`, in the statement's order. */
export type RowWriter = (args: unknown[], i: number) => void;

const pushRow = (args: unknown[], r: EncodedPrediction): void => {
  args.push(r.requestId, r.variant === SHADOW_VARIANT ? 1 : 0, r.at, r.endpoint, r.model, r.version, r.variant, r.latencyMs, r.status, r.predicted, r.outputsJson);
};

/** The rows of encoded prediction records (see encodeRecord). */
export function encodedRows(records: readonly EncodedPrediction[]): RowWriter {
  return (args, i) => pushRow(args, records[i] as EncodedPrediction);
}

/** The rows of a tape's records, each encoded as its row is bound (see createEncodedReader): rows must be asked for in order. */
export function tapeRows(tape: PredictionTape): RowWriter {
  const read = createEncodedReader(tape);
  return (args, i) => pushRow(args, read(i));
}

/**
 * Prepares the insert on `db` (whose monitoring schema is migrated) and returns it: it writes `n`
 * rows inside the caller's transaction, skipping a request id (and role) already stored.
 */
export function preparePredictionInsert(db: SqliteDatabase): (n: number, row: RowWriter) => InsertPredictionsResult {
  const insertOne = db.prepare(insertSql(1));
  const insertMany = db.prepare(insertSql(INSERT_CHUNK));
  return (n, row) => {
    let inserted = 0;
    let i = 0;
    // full chunks go through one multi-row statement: about half the cost per record of one row at a time
    for (; i + INSERT_CHUNK <= n; i += INSERT_CHUNK) {
      const args: unknown[] = [];
      for (let j = i; j < i + INSERT_CHUNK; j++) row(args, j);
      inserted += insertMany.run(...args).changes;
    }
    for (; i < n; i++) {
      const args: unknown[] = [];
      row(args, i);
      inserted += insertOne.run(...args).changes;
    }
    return { inserted, duplicates: n - inserted };
  };
}
