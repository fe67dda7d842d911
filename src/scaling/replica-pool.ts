/**
 * The replica pool: N replicas of one model version behind one `run`. It balances by least
 * outstanding requests (ties go round robin), ejects a replica that dies or hangs, fails that
 * replica's in-flight requests at once and starts a replacement, holds requests while no replica
 * is ready, and drains before it stops. `resize` is the hook the autoscaler drives.
 *
 * The pool knows nothing about onnxruntime: a replica is anything that implements
 * {@link ReplicaHandle}. The onnxruntime adapter provides worker-thread replicas; tests use fakes.
 */
import { systemClock, silentLogger, toPlatformError, type Clock, type Logger, type PlatformError, type TimerHandle } from '../core/index.js';
// A leaf import rather than ../runtime/index.js: the runtime's index imports this pool.
import { RuntimeErrors } from '../runtime/errors.js';
import type { ReplicaStats } from '../runtime/types.js';

/** Facts a replica reports about itself. */
export interface ReplicaUsage {
  /** Time spent running requests, in milliseconds. */
  readonly busyMs: number;
  /** Time its start took (session creation and warm-up), in milliseconds. */
  readonly loadMs: number;
  /** Memory the replica holds, in bytes (approximate). */
  readonly heapBytes: number;
}

/**
 * One running replica as the pool sees it.
 *
 * Contract: `call` may be invoked again before earlier calls settle; the replica runs them in
 * the order given. Each call settles exactly once. When the replica dies without being asked to,
 * it rejects every unsettled call with RUNTIME_REPLICA_CRASHED and invokes the `onExit` listener
 * (also if the death happened before the listener was registered). After `close` or `terminate`
 * the listener is not invoked.
 */
export interface ReplicaHandle<TRequest, TResponse> {
  readonly id: string;
  call(request: TRequest): Promise<TResponse>;
  usage(): ReplicaUsage;
  /** Registers the listener for an unrequested death. One listener; a second call replaces it. */
  onExit(listener: (error: PlatformError) => void): void;
  /** Lets the calls already given finish, then stops the replica. Idempotent. */
  close(): Promise<void>;
  /** Stops the replica now; unsettled calls reject with `reason`. Idempotent. */
  terminate(reason: PlatformError): Promise<void>;
}

/**
 * Starts one replica and resolves once it is ready to serve (loaded and warm). Rejects with a
 * PlatformError. When `signal` aborts, the starter stops what it started and rejects.
 */
export type ReplicaStarter<TRequest, TResponse> = (id: string, signal: AbortSignal, fit: number | undefined) => Promise<ReplicaHandle<TRequest, TResponse>>;

export interface ReplicaPoolOptions<TRequest, TResponse> {
  /** Names the pool in logs, errors and replica ids (`<label>/r<n>`). */
  readonly label: string;
  /** Replicas to start. 0 is allowed: requests are then held until {@link ReplicaPool.resize} adds one. */
  readonly replicas: number;
  readonly start: ReplicaStarter<TRequest, TResponse>;
  /** A replica with requests outstanding that completes none for this long is terminated and replaced. Default 60 000; Infinity disables. */
  readonly hangTimeoutMs?: number;
  /** Delay before retrying a replacement that failed to start; doubles per failure. Default 1 000. */
  readonly restartDelayMs?: number;
  /** Upper bound of the doubling restart delay. Default 30 000. */
  readonly maxRestartDelayMs?: number;
  /** How long stopping waits for a replica to finish gracefully before terminating it. Default 10 000. */
  readonly stopTimeoutMs?: number;
  /**
   * Re-queues, once, a request that was in flight on a replica that crashed, instead of failing it.
   * Only for requests that are safe to run twice (inference is: it has no side effects). Default false.
   */
  readonly retryOnCrash?: boolean;
  /**
   * How a replica started for a pool of `replicas` should be configured (the onnxruntime adapter:
   * intra-op threads = cores / replicas), passed to the starter as `fit`. After every resize, ready
   * replicas started for another fit are replaced one at a time — the new one starts first, then
   * the old one drains — so replicas never fight over the cores and a lone replica uses them all.
   */
  readonly fit?: (replicas: number) => number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** Running totals over the pool's life. */
export interface ReplicaPoolCounters {
  /** Replicas that became ready (initial, replacements and scale-ups). */
  readonly started: number;
  /** Replicas that died while in service. */
  readonly crashed: number;
  /** Replicas terminated for making no progress within hangTimeoutMs. */
  readonly hung: number;
  /** Replica starts that failed. */
  readonly startFailures: number;
  /** Replicas replaced because the pool's size changed what they should be (see `fit`). */
  readonly refitted: number;
}

export interface ReplicaPool<TRequest, TResponse> {
  readonly label: string;
  /**
   * Starts the initial replicas and resolves when all are ready. If any fails, stops the others
   * and rejects with its error. Call once.
   */
  start(): Promise<void>;
  /**
   * Runs a request on the ready replica with the fewest outstanding requests, or holds it until
   * one is ready. A signal that is aborted before dispatch rejects with RUNTIME_ABORTED without
   * running; one aborted after dispatch rejects the caller at once while the replica finishes.
   */
  run(request: TRequest, signal?: AbortSignal): Promise<TResponse>;
  /**
   * Changes the number of replicas. Growing starts new ones (resolves once they are ready or have
   * failed and are retrying); shrinking retires failed, then loading, then the least busy ready
   * replicas, which finish their outstanding requests first (resolves when they have stopped).
   */
  resize(replicas: number): Promise<void>;
  /** The number of replicas the pool aims for. */
  size(): number;
  /** Replicas ready to serve now; cheap enough for the request path (no allocation). */
  readyCount(): number;
  /** Requests held because no replica is ready. */
  queued(): number;
  /** Requests dispatched to replicas and not yet answered by them. */
  inFlight(): number;
  stats(): ReplicaStats[];
  counters(): ReplicaPoolCounters;
  /** The replicas that are ready now (for introspection and tests). */
  replicas(): ReplicaHandle<TRequest, TResponse>[];
  /**
   * Refuses new requests (RUNTIME_UNLOADED), rejects held ones, waits for in-flight requests to
   * finish, then stops every replica. Idempotent: later calls return the same promise.
   */
  close(): Promise<void>;
}

type SlotState = 'loading' | 'ready' | 'failed' | 'draining' | 'stopped';

interface Call<TRequest, TResponse> {
  readonly request: TRequest;
  readonly resolve: (value: TResponse) => void;
  readonly reject: (error: PlatformError) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  settled: boolean;
  /** Already re-queued after a crash once. */
  retried: boolean;
}

interface Slot<TRequest, TResponse> {
  readonly id: string;
  state: SlotState;
  handle: ReplicaHandle<TRequest, TResponse> | undefined;
  readonly startAbort: AbortController;
  readonly inflight: Set<Call<TRequest, TResponse>>;
  served: number;
  failed: number;
  watchdog: TimerHandle | undefined;
  restartTimer: TimerHandle | undefined;
  restartAttempts: number;
  lastError: PlatformError | undefined;
  /** The fit the replica was started with. */
  fit: number | undefined;
  /** Set once stopping has begun; resolves when the replica has stopped. */
  stopped: Promise<void> | undefined;
  /** Resolves once the slot has stopped, however it stopped (retired, ejected, closed). */
  readonly whenStopped: Promise<void>;
  readonly markStopped: () => void;
}

const ZERO_USAGE: ReplicaUsage = { busyMs: 0, loadMs: 0, heapBytes: 0 };

function checkCount(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0) {
    throw RuntimeErrors.RUNTIME_INVALID_OPTIONS(`${what} must be a whole number ≥ 0, got ${String(value)}`);
  }
}

/** Creates a replica pool. Nothing starts until {@link ReplicaPool.start}. */
export function createReplicaPool<TRequest, TResponse>(options: ReplicaPoolOptions<TRequest, TResponse>): ReplicaPool<TRequest, TResponse> {
  const { label, start: starter } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const hangTimeoutMs = options.hangTimeoutMs ?? 60_000;
  const restartDelayMs = options.restartDelayMs ?? 1_000;
  const maxRestartDelayMs = options.maxRestartDelayMs ?? 30_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const retryOnCrash = options.retryOnCrash === true;
  checkCount(options.replicas, `${label}: replicas`);
  if (!(hangTimeoutMs > 0)) throw RuntimeErrors.RUNTIME_INVALID_OPTIONS(`${label}: hangTimeoutMs must be > 0 (Infinity disables it), got ${hangTimeoutMs}`);

  let target = options.replicas;
  let seq = 0;
  let rr = 0;
  let started = false;
  let closing = false;
  let closePromise: Promise<void> | undefined;
  const slots: Slot<TRequest, TResponse>[] = [];
  const waiting: Call<TRequest, TResponse>[] = [];
  let idleWaiters: (() => void)[] = [];
  const counters = { started: 0, crashed: 0, hung: 0, startFailures: 0, refitted: 0 };
  const fitFor = options.fit;
  let refitting: Promise<void> | undefined;

  const inFlightTotal = (): number => slots.reduce((n, s) => n + s.inflight.size, 0);

  const notifyIdle = (): void => {
    if (inFlightTotal() > 0 || idleWaiters.length === 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  };

  const whenIdle = (): Promise<void> =>
    inFlightTotal() === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve));

  const settle = (call: Call<TRequest, TResponse>, outcome: { value: TResponse } | { error: PlatformError }): void => {
    if (call.settled) return;
    call.settled = true;
    if (call.onAbort !== undefined) call.signal?.removeEventListener('abort', call.onAbort);
    call.onAbort = undefined;
    if ('error' in outcome) call.reject(outcome.error);
    else call.resolve(outcome.value);
  };

  const abortedError = (): PlatformError => RuntimeErrors.RUNTIME_ABORTED(`${label}: the request was cancelled before the model answered`);

  // ---- choosing and dispatching ----

  const pick = (): Slot<TRequest, TResponse> | undefined => {
    const ready = slots.filter((s) => s.state === 'ready');
    if (ready.length === 0) return undefined;
    const from = rr++ % ready.length;
    let best: Slot<TRequest, TResponse> | undefined;
    for (let k = 0; k < ready.length; k++) {
      const s = ready[(from + k) % ready.length];
      if (s !== undefined && (best === undefined || s.inflight.size < best.inflight.size)) best = s;
    }
    return best;
  };

  const armWatchdog = (slot: Slot<TRequest, TResponse>): void => {
    slot.watchdog?.cancel();
    slot.watchdog = undefined;
    if (slot.inflight.size === 0 || !Number.isFinite(hangTimeoutMs)) return;
    slot.watchdog = clock.setTimeout(() => onHang(slot), hangTimeoutMs);
  };

  const complete = (slot: Slot<TRequest, TResponse>, call: Call<TRequest, TResponse>, outcome: { value: TResponse } | { error: PlatformError }): void => {
    // a call of an ejected replica was already failed by the ejection
    if (!slot.inflight.delete(call)) return;
    if ('error' in outcome) slot.failed++;
    else slot.served++;
    settle(call, outcome);
    armWatchdog(slot);
    if (slot.state === 'draining' && slot.inflight.size === 0) void stopSlot(slot);
    notifyIdle();
  };

  const dispatch = (slot: Slot<TRequest, TResponse>, call: Call<TRequest, TResponse>): void => {
    const handle = slot.handle;
    if (handle === undefined) return settle(call, { error: RuntimeErrors.RUNTIME_NO_REPLICA(`${label}: replica ${slot.id} has no handle`) });
    if (call.onAbort !== undefined) call.signal?.removeEventListener('abort', call.onAbort);
    // once dispatched the replica runs the request anyway; an abort only frees the caller
    call.onAbort = call.signal === undefined ? undefined : () => settle(call, { error: abortedError() });
    if (call.onAbort !== undefined) call.signal?.addEventListener('abort', call.onAbort, { once: true });
    slot.inflight.add(call);
    if (slot.inflight.size === 1) armWatchdog(slot);
    let promise: Promise<TResponse>;
    try {
      promise = handle.call(call.request);
    } catch (error) {
      promise = Promise.reject(toPlatformError(error));
    }
    promise.then(
      (value) => complete(slot, call, { value }),
      (error: unknown) => complete(slot, call, { error: toPlatformError(error) }),
    );
  };

  /** Puts a call in the waiting queue (at the front when it is a retry), leaving it when its signal aborts. */
  const hold = (call: Call<TRequest, TResponse>, first: boolean): void => {
    if (call.onAbort !== undefined) call.signal?.removeEventListener('abort', call.onAbort);
    call.onAbort = () => {
      const i = waiting.indexOf(call);
      if (i >= 0) waiting.splice(i, 1);
      settle(call, { error: abortedError() });
    };
    call.signal?.addEventListener('abort', call.onAbort, { once: true });
    if (first) waiting.unshift(call);
    else waiting.push(call);
  };

  const flushWaiting = (): void => {
    while (waiting.length > 0) {
      const slot = pick();
      if (slot === undefined) return;
      const call = waiting.shift();
      if (call !== undefined && !call.settled) dispatch(slot, call);
    }
  };

  const failWaitingIfHopeless = (): void => {
    if (waiting.length === 0 || !started) return;
    if (slots.some((s) => s.state === 'ready' || s.state === 'loading')) return;
    if (target === 0 && !slots.some((s) => s.state === 'failed')) return; // scaled to zero: hold until scaled up
    const cause = slots.find((s) => s.lastError !== undefined)?.lastError;
    const error = RuntimeErrors.RUNTIME_NO_REPLICA(
      `${label}: no replica is available${cause === undefined ? '' : `; the last start failed: ${cause.message}`}`,
      { retryAfterSeconds: Math.max(1, Math.ceil(restartDelayMs / 1000)) },
    );
    for (const call of waiting.splice(0)) settle(call, { error });
  };

  // ---- starting, ejecting, stopping ----

  const newSlot = (): Slot<TRequest, TResponse> => {
    let markStopped: () => void = () => undefined;
    const whenStopped = new Promise<void>((resolve) => {
      markStopped = resolve;
    });
    const slot: Slot<TRequest, TResponse> = {
      id: `${label}/r${++seq}`,
      state: 'loading',
      handle: undefined,
      startAbort: new AbortController(),
      inflight: new Set(),
      served: 0,
      failed: 0,
      watchdog: undefined,
      restartTimer: undefined,
      restartAttempts: 0,
      lastError: undefined,
      fit: undefined,
      stopped: undefined,
      whenStopped,
      markStopped,
    };
    slots.push(slot);
    return slot;
  };

  const removeSlot = (slot: Slot<TRequest, TResponse>): void => {
    const i = slots.indexOf(slot);
    if (i >= 0) slots.splice(i, 1);
  };

  /** Starts (or restarts) a slot's replica. Resolves when it is ready or has failed; never rejects. */
  const startSlot = async (slot: Slot<TRequest, TResponse>): Promise<PlatformError | undefined> => {
    slot.state = 'loading';
    slot.restartTimer = undefined;
    slot.fit = fitFor?.(Math.max(1, target));
    let handle: ReplicaHandle<TRequest, TResponse>;
    try {
      handle = await starter(slot.id, slot.startAbort.signal, slot.fit);
    } catch (error) {
      const e = toPlatformError(error);
      counters.startFailures++;
      if (slot.state !== 'loading') return e; // retired or closed meanwhile
      slot.lastError = e;
      slot.state = 'failed';
      if (started && !closing) {
        const delay = Math.min(maxRestartDelayMs, restartDelayMs * 2 ** slot.restartAttempts);
        slot.restartAttempts++;
        logger.error({ pool: label, replica: slot.id, code: e.code, err: e.message, retryInMs: delay }, 'replica failed to start');
        slot.restartTimer = clock.setTimeout(() => void startSlot(slot), delay);
      }
      failWaitingIfHopeless();
      return e;
    }
    if (slot.state !== 'loading') {
      // retired or closed while starting: it is not wanted any more
      void handle.close().catch(() => undefined);
      return undefined;
    }
    slot.handle = handle;
    slot.state = 'ready';
    slot.restartAttempts = 0;
    slot.lastError = undefined;
    counters.started++;
    handle.onExit((error) => eject(slot, error, 'crashed'));
    logger.debug({ pool: label, replica: slot.id, loadMs: Math.round(handle.usage().loadMs) }, 'replica ready');
    flushWaiting();
    return undefined;
  };

  const replace = (): void => {
    if (closing || activeSlots().length >= target) return;
    void startSlot(newSlot());
  };

  const eject = (slot: Slot<TRequest, TResponse>, error: PlatformError, why: 'crashed' | 'hung'): void => {
    if (slot.state === 'stopped' || slot.state === 'loading' || slot.state === 'failed') return;
    const wasDraining = slot.state === 'draining';
    slot.state = 'stopped';
    slot.watchdog?.cancel();
    slot.watchdog = undefined;
    counters[why]++;
    logger.warn({ pool: label, replica: slot.id, inFlight: slot.inflight.size, code: error.code, err: error.message }, `replica ${why}`);
    const calls = [...slot.inflight];
    slot.inflight.clear();
    for (const call of calls) {
      if (why === 'crashed' && retryOnCrash && !call.retried && !call.settled && call.signal?.aborted !== true) {
        call.retried = true;
        hold(call, true);
      } else settle(call, { error });
    }
    if (why === 'hung') void slot.handle?.terminate(error).catch(() => undefined);
    slot.stopped = Promise.resolve();
    slot.markStopped();
    removeSlot(slot);
    if (!wasDraining) replace();
    flushWaiting(); // re-queued calls go to another ready replica at once, if there is one
    failWaitingIfHopeless();
    notifyIdle();
  };

  const onHang = (slot: Slot<TRequest, TResponse>): void => {
    slot.watchdog = undefined;
    if (slot.inflight.size === 0 || (slot.state !== 'ready' && slot.state !== 'draining')) return;
    eject(
      slot,
      RuntimeErrors.RUNTIME_REPLICA_HUNG(
        `${label}: replica ${slot.id} answered nothing for ${hangTimeoutMs} ms with ${slot.inflight.size} request(s) outstanding; it was terminated and a replacement is starting`,
        { details: { replica: slot.id, hangTimeoutMs } },
      ),
      'hung',
    );
  };

  /** Stops a slot's replica gracefully (terminating it after stopTimeoutMs). Idempotent. */
  const stopSlot = (slot: Slot<TRequest, TResponse>, keep = false): Promise<void> => {
    if (slot.stopped !== undefined) return slot.stopped;
    const previous = slot.state;
    slot.state = 'stopped';
    slot.watchdog?.cancel();
    slot.restartTimer?.cancel();
    if (previous === 'loading') slot.startAbort.abort();
    const handle = slot.handle;
    slot.stopped = (async () => {
      if (handle !== undefined) {
        let timer: TimerHandle | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = clock.setTimeout(() => resolve('timeout'), stopTimeoutMs);
        });
        try {
          const outcome = await Promise.race([handle.close().then(() => 'closed' as const), timedOut]);
          if (outcome === 'timeout') {
            logger.warn({ pool: label, replica: slot.id, stopTimeoutMs }, 'replica did not stop in time; terminating it');
            await handle.terminate(RuntimeErrors.RUNTIME_UNLOADED(`${label}: replica ${slot.id} was stopped`));
          }
        } catch (error) {
          logger.warn({ pool: label, replica: slot.id, err: toPlatformError(error).message }, 'replica stop failed');
        } finally {
          timer?.cancel();
        }
      }
      if (!keep) removeSlot(slot);
      slot.markStopped();
    })();
    return slot.stopped;
  };

  const activeSlots = (): Slot<TRequest, TResponse>[] => slots.filter((s) => s.state !== 'draining' && s.state !== 'stopped');

  /** Retires a replica: at once when idle, else once its outstanding requests are answered. */
  const retireSlot = (slot: Slot<TRequest, TResponse>): Promise<void> => {
    if (slot.state === 'ready' && slot.inflight.size > 0) {
      // complete() stops it when its last outstanding request is answered
      slot.state = 'draining';
      return slot.whenStopped;
    }
    return stopSlot(slot);
  };

  /**
   * Replaces, one at a time, ready replicas started for another pool size (see `fit`): the
   * replacement starts first and only then does the misfit drain, so capacity never drops.
   * A failed start leaves the misfit serving. One refit runs at a time; it re-reads the target
   * after every replacement, so a resize meanwhile is honoured.
   */
  const refit = (): Promise<void> => {
    if (fitFor === undefined || refitting !== undefined) return refitting ?? Promise.resolve();
    refitting = (async () => {
      for (;;) {
        if (closing || target === 0) return;
        const want = fitFor(target);
        const misfit = slots.find((s) => s.state === 'ready' && s.fit !== want);
        if (misfit === undefined) return;
        const fresh = newSlot();
        await startSlot(fresh);
        if (fresh.state !== 'ready') {
          // the replacement failed (it retries on its own, and stays counted) or was retired meanwhile
          if (fresh.state === 'failed') void stopSlot(fresh);
          return;
        }
        if (misfit.state === 'ready') {
          counters.refitted++;
          logger.debug({ pool: label, replaced: misfit.id, by: fresh.id, fit: want }, 'replica refitted');
          void retireSlot(misfit);
        }
      }
    })().finally(() => {
      refitting = undefined;
    });
    return refitting;
  };

  // ---- the pool ----

  const pool: ReplicaPool<TRequest, TResponse> = {
    label,

    async start() {
      if (started) throw RuntimeErrors.RUNTIME_INVALID_OPTIONS(`${label}: the pool was already started`);
      const fresh = Array.from({ length: target }, () => newSlot());
      const errors = await Promise.all(fresh.map((s) => startSlot(s)));
      started = true;
      const failure = errors.find((e) => e !== undefined);
      if (failure !== undefined) {
        await pool.close();
        throw failure;
      }
    },

    run(request, signal) {
      if (closing) {
        return Promise.reject(RuntimeErrors.RUNTIME_UNLOADED(`${label} is unloading and takes no new requests`, { retryAfterSeconds: 1 }));
      }
      if (signal?.aborted === true) return Promise.reject(abortedError());
      return new Promise<TResponse>((resolve, reject) => {
        const call: Call<TRequest, TResponse> = { request, resolve, reject, signal, onAbort: undefined, settled: false, retried: false };
        const slot = pick();
        if (slot !== undefined) return dispatch(slot, call);
        hold(call, false);
        failWaitingIfHopeless();
      });
    },

    async resize(replicas) {
      checkCount(replicas, `${label}: replicas`);
      if (closing) throw RuntimeErrors.RUNTIME_UNLOADED(`${label} is unloading and cannot be resized`);
      target = replicas;
      if (!started) return;
      const active = activeSlots();
      if (replicas > active.length) {
        const fresh = Array.from({ length: replicas - active.length }, () => newSlot());
        await Promise.all(fresh.map((s) => startSlot(s)));
      } else if (replicas < active.length) {
        const order: Record<SlotState, number> = { failed: 0, loading: 1, ready: 2, draining: 3, stopped: 3 };
        const victims = [...active]
          .sort((a, b) => order[a.state] - order[b.state] || a.inflight.size - b.inflight.size)
          .slice(0, active.length - replicas);
        await Promise.all(victims.map((slot) => retireSlot(slot)));
        failWaitingIfHopeless();
      }
      await refit();
    },

    size: () => target,
    queued: () => waiting.length,
    readyCount() {
      let ready = 0;
      for (const s of slots) if (s.state === 'ready') ready++;
      return ready;
    },
    inFlight: inFlightTotal,

    stats() {
      return slots.map((s): ReplicaStats => {
        const usage = s.handle?.usage() ?? ZERO_USAGE;
        return {
          id: s.id,
          state: s.state,
          inFlight: s.inflight.size,
          served: s.served,
          failed: s.failed,
          busyMs: usage.busyMs,
          loadMs: usage.loadMs,
          heapBytes: usage.heapBytes,
        };
      });
    },

    counters: () => ({ ...counters }),

    replicas() {
      return slots.filter((s) => s.state === 'ready' && s.handle !== undefined).map((s) => s.handle as ReplicaHandle<TRequest, TResponse>);
    },

    close() {
      if (closePromise !== undefined) return closePromise;
      closing = true;
      const error = RuntimeErrors.RUNTIME_UNLOADED(`${label} was unloaded before the request could run`, { retryAfterSeconds: 1 });
      for (const call of waiting.splice(0)) settle(call, { error });
      closePromise = (async () => {
        for (const s of slots) {
          s.restartTimer?.cancel();
          if (s.state === 'loading' || s.state === 'failed') void stopSlot(s, true);
        }
        await whenIdle();
        await Promise.all([...slots].map((s) => stopSlot(s, true)));
      })();
      return closePromise;
    },
  };
  return pool;
}
