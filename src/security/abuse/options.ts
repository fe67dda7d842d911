/**
 * The `security.abuse` section (docs/security.md, Abuse detection): model-extraction detection per
 * API key and endpoint, its memory bounds, and the optional throttle of a flagged key. Read into the
 * caller's {@link ConfigReader}, so its problems are reported with the rest of the configuration.
 */
import { ConfigReader, deepFreeze, join } from '../../core/index.js';
import { SHAPIRO_WILK_MAX_N } from '../../stats/index.js';

/** The compiled, frozen section. */
export interface AbuseConfig {
  /** Watch every caller's queries per endpoint (PRADA) and raise the gauge, the audit entry and the API's flag. */
  readonly enabled: boolean;
  /** The normality test runs once a caller's distance set D holds more than this many distances (the paper's |D| > 100). */
  readonly minQueries: number;
  /** The test runs again after this many new queries of a caller (1: after every request); it is the costly step. */
  readonly testEvery: number;
  /** The detection threshold δ: a caller is flagged while the Shapiro–Wilk W of its distances is below it. */
  readonly threshold: number;
  /** Most queries kept per caller and endpoint, in the growing set and in the distance window each (oldest leave first). */
  readonly maxQueriesPerKey: number;
  /** Most callers × endpoints tracked at once; past it the least recently seen go first (an unflagged one before a flagged one). */
  readonly maxKeys: number;
  /** Most numbers one query is reduced to: a wider input is averaged in contiguous blocks down to this many. */
  readonly maxFeatures: number;
  /** Limit a flagged caller's requests to that endpoint to `throttleRatePerSecond` (429 SECURITY_LIMIT_EXTRACTION). */
  readonly throttle: boolean;
  /** The rate a flagged caller keeps on the endpoint it is flagged on, requests per second. */
  readonly throttleRatePerSecond: number;
}

/** The defaults (docs/configuration.md). */
export const ABUSE_DEFAULTS: AbuseConfig = deepFreeze({
  enabled: true,
  minQueries: 100,
  testEvery: 20,
  threshold: 0.85,
  maxQueriesPerKey: 1000,
  maxKeys: 256,
  maxFeatures: 32,
  throttle: false,
  throttleRatePerSecond: 1,
});

/** The keys one value can be given for from the environment or a flag, below `security.abuse`. */
export const ABUSE_OPTION_KEYS: readonly string[] = Object.freeze(['enabled', 'minQueries', 'testEvery', 'threshold', 'maxQueriesPerKey', 'maxKeys', 'maxFeatures', 'throttle', 'throttleRatePerSecond']);

/** Reads the section at `path` into `r` (its problems join the reader's) and returns it frozen. */
export function readAbuseOptions(r: ConfigReader, input: unknown, path: string): AbuseConfig {
  const o = r.section(input, path, ABUSE_OPTION_KEYS);
  const d = ABUSE_DEFAULTS;
  const minQueries = r.integer(o.minQueries, join(path, 'minQueries'), d.minQueries, 10, SHAPIRO_WILK_MAX_N - 1);
  const maxQueriesPerKey = r.integer(o.maxQueriesPerKey, join(path, 'maxQueriesPerKey'), d.maxQueriesPerKey, 11, SHAPIRO_WILK_MAX_N);
  if (maxQueriesPerKey <= minQueries) {
    r.problem(join(path, 'maxQueriesPerKey'), `must be larger than minQueries (${minQueries}), or the test never runs; got ${maxQueriesPerKey}`);
  }
  const threshold = r.number(o.threshold, join(path, 'threshold'), d.threshold, 0, 1);
  return deepFreeze({
    enabled: r.boolean(o.enabled, join(path, 'enabled'), d.enabled),
    minQueries,
    testEvery: r.integer(o.testEvery, join(path, 'testEvery'), d.testEvery, 1, 10_000),
    threshold,
    maxQueriesPerKey,
    maxKeys: r.integer(o.maxKeys, join(path, 'maxKeys'), d.maxKeys, 1, 1_000_000),
    maxFeatures: r.integer(o.maxFeatures, join(path, 'maxFeatures'), d.maxFeatures, 1, 4096),
    throttle: r.boolean(o.throttle, join(path, 'throttle'), d.throttle),
    throttleRatePerSecond: readRate(r, o.throttleRatePerSecond, join(path, 'throttleRatePerSecond'), d.throttleRatePerSecond),
  });
}

function readRate(r: ConfigReader, value: unknown, path: string, fallback: number): number {
  const before = r.problems.length;
  const rate = r.number(value, path, fallback, 0, 1_000_000);
  if (r.problems.length === before && !(rate > 0)) {
    r.problem(path, 'must be above 0 (a flagged caller keeps this many requests per second; turn throttling off with throttle: false)');
    return fallback;
  }
  return rate;
}

/** Compiles the section alone (tests, tools); throws CORE_INVALID_CONFIG listing every problem. */
export function compileAbuseOptions(input: unknown, path = 'security.abuse'): AbuseConfig {
  const r = new ConfigReader();
  const config = readAbuseOptions(r, input, path);
  r.finish(path);
  return config;
}
