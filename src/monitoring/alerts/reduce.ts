/**
 * From samples to one number per alert instance. The evaluator records, at each evaluation, the
 * samples that rules over a window need (bounded: the longest window of the rules reading a
 * metric, and `maxSeries` series in all); rates, increases and bucket deltas are computed from
 * those points as Prometheus's `increase` does, counter resets included.
 */
import { isHistogramReduce, matchesLabels, QUANTILE_OF } from './rules.js';
import type { AlertRule, LabelMatcher, MetricFamily, MetricSample, MetricType, RuleFigures } from './types.js';

/** The samples of one evaluation, by sample name (`x_bucket`, `x_count` and `x` alike). */
export interface SampleIndex {
  get(name: string): { readonly type: MetricType; readonly family: string; readonly samples: readonly MetricSample[] } | undefined;
  /** The type of the family named `name` (a histogram's family name has no samples of its own). */
  familyType(name: string): MetricType | undefined;
}

/** Indexes families by sample name. */
export function indexSamples(families: readonly MetricFamily[]): SampleIndex {
  const byName = new Map<string, { type: MetricType; family: string; samples: MetricSample[] }>();
  const types = new Map<string, MetricType>();
  for (const f of families) {
    types.set(f.name, f.type);
    for (const s of f.samples) {
      let entry = byName.get(s.name);
      if (entry === undefined) byName.set(s.name, (entry = { type: f.type, family: f.name, samples: [] }));
      entry.samples.push(s);
    }
  }
  return { get: (name) => byName.get(name), familyType: (name) => types.get(name) };
}

/** A stable key of a label set. */
export function labelsKey(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}

interface Point {
  readonly t: number;
  readonly v: number;
  /**
   * The series' increase since its first point, resets counted as Prometheus counts them: the
   * increase between any two kept points is the difference of their `a`, however many points in
   * between were thinned away.
   */
  readonly a: number;
}

/** Points a series keeps at most; older points beyond it are thinned (every other one), which coarsens where a window starts but keeps increases exact. */
export const MAX_POINTS_PER_SERIES = 512;

/** The next point after `last` (undefined: the first). */
function nextPoint(last: Point | undefined, t: number, v: number): Point {
  if (last === undefined) return { t, v, a: 0 };
  return { t, v, a: last.a + (v >= last.v ? v - last.v : v) };
}

/** Drops every other point of the older half, keeping the first and the newest half. */
function thin(points: Point[]): void {
  const half = Math.floor(points.length / 2);
  const kept: Point[] = [];
  for (let i = 0; i < half; i++) if (i === 0 || i % 2 === 0) kept.push(points[i] as Point);
  points.splice(0, half, ...kept);
}

interface Series {
  readonly points: Point[];
}

/** An increase over a span of time. */
export interface Increase {
  readonly increase: number;
  /** Milliseconds since the epoch of the first and last point used. */
  readonly from: number;
  readonly to: number;
}

/** The sample names a rule needs history of. */
export function historyNames(rule: AlertRule): string[] {
  if (isHistogramReduce(rule.reduce)) return [`${rule.metric}_bucket`, `${rule.metric}_sum`, `${rule.metric}_count`];
  if (rule.reduce === 'value') return [];
  return rule.denominator === undefined ? [rule.metric] : [rule.metric, rule.denominator];
}

export interface SeriesHistory {
  /**
   * Records the samples of the names in `horizons` (name → how far back points are kept, ms) at
   * time `now`, and forgets points, series and names no longer needed.
   */
  record(now: number, index: SampleIndex, horizons: ReadonlyMap<string, number>): void;
  /** The increase of a series over `windowMs` before `now` (undefined: absent now, or one point only). */
  increase(name: string, labels: Readonly<Record<string, string>>, now: number, windowMs: number): Increase | undefined;
  /** Series and points held, and series refused because `maxSeries` was reached. */
  stats(): { readonly series: number; readonly points: number; readonly refusedSeries: number };
}

const COUNTER_LIKE: readonly MetricType[] = ['counter', 'histogram', 'summary'];

/** The history of sampled series, bounded by `maxSeries` series. */
export function createSeriesHistory(maxSeries: number): SeriesHistory {
  const byName = new Map<string, Map<string, Series>>();
  const lastRecordedAt = new Map<string, number>();
  let total = 0;
  let refused = 0;

  return {
    record(now, index, horizons) {
      for (const name of [...byName.keys()]) {
        if (!horizons.has(name)) {
          total -= byName.get(name)?.size ?? 0;
          byName.delete(name);
          lastRecordedAt.delete(name);
        }
      }
      for (const [name, horizonMs] of horizons) {
        let series = byName.get(name);
        if (series === undefined) byName.set(name, (series = new Map<string, Series>()));
        const found = index.get(name);
        const previous = lastRecordedAt.get(name);
        if (found !== undefined) {
          for (const s of found.samples) {
            const key = labelsKey(s.labels);
            let entry = series.get(key);
            if (entry === undefined) {
              if (total >= maxSeries) {
                refused++;
                continue;
              }
              entry = { points: [] };
              series.set(key, entry);
              total++;
              // A counter series that appears after this name's first recording did not exist at
              // the previous evaluation: it started from zero in between (prom-client creates a
              // child on its first increment), so that first increment is not lost.
              if (previous !== undefined && COUNTER_LIKE.includes(found.type)) entry.points.push({ t: previous, v: 0, a: 0 });
            }
            const last = entry.points[entry.points.length - 1];
            if (last !== undefined && last.t === now) entry.points[entry.points.length - 1] = nextPoint(entry.points[entry.points.length - 2], now, s.value);
            else entry.points.push(nextPoint(last, now, s.value));
            if (entry.points.length > MAX_POINTS_PER_SERIES) thin(entry.points);
          }
        }
        lastRecordedAt.set(name, now);
        // keep the points inside the horizon plus the last one before it (the window's baseline)
        const cutoff = now - horizonMs;
        for (const [key, entry] of series) {
          let firstKept = 0;
          while (firstKept + 1 < entry.points.length && (entry.points[firstKept + 1]?.t ?? Infinity) <= cutoff) firstKept++;
          if (firstKept > 0) entry.points.splice(0, firstKept);
          const last = entry.points[entry.points.length - 1];
          if (last === undefined || last.t < cutoff) {
            series.delete(key);
            total--;
          }
        }
      }
    },
    increase(name, labels, now, windowMs) {
      const entry = byName.get(name)?.get(labelsKey(labels));
      if (entry === undefined) return undefined;
      const points = entry.points;
      const lastIndex = points.length - 1;
      const last = points[lastIndex];
      if (last === undefined || last.t !== now) return undefined;
      let base = 0;
      for (let i = 0; i < lastIndex; i++) if ((points[i]?.t ?? Infinity) <= now - windowMs) base = i;
      if (base >= lastIndex) return undefined;
      const increase = last.a - (points[base]?.a ?? 0);
      return { increase, from: points[base]?.t ?? now, to: now };
    },
    stats() {
      let points = 0;
      for (const series of byName.values()) for (const s of series.values()) points += s.points.length;
      return { series: total, points, refusedSeries: refused };
    },
  };
}

/** A histogram bucket: its upper bound and the cumulative count of observations up to it. */
export interface Bucket {
  readonly upperBound: number;
  readonly count: number;
}

/**
 * The q-quantile of cumulative buckets by linear interpolation within the bucket it falls in,
 * exactly as Prometheus's `histogram_quantile` computes it (NaN without observations or without a
 * +Inf bucket; the highest finite bound when it falls in the +Inf bucket).
 */
export function bucketQuantile(q: number, input: readonly Bucket[]): number {
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const buckets = [...input].sort((a, b) => a.upperBound - b.upperBound);
  const last = buckets[buckets.length - 1];
  if (buckets.length < 2 || last === undefined || last.upperBound !== Infinity) return NaN;
  // counts must not decrease (they may after rounding or a scrape racing an observation)
  let max = 0;
  const counts = buckets.map((b) => (max = Math.max(max, b.count)));
  const observations = counts[counts.length - 1] ?? 0;
  if (observations === 0) return NaN;
  let rank = q * observations;
  let b = counts.findIndex((c) => c >= rank);
  if (b < 0) b = counts.length - 1;
  if (b === buckets.length - 1) return buckets[buckets.length - 2]?.upperBound ?? NaN;
  const upper = buckets[b]?.upperBound ?? NaN;
  if (b === 0 && upper <= 0) return upper;
  let start = 0;
  let count = counts[b] ?? 0;
  if (b > 0) {
    start = buckets[b - 1]?.upperBound ?? 0;
    const below = counts[b - 1] ?? 0;
    count -= below;
    rank -= below;
  }
  return start + (upper - start) * (rank / count);
}

/** One alert instance's figures at one evaluation. */
export interface InstanceResult {
  readonly labels: Readonly<Record<string, string>>;
  /** null: present, but too little data to judge (the alert keeps its state). */
  readonly value: number | null;
  readonly figures: RuleFigures;
}

/** A rule's result: its instances, or why it could not be evaluated. */
export interface RuleResult {
  readonly instances: readonly InstanceResult[];
  readonly error?: string;
}

function groupLabels(labels: Readonly<Record<string, string>>, by: readonly string[] | undefined, drop?: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (by === undefined) {
    for (const [k, v] of Object.entries(labels)) if (k !== drop) out[k] = v;
  } else {
    for (const k of by) {
      const v = labels[k];
      if (v !== undefined && v !== '') out[k] = v;
    }
  }
  return out;
}

interface IncreaseGroup {
  labels: Record<string, string>;
  increase: number;
  rate: number;
  series: number;
  covered: number;
  /** Series present now but with one point only. */
  unknown: number;
}

function increaseGroups(name: string, matchers: readonly LabelMatcher[], rule: AlertRule, index: SampleIndex, history: SeriesHistory, now: number): Map<string, IncreaseGroup> {
  const groups = new Map<string, IncreaseGroup>();
  const windowMs = rule.windowSeconds * 1000;
  for (const s of index.get(name)?.samples ?? []) {
    if (!matchesLabels(matchers, s.labels)) continue;
    const labels = groupLabels(s.labels, rule.by);
    const key = labelsKey(labels);
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { labels, increase: 0, rate: 0, series: 0, covered: 0, unknown: 0 }));
    const inc = history.increase(name, s.labels, now, windowMs);
    if (inc === undefined) {
      g.unknown++;
      continue;
    }
    g.series++;
    g.increase += inc.increase;
    const seconds = (inc.to - inc.from) / 1000;
    g.rate += seconds > 0 ? inc.increase / seconds : 0;
    g.covered = Math.max(g.covered, seconds);
  }
  return groups;
}

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** Evaluates one rule against this evaluation's samples and the recorded history. */
export function evaluateRule(rule: AlertRule, index: SampleIndex, history: SeriesHistory, now: number): RuleResult {
  const base = { metric: rule.metric, reduce: rule.reduce, windowSeconds: rule.windowSeconds };
  const min = rule.minSamples > 0 ? { minSamples: rule.minSamples } : {};
  const judged = (value: number | null, samples: number): number | null => (value === null || samples < rule.minSamples ? null : value);

  if (isHistogramReduce(rule.reduce)) {
    const buckets = index.get(`${rule.metric}_bucket`);
    if (buckets === undefined) {
      const other = index.familyType(rule.metric) ?? index.get(rule.metric)?.type;
      return other === undefined ? { instances: [] } : { instances: [], error: `metric ${rule.metric} is a ${other}, not a histogram; reduce ${rule.reduce} needs a histogram` };
    }
    const windowMs = rule.windowSeconds * 1000;
    const groups = new Map<string, { labels: Record<string, string>; byLe: Map<number, number>; series: Set<string>; covered: number; unknown: boolean }>();
    for (const s of buckets.samples) {
      if (!matchesLabels(rule.matchers, s.labels)) continue;
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      if (Number.isNaN(le)) continue;
      const labels = groupLabels(s.labels, rule.by, 'le');
      const key = labelsKey(labels);
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = { labels, byLe: new Map(), series: new Set(), covered: 0, unknown: false }));
      g.series.add(labelsKey(groupLabels(s.labels, undefined, 'le')));
      const inc = history.increase(`${rule.metric}_bucket`, s.labels, now, windowMs);
      if (inc === undefined) {
        g.unknown = true;
        continue;
      }
      g.byLe.set(le, (g.byLe.get(le) ?? 0) + inc.increase);
      g.covered = Math.max(g.covered, (inc.to - inc.from) / 1000);
    }
    // the sum of observations, per group, for the mean
    const sums = increaseGroups(`${rule.metric}_sum`, rule.matchers, rule, index, history, now);
    const instances: InstanceResult[] = [];
    for (const [key, g] of groups) {
      const bucketList = [...g.byLe].map(([upperBound, count]) => ({ upperBound, count }));
      const count = g.byLe.get(Infinity) ?? 0;
      const sum = sums.get(key)?.increase ?? 0;
      let value: number | null = null;
      if (!g.unknown && count > 0) {
        const q = QUANTILE_OF[rule.reduce];
        value = finiteOrNull(q === undefined ? sum / count : bucketQuantile(q, bucketList));
      }
      instances.push({
        labels: g.labels,
        value: judged(value, count),
        figures: { ...base, value: judged(value, count), series: g.series.size, coveredSeconds: g.covered, count, sum, ...(rule.minSamples > 0 ? { samples: count, ...min } : {}) },
      });
    }
    return { instances };
  }

  const found = index.get(rule.metric);
  if (index.familyType(rule.metric) === 'histogram') {
    return { instances: [], error: `metric ${rule.metric} is a histogram; use reduce p50…p99 or mean, or read ${rule.metric}_count / ${rule.metric}_sum` };
  }

  if (rule.reduce === 'value') {
    const groups = new Map<string, { labels: Record<string, string>; value: number; series: number }>();
    for (const s of found?.samples ?? []) {
      if (!matchesLabels(rule.matchers, s.labels)) continue;
      const labels = groupLabels(s.labels, rule.by);
      const key = labelsKey(labels);
      const g = groups.get(key) ?? { labels, value: 0, series: 0 };
      g.value += s.value;
      g.series++;
      groups.set(key, g);
    }
    return {
      instances: [...groups.values()].map((g) => {
        const value = finiteOrNull(g.value);
        return { labels: g.labels, value, figures: { ...base, value, series: g.series, coveredSeconds: 0 } };
      }),
    };
  }

  const numerator = increaseGroups(rule.metric, rule.matchers, rule, index, history, now);
  if (rule.reduce === 'ratio') {
    const denominatorName = rule.denominator ?? '';
    const denominators = increaseGroups(denominatorName, rule.denominatorMatchers, rule, index, history, now);
    const instances: InstanceResult[] = [];
    for (const [key, n] of numerator) {
      const d = denominators.get(key);
      // no denominator series with these labels: nothing to divide by, so no instance (as Prometheus's one-to-one match)
      if (d === undefined) continue;
      const value = n.series === 0 || d.series === 0 || d.increase <= 0 ? null : n.increase / d.increase;
      instances.push({
        labels: n.labels,
        value: judged(value, d.increase),
        figures: {
          ...base,
          value: judged(value, d.increase),
          series: n.series + d.series,
          coveredSeconds: Math.max(n.covered, d.covered),
          increase: n.increase,
          denominator: denominatorName,
          denominatorIncrease: d.increase,
          ...(rule.minSamples > 0 ? { samples: d.increase, ...min } : {}),
        },
      });
    }
    return { instances };
  }

  return {
    instances: [...numerator.values()].map((g) => {
      const raw = g.series === 0 ? null : rule.reduce === 'rate' ? g.rate : g.increase;
      const value = judged(raw, g.increase);
      return {
        labels: g.labels,
        value,
        figures: { ...base, value, series: g.series, coveredSeconds: g.covered, increase: g.increase, ...(rule.minSamples > 0 ? { samples: g.increase, ...min } : {}) },
      };
    }),
  };
}
