/**
 * The recommendation arithmetic of capacity planning: from recorded measurements and a target
 * (requests per second, a p99 latency), how many machines of the measured size each configuration
 * needs, at what cores, utilisation, expected p99, memory and cost — and which configuration to run.
 * Pure: no clock, no I/O; the same measurements and target always give the same plan. The rules are
 * written out in docs/plan.md ("The arithmetic").
 */
import { describe } from '../../core/index.js';
import { PlanErrors } from './errors.js';
import type {
  ConfigurationEstimate,
  ConfigurationMeasurement,
  LoadPoint,
  PlanConfigSnippet,
  PlanConfiguration,
  PlanMeasurements,
  PlanRecommendation,
  PlanResult,
  PlanTarget,
  ResolvedPlanTarget,
} from './types.js';

/** Default share of measured capacity an instance is planned to run at. */
export const DEFAULT_HEADROOM = 0.7;

/** Relative slack when dividing, so that 210 / (300 × 0.7) is 1 instance and not 2 from rounding noise. */
const EPSILON = 1e-9;

const fmt = (n: number, digits = 1): string => (Number.isInteger(n) ? String(n) : n.toFixed(digits));

/**
 * Why a point does not meet `p99Ms`, or null when it does: an error, a request unanswered or
 * cancelled (a point stopped early counts as failing whatever its partial p99: the planner stopped
 * it because it could no longer pass), nothing answered, or a p99 above the target.
 */
export function failureOf(point: Omit<LoadPoint, 'meetsTarget'>, p99Ms: number): string | null {
  if (point.errors > 0) {
    const codes = Object.entries(point.errorsByCode)
      .map(([code, n]) => `${code} ×${n}`)
      .join(', ');
    return `${point.errors} error${point.errors === 1 ? '' : 's'}${codes === '' ? '' : ` (${codes})`}`;
  }
  if (point.stoppedEarly !== null) return `stopped early: ${point.stoppedEarly}`;
  if (point.abandoned > 0) return `${point.abandoned} request${point.abandoned === 1 ? '' : 's'} unanswered`;
  if (point.latency === null) return 'nothing was answered';
  if (!(point.latency.p99Ms <= p99Ms)) return `p99 ${fmt(point.latency.p99Ms, 2)} ms > ${fmt(p99Ms, 2)} ms`;
  return null;
}

/** A configuration's capacity at a latency target, and the points that support it. */
export interface Capacity {
  /** null when not even the lowest measured rate passed. */
  readonly capacityRps: number | null;
  readonly reason: string;
  /** The passing points from the lowest rate up to the capacity, by rate (one per rate, the worst). */
  readonly passing: readonly LoadPoint[];
}

/**
 * The capacity of a configuration at `p99Ms`: the highest measured offered rate that passes (see
 * {@link failureOf}) with every lower measured rate passing too. Taking the passing prefix rather
 * than the highest passing point is deliberate: a pass above a failure is noise or luck, and a plan
 * must not rest on it. A rate measured more than once passes when one of its runs passed — the
 * search runs a rate again only to confirm a failure, so a pass on the second run says the first
 * was a hiccup (a pause of the machine, not the configuration's limit); of several passing runs the
 * one with the highest p99 is read.
 */
export function capacityOf(points: readonly LoadPoint[], p99Ms: number): Capacity {
  if (points.length === 0) return { capacityRps: null, reason: 'no load point was measured', passing: [] };
  // one run per rate: a pass over a failure, and of two passes (or two failures) the higher p99
  const byRate = new Map<number, LoadPoint>();
  const p99 = (p: LoadPoint): number => p.latency?.p99Ms ?? Infinity;
  for (const p of points) {
    const seen = byRate.get(p.offeredRps);
    const passes = failureOf(p, p99Ms) === null;
    if (seen === undefined) byRate.set(p.offeredRps, p);
    else {
      const seenPasses = failureOf(seen, p99Ms) === null;
      if ((passes && !seenPasses) || (passes === seenPasses && p99(p) > p99(seen))) byRate.set(p.offeredRps, p);
    }
  }
  const sorted = [...byRate.values()].sort((a, b) => a.offeredRps - b.offeredRps);
  const passing: LoadPoint[] = [];
  let firstFailure: { point: LoadPoint; why: string } | undefined;
  for (const p of sorted) {
    const why = failureOf(p, p99Ms);
    if (why !== null) {
      firstFailure = { point: p, why };
      break;
    }
    passing.push(p);
  }
  const top = passing[passing.length - 1];
  if (top === undefined) {
    const f = firstFailure;
    return {
      capacityRps: null,
      reason: f === undefined ? 'no load point was measured' : `the lowest measured rate, ${fmt(f.point.offeredRps)} req/s, already failed: ${f.why}`,
      passing,
    };
  }
  const above =
    firstFailure === undefined
      ? 'no measured rate failed, so the capacity may be higher (the search reached its point limit or its highest rate)'
      : `${fmt(firstFailure.point.offeredRps)} req/s failed: ${firstFailure.why}`;
  return { capacityRps: top.offeredRps, reason: `${fmt(top.offeredRps)} req/s is the highest measured rate meeting p99 ≤ ${fmt(p99Ms, 2)} ms; ${above}`, passing };
}

/** A reading of a figure at some load from the passing points, and how it was read. */
export interface Reading {
  readonly value: number;
  readonly basis: string;
}

/**
 * Reads `figure` at `rps` from points sorted by rate: linear interpolation between the two measured
 * rates around it; exactly the point's figure at a measured rate; and below the lowest measured
 * rate, that lowest point's figure — not extrapolated further down, and said so. Above the highest
 * point it is undefined: a plan never runs an instance above its measured capacity.
 */
export function readAt(sorted: readonly LoadPoint[], rps: number, figure: (p: LoadPoint) => number): Reading | undefined {
  const first = sorted[0];
  if (first === undefined) return undefined;
  if (rps <= first.offeredRps) {
    if (rps === first.offeredRps) return { value: figure(first), basis: `measured at ${fmt(first.offeredRps)} req/s` };
    return {
      value: figure(first),
      basis: `the load (${fmt(rps)} req/s) is below the lowest measured rate; the figure measured at ${fmt(first.offeredRps)} req/s is used, not extrapolated lower`,
    };
  }
  for (let i = 1; i < sorted.length; i++) {
    const lo = sorted[i - 1] as LoadPoint;
    const hi = sorted[i] as LoadPoint;
    if (rps <= hi.offeredRps) {
      if (rps === hi.offeredRps) return { value: figure(hi), basis: `measured at ${fmt(hi.offeredRps)} req/s` };
      const share = (rps - lo.offeredRps) / (hi.offeredRps - lo.offeredRps);
      return {
        value: figure(lo) + share * (figure(hi) - figure(lo)),
        basis: `interpolated between ${fmt(lo.offeredRps)} and ${fmt(hi.offeredRps)} req/s`,
      };
    }
  }
  return undefined;
}

/** Checks a target and applies defaults; throws OPTIMIZE_PLAN_INVALID_TARGET naming every bad field. */
export function resolvePlanTarget(target: PlanTarget): ResolvedPlanTarget {
  const problems: string[] = [];
  const positive = (value: unknown, field: string): number => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      problems.push(`target.${field}: must be a finite number > 0, got ${describe(value)}`);
      return NaN;
    }
    return value;
  };
  const t = (target ?? {}) as Partial<Record<keyof PlanTarget, unknown>>;
  const rps = positive(t.rps, 'rps');
  const p99Ms = positive(t.p99Ms, 'p99Ms');
  let pricePerCoreHour: number | null = null;
  if (t.pricePerCoreHour !== undefined) {
    if (typeof t.pricePerCoreHour !== 'number' || !Number.isFinite(t.pricePerCoreHour) || t.pricePerCoreHour < 0) {
      problems.push(`target.pricePerCoreHour: must be a finite number ≥ 0 (0 or absent: no cost), got ${describe(t.pricePerCoreHour)}`);
    } else if (t.pricePerCoreHour > 0) pricePerCoreHour = t.pricePerCoreHour;
  }
  let headroom = DEFAULT_HEADROOM;
  if (t.headroom !== undefined) {
    if (typeof t.headroom !== 'number' || !(t.headroom > 0 && t.headroom <= 1)) problems.push(`target.headroom: must be a number in (0, 1], got ${describe(t.headroom)}`);
    else headroom = t.headroom;
  }
  let currency = 'USD';
  if (t.currency !== undefined) {
    if (typeof t.currency !== 'string' || !/^[A-Za-z]{3}$/.test(t.currency)) problems.push(`target.currency: must be a three-letter code such as USD, got ${describe(t.currency)}`);
    else currency = t.currency.toUpperCase();
  }
  if (problems.length > 0) {
    throw PlanErrors.OPTIMIZE_PLAN_INVALID_TARGET(`invalid planning target (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  return { rps, p99Ms, pricePerCoreHour, currency, headroom };
}

/** The configuration as the server's config keys say it (docs/configuration.md), for one instance. */
export function configSnippet(c: PlanConfiguration): PlanConfigSnippet {
  return {
    serving: {
      replicas: c.replicas,
      intraOpThreads: c.intraOpThreads,
      placement: c.placement,
      batching: c.batching.enabled ? { enabled: true, maxBatchSize: c.batching.maxBatchSize, maxQueueDelayMicros: c.batching.maxQueueDelayMicros } : { enabled: false },
      autoscaling: { enabled: false },
    },
  };
}

interface Working {
  readonly index: number;
  readonly measurement: ConfigurationMeasurement;
  readonly capacity: Capacity;
  readonly estimate: Omit<ConfigurationEstimate, 'chosen' | 'why'>;
  readonly meanMs: number | null;
}

function estimateOf(m: ConfigurationMeasurement, index: number, target: ResolvedPlanTarget): Working {
  const configuration = m.configuration;
  const capacity = m.status === 'measured' ? capacityOf(m.points, target.p99Ms) : { capacityRps: null, reason: m.reason ?? m.status, passing: [] };
  const none = {
    configuration,
    status: m.status,
    capacityRps: null,
    usableCapacityRps: null,
    instances: null,
    cores: null,
    perInstanceRps: null,
    utilisation: null,
    expectedP99Ms: null,
    p99Basis: null,
    busyCoresPerInstance: null,
    memoryBytesPerInstance: m.rssBytes,
    costPer1MPredictions: null,
    meetsTarget: false,
  };
  const cap = capacity.capacityRps;
  if (cap === null || !(cap > 0)) return { index, measurement: m, capacity, estimate: none, meanMs: null };
  const usable = cap * target.headroom;
  const instances = Math.max(1, Math.ceil(target.rps / usable - EPSILON));
  const cores = instances * configuration.cores;
  const perInstanceRps = target.rps / instances;
  const p99 = readAt(capacity.passing, perInstanceRps, (p) => p.latency?.p99Ms ?? NaN);
  const busy = readAt(capacity.passing, perInstanceRps, (p) => p.busyCores);
  const mean = readAt(capacity.passing, perInstanceRps, (p) => p.latency?.meanMs ?? NaN);
  const price = target.pricePerCoreHour;
  return {
    index,
    measurement: m,
    capacity,
    meanMs: mean?.value ?? null,
    estimate: {
      ...none,
      capacityRps: cap,
      usableCapacityRps: usable,
      instances,
      cores,
      perInstanceRps,
      utilisation: target.rps / (instances * cap),
      expectedP99Ms: p99?.value ?? null,
      p99Basis: p99?.basis ?? null,
      busyCoresPerInstance: busy?.value ?? null,
      costPer1MPredictions: price === null ? null : ((cores * price) / (target.rps * 3600)) * 1e6,
      meetsTarget: p99 !== undefined && p99.value <= target.p99Ms,
    },
  };
}

/** Fewest cores, then the lower expected p99, then fewer instances, then the order measured. */
function rank(a: Working, b: Working): number {
  const ea = a.estimate;
  const eb = b.estimate;
  return (
    (ea.cores ?? Infinity) - (eb.cores ?? Infinity) ||
    (ea.expectedP99Ms ?? Infinity) - (eb.expectedP99Ms ?? Infinity) ||
    (ea.instances ?? Infinity) - (eb.instances ?? Infinity) ||
    a.index - b.index
  );
}

function whyNot(w: Working, chosen: Working | undefined, target: ResolvedPlanTarget): string {
  const e = w.estimate;
  if (w.measurement.status === 'skipped') return `not measured: ${w.measurement.reason ?? 'skipped'}`;
  if (w.measurement.status === 'failed') return `failed: ${w.measurement.reason ?? 'could not be measured'}`;
  if (!e.meetsTarget || e.cores === null) return `never meets p99 ≤ ${fmt(target.p99Ms, 2)} ms without errors: ${w.capacity.reason}`;
  const c = chosen?.estimate;
  if (c === undefined || c.cores === null) return 'meets the target';
  if (e.cores > c.cores) return `needs ${e.cores} cores (${e.instances} × ${w.measurement.configuration.cores}) against ${c.cores} for the chosen one`;
  if ((e.expectedP99Ms ?? Infinity) > (c.expectedP99Ms ?? Infinity)) {
    return `as few cores (${e.cores}) but an expected p99 of ${fmt(e.expectedP99Ms ?? NaN, 2)} ms against ${fmt(c.expectedP99Ms ?? NaN, 2)} ms`;
  }
  return `as few cores (${e.cores}) and as low an expected p99; ranked after it by instances, then by the order measured`;
}

/** The lowest p99 seen, and a sentence saying why nothing meets the target. */
function infeasibility(m: PlanMeasurements, work: readonly Working[], target: ResolvedPlanTarget): { best: number | null; reason: string } {
  // the single-request service time, at its best thread count: a floor no configuration gets under
  let single: { p50: number; p99: number; threads: number } | undefined;
  for (const s of m.serviceTimes) {
    const p = s.points.find((x) => x.batchSize === m.rowsPerRequest);
    if (p?.latency == null) continue;
    if (single === undefined || p.latency.p99Ms < single.p99) single = { p50: p.latency.p50Ms, p99: p.latency.p99Ms, threads: s.intraOpThreads };
  }
  let loaded: { p99: number; label: string; rps: number } | undefined;
  for (const w of work) {
    for (const p of w.measurement.points) {
      if (p.latency === null) continue;
      if (loaded === undefined || p.latency.p99Ms < loaded.p99) loaded = { p99: p.latency.p99Ms, label: w.measurement.configuration.label, rps: p.offeredRps };
    }
  }
  const goal = `p99 ≤ ${fmt(target.p99Ms, 2)} ms`;
  if (single !== undefined && single.p99 > target.p99Ms) {
    return {
      best: loaded === undefined ? single.p99 : Math.min(loaded.p99, single.p99),
      reason: `the single-${m.rowsPerRequest === 1 ? 'row' : 'request'} service time alone is ${fmt(single.p99, 2)} ms at p99 (${fmt(single.p50, 2)} ms at p50, ${single.threads} intra-op thread${single.threads === 1 ? '' : 's'}, one call at a time), above the target of ${goal}`,
    };
  }
  if (loaded !== undefined) {
    return {
      best: loaded.p99,
      reason: `no configuration kept ${goal} without errors at a measured rate; the lowest p99 under load was ${fmt(loaded.p99, 2)} ms (${loaded.label} at ${fmt(loaded.rps)} req/s)`,
    };
  }
  return { best: single?.p99 ?? null, reason: 'nothing was measured under load: every configuration was skipped or failed (see the alternatives)' };
}

function assumptionsFor(m: PlanMeasurements, target: ResolvedPlanTarget): string[] {
  const list = [
    `Headroom ${fmt(target.headroom * 100)} %: each instance is planned to run at no more than ${fmt(target.headroom * 100)} % of its measured capacity.`,
    `Capacity is the highest measured rate whose p99 met the target with no errors and every lower measured rate passing too; rates between the measured ones are not assumed to pass.`,
    `Latencies were measured in-process, from each request's scheduled arrival to its answer (queueing, batching and the model run): HTTP parsing, JSON encoding and the network are not included — measure through the server before relying on a tight target.`,
    `Load was open-loop ${m.grid.arrivals === 'poisson' ? 'Poisson' : 'evenly spaced'} arrivals of requests of ${m.rowsPerRequest} row${m.rowsPerRequest === 1 ? '' : 's'} each; inputs that change the model's work (sequence lengths, for example) change its cost.`,
    `Cores are what a configuration reserves (replicas × intra-op threads, 1 on the main thread); the HTTP thread's own CPU is not counted. Busy cores (process CPU over wall time, including the in-process load generator) are shown beside them.`,
    `Memory is the measuring process's resident memory while the configuration was loaded (a server process adds its HTTP stack and stores; the process held ${fmt(m.baselineRssBytes / 2 ** 20)} MiB before the first load).`,
    `Instances are machines like the measuring one (${m.machine.cores} cores shared out, ${m.machine.cpuModel}); the planned load is spread evenly across them.`,
  ];
  if (m.p99TargetMs !== target.p99Ms) {
    list.push(
      `The capacity search ran against p99 ≤ ${fmt(m.p99TargetMs, 2)} ms, not ${fmt(target.p99Ms, 2)} ms: ${m.p99TargetMs < target.p99Ms ? 'rates above the ones measured may also meet the looser target, so capacities are conservative' : 'capacities were re-read from the points at the tighter target'}.`,
    );
  }
  if (m.truncated) list.push('The measurement budget ran out before every configuration was measured; the skipped ones are listed with that reason.');
  return list;
}

/**
 * Turns measurements into a plan for `target`. For every measured configuration: usable capacity
 * = capacity × headroom; instances = ⌈rps / usable⌉; cores = instances × the configuration's
 * cores; utilisation = rps / (instances × capacity); expected p99 read at rps / instances; memory
 * the measured RSS; cost per 1M = cores × price / (rps × 3600) × 1e6. Chooses the configuration
 * meeting p99 ≤ target with the fewest cores, then the lowest expected p99. Throws
 * OPTIMIZE_PLAN_INVALID_TARGET for a bad target; an unreachable target is an answer
 * (`feasible: false` with the reason), not an error.
 */
export function recommendPlan(measurements: PlanMeasurements, target: PlanTarget): PlanResult {
  const t = resolvePlanTarget(target);
  const work = measurements.configurations.map((m, i) => estimateOf(m, i, t));
  const feasible = work.filter((w) => w.estimate.meetsTarget).sort(rank);
  const chosen = feasible[0];
  const tied = chosen === undefined ? 0 : feasible.filter((w) => w.estimate.cores === chosen.estimate.cores).length;
  const alternatives: ConfigurationEstimate[] = [
    ...feasible,
    ...work.filter((w) => !w.estimate.meetsTarget),
  ].map((w) => ({
    ...w.estimate,
    chosen: w === chosen,
    why:
      w === chosen
        ? `chosen: the fewest cores (${w.estimate.cores}) meeting p99 ≤ ${fmt(t.p99Ms, 2)} ms${tied > 1 ? `, and the lowest expected p99 of the ${tied} configurations with that many` : ''}`
        : whyNot(w, chosen, t),
  }));
  const costReason = t.pricePerCoreHour === null ? 'no price per core-hour given (--price-per-core-hour), so no cost is computed' : null;
  const base = { label: measurements.label, target: t, alternatives, assumptions: assumptionsFor(measurements, t), costReason, measurements };
  if (chosen === undefined) {
    const { best, reason } = infeasibility(measurements, work, t);
    return { ...base, feasible: false, reason, bestAchievableP99Ms: best, recommendation: null };
  }
  const e = chosen.estimate;
  const c = chosen.measurement.configuration;
  const instances = e.instances as number;
  const cores = e.cores as number;
  const perInstanceRps = e.perInstanceRps as number;
  const recommendation: PlanRecommendation = {
    configuration: c,
    instances,
    cores,
    perInstanceRps,
    capacityRps: e.capacityRps as number,
    expectedP99Ms: e.expectedP99Ms as number,
    p99Basis: e.p99Basis ?? '',
    utilisation: e.utilisation as number,
    busyCoresPerInstance: e.busyCoresPerInstance,
    memoryBytesPerInstance: e.memoryBytesPerInstance,
    memoryBytes: e.memoryBytesPerInstance === null ? null : e.memoryBytesPerInstance * instances,
    costPerHour: t.pricePerCoreHour === null ? null : cores * t.pricePerCoreHour,
    costPer1MPredictions: e.costPer1MPredictions,
    concurrencyPerReplica: chosen.meanMs === null ? null : (perInstanceRps * chosen.meanMs) / 1000 / c.replicas,
    config: configSnippet(c),
  };
  let best: number | null = null;
  for (const w of work) for (const p of w.measurement.points) if (p.latency !== null && (best === null || p.latency.p99Ms < best)) best = p.latency.p99Ms;
  return { ...base, feasible: true, reason: null, bestAchievableP99Ms: best, recommendation };
}
