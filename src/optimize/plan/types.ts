/**
 * The types of capacity planning: what `measurePlan` records on this machine (service times, and
 * open-loop load points per serving configuration) and what `recommendPlan` derives from it (a
 * configuration, how many machines of this size, cores, latency, utilisation, memory and cost).
 * Everything here is plain JSON — numbers, strings, booleans, arrays, null — because measurements
 * and plans go into API responses and reports unchanged. Units are in the names.
 */

/** Where a configuration's sessions run (LoadOptions.placement / `serving.placement`). */
export type PlanPlacement = 'worker' | 'main-thread';

/** The batch scheduler in front of the replicas, as `serving.batching` names its knobs. */
export interface PlanBatching {
  readonly enabled: boolean;
  /** Most rows in one merged run; 1 when batching is off. */
  readonly maxBatchSize: number;
  /** 0 = adaptive (dispatch as soon as a replica is free); above 0, Triton's wait-to-fill delay. 0 when off. */
  readonly maxQueueDelayMicros: number;
}

/** One serving configuration of one machine: how the version is loaded and batched. */
export interface PlanConfiguration {
  /** A stable key, e.g. `w-r2-t1-b32-d0` (worker, 2 replicas, 1 thread, maxBatchSize 32, delay 0). */
  readonly id: string;
  /** For people, e.g. `2 replicas × 1 thread, batching ≤32 adaptive`. */
  readonly label: string;
  readonly placement: PlanPlacement;
  readonly replicas: number;
  readonly intraOpThreads: number;
  /** Cores the configuration reserves: replicas × intra-op threads (1 on the main thread). */
  readonly cores: number;
  readonly batching: PlanBatching;
}

/** A latency sample summarised: type-7 quantiles (src/stats/quantiles.ts), milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Step 1: back-to-back calls of one batch size on one replica. */
export interface ServicePoint {
  readonly batchSize: number;
  /** Timed calls that succeeded (warm-up calls excluded). */
  readonly calls: number;
  /** Calls the model refused; a size with failures is not used for batching. */
  readonly failures: number;
  /** The first failure's message, when there was one. */
  readonly failure: string | null;
  readonly seconds: number;
  /** batchSize × calls / seconds. */
  readonly rowsPerSecond: number;
  /** Per call (per batch), not per row. null when no call succeeded. */
  readonly latency: LatencySummary | null;
}

/** Step 1 for one intra-op thread count: one replica, sequential calls over the batch sizes. */
export interface ServiceTimeMeasurement {
  readonly intraOpThreads: number;
  /** null when the replica could not be loaded (`failure` says why). */
  readonly loadMs: number | null;
  /** The process's resident memory once the replica was loaded and had run every batch size. */
  readonly rssBytes: number | null;
  /** The replica's own heap (V8 heap + ArrayBuffers, not onnxruntime's native arenas), from `stats()`. */
  readonly heapBytes: number | null;
  readonly points: readonly ServicePoint[];
  /** Sizes left out, with why (a batch slower than the latency target, or a size the model refused). */
  readonly skippedBatchSizes: readonly { readonly batchSize: number; readonly reason: string }[];
  readonly failure: string | null;
}

/** Step 2: one offered rate of open-loop load on one configuration. */
export interface LoadPoint {
  /** Requests per second the generator scheduled. */
  readonly offeredRps: number;
  /** Successful answers per second, from the first scheduled arrival to the last answer. */
  readonly achievedRps: number;
  /** Requests scheduled and sent. */
  readonly sent: number;
  /** Answered successfully. */
  readonly completed: number;
  /** Failed (not counting requests the planner itself abandoned when it stopped a point early). */
  readonly errors: number;
  /** Failures by error code, e.g. `{ "SERVING_QUEUE_FULL": 12 }`. */
  readonly errorsByCode: Readonly<Record<string, number>>;
  /** Requests the planner cancelled or gave up on (an early stop, or not answered in the drain time). */
  readonly abandoned: number;
  /** End to end in-process (scheduled arrival → answer): queueing, batching and the run. null when nothing was answered. */
  readonly latency: LatencySummary | null;
  /** Wall time of the point, from the first scheduled arrival until every request settled. */
  readonly seconds: number;
  /** Process CPU time over the point (every thread: replicas and the in-process load generator). */
  readonly cpuSeconds: number;
  /** cpuSeconds / seconds. */
  readonly busyCores: number;
  /** Rows per model run while batching; null when batching is off. */
  readonly meanBatchSize: number | null;
  /** Why the point was cut short, or null when it ran its course. */
  readonly stoppedEarly: string | null;
  /** Whether the point met the measuring target: p99 ≤ target, no errors, nothing abandoned. */
  readonly meetsTarget: boolean;
}

/** Step 2 for one configuration. */
export interface ConfigurationMeasurement {
  readonly configuration: PlanConfiguration;
  /** `skipped`: not measured (the reason says why); `failed`: it could not be loaded or run. */
  readonly status: 'measured' | 'skipped' | 'failed';
  readonly reason: string | null;
  readonly loadMs: number | null;
  /** The highest process RSS seen while this configuration was loaded. */
  readonly rssBytes: number | null;
  /** The replicas' heaps summed, from `stats()`. */
  readonly heapBytes: number | null;
  /** In the order they were run. */
  readonly points: readonly LoadPoint[];
  /** Capacity at the measuring target (see {@link capacityOf}); null when the target was never met. */
  readonly capacityRps: number | null;
  /** How the capacity was found, or why there is none. */
  readonly capacityReason: string;
}

/** The machine the measurements were taken on: instances in a plan are machines like it. */
export interface PlanMachine {
  /** Cores the planner shared out (`cores`, default os.availableParallelism()). */
  readonly cores: number;
  readonly cpuModel: string;
  readonly totalMemoryBytes: number;
  readonly platform: string;
  readonly arch: string;
  readonly node: string;
}

/** The grid actually measured, with defaults applied. */
export interface PlanGrid {
  readonly intraOpThreads: readonly number[];
  readonly replicas: readonly number[];
  readonly batchSizes: readonly number[];
  readonly maxQueueDelaysMicros: readonly number[];
  readonly batchingOff: boolean;
  readonly mainThread: boolean | 'auto';
  readonly maxPointsPerConfiguration: number;
  readonly minRequestsPerPoint: number;
  readonly maxRequestsPerPoint: number;
  readonly maxOfferedRps: number;
  readonly arrivals: 'poisson' | 'uniform';
  readonly seed: number;
}

/** Everything `measurePlan` found. */
export interface PlanMeasurements {
  /** Format version of this object. */
  readonly version: 1;
  readonly label: string;
  /** ISO 8601. */
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly seconds: number;
  readonly machine: PlanMachine;
  /** The latency target the capacity search used. */
  readonly p99TargetMs: number;
  /** Rows each load request carried: 1, or the model's fixed batch dimension. */
  readonly rowsPerRequest: number;
  /** Whether requests can be merged into batches (a dynamic first dimension on every input and output). */
  readonly mergeable: boolean;
  /** Process RSS before the first replica was loaded. */
  readonly baselineRssBytes: number;
  readonly grid: PlanGrid;
  readonly durations: { readonly servicePointMs: number; readonly loadPointMs: number; readonly budgetMs: number };
  readonly serviceTimes: readonly ServiceTimeMeasurement[];
  readonly configurations: readonly ConfigurationMeasurement[];
  /** True when the time budget ran out before every configuration was measured. */
  readonly truncated: boolean;
  readonly notes: readonly string[];
}

/** What a plan must achieve. */
export interface PlanTarget {
  /** Predictions (requests) per second to serve. */
  readonly rps: number;
  /** The p99 latency to stay under, milliseconds. */
  readonly p99Ms: number;
  /** What a core-hour costs; absent or 0: no cost is computed (as monitoring.business does). */
  readonly pricePerCoreHour?: number;
  /** A label for the price (ISO 4217); default USD. Nothing is converted. */
  readonly currency?: string;
  /** Share of measured capacity an instance is planned to run at, in (0, 1]; default 0.7. */
  readonly headroom?: number;
}

/** The target with defaults applied. */
export interface ResolvedPlanTarget {
  readonly rps: number;
  readonly p99Ms: number;
  readonly pricePerCoreHour: number | null;
  readonly currency: string;
  readonly headroom: number;
}

/** What one configuration would take to meet the target. */
export interface ConfigurationEstimate {
  readonly configuration: PlanConfiguration;
  readonly status: ConfigurationMeasurement['status'];
  /** Highest measured rate meeting the target's p99 with no errors, every lower measured rate passing too. */
  readonly capacityRps: number | null;
  /** capacityRps × headroom. */
  readonly usableCapacityRps: number | null;
  /** Machines of the measured size, each running this configuration: ⌈rps / usable capacity⌉. */
  readonly instances: number | null;
  /** instances × the configuration's cores. */
  readonly cores: number | null;
  /** rps / instances: the load each instance carries. */
  readonly perInstanceRps: number | null;
  /** rps / (instances × capacity). */
  readonly utilisation: number | null;
  /** p99 at the per-instance load, from the measured points (see `p99Basis`). */
  readonly expectedP99Ms: number | null;
  /** How expectedP99Ms was read from the points: interpolated, or taken from the lowest point. */
  readonly p99Basis: string | null;
  /** Measured busy cores at the per-instance load (same reading as the p99), per instance. */
  readonly busyCoresPerInstance: number | null;
  readonly memoryBytesPerInstance: number | null;
  /** cores × pricePerCoreHour / (rps × 3600) × 1e6; null without a price. */
  readonly costPer1MPredictions: number | null;
  readonly meetsTarget: boolean;
  readonly chosen: boolean;
  /** Why it was chosen or not. */
  readonly why: string;
}

/** A ready-to-paste configuration for one instance (the keys of docs/configuration.md). */
export interface PlanConfigSnippet {
  readonly serving: {
    readonly replicas: number;
    readonly intraOpThreads: number;
    readonly placement: PlanPlacement;
    readonly batching: { readonly enabled: boolean; readonly maxBatchSize?: number; readonly maxQueueDelayMicros?: number };
    /** Off: the instance keeps the planned replicas; the plan scales by instances. */
    readonly autoscaling: { readonly enabled: false };
  };
}

/** The chosen configuration and what it takes. */
export interface PlanRecommendation {
  readonly configuration: PlanConfiguration;
  readonly instances: number;
  /** Cores over every instance. */
  readonly cores: number;
  readonly perInstanceRps: number;
  readonly capacityRps: number;
  readonly expectedP99Ms: number;
  readonly p99Basis: string;
  readonly utilisation: number;
  readonly busyCoresPerInstance: number | null;
  readonly memoryBytesPerInstance: number | null;
  readonly memoryBytes: number | null;
  readonly costPerHour: number | null;
  readonly costPer1MPredictions: number | null;
  /** Requests in flight per replica at the planned load (Little's law: rate × mean latency): a starting point for serving.autoscaling.targetConcurrency. */
  readonly concurrencyPerReplica: number | null;
  readonly config: PlanConfigSnippet;
}

/** The answer of `recommendPlan`. */
export interface PlanResult {
  readonly label: string;
  readonly target: ResolvedPlanTarget;
  readonly feasible: boolean;
  /** Why no configuration meets the target; null when one does. */
  readonly reason: string | null;
  /** The lowest p99 measured at every rate and configuration (or the single-call service time when nothing was measured under load). */
  readonly bestAchievableP99Ms: number | null;
  readonly recommendation: PlanRecommendation | null;
  /** Every configuration, chosen first, then by cores and expected p99; unusable ones last. */
  readonly alternatives: readonly ConfigurationEstimate[];
  readonly assumptions: readonly string[];
  /** Why costs are null, or null when they are computed. */
  readonly costReason: string | null;
  readonly measurements: PlanMeasurements;
}
