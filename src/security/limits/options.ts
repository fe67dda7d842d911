/**
 * Options of request limits, in three stages (user options → with defaults → compiled): every
 * problem reported with its path at once, then frozen. A default for every API key, a default for
 * every endpoint and overrides by endpoint name; everything is unlimited unless set. An API key
 * may carry limits of its own ({@link parseLimitSpec}), which override the key default field by field.
 */
import { ConfigReader, deepFreeze, isValidName, join, NAME_RULE } from '../../core/index.js';
import { QUOTA_PERIODS, type QuotaPeriod, type QuotaSpec } from './quotas.js';

/** A rate limit and a quota, as a user writes them; every key optional, numeric strings accepted. */
export interface LimitSpecOptions {
  /** Requests per second; 0 = unlimited. */
  readonly ratePerSecond?: number | string;
  /** Requests that may pass at once; 0 = the rate rounded up (at least 1). */
  readonly burst?: number | string;
  /** Requests per UTC calendar window; a limit of 0 = no quota. */
  readonly quota?: { readonly limit?: number | string; readonly period?: string } | null;
}

/** What a user may set. */
export interface LimitOptions {
  /** The default for every API key; a key's own limits override it field by field. */
  readonly keys?: LimitSpecOptions | null;
  /** The default for every endpoint. */
  readonly endpoints?: LimitSpecOptions | null;
  /** Overrides by endpoint name, field by field over `endpoints`. */
  readonly perEndpoint?: Readonly<Record<string, LimitSpecOptions | null>> | null;
}

/** One complete, compiled set of limits. */
export interface LimitSpec {
  /** Requests per second; 0 = unlimited. */
  readonly ratePerSecond: number;
  /** Requests that may pass at once; resolved, so ≥ 1 whenever `ratePerSecond` is set (0 when unlimited). */
  readonly burst: number;
  /** A limit of 0 = no quota. */
  readonly quota: QuotaSpec;
}

/**
 * Limits that override a {@link LimitSpec} field by field: what an API key carries. A `quota`
 * replaces the base quota as a whole; a `ratePerSecond` given without a `burst` gets the burst of
 * its own rate (0), not the base's, since a burst is sized for its rate.
 */
export interface LimitOverrides {
  readonly ratePerSecond?: number;
  readonly burst?: number;
  readonly quota?: QuotaSpec;
}

/** The compiled, frozen options. */
export interface LimitsConfig {
  /** Limits of an API key that carries none of its own. */
  readonly keys: LimitSpec;
  /** Limits of an endpoint without an entry in `perEndpoint`. */
  readonly endpoints: LimitSpec;
  /** Complete limits by endpoint name (the `endpoints` values where the override sets none). */
  readonly perEndpoint: Readonly<Record<string, LimitSpec>>;
}

/** No rate limit and no quota. */
export const UNLIMITED_LIMITS: LimitSpec = deepFreeze({ ratePerSecond: 0, burst: 0, quota: { limit: 0, period: 'day' } });

/** The defaults: everything unlimited. */
export const LIMITS_DEFAULTS: LimitsConfig = deepFreeze({ keys: UNLIMITED_LIMITS, endpoints: UNLIMITED_LIMITS, perEndpoint: {} });

const TOP_KEYS = ['keys', 'endpoints', 'perEndpoint'] as const;
const SPEC_KEYS = ['ratePerSecond', 'burst', 'quota'] as const;
const QUOTA_KEYS = ['limit', 'period'] as const;
const SPEC_OPTION_KEYS = ['ratePerSecond', 'burst', 'quota.limit', 'quota.period'] as const;

/**
 * The keys one value can be given for from the environment or a flag, as dotted paths below the
 * section's own path. `perEndpoint` is a mapping by endpoint name: it is set in the YAML file only.
 */
export const LIMIT_OPTION_KEYS: readonly string[] = Object.freeze([...SPEC_OPTION_KEYS.map((k) => `keys.${k}`), ...SPEC_OPTION_KEYS.map((k) => `endpoints.${k}`)]);

/** Highest rate accepted: a rate above it is a typo, not a limit. */
const MAX_RATE = 1_000_000;
const MAX_BURST = 1_000_000_000;
const MAX_QUOTA = 1_000_000_000_000;

/** The base with `overrides` applied field by field, its burst resolved. */
export function applyLimitOverrides(base: LimitSpec, overrides: LimitOverrides | null | undefined): LimitSpec {
  if (overrides === null || overrides === undefined) return base;
  const ratePerSecond = overrides.ratePerSecond ?? base.ratePerSecond;
  const burst = overrides.burst ?? (overrides.ratePerSecond === undefined ? base.burst : 0);
  return {
    ratePerSecond,
    burst: ratePerSecond > 0 ? (burst > 0 ? burst : Math.max(1, Math.ceil(ratePerSecond))) : 0,
    quota: overrides.quota ?? base.quota,
  };
}

/**
 * Reads the fields `value` sets, adding problems to `r`. `baseRate` is the rate an unset
 * `ratePerSecond` falls back to, when known, so that a burst without a rate is reported.
 */
function readOverrides(r: ConfigReader, value: unknown, path: string, baseRate: number | undefined): LimitOverrides {
  const o = r.section(value, path, SPEC_KEYS);
  const out: { ratePerSecond?: number; burst?: number; quota?: QuotaSpec } = {};
  const problemsBefore = r.problems.length;
  if (o.ratePerSecond !== undefined) out.ratePerSecond = r.number(o.ratePerSecond, join(path, 'ratePerSecond'), 0, 0, MAX_RATE);
  if (o.burst !== undefined) out.burst = r.integer(o.burst, join(path, 'burst'), 0, 0, MAX_BURST);
  if (o.quota !== undefined) {
    const quotaPath = join(path, 'quota');
    const q = r.section(o.quota, quotaPath, QUOTA_KEYS);
    out.quota = {
      limit: r.integer(q.limit, join(quotaPath, 'limit'), 0, 0, MAX_QUOTA),
      period: r.oneOf<QuotaPeriod>(q.period, join(quotaPath, 'period'), 'day', QUOTA_PERIODS),
    };
  }
  const rate = out.ratePerSecond ?? baseRate;
  if (r.problems.length === problemsBefore && out.burst !== undefined && out.burst > 0 && rate === 0) {
    r.problem(join(path, 'burst'), `has no effect while ratePerSecond is 0 (unlimited); set ratePerSecond too, got burst ${out.burst}`);
  }
  return out;
}

/**
 * Reads the limits an API key carries (`{ ratePerSecond, burst, quota: { limit, period } }`, every
 * field optional; null or undefined is none), keeping only the fields set so that the others come
 * from the server's key default ({@link applyLimitOverrides}). With a `reader`, problems are added
 * to it by path (and the fields with problems left out); without one, CORE_INVALID_CONFIG is
 * thrown listing them all.
 */
export function parseLimitSpec(value: unknown, path: string, reader?: ConfigReader): LimitOverrides {
  const r = reader ?? new ConfigReader();
  const before = r.problems.length;
  const read = readOverrides(r, value, path, undefined);
  if (reader === undefined) r.finish(path === '' ? 'limits' : path);
  if (r.problems.length > before) {
    // leave out what failed, so that a caller collecting problems never stores a fallback value
    const failed = r.problems.slice(before).map((p) => p.path);
    const ok = (key: string): boolean => !failed.some((p) => p === join(path, key) || p.startsWith(`${join(path, key)}.`));
    const kept: { ratePerSecond?: number; burst?: number; quota?: QuotaSpec } = {};
    if (read.ratePerSecond !== undefined && ok('ratePerSecond')) kept.ratePerSecond = read.ratePerSecond;
    if (read.burst !== undefined && ok('burst')) kept.burst = read.burst;
    if (read.quota !== undefined && ok('quota')) kept.quota = read.quota;
    return deepFreeze(kept);
  }
  return deepFreeze(read);
}

export interface LimitOptionsContext {
  /** Dotted path of the options in a larger config, prefixed to every problem path. Default ''. */
  readonly path?: string;
  /** What the options are, for the error message. Default `limit options`. */
  readonly what?: string;
}

/**
 * Applies defaults (everything unlimited) and checks every value; throws CORE_INVALID_CONFIG
 * listing all problems by path. A `perEndpoint` entry overrides `endpoints` field by field, as a
 * key's own limits override `keys`. Compiling a compiled {@link LimitsConfig} again yields an equal one.
 */
export function compileLimitOptions(input: LimitOptions | LimitsConfig | Readonly<Record<string, unknown>> | undefined, context: LimitOptionsContext = {}): LimitsConfig {
  const base = context.path ?? '';
  const r = new ConfigReader();
  const o = r.section(input, base, TOP_KEYS);
  const keys = applyLimitOverrides(UNLIMITED_LIMITS, readOverrides(r, o.keys, join(base, 'keys'), 0));
  const endpoints = applyLimitOverrides(UNLIMITED_LIMITS, readOverrides(r, o.endpoints, join(base, 'endpoints'), 0));
  const perEndpointPath = join(base, 'perEndpoint');
  const perEndpoint: Record<string, LimitSpec> = {};
  for (const [name, value] of Object.entries(r.object(o.perEndpoint, perEndpointPath))) {
    const path = join(perEndpointPath, name);
    if (!isValidName(name)) {
      r.problem(path, `the key must be an endpoint name (${NAME_RULE})`);
      continue;
    }
    perEndpoint[name] = applyLimitOverrides(endpoints, readOverrides(r, value, path, endpoints.ratePerSecond));
  }
  r.finish(context.what ?? 'limit options');
  return deepFreeze({ keys, endpoints, perEndpoint });
}

/** The limits of endpoint `name`: its override, else the endpoint default. */
export function endpointLimits(config: LimitsConfig, name: string): LimitSpec {
  return (Object.hasOwn(config.perEndpoint, name) ? config.perEndpoint[name] : undefined) ?? config.endpoints;
}
