/**
 * The autoscaler's decision log: every decision that changes the replica count, or that a limit
 * holds back from changing it, recorded with the inputs it was made from and a reason constant.
 * The log is a ring buffer of fixed capacity per endpoint, so it never grows with uptime.
 */

/**
 * Why the autoscaler decided what it did. The `ScaleUp*`, `ScaleDown*`, `ScaleToZero` and
 * `ActivateFromZero` reasons change the replica count; the `Held*` reasons name the limit that
 * kept the count where it was although the load asked for another one.
 */
export const AutoscalerReasons = {
  /** Stable mode: the average concurrency over the stable window needs more replicas. */
  ScaleUpStable: 'ScaleUpStable',
  /** Panic mode: a burst over the panic window needs more replicas now. */
  ScaleUpPanic: 'ScaleUpPanic',
  /** Fewer replicas, after the stable window average and the scale-down delay both allow it. */
  ScaleDownStabilised: 'ScaleDownStabilised',
  /** The last replica was removed: no traffic for the stable window and the grace period. */
  ScaleToZero: 'ScaleToZero',
  /** A request arrived while no replica was wanted; one is being started for it. */
  ActivateFromZero: 'ActivateFromZero',
  /** The load asks for more than maxReplicas. */
  HeldByMaxReplicas: 'HeldByMaxReplicas',
  /** The load asks for fewer than minReplicas. */
  HeldByMinReplicas: 'HeldByMinReplicas',
  /** The load asks for fewer replicas, but panic mode never scales down. */
  HeldByPanic: 'HeldByPanic',
  /** The load asks for fewer replicas, but a higher count was wanted within scaleDownDelaySeconds. */
  HeldByScaleDownDelay: 'HeldByScaleDownDelay',
  /** The load asks for zero replicas, but the last traffic is more recent than the idle period. */
  HeldByScaleToZeroGrace: 'HeldByScaleToZeroGrace',
  /** Panic mode began without changing the count (a change would carry its own reason). */
  PanicStarted: 'PanicStarted',
  /** Panic mode ended without changing the count. */
  PanicEnded: 'PanicEnded',
  /** The scale callback rejected; the autoscaler retries on the next tick. */
  ScaleFailed: 'ScaleFailed',
} as const;

export type AutoscalerReason = (typeof AutoscalerReasons)[keyof typeof AutoscalerReasons];

/** `stable` follows the stable-window average; `panic` follows the panic window and never scales down. */
export type AutoscalerMode = 'stable' | 'panic';

/** The replica bound that cut a decision short. */
export type AutoscalerLimit = 'minReplicas' | 'maxReplicas';

/** One recorded decision with its inputs. Plain JSON-safe data. */
export interface AutoscalerEvent {
  /** Increases by one per recorded event of this autoscaler, from 1; survives ring wrap-around. */
  readonly seq: number;
  readonly endpoint: string;
  /** When the decision was first made (Clock.now(), ms since the epoch). */
  readonly atMs: number;
  /** When it was last repeated; equals atMs unless `count` > 1. */
  readonly lastAtMs: number;
  /** How many consecutive ticks made this same decision (holds and failures repeat; changes do not). */
  readonly count: number;
  readonly reason: AutoscalerReason;
  readonly mode: AutoscalerMode;
  /** The mode before this decision; differs from `mode` on the tick that entered or left panic. */
  readonly previousMode: AutoscalerMode;
  /** Average concurrency (in-flight + queued requests) over the stable window. */
  readonly stableConcurrency: number;
  /** Average concurrency over the panic window. */
  readonly panicConcurrency: number;
  readonly targetConcurrency: number;
  /** Replicas ready to serve, as the sampler reported. */
  readonly readyReplicas: number;
  /** The replica count the autoscaler had asked for before this decision. */
  readonly currentReplicas: number;
  /** What the load alone asks for: ⌈concurrency / target⌉ over the window of the mode. */
  readonly wantedReplicas: number;
  /** What the autoscaler asks for after panic, delay, grace and min/max. */
  readonly desiredReplicas: number;
  /** Set when minReplicas or maxReplicas cut the decision short. */
  readonly limitedBy?: AutoscalerLimit;
  /** Milliseconds since the last traffic (a non-zero sample, an arrival or an activation). */
  readonly idleMs: number;
  /** One sentence for people, e.g. in `slipway events`. */
  readonly message: string;
}

/** What a caller supplies; the log assigns seq, count and lastAtMs. */
export type AutoscalerEventInput = Omit<AutoscalerEvent, 'seq' | 'count' | 'lastAtMs'>;

export interface DecisionLogQuery {
  /** Only events with seq greater than this (for polling). */
  readonly afterSeq?: number;
  /** At most this many, the newest. */
  readonly limit?: number;
}

/** A bounded ring buffer of {@link AutoscalerEvent}s, oldest first. */
export interface DecisionLog {
  readonly capacity: number;
  /** Appends an event, dropping the oldest when full; returns the stored event. */
  append(event: AutoscalerEventInput): AutoscalerEvent;
  /** Marks the newest event as made again at `atMs` (count + 1). Returns false when the log is empty. */
  repeatLast(atMs: number): boolean;
  /** The newest event, or undefined. */
  last(): AutoscalerEvent | undefined;
  /** The retained events, oldest first, as frozen copies. */
  events(query?: DecisionLogQuery): AutoscalerEvent[];
  size(): number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Creates a {@link DecisionLog} holding at most `capacity` events (≥ 1). */
export function createDecisionLog(capacity: number): DecisionLog {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a whole number ≥ 1, got ${capacity}`);
  const ring: (Mutable<AutoscalerEvent> | undefined)[] = new Array<Mutable<AutoscalerEvent> | undefined>(capacity).fill(undefined);
  let next = 0; // slot the next event goes to
  let size = 0;
  let seq = 0;

  const newest = (): Mutable<AutoscalerEvent> | undefined => (size === 0 ? undefined : ring[(next - 1 + capacity) % capacity]);
  const copy = (e: AutoscalerEvent): AutoscalerEvent => Object.freeze({ ...e });

  return {
    capacity,
    append(input) {
      const event: Mutable<AutoscalerEvent> = { seq: ++seq, ...input, lastAtMs: input.atMs, count: 1 };
      ring[next] = event;
      next = (next + 1) % capacity;
      size = Math.min(capacity, size + 1);
      return copy(event);
    },
    repeatLast(atMs) {
      const e = newest();
      if (e === undefined) return false;
      e.count++;
      e.lastAtMs = atMs;
      return true;
    },
    last() {
      const e = newest();
      return e === undefined ? undefined : copy(e);
    },
    events(query = {}) {
      const out: AutoscalerEvent[] = [];
      for (let i = 0; i < size; i++) {
        const e = ring[(next - size + i + capacity) % capacity];
        if (e !== undefined && (query.afterSeq === undefined || e.seq > query.afterSeq)) out.push(copy(e));
      }
      return query.limit === undefined ? out : out.slice(Math.max(0, out.length - query.limit));
    },
    size: () => size,
  };
}
