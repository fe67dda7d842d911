/**
 * The messages between the main thread and a replica worker. Tensors travel as plain objects whose
 * data are typed arrays (or string lists), moved with transfer lists rather than serialised;
 * errors travel as serialized PlatformErrors. Every reply carries the worker's heap size.
 */
import type { SerializedPlatformError, Tensor, TensorData } from '../../core/index.js';
import type { RuntimeSessionOptions } from '../types.js';
import type { OrtModelInfo } from './metadata.js';
import type { RunTiming } from './session.js';

/** Session settings a load passes through to onnxruntime. */
export type ReplicaSessionOptions = RuntimeSessionOptions;

/** What the main thread hands a new worker (`workerData`). */
export interface ReplicaWorkerData {
  readonly replicaId: string;
  /** Honour the `test:*` messages. Only the test suite sets it. */
  readonly testHooks: boolean;
}

/** Test-only requests, honoured when the worker was started with `testHooks`. */
export type ReplicaTestHook =
  /** Blocks the worker thread for `ms` (like a native call that does not return), then exits with `exitCode` if given. */
  | { readonly hook: 'block'; readonly ms: number; readonly exitCode?: number }
  /** Exits the worker thread at once, as a crash would. */
  | { readonly hook: 'exit'; readonly exitCode: number }
  /** Throws an uncaught error in the worker. */
  | { readonly hook: 'throw'; readonly message: string };

export type ToReplica =
  | {
      readonly type: 'load';
      /** The artifact's path: read by onnxruntime unless `model` is given, and named in errors. */
      readonly artifactPath: string;
      /** The model's bytes, moved (transferred) to the worker: an artifact decrypted in memory. */
      readonly model?: Uint8Array;
      readonly intraOpThreads: number;
      readonly sessionOptions: ReplicaSessionOptions;
    }
  /** Warm up; with `measureBatch`, also time runs at batch 1 and at that size (see warmSession). */
  | { readonly type: 'warmup'; readonly measureBatch?: number; readonly stopAboveMs?: number }
  | { readonly type: 'infer'; readonly id: number; readonly inputs: readonly Tensor[]; readonly outputs: readonly string[] | undefined }
  | { readonly type: 'close' }
  | { readonly type: 'test'; readonly test: ReplicaTestHook };

export type FromReplica =
  | { readonly type: 'loaded'; readonly info: OrtModelInfo; readonly loadMs: number; readonly heapBytes: number }
  | { readonly type: 'load-failed'; readonly error: SerializedPlatformError; readonly heapBytes: number }
  | { readonly type: 'warmed'; readonly warmupMs: number; readonly timing?: RunTiming; readonly error?: SerializedPlatformError; readonly heapBytes: number }
  | { readonly type: 'result'; readonly id: number; readonly outputs: Tensor[]; readonly runMs: number; readonly heapBytes: number }
  | { readonly type: 'failed'; readonly id: number; readonly error: SerializedPlatformError; readonly runMs: number; readonly heapBytes: number }
  | { readonly type: 'closed'; readonly heapBytes: number };

/** Whether a view spans its whole (non-shared) buffer, so that the buffer can be transferred without detaching other data. */
export function isWholeBuffer(data: ArrayBufferView): boolean {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && !(data.buffer instanceof SharedArrayBuffer);
}

/** A copy of typed-array data in a buffer of its own. */
function ownCopy(data: Exclude<TensorData, string[]>): Exclude<TensorData, string[]> {
  return data.slice();
}

/**
 * Prepares tensors to be posted and returns them with their transfer list. With `copy`, every
 * typed array is copied first (the caller keeps its tensors); without it, arrays that own their
 * whole buffer are moved and only views into larger buffers are copied (a transfer would detach
 * the neighbours' bytes, and a clone would copy the whole buffer).
 */
export function forTransfer(tensors: readonly Tensor[], copy: boolean): { tensors: Tensor[]; transfer: ArrayBuffer[] } {
  const transfer = new Set<ArrayBuffer>();
  const out = tensors.map((t): Tensor => {
    if (Array.isArray(t.data)) return t;
    const view = t.data;
    const data = copy || !isWholeBuffer(view) || transfer.has(view.buffer as ArrayBuffer) ? ownCopy(view) : view;
    transfer.add(data.buffer as ArrayBuffer);
    return { name: t.name, datatype: t.datatype, shape: [...t.shape], data };
  });
  return { tensors: out, transfer: [...transfer] };
}
