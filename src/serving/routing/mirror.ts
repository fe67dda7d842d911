/**
 * The shadow mirror: a bounded queue of requests to replay against a shadow version after the
 * primary has answered. `submit` is synchronous and O(1) — it never waits for, starts or can be
 * failed by the shadow — and the shadow call starts on a later turn of the event loop
 * (setImmediate), so the primary response is written first. When the queue is full the copy is
 * dropped and counted; shadow failures and timeouts are only counted. Each finished pair goes to
 * `onResult`, typically `compareResponses` feeding a running aggregate.
 *
 * Ownership: the mirror holds the submitted request and primary response until the shadow has run;
 * the caller must not mutate them afterwards (the runtime copies inputs it sends to a worker, so
 * the data plane's decoded request can be passed as it is).
 */
import { CoreErrors, systemClock, type Clock, type TimerHandle } from '../../core/index.js';
import { RoutingErrors } from './errors.js';

/** One request to replay, with the primary's answer to compare against. */
export interface MirrorJob<TRequest, TResponse> {
  readonly request: TRequest;
  readonly primary: TResponse;
  readonly primaryLatencyMs: number;
}

/** A primary and shadow answer to the same request. */
export interface MirrorResult<TRequest, TResponse> extends MirrorJob<TRequest, TResponse> {
  readonly shadow: TResponse;
  readonly shadowLatencyMs: number;
}

/** A shadow call that failed or ran out of time (for logs; it is counted either way). */
export interface MirrorFailure<TRequest> {
  readonly request: TRequest;
  readonly kind: 'failed' | 'timeout';
  readonly error: unknown;
}

export interface MirrorOptions<TRequest, TResponse> {
  /** Runs a request against the shadow version. Should stop when the signal aborts. */
  readonly infer: (request: TRequest, signal: AbortSignal) => Promise<TResponse>;
  /** Most copies waiting to start; one more is dropped (counted). ≥ 1. */
  readonly maxQueue: number;
  /** Most shadow calls running at once. ≥ 1. */
  readonly concurrency: number;
  /**
   * A shadow call still running after this long is counted as timed out, its signal aborted and
   * its slot freed. Calls that ignore the signal keep counting as `lingering`, and no new call
   * starts while running + lingering reaches 2 × concurrency, so a hung shadow cannot pile up work.
   * Default 10 000.
   */
  readonly timeoutMs?: number;
  /** Gets every finished pair; exceptions it throws are counted and swallowed. */
  readonly onResult: (result: MirrorResult<TRequest, TResponse>) => void;
  readonly onFailure?: (failure: MirrorFailure<TRequest>) => void;
  readonly clock?: Clock;
  /** Runs a function on a later turn of the event loop; default setImmediate. */
  readonly defer?: (fn: () => void) => void;
}

/** Counters of a mirror, JSON-safe. */
export interface MirrorStats {
  /** Every submit call. */
  readonly submitted: number;
  /** Submits refused because the queue was full or the mirror closed. */
  readonly dropped: number;
  readonly completed: number;
  readonly failed: number;
  readonly timedOut: number;
  /** onResult or onFailure threw. */
  readonly callbackErrors: number;
  readonly queued: number;
  readonly running: number;
  /** Timed-out calls that have not settled yet. */
  readonly lingering: number;
}

export interface Mirror<TRequest, TResponse> {
  /** Queues a copy for the shadow; false when it was dropped. Never throws, never waits. */
  submit(job: MirrorJob<TRequest, TResponse>): boolean;
  stats(): MirrorStats;
  /** Stops taking copies, drops the queue (counted), aborts running calls and waits for them to settle or time out. */
  close(): Promise<void>;
}

export const MIRROR_DEFAULT_TIMEOUT_MS = 10_000;

/** Creates a shadow mirror; throws ROUTING_MIRROR_OPTIONS_INVALID for a bad size, concurrency or timeout. */
export function createMirror<TRequest, TResponse>(options: MirrorOptions<TRequest, TResponse>): Mirror<TRequest, TResponse> {
  const { infer, maxQueue, concurrency, onResult, onFailure } = options;
  const timeoutMs = options.timeoutMs ?? MIRROR_DEFAULT_TIMEOUT_MS;
  const clock = options.clock ?? systemClock;
  const defer = options.defer ?? ((fn: () => void) => void setImmediate(fn));
  const bad: string[] = [];
  if (!Number.isSafeInteger(maxQueue) || maxQueue < 1) bad.push(`maxQueue must be a whole number ≥ 1, got ${maxQueue}`);
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) bad.push(`concurrency must be a whole number ≥ 1, got ${concurrency}`);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) bad.push(`timeoutMs must be a number > 0, got ${timeoutMs}`);
  if (bad.length > 0) throw RoutingErrors.ROUTING_MIRROR_OPTIONS_INVALID(`invalid mirror options: ${bad.join('; ')}`);

  // a ring buffer: submit and start are O(1) and allocate nothing once the slots exist
  const ring: (MirrorJob<TRequest, TResponse> | undefined)[] = new Array<undefined>(maxQueue);
  let head = 0;
  let queued = 0;
  let submitted = 0;
  let dropped = 0;
  let completed = 0;
  let failed = 0;
  let timedOut = 0;
  let callbackErrors = 0;
  let running = 0;
  let lingering = 0;
  let scheduled = false;
  let closed = false;
  const controllers = new Set<AbortController>();
  let idleWaiters: (() => void)[] = [];

  const safely = (fn: () => void): void => {
    try {
      fn();
    } catch {
      callbackErrors++;
    }
  };

  const settleSlot = (): void => {
    running--;
    if (running === 0 && idleWaiters.length > 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
    schedule();
  };

  const start = (job: MirrorJob<TRequest, TResponse>): void => {
    running++;
    const controller = new AbortController();
    controllers.add(controller);
    const startedMs = clock.monotonicMs();
    let done = false;
    const timer: TimerHandle = clock.setTimeout(() => {
      if (done) return;
      done = true;
      timedOut++;
      lingering++;
      controllers.delete(controller);
      const error = CoreErrors.CORE_TIMEOUT(`shadow call did not finish within ${timeoutMs} ms`);
      controller.abort(error);
      if (onFailure !== undefined) safely(() => onFailure({ request: job.request, kind: 'timeout', error }));
      settleSlot();
    }, timeoutMs);
    let call: Promise<TResponse>;
    try {
      call = infer(job.request, controller.signal);
    } catch (error) {
      call = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    /** True when this call still owns its slot (it neither timed out nor finished); frees a lingering one. */
    const claim = (): boolean => {
      if (done) {
        lingering--;
        schedule();
        return false;
      }
      done = true;
      timer.cancel();
      controllers.delete(controller);
      return true;
    };
    call.then(
      (shadow) => {
        if (!claim()) return;
        completed++;
        const shadowLatencyMs = clock.monotonicMs() - startedMs;
        safely(() => onResult({ request: job.request, primary: job.primary, primaryLatencyMs: job.primaryLatencyMs, shadow, shadowLatencyMs }));
        settleSlot();
      },
      (error: unknown) => {
        if (!claim()) return;
        failed++;
        if (onFailure !== undefined) safely(() => onFailure({ request: job.request, kind: 'failed', error }));
        settleSlot();
      },
    );
  };

  const pump = (): void => {
    scheduled = false;
    while (queued > 0 && running < concurrency && running + lingering < 2 * concurrency && !closed) {
      const job = ring[head] as MirrorJob<TRequest, TResponse>;
      ring[head] = undefined;
      head = (head + 1) % maxQueue;
      queued--;
      start(job);
    }
  };

  function schedule(): void {
    if (scheduled || queued === 0 || closed) return;
    scheduled = true;
    defer(pump);
  }

  return {
    submit(job) {
      submitted++;
      if (closed || queued >= maxQueue) {
        dropped++;
        return false;
      }
      ring[(head + queued) % maxQueue] = job;
      queued++;
      schedule();
      return true;
    },
    stats: () => ({ submitted, dropped, completed, failed, timedOut, callbackErrors, queued, running, lingering }),
    async close() {
      if (!closed) {
        closed = true;
        dropped += queued;
        for (let i = 0; i < queued; i++) ring[(head + i) % maxQueue] = undefined;
        queued = 0;
        for (const c of controllers) c.abort(CoreErrors.CORE_ABORTED('the shadow mirror is closing'));
      }
      if (running === 0) return;
      await new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}
