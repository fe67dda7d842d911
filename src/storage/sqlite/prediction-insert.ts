/**
 * Writing prediction records: the one statement both the monitoring store (in-process) and the
 * store's writer thread run, so the two cannot disagree about a row; and the per-second counts
 * (monitoring_prediction_seconds) that every write of records keeps in step with them.
 */
import type { InsertPredictionsResult } from '../../monitoring/ports.js';
import { createEncodedReader, type EncodedPrediction, type PredictionTape } from '../../monitoring/predictions/tape.js';
import { SHADOW_VARIANT } from '../../monitoring/types.js';
import type { SqliteDatabase } from './database.js';
import { SECOND_OF_AT, secondOf } from './monitoring-migrations.js';

/** Records per multi-row INSERT (11 parameters each, well under SQLite's limit of 32,766). */
const INSERT_CHUNK = 50;

const insertSql = (rows: number): string =>
  `INSERT INTO monitoring_predictions (request_id, shadow, at, endpoint, model, version, variant, latency_ms, status, predicted, outputs)
   VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
   ON CONFLICT (request_id, shadow) DO NOTHING`;

/** Appends record `i`'s 11 column values to `args`, in the statement's order. */
export type RowWriter = (args: unknown[], i: number) => void;

/** Values per row in the insert's arguments, and where the counted ones are (see pushRow). */
const COLUMNS = 11;
const AT = 2;
const ENDPOINT = 3;
const VERSION = 5;
const VARIANT = 6;
const STATUS = 8;

/** One (endpoint, second, variant, version)'s records and those answered (status 2xx); version -1: none. */
interface SecondCount {
  readonly endpoint: string;
  readonly second: number;
  readonly variant: string;
  readonly version: number;
  predictions: number;
  answered: number;
}

/** Records counted per (endpoint, second, variant, version), as monitoring_prediction_seconds keeps them. */
export class SecondCounts {
  private readonly byKey = new Map<string, SecondCount>();
  /** The last count added to: records come in runs of one endpoint, second and variant, which then need no key. */
  private last: SecondCount | undefined;

  add(endpoint: string, at: number, variant: string, version: number | null, status: number): void {
    const second = secondOf(at);
    const v = version ?? -1;
    let c = this.last;
    if (c === undefined || c.second !== second || c.endpoint !== endpoint || c.variant !== variant || c.version !== v) {
      const key = `${endpoint}\u0000${second}\u0000${variant}\u0000${v}`;
      c = this.byKey.get(key);
      if (c === undefined) {
        c = { endpoint, second, variant, version: v, predictions: 0, answered: 0 };
        this.byKey.set(key, c);
      }
      this.last = c;
    }
    c.predictions++;
    if (status >= 200 && status <= 299) c.answered++;
  }

  /** Adds the row whose values start at `args[base]` (the insert's order). */
  addRow(args: readonly unknown[], base: number): void {
    this.add(args[base + ENDPOINT] as string, args[base + AT] as number, args[base + VARIANT] as string, args[base + VERSION] as number | null, args[base + STATUS] as number);
  }

  values(): IterableIterator<SecondCount> {
    return this.byKey.values();
  }
}

const KEY = 'endpoint = ? AND second = ? AND variant = ? AND version = ?';
const ADD_ON_CONFLICT = 'ON CONFLICT (endpoint, second, variant, version) DO UPDATE SET predictions = predictions + excluded.predictions, answered = answered + excluded.answered';

/** Writes to the per-second counts, inside the caller's transaction. */
export interface CountWrites {
  /** Adds counts of records inserted. */
  add(counts: SecondCounts): void;
  /** Adds the counts of every record stored after `seq` (the exact figure when some rows of a batch were duplicates). */
  addAfter(seq: number): void;
  /** Takes away counts of records deleted; a second left with none is removed. */
  remove(counts: SecondCounts): void;
}

export function prepareCountWrites(db: SqliteDatabase): CountWrites {
  const add = db.prepare(`INSERT INTO monitoring_prediction_seconds (endpoint, second, variant, version, predictions, answered) VALUES (?, ?, ?, ?, ?, ?) ${ADD_ON_CONFLICT}`);
  const addAfter = db.prepare(`
    INSERT INTO monitoring_prediction_seconds (endpoint, second, variant, version, predictions, answered)
    SELECT endpoint, ${SECOND_OF_AT}, variant, COALESCE(version, -1), COUNT(*), SUM(status BETWEEN 200 AND 299)
    FROM monitoring_predictions WHERE seq > ? GROUP BY 1, 2, 3, 4
    ${ADD_ON_CONFLICT}`);
  const subtract = db.prepare(`UPDATE monitoring_prediction_seconds SET predictions = predictions - ?, answered = answered - ? WHERE ${KEY}`);
  const dropEmpty = db.prepare(`DELETE FROM monitoring_prediction_seconds WHERE ${KEY} AND predictions <= 0`);
  return {
    add(counts) {
      for (const c of counts.values()) add.run(c.endpoint, c.second, c.variant, c.version, c.predictions, c.answered);
    },
    addAfter(seq) {
      addAfter.run(seq);
    },
    remove(counts) {
      for (const c of counts.values()) {
        subtract.run(c.predictions, c.answered, c.endpoint, c.second, c.variant, c.version);
        dropEmpty.run(c.endpoint, c.second, c.variant, c.version);
      }
    },
  };
}

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
 * rows inside the caller's transaction, skipping a request id (and role) already stored, and adds
 * the rows it stored to the per-second counts through `countWrites` (prepared on the same `db`).
 */
export function preparePredictionInsert(db: SqliteDatabase, countWrites: CountWrites): (n: number, row: RowWriter) => InsertPredictionsResult {
  const insertOne = db.prepare(insertSql(1));
  const insertMany = db.prepare(insertSql(INSERT_CHUNK));
  const lastSeq = db.prepare('SELECT MAX(seq) AS seq FROM monitoring_predictions');
  return (n, row) => {
    const before = (lastSeq.get() as { seq: number | null }).seq ?? 0;
    const counts = new SecondCounts();
    let inserted = 0;
    let i = 0;
    // full chunks go through one multi-row statement: about half the cost per record of one row at a time
    for (; i + INSERT_CHUNK <= n; i += INSERT_CHUNK) {
      const args: unknown[] = [];
      for (let j = i; j < i + INSERT_CHUNK; j++) row(args, j);
      for (let base = 0; base < args.length; base += COLUMNS) counts.addRow(args, base);
      inserted += insertMany.run(...args).changes;
    }
    for (; i < n; i++) {
      const args: unknown[] = [];
      row(args, i);
      counts.addRow(args, 0);
      inserted += insertOne.run(...args).changes;
    }
    // the rows counted as they were bound, unless some were duplicates left out: then those stored (rowids only grow)
    if (inserted === n) countWrites.add(counts);
    else if (inserted > 0) countWrites.addAfter(before);
    return { inserted, duplicates: n - inserted };
  };
}
