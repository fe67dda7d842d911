/**
 * The open-loop load generator of capacity planning: requests arrive on a schedule (Poisson or
 * evenly spaced) whatever the model's answers do, the way independent clients arrive at a server,
 * and each request's latency runs from its *scheduled* arrival to its answer — so a sender that
 * falls behind shows up as latency instead of quietly lowering the load (coordinated omission).
 * One call runs one offered rate on one `infer` for a bounded number of requests and time, and
 * returns a {@link LoadPoint}.
 */
import { setMaxListeners } from 'node:events';
import { toPlatformError, type Clock, type Tensor } from '../../core/index.js';
import { quantileSorted, type SeededRandom } from '../../stats/index.js';
import { failureOf } from './recommend.js';
import type { LatencySummary, LoadPoint } from './types.js';

/** The shape of `LoadedModel.infer` (and of a batch scheduler's). */
export type InferFunction = (inputs: readonly Tensor[], outputs: readonly string[] | undefined, signal?: AbortSignal) => Promise<Tensor[]>;

/** Summarises latencies (ms) with type-7 quantiles; null for an empty sample. Sorts `samples` in place. */
export function summariseLatencies(samples: number[]): LatencySummary | null {
  if (samples.length === 0) return null;
  samples.sort((a, b) => a - b);
  let sum = 0;
  for (const v of samples) sum += v;
  return {
    count: samples.length,
    meanMs: sum / samples.length,
    p50Ms: quantileSorted(samples, 0.5),
    p95Ms: quantileSorted(samples, 0.95),
    p99Ms: quantileSorted(samples, 0.99),
    maxMs: samples[samples.length - 1] as number,
  };
}

/**
 * How many late requests settle a point: with more than 1 % of n samples above the target plus
 * one, the type-7 p99 (h = 0.99(n − 1)) lands on a late sample, so the point cannot pass anymore.
 */
export function lateLimitFor(planned: number): number {
  return Math.ceil(0.01 * planned + 1);
}

/** How many requests a point schedules, and the bounds that decide it. */
export interface PointSize {
  readonly rate: number;
  /** The intended window. */
  readonly durationMs: number;
  /** Fewest requests: a window too short for them is stretched, up to `maxWindowMs`. */
  readonly min: number;
  /** Most requests: a window that would hold more is shortened, down to `minWindowMs`. */
  readonly max: number;
  readonly maxWindowMs: number;
  /** The shortest window, whatever `max` says (the window that lets overload show; see measure.ts). */
  readonly minWindowMs: number;
}

/** Most requests one point ever schedules, whatever its windows say (memory stays in the tens of MiB). */
export const MAX_POINT_REQUESTS = 1_000_000;

/**
 * How many requests a point schedules: rate × duration, raised to `min` (within `maxWindowMs`),
 * capped by `max`, and never fewer than `minWindowMs` of arrivals — at least one, at most
 * {@link MAX_POINT_REQUESTS}.
 */
export function plannedRequests(s: PointSize): number {
  const perMs = s.rate / 1000;
  const wanted = Math.min(Math.max(Math.round(perMs * s.durationMs), s.min), Math.floor(perMs * s.maxWindowMs), s.max);
  return Math.min(MAX_POINT_REQUESTS, Math.max(1, wanted, Math.ceil(perMs * s.minWindowMs)));
}

export interface LoadPointOptions {
  readonly infer: InferFunction;
  /** The request every arrival sends (shared: the runtime and the batcher copy what they keep). */
  readonly inputs: readonly Tensor[];
  readonly offeredRps: number;
  /** The intended window; the request count follows from it (see {@link plannedRequests}). */
  readonly durationMs: number;
  readonly minRequests: number;
  readonly maxRequests: number;
  /** The longest window raising the count to `minRequests` may stretch to. */
  readonly maxWindowMs: number;
  /** The shortest window, even above `maxRequests`. */
  readonly minWindowMs: number;
  readonly p99TargetMs: number;
  readonly arrivals: 'poisson' | 'uniform';
  readonly random: SeededRandom;
  /** How long, after the last arrival, answers are waited for before the rest count as unanswered. */
  readonly drainTimeoutMs: number;
  readonly clock: Clock;
  /** Aborting stops the point at once (the result is then partial; the caller decides what to do). */
  readonly signal?: AbortSignal;
  /** Rows and runs of the batch scheduler so far, to give the mean batch size; absent when batching is off. */
  readonly batchCounts?: () => { readonly rows: number; readonly batches: number };
  /** Resolves once the replicas have finished the work cancelled requests left them (bounded by the caller). */
  readonly settle: () => Promise<void>;
  /** Process CPU time; default `process.cpuUsage`. */
  readonly cpuUsage?: () => { readonly user: number; readonly system: number };
}

/**
 * Runs one open-loop point. Stops early — and cancels what is still queued — as soon as the point
 * cannot pass: a request failed, or more requests are already late than p99 allows (answered
 * late, or still unanswered past the target). Bounded: at most `maxRequests` arrivals within
 * `maxWindowMs`, then at most `drainTimeoutMs` for the answers.
 */
export async function runLoadPoint(o: LoadPointOptions): Promise<LoadPoint> {
  const { clock, random } = o;
  const cpuUsage = o.cpuUsage ?? (() => process.cpuUsage());
  const n = plannedRequests({ rate: o.offeredRps, durationMs: o.durationMs, min: o.minRequests, max: o.maxRequests, maxWindowMs: o.maxWindowMs, minWindowMs: o.minWindowMs });
  const at = new Float64Array(n);
  const gapMs = 1000 / o.offeredRps;
  for (let i = 1; i < n; i++) {
    // exponential gaps: 1 − u is in (0, 1], so the logarithm is finite
    const gap = o.arrivals === 'poisson' ? -Math.log(1 - random.next()) * gapMs : gapMs;
    at[i] = (at[i - 1] as number) + gap;
  }

  const controller = new AbortController();
  // every request in flight listens on this signal (the pool and the batcher do): thousands, by design
  setMaxListeners(0, controller.signal);
  const onOuterAbort = (): void => controller.abort();
  if (o.signal?.aborted === true) controller.abort();
  else o.signal?.addEventListener('abort', onOuterAbort, { once: true });

  const target = o.p99TargetMs;
  const lateLimit = lateLimitFor(n);
  const latencies: number[] = [];
  const errorsByCode: Record<string, number> = {};
  const done = new Uint8Array(n);
  let errors = 0;
  let abandoned = 0;
  let lateAnswered = 0;
  let outstanding = 0;
  let oldest = 0;
  let sent = 0;
  let stoppedEarly: string | null = null;
  let idle: (() => void) | undefined;

  const batch0 = o.batchCounts?.();
  const cpu0 = cpuUsage();
  const start = clock.monotonicMs();
  let lastAnswer = start;

  const send = (i: number): void => {
    const scheduled = start + (at[i] as number);
    outstanding++;
    let run: Promise<Tensor[]>;
    try {
      run = o.infer(o.inputs, undefined, controller.signal);
    } catch (error) {
      run = Promise.reject(toPlatformError(error));
    }
    run
      .then(
        () => {
          const now = clock.monotonicMs();
          const ms = now - scheduled;
          latencies.push(ms);
          if (ms > target) lateAnswered++;
          lastAnswer = now;
        },
        (error: unknown) => {
          const e = toPlatformError(error);
          // requests the planner cancelled are its own doing, not the model's failures
          if (controller.signal.aborted && (e.code === 'RUNTIME_ABORTED' || e.code === 'RUNTIME_UNLOADED' || e.code === 'CORE_ABORTED')) abandoned++;
          else {
            errors++;
            errorsByCode[e.code] = (errorsByCode[e.code] ?? 0) + 1;
          }
        },
      )
      .finally(() => {
        done[i] = 1;
        outstanding--;
        if (outstanding === 0) idle?.();
      });
  };

  /** Late requests so far, counting at most up to the limit: answered late, or unanswered past the target. */
  const late = (nowMs: number): number => {
    while (oldest < sent && done[oldest] === 1) oldest++;
    let count = lateAnswered;
    const cutoff = nowMs - start - target;
    for (let i = oldest; i < sent && count < lateLimit && (at[i] as number) < cutoff; i++) if (done[i] === 0) count++;
    return count;
  };

  const stopReason = (nowMs: number): string | null => {
    if (errors > 0) return 'a request failed';
    if (late(nowMs) >= lateLimit) return `more than 1 % of the ${n} requests were later than ${target} ms, so p99 cannot meet the target`;
    return null;
  };

  const nap = (ms: number): Promise<void> => clock.sleep(ms, controller.signal).catch(() => undefined);

  // send on schedule: every arrival that is due, then sleep until the next one (timers tick at ≥ 1 ms,
  // so at high rates arrivals go out in bursts of the ones due within that millisecond)
  while (sent < n && !controller.signal.aborted) {
    const now = clock.monotonicMs();
    while (sent < n && (at[sent] as number) <= now - start) send(sent++);
    stoppedEarly = stopReason(clock.monotonicMs());
    if (stoppedEarly !== null || sent >= n) break;
    await nap(Math.max(1, (at[sent] as number) - (clock.monotonicMs() - start)));
  }

  // wait for the answers, still watching for a point that can no longer pass
  const drainUntil = clock.monotonicMs() + o.drainTimeoutMs;
  while (outstanding > 0 && stoppedEarly === null && !controller.signal.aborted) {
    const now = clock.monotonicMs();
    stoppedEarly = stopReason(now);
    if (stoppedEarly !== null) break;
    if (now >= drainUntil) {
      stoppedEarly = `${outstanding} request${outstanding === 1 ? '' : 's'} still unanswered ${o.drainTimeoutMs} ms after the last arrival`;
      break;
    }
    const settled = new Promise<void>((resolve) => (idle = resolve));
    await Promise.race([settled, nap(Math.min(10, Math.max(1, drainUntil - now)))]);
    idle = undefined;
  }

  if (outstanding > 0 || controller.signal.aborted) {
    controller.abort();
    // cancelled requests reject at once (queued ones never run); bounded in case one does not
    const cancelledBy = clock.monotonicMs() + 5000;
    while (outstanding > 0 && clock.monotonicMs() < cancelledBy) {
      await new Promise<void>((resolve) => {
        idle = resolve;
        clock.setTimeout(resolve, 10);
      });
    }
    idle = undefined;
    // a replica finishes work it was already given: wait for it, so the next point starts clean
    await o.settle();
  }
  o.signal?.removeEventListener('abort', onOuterAbort);

  const end = clock.monotonicMs();
  const cpu1 = cpuUsage();
  const seconds = Math.max(1e-9, (end - start) / 1000);
  const cpuSeconds = Math.max(0, cpu1.user - cpu0.user + (cpu1.system - cpu0.system)) / 1e6;
  const latency = summariseLatencies(latencies);
  const batch1 = o.batchCounts?.();
  const batches = batch0 !== undefined && batch1 !== undefined ? batch1.batches - batch0.batches : 0;
  const answeredSeconds = (lastAnswer - start) / 1000;
  const point: Omit<LoadPoint, 'meetsTarget'> = {
    offeredRps: o.offeredRps,
    achievedRps: latencies.length === 0 || answeredSeconds <= 0 ? 0 : latencies.length / answeredSeconds,
    sent,
    completed: latencies.length,
    errors,
    errorsByCode,
    abandoned: abandoned + Math.max(0, outstanding),
    latency,
    seconds,
    cpuSeconds,
    busyCores: cpuSeconds / seconds,
    meanBatchSize: batch0 === undefined || batch1 === undefined ? null : batches === 0 ? 0 : (batch1.rows - batch0.rows) / batches,
    stoppedEarly,
  };
  return { ...point, meetsTarget: failureOf(point, target) === null };
}
