/** Messages between the prediction writer (request thread) and its worker thread. */
import type { SerializedPlatformError } from '../../core/index.js';
import type { PredictionTape } from '../../monitoring/predictions/tape.js';

export interface PredictionWriterData {
  /** The database file; its monitoring schema is migrated by the store before the first insert arrives. */
  readonly path: string;
  readonly busyTimeoutMs?: number;
}

export type ToPredictionWriter = { readonly type: 'insert'; readonly id: number; readonly tape: PredictionTape } | { readonly type: 'close' };

export type FromPredictionWriter =
  | { readonly type: 'ready' }
  | { readonly type: 'open-failed'; readonly error: SerializedPlatformError }
  | { readonly type: 'inserted'; readonly id: number; readonly inserted: number; readonly duplicates: number }
  | { readonly type: 'failed'; readonly id: number; readonly error: SerializedPlatformError }
  | { readonly type: 'closed' };
