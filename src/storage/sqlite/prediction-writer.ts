/**
 * The prediction writer: prediction records are written to SQLite by a worker thread with its own
 * connection to the database file, so the request thread never spends its time binding rows or
 * waiting for a commit's fsync (in a CPU profile at concurrency 64 the in-process writes took about 7 %
 * of the request thread's time, and each commit's fsync stalled its event loop).
 * Reads stay on the request thread's connection; WAL lets them run while the worker writes.
 *
 * Should the worker die, the tapes it held are written again in-process by the fallback the
 * caller passes, and so is every later one: inserts are idempotent (a request id already stored is
 * skipped), so nothing is lost or doubled.
 */
import type { Worker } from 'node:worker_threads';
import { revivePlatformError, silentLogger, startModuleWorker, toPlatformError, type Logger } from '../../core/index.js';
import type { InsertPredictionsResult } from '../../monitoring/ports.js';
import { tapeTransferList, type PredictionTape } from '../../monitoring/predictions/tape.js';
import { StorageErrors } from '../errors.js';
import type { FromPredictionWriter, PredictionWriterData, ToPredictionWriter } from './prediction-writer-protocol.js';

/** Writes a tape's records in this thread; what the writer uses when its worker is gone. */
export type InsertInProcess = (tape: PredictionTape) => InsertPredictionsResult;

export interface PredictionWriter {
  /**
   * Writes a tape's records in one transaction on the worker (which summarises their outputs). The
   * tape's buffers are transferred: it is unusable here afterwards. With the worker gone (it
   * failed, or the writer is closed), `fallback` writes it here; without one the call rejects.
   */
  insertTape(tape: PredictionTape, fallback?: InsertInProcess): Promise<InsertPredictionsResult>;
  /** Whether batches still go to the worker. */
  readonly offThread: boolean;
  /** Waits for the batches sent, then closes the worker's connection and stops it. Idempotent. */
  close(): Promise<void>;
  /** Stops the thread at once, as a crash would: the batches it held are written by their fallbacks. */
  terminate(): Promise<void>;
}

export interface PredictionWriterOptions {
  /** The database file (`<data-dir>/slipway.db`). */
  readonly path: string;
  readonly logger?: Logger;
  readonly busyTimeoutMs?: number;
}

interface InFlight {
  /** A copy kept for the fallback (the original's buffers went to the worker). */
  readonly tape: PredictionTape;
  readonly fallback: InsertInProcess | undefined;
  resolve(result: InsertPredictionsResult): void;
  reject(error: unknown): void;
}

/** Starts the worker and resolves once its connection is open; STORAGE_DATABASE_UNUSABLE when it cannot open the file. */
export async function startPredictionWriter(options: PredictionWriterOptions): Promise<PredictionWriter> {
  const logger = options.logger ?? silentLogger;
  const data: PredictionWriterData = { path: options.path, ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }) };
  const worker: Worker = startModuleWorker(import.meta.url, './prediction-writer-worker', data);
  const inFlight = new Map<number, InFlight>();
  let nextId = 1;
  let alive = true;
  let closing: Promise<void> | undefined;
  let onClosed: (() => void) | undefined;

  // async: what the fallback throws becomes the promise's rejection
  const inProcess = async (tape: PredictionTape, fallback: InsertInProcess | undefined): Promise<InsertPredictionsResult> => {
    if (fallback === undefined) throw StorageErrors.STORAGE_DATABASE_UNUSABLE(`the prediction writer for "${options.path}" is ${closing === undefined ? 'gone' : 'closed'}`, { details: { path: options.path } });
    return fallback(tape);
  };

  /** The worker is gone: what it held is written here (idempotent inserts), and so is everything later. */
  const lost = (reason: string): void => {
    if (!alive) return;
    alive = false;
    if (closing === undefined) logger.warn({ path: options.path, reason, batches: inFlight.size }, 'prediction writer thread stopped; records are written on the request thread from now on');
    const held = [...inFlight.values()];
    inFlight.clear();
    for (const f of held) inProcess(f.tape, f.fallback).then((r) => f.resolve(r), (e: unknown) => f.reject(e));
    onClosed?.();
  };

  await new Promise<void>((resolve, reject) => {
    const onStartMessage = (message: FromPredictionWriter): void => {
      if (message.type === 'ready') {
        worker.off('error', onStartError);
        resolve();
      } else if (message.type === 'open-failed') {
        worker.off('error', onStartError);
        alive = false;
        void worker.terminate();
        reject(revivePlatformError(message.error));
      }
    };
    const onStartError = (error: Error): void => {
      alive = false;
      reject(StorageErrors.STORAGE_DATABASE_UNUSABLE(`the prediction writer for "${options.path}" could not start: ${error.message}`, { details: { path: options.path }, cause: error }));
    };
    worker.once('message', onStartMessage);
    worker.once('error', onStartError);
  });

  worker.on('message', (message: FromPredictionWriter) => {
    if (message.type === 'inserted' || message.type === 'failed') {
      const f = inFlight.get(message.id);
      if (f === undefined) return;
      inFlight.delete(message.id);
      if (inFlight.size === 0) worker.unref();
      if (message.type === 'inserted') f.resolve({ inserted: message.inserted, duplicates: message.duplicates });
      else f.reject(revivePlatformError(message.error));
    } else if (message.type === 'closed') {
      lost('closed');
    }
  });
  worker.on('error', (error) => lost(error.message));
  worker.on('exit', (code) => lost(`exited with code ${code}`));
  // holds the process open only while it owes answers: a forgotten idle writer must not hang a test
  worker.unref();

  return {
    get offThread() {
      return alive;
    },
    insertTape(tape, fallback) {
      if (!alive) return inProcess(tape, fallback);
      if (tape.n === 0) return Promise.resolve({ inserted: 0, duplicates: 0 });
      return new Promise<InsertPredictionsResult>((resolve, reject) => {
        const id = nextId++;
        // the fallback needs the tape should the worker die with it; its buffers are about to leave
        const kept = fallback === undefined ? tape : copyTape(tape);
        inFlight.set(id, { tape: kept, fallback, resolve, reject });
        worker.ref();
        try {
          worker.postMessage({ type: 'insert', id, tape } satisfies ToPredictionWriter, tapeTransferList(tape));
        } catch (error) {
          // a tape that cannot be sent to the thread (it never should): written here
          inFlight.delete(id);
          inProcess(kept, fallback).then(resolve, () => reject(toPlatformError(error)));
        }
      });
    },
    close() {
      closing ??= alive
        ? new Promise<void>((resolve) => {
            onClosed = resolve;
            worker.ref();
            // handled after every insert sent before it
            worker.postMessage({ type: 'close' } satisfies ToPredictionWriter);
          })
        : Promise.resolve();
      return closing;
    },
    async terminate() {
      await worker.terminate();
      lost('terminated');
    },
  };
}

/** A tape whose typed arrays are copies (the strings are shared: they are immutable). */
function copyTape(t: PredictionTape): PredictionTape {
  return { ...t, ints: t.ints.slice(), nums: t.nums.slice(), outs: t.outs.slice(), dims: t.dims.slice(), arena: t.arena.slice() };
}
