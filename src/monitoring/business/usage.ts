/**
 * Usage accounting: how many CPU-seconds each deployed version used, measured rather than guessed.
 *
 * Node 20 has no per-thread CPU clock, and onnxruntime runs in worker threads, so the meter reads
 * what it can measure — the whole process's CPU time (`process.cpuUsage()`, user + system, every
 * thread included) — every `sampleIntervalSeconds`, and apportions each interval's CPU-seconds
 * among the versions by their share of replica busy time in that interval. An interval in which no
 * version ran is **unattributed** (idle work, background chores) and reported as such, not hidden.
 *
 * Cumulative figures are kept per version, plus a bounded ring of snapshots (one per
 * `snapshotIntervalSeconds`, 60 by default, for `historyHours`) from which the CPU-seconds of any
 * window are computed; window edges fall on the latest snapshot (or sample) at or before them.
 */
import { silentLogger, systemClock, toPlatformError, type Clock, type Logger, type TimerHandle } from '../../core/index.js';

/** One replica's (or one version's) cumulative busy time, as the deployments count it. */
export interface BusyReading {
  readonly endpoint: string;
  readonly model: string;
  readonly version: number;
  /**
   * Seconds spent running the model since the replica (or version) started: cumulative, and reset
   * to zero when it restarts or reloads. A reading lower than the last one is taken as such a restart.
   */
  readonly busySeconds: number;
  /**
   * The replica's id, when readings are given per replica (preferred): a replica removed by a
   * scale-down then simply disappears, instead of looking like a restart of the whole version.
   */
  readonly replica?: string;
}

/** Process CPU time in microseconds, as `process.cpuUsage()` returns it. */
export interface CpuTimes {
  readonly user: number;
  readonly system: number;
}

export interface UsageMeterOptions {
  /**
   * Cumulative busy time of every deployed replica or version now. Called once per sample, and the
   * CPU is read as soon as it answers; give readings synchronously where possible, and answer fast.
   */
  busy(): readonly BusyReading[] | PromiseLike<readonly BusyReading[]>;
  /** The process's cumulative CPU time. Default `process.cpuUsage`. */
  readonly cpuUsage?: () => CpuTimes;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Default 10. */
  readonly sampleIntervalSeconds?: number;
  /** How long snapshots are kept. Default 168 (a week). */
  readonly historyHours?: number;
  /** One snapshot per this many seconds (at the first sample after it is due). Default 60. */
  readonly snapshotIntervalSeconds?: number;
}

/** A deployed version of an endpoint. */
export interface VersionKey {
  readonly endpoint: string;
  readonly model: string;
  readonly version: number;
}

export interface VersionCpu extends VersionKey {
  readonly cpuSeconds: number;
}

/** Cumulative usage since the meter started. */
export interface UsageTotals {
  /** When the meter took its first sample, ms since the epoch. */
  readonly startedAt: number;
  /** When it took its latest sample. */
  readonly sampledAt: number;
  /** Every version ever seen, with its attributed CPU-seconds (0 for one that never ran). */
  readonly versions: readonly VersionCpu[];
  /** CPU-seconds of intervals in which no version was busy. */
  readonly unattributedCpuSeconds: number;
  /** All process CPU-seconds measured: attributed + unattributed. */
  readonly processCpuSeconds: number;
}

/** The CPU-seconds of a window [since, until). */
export interface UsageWindow {
  readonly since: number;
  /** null: up to now. */
  readonly until: number | null;
  /**
   * The span actually measured: from the latest snapshot at or before `since` (or the oldest one
   * kept) to the latest snapshot or sample at or before `until`. null when nothing was measured in
   * the window (it ends before the meter started).
   */
  readonly measuredSince: number | null;
  readonly measuredUntil: number | null;
  /** False when the window starts before the oldest snapshot kept (the meter started later, or history was dropped). */
  readonly complete: boolean;
  /** Versions with CPU-seconds in the window (> 0), by endpoint, model and version. */
  readonly versions: readonly VersionCpu[];
  readonly unattributedCpuSeconds: number;
  readonly processCpuSeconds: number;
}

export interface UsageMeterStats {
  readonly samples: number;
  readonly snapshots: number;
  /** Versions ever seen. */
  readonly versions: number;
  /** Busy readings lower than the previous one: restarts and reloads. */
  readonly busyResets: number;
  /** Samples whose busy readings could not be read (their CPU counts as unattributed). */
  readonly failures: number;
}

/** The usage meter; see {@link createUsageMeter}. */
export interface UsageMeter {
  /** Takes a sample now (the timer does this every `sampleIntervalSeconds`); synchronous when `busy` is. Never rejects. */
  sample(): Promise<void>;
  totals(): UsageTotals;
  /** CPU-seconds per version in [since, until); `until` undefined means up to the latest sample. */
  window(since: number, until?: number): UsageWindow;
  stats(): UsageMeterStats;
  /** What one window edge may be off by, in seconds: the larger of the snapshot and sample intervals. */
  readonly resolutionSeconds: number;
  /** Stops the timer. Idempotent; the figures stay readable. */
  close(): void;
}

interface Point {
  readonly at: number;
  /** Cumulative attributed CPU-seconds by version index (versions seen later are absent: 0). */
  readonly byVersion: Float64Array;
  readonly unattributed: number;
  readonly process: number;
}

const versionKey = (endpoint: string, model: string, version: number): string => `${endpoint}\u0000${model}\u0000${version}`;

const defaultCpuUsage = (): CpuTimes => process.cpuUsage();

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown }).then === 'function';
}

/**
 * Creates the meter, takes its first sample (the baseline: nothing is attributed before it) and
 * starts sampling every `sampleIntervalSeconds`.
 */
export function createUsageMeter(options: UsageMeterOptions): UsageMeter {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const cpuUsage = options.cpuUsage ?? defaultCpuUsage;
  const sampleMs = (options.sampleIntervalSeconds ?? 10) * 1000;
  const snapshotMs = (options.snapshotIntervalSeconds ?? 60) * 1000;
  const historyMs = (options.historyHours ?? 168) * 3600 * 1000;
  // enough snapshots to cover the whole history, plus the one at or before its start
  const capacity = Math.ceil(historyMs / snapshotMs) + 1;

  const keys: VersionKey[] = [];
  const indexOf = new Map<string, number>();
  const cumulative: number[] = [];
  let unattributed = 0;
  let processTotal = 0;

  let lastCpuMicros: number | undefined;
  /** The last busy reading by version and replica. */
  let lastBusy = new Map<string, number>();
  const snapshots: Point[] = [];
  let startedAt = 0;
  let sampledAt = 0;
  const counters = { samples: 0, busyResets: 0, failures: 0 };
  let timer: TimerHandle | undefined;
  let closed = false;

  const intern = (endpoint: string, model: string, version: number): number => {
    const k = versionKey(endpoint, model, version);
    let i = indexOf.get(k);
    if (i === undefined) {
      i = keys.length;
      keys.push({ endpoint, model, version });
      cumulative.push(0);
      indexOf.set(k, i);
    }
    return i;
  };

  /** Busy seconds per version index in the interval since the last sample; updates the readings. */
  const busyDeltas = (readings: readonly BusyReading[], first: boolean): Map<number, number> => {
    const deltas = new Map<number, number>();
    const next = new Map<string, number>();
    const versionOf = new Map<string, number>();
    for (const r of readings) {
      if (!Number.isFinite(r.busySeconds) || r.busySeconds < 0) continue;
      const k = `${versionKey(r.endpoint, r.model, r.version)}\u0000${r.replica ?? ''}`;
      versionOf.set(k, intern(r.endpoint, r.model, r.version));
      // several readings under one key add up, as one version's replicas would
      next.set(k, (next.get(k) ?? 0) + r.busySeconds);
    }
    for (const [k, current] of next) {
      const previous = lastBusy.get(k);
      let delta: number;
      // A key first seen after the baseline was not deployed at the last sample, so all its busy
      // time falls in this interval. A lower reading than the last is a restart from zero.
      if (previous === undefined) delta = first ? 0 : current;
      else if (current < previous) {
        counters.busyResets++;
        delta = current;
      } else delta = current - previous;
      const i = versionOf.get(k);
      if (delta > 0 && i !== undefined) deltas.set(i, (deltas.get(i) ?? 0) + delta);
    }
    // keys that are gone are forgotten: a version loaded again later starts from zero
    lastBusy = next;
    return deltas;
  };

  const point = (at: number): Point => ({ at, byVersion: Float64Array.from(cumulative), unattributed, process: processTotal });

  /** Apportions the CPU since the last sample by the busy readings; undefined readings: they could not be read. */
  const record = (readings: readonly BusyReading[] | undefined, error?: unknown): void => {
    // CPU is read right after the busy readings, so that both describe the same interval
    const now = Math.max(clock.now(), sampledAt);
    const first = lastCpuMicros === undefined;
    const cpu = cpuUsage();
    const micros = cpu.user + cpu.system;
    const cpuSeconds = first ? 0 : Math.max(0, micros - (lastCpuMicros ?? micros)) / 1e6;
    lastCpuMicros = micros;

    let deltas: Map<number, number> | undefined;
    if (readings === undefined) {
      counters.failures++;
      // the last readings stay: the next ones are compared with them, and split the next interval's CPU
      logger.warn({ err: toPlatformError(error).message }, 'reading replica busy time failed; this interval\'s CPU counts as unattributed');
    } else deltas = busyDeltas(readings, first);
    let busyTotal = 0;
    for (const d of deltas?.values() ?? []) busyTotal += d;
    if (deltas !== undefined && busyTotal > 0) {
      for (const [i, d] of deltas) cumulative[i] = (cumulative[i] ?? 0) + (cpuSeconds * d) / busyTotal;
    } else {
      unattributed += cpuSeconds;
    }
    processTotal += cpuSeconds;
    counters.samples++;
    if (first) startedAt = now;
    sampledAt = now;

    const last = snapshots[snapshots.length - 1];
    if (last === undefined || now - last.at >= snapshotMs) {
      snapshots.push(point(now));
      if (snapshots.length > capacity) snapshots.splice(0, snapshots.length - capacity);
    }
  };

  /** Takes a sample; answers a promise only when `busy` did, so a synchronous sample completes at once. */
  const sampleNow = (): Promise<void> | undefined => {
    let readings: readonly BusyReading[] | PromiseLike<readonly BusyReading[]>;
    try {
      readings = options.busy();
    } catch (error) {
      record(undefined, error);
      return undefined;
    }
    if (!isPromiseLike(readings)) {
      record(readings);
      return undefined;
    }
    return Promise.resolve(readings).then(
      (r) => record(r),
      (error: unknown) => record(undefined, error),
    );
  };

  /** Samples, then arms the next sample once this one is done: a slow busy() never overlaps itself. */
  const sampleAndArm = (): void => {
    const pending = sampleNow();
    if (pending === undefined) arm();
    else {
      void pending
        .catch((error: unknown) => {
          counters.failures++;
          logger.warn({ err: toPlatformError(error).message }, 'CPU usage sample failed');
        })
        .finally(arm);
    }
  };

  const arm = (): void => {
    if (closed) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      sampleAndArm();
    }, sampleMs);
  };

  /** The latest point at or before t: the live figures from t = the latest sample on, else a snapshot. */
  const pointAtOrBefore = (t: number): Point | undefined => {
    if (t >= sampledAt) return point(sampledAt);
    let lo = 0;
    let hi = snapshots.length - 1;
    let found: Point | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const p = snapshots[mid];
      if (p === undefined) break;
      if (p.at <= t) {
        found = p;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };

  sampleAndArm();

  return {
    sample: () => sampleNow() ?? Promise.resolve(),
    resolutionSeconds: Math.max(sampleMs, snapshotMs) / 1000,

    totals: () => ({
      startedAt,
      sampledAt,
      versions: keys.map((k, i) => ({ ...k, cpuSeconds: cumulative[i] ?? 0 })),
      unattributedCpuSeconds: unattributed,
      processCpuSeconds: processTotal,
    }),

    window(since, until) {
      const to = until === undefined ? point(sampledAt) : pointAtOrBefore(until);
      const oldest = snapshots[0];
      if (to === undefined || oldest === undefined) {
        return { since, until: until ?? null, measuredSince: null, measuredUntil: null, complete: false, versions: [], unattributedCpuSeconds: 0, processCpuSeconds: 0 };
      }
      const start = pointAtOrBefore(since);
      const from = start ?? oldest;
      const versions: VersionCpu[] = [];
      keys.forEach((k, i) => {
        const cpuSeconds = (to.byVersion[i] ?? 0) - (from.byVersion[i] ?? 0);
        if (cpuSeconds > 0) versions.push({ ...k, cpuSeconds });
      });
      return {
        since,
        until: until ?? null,
        measuredSince: from.at,
        measuredUntil: to.at,
        complete: start !== undefined,
        versions,
        unattributedCpuSeconds: to.unattributed - from.unattributed,
        processCpuSeconds: to.process - from.process,
      };
    },

    stats: () => ({ ...counters, snapshots: snapshots.length, versions: keys.length }),

    close() {
      closed = true;
      timer?.cancel();
      timer = undefined;
    },
  };
}
