/**
 * Time, injected. The batcher, autoscaler, rollout steps, drift windows and hold timeouts take a
 * Clock so that tests drive them with {@link createFakeClock} instead of sleeping.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** A monotonic reading in milliseconds, for measuring durations. */
  monotonicMs(): number;
  /** Runs `fn` once after `ms`; the timer never keeps the process alive. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonicMs: () => performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(t);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

export interface FakeClock extends Clock {
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): Promise<void>;
  /** Number of timers not yet fired. */
  pendingTimers(): number;
}

/** A clock that only moves when told to; timers fire in due order during {@link FakeClock.advance}. */
export function createFakeClock(startMs = Date.UTC(2026, 0, 1)): FakeClock {
  let current = startMs;
  let seq = 0;
  const timers = new Map<number, { due: number; fn: () => void }>();
  const clock: FakeClock = {
    now: () => current,
    monotonicMs: () => current - startMs,
    setTimeout(fn, ms) {
      const id = ++seq;
      timers.set(id, { due: current + Math.max(0, ms), fn });
      return { cancel: () => void timers.delete(id) };
    },
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason as Error);
        const handle = clock.setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, ms);
        const onAbort = (): void => {
          handle.cancel();
          reject(signal?.reason as Error);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    async advance(ms) {
      const target = current + ms;
      for (;;) {
        let nextId: number | undefined;
        let nextDue = Infinity;
        for (const [id, t] of timers) {
          if (t.due <= target && (t.due < nextDue || (t.due === nextDue && id < (nextId ?? Infinity)))) {
            nextDue = t.due;
            nextId = id;
          }
        }
        if (nextId === undefined) break;
        const timer = timers.get(nextId);
        timers.delete(nextId);
        current = nextDue;
        timer?.fn();
        // let promise continuations scheduled by the timer run before the next one fires
        await new Promise<void>((r) => setImmediate(r));
      }
      current = target;
    },
    pendingTimers: () => timers.size,
  };
  return clock;
}
