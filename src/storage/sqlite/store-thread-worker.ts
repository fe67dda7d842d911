/**
 * A store thread's worker: its own connection to the database file, on which it runs the monitoring
 * operations the request thread sends (monitoring-ops.ts), one at a time in arrival order. WAL lets
 * the reader thread's queries run while the writer thread writes, and neither blocks the request
 * thread's own reads; a write's commit (and its fsync) happens here.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toPlatformError } from '../../core/index.js';
import { openSqliteDatabase, type SqliteDatabase } from './database.js';
import { prepareMonitoringOps, WRITE_OPS, type MonitoringOps } from './monitoring-ops.js';
import type { FromStoreThread, StoreThreadData, ToStoreThread } from './store-thread-protocol.js';

const port = parentPort;
if (port === null) throw new Error('store-thread-worker must run inside a worker thread');
const data = workerData as StoreThreadData;
const post = (message: FromStoreThread): void => port.postMessage(message);
const writes: ReadonlySet<string> = new Set(WRITE_OPS);

let db: SqliteDatabase | undefined;
try {
  db = openSqliteDatabase(data.path, data.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: data.busyTimeoutMs });
  if (data.role === 'writer') {
    // The prediction rows this connection inserts are createEncodedReader's: their JSON is the summary
    // encoder's (tested byte for byte against JSON.stringify), so the table's json_valid CHECK, which
    // would parse every summary again (about 1.2 µs a row, an eighth of the insert), is skipped here;
    // every other connection keeps it.
    db.pragma('ignore_check_constraints = ON');
  } else {
    db.pragma('query_only = ON');
  }
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'open-failed', error: toPlatformError(error).toJSON() });
}

// prepared at the first call, by when the store has migrated the schema
let ops: MonitoringOps | undefined;

port.on('message', (message: ToStoreThread) => {
  if (message.type === 'close') {
    db?.close();
    db = undefined;
    post({ type: 'closed' });
    port.close();
    return;
  }
  try {
    if (db === undefined) throw new Error('the store thread has no open database');
    if (writes.has(message.op) !== (data.role === 'writer')) throw new Error(`the ${data.role} thread does not run ${message.op}`);
    ops ??= prepareMonitoringOps(db);
    const run = ops[message.op] as (...args: readonly unknown[]) => unknown;
    post({ type: 'done', id: message.id, result: run(...message.args) });
  } catch (error) {
    post({ type: 'failed', id: message.id, error: toPlatformError(error).toJSON() });
  }
});
