/**
 * A bounded, mergeable quantile sketch with a relative-error guarantee, after DDSketch (Masson, Rim &
 * Lee, "DDSketch: a fast and fully-mergeable quantile sketch with relative-error guarantees", VLDB
 * 2019). A positive value x falls in bucket i = ⌈log_γ x⌉ with γ = (1 + a)/(1 − a); a bucket's
 * representative 2γⁱ/(γ + 1) is within relative error a of every value in it, so every quantile the
 * sketch reports is within a of a true sample quantile (while no bucket has been collapsed). When the
 * bucket count exceeds `maxBins`, the lowest buckets are merged, which keeps high quantiles (p99)
 * accurate — the ones latency checks need. Deterministic, unlike a reservoir sample.
 */
import { StatsErrors } from './errors.js';

/** The sketch as plain JSON-safe data: store it, ship it, merge it later. */
export interface QuantileSketchState {
  readonly relativeAccuracy: number;
  readonly maxBins: number;
  readonly count: number;
  /** Values below {@link SKETCH_MIN_VALUE} (including zero) are counted here. */
  readonly zeroCount: number;
  readonly min: number | null;
  readonly max: number | null;
  readonly sum: number;
  /** [bucket index, count] pairs in ascending index order. */
  readonly bins: ReadonlyArray<readonly [number, number]>;
}

export interface QuantileSketchOptions {
  /** Relative accuracy a of reported quantiles, in (0, 1). Default 0.01 (1 %). */
  readonly relativeAccuracy?: number;
  /** Bucket cap; beyond it the lowest buckets merge. Default 2048. */
  readonly maxBins?: number;
}

export interface QuantileSketch {
  /** Adds a non-negative finite value `weight` times. */
  add(x: number, weight?: number): void;
  /** Adds every value of another sketch with the same relative accuracy. */
  merge(other: QuantileSketchState): void;
  /** The q-quantile (lower-rank convention, rank q·(count − 1)); NaN while empty. */
  quantile(q: number): number;
  readonly count: number;
  toJSON(): QuantileSketchState;
}

/** Smallest value given its own bucket; smaller values count as zero. */
export const SKETCH_MIN_VALUE = 1e-9;
export const DEFAULT_SKETCH_ACCURACY = 0.01;
export const DEFAULT_SKETCH_MAX_BINS = 2048;

function checkOptions(a: number, maxBins: number): void {
  if (!(a > 0 && a < 1)) throw StatsErrors.STATS_INVALID_INPUT(`quantile sketch: relativeAccuracy must be in (0, 1), got ${a}`);
  if (!Number.isInteger(maxBins) || maxBins < 8) throw StatsErrors.STATS_INVALID_INPUT(`quantile sketch: maxBins must be a whole number ≥ 8, got ${maxBins}`);
}

/** Creates an empty sketch, or one resumed from a stored state. */
export function createQuantileSketch(options: QuantileSketchOptions = {}, from?: QuantileSketchState): QuantileSketch {
  const a = from?.relativeAccuracy ?? options.relativeAccuracy ?? DEFAULT_SKETCH_ACCURACY;
  const maxBins = from?.maxBins ?? options.maxBins ?? DEFAULT_SKETCH_MAX_BINS;
  checkOptions(a, maxBins);
  const gamma = (1 + a) / (1 - a);
  const lnGamma = Math.log(gamma);
  const bins = new Map<number, number>();
  let count = 0;
  let zeroCount = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;

  const collapse = (): void => {
    if (bins.size <= maxBins) return;
    const keys = [...bins.keys()].sort((x, y) => x - y);
    const excess = keys.length - maxBins;
    const target = keys[excess] as number;
    let moved = 0;
    for (let i = 0; i < excess; i++) {
      const k = keys[i] as number;
      moved += bins.get(k) ?? 0;
      bins.delete(k);
    }
    bins.set(target, (bins.get(target) ?? 0) + moved);
  };

  const sketch: QuantileSketch = {
    add(x, weight = 1) {
      if (!Number.isFinite(x) || x < 0) throw StatsErrors.STATS_INVALID_INPUT(`quantile sketch: values must be finite and ≥ 0, got ${x}`);
      if (!(weight > 0) || !Number.isFinite(weight)) throw StatsErrors.STATS_INVALID_INPUT(`quantile sketch: weight must be a positive number, got ${weight}`);
      count += weight;
      sum += x * weight;
      if (x < min) min = x;
      if (x > max) max = x;
      if (x < SKETCH_MIN_VALUE) {
        zeroCount += weight;
        return;
      }
      const i = Math.ceil(Math.log(x) / lnGamma);
      bins.set(i, (bins.get(i) ?? 0) + weight);
      collapse();
    },
    merge(other) {
      if (other.relativeAccuracy !== a) {
        throw StatsErrors.STATS_INVALID_INPUT(`quantile sketch: cannot merge relativeAccuracy ${other.relativeAccuracy} into ${a}`);
      }
      if (other.count === 0) return;
      count += other.count;
      zeroCount += other.zeroCount;
      sum += other.sum;
      if (other.min !== null && other.min < min) min = other.min;
      if (other.max !== null && other.max > max) max = other.max;
      for (const [i, c] of other.bins) bins.set(i, (bins.get(i) ?? 0) + c);
      collapse();
    },
    quantile(q) {
      if (!(q >= 0 && q <= 1)) throw StatsErrors.STATS_INVALID_INPUT(`quantile sketch: q must be in [0, 1], got ${q}`);
      if (count === 0) return NaN;
      const rank = q * (count - 1);
      if (rank < zeroCount) return min;
      let cumulative = zeroCount;
      for (const i of [...bins.keys()].sort((x, y) => x - y)) {
        cumulative += bins.get(i) ?? 0;
        if (cumulative > rank) return Math.min(max, Math.max(min, (2 * Math.pow(gamma, i)) / (gamma + 1)));
      }
      return max;
    },
    get count() {
      return count;
    },
    toJSON() {
      return {
        relativeAccuracy: a,
        maxBins,
        count,
        zeroCount,
        min: count === 0 ? null : min,
        max: count === 0 ? null : max,
        sum,
        bins: [...bins.entries()].sort((x, y) => x[0] - y[0]),
      };
    },
  };
  if (from !== undefined) sketch.merge(from);
  return sketch;
}

/** The q-quantile of a stored sketch state (NaN while empty). */
export function sketchQuantile(state: QuantileSketchState, q: number): number {
  return createQuantileSketch({}, state).quantile(q);
}

/** Merges two stored sketch states into a new one. */
export function mergeSketches(a: QuantileSketchState, b: QuantileSketchState): QuantileSketchState {
  const s = createQuantileSketch({}, a);
  s.merge(b);
  return s.toJSON();
}
