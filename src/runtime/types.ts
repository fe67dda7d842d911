/**
 * The model runtime port: what serving needs from an inference engine. The onnxruntime-node
 * adapter runs sessions inside worker threads, because `session.run` blocks its thread, and a model
 * cheaper than the hop on the main thread (`placement`).
 */
import type { ModelSignature, Tensor } from '../core/index.js';

export interface LoadOptions {
  /** A label for logs and stats, e.g. `fraud-detector:3`. */
  readonly label: string;
  readonly artifactPath: string;
  /** How many replicas (sessions in worker threads) to start. */
  readonly replicas: number;
  /** onnxruntime intra-op threads per replica; default: cores / replicas, at least 1. */
  readonly intraOpThreads?: number;
  /** Run one inference with zero-filled inputs per replica before reporting ready. Default true. */
  readonly warmup?: boolean;
  /**
   * A replica with requests outstanding that answers none for this long is terminated and
   * replaced, and its requests fail with RUNTIME_REPLICA_HUNG. Default: the runtime's (60 000).
   */
  readonly hangTimeoutMs?: number;
  /** Engine session settings passed through to every replica. */
  readonly sessionOptions?: RuntimeSessionOptions;
  /**
   * Where sessions run. `worker` (default): each replica in a worker thread. `main-thread`: one
   * session on the calling thread, no hop. `auto`: the first replica starts in a worker and times
   * the model at warm-up; a model that runs within the main-thread budget at batch 1 and at
   * `batchSizeHint` moves to the main thread (docs/runtime.md, "Placement").
   */
  readonly placement?: Placement;
  /** The largest batch callers will send (the batcher's maxBatchSize); `auto` times it. Default 1. */
  readonly batchSizeHint?: number;
}

/** Where a version's sessions run. */
export type Placement = 'auto' | 'worker' | 'main-thread';

/** Engine session settings (a safe subset of onnxruntime's SessionOptions). */
export interface RuntimeSessionOptions {
  /** Default `all`. */
  readonly graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Default `sequential`. */
  readonly executionMode?: 'sequential' | 'parallel';
  /** Inter-op threads, used in `parallel` execution mode. Default 1. */
  readonly interOpThreads?: number;
  readonly enableCpuMemArena?: boolean;
  readonly enableMemPattern?: boolean;
  /**
   * Let idle intra-op threads busy-wait for the next run (onnxruntime's default). Default false:
   * on a server, spinning threads take the cores that HTTP handling and other replicas need.
   */
  readonly allowSpinning?: boolean;
  /** Fixes symbolic dimensions by name, e.g. `{ batch: 1 }`. */
  readonly freeDimensionOverrides?: Readonly<Record<string, number>>;
}

export interface ReplicaStats {
  readonly id: string;
  /** `draining`: being retired (scale-down), finishing its outstanding requests, taking no new ones. */
  readonly state: 'loading' | 'ready' | 'failed' | 'draining' | 'stopped';
  readonly inFlight: number;
  readonly served: number;
  readonly failed: number;
  readonly busyMs: number;
  readonly loadMs: number;
  /** Resident memory of the worker's heap, in bytes (approximate). */
  readonly heapBytes: number;
}

/**
 * A version loaded into one or more replicas, behind one `infer`. Ownership: the caller keeps the
 * input tensors; after `infer` resolves, the output tensors belong to the caller.
 */
export interface LoadedModel {
  readonly label: string;
  readonly signature: ModelSignature;
  /**
   * Runs the model. `outputs` names the outputs wanted (all when undefined). Rejects with a
   * PlatformError (RUNTIME_*) on failure; an aborted signal rejects without running if not started.
   */
  infer(inputs: readonly Tensor[], outputs: readonly string[] | undefined, signal?: AbortSignal): Promise<Tensor[]>;
  stats(): ReplicaStats[];
  /** Waits for in-flight calls to finish, then stops every replica. Idempotent. */
  unload(): Promise<void>;
  /**
   * Changes the number of replicas: the autoscaler's hook. 0 is allowed; calls made meanwhile are
   * held until a later resize starts a replica. Absent for runtimes that cannot scale.
   */
  resize?(replicas: number): Promise<void>;
  /** Replicas wanted now (started or starting). */
  replicaCount?(): number;
  /** Replicas ready to serve now; cheap, for the request path. Falls back to counting `stats()`. */
  readyReplicas?(): number;
  /** Where its sessions run, once decided. */
  readonly placement?: 'worker' | 'main-thread';
  /** Most replicas worth running (1 on the main thread: more sessions on one thread add nothing). */
  readonly maxReplicas?: number;
}

export interface ModelRuntime {
  /** Starts replicas for an artifact and resolves once all are ready (and warm). */
  load(options: LoadOptions): Promise<LoadedModel>;
  /**
   * Checks that the engine can create a session from the file, without keeping it. Rejects with
   * RUNTIME_LOAD_FAILED and the engine's reason otherwise. Used at registration.
   */
  probe(artifactPath: string): Promise<void>;
  /** Stops every worker this runtime started. */
  close(): Promise<void>;
}

/** Replicas of a loaded model that are ready now, by its cheap counter when it has one. */
export function readyReplicasOf(model: LoadedModel): number {
  if (model.readyReplicas !== undefined) return model.readyReplicas();
  let ready = 0;
  for (const r of model.stats()) if (r.state === 'ready') ready++;
  return ready;
}
