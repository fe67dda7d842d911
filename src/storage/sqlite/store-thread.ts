/**
 * Store threads: the monitoring store's writes and its aggregate queries run on worker threads,
 * each with its own connection to the database file, so the request thread never binds a row,
 * waits for a commit's fsync or another connection's write lock, or holds its event loop through
 * a query over a million records.
 *
 * - The **writer** thread inserts prediction tapes (it reads them into records there), writes
 *   feedback and deletes what retention removes. It is the one connection that writes monitoring's
 *   tables, so those writes never wait for each other's locks; it runs them in the order sent.
 *   (In a CPU profile at concurrency 64 the in-process inserts took about 7 % of the request
 *   thread's time, and each commit's fsync stalled its event loop.)
 * - The **reader** thread runs the aggregates (outcome arms, prediction counts, predicted values)
 *   behind business reports, their gauges, A/B verdicts and rollout analysis; on a store of a
 *   million records such a query takes seconds. WAL lets it read while the writer writes.
 *
 * Point reads (a request id's record and feedback) stay on the request thread's connection.
 *
 * Should a thread die, the calls it held and every later one run on the request thread through
 * the fallback the caller passes: tape inserts are idempotent (a request id already stored is
 * skipped), feedback upserts and retention are too, and reads have no effects, so nothing is lost
 * or doubled.
 */
import type { Worker } from 'node:worker_threads';
import { revivePlatformError, silentLogger, startModuleWorker, toPlatformError, type Logger } from '../../core/index.js';
import type { MonitoringOps } from './monitoring-ops.js';
import { StorageErrors } from '../errors.js';
import type { FromStoreThread, StoreThreadData, StoreThreadRole, ToStoreThread } from './store-thread-protocol.js';

export type { StoreThreadRole } from './store-thread-protocol.js';

type Op = keyof MonitoringOps;
type Result<K extends Op> = ReturnType<MonitoringOps[K]>;

export interface StoreThread {
  readonly role: StoreThreadRole;
  /**
   * Runs an operation on the thread. `transfer` moves those buffers to it (they are unusable here
   * afterwards). With the thread gone (it failed, or is closed), `fallback` runs instead, here;
   * without one the call rejects with STORAGE_DATABASE_UNUSABLE.
   */
  call<K extends Op>(op: K, args: Parameters<MonitoringOps[K]>, fallback: (() => Result<K>) | undefined, transfer?: readonly ArrayBuffer[]): Promise<Result<K>>;
  /** Whether calls still go to the thread. */
  readonly offThread: boolean;
  /** Waits for the calls sent, then closes the thread's connection and stops it. Idempotent. */
  close(): Promise<void>;
  /** Stops the thread at once, as a crash would: the calls it held run through their fallbacks. */
  terminate(): Promise<void>;
}

export interface StoreThreadOptions {
  /** The database file (`<data-dir>/slipway.db`). */
  readonly path: string;
  readonly role: StoreThreadRole;
  readonly logger?: Logger;
  readonly busyTimeoutMs?: number;
}

interface InFlight {
  readonly fallback: (() => unknown) | undefined;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** Starts the thread and resolves once its connection is open; STORAGE_DATABASE_UNUSABLE when it cannot open the file. */
export async function startStoreThread(options: StoreThreadOptions): Promise<StoreThread> {
  const logger = options.logger ?? silentLogger;
  const { role, path } = options;
  const data: StoreThreadData = { path, role, ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }) };
  const worker: Worker = startModuleWorker(import.meta.url, './store-thread-worker', data);
  const inFlight = new Map<number, InFlight>();
  let nextId = 1;
  let alive = true;
  let closing: Promise<void> | undefined;
  let onClosed: (() => void) | undefined;

  // async: what the fallback throws becomes the promise's rejection
  const inProcess = async (fallback: (() => unknown) | undefined): Promise<unknown> => {
    if (fallback === undefined) throw StorageErrors.STORAGE_DATABASE_UNUSABLE(`the monitoring ${role} thread for "${path}" is ${closing === undefined ? 'gone' : 'closed'}`, { details: { path } });
    return fallback();
  };

  /** The thread is gone: what it held runs here, and so does everything later. */
  const lost = (reason: string): void => {
    if (!alive) return;
    alive = false;
    if (closing === undefined) logger.warn({ path, role, reason, calls: inFlight.size }, `monitoring ${role} thread stopped; its work runs on the request thread from now on`);
    const held = [...inFlight.values()];
    inFlight.clear();
    for (const f of held) inProcess(f.fallback).then(f.resolve, f.reject);
    onClosed?.();
  };

  await new Promise<void>((resolve, reject) => {
    const onStartMessage = (message: FromStoreThread): void => {
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
      reject(StorageErrors.STORAGE_DATABASE_UNUSABLE(`the monitoring ${role} thread for "${path}" could not start: ${error.message}`, { details: { path }, cause: error }));
    };
    worker.once('message', onStartMessage);
    worker.once('error', onStartError);
  });

  worker.on('message', (message: FromStoreThread) => {
    if (message.type === 'done' || message.type === 'failed') {
      const f = inFlight.get(message.id);
      if (f === undefined) return;
      inFlight.delete(message.id);
      if (inFlight.size === 0) worker.unref();
      if (message.type === 'done') f.resolve(message.result);
      else f.reject(revivePlatformError(message.error));
    } else if (message.type === 'closed') {
      lost('closed');
    }
  });
  worker.on('error', (error) => lost(error.message));
  worker.on('exit', (code) => lost(`exited with code ${code}`));
  // holds the process open only while it owes answers: a forgotten idle thread must not hang a test
  worker.unref();

  return {
    role,
    get offThread() {
      return alive;
    },
    call<K extends Op>(op: K, args: Parameters<MonitoringOps[K]>, fallback: (() => Result<K>) | undefined, transfer?: readonly ArrayBuffer[]): Promise<Result<K>> {
      if (!alive) return inProcess(fallback) as Promise<Result<K>>;
      return new Promise<Result<K>>((resolve, reject) => {
        const id = nextId++;
        inFlight.set(id, { fallback, resolve: resolve as (result: unknown) => void, reject });
        worker.ref();
        try {
          worker.postMessage({ type: 'call', id, op, args } satisfies ToStoreThread, transfer === undefined ? undefined : [...transfer]);
        } catch (error) {
          // arguments that cannot be sent to the thread (they never should): run here
          inFlight.delete(id);
          if (inFlight.size === 0) worker.unref();
          inProcess(fallback).then(resolve as (result: unknown) => void, () => reject(toPlatformError(error)));
        }
      });
    },
    close() {
      closing ??= alive
        ? new Promise<void>((resolve) => {
            onClosed = resolve;
            worker.ref();
            // handled after every call sent before it
            worker.postMessage({ type: 'close' } satisfies ToStoreThread);
          })
        : Promise.resolve();
      return closing;
    },
    async terminate() {
      // The thread's handle does not reliably hold the event loop open until its exit is reported
      // (under load, a process with nothing else to do left its loop with this call pending, about
      // 1 run in 16 of store-thread.test.ts): a timer holds it until then.
      const hold = setInterval(() => undefined, 60_000);
      try {
        await worker.terminate();
      } finally {
        clearInterval(hold);
      }
      lost('terminated');
    },
  };
}
