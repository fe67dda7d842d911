/**
 * The main-thread side of one replica: starts a worker thread running `replica-worker`, loads and
 * warms the model there, and implements the pool's {@link ReplicaHandle} over the message protocol.
 */
import type { Worker } from 'node:worker_threads';
import {
  isSerializedPlatformError,
  revivePlatformError,
  startModuleWorker,
  toPlatformError,
  type Clock,
  type Logger,
  type PlatformError,
  type SerializedPlatformError,
  type Tensor,
} from '../../core/index.js';
import type { ReplicaHandle, ReplicaUsage } from '../../scaling/index.js';
import { RuntimeErrors } from '../errors.js';
import type { RuntimeSessionOptions } from '../types.js';
import type { OrtModelInfo } from './metadata.js';
import type { RunTiming } from './session.js';
import { forTransfer, isWholeBuffer, type FromReplica, type ReplicaTestHook, type ReplicaWorkerData, type ToReplica } from './protocol.js';

/** One inference as the pool carries it to a replica. */
export interface InferRequest {
  readonly inputs: readonly Tensor[];
  /** Outputs wanted, in the order wanted; undefined for all in the model's order. */
  readonly outputs: readonly string[] | undefined;
}

export interface WorkerReplicaOptions {
  readonly id: string;
  readonly artifactPath: string;
  /**
   * The model's bytes in memory (an artifact decrypted by the runtime's reader), moved to the
   * worker instead of letting it read `artifactPath`. Detached here once posted.
   */
  readonly model?: Uint8Array;
  readonly intraOpThreads: number;
  readonly sessionOptions: RuntimeSessionOptions;
  /** Run one zero-filled inference before reporting ready. */
  readonly warmup: boolean;
  /** With warm-up: also time the model at batch 1 and at this batch size (see {@link WorkerReplica.timing}). */
  readonly measureBatch?: number;
  /** Stop timing once a run takes longer than this (ms). */
  readonly stopAboveMs?: number;
  /**
   * Called with the model as onnxruntime reports it, before warm-up. Throw (a PlatformError) to
   * refuse the model: the replica is stopped and the start rejects with that error.
   */
  readonly accept?: (info: OrtModelInfo) => void;
  /** Aborting stops the worker and rejects the start with RUNTIME_UNLOADED. */
  readonly signal?: AbortSignal;
  /** Let the worker honour test-only messages. */
  readonly testHooks?: boolean;
  /**
   * How long loading and warm-up may take before the start fails with RUNTIME_LOAD_FAILED and the
   * worker is stopped (default {@link DEFAULT_START_TIMEOUT_MS}; Infinity waits for ever).
   */
  readonly startTimeoutMs?: number;
  /**
   * How long `close` waits for the worker to finish what it was sent and exit before it is
   * terminated (default {@link DEFAULT_CLOSE_GRACE_MS}).
   */
  readonly closeGraceMs?: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** A started replica: the pool's handle plus what its start found out. */
export interface WorkerReplica extends ReplicaHandle<InferRequest, Tensor[]> {
  /** Inputs and outputs as onnxruntime reports them. */
  readonly info: OrtModelInfo;
  /** Why warm-up failed, when it ran and onnxruntime refused the zero-filled inputs. */
  readonly warmupError: PlatformError | undefined;
  /** Run times measured at warm-up, when `measureBatch` asked for them and warm-up succeeded. */
  readonly timing: RunTiming | undefined;
  /** Sends a test-only message (ignored unless started with `testHooks`). */
  test(hook: ReplicaTestHook): void;
}

/** Loading plus warm-up longer than this fails the start: a stuck thread must not hold a push or a deploy for ever. */
export const DEFAULT_START_TIMEOUT_MS = 120_000;
/** A replica asked to close that has not exited after this long is terminated. */
export const DEFAULT_CLOSE_GRACE_MS = 30_000;

/** Starts the worker for a replica (replica-worker.ts beside this module). */
function spawnWorker(data: ReplicaWorkerData): Worker {
  return startModuleWorker(import.meta.url, './replica-worker', data);
}

function revive(error: SerializedPlatformError | undefined, fallback: () => PlatformError): PlatformError {
  return error !== undefined && isSerializedPlatformError(error) ? revivePlatformError(error) : fallback();
}

type Phase = 'loading' | 'warming' | 'ready' | 'closing' | 'terminated' | 'exited';

/**
 * Starts a replica: spawns its worker, creates the session, lets `accept` check the model, warms
 * it, and resolves with the handle once it is ready. Rejects with RUNTIME_LOAD_FAILED (onnxruntime
 * could not load the model, or the worker died while loading), with `accept`'s error, or with
 * RUNTIME_UNLOADED when `signal` aborts first.
 */
export function startWorkerReplica(options: WorkerReplicaOptions): Promise<WorkerReplica> {
  const { id, clock, logger } = options;
  const startedAt = clock.monotonicMs();
  const worker = spawnWorker({ replicaId: id, testHooks: options.testHooks === true });
  const pending = new Map<number, { resolve: (outputs: Tensor[]) => void; reject: (error: PlatformError) => void }>();
  let nextId = 0;
  let phase: Phase = 'loading';
  let info: OrtModelInfo | undefined;
  let warmupError: PlatformError | undefined;
  let timing: RunTiming | undefined;
  let workerError: string | undefined;
  let exitListener: ((error: PlatformError) => void) | undefined;
  let crash: PlatformError | undefined;
  let closed: Promise<void> | undefined;
  let resolveExit: () => void = () => undefined;
  const exited = new Promise<void>((resolve) => {
    resolveExit = resolve;
  });
  const usage = { busyMs: 0, loadMs: 0, heapBytes: 0 };

  // a worker keeps the process alive only while someone waits for it
  const updateRef = (): void => {
    if (phase === 'exited' || phase === 'terminated') return;
    if (phase === 'ready' && pending.size === 0) worker.unref();
    else worker.ref();
  };

  const post = (message: ToReplica, transfer: ArrayBuffer[] = []): void => {
    worker.postMessage(message, transfer);
  };

  const rejectPending = (error: PlatformError): void => {
    const calls = [...pending.values()];
    pending.clear();
    for (const c of calls) c.reject(error);
  };

  return new Promise<WorkerReplica>((resolveStart, rejectStart) => {
    let startSettled = false;
    const failStart = (error: PlatformError): void => {
      if (startSettled) return;
      settleStart();
      if (phase !== 'exited') {
        phase = 'terminated';
        void worker.terminate().catch(() => undefined);
      }
      rejectStart(error);
    };
    const onAbort = (): void => failStart(RuntimeErrors.RUNTIME_UNLOADED(`replica ${id} was stopped while starting`));
    if (options.signal?.aborted === true) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const startTimer = Number.isFinite(startTimeoutMs)
      ? clock.setTimeout(() => {
          const was = phase === 'warming' ? 'warming up' : 'loading';
          logger.error({ replica: id, artifactPath: options.artifactPath, startTimeoutMs }, 'replica did not start in time; stopping it');
          failStart(
            RuntimeErrors.RUNTIME_LOAD_FAILED(`replica ${id} was still ${was} ${options.artifactPath} after ${startTimeoutMs} ms and was stopped`, {
              details: { artifactPath: options.artifactPath, startTimeoutMs, phase: was },
            }),
          );
        }, startTimeoutMs)
      : undefined;
    const settleStart = (): void => {
      startSettled = true;
      startTimer?.cancel();
      options.signal?.removeEventListener('abort', onAbort);
    };

    const handle: WorkerReplica = {
      id,
      get info(): OrtModelInfo {
        return info ?? { inputs: [], outputs: [] };
      },
      get warmupError() {
        return warmupError;
      },
      get timing() {
        return timing;
      },
      call(request) {
        if (phase !== 'ready') {
          return Promise.reject(crash ?? RuntimeErrors.RUNTIME_UNLOADED(`replica ${id} is not serving (${phase})`));
        }
        return new Promise<Tensor[]>((resolve, reject) => {
          const callId = ++nextId;
          pending.set(callId, { resolve, reject });
          updateRef();
          // the caller keeps its tensors: send copies and move those
          const { tensors, transfer } = forTransfer(request.inputs, true);
          post({ type: 'infer', id: callId, inputs: tensors, outputs: request.outputs }, transfer);
        });
      },
      usage: (): ReplicaUsage => ({ ...usage }),
      onExit(listener) {
        exitListener = listener;
        if (crash !== undefined) listener(crash);
      },
      close() {
        if (closed !== undefined) return closed;
        if (phase === 'exited' || phase === 'terminated') return (closed = exited);
        phase = 'closing';
        updateRef();
        post({ type: 'close' });
        // a thread that does not exit after its last reply (a stuck native release) is terminated
        const graceMs = options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
        const grace = clock.setTimeout(() => {
          if (phase !== 'closing') return;
          logger.warn({ replica: id, closeGraceMs: graceMs }, 'replica did not exit after closing; terminating it');
          phase = 'terminated';
          rejectPending(RuntimeErrors.RUNTIME_UNLOADED(`replica ${id} stopped before answering`));
          worker.unref();
          void worker.terminate().catch(() => undefined);
        }, graceMs);
        closed = exited.finally(() => grace.cancel());
        return closed;
      },
      terminate(reason) {
        if (phase !== 'exited' && phase !== 'terminated') {
          phase = 'terminated';
          rejectPending(reason);
          // a thread stuck in native code stops only when that call returns: do not hold the process for it
          worker.unref();
          void worker.terminate().catch(() => undefined);
        }
        return Promise.resolve();
      },
      test(hook) {
        post({ type: 'test', test: hook });
      },
    };

    worker.on('message', (message: FromReplica) => {
      usage.heapBytes = message.heapBytes;
      switch (message.type) {
        case 'loaded': {
          info = message.info;
          try {
            options.accept?.(message.info);
          } catch (error) {
            return failStart(toPlatformError(error));
          }
          if (options.warmup) {
            phase = 'warming';
            post({
              type: 'warmup',
              ...(options.measureBatch === undefined ? {} : { measureBatch: options.measureBatch }),
              ...(options.stopAboveMs === undefined ? {} : { stopAboveMs: options.stopAboveMs }),
            });
            return;
          }
          break;
        }
        case 'load-failed':
          return failStart(revive(message.error, () => RuntimeErrors.RUNTIME_LOAD_FAILED(`replica ${id} could not load the model`)));
        case 'warmed':
          timing = message.timing;
          if (message.error !== undefined) {
            // zero-filled inputs are not every model's idea of a valid input: serve anyway, say so
            warmupError = revive(message.error, () => RuntimeErrors.RUNTIME_INFERENCE_FAILED('warm-up failed'));
            logger.warn({ replica: id, code: warmupError.code, err: warmupError.message }, 'warm-up with zero-filled inputs failed; serving anyway');
          }
          break;
        case 'result': {
          const call = pending.get(message.id);
          pending.delete(message.id);
          usage.busyMs += message.runMs;
          updateRef();
          call?.resolve(message.outputs);
          return;
        }
        case 'failed': {
          const call = pending.get(message.id);
          pending.delete(message.id);
          usage.busyMs += message.runMs;
          updateRef();
          call?.reject(revive(message.error, () => RuntimeErrors.RUNTIME_INFERENCE_FAILED('inference failed')));
          return;
        }
        case 'closed':
          return;
      }
      // loaded without warm-up, or warmed: ready
      if (startSettled) return;
      settleStart();
      phase = 'ready';
      usage.loadMs = clock.monotonicMs() - startedAt;
      updateRef();
      resolveStart(handle);
    });

    worker.on('error', (error: Error) => {
      workerError = error.message;
    });

    worker.on('messageerror', (error: Error) => {
      logger.error({ replica: id, err: error.message }, 'a reply from the replica could not be deserialized');
    });

    worker.on('exit', (code: number) => {
      const was = phase;
      phase = 'exited';
      resolveExit();
      const why = `exited with code ${code}${workerError === undefined ? '' : `: ${workerError}`}`;
      if (was === 'loading' || was === 'warming') {
        return failStart(
          RuntimeErrors.RUNTIME_LOAD_FAILED(`replica ${id} ${why} while ${was === 'loading' ? 'loading' : 'warming up'} ${options.artifactPath}`, {
            details: { artifactPath: options.artifactPath, exitCode: code },
          }),
        );
      }
      if (was === 'closing') {
        rejectPending(RuntimeErrors.RUNTIME_UNLOADED(`replica ${id} stopped before answering`));
        return;
      }
      if (was === 'terminated') return;
      crash = RuntimeErrors.RUNTIME_REPLICA_CRASHED(`replica ${id} ${why}; a replacement is starting, retry the request`, {
        retryAfterSeconds: 1,
        details: { replica: id, exitCode: code },
      });
      logger.error({ replica: id, exitCode: code, err: workerError }, 'replica crashed');
      rejectPending(crash);
      exitListener?.(crash);
    });

    // model bytes are moved, not copied: a view into a larger buffer is copied into one of its own first
    const model = options.model === undefined ? undefined : isWholeBuffer(options.model) ? options.model : options.model.slice();
    post(
      {
        type: 'load',
        artifactPath: options.artifactPath,
        ...(model === undefined ? {} : { model }),
        intraOpThreads: options.intraOpThreads,
        sessionOptions: options.sessionOptions,
      },
      model === undefined ? [] : [model.buffer as ArrayBuffer],
    );
  });
}
