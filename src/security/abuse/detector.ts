/**
 * Model-extraction detection per caller and endpoint (docs/security.md, Abuse detection): every
 * answered inference's rows go through PRADA ({@link createPradaStream}) for the caller that sent
 * them on the endpoint it called, and the normality test of the caller's distances runs once per
 * request. A caller is flagged while W < δ; the first time it is flagged `onFlagged` is told (the
 * server appends `abuse.suspected` to the audit log), and with throttling on its requests to that
 * endpoint are limited by the request limiter ({@link ExtractionDetector.throttleFor}).
 *
 * A caller is an API key or JWT principal (`key:<name>`, `jwt:<subject>`), or a client address
 * (`ip:<address>`) for anonymous calls to an open data plane ({@link abuseCallerOf}).
 *
 * Memory is bounded: at most `maxKeys` caller × endpoint streams, each holding at most
 * `maxQueriesPerKey` queries of at most `maxFeatures` 32-bit numbers and as many distances; past
 * `maxKeys` the least recently seen stream goes (among the 32 least recent, one that is not flagged
 * first). Work per query is O(stored × features) for the nearest member of the growing set (brute
 * force over a typed array), and per request one sort of the distances for the test.
 */
import { systemClock, type Clock, type Logger, type Tensor } from '../../core/index.js';
import { queryLayout, type ProfileScale } from './features.js';
import { ABUSE_DEFAULTS, type AbuseConfig } from './options.js';
import { createPradaStream, type PradaStream } from './prada.js';
import { evictLeastRecent } from '../../core/evict.js';

/** One answered inference, as the detector sees it. */
export interface AbuseObservation {
  /** Who sent it: {@link abuseCallerOf}. */
  readonly caller: string;
  /** The endpoint named in the request. */
  readonly endpoint: string;
  /** The model and version that answered (for the profile, and the listing). */
  readonly model: string;
  readonly version: number;
  /** The decoded input tensors. */
  readonly inputs: readonly Tensor[];
  readonly requestId?: string;
  readonly ip?: string;
}

/** The moment a caller is first flagged on an endpoint. */
export interface AbuseFlagEvent {
  readonly caller: string;
  readonly endpoint: string;
  readonly model: string;
  readonly version: number;
  /** ms since the epoch. */
  readonly at: number;
  readonly w: number;
  readonly pValue: number;
  /** Distances the test ran on. */
  readonly n: number;
  /** Queries seen from this caller on this endpoint. */
  readonly queries: number;
  readonly threshold: number;
  readonly requestId?: string;
  readonly ip?: string;
}

/** One tracked caller on one endpoint (`GET /api/v1/abuse`). */
export interface TrackedCaller {
  /** `key:<name>`, `jwt:<subject>` or `ip:<address>`. */
  readonly key: string;
  readonly endpoint: string;
  /** The model and version that answered its latest query. */
  readonly model: string;
  readonly version: number;
  /** Queries (request rows) seen, repeats included. */
  readonly queries: number;
  /** Distances in its distance set D (at most maxQueriesPerKey). */
  readonly n: number;
  /** Members of its growing set. */
  readonly growingSet: number;
  /** The growing set's distance threshold T. */
  readonly distanceThreshold: number;
  /** Queries identical to an earlier one, skipped. */
  readonly repeats: number;
  /** The latest test: W, its p-value and the distances it ran on; null before |D| exceeds minQueries. */
  readonly w: number | null;
  readonly pValue: number | null;
  readonly tested: number | null;
  /** W < δ at the latest test. */
  readonly flagged: boolean;
  /** Since when it has been flagged without a break (ISO-8601), null when not flagged. */
  readonly flaggedSince: string | null;
  /** When it was first flagged (ISO-8601), null when never. */
  readonly firstFlaggedAt: string | null;
  /** Its requests to the endpoint are limited now (flagged, with throttling on). */
  readonly throttled: boolean;
  /** Where the feature scale comes from: the version's reference profile, or running statistics. */
  readonly scale: 'profile' | 'running';
  readonly firstSeenAt: string;
  readonly lastSeenAt: string;
}

/** The throttle the request limiter applies to a flagged caller. */
export interface AbuseThrottle {
  readonly caller: string;
  readonly endpoint: string;
  readonly ratePerSecond: number;
  readonly reason: 'extraction';
}

/** Counters for metrics and memory figures. */
export interface AbuseDetectorStats {
  readonly tracked: number;
  readonly flagged: number;
  /** Streams dropped to stay within maxKeys. */
  readonly evicted: number;
  /** Requests whose inputs could not be read as rows of numbers (skipped). */
  readonly skipped: number;
  /** Bytes held by the streams' arrays. */
  readonly bytes: number;
}

export interface ExtractionDetector {
  readonly config: AbuseConfig;
  /** One answered inference. Never throws (a request it cannot read is skipped and counted). */
  observe(observation: AbuseObservation): void;
  /** The throttle for `caller` on `endpoint` while it is flagged and throttling is on; undefined otherwise. O(1), changes nothing. */
  throttleFor(caller: string, endpoint: string): AbuseThrottle | undefined;
  /** Every tracked caller, flagged first, then by W (lowest first). */
  list(): TrackedCaller[];
  stats(): AbuseDetectorStats;
}

export interface ExtractionDetectorOptions {
  /** `security.abuse`; default {@link ABUSE_DEFAULTS}. */
  readonly config?: AbuseConfig;
  /** The reference profile of model:version as `endpoint` serves it, when one is known now (a cached lookup that never waits). */
  readonly profile?: (endpoint: string, model: string, version: number) => ProfileScale | undefined;
  /** Called when a caller is first flagged on an endpoint. Must not throw (it is caught and logged). */
  readonly onFlagged?: (event: AbuseFlagEvent) => void;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/**
 * Who a request counts as: its principal (`key:<name>`, `jwt:<subject>`), or `ip:<address>` when
 * it is anonymous (an open data plane, or authentication switched off).
 */
export function abuseCallerOf(principalId: string, ip: string | undefined): string {
  return principalId === 'anonymous' ? `ip:${ip ?? 'unknown'}` : principalId;
}

/** Rows of one request that are read at most: a larger batch is sampled at an even stride. */
export const MAX_ROWS_PER_REQUEST = 256;

interface Tracker {
  readonly caller: string;
  readonly endpoint: string;
  layoutKey: string;
  dims: number;
  scale: 'profile' | 'running';
  stream: PradaStream;
  model: string;
  version: number;
  queries: number;
  /** Queries since the last test. */
  sinceTest: number;
  w: number | null;
  pValue: number | null;
  tested: number | null;
  flagged: boolean;
  flaggedSince: number | null;
  firstFlaggedAt: number | null;
  readonly firstSeenAt: number;
  lastSeenAt: number;
}

/** Running mean and variance per number of one endpoint's queries of one layout (Welford). */
interface RunningScale {
  n: number;
  readonly mean: Float64Array;
  readonly m2: Float64Array;
  readonly weights: Float64Array;
}

/** Creates a detector; with `config.enabled` false it observes nothing and lists nobody. */
export function createExtractionDetector(options: ExtractionDetectorOptions = {}): ExtractionDetector {
  const config = options.config ?? ABUSE_DEFAULTS;
  const clock = options.clock ?? systemClock;
  const trackers = new Map<string, Tracker>();
  const scales = new Map<string, RunningScale>();
  const scratch = new Float64Array(config.maxQueriesPerKey);
  let row = new Float64Array(config.maxFeatures);
  let evicted = 0;
  let skipped = 0;
  const keyOf = (caller: string, endpoint: string): string => `${caller}\u0000${endpoint}`;

  function newStream(dims: number): PradaStream {
    return createPradaStream({ dims, capacity: config.maxQueriesPerKey, minQueries: config.minQueries });
  }

  function runningScale(endpoint: string, layoutKey: string, dims: number): RunningScale {
    const key = `${endpoint}\u0000${layoutKey}`;
    let s = scales.get(key);
    if (s === undefined || s.mean.length !== dims) {
      s = { n: 0, mean: new Float64Array(dims), m2: new Float64Array(dims), weights: new Float64Array(dims).fill(1) };
      // bounded like the streams: at most one scale per tracked stream
      if (scales.size >= config.maxKeys) {
        const first = scales.keys().next().value;
        if (first !== undefined) scales.delete(first);
      }
    } else {
      scales.delete(key);
    }
    scales.set(key, s);
    return s;
  }

  function updateRunning(s: RunningScale, x: Float64Array, dims: number): void {
    s.n++;
    for (let j = 0; j < dims; j++) {
      const v = x[j] as number;
      const d = v - (s.mean[j] as number);
      s.mean[j] = (s.mean[j] as number) + d / s.n;
      s.m2[j] = (s.m2[j] as number) + d * (v - (s.mean[j] as number));
      const variance = s.n > 1 ? (s.m2[j] as number) / (s.n - 1) : 0;
      s.weights[j] = variance > 0 ? 1 / variance : 1;
    }
  }

  function tracked(t: Tracker): TrackedCaller {
    const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
    return {
      key: t.caller,
      endpoint: t.endpoint,
      model: t.model,
      version: t.version,
      queries: t.queries,
      n: t.stream.distances(),
      growingSet: t.stream.growingSet(),
      distanceThreshold: t.stream.threshold(),
      repeats: t.stream.repeats(),
      w: t.w,
      pValue: t.pValue,
      tested: t.tested,
      flagged: t.flagged,
      flaggedSince: iso(t.flaggedSince),
      firstFlaggedAt: iso(t.firstFlaggedAt),
      throttled: config.throttle && t.flagged,
      scale: t.scale,
      firstSeenAt: new Date(t.firstSeenAt).toISOString(),
      lastSeenAt: new Date(t.lastSeenAt).toISOString(),
    };
  }

  function observe(o: AbuseObservation): void {
    const layout = queryLayout(o.inputs, options.profile?.(o.endpoint, o.model, o.version), config.maxFeatures);
    if (layout === undefined || layout.dims === 0) {
      skipped++;
      return;
    }
    const now = clock.now();
    const key = keyOf(o.caller, o.endpoint);
    let t = trackers.get(key);
    if (t === undefined) {
      t = {
        caller: o.caller,
        endpoint: o.endpoint,
        layoutKey: layout.key,
        dims: layout.dims,
        scale: layout.source,
        stream: newStream(layout.dims),
        model: o.model,
        version: o.version,
        queries: 0,
        sinceTest: 0,
        w: null,
        pValue: null,
        tested: null,
        flagged: false,
        flaggedSince: null,
        firstFlaggedAt: null,
        firstSeenAt: now,
        lastSeenAt: now,
      };
      trackers.set(key, t);
      evicted += evictLeastRecent(trackers, config.maxKeys, key, (t) => !t.flagged);
    } else {
      // most recently seen last
      trackers.delete(key);
      trackers.set(key, t);
      if (t.layoutKey !== layout.key || t.dims !== layout.dims) {
        // the numbers mean something else now (another signature, a profile that appeared): start afresh
        t.layoutKey = layout.key;
        t.dims = layout.dims;
        t.stream = newStream(layout.dims);
        t.w = null;
        t.pValue = null;
        t.tested = null;
        t.flagged = false;
        t.flaggedSince = null;
      }
    }
    t.scale = layout.source;
    t.model = o.model;
    t.version = o.version;
    t.lastSeenAt = now;
    if (row.length < layout.dims) row = new Float64Array(layout.dims);
    const x = row.subarray(0, layout.dims);
    const running = layout.weights === undefined ? runningScale(o.endpoint, layout.key, layout.dims) : undefined;
    const stride = Math.max(1, Math.ceil(layout.rows / MAX_ROWS_PER_REQUEST));
    for (let r = 0; r < layout.rows; r += stride) {
      if (!layout.read(r, x)) continue;
      t.queries++;
      t.sinceTest++;
      if (running !== undefined) updateRunning(running, x, layout.dims);
      t.stream.add(x, layout.weights ?? (running as RunningScale).weights);
    }
    // the sort and the test are the costly part: once tested, test again only after testEvery more queries
    if (t.tested !== null && t.sinceTest < config.testEvery) return;
    const result = t.stream.test(scratch);
    if (result === undefined) return;
    t.sinceTest = 0;
    t.w = result.w;
    t.pValue = result.pValue;
    t.tested = result.n;
    const flagged = result.w < config.threshold;
    if (flagged && !t.flagged) {
      t.flaggedSince = now;
      if (t.firstFlaggedAt === null) {
        t.firstFlaggedAt = now;
        const event: AbuseFlagEvent = {
          caller: t.caller,
          endpoint: t.endpoint,
          model: t.model,
          version: t.version,
          at: now,
          w: result.w,
          pValue: result.pValue,
          n: result.n,
          queries: t.queries,
          threshold: config.threshold,
          ...(o.requestId === undefined ? {} : { requestId: o.requestId }),
          ...(o.ip === undefined ? {} : { ip: o.ip }),
        };
        options.logger?.warn({ caller: t.caller, endpoint: t.endpoint, w: result.w, pValue: result.pValue, queries: t.queries }, 'model extraction suspected');
        try {
          options.onFlagged?.(event);
        } catch (error) {
          options.logger?.error({ err: error instanceof Error ? error.message : String(error) }, 'the abuse flag could not be reported');
        }
      }
    } else if (!flagged) {
      t.flaggedSince = null;
    }
    t.flagged = flagged;
  }

  return {
    config,
    observe(o) {
      if (!config.enabled) return;
      try {
        observe(o);
      } catch (error) {
        skipped++;
        options.logger?.debug({ caller: o.caller, endpoint: o.endpoint, err: error instanceof Error ? error.message : String(error) }, 'query not added to abuse detection');
      }
    },
    throttleFor(caller, endpoint) {
      if (!config.enabled || !config.throttle || trackers.size === 0) return undefined;
      const t = trackers.get(keyOf(caller, endpoint));
      if (t === undefined || !t.flagged) return undefined;
      return { caller, endpoint, ratePerSecond: config.throttleRatePerSecond, reason: 'extraction' };
    },
    list() {
      return [...trackers.values()]
        .sort((a, b) => Number(b.flagged) - Number(a.flagged) || (a.w ?? 2) - (b.w ?? 2) || (a.caller < b.caller ? -1 : a.caller > b.caller ? 1 : a.endpoint < b.endpoint ? -1 : 1))
        .map(tracked);
    },
    stats() {
      let flagged = 0;
      let bytes = scratch.byteLength + row.byteLength;
      for (const t of trackers.values()) {
        if (t.flagged) flagged++;
        bytes += t.stream.bytes();
      }
      for (const s of scales.values()) bytes += s.mean.byteLength * 3;
      return { tracked: trackers.size, flagged, evicted, skipped, bytes };
    },
  };
}
