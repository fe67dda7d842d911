/**
 * The autoscaler policy for one endpoint, after Knative's pod autoscaler (KPA): every tick it
 * samples concurrency (in-flight + queued requests), averages it over a stable and a panic
 * window, and asks for ⌈concurrency / targetConcurrency⌉ replicas — following the panic window
 * and never scaling down while a burst lasts, holding scale-downs for the scale-down delay,
 * keeping the last replica until the endpoint has been idle for the grace period, and clamping
 * to [minReplicas, maxReplicas]. Every decision that changes the count, or that a limit holds
 * back, goes to a bounded decision log with its inputs.
 *
 * The policy knows nothing about replicas: it reads a {@link ConcurrencySampler} and calls
 * `scale(n)`. Time comes from the injected Clock, so tests drive it with a fake clock.
 */
import { silentLogger, systemClock, toPlatformError, type Clock, type Logger, type TimerHandle } from '../core/index.js';
import {
  AutoscalerReasons,
  createDecisionLog,
  type AutoscalerEvent,
  type AutoscalerEventInput,
  type AutoscalerLimit,
  type AutoscalerMode,
  type AutoscalerReason,
  type DecisionLogQuery,
} from './autoscaler-events.js';
import { compileAutoscalerOptions, type AutoscalerConfig, type AutoscalerOptions } from './autoscaler-options.js';
import { createTimeBucketWindow } from './autoscaler-window.js';

/** What the autoscaler reads from the data plane each tick. Counts are of requests, not batches. */
export interface ConcurrencySample {
  /** Requests being run by replicas now (every request inside a dispatched batch counts). */
  readonly inFlight: number;
  /** Requests waiting: in the batching queue and held while no replica is ready. */
  readonly queued: number;
  /** Replicas ready to serve now (not loading, not draining). */
  readonly readyReplicas: number;
  /**
   * Requests that arrived since the previous observation. Optional, but wire it when requests can
   * be shorter than a tick: a request that starts and ends between two samples is invisible to
   * `inFlight`, and without this an endpoint with light, fast traffic could look idle.
   */
  readonly arrivals?: number;
}

/** Reads the endpoint's current load. Called once per tick; must not throw (a throw skips the tick). */
export type ConcurrencySampler = () => ConcurrencySample;

export interface AutoscalerDeps {
  /** Names the endpoint in events and logs, e.g. `fraud-detector`. */
  readonly endpoint: string;
  readonly observe: ConcurrencySampler;
  /**
   * Asks for `replicas` replicas (the replica pool's `resize`). Calls never overlap: the next one
   * starts after the previous one settles, with the newest decision. A rejection is recorded as
   * a `ScaleFailed` event and retried on the next tick.
   */
  readonly scale: (replicas: number) => Promise<void>;
  /** The replica count the endpoint has when the autoscaler takes over (e.g. the pool's `size()`). */
  readonly initialReplicas: number;
  /** The model's observed load time in ms; when minReplicas is 0 the grace period must exceed it. */
  readonly observedLoadMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** The autoscaler's view right now, for the API and tests. */
export interface AutoscalerStatus {
  readonly endpoint: string;
  readonly mode: AutoscalerMode;
  /** The count the autoscaler decided on last. */
  readonly desiredReplicas: number;
  /** The count the last successful `scale` call asked for. */
  readonly appliedReplicas: number;
  /** From the last sample; undefined before the first tick. */
  readonly readyReplicas: number | undefined;
  readonly stableConcurrency: number;
  readonly panicConcurrency: number;
  /** When traffic was last seen (ms since the epoch). */
  readonly lastTrafficAtMs: number;
  /** When the current panic began, or undefined in stable mode. */
  readonly panicSinceMs: number | undefined;
  /** Buckets held by the concurrency window: fixed, ⌈stable window / tick⌉. */
  readonly windowBuckets: number;
  readonly running: boolean;
}

/** The outcome of one tick. */
export interface AutoscalerDecision {
  readonly desiredReplicas: number;
  /** The event recorded (or repeated) by this tick, if any. */
  readonly event: AutoscalerEvent | undefined;
}

export interface Autoscaler {
  readonly endpoint: string;
  readonly config: AutoscalerConfig;
  /** Starts ticking every tickIntervalMs. Idempotent. */
  start(): void;
  /** Stops ticking and waits for a scale call in progress. Idempotent; the autoscaler cannot restart. */
  stop(): Promise<void>;
  /**
   * Samples and decides once, now. The timer calls this; tests and an "evaluate now" command may too.
   * Returns undefined after stop or when the sampler threw.
   */
  tick(): AutoscalerDecision | undefined;
  /**
   * Tells the autoscaler a request arrived while it wants zero replicas: it asks for one at once
   * (a `ActivateFromZero` event) without waiting for a tick. The data plane holds the request
   * meanwhile. Counts as traffic, so the new replica lasts at least the idle period. Resolves
   * when the scale call settles (immediately when a replica is already wanted); never rejects.
   */
  activate(): Promise<void>;
  /** The decision log, oldest first. */
  events(query?: DecisionLogQuery): AutoscalerEvent[];
  status(): AutoscalerStatus;
}

const HOLD_REASONS: ReadonlySet<AutoscalerReason> = new Set([
  AutoscalerReasons.HeldByMaxReplicas,
  AutoscalerReasons.HeldByMinReplicas,
  AutoscalerReasons.HeldByPanic,
  AutoscalerReasons.HeldByScaleDownDelay,
  AutoscalerReasons.HeldByScaleToZeroGrace,
  AutoscalerReasons.ScaleFailed,
]);

/** ⌈value / target⌉, tolerant of floating-point noise in averages (2.0000000001 is 2). */
function replicasFor(concurrency: number, target: number): number {
  return Math.max(0, Math.ceil(concurrency / target - 1e-9));
}

function count(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : 0;
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/**
 * Creates the autoscaler of one endpoint. Options are validated (CORE_INVALID_CONFIG listing
 * every problem) and frozen. Nothing happens until {@link Autoscaler.start} or a call to `tick`.
 */
export function createAutoscaler(options: AutoscalerOptions | AutoscalerConfig | undefined, deps: AutoscalerDeps): Autoscaler {
  const config = compileAutoscalerOptions(options, deps.observedLoadMs === undefined ? {} : { observedLoadMs: deps.observedLoadMs });
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;
  const { endpoint } = deps;
  const target = config.targetConcurrency;
  const stableMs = config.stableWindowSeconds * 1000;
  const panicMs = config.panicWindowSeconds * 1000;
  const delayMs = config.scaleDownDelaySeconds * 1000;
  // the last replica stays for a whole stable window without traffic (Knative) and for the grace period
  const idleBeforeZeroMs = Math.max(stableMs, config.scaleToZeroGracePeriodSeconds * 1000);
  const bucketMs = config.tickIntervalMs;

  const concurrency = createTimeBucketWindow({ spanMs: stableMs, bucketMs });
  const wanted = delayMs > 0 ? createTimeBucketWindow({ spanMs: delayMs, bucketMs }) : undefined;
  const log = createDecisionLog(config.maxEvents);

  let desired = Math.max(0, Math.floor(count(deps.initialReplicas)));
  let applied = desired;
  let mode: AutoscalerMode = 'stable';
  let panicSinceMs: number | undefined;
  let lastPanicConditionMs = -Infinity;
  let lastTrafficAtMs = clock.now();
  let lastSample: ConcurrencySample | undefined;
  let stableConcurrency = 0;
  let panicConcurrency = 0;
  let timer: TimerHandle | undefined;
  let started = false;
  let stopped = false;
  let scaling: Promise<void> | undefined;
  let busy = false;

  const record = (input: Omit<AutoscalerEventInput, 'endpoint' | 'targetConcurrency'>): AutoscalerEvent => {
    const full: AutoscalerEventInput = { endpoint, targetConcurrency: target, ...input };
    const prev = log.last();
    if (
      prev !== undefined &&
      HOLD_REASONS.has(full.reason) &&
      prev.reason === full.reason &&
      prev.mode === full.mode &&
      prev.previousMode === full.previousMode &&
      prev.currentReplicas === full.currentReplicas &&
      prev.wantedReplicas === full.wantedReplicas &&
      prev.desiredReplicas === full.desiredReplicas &&
      prev.limitedBy === full.limitedBy
    ) {
      // a limit that keeps holding is one event with a count, not one per tick (as Kubernetes events)
      log.repeatLast(full.atMs);
      return log.last() ?? log.append(full);
    }
    const event = log.append(full);
    const fields = { endpoint, reason: event.reason, from: event.currentReplicas, to: event.desiredReplicas, mode: event.mode };
    if (event.desiredReplicas !== event.currentReplicas) logger.info(fields, event.message);
    else logger.debug(fields, event.message);
    return event;
  };

  /** Applies `desired` through deps.scale, one call at a time, until it is applied or a call fails. */
  const reconcile = (): Promise<void> => {
    if (busy && scaling !== undefined) return scaling;
    if (applied === desired) return Promise.resolve();
    // a flag rather than clearing `scaling` in finally: a scale callback that throws synchronously
    // finishes the loop before `scaling` is even assigned
    busy = true;
    scaling = (async () => {
      try {
        while (applied !== desired) {
          const want = desired;
          try {
            await deps.scale(want);
            applied = want;
          } catch (error) {
            const e = toPlatformError(error);
            logger.warn({ endpoint, replicas: want, code: e.code, err: e.message }, 'autoscaler scale call failed');
            record({
              atMs: clock.now(),
              reason: AutoscalerReasons.ScaleFailed,
              mode,
              previousMode: mode,
              stableConcurrency: round3(stableConcurrency),
              panicConcurrency: round3(panicConcurrency),
              readyReplicas: lastSample?.readyReplicas ?? 0,
              currentReplicas: applied,
              wantedReplicas: want,
              desiredReplicas: want,
              idleMs: clock.now() - lastTrafficAtMs,
              message: `scaling ${endpoint} to ${want} replicas failed (${e.code}: ${e.message}); retrying on the next tick`,
            });
            return;
          }
        }
      } finally {
        busy = false;
      }
    })();
    return scaling;
  };

  const tick = (): AutoscalerDecision | undefined => {
    if (stopped) return undefined;
    let sample: ConcurrencySample;
    try {
      sample = deps.observe();
    } catch (error) {
      logger.warn({ endpoint, err: toPlatformError(error).message }, 'autoscaler sampler threw; tick skipped');
      return undefined;
    }
    const now = clock.now();
    const ready = Math.floor(count(sample.readyReplicas));
    const observed = count(sample.inFlight) + count(sample.queued);
    lastSample = { inFlight: count(sample.inFlight), queued: count(sample.queued), readyReplicas: ready, arrivals: count(sample.arrivals) };
    concurrency.record(now, observed);
    if (observed > 0 || count(sample.arrivals) > 0) lastTrafficAtMs = now;

    stableConcurrency = concurrency.average(now, stableMs);
    panicConcurrency = concurrency.average(now, panicMs);
    const desiredStable = replicasFor(stableConcurrency, target);
    const desiredPanic = replicasFor(panicConcurrency, target);

    // Panic: the burst over the short window is at least panicThreshold × what the ready replicas
    // are meant to carry. Zero ready replicas count as one so a burst at scale-from-zero panics too.
    const capacity = Math.max(1, ready) * target;
    const overThreshold = panicConcurrency > 0 && panicConcurrency >= (config.panicThresholdPercent / 100) * capacity;
    const previousMode = mode;
    if (overThreshold) {
      lastPanicConditionMs = now;
      if (mode === 'stable') {
        mode = 'panic';
        panicSinceMs = now;
      }
    } else if (mode === 'panic' && now - lastPanicConditionMs >= stableMs) {
      mode = 'stable';
      panicSinceMs = undefined;
    }

    const current = desired;
    // The pipeline: each stage may only raise the count, except the final clamp to maxReplicas.
    const want = mode === 'panic' ? desiredPanic : desiredStable;
    const afterPanic = mode === 'panic' ? Math.max(want, current) : want;
    let afterDelay = afterPanic;
    if (wanted !== undefined) {
      wanted.record(now, afterPanic);
      afterDelay = Math.max(afterPanic, wanted.max(now, delayMs) ?? 0);
    }
    const idleMs = now - lastTrafficAtMs;
    const afterGrace = config.minReplicas === 0 && afterDelay === 0 && current > 0 && idleMs < idleBeforeZeroMs ? 1 : afterDelay;
    let next = afterGrace;
    let limitedBy: AutoscalerLimit | undefined;
    if (next < config.minReplicas) {
      next = config.minReplicas;
      limitedBy = 'minReplicas';
    } else if (next > config.maxReplicas) {
      next = config.maxReplicas;
      limitedBy = 'maxReplicas';
    }

    let reason: AutoscalerReason | undefined;
    if (next > current) reason = mode === 'panic' ? AutoscalerReasons.ScaleUpPanic : AutoscalerReasons.ScaleUpStable;
    else if (next < current) reason = next === 0 ? AutoscalerReasons.ScaleToZero : AutoscalerReasons.ScaleDownStabilised;
    else if (want > current) reason = AutoscalerReasons.HeldByMaxReplicas;
    else if (want < current) {
      // the first stage that lifted the load's wish back up to the current count is the one holding it
      if (afterPanic >= current) reason = AutoscalerReasons.HeldByPanic;
      else if (afterDelay >= current) reason = AutoscalerReasons.HeldByScaleDownDelay;
      else if (afterGrace >= current) reason = AutoscalerReasons.HeldByScaleToZeroGrace;
      else reason = AutoscalerReasons.HeldByMinReplicas;
    } else if (mode !== previousMode) reason = mode === 'panic' ? AutoscalerReasons.PanicStarted : AutoscalerReasons.PanicEnded;

    desired = next;
    let event: AutoscalerEvent | undefined;
    if (reason !== undefined) {
      event = record({
        atMs: now,
        reason,
        mode,
        previousMode,
        stableConcurrency: round3(stableConcurrency),
        panicConcurrency: round3(panicConcurrency),
        readyReplicas: ready,
        currentReplicas: current,
        wantedReplicas: want,
        desiredReplicas: next,
        ...(limitedBy === undefined ? {} : { limitedBy }),
        idleMs,
        message: describeDecision(reason, { endpoint, current, next, want, stable: stableConcurrency, panic: panicConcurrency, idleMs, limitedBy, config }),
      });
    }
    void reconcile();
    return { desiredReplicas: next, event };
  };

  const schedule = (): void => {
    timer = clock.setTimeout(() => {
      timer = undefined;
      if (stopped) return;
      tick();
      schedule();
    }, config.tickIntervalMs);
  };

  return {
    endpoint,
    config,
    start() {
      if (started || stopped) return;
      started = true;
      schedule();
    },
    async stop() {
      stopped = true;
      timer?.cancel();
      timer = undefined;
      await scaling;
    },
    tick,
    activate() {
      if (stopped) return Promise.resolve();
      lastTrafficAtMs = clock.now();
      if (desired > 0) return busy && scaling !== undefined ? scaling : Promise.resolve();
      const next = Math.min(config.maxReplicas, Math.max(1, config.minReplicas));
      record({
        atMs: clock.now(),
        reason: AutoscalerReasons.ActivateFromZero,
        mode,
        previousMode: mode,
        stableConcurrency: round3(stableConcurrency),
        panicConcurrency: round3(panicConcurrency),
        readyReplicas: lastSample?.readyReplicas ?? 0,
        currentReplicas: desired,
        wantedReplicas: next,
        desiredReplicas: next,
        idleMs: 0,
        message: `a request arrived for ${endpoint} with no replica wanted; starting ${next} now and holding the request meanwhile`,
      });
      desired = next;
      return reconcile();
    },
    events: (query) => log.events(query),
    status: () => ({
      endpoint,
      mode,
      desiredReplicas: desired,
      appliedReplicas: applied,
      readyReplicas: lastSample?.readyReplicas,
      stableConcurrency,
      panicConcurrency,
      lastTrafficAtMs,
      panicSinceMs,
      windowBuckets: concurrency.bucketCount(),
      running: started && !stopped,
    }),
  };
}

interface DescribeFacts {
  readonly endpoint: string;
  readonly current: number;
  readonly next: number;
  readonly want: number;
  readonly stable: number;
  readonly panic: number;
  readonly idleMs: number;
  readonly limitedBy: AutoscalerLimit | undefined;
  readonly config: AutoscalerConfig;
}

/** One sentence per decision, naming the numbers it was made from. */
function describeDecision(reason: AutoscalerReason, f: DescribeFacts): string {
  const c = f.config;
  const s = f.stable.toFixed(2);
  const p = f.panic.toFixed(2);
  const cap = f.limitedBy === undefined ? '' : ` (capped by ${f.limitedBy} ${f.limitedBy === 'maxReplicas' ? c.maxReplicas : c.minReplicas})`;
  switch (reason) {
    case AutoscalerReasons.ScaleUpStable:
      return `${f.endpoint}: ${f.current} → ${f.next} replicas: average concurrency ${s} over ${c.stableWindowSeconds} s at target ${c.targetConcurrency} asks for ${f.want}${cap}`;
    case AutoscalerReasons.ScaleUpPanic:
      return `${f.endpoint}: ${f.current} → ${f.next} replicas in panic: concurrency ${p} over ${c.panicWindowSeconds} s at target ${c.targetConcurrency} asks for ${f.want}${cap}`;
    case AutoscalerReasons.ScaleDownStabilised:
      return `${f.endpoint}: ${f.current} → ${f.next} replicas: average concurrency ${s} over ${c.stableWindowSeconds} s asks for ${f.want}${cap}`;
    case AutoscalerReasons.ScaleToZero:
      return `${f.endpoint}: scaled to zero after ${Math.round(f.idleMs / 1000)} s without traffic`;
    case AutoscalerReasons.HeldByMaxReplicas:
      return `${f.endpoint}: the load asks for ${f.want} replicas; held at maxReplicas ${c.maxReplicas}`;
    case AutoscalerReasons.HeldByMinReplicas:
      return `${f.endpoint}: the load asks for ${f.want} replicas; held at minReplicas ${c.minReplicas}`;
    case AutoscalerReasons.HeldByPanic:
      return `${f.endpoint}: the load asks for ${f.want} replicas; panic mode keeps ${f.next} until ${c.stableWindowSeconds} s pass without a burst`;
    case AutoscalerReasons.HeldByScaleDownDelay:
      return `${f.endpoint}: the load asks for ${f.want} replicas; ${f.next} were wanted within the last ${c.scaleDownDelaySeconds} s (scaleDownDelaySeconds)`;
    case AutoscalerReasons.HeldByScaleToZeroGrace:
      return `${f.endpoint}: no load for ${Math.round(f.idleMs / 1000)} s; keeping the last replica until ${Math.max(c.stableWindowSeconds, c.scaleToZeroGracePeriodSeconds)} s without traffic`;
    case AutoscalerReasons.PanicStarted:
      return `${f.endpoint}: panic: concurrency ${p} over ${c.panicWindowSeconds} s is at least ${c.panicThresholdPercent} % of ready capacity; no scale-down until it passes`;
    case AutoscalerReasons.PanicEnded:
      return `${f.endpoint}: panic over after ${c.stableWindowSeconds} s without a burst; following the stable window again`;
    case AutoscalerReasons.ActivateFromZero:
    case AutoscalerReasons.ScaleFailed:
      return `${f.endpoint}: ${reason}`;
  }
}
