/**
 * The measurement procedure of capacity planning: it loads the model on this machine in many
 * serving configurations and measures each one (docs/plan.md, "How measurement works").
 *
 * - Step 1, service time: one replica per intra-op thread count, back-to-back calls at each batch
 *   size — per-call latency, rows per second, load time and memory.
 * - Step 2, load: for each configuration (replicas × threads within the cores, placement, batching
 *   off or on with a queue delay), open-loop single-request load at a bounded ladder of offered
 *   rates, through the same batch scheduler the server uses, to find the highest rate whose p99
 *   meets the target without errors.
 *
 * Every loop is bounded in count and time, the whole run by a time budget, and every model loaded
 * is unloaded before `measurePlan` settles — also when it fails or is aborted.
 */
import { availableParallelism, cpus, totalmem } from 'node:os';
import {
  allocateTensorData,
  ConfigReader,
  CoreErrors,
  systemClock,
  toPlatformError,
  type Clock,
  type ModelSignature,
  type Tensor,
} from '../../core/index.js';
import { MAIN_THREAD_BUDGET, type LoadedModel, type ModelRuntime, type RuntimeSessionOptions } from '../../runtime/index.js';
import { canMergeSignature, createBatchScheduler, type BatchScheduler } from '../../serving/batching/index.js';
import { createSeededRandom, type SeededRandom } from '../../stats/index.js';
import { PlanErrors } from './errors.js';
import { runLoadPoint, summariseLatencies, type InferFunction } from './load.js';
import { capacityOf, failureOf } from './recommend.js';
import type {
  ConfigurationMeasurement,
  LoadPoint,
  PlanBatching,
  PlanConfiguration,
  PlanGrid,
  PlanMeasurements,
  PlanPlacement,
  ServicePoint,
  ServiceTimeMeasurement,
} from './types.js';

/** What may be measured; every list optional (defaults in {@link PLAN_DEFAULTS} and docs/plan.md). */
export interface PlanGridOptions {
  /** Intra-op thread counts; default the powers of two up to the cores, and the cores. */
  readonly intraOpThreads?: readonly number[];
  /** Replica counts; default the powers of two up to the cores, and the cores; only r × t ≤ cores is measured. */
  readonly replicas?: readonly number[];
  /** Step 1 batch sizes (rows per call); default 1, 2, 4 … 64. */
  readonly batchSizes?: readonly number[];
  /** Batching variants' maxQueueDelayMicros; 0 is adaptive. Default 0, 500, 2000. */
  readonly maxQueueDelaysMicros?: readonly number[];
  /** Measure batching off too. Default true. */
  readonly batchingOff?: boolean;
  /** A main-thread placement (one session, one thread); `auto` (default): only when a batch-1 call fits the runtime's main-thread budget. */
  readonly mainThread?: boolean | 'auto';
  /** Offered rates tried per configuration. Default 6. */
  readonly maxPointsPerConfiguration?: number;
  /** A point is stretched (up to 3 × its duration) to send at least this many requests. Default 100. */
  readonly minRequestsPerPoint?: number;
  /** And sends at most this many. Default 20 000. */
  readonly maxRequestsPerPoint?: number;
  /** The highest rate the search offers. Default 100 000 req/s. */
  readonly maxOfferedRps?: number;
  /** Arrival process. Default `poisson` (seeded: the same run offers the same schedule). */
  readonly arrivals?: 'poisson' | 'uniform';
  readonly seed?: number;
}

export interface MeasurePlanOptions {
  readonly runtime: ModelRuntime;
  readonly artifactPath: string;
  /** For logs, progress and the report, e.g. `fraud-detector:3`. Default `plan`. */
  readonly label?: string;
  /** The model's signature (the registry's); default: what the runtime reports at the first load. */
  readonly signature?: ModelSignature;
  /**
   * Inputs of `rows` rows (rows along the first dimension). Default: zero-filled from the
   * signature ({@link zeroInputs}); {@link repeatRows} builds them from sample rows.
   */
  readonly makeInputs?: (rows: number) => readonly Tensor[];
  /** The latency target the capacity search aims at, milliseconds. */
  readonly p99TargetMs: number;
  /** Cores to share out. Default os.availableParallelism(). */
  readonly cores?: number;
  readonly grid?: PlanGridOptions;
  /** Back-to-back calls per step-1 batch size, milliseconds. Default 300. */
  readonly servicePointMs?: number;
  /** One offered rate of step 2, milliseconds. Default 1500 (shortened to fit the budget). */
  readonly loadPointMs?: number;
  /** The whole run's budget, milliseconds. Default 60 000. */
  readonly budgetMs?: number;
  /** Engine settings for every load (as the server passes serving.allowSpinning and friends). */
  readonly sessionOptions?: RuntimeSessionOptions;
  readonly signal?: AbortSignal;
  /** Called after each measured (or skipped) point; `done` never decreases and ends equal to `total`. */
  readonly onProgress?: (done: number, total: number, label: string) => void;
  readonly clock?: Clock;
}

export const PLAN_DEFAULTS = {
  batchSizes: [1, 2, 4, 8, 16, 32, 64],
  maxQueueDelaysMicros: [0, 500, 2000],
  maxPointsPerConfiguration: 6,
  minRequestsPerPoint: 100,
  maxRequestsPerPoint: 20_000,
  maxOfferedRps: 100_000,
  servicePointMs: 300,
  loadPointMs: 1500,
  budgetMs: 60_000,
  seed: 1,
} as const;

/** Shortest step-2 point the budget may shrink the duration to (unless the caller asked for shorter). */
const MIN_LOAD_POINT_MS = 200;
/** Share of the budget step 1 is planned to take (its points are shortened to fit)… */
const SERVICE_SHARE = 0.25;
/** …and the share after which it stops trying larger batches (model loads are not in the plan). */
const SERVICE_LIMIT = 0.5;
/** Most timed calls per step-1 point. */
const MAX_SERVICE_CALLS = 10_000;
/** The capacity search stops once the passing and failing rates are this close (ratio). */
const RESOLUTION = 1.25;
/** Each step-2 window lasts at least this many times the p99 target (see where it is used). */
const OVERLOAD_WINDOWS = 5;
/** Longest wait for replicas to finish cancelled work between points. */
const SETTLE_TIMEOUT_MS = 10_000;

/** Zero-filled inputs of `rows` rows: a dynamic first dimension becomes `rows`, other dynamic ones 1. */
export function zeroInputs(signature: ModelSignature, rows: number): Tensor[] {
  return signature.inputs.map((spec) => {
    const shape = spec.shape.map((d, i) => (d >= 0 ? d : i === 0 ? rows : 1));
    let count = 1;
    for (const d of shape) count *= d;
    return { name: spec.name, datatype: spec.datatype, shape, data: allocateTensorData(spec.datatype, count) };
  });
}

/**
 * Inputs of `rows` rows cut from sample tensors (each with the rows along its first dimension),
 * repeating the sample rows in order as often as needed.
 */
export function repeatRows(sample: readonly Tensor[], rows: number): Tensor[] {
  return sample.map((t) => {
    const have = t.shape[0] ?? 0;
    if (t.shape.length === 0 || have < 1) {
      throw PlanErrors.OPTIMIZE_PLAN_INVALID_OPTIONS(`sample input "${t.name}" must have at least one row along its first dimension, got shape [${t.shape.join(', ')}]`);
    }
    const width = t.data.length / have;
    const data = allocateTensorData(t.datatype, rows * width);
    for (let r = 0; r < rows; r++) {
      const from = (r % have) * width;
      for (let k = 0; k < width; k++) (data as unknown as unknown[])[r * width + k] = (t.data as unknown as unknown[])[from + k];
    }
    return { name: t.name, datatype: t.datatype, shape: [rows, ...t.shape.slice(1)], data };
  });
}

/** Powers of two up to `cores`, and `cores` itself. */
function powersUpTo(cores: number): number[] {
  const out: number[] = [];
  for (let p = 1; p <= cores; p *= 2) out.push(p);
  if (!out.includes(cores)) out.push(cores);
  return out;
}

interface Compiled {
  readonly label: string;
  readonly cores: number;
  readonly p99TargetMs: number;
  readonly grid: PlanGrid;
  readonly servicePointMs: number;
  readonly loadPointMs: number;
  readonly budgetMs: number;
}

/** Checks the options and applies defaults; throws OPTIMIZE_PLAN_INVALID_OPTIONS listing every problem. */
function compile(options: MeasurePlanOptions): Compiled {
  const r = new ConfigReader();
  const g = options.grid ?? {};
  const cores = r.integer(options.cores, 'cores', availableParallelism(), 1, 4096);
  const p99TargetMs = typeof options.p99TargetMs === 'number' && Number.isFinite(options.p99TargetMs) && options.p99TargetMs > 0 ? options.p99TargetMs : NaN;
  if (Number.isNaN(p99TargetMs)) r.problem('p99TargetMs', `must be a finite number > 0, got ${String(options.p99TargetMs)}`);
  const list = (value: readonly number[] | undefined, path: string, fallback: readonly number[], min: number, max: number): number[] => {
    if (value === undefined) return [...fallback];
    if (!Array.isArray(value) || value.length === 0) {
      r.problem(path, 'must be a non-empty list of whole numbers');
      return [...fallback];
    }
    const out: number[] = [];
    value.forEach((v, i) => {
      const n = r.integer(v, `${path}[${i}]`, -1, min, max);
      if (n >= min && !out.includes(n)) out.push(n);
    });
    return out.sort((a, b) => a - b);
  };
  const grid: PlanGrid = {
    intraOpThreads: list(g.intraOpThreads, 'grid.intraOpThreads', powersUpTo(cores), 1, cores),
    replicas: list(g.replicas, 'grid.replicas', powersUpTo(cores), 1, cores),
    batchSizes: list(g.batchSizes, 'grid.batchSizes', PLAN_DEFAULTS.batchSizes, 1, 65_536),
    maxQueueDelaysMicros: list(g.maxQueueDelaysMicros, 'grid.maxQueueDelaysMicros', PLAN_DEFAULTS.maxQueueDelaysMicros, 0, 60_000_000),
    batchingOff: r.boolean(g.batchingOff, 'grid.batchingOff', true),
    mainThread: g.mainThread === undefined || g.mainThread === 'auto' ? 'auto' : r.boolean(g.mainThread, 'grid.mainThread', false),
    maxPointsPerConfiguration: r.integer(g.maxPointsPerConfiguration, 'grid.maxPointsPerConfiguration', PLAN_DEFAULTS.maxPointsPerConfiguration, 1, 50),
    minRequestsPerPoint: r.integer(g.minRequestsPerPoint, 'grid.minRequestsPerPoint', PLAN_DEFAULTS.minRequestsPerPoint, 1, 1_000_000),
    maxRequestsPerPoint: r.integer(g.maxRequestsPerPoint, 'grid.maxRequestsPerPoint', PLAN_DEFAULTS.maxRequestsPerPoint, 1, 10_000_000),
    maxOfferedRps: r.number(g.maxOfferedRps, 'grid.maxOfferedRps', PLAN_DEFAULTS.maxOfferedRps, 0.001, 10_000_000),
    arrivals: r.oneOf(g.arrivals, 'grid.arrivals', 'poisson', ['poisson', 'uniform']),
    seed: r.integer(g.seed, 'grid.seed', PLAN_DEFAULTS.seed, 0, 2 ** 32 - 1),
  };
  if (grid.minRequestsPerPoint > grid.maxRequestsPerPoint) r.problem('grid.minRequestsPerPoint', `must be ≤ grid.maxRequestsPerPoint (${grid.maxRequestsPerPoint}), got ${grid.minRequestsPerPoint}`);
  const compiled: Compiled = {
    label: r.string(options.label, 'label', 'plan', (v) => (v.trim() === '' ? 'must not be empty' : undefined)),
    cores,
    p99TargetMs,
    grid,
    servicePointMs: r.integer(options.servicePointMs, 'servicePointMs', PLAN_DEFAULTS.servicePointMs, 1, 600_000),
    loadPointMs: r.integer(options.loadPointMs, 'loadPointMs', PLAN_DEFAULTS.loadPointMs, 1, 3_600_000),
    budgetMs: r.integer(options.budgetMs, 'budgetMs', PLAN_DEFAULTS.budgetMs, 100, 86_400_000),
  };
  if (typeof options.artifactPath !== 'string' || options.artifactPath === '') r.problem('artifactPath', 'must be a non-empty string');
  if (r.problems.length > 0) {
    const lines = r.problems.map((p) => `${p.path}: ${p.message}`);
    throw PlanErrors.OPTIMIZE_PLAN_INVALID_OPTIONS(`invalid capacity measurement options (${lines.length} problem${lines.length === 1 ? '' : 's'}): ${lines.join('; ')}`, {
      details: { problems: r.problems.map((p) => ({ path: p.path, message: p.message })) },
    });
  }
  return compiled;
}

/** How requests are shaped for this model: rows per request, batch sizes step 1 may try, whether requests merge. */
function shapeOf(signature: ModelSignature, batchSizes: readonly number[]): { rowsPerRequest: number; batchSizes: number[]; mergeable: boolean; note: string | null } {
  const firsts = signature.inputs.map((t) => (t.shape.length === 0 ? undefined : t.shape[0]));
  const fixed = firsts.find((d) => d !== undefined && d >= 1);
  if (signature.inputs.length > 0 && firsts.every((d) => d === -1)) {
    return { rowsPerRequest: 1, batchSizes: [...batchSizes], mergeable: canMergeSignature(signature), note: null };
  }
  if (fixed !== undefined) {
    return {
      rowsPerRequest: fixed,
      batchSizes: [fixed],
      mergeable: false,
      note: `the model's batch dimension is fixed at ${fixed}: every request carries ${fixed} row${fixed === 1 ? '' : 's'}, and requests cannot be merged into batches`,
    };
  }
  return { rowsPerRequest: 1, batchSizes: [1], mergeable: false, note: 'the model has no dynamic batch dimension on every input: requests carry one row and are not merged' };
}

const rss = (): number => process.memoryUsage.rss();
const heapOf = (model: LoadedModel): number => model.stats().reduce((a, s) => a + s.heapBytes, 0);
const fmt = (n: number, digits = 1): string => (Number.isInteger(n) ? String(n) : n.toFixed(digits));

/** The label and key of a configuration. */
function configuration(placement: PlanPlacement, replicas: number, intraOpThreads: number, batching: PlanBatching): PlanConfiguration {
  const where = placement === 'main-thread' ? 'main thread' : `${replicas} replica${replicas === 1 ? '' : 's'} × ${intraOpThreads} thread${intraOpThreads === 1 ? '' : 's'}`;
  const how = !batching.enabled
    ? 'batching off'
    : `batching ≤${batching.maxBatchSize} ${batching.maxQueueDelayMicros === 0 ? 'adaptive' : `wait ${batching.maxQueueDelayMicros} µs`}`;
  const key = batching.enabled ? `b${batching.maxBatchSize}-d${batching.maxQueueDelayMicros}` : 'off';
  return {
    id: `${placement === 'main-thread' ? 'm' : 'w'}-r${replicas}-t${intraOpThreads}-${key}`,
    label: `${where}, ${how}`,
    placement,
    replicas,
    intraOpThreads,
    cores: placement === 'main-thread' ? 1 : replicas * intraOpThreads,
    batching,
  };
}

/**
 * The batch size worth batching up to at a thread count: among the sizes ≥ 2 that ran without
 * failure and whose p99 fits half the latency target (a run must leave the other half for waiting
 * behind one), the smallest reaching 90 % of the best rows per second. Undefined when none fits.
 */
export function bestBatchSize(points: readonly ServicePoint[], p99TargetMs: number): number | undefined {
  const fits = points.filter((p) => p.batchSize >= 2 && p.failures === 0 && p.latency !== null && p.latency.p99Ms <= p99TargetMs / 2);
  if (fits.length === 0) return undefined;
  const best = Math.max(...fits.map((p) => p.rowsPerSecond));
  return fits.sort((a, b) => a.batchSize - b.batchSize).find((p) => p.rowsPerSecond >= 0.9 * best)?.batchSize;
}

interface Slot {
  /** Filled in once step 1 has said which batch size to use. */
  configuration: PlanConfiguration;
  /** The (replicas, threads, placement) pair this slot loads; slots of one pair share a load. */
  readonly pair: string;
  readonly phase: 'first' | 'delay';
  result: ConfigurationMeasurement | undefined;
}

/**
 * Measures the model in every configuration of the grid on this machine and returns the raw
 * figures (no recommendation: see `recommendPlan`). Rejects with OPTIMIZE_PLAN_INVALID_OPTIONS
 * for bad options, OPTIMIZE_PLAN_INPUTS_REFUSED when the model refuses the measurement inputs,
 * the runtime's error when the model cannot be loaded at all, and CORE_ABORTED when `signal`
 * aborts. Whatever happens, every model it loaded is unloaded before it settles.
 */
export async function measurePlan(options: MeasurePlanOptions): Promise<PlanMeasurements> {
  const c = compile(options);
  const { runtime, artifactPath, signal } = options;
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();
  const t0 = clock.monotonicMs();
  const deadline = t0 + c.budgetMs;
  const random: SeededRandom = createSeededRandom(c.grid.seed);
  const notes: string[] = [];
  const loaded = new Set<LoadedModel>();
  const baselineRssBytes = rss();
  let truncated = false;
  let lastLoadMs = 0;

  const aborted = (): Error => CoreErrors.CORE_ABORTED(`measuring ${c.label} was cancelled`);
  const checkAbort = (): void => {
    if (signal?.aborted === true) throw aborted();
  };

  // progress in points: step-1 sizes, then every configuration's point allowance
  let done = 0;
  let total = 0;
  const progress = (steps: number, label: string): void => {
    done = Math.min(total, done + steps);
    options.onProgress?.(done, total, label);
  };

  const load = async (placement: PlanPlacement, replicas: number, intraOpThreads: number): Promise<{ model: LoadedModel; loadMs: number }> => {
    checkAbort();
    const started = clock.monotonicMs();
    const model = await runtime.load({
      label: `${c.label}/plan-${placement === 'main-thread' ? 'm' : 'w'}${replicas}x${intraOpThreads}`,
      artifactPath,
      replicas,
      intraOpThreads,
      placement,
      warmup: true,
      ...(options.sessionOptions === undefined ? {} : { sessionOptions: options.sessionOptions }),
    });
    loaded.add(model);
    lastLoadMs = clock.monotonicMs() - started;
    if (signal?.aborted === true) {
      await unload(model);
      throw aborted();
    }
    return { model, loadMs: lastLoadMs };
  };
  const unload = async (model: LoadedModel): Promise<void> => {
    loaded.delete(model);
    await model.unload();
  };

  /** Waits until no replica has work outstanding (after cancelled requests), bounded. */
  const settle = async (model: LoadedModel): Promise<void> => {
    const until = clock.monotonicMs() + SETTLE_TIMEOUT_MS;
    while (clock.monotonicMs() < until && model.stats().some((s) => s.inFlight > 0)) await clock.sleep(5);
  };

  try {
    // ---- step 1: service time, one replica per thread count ----
    const serviceTimes: ServiceTimeMeasurement[] = [];
    let shape: ReturnType<typeof shapeOf> | undefined;
    let signature = options.signature;
    let makeInputs = options.makeInputs;
    let servicePointMs = c.servicePointMs;
    /** The smallest batch size the model refused: larger ones are not tried again at other thread counts. */
    let refusedAt: number | undefined;

    for (const threads of c.grid.intraOpThreads) {
      let model: LoadedModel;
      let loadMs: number;
      try {
        ({ model, loadMs } = await load('worker', 1, threads));
      } catch (error) {
        const e = toPlatformError(error);
        if (e.code === 'CORE_ABORTED' || shape === undefined) throw e;
        serviceTimes.push({ intraOpThreads: threads, loadMs: null, rssBytes: null, heapBytes: null, points: [], skippedBatchSizes: [], failure: `${e.code}: ${e.message}` });
        progress(shape.batchSizes.length, `service time: ${threads} threads could not be loaded`);
        continue;
      }
      if (shape === undefined) {
        signature ??= model.signature;
        const sig = signature;
        makeInputs ??= (rows: number) => zeroInputs(sig, rows);
        shape = shapeOf(sig, c.grid.batchSizes);
        if (shape.note !== null) notes.push(shape.note);
        total = c.grid.intraOpThreads.length * shape.batchSizes.length;
        // step 1 may take a quarter of the budget: shorten its points rather than run over
        const servicePoints = c.grid.intraOpThreads.length * shape.batchSizes.length;
        const share = (c.budgetMs * SERVICE_SHARE) / servicePoints;
        if (share < servicePointMs) {
          servicePointMs = Math.max(Math.min(20, c.servicePointMs), Math.floor(share));
          notes.push(`step-1 points were shortened to ${servicePointMs} ms to fit the ${c.budgetMs} ms budget`);
        }
      }
      const inputsFor = makeInputs as (rows: number) => readonly Tensor[];
      const rows = shape.rowsPerRequest;
      const points: ServicePoint[] = [];
      const skipped: { batchSize: number; reason: string }[] = [];
      let stop: string | undefined;
      for (const b of shape.batchSizes) {
        checkAbort();
        if (stop === undefined && refusedAt !== undefined && b >= refusedAt) stop = `the model refused a batch of ${refusedAt}`;
        // the single-request size is always measured: every estimate starts from it
        if (stop === undefined && b !== rows && clock.monotonicMs() + servicePointMs > t0 + c.budgetMs * SERVICE_LIMIT) {
          stop = `the time budget left for step 1 ran out`;
          truncated = true;
        }
        if (stop !== undefined) {
          skipped.push({ batchSize: b, reason: stop });
          progress(1, `service time: ${threads} threads, batch ${b} skipped`);
          continue;
        }
        const point = await servicePoint(model, inputsFor(b), b, servicePointMs, clock, signal);
        checkAbort();
        if (point.calls === 0) {
          if (b === rows) {
            throw PlanErrors.OPTIMIZE_PLAN_INPUTS_REFUSED(`${c.label} refused the measurement inputs (${rows} row${rows === 1 ? '' : 's'}): ${point.failure ?? 'no call succeeded'}`, {
              details: { batchSize: b },
            });
          }
          refusedAt = Math.min(refusedAt ?? b, b);
          stop = `the model refused a batch of ${b}: ${point.failure ?? 'no call succeeded'}`;
        } else if (point.latency !== null && point.latency.p50Ms > c.p99TargetMs) {
          stop = `a batch of ${b} already takes ${fmt(point.latency.p50Ms, 2)} ms at p50, more than the ${c.p99TargetMs} ms target`;
        }
        points.push(point);
        progress(1, `service time: ${threads} thread${threads === 1 ? '' : 's'}, batch ${b}: ${fmt(point.rowsPerSecond, 0)} rows/s`);
      }
      serviceTimes.push({ intraOpThreads: threads, loadMs, rssBytes: rss(), heapBytes: heapOf(model), points, skippedBatchSizes: skipped, failure: null });
      await unload(model);
    }
    if (shape === undefined || makeInputs === undefined) throw CoreErrors.CORE_INTERNAL('step 1 measured no thread count');
    const requestInputs = makeInputs(shape.rowsPerRequest);
    const rowsPerRequest = shape.rowsPerRequest;

    // ---- the configurations ----
    const serviceAt = (threads: number): ServiceTimeMeasurement | undefined => {
      const measured = serviceTimes.filter((s) => s.points.length > 0);
      // the thread count itself, else the nearest one measured
      return measured.sort((a, b) => Math.abs(a.intraOpThreads - threads) - Math.abs(b.intraOpThreads - threads))[0];
    };
    const batchFor = (threads: number): number | undefined => {
      if (!shape?.mergeable) return undefined;
      const s = serviceAt(threads);
      return s === undefined ? undefined : bestBatchSize(s.points, c.p99TargetMs);
    };
    const single = serviceAt(1)?.points.find((p) => p.batchSize === rowsPerRequest);
    const mainThreadFits = single?.latency != null && single.latency.p50Ms <= MAIN_THREAD_BUDGET.batchMs;

    const slots: Slot[] = [];
    const variants = (placement: PlanPlacement, replicas: number, threads: number, delays: readonly number[]): void => {
      const pair = `${placement}/${replicas}/${threads}`;
      const maxBatchSize = batchFor(threads) ?? 0;
      if (c.grid.batchingOff) slots.push({ pair, phase: 'first', configuration: configuration(placement, replicas, threads, { enabled: false, maxBatchSize: 1, maxQueueDelayMicros: 0 }), result: undefined });
      for (const d of delays) {
        const cfg = configuration(placement, replicas, threads, { enabled: true, maxBatchSize: Math.max(2, maxBatchSize), maxQueueDelayMicros: d });
        const slot: Slot = { pair, phase: d === (delays[0] ?? 0) ? 'first' : 'delay', configuration: cfg, result: undefined };
        if (!shape?.mergeable) slot.result = skippedResult(cfg, shape?.note ?? 'requests of this model cannot be merged into batches');
        else if (maxBatchSize < 2) slot.result = skippedResult(cfg, `no batch size of 2 or more ran within half the ${c.p99TargetMs} ms target at ${threads} thread${threads === 1 ? '' : 's'}`);
        slots.push(slot);
      }
    };
    for (const threads of c.grid.intraOpThreads) {
      for (const replicas of c.grid.replicas) if (replicas * threads <= c.cores) variants('worker', replicas, threads, c.grid.maxQueueDelaysMicros);
    }
    if (c.grid.mainThread !== false) {
      const before = slots.length;
      variants('main-thread', 1, 1, c.grid.maxQueueDelaysMicros.slice(0, 1));
      if (c.grid.mainThread === 'auto' && !mainThreadFits) {
        const why = `a call of ${rowsPerRequest} row${rowsPerRequest === 1 ? '' : 's'} takes ${single?.latency == null ? 'an unknown time' : `${fmt(single.latency.p50Ms, 3)} ms`} at p50, above the main-thread budget of ${MAIN_THREAD_BUDGET.batchMs} ms`;
        for (const s of slots.slice(before)) s.result ??= skippedResult(s.configuration, why);
      }
    }
    total = done + slots.length * c.grid.maxPointsPerConfiguration;
    for (const s of slots) if (s.result !== undefined) progress(c.grid.maxPointsPerConfiguration, `${s.configuration.label}: skipped`);

    // the budget left, shared among the configurations still to measure (about four points each)
    const pending = slots.filter((s) => s.result === undefined);
    const pairs = new Set(pending.map((s) => s.pair)).size + new Set(pending.filter((s) => s.phase === 'delay').map((s) => s.pair)).size;
    const left = deadline - clock.monotonicMs() - pairs * lastLoadMs;
    let loadPointMs = c.loadPointMs;
    if (pending.length > 0 && left / (pending.length * 4) < loadPointMs) {
      loadPointMs = Math.max(Math.min(MIN_LOAD_POINT_MS, c.loadPointMs), Math.floor(left / (pending.length * 4)));
      notes.push(`step-2 points were shortened to ${loadPointMs} ms to fit the ${c.budgetMs} ms budget`);
    }
    // A rate 25 % above what a configuration sustains (the search's resolution) grows its backlog
    // by a quarter of the time elapsed, so its latest requests wait longer than the target only
    // after 4 × the target: windows shorter than that would let an overloaded rate pass.
    const minWindowMs = OVERLOAD_WINDOWS * c.p99TargetMs;
    const pointMs = Math.max(loadPointMs, minWindowMs);
    const maxWindowMs = Math.max(loadPointMs * 3, pointMs);
    if (pointMs > loadPointMs) notes.push(`step-2 points last at least ${fmt(minWindowMs, 0)} ms (${OVERLOAD_WINDOWS} × the p99 target), so that overload has time to show`);
    const minRate = 2 / (maxWindowMs / 1000);

    /** Estimated requests per second a configuration serves, from step 1 (overheads ignored: an upper bound). */
    const estimate = (cfg: PlanConfiguration): number => {
      const s = serviceAt(cfg.intraOpThreads);
      const size = cfg.batching.enabled ? cfg.batching.maxBatchSize : rowsPerRequest;
      const p = s?.points.find((x) => x.batchSize === size) ?? s?.points.find((x) => x.batchSize === rowsPerRequest);
      if (p === undefined || p.rowsPerSecond <= 0) return 100;
      return (cfg.replicas * p.rowsPerSecond) / rowsPerRequest;
    };

    const measureSlot = async (slot: Slot, model: LoadedModel, loadMs: number, startRate: number): Promise<void> => {
      const cfg = slot.configuration;
      const points: LoadPoint[] = [];
      let peakRss = rss();
      let stoppedBy: string | undefined;
      let lo: number | undefined;
      let hi: number | undefined;
      let confirming = false;
      let rate = Math.min(c.grid.maxOfferedRps, Math.max(minRate, startRate));
      for (let k = 0; k < c.grid.maxPointsPerConfiguration; k++) {
        checkAbort();
        if (clock.monotonicMs() + pointMs > deadline) {
          stoppedBy = 'the time budget ran out during the search';
          truncated = true;
          break;
        }
        // a fresh scheduler per point (the server's: same knobs, same queue bound), so no queue carries over
        const scheduler: BatchScheduler | undefined = cfg.batching.enabled
          ? createBatchScheduler(model, { maxBatchSize: cfg.batching.maxBatchSize, maxQueueDelayMicros: cfg.batching.maxQueueDelayMicros }, clock)
          : undefined;
        const infer: InferFunction = scheduler === undefined ? (i, o, s) => model.infer(i, o, s) : (i, o, s) => scheduler.infer(i, o, s);
        let point: LoadPoint;
        try {
          point = await runLoadPoint({
            infer,
            inputs: requestInputs,
            offeredRps: rate,
            durationMs: pointMs,
            minRequests: c.grid.minRequestsPerPoint,
            maxRequests: c.grid.maxRequestsPerPoint,
            maxWindowMs,
            minWindowMs,
            p99TargetMs: c.p99TargetMs,
            arrivals: c.grid.arrivals,
            random,
            drainTimeoutMs: Math.max(1000, 4 * c.p99TargetMs),
            clock,
            ...(signal === undefined ? {} : { signal }),
            ...(scheduler === undefined ? {} : { batchCounts: () => scheduler.stats() }),
            settle: () => settle(model),
          });
        } finally {
          scheduler?.close();
        }
        checkAbort();
        points.push(point);
        peakRss = Math.max(peakRss, rss());
        const why = failureOf(point, c.p99TargetMs);
        progress(1, `${cfg.label} at ${fmt(rate, 0)} req/s: ${why === null ? `p99 ${fmt(point.latency?.p99Ms ?? NaN, 2)} ms` : why}`);
        // the first failure is run again before the ladder turns on it: one pause of a shared
        // machine (another process, a collection) must not halve a configuration's capacity
        if (why !== null && !confirming) {
          confirming = true;
          continue;
        }
        if (why === null) lo = Math.max(lo ?? 0, rate);
        else hi = Math.min(hi ?? Infinity, rate);
        // ladder up ×2 until a failure, down ÷2 until a pass, then bisect (geometrically) between them
        if (lo !== undefined && hi !== undefined) {
          if (hi / lo <= RESOLUTION) break;
          rate = Math.sqrt(lo * hi);
        } else if (why === null) {
          if (rate >= c.grid.maxOfferedRps) break;
          rate = Math.min(c.grid.maxOfferedRps, rate * 2);
        } else {
          rate /= 2;
          if (rate < minRate) break;
        }
      }
      progress(c.grid.maxPointsPerConfiguration - points.length, `${cfg.label}: done`);
      if (points.length === 0) {
        slot.result = skippedResult(cfg, stoppedBy ?? 'no rate was offered');
        return;
      }
      const capacity = capacityOf(points, c.p99TargetMs);
      slot.result = {
        configuration: cfg,
        status: 'measured',
        reason: stoppedBy ?? null,
        loadMs,
        rssBytes: peakRss,
        heapBytes: heapOf(model),
        points,
        capacityRps: capacity.capacityRps,
        capacityReason: stoppedBy === undefined ? capacity.reason : `${capacity.reason} (${stoppedBy})`,
      };
    };

    /** Loads a pair once and measures its slots of one phase on it. */
    const measurePair = async (group: Slot[]): Promise<void> => {
      const first = group[0];
      if (first === undefined) return;
      const cfg = first.configuration;
      if (clock.monotonicMs() + lastLoadMs + 2 * pointMs > deadline) {
        truncated = true;
        for (const s of group) {
          s.result = skippedResult(s.configuration, 'the time budget ran out before it could be measured');
          progress(c.grid.maxPointsPerConfiguration, `${s.configuration.label}: skipped (budget)`);
        }
        return;
      }
      let model: LoadedModel;
      let loadMs: number;
      try {
        ({ model, loadMs } = await load(cfg.placement, cfg.replicas, cfg.intraOpThreads));
      } catch (error) {
        const e = toPlatformError(error);
        if (e.code === 'CORE_ABORTED') throw e;
        for (const s of group) {
          s.result = { ...skippedResult(s.configuration, `${e.code}: ${e.message}`), status: 'failed' };
          progress(c.grid.maxPointsPerConfiguration, `${s.configuration.label}: failed to load`);
        }
        return;
      }
      try {
        for (const s of group) {
          // Batching serves at least what one request at a time does, and waiting to fill a batch
          // about what adaptive batching does: a variant starts where the simpler one of its pair
          // ended. The first of a pair starts at a quarter of the step-1 bound (overheads are not
          // in it), a light load from which the ladder climbs.
          const simpler = slots
            .filter((x) => x.pair === s.pair && x.result?.status === 'measured' && x.result.capacityRps !== null && level(x.configuration) < level(s.configuration))
            .sort((a, b) => level(b.configuration) - level(a.configuration))[0];
          const start = simpler?.result?.capacityRps ?? estimate(s.configuration) / 4;
          await measureSlot(s, model, loadMs, start);
        }
      } finally {
        await unload(model);
      }
    };

    // phase 1: batching off and the first (adaptive) variant of every pair; phase 2: the delay
    // variants, best pairs first (by the adaptive variant's capacity), as far as the budget goes
    const byPair = (phase: Slot['phase']): Slot[][] => {
      const groups = new Map<string, Slot[]>();
      for (const s of slots) if (s.phase === phase && s.result === undefined) groups.set(s.pair, [...(groups.get(s.pair) ?? []), s]);
      return [...groups.values()];
    };
    for (const group of byPair('first')) await measurePair(group);
    const capacityOfPair = (pair: string): number => Math.max(0, ...slots.filter((s) => s.pair === pair).map((s) => s.result?.capacityRps ?? 0));
    const delayed = byPair('delay').sort((a, b) => capacityOfPair(b[0]?.pair ?? '') - capacityOfPair(a[0]?.pair ?? ''));
    for (const group of delayed) await measurePair(group);

    if (truncated) notes.push('the time budget ran out: some configurations were not measured, or their search was cut short');
    const finished = clock.monotonicMs();
    return {
      version: 1,
      label: c.label,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(clock.now()).toISOString(),
      seconds: (finished - t0) / 1000,
      machine: {
        cores: c.cores,
        cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
        totalMemoryBytes: totalmem(),
        platform: process.platform,
        arch: process.arch,
        node: process.version,
      },
      p99TargetMs: c.p99TargetMs,
      rowsPerRequest,
      mergeable: shape.mergeable,
      baselineRssBytes,
      grid: c.grid,
      durations: { servicePointMs, loadPointMs: pointMs, budgetMs: c.budgetMs },
      serviceTimes,
      configurations: slots.map((s) => s.result ?? skippedResult(s.configuration, 'not measured')),
      truncated,
      notes,
    };
  } finally {
    await Promise.all([...loaded].map((m) => m.unload().catch(() => undefined)));
    loaded.clear();
  }
}

/** How much a configuration's batching does: off (0), adaptive (1), waiting to fill a batch (2). */
function level(c: PlanConfiguration): number {
  return !c.batching.enabled ? 0 : c.batching.maxQueueDelayMicros === 0 ? 1 : 2;
}

function skippedResult(configuration: PlanConfiguration, reason: string): ConfigurationMeasurement {
  return { configuration, status: 'skipped', reason, loadMs: null, rssBytes: null, heapBytes: null, points: [], capacityRps: null, capacityReason: `not measured: ${reason}` };
}

/** Step 1 at one batch size: two warm-up calls, then back-to-back calls for `durationMs` (at most {@link MAX_SERVICE_CALLS}). */
async function servicePoint(model: LoadedModel, inputs: readonly Tensor[], batchSize: number, durationMs: number, clock: Clock, signal: AbortSignal | undefined): Promise<ServicePoint> {
  const latencies: number[] = [];
  // a function, not a narrowed property: the signal may abort during the awaits below
  const isAborted = (): boolean => signal?.aborted === true;
  let failures = 0;
  let failure: string | null = null;
  const call = async (): Promise<number | undefined> => {
    const t = clock.monotonicMs();
    try {
      await model.infer(inputs, undefined, signal);
      return clock.monotonicMs() - t;
    } catch (error) {
      const e = toPlatformError(error);
      if (e.code === 'RUNTIME_ABORTED' && isAborted()) return undefined;
      failures++;
      failure ??= `${e.code}: ${e.message}`;
      return undefined;
    }
  };
  for (let i = 0; i < 2; i++) if ((await call()) === undefined) break;
  if (failures > 0 || isAborted()) {
    return { batchSize, calls: 0, failures, failure, seconds: 0, rowsPerSecond: 0, latency: null };
  }
  const start = clock.monotonicMs();
  while (latencies.length < MAX_SERVICE_CALLS && clock.monotonicMs() - start < durationMs && !isAborted()) {
    const ms = await call();
    if (ms === undefined) break;
    latencies.push(ms);
  }
  const seconds = (clock.monotonicMs() - start) / 1000;
  const calls = latencies.length;
  return { batchSize, calls, failures, failure, seconds, rowsPerSecond: seconds > 0 ? (batchSize * calls) / seconds : 0, latency: summariseLatencies(latencies) };
}
