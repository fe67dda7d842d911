/**
 * Request quotas over fixed calendar windows in UTC (the current minute, hour or day): a counter
 * per key, reset when its window ends. Counters live in memory, bounded in number; past the bound
 * the least recently used go first, and among the oldest a counter of a window that has ended
 * (equivalent to no counter at all) goes before the others.
 */
import type { Clock } from '../../core/index.js';
import { evictLeastRecent } from '../../core/evict.js';

/** The calendar windows a quota can count over, in UTC. */
export const QUOTA_PERIODS = ['minute', 'hour', 'day'] as const;
export type QuotaPeriod = (typeof QUOTA_PERIODS)[number];

/** A quota: at most `limit` requests per calendar `period`. */
export interface QuotaSpec {
  /** Requests allowed per window; 0 (or less) means no quota: every take passes and nothing is stored. */
  readonly limit: number;
  readonly period: QuotaPeriod;
}

/** The outcome of {@link Quotas.take} or {@link Quotas.peek}. */
export interface QuotaResult {
  readonly allowed: boolean;
  /** Requests counted in the current window, this one included when allowed (0 without a quota). */
  readonly used: number;
  readonly limit: number;
  /** When the current window ends and the count starts again, ms since the epoch. */
  readonly resetsAt: number;
  /**
   * 0 when allowed. When refused, the seconds (rounded up, at least 1) until the window resets;
   * `Infinity` when `cost` exceeds the limit, since such a take can never pass.
   */
  readonly retryAfterSeconds: number;
}

/** Quota counters by key. */
export interface Quotas {
  /** Counts `cost` requests against `key` when they fit in the current window; a refused take counts nothing. */
  take(key: string, spec: QuotaSpec, cost?: number): QuotaResult;
  /** What {@link Quotas.take} would answer now, counting nothing and storing nothing. */
  peek(key: string, spec: QuotaSpec, cost?: number): QuotaResult;
  /** Counters held in memory. */
  size(): number;
}

export interface QuotasOptions {
  readonly clock: Clock;
  /** Most counters kept; default 100,000. */
  readonly maxCounters?: number;
}

const PERIOD_MS: Readonly<Record<QuotaPeriod, number>> = Object.freeze({ minute: 60_000, hour: 3_600_000, day: 86_400_000 });


/** The start of the UTC calendar window holding `nowMs` (epoch time has no leap seconds, so windows are whole multiples). */
export function quotaWindowStart(nowMs: number, period: QuotaPeriod): number {
  const length = PERIOD_MS[period];
  return Math.floor(nowMs / length) * length;
}

/** The end of the UTC calendar window holding `nowMs`, when a quota of `period` resets. */
export function quotaResetsAt(nowMs: number, period: QuotaPeriod): number {
  return quotaWindowStart(nowMs, period) + PERIOD_MS[period];
}

interface Counter {
  windowStart: number;
  period: QuotaPeriod;
  used: number;
}

/** Creates quota counters; they read wall-clock time (`clock.now()`), since windows are calendar ones. */
export function createQuotas(options: QuotasOptions): Quotas {
  const { clock } = options;
  const maxCounters = Math.max(1, Math.floor(options.maxCounters ?? 100_000));
  /** Insertion order is recency order: a counter is re-inserted whenever it is used. */
  const counters = new Map<string, Counter>();

  const isExpired = (c: Counter, nowMs: number): boolean => nowMs >= c.windowStart + PERIOD_MS[c.period];

  function evaluate(key: string, spec: QuotaSpec, cost: number, spend: boolean): QuotaResult {
    const nowMs = clock.now();
    const windowStart = quotaWindowStart(nowMs, spec.period);
    const resetsAt = windowStart + PERIOD_MS[spec.period];
    if (!(spec.limit > 0)) return { allowed: true, used: 0, limit: spec.limit, resetsAt, retryAfterSeconds: 0 };
    const existing = counters.get(key);
    const current = existing !== undefined && existing.windowStart === windowStart && existing.period === spec.period;
    const before = current ? existing.used : 0;
    const allowed = before + cost <= spec.limit;
    const used = allowed ? before + cost : before;
    if (spend && (existing !== undefined || allowed)) {
      if (existing !== undefined) counters.delete(key);
      counters.set(key, { windowStart, period: spec.period, used });
      if (existing === undefined) evictLeastRecent(counters, maxCounters, key, (v) => isExpired(v, nowMs));
    }
    if (allowed) return { allowed, used, limit: spec.limit, resetsAt, retryAfterSeconds: 0 };
    const retryAfterSeconds = cost > spec.limit ? Number.POSITIVE_INFINITY : Math.max(1, Math.ceil((resetsAt - nowMs) / 1000));
    return { allowed, used, limit: spec.limit, resetsAt, retryAfterSeconds };
  }

  return {
    take: (key, spec, cost = 1) => evaluate(key, spec, cost, true),
    peek: (key, spec, cost = 1) => evaluate(key, spec, cost, false),
    size: () => counters.size,
  };
}
