/**
 * The batch scheduler's options, named as Triton names its dynamic batcher's knobs (camelCase, units
 * in names). User options → defaults applied → checked and frozen.
 */
import { ConfigReader, deepFreeze } from '../../core/index.js';

/** What a caller may set; every key optional. */
export interface BatchSchedulerOptions {
  /** Most rows one merged run may carry. A single request with more rows still runs, alone. Default 32. */
  readonly maxBatchSize?: number;
  /**
   * Batch sizes (rows) to aim for in delay mode: when `maxQueueDelayMicros` > 0 the scheduler waits
   * up to that long for the largest of them to fill. Ignored in adaptive mode. Default none.
   */
  readonly preferredBatchSizes?: readonly number[];
  /**
   * 0 (default) is adaptive: a request is dispatched the moment a replica is free and queues only
   * while every replica is busy. Above 0, a request may wait up to this many microseconds for a
   * batch to fill toward a preferred size (Triton's max_queue_delay_microseconds).
   */
  readonly maxQueueDelayMicros?: number;
  /** Most requests waiting; one more is refused with SERVING_QUEUE_FULL (429). Default 1024. */
  readonly maxQueueSize?: number;
  /** Longest a request may wait in the queue before SERVING_QUEUE_TIMEOUT (429); 0 (default) = no limit. */
  readonly queueTimeoutMs?: number;
  /**
   * How many batches may run at once. Default: the number of the model's ready replicas (at
   * least 1), read at every dispatch so it follows scaling.
   */
  readonly concurrency?: () => number;
  /** Told about every model run and every request's wait (metrics); none by default. */
  readonly observer?: BatchObserver;
}

/** What a batch scheduler reports as it works (src/monitoring/metrics turns it into histograms). */
export interface BatchObserver {
  /** A request left the queue for a run after waiting this long (0 when it went straight to a replica). */
  queued(seconds: number): void;
  /** A model run carrying `rows` rows finished (or failed) after this long. */
  ran(rows: number, seconds: number): void;
}

/** The options with defaults applied and checked. */
export interface CompiledBatchSchedulerOptions {
  readonly maxBatchSize: number;
  /** Sorted ascending, each ≤ maxBatchSize. */
  readonly preferredBatchSizes: readonly number[];
  readonly maxQueueDelayMicros: number;
  readonly maxQueueSize: number;
  readonly queueTimeoutMs: number;
}

export const BATCH_DEFAULTS = {
  maxBatchSize: 32,
  maxQueueDelayMicros: 0,
  maxQueueSize: 1024,
  queueTimeoutMs: 0,
} as const;

/** Applies defaults and checks every value; throws CORE_INVALID_CONFIG listing every problem. */
export function compileBatchSchedulerOptions(options: BatchSchedulerOptions, path = 'batching'): CompiledBatchSchedulerOptions {
  const r = new ConfigReader();
  const maxBatchSize = r.integer(options.maxBatchSize, `${path}.maxBatchSize`, BATCH_DEFAULTS.maxBatchSize, 1, 1_000_000);
  const preferred: number[] = [];
  (options.preferredBatchSizes ?? []).forEach((v, i) => {
    const n = r.integer(v, `${path}.preferredBatchSizes[${i}]`, 0, 1, maxBatchSize);
    if (n > 0 && !preferred.includes(n)) preferred.push(n);
  });
  preferred.sort((a, b) => a - b);
  const compiled: CompiledBatchSchedulerOptions = {
    maxBatchSize,
    preferredBatchSizes: preferred,
    maxQueueDelayMicros: r.integer(options.maxQueueDelayMicros, `${path}.maxQueueDelayMicros`, BATCH_DEFAULTS.maxQueueDelayMicros, 0, 60_000_000),
    maxQueueSize: r.integer(options.maxQueueSize, `${path}.maxQueueSize`, BATCH_DEFAULTS.maxQueueSize, 1),
    queueTimeoutMs: r.integer(options.queueTimeoutMs, `${path}.queueTimeoutMs`, BATCH_DEFAULTS.queueTimeoutMs, 0),
  };
  r.finish('batch scheduler options');
  return deepFreeze(compiled);
}
