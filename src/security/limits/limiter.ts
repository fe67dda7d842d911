/**
 * The request limiter: per request, the rate limit and quota of the API key and those of the
 * endpoint, and the throttle of a caller that abuse detection flags on that endpoint. A request
 * spends from every bucket and quota that applies only when all of them allow it, so a refusal by
 * one never drains another.
 */
import type { Clock, PlatformError } from '../../core/index.js';
import { LimitErrors } from './errors.js';
import { applyLimitOverrides, compileLimitOptions, endpointLimits, UNLIMITED_LIMITS, type LimitOptions, type LimitOverrides, type LimitsConfig, type LimitSpec } from './options.js';
import { createQuotas, type QuotaResult } from './quotas.js';
import { createTokenBuckets, type TakeResult } from './token-buckets.js';

/** Whose limit refused a request. */
export type LimitScope = 'key' | 'endpoint';
/** Which limit refused it. */
export type LimitKind = 'rate' | 'quota';

/** One request, as the limiter sees it. */
export interface LimitRequest {
  /** The API key the request acts as (the name shown in messages and the key its limits are kept under); null: no key limits apply. */
  readonly principal: string | null;
  /** The endpoint called; null: no endpoint limits apply (a request outside inference, say). */
  readonly endpoint: string | null;
  /** The key's own limits, overriding the key default field by field; absent or null: the default. */
  readonly keyLimits?: LimitOverrides | LimitSpec | null;
  /**
   * A throttle on this caller at this endpoint, set while abuse detection flags it (docs/security.md,
   * Abuse detection): a token bucket of its own, checked with the others; absent or null: none.
   */
  readonly throttle?: LimitThrottle | null;
}

/** The rate a caller flagged by abuse detection keeps on one endpoint. */
export interface LimitThrottle {
  /** Who is throttled (`key:<name>`, `jwt:<subject>`, `ip:<address>`): named in the message, and its bucket's key. */
  readonly caller: string;
  readonly endpoint: string;
  /** Requests per second (burst: the rate rounded up, at least 1). */
  readonly ratePerSecond: number;
  /** Why: a suspected model-extraction attack. */
  readonly reason: 'extraction';
}

/** Counters for metrics. */
export interface LimiterSnapshot {
  /** Requests that passed every limit. */
  readonly allowed: number;
  /** Refused requests by the limit named in their error (one per request). */
  readonly refused: { readonly [S in LimitScope]: { readonly [K in LimitKind]: number } };
  /** Token buckets and quota counters held in memory. */
  readonly buckets: number;
  readonly counters: number;
  /** Requests refused by an abuse-detection throttle (SECURITY_LIMIT_EXTRACTION), not counted in `refused`. */
  readonly throttled: number;
}

/** Checks requests against their key's and endpoint's limits. */
export interface RequestLimiter {
  /**
   * Spends one request from every limit that applies when all allow it and returns undefined;
   * otherwise spends nothing and returns the error to answer with (kind `limited`,
   * `retryAfterSeconds` set, `details` naming the scope, name and limit). When several limits
   * refuse, the error names the one that frees up last.
   */
  check(request: LimitRequest): PlatformError | undefined;
  snapshot(): LimiterSnapshot;
}

export interface RequestLimiterOptions {
  readonly clock: Clock;
  /** The limits (compiled, or options compiled here); default: everything unlimited. */
  readonly config?: LimitsConfig | LimitOptions;
  /** Most token buckets kept; default 100,000. */
  readonly maxBuckets?: number;
  /** Most quota counters kept; default 100,000. */
  readonly maxCounters?: number;
}

interface Applicable {
  readonly scope: LimitScope;
  readonly name: string;
  readonly spec: LimitSpec;
  readonly id: string;
  /** Set for an abuse-detection throttle. */
  readonly throttle?: LimitThrottle;
}

type Refusal = { readonly at: Applicable; readonly limit: 'rate'; readonly result: TakeResult } | { readonly at: Applicable; readonly limit: 'quota'; readonly result: QuotaResult };

/** Creates a request limiter; it keeps its buckets and counters in memory. */
export function createRequestLimiter(options: RequestLimiterOptions): RequestLimiter {
  const { clock } = options;
  const config = compileLimitOptions(options.config);
  const buckets = createTokenBuckets({ clock, ...(options.maxBuckets === undefined ? {} : { maxBuckets: options.maxBuckets }) });
  const quotas = createQuotas({ clock, ...(options.maxCounters === undefined ? {} : { maxCounters: options.maxCounters }) });
  let allowed = 0;
  let throttled = 0;
  const refused = { key: { rate: 0, quota: 0 }, endpoint: { rate: 0, quota: 0 } };

  const NONE: readonly Applicable[] = [];
  const limited = (spec: LimitSpec): boolean => spec.ratePerSecond > 0 || spec.quota.limit > 0;

  /** The limits that bind this request; none (and nothing allocated) when everything is unlimited, the default. */
  function applicable(request: LimitRequest): readonly Applicable[] {
    let out: Applicable[] | undefined;
    if (request.principal !== null) {
      const spec = applyLimitOverrides(config.keys, request.keyLimits);
      if (limited(spec)) (out ??= []).push({ scope: 'key', name: request.principal, spec, id: `key:${request.principal}` });
    }
    if (request.endpoint !== null) {
      const spec = endpointLimits(config, request.endpoint);
      if (limited(spec)) (out ??= []).push({ scope: 'endpoint', name: request.endpoint, spec, id: `endpoint:${request.endpoint}` });
    }
    const throttle = request.throttle;
    if (throttle !== undefined && throttle !== null && throttle.ratePerSecond > 0) {
      (out ??= []).push({
        scope: 'key',
        name: throttle.caller,
        spec: { ratePerSecond: throttle.ratePerSecond, burst: Math.max(1, Math.ceil(throttle.ratePerSecond)), quota: UNLIMITED_LIMITS.quota },
        id: `throttle:${throttle.caller}\u0000${throttle.endpoint}`,
        throttle,
      });
    }
    return out ?? NONE;
  }

  return {
    check(request) {
      const limits = applicable(request);
      let worst: Refusal | undefined;
      for (const at of limits) {
        if (at.spec.ratePerSecond > 0) {
          const result = buckets.peek(at.id, at.spec);
          if (!result.allowed && (worst === undefined || result.retryAfterSeconds > worst.result.retryAfterSeconds)) worst = { at, limit: 'rate', result };
        }
        if (at.spec.quota.limit > 0) {
          const result = quotas.peek(at.id, at.spec.quota);
          if (!result.allowed && (worst === undefined || result.retryAfterSeconds > worst.result.retryAfterSeconds)) worst = { at, limit: 'quota', result };
        }
      }
      if (worst !== undefined) {
        if (worst.at.throttle !== undefined) throttled += 1;
        else refused[worst.at.scope][worst.limit] += 1;
        return refusalError(worst);
      }
      for (const at of limits) {
        if (at.spec.ratePerSecond > 0) buckets.take(at.id, at.spec);
        if (at.spec.quota.limit > 0) quotas.take(at.id, at.spec.quota);
      }
      allowed += 1;
      return undefined;
    },
    snapshot: () => ({
      allowed,
      refused: { key: { ...refused.key }, endpoint: { ...refused.endpoint } },
      buckets: buckets.size(),
      counters: quotas.size(),
      throttled,
    }),
  };
}

function requests(n: number): string {
  return n === 1 ? 'request' : 'requests';
}

function refusalError(refusal: Refusal): PlatformError {
  const { scope, name, spec } = refusal.at;
  const who = `${scope} ${JSON.stringify(name)}`;
  const retryAfterSeconds = refusal.result.retryAfterSeconds;
  const throttle = refusal.at.throttle;
  if (throttle !== undefined) {
    return LimitErrors.SECURITY_LIMIT_EXTRACTION(
      `${JSON.stringify(throttle.caller)} is throttled to ${throttle.ratePerSecond} ${requests(throttle.ratePerSecond)}/s on endpoint ${JSON.stringify(throttle.endpoint)}: its queries look like a model-extraction attack (abuse detection); retry in ${retryAfterSeconds} s`,
      { retryAfterSeconds, details: { scope, name, endpoint: throttle.endpoint, limit: 'extraction', reason: throttle.reason, ratePerSecond: throttle.ratePerSecond, burst: spec.burst } },
    );
  }
  if (refusal.limit === 'rate') {
    return LimitErrors.SECURITY_LIMIT_RATE(
      `${who} is over its rate limit of ${spec.ratePerSecond} ${requests(spec.ratePerSecond)}/s (burst ${spec.burst}); retry in ${retryAfterSeconds} s`,
      { retryAfterSeconds, details: { scope, name, limit: 'rate', ratePerSecond: spec.ratePerSecond, burst: spec.burst } },
    );
  }
  const { limit, period } = spec.quota;
  const resetsAt = new Date(refusal.result.resetsAt).toISOString();
  return LimitErrors.SECURITY_LIMIT_QUOTA(
    `${who} is over its quota of ${limit} ${requests(limit)} per ${period} (${refusal.result.used} used; resets at ${resetsAt}); retry in ${retryAfterSeconds} s`,
    { retryAfterSeconds, details: { scope, name, limit: 'quota', quota: limit, period, used: refusal.result.used, resetsAt } },
  );
}
