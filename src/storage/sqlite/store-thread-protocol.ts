/** Messages between a store thread's client (request thread) and its worker thread. */
import type { SerializedPlatformError } from '../../core/index.js';
import type { MonitoringOps } from './monitoring-ops.js';

/**
 * `writer`: runs the writes (tapes, feedback, retention), the database's one monitoring writer.
 * `reader`: runs the aggregate queries, on a connection that refuses writes (`query_only`).
 */
export type StoreThreadRole = 'writer' | 'reader';

export interface StoreThreadData {
  /** The database file; its monitoring schema is migrated by the store before the first call arrives. */
  readonly path: string;
  readonly role: StoreThreadRole;
  readonly busyTimeoutMs?: number;
}

export type StoreOp = keyof MonitoringOps;

export type ToStoreThread =
  | { readonly type: 'call'; readonly id: number; readonly op: StoreOp; readonly args: readonly unknown[] }
  | { readonly type: 'close' };

export type FromStoreThread =
  | { readonly type: 'ready' }
  | { readonly type: 'open-failed'; readonly error: SerializedPlatformError }
  | { readonly type: 'done'; readonly id: number; readonly result: unknown }
  | { readonly type: 'failed'; readonly id: number; readonly error: SerializedPlatformError }
  | { readonly type: 'closed' };
