/**
 * Live drift windows: live rows (one value per profiled feature, plus the row's predicted value when
 * known) and feedback labels summarised incrementally, in memory fixed when the window is created
 * and independent of traffic:
 * - numeric features: counts over the profile's histogram bins, Welford moments, min/max and a
 *   seeded reservoir sample (one Algorithm L decision per row serves every numeric column);
 * - categorical features: counts for the profile's categories plus a capped number of new ones;
 * - labels: the performance accumulator of the window's task.
 *
 * Windows tumble: one closes when it holds `maxRows` rows, or — checked lazily, on every call,
 * against the injected clock — once `maxAgeMs` has passed since its first row or label. The closed
 * window is handed to `onClose` and kept as {@link DriftWindow.lastClosed}; the next row opens a new
 * one. See docs/drift.md.
 */
import { deepFreeze, describe, systemClock, type Clock } from '../../core/index.js';
import { createReservoirSampler, createSeededRandom, type ReservoirSampler } from '../../stats/index.js';
import { OTHER_CATEGORY, PROFILE_SAMPLE_SIZE, type FeatureProfile, type ReferenceProfile } from '../profiles/types.js';
import { DriftErrors } from './errors.js';
import { createPerformanceAccumulator, type PerformanceAccumulator, type PerformanceTask } from './performance.js';
import type { DriftValue, DriftWindowSnapshot, FeatureWindow, WindowCloseReason } from './types.js';
import { binOf, categoryValue, numericValue } from './values.js';

/** Defaults, with the reasons in docs/drift.md. */
export const DRIFT_WINDOW_DEFAULTS = Object.freeze({
  maxRows: 100_000,
  maxAgeMs: 3_600_000,
  /** As large as the profile's sample, so both sides of a KS test are equally precise. */
  sampleSize: PROFILE_SAMPLE_SIZE,
  seed: 1,
  maxNewCategories: 100,
  maxCategoryLength: 256,
});

export interface DriftWindowOptions {
  /** The reference the window's rows will be compared with; fixes the features, bins and categories. */
  readonly profile: ReferenceProfile;
  /** Rows after which a window closes (tumbling). Default 100,000. */
  readonly maxRows?: number;
  /** Age (ms since the window's first row or label) after which it closes; null for none. Default 1 hour. */
  readonly maxAgeMs?: number | null;
  readonly clock?: Clock;
  /** Seed of the reservoir's random stream: same seed and rows, same samples. Default 1. */
  readonly seed?: number;
  /** Reservoir size: the most values kept per numeric feature. Default 5,000 (the profile's sample size). */
  readonly sampleSize?: number;
  /** New categories (not in the profile) counted by name per feature; the rest go under OTHER_CATEGORY. Default 100. */
  readonly maxNewCategories?: number;
  /** Longest category text kept, in characters; longer ones are cut. Default 256. */
  readonly maxCategoryLength?: number;
  /** Task of the labels given to {@link DriftWindow.addLabel}; defaults from the profile's predictions (categorical → classification, numeric → regression). */
  readonly task?: PerformanceTask | null;
  /** Called with each window as it closes (after the next one has opened). */
  readonly onClose?: (closed: DriftWindowSnapshot) => void;
}

/** What a window reports about itself. */
export interface DriftWindowStats {
  /** Sequence number of the open window (1 for the first). */
  readonly sequence: number;
  /** Rows in the open window. */
  readonly rows: number;
  readonly totalRows: number;
  readonly totalLabels: number;
  readonly windowsClosed: number;
  readonly maxRows: number;
  readonly maxAgeMs: number | null;
  readonly sampleCapacity: number;
  /**
   * An upper estimate, in bytes, of the data the window holds — the open window's accumulators plus
   * the last closed snapshot — fixed at creation, whatever the traffic. See docs/drift.md.
   */
  readonly memoryBoundBytes: number;
}

/** A live window of one endpoint version's inputs, predictions and labels. */
export interface DriftWindow {
  /**
   * Adds one live row: `values` holds one value per profiled feature, in profile order (null or
   * undefined when missing); `predicted` is the row's predicted label or value, when known.
   * Throws MONITORING_DRIFT_INVALID_ROW when the row has the wrong length.
   */
  add(values: ArrayLike<DriftValue>, predicted?: DriftValue): void;
  /** Adds a label that arrived for a prediction (feedback) to the open window's performance. */
  addLabel(predicted: DriftValue, actual: DriftValue): void;
  /** The open window, as a check needs it (closing it first if it has expired). */
  snapshot(): DriftWindowSnapshot;
  /** The most recently closed window, or null before any closed. */
  lastClosed(): DriftWindowSnapshot | null;
  /** Closes the open window if it has expired; returns it, or null. Call it periodically so that idle windows close on time. */
  tick(): DriftWindowSnapshot | null;
  /** Closes the open window now (if it holds a row or a label); returns it, or null. */
  close(): DriftWindowSnapshot | null;
  stats(): DriftWindowStats;
}

/** Fixed per-entry allowance for a Map entry or small object, in bytes (V8 on 64-bit, rounded up). */
const ENTRY_OVERHEAD_BYTES = 80;
const COLUMN_OVERHEAD_BYTES = 160;

interface NumericColumn {
  readonly kind: 'numeric';
  readonly name: string;
  readonly edges: Float64Array;
  readonly counts: Float64Array;
  readonly sample: Float64Array;
  count: number;
  missing: number;
  mean: number;
  m2: number;
  min: number;
  max: number;
}

interface CategoricalColumn {
  readonly kind: 'categorical';
  readonly name: string;
  readonly known: ReadonlySet<string>;
  counts: Map<string, number>;
  named: number;
  count: number;
  missing: number;
}

type Column = NumericColumn | CategoricalColumn;

function checkProfileFeature(f: FeatureProfile, path: string, problems: string[]): void {
  if (f.kind === 'numeric') {
    const { edges, counts } = f.histogram;
    if (edges.length === 0 && counts.length === 0) return;
    if (edges.length !== counts.length + 1 || counts.length === 0) problems.push(`${path}.histogram: ${counts.length} bins need ${counts.length + 1} edges, got ${edges.length}`);
    for (let i = 0; i < edges.length; i++) {
      if (!Number.isFinite(edges[i])) problems.push(`${path}.histogram.edges[${i}]: must be finite, got ${String(edges[i])}`);
      else if (i > 0 && !((edges[i] as number) > (edges[i - 1] as number))) problems.push(`${path}.histogram.edges: must increase strictly (at ${i})`);
    }
    for (const c of counts) if (!(c >= 0) || !Number.isFinite(c)) problems.push(`${path}.histogram.counts: must be finite and ≥ 0, got ${String(c)}`);
  } else if (f.kind === 'categorical') {
    for (const [k, c] of Object.entries(f.frequencies)) if (!(c >= 0) || !Number.isFinite(c)) problems.push(`${path}.frequencies[${JSON.stringify(k)}]: must be finite and ≥ 0, got ${String(c)}`);
  } else {
    problems.push(`${path}.kind: must be numeric or categorical, got ${describe((f as { kind?: unknown }).kind)}`);
  }
}

/** Throws MONITORING_DRIFT_INVALID_PROFILE unless every feature's histogram or frequencies can be compared with live data. */
export function checkProfile(profile: ReferenceProfile): void {
  const problems: string[] = [];
  profile.features.forEach((f, i) => checkProfileFeature(f, `features[${i}]`, problems));
  if (profile.predictions !== null) checkProfileFeature(profile.predictions, 'predictions', problems);
  if (problems.length > 0) {
    throw DriftErrors.MONITORING_DRIFT_INVALID_PROFILE(`profile of ${profile.model} v${profile.version} cannot be compared with live data:\n  ${problems.join('\n  ')}`, { details: { problems } });
  }
}

interface ResolvedWindowOptions {
  maxRows: number;
  maxAgeMs: number | null;
  sampleSize: number;
  seed: number;
  maxNewCategories: number;
  maxCategoryLength: number;
  task: PerformanceTask | null;
}

function resolveOptions(o: DriftWindowOptions): ResolvedWindowOptions {
  const problems: string[] = [];
  const int = (value: unknown, name: string, fallback: number, min: number, max: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}: must be a whole number in [${min}, ${max}], got ${describe(value)}`);
      return fallback;
    }
    return value;
  };
  const maxRows = int(o.maxRows, 'maxRows', DRIFT_WINDOW_DEFAULTS.maxRows, 1, Number.MAX_SAFE_INTEGER);
  const maxAgeMs = o.maxAgeMs === null ? null : int(o.maxAgeMs, 'maxAgeMs', DRIFT_WINDOW_DEFAULTS.maxAgeMs, 1, Number.MAX_SAFE_INTEGER);
  const sampleSize = int(o.sampleSize, 'sampleSize', DRIFT_WINDOW_DEFAULTS.sampleSize, 1, 1_000_000);
  const seed = int(o.seed, 'seed', DRIFT_WINDOW_DEFAULTS.seed, -(2 ** 31), 2 ** 32 - 1);
  const maxNewCategories = int(o.maxNewCategories, 'maxNewCategories', DRIFT_WINDOW_DEFAULTS.maxNewCategories, 0, 100_000);
  const maxCategoryLength = int(o.maxCategoryLength, 'maxCategoryLength', DRIFT_WINDOW_DEFAULTS.maxCategoryLength, 1, 65_536);
  let task: PerformanceTask | null;
  if (o.task === undefined) {
    const kind = o.profile.predictions?.kind;
    task = kind === 'categorical' ? 'classification' : kind === 'numeric' ? 'regression' : null;
  } else if (o.task === null || o.task === 'classification' || o.task === 'regression') {
    task = o.task;
  } else {
    problems.push(`task: must be classification, regression or null, got ${describe(o.task)}`);
    task = null;
  }
  if (problems.length > 0) {
    throw DriftErrors.MONITORING_DRIFT_INVALID_OPTIONS(`invalid drift window options (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${problems.join('\n  ')}`, {
      details: { problems },
    });
  }
  return { maxRows, maxAgeMs, sampleSize, seed, maxNewCategories, maxCategoryLength, task };
}

function createColumn(f: FeatureProfile, sampleSize: number): Column {
  if (f.kind === 'numeric') {
    const bins = f.histogram.counts.length;
    return {
      kind: 'numeric',
      name: f.name,
      edges: Float64Array.from(bins > 0 ? f.histogram.edges : []),
      counts: new Float64Array(bins),
      sample: new Float64Array(sampleSize).fill(NaN),
      count: 0,
      missing: 0,
      mean: 0,
      m2: 0,
      min: Infinity,
      max: -Infinity,
    };
  }
  const known = new Set(Object.keys(f.frequencies));
  return { kind: 'categorical', name: f.name, known, counts: seedCounts(known), named: 0, count: 0, missing: 0 };
}

function seedCounts(known: ReadonlySet<string>): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of known) m.set(k, 0);
  return m;
}

function resetColumn(c: Column): void {
  c.count = 0;
  c.missing = 0;
  if (c.kind === 'numeric') {
    c.counts.fill(0);
    c.sample.fill(NaN);
    c.mean = 0;
    c.m2 = 0;
    c.min = Infinity;
    c.max = -Infinity;
  } else {
    c.counts = seedCounts(c.known);
    c.named = 0;
  }
}

function columnBytes(c: Column, o: ResolvedWindowOptions): number {
  if (c.kind === 'numeric') return COLUMN_OVERHEAD_BYTES + 8 * (c.edges.length + c.counts.length + c.sample.length);
  const entries = c.known.size + o.maxNewCategories + 1;
  return COLUMN_OVERHEAD_BYTES + entries * (ENTRY_OVERHEAD_BYTES + 2 * o.maxCategoryLength + 8);
}

/**
 * Freezes a closed snapshot, which onClose and lastClosed() share, except its numeric arrays:
 * V8 boxes every element of a frozen array of doubles, tripling its memory (measured: 40 KB →
 * 120 KB for 5,000 values).
 */
function freezeSnapshot(s: DriftWindowSnapshot): DriftWindowSnapshot {
  const freezeFeature = (f: FeatureWindow): void => {
    if (f.kind === 'numeric') {
      Object.freeze(f.moments);
      Object.freeze(f);
    } else deepFreeze(f);
  };
  s.features.forEach(freezeFeature);
  if (s.predictions !== null) freezeFeature(s.predictions);
  if (s.performance !== null) deepFreeze(s.performance);
  Object.freeze(s.features);
  return Object.freeze(s);
}

/**
 * Creates a live drift window for a reference profile. Throws MONITORING_DRIFT_INVALID_OPTIONS for
 * out-of-range options (all problems at once) and MONITORING_DRIFT_INVALID_PROFILE for a profile whose
 * bins cannot be used.
 */
export function createDriftWindow(options: DriftWindowOptions): DriftWindow {
  const profile = options.profile;
  checkProfile(profile);
  const o = resolveOptions(options);
  const clock = options.clock ?? systemClock;
  const random = createSeededRandom(o.seed);
  const columns = profile.features.map((f) => createColumn(f, o.sampleSize));
  const predictions = profile.predictions === null ? null : createColumn(profile.predictions, o.sampleSize);
  const numericColumns = [...columns, ...(predictions === null ? [] : [predictions])].filter((c): c is NumericColumn => c.kind === 'numeric');
  // Rows are sampled, not values: one decision per row keeps every numeric column's sample aligned
  // and costs one random draw per kept row, not one per value.
  const sampler: ReservoirSampler = createReservoirSampler(o.sampleSize, random);
  const knownClasses = profile.predictions?.kind === 'categorical' ? Object.keys(profile.predictions.frequencies) : [];
  const performance: PerformanceAccumulator | null = o.task === null ? null : createPerformanceAccumulator(o.task, knownClasses, o.maxNewCategories, o.maxCategoryLength);

  let sequence = 1;
  let rows = 0;
  let labels = 0;
  let since: number | null = null;
  let until: number | null = null;
  let totalRows = 0;
  let totalLabels = 0;
  let windowsClosed = 0;
  let last: DriftWindowSnapshot | null = null;

  const windowBytes =
    columns.reduce((s, c) => s + columnBytes(c, o), 0) +
    (predictions === null ? 0 : columnBytes(predictions, o)) +
    (performance === null ? 0 : COLUMN_OVERHEAD_BYTES + performance.maxClasses * (ENTRY_OVERHEAD_BYTES + 2 * o.maxCategoryLength + 24));
  // The open window's accumulators and the last closed snapshot, which holds at most as much.
  const memoryBoundBytes = 2 * windowBytes;

  const addNumeric = (c: NumericColumn, raw: DriftValue, slot: number): void => {
    const x = numericValue(raw);
    if (slot >= 0) c.sample[slot] = x;
    if (Number.isNaN(x)) {
      c.missing += 1;
      return;
    }
    c.count += 1;
    const delta = x - c.mean;
    c.mean += delta / c.count;
    c.m2 += delta * (x - c.mean);
    if (x < c.min) c.min = x;
    if (x > c.max) c.max = x;
    if (c.counts.length > 0) {
      const bin = binOf(c.edges, x);
      c.counts[bin] = (c.counts[bin] as number) + 1;
    }
  };

  const addCategorical = (c: CategoricalColumn, raw: DriftValue): void => {
    let text = categoryValue(raw, o.maxCategoryLength);
    if (text === null) {
      c.missing += 1;
      return;
    }
    c.count += 1;
    let n = c.counts.get(text);
    if (n === undefined && !c.known.has(text)) {
      if (c.named >= o.maxNewCategories) {
        text = OTHER_CATEGORY;
        n = c.counts.get(text);
      } else c.named += 1;
    }
    c.counts.set(text, (n ?? 0) + 1);
  };

  const featureSnapshot = (c: Column): FeatureWindow => {
    if (c.kind === 'numeric') {
      const held = sampler.size;
      let present = 0;
      for (let i = 0; i < held; i++) if (!Number.isNaN(c.sample[i])) present += 1;
      // Sized once: an array grown by push keeps up to half again as much spare capacity.
      const sample = new Array<number>(present);
      for (let i = 0, k = 0; i < held; i++) {
        const v = c.sample[i] as number;
        if (!Number.isNaN(v)) sample[k++] = v;
      }
      return {
        kind: 'numeric',
        name: c.name,
        count: c.count,
        missing: c.missing,
        moments: { n: c.count, mean: c.mean, m2: c.m2 },
        min: c.count === 0 ? null : c.min,
        max: c.count === 0 ? null : c.max,
        histogram: Array.from(c.counts),
        sample,
      };
    }
    const frequencies: Record<string, number> = {};
    for (const [k, n] of c.counts) frequencies[k] = n;
    return { kind: 'categorical', name: c.name, count: c.count, missing: c.missing, frequencies };
  };

  const snapshotOf = (state: 'open' | 'closed', closeReason: WindowCloseReason | null, closedAt: number | null): DriftWindowSnapshot => ({
    format: 1,
    model: profile.model,
    version: profile.version,
    sequence,
    state,
    closeReason,
    rows,
    since,
    until,
    closedAt,
    sampleCapacity: o.sampleSize,
    features: columns.map(featureSnapshot),
    predictions: predictions === null ? null : featureSnapshot(predictions),
    performance: performance === null ? null : performance.snapshot(),
  });

  const closeNow = (reason: WindowCloseReason, closedAt: number): DriftWindowSnapshot => {
    const closed = freezeSnapshot(snapshotOf('closed', reason, closedAt));
    for (const c of columns) resetColumn(c);
    if (predictions !== null) resetColumn(predictions);
    performance?.reset();
    sampler.reset();
    sequence += 1;
    rows = 0;
    labels = 0;
    since = null;
    until = null;
    windowsClosed += 1;
    last = closed;
    options.onClose?.(closed);
    return closed;
  };

  /** Closes the open window when its age is up; returns it, or null. */
  const expire = (now: number): DriftWindowSnapshot | null => {
    if (o.maxAgeMs === null || since === null || now - since < o.maxAgeMs) return null;
    return closeNow('age', since + o.maxAgeMs);
  };

  const touch = (now: number): void => {
    if (since === null) since = now;
    until = now;
  };

  return {
    add(values, predicted) {
      if (values.length !== columns.length) {
        throw DriftErrors.MONITORING_DRIFT_INVALID_ROW(`a live row for ${profile.model} v${profile.version} must hold ${columns.length} values (one per profiled feature), got ${values.length}`);
      }
      const now = clock.now();
      expire(now);
      touch(now);
      const slot = numericColumns.length > 0 ? sampler.offer() : -1;
      for (let j = 0; j < columns.length; j++) {
        const c = columns[j] as Column;
        if (c.kind === 'numeric') addNumeric(c, values[j], slot);
        else addCategorical(c, values[j]);
      }
      if (predictions !== null) {
        if (predictions.kind === 'numeric') addNumeric(predictions, predicted, slot);
        else addCategorical(predictions, predicted);
      }
      rows += 1;
      totalRows += 1;
      if (rows >= o.maxRows) closeNow('rows', now);
    },
    addLabel(predicted, actual) {
      if (performance === null) {
        throw DriftErrors.MONITORING_DRIFT_INVALID_LABEL(`the drift window of ${profile.model} v${profile.version} has no task: its profile has no predictions and no task was configured`);
      }
      const now = clock.now();
      expire(now);
      performance.add(predicted, actual);
      touch(now);
      labels += 1;
      totalLabels += 1;
    },
    snapshot() {
      expire(clock.now());
      return snapshotOf('open', null, null);
    },
    lastClosed: () => last,
    tick: () => expire(clock.now()),
    close() {
      if (rows === 0 && labels === 0) return null;
      return closeNow('manual', clock.now());
    },
    stats: () => ({
      sequence,
      rows,
      totalRows,
      totalLabels,
      windowsClosed,
      maxRows: o.maxRows,
      maxAgeMs: o.maxAgeMs,
      sampleCapacity: o.sampleSize,
      memoryBoundBytes,
    }),
  };
}
