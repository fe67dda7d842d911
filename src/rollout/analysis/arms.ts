/**
 * Arm summaries and the accumulators that build them from a stream of observations. A summary is
 * cumulative, bounded in size and mergeable, so the data plane can keep one per arm per window and
 * the analysis never rescans raw requests.
 */
import { addToMoments, createMomentsAccumulator, createQuantileSketch, mergeMoments, mergeSketches, type QuantileSketchOptions } from '../../stats/index.js';
import { AnalysisErrors } from './errors.js';
import type { ArmSummary, ContinuousArm, HistogramArm, LatencyArm, RateArm } from './types.js';

/**
 * Latencies below this (1 µs) are recorded as this, because latency is compared on a log scale and
 * ln 0 is −∞. No real inference is that fast, so it only guards against clock rounding.
 */
export const LATENCY_FLOOR_MS = 0.001;

export interface RateArmAccumulator {
  /** Records one trial. */
  add(success: boolean): void;
  /** Records many trials at once. */
  addCounts(n: number, successes: number): void;
  summary(): RateArm;
}

/** Accumulates a rate arm (requests and errors, exposures and conversions). */
export function createRateArm(initial: RateArm = { kind: 'rate', n: 0, successes: 0 }): RateArmAccumulator {
  checkArm(initial, 'rate', 'initial');
  let n = initial.n;
  let successes = initial.successes;
  return {
    add(success) {
      n += 1;
      if (success) successes += 1;
    },
    addCounts(more, moreSuccesses) {
      checkArm({ kind: 'rate', n: more, successes: moreSuccesses }, 'rate', 'addCounts');
      n += more;
      successes += moreSuccesses;
    },
    summary: () => ({ kind: 'rate', n, successes }),
  };
}

export interface ContinuousArmAccumulator {
  add(value: number): void;
  summary(): ContinuousArm;
}

/** Accumulates a continuous metric (an outcome value per unit) with Welford's update. */
export function createContinuousArm(initial: ContinuousArm = { kind: 'continuous', n: 0, mean: 0, m2: 0 }): ContinuousArmAccumulator {
  checkArm(initial, 'continuous', 'initial');
  const acc = createMomentsAccumulator(initial);
  return {
    add: (value) => acc.add(value),
    summary: () => ({ kind: 'continuous', ...acc.snapshot() }),
  };
}

export interface LatencyArmOptions {
  /** Options of the quantile sketch kept for p50/p99, or false to keep none. Default 1 % accuracy. */
  readonly sketch?: QuantileSketchOptions | false;
}

export interface LatencyArmAccumulator {
  /** Records one latency in milliseconds. */
  add(ms: number): void;
  summary(): LatencyArm;
}

/**
 * Accumulates latencies: Welford moments of ln(ms) — the analysis compares mean log latency, i.e.
 * the ratio of geometric means — and a quantile sketch of the raw values for reporting p50 and p99.
 */
export function createLatencyArm(options: LatencyArmOptions = {}, initial?: LatencyArm): LatencyArmAccumulator {
  if (initial !== undefined) checkArm(initial, 'latency', 'initial');
  const moments = createMomentsAccumulator(initial === undefined ? undefined : { n: initial.n, mean: initial.logMean, m2: initial.logM2 });
  const sketch = options.sketch === false ? null : createQuantileSketch(options.sketch ?? {}, initial?.sketch ?? undefined);
  return {
    add(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_DATA(`latency must be a finite number of ms ≥ 0, got ${ms}`);
      moments.add(Math.log(Math.max(ms, LATENCY_FLOOR_MS)));
      sketch?.add(ms);
    },
    summary() {
      const m = moments.snapshot();
      return { kind: 'latency', n: m.n, logMean: m.mean, logM2: m.m2, sketch: sketch === null ? null : sketch.toJSON() };
    },
  };
}

export interface HistogramArmAccumulator {
  add(value: number): void;
  summary(): HistogramArm;
}

/**
 * Accumulates a histogram over fixed, strictly increasing edges e₀ < … < e_k: k + 2 bins,
 * (−∞, e₀), [e₀, e₁), …, [e_k, ∞). Both arms of a check must use the same edges.
 */
export function createHistogramArm(edges: readonly number[], initial?: HistogramArm): HistogramArmAccumulator {
  if (edges.length === 0 || edges.some((e, i) => !Number.isFinite(e) || (i > 0 && !(e > (edges[i - 1] as number))))) {
    throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_DATA('histogram edges must be finite and strictly increasing, at least one');
  }
  const counts = initial === undefined ? new Array<number>(edges.length + 1).fill(0) : [...initial.counts];
  if (counts.length !== edges.length + 1) throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_DATA(`a histogram over ${edges.length} edges has ${edges.length + 1} bins, got ${counts.length}`);
  return {
    add(value) {
      if (Number.isNaN(value)) throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_DATA('histogram value must not be NaN');
      // Binary search for the first edge greater than the value.
      let lo = 0;
      let hi = edges.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((edges[mid] as number) <= value) lo = mid + 1;
        else hi = mid;
      }
      counts[lo] = (counts[lo] as number) + 1;
    },
    summary: () => ({ kind: 'histogram', counts: [...counts] }),
  };
}

export interface CategoricalArmAccumulator {
  /** Records one observation of category `index` (e.g. the predicted class). */
  add(index: number): void;
  summary(): HistogramArm;
}

/** Accumulates counts over `categories` labelled 0 … categories − 1 (a histogram of predicted labels). */
export function createCategoricalArm(categories: number, initial?: HistogramArm): CategoricalArmAccumulator {
  if (!Number.isInteger(categories) || categories < 2) throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_DATA(`categories must be a whole number ≥ 2, got ${categories}`);
  const counts = initial === undefined ? new Array<number>(categories).fill(0) : [...initial.counts];
  if (counts.length !== categories) throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_DATA(`expected ${categories} categories, got ${counts.length}`);
  return {
    add(index) {
      if (!Number.isInteger(index) || index < 0 || index >= categories) throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_DATA(`category must be a whole number in [0, ${categories}), got ${index}`);
      counts[index] = (counts[index] as number) + 1;
    },
    summary: () => ({ kind: 'histogram', counts: [...counts] }),
  };
}

/** The number of observations in an arm summary. */
export function armSize(arm: ArmSummary): number {
  return arm.kind === 'histogram' ? arm.counts.reduce((s, c) => s + c, 0) : arm.n;
}

function isWhole(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0;
}

/** Throws ROLLOUT_ANALYSIS_INVALID_DATA unless `arm` is a well-formed summary of the expected kind. */
export function checkArm(arm: unknown, kind: ArmSummary['kind'], where: string): asserts arm is ArmSummary {
  const bad = (why: string): never => {
    throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_DATA(`${where}: ${why}`);
  };
  if (typeof arm !== 'object' || arm === null) return bad(`expected a ${kind} arm summary, got ${arm === null ? 'null' : typeof arm}`);
  const a = arm as Record<string, unknown>;
  if (a.kind !== kind) return bad(`expected a ${kind} arm summary, got kind ${JSON.stringify(a.kind)}`);
  switch (kind) {
    case 'rate':
      if (!isWhole(a.n)) bad(`n must be a whole number ≥ 0, got ${String(a.n)}`);
      if (!isWhole(a.successes) || a.successes > (a.n as number)) bad(`successes must be a whole number in [0, n], got ${String(a.successes)}`);
      return;
    case 'continuous':
    case 'latency': {
      const mean = kind === 'continuous' ? a.mean : a.logMean;
      const m2 = kind === 'continuous' ? a.m2 : a.logM2;
      if (!isWhole(a.n)) bad(`n must be a whole number ≥ 0, got ${String(a.n)}`);
      if (typeof mean !== 'number' || !Number.isFinite(mean)) bad(`${kind === 'continuous' ? 'mean' : 'logMean'} must be a finite number`);
      if (typeof m2 !== 'number' || !Number.isFinite(m2) || m2 < -1e-9 * Math.max(1, Math.abs(mean as number))) bad(`${kind === 'continuous' ? 'm2' : 'logM2'} must be a finite number ≥ 0`);
      return;
    }
    case 'histogram':
      if (!Array.isArray(a.counts) || a.counts.length === 0 || !a.counts.every((c) => typeof c === 'number' && Number.isFinite(c) && c >= 0)) {
        bad('counts must be a non-empty list of finite numbers ≥ 0');
      }
      return;
  }
}

/** Merges two summaries of the same kind (e.g. two windows), as if their observations were pooled. */
export function mergeArms<T extends ArmSummary>(a: T, b: T): T {
  return mergeAny(a, b) as T;
}

function mergeAny(a: ArmSummary, b: ArmSummary): ArmSummary {
  checkArm(a, a.kind, 'mergeArms(a)');
  checkArm(b, a.kind, 'mergeArms(b)');
  switch (a.kind) {
    case 'rate': {
      const other = b as RateArm;
      return { kind: 'rate', n: a.n + other.n, successes: a.successes + other.successes };
    }
    case 'continuous': {
      const m = mergeMoments(a, b as ContinuousArm);
      return { kind: 'continuous', n: m.n, mean: m.mean, m2: m.m2 };
    }
    case 'latency': {
      const other = b as LatencyArm;
      const m = mergeMoments({ n: a.n, mean: a.logMean, m2: a.logM2 }, { n: other.n, mean: other.logMean, m2: other.logM2 });
      const sketch = a.sketch && other.sketch ? mergeSketches(a.sketch, other.sketch) : (a.sketch ?? other.sketch ?? null);
      return { kind: 'latency', n: m.n, logMean: m.mean, logM2: m.m2, sketch };
    }
    case 'histogram': {
      const other = b as HistogramArm;
      if (other.counts.length !== a.counts.length) throw AnalysisErrors.ROLLOUT_ANALYSIS_INVALID_DATA(`mergeArms: histograms have ${a.counts.length} and ${other.counts.length} bins`);
      return { kind: 'histogram', counts: a.counts.map((c, i) => c + (other.counts[i] as number)) };
    }
  }
}

/** A latency arm summary from raw latencies (ms): handy in tests and simulations. */
export function latencyArmOf(latenciesMs: Iterable<number>, options: LatencyArmOptions = {}): LatencyArm {
  const acc = createLatencyArm(options);
  for (const ms of latenciesMs) acc.add(ms);
  return acc.summary();
}

/** A continuous arm summary from raw values. */
export function continuousArmOf(values: Iterable<number>): ContinuousArm {
  let m = { n: 0, mean: 0, m2: 0 };
  for (const v of values) m = addToMoments(m, v);
  return { kind: 'continuous', ...m };
}
