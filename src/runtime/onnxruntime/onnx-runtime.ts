/**
 * The onnxruntime-node adapter of the {@link ModelRuntime} port. Sessions live in worker threads
 * (onnxruntime's `session.run` blocks the thread it runs on), except that `placement: auto` moves a
 * model cheaper than a thread hop to the main thread; a loaded version is a {@link ReplicaPool} of
 * such replicas behind one `infer`.
 */
import { availableParallelism } from 'node:os';
import { silentLogger, systemClock, type Clock, type Logger, type ModelSignature, type Tensor } from '../../core/index.js';
import { createReplicaPool, type ReplicaPool } from '../../scaling/index.js';
import { RuntimeErrors } from '../errors.js';
import type { LoadedModel, LoadOptions, ModelRuntime, RuntimeSessionOptions } from '../types.js';
import { signatureFromOrt } from './metadata.js';
import { startMainThreadReplica } from './main-thread-replica.js';
import type { RunTiming } from './session.js';
import { startWorkerReplica, type InferRequest, type WorkerReplica } from './worker-replica.js';

export interface OnnxRuntimeOptions {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Hang timeout for loads that set none. Default 60 000 ms. */
  readonly hangTimeoutMs?: number;
  /** How long a replica may take to load and warm up before it is stopped (default 120 s; docs/runtime.md). */
  readonly startTimeoutMs?: number;
  /** How long a closing replica may take to exit before it is terminated (default 30 s). */
  readonly closeGraceMs?: number;
  /** CPU cores shared out as intra-op threads. Default `os.availableParallelism()`. */
  readonly cores?: number;
  /** Start workers that honour test-only messages (crash, block). For the test suite only. */
  readonly testHooks?: boolean;
  /** The budget of `placement: auto` (default {@link MAIN_THREAD_BUDGET}); tests set it so machine speed does not decide. */
  readonly mainThreadBudget?: { readonly singleMs: number; readonly batchMs: number };
  /**
   * Reads a model file into memory before each replica starts (the blob store's reader, for
   * encryption at rest): resolves with the bytes, which the replica's session is created from
   * (moved to its worker thread), or undefined to let onnxruntime read the file itself. A
   * rejection fails that replica's start with the reader's error. Default: every file is read by
   * onnxruntime.
   */
  readonly readArtifact?: (artifactPath: string) => Promise<Uint8Array | undefined>;
}

/** A loaded version backed by a pool of worker-thread replicas. */
export interface OnnxLoadedModel extends LoadedModel {
  /** The replica pool (the autoscaler resizes it; tests reach the replicas through it). */
  readonly pool: ReplicaPool<InferRequest, Tensor[]>;
  /** onnxruntime intra-op threads of replicas started now (cores / replicas unless fixed at load). */
  readonly intraOpThreads: number;
  readonly placement: 'worker' | 'main-thread';
  /** Run times measured at load when placement was `auto`. */
  readonly timing: RunTiming | undefined;
  /** Warm-up failures of the replicas started so far (zero-filled inputs the model refused). */
  warmupFailures(): { readonly replica: string; readonly code: string; readonly message: string }[];
}

/** The onnxruntime runtime, with typed access to what it loads and probes. */
export interface OnnxModelRuntime extends ModelRuntime {
  load(options: LoadOptions): Promise<OnnxLoadedModel>;
  /**
   * Like `probe`, and resolves with the signature as onnxruntime reports it. Rejects with
   * RUNTIME_LOAD_FAILED (no session) or RUNTIME_UNSUPPORTED_MODEL (a non-tensor input or output).
   */
  probeSignature(artifactPath: string): Promise<ModelSignature>;
}

const DEFAULT_HANG_TIMEOUT_MS = 60_000;

/**
 * The main-thread budget of `placement: auto`: a model moves to the main thread only when a run at
 * batch 1 takes at most `singleMs` (fastest of 15) — about what a worker-thread round trip costs —
 * and its largest batch at most `batchMs` (median of 3), the longest Slipway lets one run hold the
 * event loop.
 */
export const MAIN_THREAD_BUDGET = { singleMs: 0.1, batchMs: 1 } as const;

/** How many artifacts' timings a runtime remembers, so redeploying one does not time it again. */
const MAX_REMEMBERED_TIMINGS = 256;

function fitsBudget(timing: RunTiming, budget: { readonly singleMs: number; readonly batchMs: number }): boolean {
  return timing.singleMs <= budget.singleMs && timing.batchMs <= budget.batchMs;
}

function checkOptions(options: LoadOptions): void {
  const problems: string[] = [];
  if (typeof options.label !== 'string' || options.label === '') problems.push('label must be a non-empty string');
  if (typeof options.artifactPath !== 'string' || options.artifactPath === '') problems.push('artifactPath must be a non-empty string');
  if (!Number.isInteger(options.replicas) || options.replicas < 1) problems.push(`replicas must be a whole number ≥ 1, got ${String(options.replicas)}`);
  if (options.intraOpThreads !== undefined && (!Number.isInteger(options.intraOpThreads) || options.intraOpThreads < 1)) {
    problems.push(`intraOpThreads must be a whole number ≥ 1, got ${String(options.intraOpThreads)}`);
  }
  if (options.hangTimeoutMs !== undefined && !(options.hangTimeoutMs > 0)) {
    problems.push(`hangTimeoutMs must be > 0 (Infinity disables it), got ${String(options.hangTimeoutMs)}`);
  }
  const inter = options.sessionOptions?.interOpThreads;
  if (inter !== undefined && (!Number.isInteger(inter) || inter < 1)) problems.push(`sessionOptions.interOpThreads must be a whole number ≥ 1, got ${String(inter)}`);
  if (problems.length > 0) {
    throw RuntimeErrors.RUNTIME_INVALID_OPTIONS(`cannot load ${String(options.label)}: ${problems.join('; ')}`, { details: { problems } });
  }
}

/**
 * Default intra-op threads per replica: the cores shared out among the replicas, at least one, so
 * that N replicas running at once do not oversubscribe the machine.
 */
export function defaultIntraOpThreads(cores: number, replicas: number): number {
  return Math.max(1, Math.floor(cores / Math.max(1, replicas)));
}

/** Creates the onnxruntime-node runtime. Nothing starts until `load` or `probe`. */
export function createOnnxRuntime(options: OnnxRuntimeOptions = {}): OnnxModelRuntime {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const cores = options.cores ?? availableParallelism();
  const defaultHangTimeoutMs = options.hangTimeoutMs ?? DEFAULT_HANG_TIMEOUT_MS;
  const loaded = new Set<OnnxLoadedModel>();
  const budget = options.mainThreadBudget ?? MAIN_THREAD_BUDGET;
  const fitsMainThread = (timing: RunTiming): boolean => fitsBudget(timing, budget);
  // timings of `placement: auto` by artifact and settings, oldest first (bounded)
  const timings = new Map<string, RunTiming>();
  const remember = (key: string, timing: RunTiming): void => {
    timings.delete(key);
    timings.set(key, timing);
    if (timings.size > MAX_REMEMBERED_TIMINGS) timings.delete(timings.keys().next().value ?? key);
  };
  const probes = new Set<AbortController>();
  let probeSeq = 0;
  let closing: Promise<void> | undefined;

  /** The model's bytes when the reader holds them in memory (read afresh per replica: a transfer detaches them). */
  const readModel = async (artifactPath: string): Promise<{ model?: Uint8Array }> => {
    const model = await options.readArtifact?.(artifactPath);
    return model === undefined ? {} : { model };
  };

  const startReplica = async (
    id: string,
    artifactPath: string,
    intraOpThreads: number,
    sessionOptions: RuntimeSessionOptions,
    warmup: boolean,
    accept: (signature: ModelSignature) => void,
    signal: AbortSignal,
    measureBatch?: number,
  ): Promise<WorkerReplica> =>
    startWorkerReplica({
      id,
      artifactPath,
      ...(await readModel(artifactPath)),
      intraOpThreads,
      sessionOptions,
      warmup,
      ...(measureBatch === undefined ? {} : { measureBatch, stopAboveMs: budget.batchMs }),
      accept: (info) => accept(signatureFromOrt(info, id)),
      signal,
      testHooks: options.testHooks === true,
      ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
      ...(options.closeGraceMs === undefined ? {} : { closeGraceMs: options.closeGraceMs }),
      clock,
      logger,
    });

  const runtime: OnnxModelRuntime = {
    async load(loadOptions) {
      if (closing !== undefined) throw RuntimeErrors.RUNTIME_UNLOADED(`the runtime is closing; cannot load ${loadOptions.label}`);
      checkOptions(loadOptions);
      const { label, artifactPath } = loadOptions;
      // unless fixed by the caller, intra-op threads follow the pool's size (the pool refits replicas on resize)
      const fit = loadOptions.intraOpThreads === undefined ? (n: number) => defaultIntraOpThreads(cores, n) : undefined;
      const intraOpThreads = loadOptions.intraOpThreads ?? defaultIntraOpThreads(cores, loadOptions.replicas);
      const sessionOptions = loadOptions.sessionOptions ?? {};
      const warmup = loadOptions.warmup ?? true;
      let signature: ModelSignature | undefined;
      const warmupFailures: { replica: string; code: string; message: string }[] = [];
      const noteWarmup = (id: string, replica: WorkerReplica): WorkerReplica => {
        if (replica.warmupError !== undefined) warmupFailures.push({ replica: id, code: replica.warmupError.code, message: replica.warmupError.message });
        return replica;
      };

      // `auto`: the first replica starts in a worker and times the model; a cheap one moves to the main thread
      let placement: 'worker' | 'main-thread' = loadOptions.placement === 'main-thread' ? 'main-thread' : 'worker';
      let adopt: WorkerReplica | undefined;
      const batchSizeHint = Math.max(1, loadOptions.batchSizeHint ?? 1);
      // the same bytes with the same settings cost the same: time an artifact once per runtime
      const timingKey = `${artifactPath}\n${batchSizeHint}\n${JSON.stringify(sessionOptions)}`;
      let timing = loadOptions.placement === 'auto' ? timings.get(timingKey) : undefined;
      if (loadOptions.placement === 'auto' && warmup && timing === undefined) {
        const never = new AbortController().signal;
        const first = await startReplica(`${label}/probe`, artifactPath, intraOpThreads, sessionOptions, true, (s) => (signature ??= s), never, batchSizeHint);
        timing = first.timing;
        if (timing !== undefined) remember(timingKey, timing);
        if (timing === undefined || !fitsMainThread(timing)) adopt = noteWarmup(first.id, first);
        else await first.close();
      }
      if (timing !== undefined && fitsMainThread(timing)) placement = 'main-thread';
      const replicas = placement === 'main-thread' ? Math.min(1, loadOptions.replicas) : loadOptions.replicas;

      const pool = createReplicaPool<InferRequest, Tensor[]>({
        label,
        replicas,
        hangTimeoutMs: loadOptions.hangTimeoutMs ?? defaultHangTimeoutMs,
        // inference has no side effects: a request caught in a crash is run once more on another replica
        retryOnCrash: true,
        ...(fit !== undefined && placement === 'worker' ? { fit } : {}),
        clock,
        logger,
        start: async (id, signal, threads) => {
          if (adopt !== undefined) {
            // the replica that timed the model is already loaded and warm: it becomes the first one
            const first = adopt;
            adopt = undefined;
            return first;
          }
          if (placement === 'main-thread') {
            return noteWarmup(id, await startMainThreadReplica({ id, artifactPath, ...(await readModel(artifactPath)), sessionOptions, warmup, accept: (info) => (signature ??= signatureFromOrt(info, id)), signal, clock }));
          }
          return noteWarmup(id, await startReplica(id, artifactPath, threads ?? intraOpThreads, sessionOptions, warmup, (s) => (signature ??= s), signal));
        },
      });

      let unloading: Promise<void> | undefined;
      const model: OnnxLoadedModel = {
        label,
        get signature(): ModelSignature {
          return signature ?? { inputs: [], outputs: [] };
        },
        pool,
        get intraOpThreads(): number {
          return placement === 'main-thread' ? 1 : (fit?.(Math.max(1, pool.size())) ?? intraOpThreads);
        },
        placement,
        timing,
        ...(placement === 'main-thread' ? { maxReplicas: 1 } : {}),
        warmupFailures: () => [...warmupFailures],
        infer(inputs, outputs, signal) {
          if (unloading !== undefined) return Promise.reject(RuntimeErrors.RUNTIME_UNLOADED(`${label} is unloading and takes no new requests`, { retryAfterSeconds: 1 }));
          return pool.run({ inputs, outputs: outputs === undefined ? undefined : [...outputs] }, signal);
        },
        stats: () => pool.stats(),
        resize: (n) => pool.resize(placement === 'main-thread' ? Math.min(1, n) : n),
        replicaCount: () => pool.size(),
        readyReplicas: () => pool.readyCount(),
        unload() {
          unloading ??= pool.close().finally(() => loaded.delete(model));
          return unloading;
        },
      };
      loaded.add(model);
      const started = clock.monotonicMs();
      try {
        await pool.start();
      } catch (error) {
        loaded.delete(model);
        if (adopt !== undefined) await adopt.close();
        throw error;
      }
      logger.info(
        { model: label, replicas, placement, intraOpThreads: model.intraOpThreads, ...(timing === undefined ? {} : { timing }), loadMs: Math.round(clock.monotonicMs() - started) },
        'model loaded',
      );
      return model;
    },

    async probe(artifactPath) {
      await runtime.probeSignature(artifactPath);
    },

    async probeSignature(artifactPath) {
      if (closing !== undefined) throw RuntimeErrors.RUNTIME_UNLOADED('the runtime is closing; cannot probe a model');
      const abort = new AbortController();
      probes.add(abort);
      let signature: ModelSignature | undefined;
      try {
        const replica = await startReplica(`probe/${++probeSeq}`, artifactPath, 1, {}, false, (s) => (signature = s), abort.signal);
        await replica.close();
      } finally {
        probes.delete(abort);
      }
      return signature ?? { inputs: [], outputs: [] };
    },

    close() {
      closing ??= (async () => {
        for (const p of probes) p.abort();
        await Promise.all([...loaded].map((m) => m.unload()));
      })();
      return closing;
    },
  };
  return runtime;
}
