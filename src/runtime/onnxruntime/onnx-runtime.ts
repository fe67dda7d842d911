/**
 * The onnxruntime-node adapter of the {@link ModelRuntime} port. Every session lives in a worker
 * thread (onnxruntime's `session.run` blocks the thread it runs on); a loaded version is a
 * {@link ReplicaPool} of such workers behind one `infer`.
 */
import { availableParallelism } from 'node:os';
import { silentLogger, systemClock, type Clock, type Logger, type ModelSignature, type Tensor } from '../../core/index.js';
import { createReplicaPool, type ReplicaPool } from '../../scaling/index.js';
import { RuntimeErrors } from '../errors.js';
import type { LoadedModel, LoadOptions, ModelRuntime, RuntimeSessionOptions } from '../types.js';
import { signatureFromOrt } from './metadata.js';
import { startWorkerReplica, type InferRequest, type WorkerReplica } from './worker-replica.js';

export interface OnnxRuntimeOptions {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Hang timeout for loads that set none. Default 60 000 ms. */
  readonly hangTimeoutMs?: number;
  /** CPU cores shared out as intra-op threads. Default `os.availableParallelism()`. */
  readonly cores?: number;
  /** Start workers that honour test-only messages (crash, block). For the test suite only. */
  readonly testHooks?: boolean;
}

/** A loaded version backed by a pool of worker-thread replicas. */
export interface OnnxLoadedModel extends LoadedModel {
  /** The replica pool (the autoscaler resizes it; tests reach the replicas through it). */
  readonly pool: ReplicaPool<InferRequest, Tensor[]>;
  /** onnxruntime intra-op threads per replica. */
  readonly intraOpThreads: number;
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
  const probes = new Set<AbortController>();
  let probeSeq = 0;
  let closing: Promise<void> | undefined;

  const startReplica = (
    id: string,
    artifactPath: string,
    intraOpThreads: number,
    sessionOptions: RuntimeSessionOptions,
    warmup: boolean,
    accept: (signature: ModelSignature) => void,
    signal: AbortSignal,
  ): Promise<WorkerReplica> =>
    startWorkerReplica({
      id,
      artifactPath,
      intraOpThreads,
      sessionOptions,
      warmup,
      accept: (info) => accept(signatureFromOrt(info, id)),
      signal,
      testHooks: options.testHooks === true,
      clock,
      logger,
    });

  const runtime: OnnxModelRuntime = {
    async load(loadOptions) {
      if (closing !== undefined) throw RuntimeErrors.RUNTIME_UNLOADED(`the runtime is closing; cannot load ${loadOptions.label}`);
      checkOptions(loadOptions);
      const { label, artifactPath, replicas } = loadOptions;
      const intraOpThreads = loadOptions.intraOpThreads ?? defaultIntraOpThreads(cores, replicas);
      const sessionOptions = loadOptions.sessionOptions ?? {};
      const warmup = loadOptions.warmup ?? true;
      let signature: ModelSignature | undefined;
      const warmupFailures: { replica: string; code: string; message: string }[] = [];

      const pool = createReplicaPool<InferRequest, Tensor[]>({
        label,
        replicas,
        hangTimeoutMs: loadOptions.hangTimeoutMs ?? defaultHangTimeoutMs,
        // inference has no side effects: a request caught in a crash is run once more on another replica
        retryOnCrash: true,
        clock,
        logger,
        start: async (id, signal) => {
          const replica = await startReplica(id, artifactPath, intraOpThreads, sessionOptions, warmup, (s) => (signature ??= s), signal);
          if (replica.warmupError !== undefined) {
            warmupFailures.push({ replica: id, code: replica.warmupError.code, message: replica.warmupError.message });
          }
          return replica;
        },
      });

      let unloading: Promise<void> | undefined;
      const model: OnnxLoadedModel = {
        label,
        get signature(): ModelSignature {
          return signature ?? { inputs: [], outputs: [] };
        },
        pool,
        intraOpThreads,
        warmupFailures: () => [...warmupFailures],
        infer(inputs, outputs, signal) {
          if (unloading !== undefined) return Promise.reject(RuntimeErrors.RUNTIME_UNLOADED(`${label} is unloading and takes no new requests`, { retryAfterSeconds: 1 }));
          return pool.run({ inputs, outputs: outputs === undefined ? undefined : [...outputs] }, signal);
        },
        stats: () => pool.stats(),
        resize: (replicas) => pool.resize(replicas),
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
        throw error;
      }
      logger.info({ model: label, replicas, intraOpThreads, loadMs: Math.round(clock.monotonicMs() - started) }, 'model loaded');
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
