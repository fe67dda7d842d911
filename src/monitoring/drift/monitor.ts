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
 */
import { systemClock, type Clock, type Logger, type Tensor } from '../../core/index.js';
import { labelText, predictedAt, summarizeOutputs } from '../predictions/summary.js';
import type { ReferenceProfile } from '../profiles/types.js';
import { checkDrift } from './check.js';
import { DriftErrors } from './errors.js';
import type { DriftCheckOptions } from './options.js';
import type { DriftReport, DriftValue } from './types.js';
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
  /** One answered inference of `endpoint` served by model:version. Never throws. */
  observe(endpoint: string, model: string, version: number, inputs: readonly Tensor[], outputs: readonly Tensor[]): void;
  /**
   * Checks the version's windows against its profile. MONITORING_DRIFT_NO_PROFILE when the version
   * has no reference profile.
   */
  report(endpoint: string, model: string, version: number, options?: DriftCheckOptions): Promise<EndpointDriftReport>;
  /** Forgets an endpoint's windows (it was deleted). */
  forget(endpoint: string): void;
  /**
   * A version's profile was stored (or deleted: undefined): windows of that version start afresh
   * against it, and the next request of any endpoint serving it is observed at once.
   */
  profileChanged(model: string, version: number, profile: ReferenceProfile | undefined): void;
}

type Entry =
  | { readonly state: 'loading'; readonly model: string }
  | { readonly state: 'none'; readonly model: string; readonly checkedAt: number }
  | { readonly state: 'ready'; readonly profile: ReferenceProfile; readonly window: DriftWindow; readonly plan: readonly FeatureSource[] };

/** Where a profiled feature is read from in a request. */
interface FeatureSource {
  readonly input: string;
  readonly column: number | null;
}

export function createDriftMonitor(options: DriftMonitorOptions): DriftMonitor {
  const clock = options.clock ?? systemClock;
  const recheckMs = options.recheckMs ?? 30_000;
  const entries = new Map<string, Map<number, Entry>>();

  /** Profiles this process stored or read, by `model@version` (null: known to have none): a new window needs no lookup. */
  const known = new Map<string, ReferenceProfile | null>();
  const keyOf = (model: string, version: number): string => `${model}@${version}`;

  const ready = (endpoint: string, profile: ReferenceProfile): Entry => {
    const window = createDriftWindow({
      profile,
      clock,
      ...(options.maxRows === undefined ? {} : { maxRows: options.maxRows }),
      ...(options.maxAgeMs === undefined ? {} : { maxAgeMs: options.maxAgeMs }),
    });
    options.logger?.info({ endpoint, model: profile.model, version: profile.version, features: profile.features.length }, 'drift monitoring started');
    return { state: 'ready', profile, window, plan: profile.features.map((f) => ({ input: f.input, column: f.column })) };
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

  return {
    observe(endpoint, model, version, inputs, outputs) {
      const entry = entryOf(endpoint, model, version);
      if (entry?.state !== 'ready') return;
      try {
        const tensors = new Map<string, Tensor>();
        for (const t of inputs) tensors.set(t.name, t);
        const first = inputs[0];
        const rows = first === undefined ? 0 : first.shape.length === 0 ? 1 : (first.shape[0] ?? 0);
        const predictions = entry.profile.predictions === null ? undefined : summarizeOutputs(outputs, { maxRows: rows }).tensors;
        for (let r = 0; r < rows; r++) {
          const values: DriftValue[] = entry.plan.map((f) => valueAt(tensors.get(f.input), r, f.column));
          const p = predictions === undefined ? null : predictedAt(predictions, r);
          entry.window.add(values, p === null ? undefined : labelText(p.value));
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
        current: checkDrift(entry.profile, entry.window.snapshot(), checkOptions),
        previous: previous === null ? null : checkDrift(entry.profile, previous, checkOptions),
      };
    },
    forget(endpoint) {
      entries.delete(endpoint);
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

/** Row `row`'s value of a feature: column `column` of a [batch, k] input, or the value of a [batch] input. */
function valueAt(tensor: Tensor | undefined, row: number, column: number | null): DriftValue {
  if (tensor === undefined) return null;
  const width = column === null ? 1 : (tensor.shape[1] ?? 1);
  const index = row * width + (column ?? 0);
  const data = tensor.data as ArrayLike<unknown>;
  const v = data[index];
  return typeof v === 'number' || typeof v === 'string' || typeof v === 'bigint' || typeof v === 'boolean' ? v : null;
}
