/**
 * Live drift monitoring: one drift window per endpoint and version that has a reference profile,
 * fed with every answered inference's input rows and predictions, and checked against the profile
 * on request (`GET /api/v1/endpoints/{name}/drift`, `slipway drift report`).
 *
 * On the request path `observe` costs a map lookup for a version without a profile. With one, each
 * row's feature values are read from the input tensors by the profile's (input, column) and added to
 * the window (bounded memory: docs/drift.md). The profile is fetched once per version, off the
 * request path; until it is there, requests are not observed. A version without a profile is asked
 * about again after `recheckMs`, so a profile computed later starts being used.
 *
 * Labels that arrive through feedback join the window of the version that made the prediction
 * (`label`). Every `checkIntervalMs` each window is checked (off the request path, on a timer):
 * the latest results feed the Prometheus gauges and alerts (`latest`). Every closed window is
 * checked once and the result kept in the {@link DriftResultStore} (`history`).
 */
import { float16BitsToNumber, systemClock, toPlatformError, type Clock, type Datatype, type Logger, type Tensor, type TimerHandle } from '../../core/index.js';
import { labelText, predictedRow, resolveSummaryOptions } from '../predictions/summary.js';
import type { ReferenceProfile } from '../profiles/types.js';
import { checkDrift } from './check.js';
import { DriftErrors } from './errors.js';
import type { DriftCheckOptions } from './options.js';
import type { DriftResult, DriftResultStore } from './ports.js';
import type { DriftReport, DriftValue, DriftWindowSnapshot } from './types.js';
import { createDriftWindow, type DriftWindow } from './window.js';

export interface DriftMonitorOptions {
  /** The stored reference profile of a version, if any. */
  readonly profile: (model: string, version: number) => Promise<ReferenceProfile | undefined>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Window size by rows and by age (docs/drift.md). Defaults: 100,000 rows, one hour. */
  readonly maxRows?: number;
  readonly maxAgeMs?: number | null;
  /** How long "no profile" is believed before the store is asked again. Default 30 s. */
  readonly recheckMs?: number;
  /** Options of every check (the server's `monitoring.drift.check`); a report call may override them. */
  readonly checkOptions?: DriftCheckOptions;
  /** How often every open window is checked for `latest` (gauges, alerts). Default 60 s; 0: never. */
  readonly checkIntervalMs?: number;
  /** Where each closed window's check is kept; none: closed windows are only in memory (the last). */
  readonly results?: DriftResultStore;
  /** Results kept per endpoint. Default 1,000. */
  readonly keepResults?: number;
  /**
   * Whether an endpoint still serves a version. The periodic check drops the windows of versions
   * it no longer serves (an endpoint deleted, a version replaced), so memory and gauges follow
   * what is deployed. Default: every version is served.
   */
  readonly isServed?: (endpoint: string, version: number) => boolean;
}

/** The latest periodic check of one endpoint version. */
export interface LatestDriftCheck {
  readonly endpoint: string;
  readonly model: string;
  readonly version: number;
  readonly at: number;
  readonly report: DriftReport;
}

/** An endpoint version's drift: the open window's check, and the last closed window's. */
export interface EndpointDriftReport {
  readonly endpoint: string;
  readonly model: string;
  readonly version: number;
  readonly current: DriftReport;
  readonly previous: DriftReport | null;
}

export interface DriftMonitor {
  /**
   * The reference profile of model:version as `endpoint` serves it, through the lookup `observe`
   * uses (one map lookup once it is loaded), so other request-path readers such as the input guards
   * share this cache. Undefined while it is being fetched (the first call starts that) and for a
   * version without one. Never throws.
   */
  profileOf(endpoint: string, model: string, version: number): ReferenceProfile | undefined;
  /** One answered inference of `endpoint` served by model:version. Never throws. */
  observe(endpoint: string, model: string, version: number, inputs: readonly Tensor[], outputs: readonly Tensor[]): void;
  /**
   * Checks the version's windows against its profile. MONITORING_DRIFT_NO_PROFILE when the version
   * has no reference profile.
   */
  report(endpoint: string, model: string, version: number, options?: DriftCheckOptions): Promise<EndpointDriftReport>;
  /**
   * A label arrived for a one-row prediction of model:version served by `endpoint`: it joins the
   * performance of that version's open window. Never throws (an unusable label is logged).
   */
  label(endpoint: string, model: string, version: number, predicted: DriftValue, actual: DriftValue): void;
  /** The latest periodic check of every monitored endpoint version (empty until the first has run). */
  latest(): readonly LatestDriftCheck[];
  /** Checks every open window now (what the timer does); resolves when done. */
  checkNow(): Promise<void>;
  /** Stored checks of closed windows, newest first (empty without a result store). */
  history(endpoint: string, query: { readonly version?: number; readonly limit: number }): Promise<readonly DriftResult[]>;
  /** Forgets an endpoint's windows (it was deleted). */
  forget(endpoint: string): void;
  /** Stops the timer and writes pending results. Idempotent. */
  close(): Promise<void>;
  /**
   * A version's profile was stored (or deleted: undefined): windows of that version start afresh
   * against it, and the next request of any endpoint serving it is observed at once.
   */
  profileChanged(model: string, version: number, profile: ReferenceProfile | undefined): void;
}

type Entry =
  | { readonly state: 'loading'; readonly model: string }
  | { readonly state: 'none'; readonly model: string; readonly checkedAt: number }
  | {
      readonly state: 'ready';
      readonly profile: ReferenceProfile;
      readonly window: DriftWindow;
      readonly plan: readonly FeatureSource[];
      /** Scratch of observe, one slot per feature: its tensor in the request, and a row's value. */
      readonly sources: (Tensor | undefined)[];
      readonly values: DriftValue[];
      /** A row's values when every feature's tensor holds plain numbers: unboxed, so a row allocates nothing. */
      readonly numbers: Float64Array;
    };

/** Where a profiled feature is read from in a request. */
interface FeatureSource {
  readonly input: string;
  readonly column: number | null;
}

export function createDriftMonitor(options: DriftMonitorOptions): DriftMonitor {
  const clock = options.clock ?? systemClock;
  const recheckMs = options.recheckMs ?? 30_000;
  const entries = new Map<string, Map<number, Entry>>();
  const keepResults = options.keepResults ?? 1000;
  const latestChecks = new Map<string, LatestDriftCheck>();
  const keyOfCheck = (endpoint: string, version: number): string => `${endpoint}\u0000${version}`;

  // closed windows are checked and stored off the request path (a check of a full window takes tens of ms)
  const pending: { endpoint: string; profile: ReferenceProfile; closed: DriftWindowSnapshot }[] = [];
  let draining: Promise<void> | undefined;
  const drainClosed = (): Promise<void> => {
    draining ??= (async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (pending.length > 0) {
        const next = pending.shift();
        if (next === undefined) break;
        try {
          const report = checkDrift(next.profile, next.closed, options.checkOptions);
          await options.results?.put({ endpoint: next.endpoint, model: next.profile.model, version: next.profile.version, at: clock.now(), report });
        } catch (error) {
          options.logger?.warn({ endpoint: next.endpoint, err: toPlatformError(error).message }, 'closed drift window could not be checked or stored');
        }
      }
      try {
        await options.results?.prune(keepResults);
      } catch (error) {
        options.logger?.warn({ err: toPlatformError(error).message }, 'drift results could not be pruned');
      }
    })().finally(() => {
      draining = undefined;
      if (pending.length > 0) void drainClosed();
    });
    return draining;
  };

  /** Profiles this process stored or read, by `model@version` (null: known to have none): a new window needs no lookup. */
  const known = new Map<string, ReferenceProfile | null>();
  const keyOf = (model: string, version: number): string => `${model}@${version}`;

  const ready = (endpoint: string, profile: ReferenceProfile): Entry => {
    const window = createDriftWindow({
      profile,
      clock,
      onClose: (closed) => {
        if (options.results === undefined) return;
        pending.push({ endpoint, profile, closed });
        void drainClosed();
      },
      ...(options.maxRows === undefined ? {} : { maxRows: options.maxRows }),
      ...(options.maxAgeMs === undefined ? {} : { maxAgeMs: options.maxAgeMs }),
    });
    options.logger?.info({ endpoint, model: profile.model, version: profile.version, features: profile.features.length }, 'drift monitoring started');
    const n = profile.features.length;
    return {
      state: 'ready',
      profile,
      window,
      plan: profile.features.map((f) => ({ input: f.input, column: f.column })),
      sources: new Array<Tensor | undefined>(n).fill(undefined),
      values: new Array<DriftValue>(n).fill(null),
      numbers: new Float64Array(n),
    };
  };

  const load = (endpoint: string, model: string, version: number, byVersion: Map<number, Entry>): void => {
    byVersion.set(version, { state: 'loading', model });
    options.profile(model, version).then(
      (profile) => {
        known.set(keyOf(model, version), profile ?? null);
        if (entries.get(endpoint) !== byVersion || byVersion.get(version)?.state !== 'loading') return; // forgotten or replaced meanwhile
        byVersion.set(version, profile === undefined ? { state: 'none', model, checkedAt: clock.now() } : ready(endpoint, profile));
      },
      (error: unknown) => {
        byVersion.set(version, { state: 'none', model, checkedAt: clock.now() });
        options.logger?.warn({ endpoint, model, version, err: error instanceof Error ? error.message : String(error) }, 'reference profile could not be read; drift not monitored');
      },
    );
  };

  const entryOf = (endpoint: string, model: string, version: number): Entry | undefined => {
    let byVersion = entries.get(endpoint);
    if (byVersion === undefined) entries.set(endpoint, (byVersion = new Map<number, Entry>()));
    const entry = byVersion.get(version);
    if (entry === undefined) {
      const profile = known.get(keyOf(model, version));
      if (profile !== undefined && profile !== null) {
        const made = ready(endpoint, profile);
        byVersion.set(version, made);
        return made;
      }
    }
    if (entry === undefined || (entry.state === 'none' && clock.now() - entry.checkedAt >= recheckMs)) {
      load(endpoint, model, version, byVersion);
      return undefined;
    }
    return entry;
  };

  let closedMonitor = false;
  let timer: TimerHandle | undefined;
  async function checkNow(): Promise<void> {
    const seen = new Set<string>();
    for (const [endpoint, byVersion] of entries) {
      for (const [version, entry] of byVersion) {
        if (options.isServed !== undefined && !options.isServed(endpoint, version)) {
          byVersion.delete(version);
          continue;
        }
        if (entry.state !== 'ready') continue;
        const key = keyOfCheck(endpoint, version);
        seen.add(key);
        try {
          let report = checkDrift(entry.profile, entry.window.snapshot(), options.checkOptions);
          // a window just opened has too little data to judge: the last judged one stands until it has
          // (else every window rollover would clear the gauges and resolve the alerts built on them)
          const previous = report.status === 'insufficient_data' ? entry.window.lastClosed() : null;
          if (previous !== null) report = checkDrift(entry.profile, previous, options.checkOptions);
          latestChecks.set(key, { endpoint, model: entry.profile.model, version, at: clock.now(), report });
        } catch (error) {
          options.logger?.warn({ endpoint, version, err: toPlatformError(error).message }, 'drift check failed');
        }
        // one window at a time, so requests run between checks
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    for (const key of [...latestChecks.keys()]) if (!seen.has(key)) latestChecks.delete(key);
    for (const [endpoint, byVersion] of [...entries]) if (byVersion.size === 0) entries.delete(endpoint);
  }
  const intervalMs = options.checkIntervalMs ?? 60_000;
  const schedule = (): void => {
    if (intervalMs <= 0 || closedMonitor) return;
    timer = clock.setTimeout(() => {
      checkNow().then(schedule, schedule);
    }, intervalMs);
  };
  schedule();

  return {
    profileOf(endpoint, model, version) {
      const entry = entryOf(endpoint, model, version);
      return entry?.state === 'ready' && entry.profile.model === model ? entry.profile : undefined;
    },
    observe(endpoint, model, version, inputs, outputs) {
      const entry = entryOf(endpoint, model, version);
      if (entry?.state !== 'ready') return;
      try {
        const first = inputs[0];
        const rows = first === undefined ? 0 : first.shape.length === 0 ? 1 : (first.shape[0] ?? 0);
        const predicting = entry.profile.predictions !== null;
        // per request: each feature's tensor, found by name (features of one input come together)
        const { plan, sources, values, numbers } = entry;
        let plain = true;
        for (let j = 0; j < plan.length; j++) {
          const input = (plan[j] as FeatureSource).input;
          const source = j > 0 && (plan[j - 1] as FeatureSource).input === input ? sources[j - 1] : tensorNamed(inputs, input);
          sources[j] = source;
          plain &&= source !== undefined && PLAIN_NUMBERS.has(source.datatype) && ArrayBuffer.isView(source.data);
        }
        for (let r = 0; r < rows; r++) {
          // one array per window, filled per row: the window copies the values out
          let row: ArrayLike<DriftValue>;
          if (plain) {
            for (let j = 0; j < plan.length; j++) numbers[j] = numberAt(sources[j] as Tensor, r, (plan[j] as FeatureSource).column);
            row = numbers;
          } else {
            for (let j = 0; j < plan.length; j++) values[j] = valueAt(sources[j], r, (plan[j] as FeatureSource).column);
            row = values;
          }
          const p = predicting ? predictedRow(outputs, r, EVERY_ROW) : null;
          entry.window.add(row, p === null ? undefined : labelText(p.value));
        }
      } catch (error) {
        // a request the profile does not describe (another layout) is skipped, never failed
        options.logger?.debug({ endpoint, model, version, err: error instanceof Error ? error.message : String(error) }, 'request not added to the drift window');
      }
    },
    async report(endpoint, model, version, checkOptions) {
      let entry = entryOf(endpoint, model, version);
      if (entry === undefined || entry.state === 'loading') {
        // first question about this version: wait for the profile lookup the call above started
        const profile = await options.profile(model, version);
        entry = entries.get(endpoint)?.get(version);
        if (profile === undefined) entry = { state: 'none', model, checkedAt: clock.now() };
      }
      if (entry === undefined || entry.state !== 'ready') {
        throw DriftErrors.MONITORING_DRIFT_NO_PROFILE(
          `version ${version} of ${model} (served by endpoint "${endpoint}") has no reference profile; compute one with \`slipway profile ${model}:${version} --data FILE.csv\``,
          { details: { endpoint, model, version } },
        );
      }
      const previous = entry.window.lastClosed();
      return {
        endpoint,
        model,
        version,
        current: checkDrift(entry.profile, entry.window.snapshot(), checkOptions ?? options.checkOptions),
        previous: previous === null ? null : checkDrift(entry.profile, previous, checkOptions ?? options.checkOptions),
      };
    },
    label(endpoint, model, version, predicted, actual) {
      // only a window that exists: a label for a version no longer monitored makes none
      const entry = entries.get(endpoint)?.get(version);
      if (entry?.state !== 'ready' || entry.profile.model !== model) return;
      try {
        entry.window.addLabel(predicted, actual);
      } catch (error) {
        options.logger?.debug({ endpoint, model, version, err: toPlatformError(error).message }, 'label not added to the drift window');
      }
    },
    latest: () => [...latestChecks.values()],
    checkNow,
    async history(endpoint, query) {
      await draining;
      return options.results === undefined ? [] : options.results.list(endpoint, query);
    },
    forget(endpoint) {
      entries.delete(endpoint);
      for (const key of [...latestChecks.keys()]) if (key.startsWith(`${endpoint}\u0000`)) latestChecks.delete(key);
    },
    async close() {
      timer?.cancel();
      timer = undefined;
      closedMonitor = true;
      await draining;
    },
    profileChanged(model, version, profile) {
      known.set(keyOf(model, version), profile ?? null);
      for (const [endpoint, byVersion] of entries) {
        const entry = byVersion.get(version);
        const entryModel = entry === undefined ? undefined : entry.state === 'ready' ? entry.profile.model : entry.model;
        if (entryModel !== model) continue;
        byVersion.set(version, profile === undefined ? { state: 'none', model, checkedAt: clock.now() } : ready(endpoint, profile));
      }
    },
  };
}

/** Each row's prediction is read by the prediction record's rule, for every row of a request. */
const EVERY_ROW = resolveSummaryOptions({ maxRows: Number.MAX_SAFE_INTEGER });

/** The input called `name`. */
function tensorNamed(inputs: readonly Tensor[], name: string): Tensor | undefined {
  for (const t of inputs) if (t.name === name) return t;
  return undefined;
}

/** Datatypes whose typed arrays hold the numbers they mean (not FP16's bit patterns, not 64-bit BigInts); BOOL, rare in inputs, takes the general path. */
const PLAIN_NUMBERS: ReadonlySet<Datatype> = new Set(['FP32', 'FP64', 'INT8', 'INT16', 'INT32', 'UINT8', 'UINT16', 'UINT32']);

/** Where row `row`'s value of a feature is: column `column` of a [batch, k] input, or the value of a [batch] input. */
function indexOf(tensor: Tensor, row: number, column: number | null): number {
  return column === null ? row : row * (tensor.shape[1] ?? 1) + column;
}

/** Row `row`'s value of a feature whose tensor holds {@link PLAIN_NUMBERS} (undefined past its end, as NaN: missing). */
function numberAt(tensor: Tensor, row: number, column: number | null): number {
  return (tensor.data as ArrayLike<number>)[indexOf(tensor, row, column)] ?? NaN;
}

/** Row `row`'s value of a feature, as a number, text, bigint or boolean; null when missing. */
function valueAt(tensor: Tensor | undefined, row: number, column: number | null): DriftValue {
  if (tensor === undefined) return null;
  const v = (tensor.data as ArrayLike<unknown>)[indexOf(tensor, row, column)];
  // half precision arrives as its bit patterns
  if (tensor.datatype === 'FP16' && typeof v === 'number') return float16BitsToNumber(v);
  return typeof v === 'number' || typeof v === 'string' || typeof v === 'bigint' || typeof v === 'boolean' ? v : null;
}
