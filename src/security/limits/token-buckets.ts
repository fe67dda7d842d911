/**
 * Token buckets keyed by string, refilled lazily from the clock's monotonic reading: no timers, and
 * a bucket costs memory only while it differs from a new one. The number of buckets is bounded;
 * past the bound the least recently used go first, and among the oldest a bucket that has refilled
 * to full (which is equivalent to a new one, so forgetting it loses nothing) goes before the others.
 */
import type { Clock } from '../../core/index.js';
import { evictLeastRecent } from '../../core/evict.js';

/** How fast a bucket refills and how much it holds. */
export interface RateSpec {
  /** Tokens added per second; 0 (or less) means unlimited: every take passes and nothing is stored. */
  readonly ratePerSecond: number;
  /** Most tokens the bucket holds, so most requests that pass at once; 0 means the rate rounded up (at least 1). */
  readonly burst: number;
}

/** The outcome of {@link TokenBuckets.take} or {@link TokenBuckets.peek}. */
export interface TakeResult {
  readonly allowed: boolean;
  /** Whole tokens left after the take (before it, when refused); `Infinity` when unlimited. */
  readonly remaining: number;
  /**
   * 0 when allowed. When refused, the seconds (rounded up, at least 1) until `cost` tokens are
   * available; `Infinity` when `cost` exceeds the burst, since such a take can never pass.
   */
  readonly retryAfterSeconds: number;
}

/** Token buckets by key. */
export interface TokenBuckets {
  /** Spends `cost` tokens of the bucket `key` when it holds them; a refused take spends nothing. */
  take(key: string, spec: RateSpec, cost?: number): TakeResult;
  /** What {@link TokenBuckets.take} would answer now, spending nothing and storing nothing. */
  peek(key: string, spec: RateSpec, cost?: number): TakeResult;
  /** Buckets held in memory. */
  size(): number;
}

export interface TokenBucketsOptions {
  readonly clock: Clock;
  /** Most buckets kept; default 100,000. */
  readonly maxBuckets?: number;
}

/** Tolerance for floating-point refill arithmetic (a token short by 1e-12 is a whole token). */
const EPSILON = 1e-9;

interface Bucket {
  tokens: number;
  atMs: number;
  ratePerSecond: number;
  burst: number;
}

/** The burst a spec stands for: its own, or the rate rounded up (at least 1) when 0. */
export function effectiveBurst(spec: RateSpec): number {
  return spec.burst > 0 ? spec.burst : Math.max(1, Math.ceil(spec.ratePerSecond));
}

const UNLIMITED: TakeResult = Object.freeze({ allowed: true, remaining: Number.POSITIVE_INFINITY, retryAfterSeconds: 0 });

/**
 * Creates token buckets. A new key starts with a full bucket (`burst` tokens). The spec is passed
 * with every take, so a key whose limits change gets the new ones at once (tokens above a smaller
 * burst are dropped).
 */
export function createTokenBuckets(options: TokenBucketsOptions): TokenBuckets {
  const { clock } = options;
  const maxBuckets = Math.max(1, Math.floor(options.maxBuckets ?? 100_000));
  /** Insertion order is recency order: a bucket is re-inserted whenever it is used. */
  const buckets = new Map<string, Bucket>();

  const tokensAt = (b: Bucket, nowMs: number, ratePerSecond: number, burst: number): number =>
    Math.min(burst, b.tokens + (Math.max(0, nowMs - b.atMs) * ratePerSecond) / 1000);

  const isFull = (b: Bucket, nowMs: number): boolean => tokensAt(b, nowMs, b.ratePerSecond, b.burst) + EPSILON >= b.burst;

  function evaluate(key: string, spec: RateSpec, cost: number, spend: boolean): TakeResult {
    if (!(spec.ratePerSecond > 0)) return UNLIMITED;
    const burst = effectiveBurst(spec);
    const nowMs = clock.monotonicMs();
    const existing = buckets.get(key);
    const tokens = existing === undefined ? burst : tokensAt(existing, nowMs, spec.ratePerSecond, burst);
    const allowed = tokens + EPSILON >= cost;
    const after = allowed ? Math.max(0, tokens - cost) : tokens;
    if (spend && (existing !== undefined || allowed)) {
      if (existing !== undefined) buckets.delete(key);
      buckets.set(key, { tokens: after, atMs: nowMs, ratePerSecond: spec.ratePerSecond, burst });
      if (existing === undefined) evictLeastRecent(buckets, maxBuckets, key, (v) => isFull(v, nowMs));
    }
    const remaining = Math.floor(after + EPSILON);
    if (allowed) return { allowed, remaining, retryAfterSeconds: 0 };
    const retryAfterSeconds = cost > burst ? Number.POSITIVE_INFINITY : Math.max(1, Math.ceil((cost - tokens) / spec.ratePerSecond - EPSILON));
    return { allowed, remaining, retryAfterSeconds };
  }

  return {
    take: (key, spec, cost = 1) => evaluate(key, spec, cost, true),
    peek: (key, spec, cost = 1) => evaluate(key, spec, cost, false),
    size: () => buckets.size,
  };
}
