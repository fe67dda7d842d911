/**
 * The prediction writer's worker thread: reads each prediction tape into records (summarising their
 * outputs), and writes them with its own connection to the database file and the same insert
 * statement as the store's, one transaction per batch (WAL: readers on the request thread are never
 * blocked; the commit's fsync happens here). Messages are handled in arrival order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toPlatformError } from '../../core/index.js';
import { openSqliteDatabase, writeTransaction, type SqliteDatabase } from './database.js';
import { encodeTape } from '../../monitoring/predictions/tape.js';
import { encodedRows, preparePredictionInsert } from './prediction-insert.js';
import type { FromPredictionWriter, PredictionWriterData, ToPredictionWriter } from './prediction-writer-protocol.js';

const port = parentPort;
if (port === null) throw new Error('prediction-writer-worker must run inside a worker thread');
const data = workerData as PredictionWriterData;
const post = (message: FromPredictionWriter): void => port.postMessage(message);

let db: SqliteDatabase | undefined;
try {
  db = openSqliteDatabase(data.path, data.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: data.busyTimeoutMs });
  // This connection only ever inserts the rows encodeTape makes: its JSON is the summary encoder's
  // (tested byte for byte against JSON.stringify), so the table's json_valid CHECK, which would parse
  // every summary again (about 1.2 µs a row, an eighth of the insert), is skipped here; every other
  // connection keeps it.
  db.pragma('ignore_check_constraints = ON');
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'open-failed', error: toPlatformError(error).toJSON() });
}

// prepared at the first insert, by when the store has migrated the schema
let insert: ReturnType<typeof preparePredictionInsert> | undefined;

port.on('message', (message: ToPredictionWriter) => {
  if (message.type === 'close') {
    db?.close();
    db = undefined;
    post({ type: 'closed' });
    port.close();
    return;
  }
  try {
    if (db === undefined) throw new Error('the prediction writer has no open database');
    const open = db;
    insert ??= preparePredictionInsert(open);
    const run = insert;
    // the outputs are summarised here, off the request thread, by the same rules as there
    const records = encodeTape(message.tape);
    const result = writeTransaction(open, () => run(records.length, encodedRows(records)));
    post({ type: 'inserted', id: message.id, inserted: result.inserted, duplicates: result.duplicates });
  } catch (error) {
    post({ type: 'failed', id: message.id, error: toPlatformError(error).toJSON() });
  }
});
