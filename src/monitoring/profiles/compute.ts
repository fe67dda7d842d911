/**
 * Computes a reference profile from rows given one at a time, in bounded memory whatever the number
 * of rows (pure: no I/O). Per numeric column: Welford moments, min and max, a quantile sketch, a
 * seeded reservoir sample, and exact value counts while the column has few distinct values; per
 * categorical column: exact counts up to a bound. docs/profiles.md explains each choice.
 *
 * Histogram bins are fixed from the first pass (see {@link histogramEdges}); when a column has too
 * many distinct values to have kept them all, its bin counts need a second pass over the same rows
 * ({@link ProfileBuilder.recount}), so that every count is exact for the edges drift detection
 * will bin live values with.
 */
import type { Datatype } from '../../core/index.js';
import { createMomentsAccumulator, createSeededRandom, shrinkageCovariance, type MomentsAccumulator, type SeededRandom } from '../../stats/index.js';
import { createCentredSketch, type CentredSketch } from './centred-sketch.js';
import { ProfileErrors } from './errors.js';
import {
  OTHER_CATEGORY,
  PROFILE_COVARIANCE_MAX_FEATURES,
  PROFILE_COVARIANCE_MIN_ROWS,
  PROFILE_COVARIANCE_ROWS,
  PROFILE_MAX_CATEGORIES,
  PROFILE_QUANTILES,
  PROFILE_SAMPLE_SIZE,
  type CategoricalFeatureProfile,
  type CovarianceProfile,
  type FeatureProfile,
  type NumericFeatureProfile,
  type ReferenceProfile,
} from './types.js';

/** Bins a numeric column's histogram aims for (fewer when values repeat). */
export const PROFILE_HISTOGRAM_BINS = 10;
/** A numeric column with at most this many distinct values is counted exactly: exact quantiles and bins, no second pass. */
export const PROFILE_EXACT_DISTINCT_LIMIT = 1000;
/** An integer input with at most this many distinct values in the data is profiled as categorical. */
export const PROFILE_INTEGER_CATEGORY_LIMIT = 20;
/** Categories counted by name; values of further new categories are counted under {@link OTHER_CATEGORY}. */
export const PROFILE_TRACKED_CATEGORIES = 1000;
/** Relative accuracy of the quantile sketch (of each value's distance from the column's first value). */
export const PROFILE_SKETCH_ACCURACY = 0.005;
/** Seed of the reservoir samples when none is given, so that a profile of the same rows is the same. */
export const PROFILE_DEFAULT_SEED = 20240501;

/** One profiled column: where it comes from and the datatype that decides how it is profiled. */
export interface FeatureSpec {
  readonly name: string;
  readonly input: string;
  /** Column in a rank-2 input; null for a rank-1 input. */
  readonly column: number | null;
  /** BYTES and BOOL are categorical; integers categorical with few distinct values; floats numeric. */
  readonly datatype: Datatype;
}

/**
 * One cell as the builder takes it: a number for numeric datatypes (NaN or ±Infinity count as
 * missing), text for BYTES, a boolean for BOOL, null when missing.
 */
export type FeatureValue = number | string | boolean | null;

/**
 * One row's prediction: text for a class (a label, or the argmax index written as text), a number
 * for a regression value, null when the row has none. The first non-null one decides the kind.
 */
export type PredictionValue = string | number | null;

export interface ProfileBuilderOptions {
  readonly features: readonly FeatureSpec[];
  /** Whether rows come with predictions; without, the profile's `predictions` is null. Default true. */
  readonly predictions?: boolean;
  /** Seed of the reservoir samples. Default {@link PROFILE_DEFAULT_SEED}. */
  readonly seed?: number;
  /** Default {@link PROFILE_SAMPLE_SIZE}. */
  readonly sampleSize?: number;
  /** Default {@link PROFILE_HISTOGRAM_BINS}. */
  readonly bins?: number;
  /** Categories kept by name in a profile. Default {@link PROFILE_MAX_CATEGORIES}. */
  readonly maxCategories?: number;
  /** Default {@link PROFILE_TRACKED_CATEGORIES}. */
  readonly trackedCategories?: number;
  /** Default {@link PROFILE_EXACT_DISTINCT_LIMIT}. */
  readonly exactDistinctLimit?: number;
  /** Default {@link PROFILE_INTEGER_CATEGORY_LIMIT}. */
  readonly integerCategoryLimit?: number;
  /** Default {@link PROFILE_SKETCH_ACCURACY}. */
  readonly sketchAccuracy?: number;
  /** Estimate the numeric features' covariance (the profile's `covariance`). Default true. */
  readonly covariance?: boolean;
  /** Rows kept to estimate it from. Default {@link PROFILE_COVARIANCE_ROWS}. */
  readonly covarianceRows?: number;
}

/** What the second pass must be given, once the first is over. */
export interface SecondPass {
  /** Some column's bin counts need the rows again (through {@link ProfileBuilder.recount}). */
  readonly needed: boolean;
  /** That pass needs the predictions again too (a numeric prediction with many distinct values). */
  readonly predictions: boolean;
}

/** The record fields that do not come from the rows. */
export interface ProfileMeta {
  readonly model: string;
  readonly version: number;
  readonly source: string;
  readonly createdAt: number;
  readonly createdBy: string;
  /** Name of the output the predictions were read from (the prediction profile's name). Default `prediction`. */
  readonly predictionOutput?: string;
}

/**
 * Builds one profile. Call {@link add} for every row, then {@link seal}; when it says a second
 * pass is needed, call {@link recount} for every row again (the same rows, in whatever order); then {@link finish}.
 */
export interface ProfileBuilder {
  /** First pass: one row's values, in feature order, and its prediction. */
  add(values: readonly FeatureValue[], prediction?: PredictionValue): void;
  /** Ends the first pass and fixes the histogram edges. Idempotent. */
  seal(): SecondPass;
  /** Second pass: counts one row's values into the fixed bins. */
  recount(values: readonly FeatureValue[], prediction?: PredictionValue): void;
  /** The profile (seals first when needed). */
  finish(meta: ProfileMeta): ReferenceProfile;
  /** Rows added in the first pass. */
  readonly rows: number;
}

interface ResolvedOptions {
  readonly seed: number;
  readonly sampleSize: number;
  readonly bins: number;
  readonly maxCategories: number;
  readonly trackedCategories: number;
  readonly exactDistinctLimit: number;
  readonly integerCategoryLimit: number;
  readonly sketchAccuracy: number;
}

function resolve(options: ProfileBuilderOptions): ResolvedOptions {
  const r: ResolvedOptions = {
    seed: options.seed ?? PROFILE_DEFAULT_SEED,
    sampleSize: options.sampleSize ?? PROFILE_SAMPLE_SIZE,
    bins: options.bins ?? PROFILE_HISTOGRAM_BINS,
    maxCategories: options.maxCategories ?? PROFILE_MAX_CATEGORIES,
    trackedCategories: options.trackedCategories ?? PROFILE_TRACKED_CATEGORIES,
    exactDistinctLimit: options.exactDistinctLimit ?? PROFILE_EXACT_DISTINCT_LIMIT,
    integerCategoryLimit: options.integerCategoryLimit ?? PROFILE_INTEGER_CATEGORY_LIMIT,
    sketchAccuracy: options.sketchAccuracy ?? PROFILE_SKETCH_ACCURACY,
  };
  const problems: string[] = [];
  if (!Number.isInteger(r.seed)) problems.push(`seed must be a whole number, got ${r.seed}`);
  for (const key of ['sampleSize', 'bins', 'maxCategories', 'trackedCategories', 'exactDistinctLimit', 'integerCategoryLimit'] as const) {
    if (!Number.isInteger(r[key]) || r[key] < 1) problems.push(`${key} must be a whole number ≥ 1, got ${r[key]}`);
  }
  if (r.trackedCategories < r.maxCategories) problems.push(`trackedCategories (${r.trackedCategories}) must be ≥ maxCategories (${r.maxCategories})`);
  if (!(r.sketchAccuracy > 0 && r.sketchAccuracy < 1)) problems.push(`sketchAccuracy must be in (0, 1), got ${r.sketchAccuracy}`);
  if (problems.length > 0) throw ProfileErrors.MONITORING_PROFILE_INVALID_OPTIONS(`profile builder: ${problems.join('; ')}`);
  return r;
}

// ─── Histogram edges ────────────────────────────────────────────────────────────────────────────

/**
 * The bin of `value` under a profile histogram's rule: edges[i] ≤ v < edges[i+1], the last bin
 * including its upper edge, values below the first edge in the first bin and above the last in the
 * last. Drift detection bins live values with the same rule.
 */
export function histogramBin(edges: readonly number[], value: number): number {
  const last = edges.length - 2;
  if (last <= 0) return 0;
  // largest i with edges[i] ≤ value, by bisection
  let lo = 0;
  let hi = last;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((edges[mid] as number) <= value) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Sorted distinct values and how often each occurs. */
interface Distribution {
  readonly values: readonly number[];
  readonly counts: readonly number[];
  readonly total: number;
}

function distributionOf(counts: ReadonlyMap<number, number>): Distribution {
  const values = [...counts.keys()].sort((a, b) => a - b);
  const c = values.map((v) => counts.get(v) ?? 0);
  return { values, counts: c, total: c.reduce((a, b) => a + b, 0) };
}

/**
 * Bin edges for a column with values in [min, max], from a distribution of its values (all of them,
 * or a uniform sample): one bin per distinct value when there are at most `bins` of them; else
 * quantile bins — boundary j (of bins − 1) follows the first value whose cumulative share reaches
 * j / bins, so each bin holds about 1 / bins of the values. Boundaries sit halfway between two
 * neighbouring distinct values, so a value that repeats is never split across bins, and ties merge
 * bins rather than make empty ones. A constant column gets three bins — below, at and above its
 * value — so a live value that differs still lands outside the reference's bin.
 */
export function histogramEdges(dist: Distribution, min: number, max: number, bins: number): number[] {
  if (min === max) {
    const w = 1e-6 * Math.max(1, Math.abs(min));
    return [min - 2 * w, min - w, min + w, min + 2 * w];
  }
  const { values, counts, total } = dist;
  const k = values.length;
  const cuts: number[] = [];
  if (k <= bins) {
    for (let a = 0; a + 1 < k; a++) cuts.push(a);
  } else {
    let cumulative = 0;
    let a = 0;
    for (let j = 1; j < bins; j++) {
      // first index whose cumulative count reaches j/bins of the total (integers: no rounding)
      while (a < k && (cumulative + (counts[a] as number)) * bins < j * total) cumulative += counts[a++] as number;
      if (a >= k - 1) break;
      if (cuts[cuts.length - 1] !== a) cuts.push(a);
    }
  }
  const inner = cuts.map((a) => ((values[a] as number) + (values[a + 1] as number)) / 2).filter((b) => b > min && b < max);
  return [min, ...inner, max];
}

// ─── Columns ────────────────────────────────────────────────────────────────────────────────────

interface Column {
  add(value: FeatureValue): void;
  /** Fixes the bins; true when their counts need a second pass. */
  seal(): boolean;
  recount(value: FeatureValue): void;
  profile(name: string, input: string, column: number | null): FeatureProfile;
}

/** A numeric column; for an integer input it may turn out categorical (few distinct values). */
function numericColumn(o: ResolvedOptions, random: SeededRandom, integer: boolean, where: string): Column {
  let count = 0;
  let missing = 0;
  let min = Infinity;
  let max = -Infinity;
  const moments: MomentsAccumulator = createMomentsAccumulator();
  const sketch: CentredSketch = createCentredSketch(o.sketchAccuracy);
  const sample: number[] = [];
  let exact: Map<number, number> | null = new Map();
  let edges: number[] | undefined;
  let binCounts: number[] | undefined;
  let recounting = false;

  const valueOf = (value: FeatureValue): number | null => {
    if (value === null) return null;
    if (typeof value !== 'number') throw ProfileErrors.MONITORING_PROFILE_INVALID_OPTIONS(`profile builder: ${where} is numeric, got ${JSON.stringify(value)}`);
    return Number.isFinite(value) ? value : null;
  };

  const categorical = (): boolean => integer && exact !== null && exact.size <= o.integerCategoryLimit;

  return {
    add(value) {
      const x = valueOf(value);
      if (x === null) {
        missing++;
        return;
      }
      count++;
      if (x < min) min = x;
      if (x > max) max = x;
      moments.add(x);
      sketch.add(x);
      // Algorithm R: after the first sampleSize values, value i replaces a random slot with probability sampleSize / (i + 1)
      if (sample.length < o.sampleSize) sample.push(x);
      else {
        const j = random.int(count);
        if (j < o.sampleSize) sample[j] = x;
      }
      if (exact !== null) {
        exact.set(x, (exact.get(x) ?? 0) + 1);
        if (exact.size > o.exactDistinctLimit) exact = null;
      }
    },
    seal() {
      if (edges !== undefined) return recounting;
      if (count === 0) {
        edges = [0, 1];
        binCounts = [0];
        return false;
      }
      if (exact !== null) {
        const dist = distributionOf(exact);
        edges = histogramEdges(dist, min, max, o.bins);
        binCounts = new Array<number>(edges.length - 1).fill(0);
        const e = edges;
        const c = binCounts;
        dist.values.forEach((v, i) => {
          const bin = histogramBin(e, v);
          c[bin] = (c[bin] ?? 0) + (dist.counts[i] as number);
        });
        return false;
      }
      const fromSample = new Map<number, number>();
      for (const v of sample) fromSample.set(v, (fromSample.get(v) ?? 0) + 1);
      edges = histogramEdges(distributionOf(fromSample), min, max, o.bins);
      binCounts = new Array<number>(edges.length - 1).fill(0);
      recounting = true;
      return true;
    },
    recount(value) {
      if (!recounting || edges === undefined || binCounts === undefined) return;
      const x = valueOf(value);
      if (x === null) return;
      const bin = histogramBin(edges, x);
      binCounts[bin] = (binCounts[bin] ?? 0) + 1;
    },
    profile(name, input, column) {
      if (edges === undefined || binCounts === undefined) throw ProfileErrors.MONITORING_PROFILE_INVALID_OPTIONS('profile builder: finish() before seal()');
      if (categorical() && exact !== null) {
        const frequencies: Record<string, number> = {};
        for (const [v, c] of [...exact.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])) frequencies[String(v)] = c;
        const p: CategoricalFeatureProfile = { kind: 'categorical', name, input, column, count, missing, frequencies };
        return p;
      }
      if (recounting) {
        const counted = binCounts.reduce((a, b) => a + b, 0);
        if (counted !== count) {
          throw ProfileErrors.MONITORING_PROFILE_INVALID_OPTIONS(`profile builder: the second pass counted ${counted} values of ${where}, the first ${count}; recount every row once`);
        }
      }
      const histogram = { edges: [...edges], counts: [...binCounts] };
      if (count === 0) {
        // nothing to summarise: zeros keep the record JSON-exact; `count` 0 says what they mean
        const zeros = PROFILE_QUANTILES.map(() => 0);
        return { kind: 'numeric', name, input, column, count, missing, min: 0, max: 0, mean: 0, std: 0, quantiles: zeros, histogram, sample: [] };
      }
      const snapshot = moments.snapshot();
      const dist = exact === null ? undefined : distributionOf(exact);
      // a sketched quantile may round past the extremes by its accuracy: keep it within them
      const quantiles = PROFILE_QUANTILES.map((q) => Math.min(max, Math.max(min, dist === undefined ? sketch.quantile(q) : exactQuantile(dist, q))));
      const p: NumericFeatureProfile = {
        kind: 'numeric',
        name,
        input,
        column,
        count,
        missing,
        min,
        max,
        mean: snapshot.mean,
        std: count < 2 ? 0 : Math.sqrt(Math.max(0, snapshot.m2) / (count - 1)),
        quantiles,
        histogram,
        sample: [...sample],
      };
      return p;
    },
  };
}

/** The type-7 quantile (numpy's default) of an exact distribution. */
function exactQuantile(dist: Distribution, p: number): number {
  const h = (dist.total - 1) * p;
  const lo = Math.floor(h);
  const a = valueAtRank(dist, lo);
  if (h === lo || lo + 1 >= dist.total) return a;
  return a + (h - lo) * (valueAtRank(dist, lo + 1) - a);
}

function valueAtRank(dist: Distribution, rank: number): number {
  let cumulative = 0;
  for (let i = 0; i < dist.values.length; i++) {
    cumulative += dist.counts[i] as number;
    if (cumulative > rank) return dist.values[i] as number;
  }
  return dist.values[dist.values.length - 1] as number;
}

/** A categorical column: exact counts for the first `trackedCategories` categories seen. */
function categoricalColumn(o: ResolvedOptions): Column {
  let count = 0;
  let missing = 0;
  let untracked = 0;
  const counts = new Map<string, number>();
  return {
    add(value) {
      if (value === null || (typeof value === 'number' && !Number.isFinite(value))) {
        missing++;
        return;
      }
      const key = typeof value === 'string' ? value : String(value);
      count++;
      const seen = counts.get(key);
      if (seen !== undefined) counts.set(key, seen + 1);
      else if (counts.size < o.trackedCategories) counts.set(key, 1);
      else untracked++;
    },
    seal: () => false,
    recount: () => undefined,
    profile(name, input, column) {
      const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const frequencies: Record<string, number> = {};
      let other = untracked;
      ranked.forEach(([key, c], i) => {
        if (i < o.maxCategories && key !== OTHER_CATEGORY) frequencies[key] = c;
        else other += c;
      });
      if (other > 0) frequencies[OTHER_CATEGORY] = other;
      const p: CategoricalFeatureProfile = { kind: 'categorical', name, input, column, count, missing, frequencies };
      return p;
    },
  };
}

const CATEGORICAL_TYPES: ReadonlySet<Datatype> = new Set(['BYTES', 'BOOL']);
const INTEGER_TYPES: ReadonlySet<Datatype> = new Set(['INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);

/** The prediction column, created by the first prediction (which decides its kind). */
interface PredictionColumn {
  kind: 'categorical' | 'numeric' | undefined;
  column: Column | undefined;
  /** Rows without a prediction before the first one. */
  missing: number;
}

/** Creates a builder; see {@link ProfileBuilder}. */
export function createProfileBuilder(options: ProfileBuilderOptions): ProfileBuilder {
  const o = resolve(options);
  const specs = options.features;
  const withPredictions = options.predictions ?? true;
  const seedFor = (index: number): number => (o.seed + Math.imul(index + 1, 0x9e3779b9)) | 0;
  const columns: Column[] = specs.map((spec, i) => {
    const where = `feature "${spec.name}"`;
    if (CATEGORICAL_TYPES.has(spec.datatype)) return categoricalColumn(o);
    return numericColumn(o, createSeededRandom(seedFor(i)), INTEGER_TYPES.has(spec.datatype), where);
  });
  const prediction: PredictionColumn = { kind: undefined, column: undefined, missing: 0 };
  const jointRows = createJointSample(specs, options.covariance ?? true, options.covarianceRows ?? PROFILE_COVARIANCE_ROWS, createSeededRandom(seedFor(-2)));
  let rows = 0;
  let sealed: SecondPass | undefined;
  let recounted = 0;

  const checkWidth = (values: readonly FeatureValue[]): void => {
    if (values.length !== columns.length) {
      throw ProfileErrors.MONITORING_PROFILE_INVALID_OPTIONS(`profile builder: a row has ${values.length} values; the profile has ${columns.length} features`);
    }
  };

  const addPrediction = (value: PredictionValue | undefined): void => {
    if (!withPredictions) return;
    if (value === null || value === undefined) {
      if (prediction.column === undefined) prediction.missing++;
      else prediction.column.add(null);
      return;
    }
    if (prediction.column === undefined) {
      // the first prediction decides the kind; rows before it had none
      prediction.kind = typeof value === 'string' ? 'categorical' : 'numeric';
      prediction.column = prediction.kind === 'categorical' ? categoricalColumn(o) : numericColumn(o, createSeededRandom(seedFor(-1)), false, 'the prediction');
      for (let i = 0; i < prediction.missing; i++) prediction.column.add(null);
    }
    const fits = (typeof value === 'string') === (prediction.kind === 'categorical');
    prediction.column.add(fits ? value : null);
  };

  const builder: ProfileBuilder = {
    add(values, predicted) {
      if (sealed !== undefined) throw ProfileErrors.MONITORING_PROFILE_INVALID_OPTIONS('profile builder: add() after seal(); use recount() for the second pass');
      checkWidth(values);
      for (let i = 0; i < columns.length; i++) (columns[i] as Column).add(values[i] ?? null);
      addPrediction(predicted);
      jointRows?.add(values);
      rows++;
    },
    seal() {
      if (sealed !== undefined) return sealed;
      let needed = false;
      for (const c of columns) if (c.seal()) needed = true;
      const predictions = prediction.column?.seal() ?? false;
      sealed = { needed: needed || predictions, predictions };
      return sealed;
    },
    recount(values, predicted) {
      const pass = builder.seal();
      if (!pass.needed) return;
      checkWidth(values);
      for (let i = 0; i < columns.length; i++) (columns[i] as Column).recount(values[i] ?? null);
      if (pass.predictions) {
        const fits = predicted !== undefined && predicted !== null && (typeof predicted === 'string') === (prediction.kind === 'categorical');
        prediction.column?.recount(fits ? predicted : null);
      }
      recounted++;
    },
    finish(meta) {
      const pass = builder.seal();
      if (pass.needed && recounted !== rows) {
        throw ProfileErrors.MONITORING_PROFILE_INVALID_OPTIONS(`profile builder: the second pass saw ${recounted} rows, the first ${rows}; recount every row once`);
      }
      const features = columns.map((c, i) => {
        const spec = specs[i] as FeatureSpec;
        return c.profile(spec.name, spec.input, spec.column);
      });
      // no row had a prediction (outputs with no label, scores or value): null, as the format says
      const name = meta.predictionOutput ?? 'prediction';
      const predictions: FeatureProfile | null = prediction.column === undefined ? null : prediction.column.profile(name, name, null);
      return {
        format: 1,
        model: meta.model,
        version: meta.version,
        rows,
        source: meta.source,
        createdAt: meta.createdAt,
        createdBy: meta.createdBy,
        features,
        predictions,
        covariance: jointRows === undefined ? null : jointRows.covariance(features),
      };
    },
    get rows() {
      return rows;
    },
  };
  return builder;
}

// ─── Covariance ─────────────────────────────────────────────────────────────────────────────────

/** A seeded uniform sample of whole rows of the numeric candidate columns, for their covariance. */
interface JointSample {
  add(values: readonly FeatureValue[]): void;
  /** The covariance of the features that ended numeric with spread, or null when too few complete rows. */
  covariance(features: readonly FeatureProfile[]): CovarianceProfile | null;
}

/**
 * Keeps up to `capacity` rows (Algorithm R, like the per-column samples, but of whole rows so the
 * columns stay paired) of the columns that may turn out numeric: floats and integers. Missing
 * values are kept as NaN; a row missing a covered feature is left out at the end. Undefined when
 * switched off or when there are no candidates or more than {@link PROFILE_COVARIANCE_MAX_FEATURES}.
 */
function createJointSample(specs: readonly FeatureSpec[], enabled: boolean, capacity: number, random: SeededRandom): JointSample | undefined {
  const candidates: number[] = [];
  specs.forEach((spec, i) => {
    if (!CATEGORICAL_TYPES.has(spec.datatype)) candidates.push(i);
  });
  if (!enabled || candidates.length === 0 || candidates.length > PROFILE_COVARIANCE_MAX_FEATURES || !(capacity >= 1)) return undefined;
  const kept: Float64Array[] = [];
  let seen = 0;
  const fill = (into: Float64Array, values: readonly FeatureValue[]): void => {
    for (let c = 0; c < candidates.length; c++) {
      const v = values[candidates[c] as number];
      into[c] = typeof v === 'number' && Number.isFinite(v) ? v : NaN;
    }
  };
  return {
    add(values) {
      seen++;
      if (kept.length < capacity) {
        const row = new Float64Array(candidates.length);
        fill(row, values);
        kept.push(row);
        return;
      }
      const j = random.int(seen);
      if (j < capacity) fill(kept[j] as Float64Array, values);
    },
    covariance(features) {
      // covered: numeric in the end (an integer column with few values is categorical) and with spread
      const covered: number[] = [];
      const slots: number[] = [];
      candidates.forEach((featureIndex, slot) => {
        const f = features[featureIndex];
        if (f?.kind === 'numeric' && f.count >= 2 && f.std > 0) {
          covered.push(featureIndex);
          slots.push(slot);
        }
      });
      if (covered.length === 0) return null;
      const d = covered.length;
      const complete: Float64Array[] = [];
      for (const row of kept) {
        const x = new Float64Array(d);
        let ok = true;
        for (let i = 0; i < d && ok; i++) {
          const v = row[slots[i] as number] as number;
          if (Number.isNaN(v)) ok = false;
          else x[i] = v;
        }
        if (ok) complete.push(x);
      }
      if (complete.length < PROFILE_COVARIANCE_MIN_ROWS) return null;
      const estimate = shrinkageCovariance(complete, d);
      return { features: covered, rows: estimate.rows, mean: [...estimate.mean], matrix: [...estimate.covariance], shrinkage: estimate.shrinkage };
    },
  };
}
