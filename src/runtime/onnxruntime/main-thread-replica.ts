/**
 * A replica whose session runs on the main thread. For models that run faster than a message to a
 * worker thread and back (measured here: a tiny dense classifier runs in about 25 µs at batch 1,
 * a worker round trip costs 50–100 µs of two threads' time and two wake-ups), the hop is the
 * largest cost of a request; this replica removes it. The runtime picks it only for models whose
 * largest batch was measured to run within a small budget, so the event loop is never held long
 * (see `placement` in docs/runtime.md).
 *
 * Differences from a worker replica, by nature: it cannot crash apart from the process, and a run
 * cannot be interrupted; `terminate` therefore behaves like `close`.
 */
import type * as ort from 'onnxruntime-node';
import { toPlatformError, type Clock, type PlatformError, type Tensor } from '../../core/index.js';
import type { ReplicaUsage } from '../../scaling/index.js';
import { RuntimeErrors } from '../errors.js';
import type { RuntimeSessionOptions } from '../types.js';
import type { OrtModelInfo } from './metadata.js';
import { createSession, runSession, warmSession } from './session.js';
import type { InferRequest, WorkerReplica } from './worker-replica.js';

export interface MainThreadReplicaOptions {
  readonly id: string;
  readonly artifactPath: string;
  /** The model's bytes in memory (a decrypted artifact), used instead of reading `artifactPath`. */
  readonly model?: Uint8Array;
  readonly sessionOptions: RuntimeSessionOptions;
  readonly warmup: boolean;
  /** Called with the model as onnxruntime reports it; throw to refuse the model. */
  readonly accept?: (info: OrtModelInfo) => void;
  readonly signal?: AbortSignal;
  readonly clock: Clock;
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Starts a main-thread replica: creates the session (one intra-op thread), checks and warms it. */
export async function startMainThreadReplica(options: MainThreadReplicaOptions): Promise<WorkerReplica> {
  const { id, clock } = options;
  const startedAt = clock.monotonicMs();
  const unloaded = (): PlatformError => RuntimeErrors.RUNTIME_UNLOADED(`replica ${id} was stopped while starting`);
  if (options.signal?.aborted === true) throw unloaded();
  // one intra-op thread: this session shares its thread with HTTP handling and must not fan out
  const { session, info } = await createSession(options.artifactPath, 1, options.sessionOptions, options.model);
  const release = (): Promise<void> => session.release().catch(() => undefined);
  if (isAborted(options.signal)) {
    await release();
    throw unloaded();
  }
  try {
    options.accept?.(info);
  } catch (error) {
    await release();
    throw toPlatformError(error);
  }
  let warmupError: PlatformError | undefined;
  if (options.warmup) {
    try {
      await warmSession(session, info, undefined);
    } catch (error) {
      warmupError = toPlatformError(error);
    }
  }
  const usage = { busyMs: 0, loadMs: clock.monotonicMs() - startedAt, heapBytes: 0 };
  let open: ort.InferenceSession | undefined = session;
  let running = 0;
  let closed: Promise<void> | undefined;
  let idle: (() => void) | undefined;

  const handle: WorkerReplica = {
    id,
    info,
    warmupError,
    timing: undefined,
    async call(request: InferRequest): Promise<Tensor[]> {
      const s = open;
      if (s === undefined) throw RuntimeErrors.RUNTIME_UNLOADED(`replica ${id} is not serving (closed)`);
      running++;
      const t0 = performance.now();
      try {
        return await runSession(s, request.inputs, request.outputs);
      } finally {
        usage.busyMs += performance.now() - t0;
        running--;
        if (running === 0) idle?.();
      }
    },
    usage: (): ReplicaUsage => ({ ...usage }),
    onExit() {
      // a session on the main thread cannot die on its own: a native crash ends the process
    },
    close() {
      closed ??= (async () => {
        const s = open;
        open = undefined;
        if (running > 0) await new Promise<void>((resolve) => (idle = resolve));
        await s?.release().catch(() => undefined);
      })();
      return closed;
    },
    terminate() {
      return handle.close();
    },
    test() {
      // test hooks act on worker threads only
    },
  };
  return handle;
}
