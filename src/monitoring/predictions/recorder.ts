/**
 * The prediction recorder: the request path hands it each answer synchronously; it summarises the
 * outputs, appends the record to a bounded in-memory buffer and returns. A timer writes the buffer
 * to the store in batches. Serving never waits for storage: when the buffer is full a record is
 * dropped and counted, and a failed write is logged and counted, never retried into a backlog.
 */
import { silentLogger, systemClock, toPlatformError, type Clock, type Logger, type Tensor, type TimerHandle } from '../../core/index.js';
import type { InsertPredictionsResult, MonitoringStore } from '../ports.js';
import type { PredictionRecord } from '../types.js';
import { createOutputSummarizer, type OutputSummaryOptions } from './summary.js';
import { createTapeWriter, recordAt, recordLatency, recordStatus, recordVersion } from './tape.js';

/** What the request path reports about one inference. */
export interface PredictionInput {
  /** The server request id (`req.id`). */
  readonly requestId: string;
  readonly endpoint: string;
  /** The model and version that answered; null or absent when the request failed before one was chosen. */
  readonly model?: string | null;
  readonly version?: number | null;
  /** `stable` (default), `candidate`, an experiment variant's name, or `shadow` for a mirrored copy. */
  readonly variant?: string;
  readonly latencyMs: number;
  /** The HTTP status answered. */
  readonly status: number;
  /** The output tensors answered (absent for an error); summarised at once, not kept. */
  readonly outputs?: readonly Tensor[];
  /** When it was answered, ms since the epoch; default now. */
  readonly at?: number;
}

/** The one call the request path makes; what serving depends on. */
export interface PredictionSink {
  /**
   * Records one inference. Synchronous, bounded work, never throws: returns false when the record
   * was dropped (buffer full, recording off, or closed).
   */
  recordPrediction(input: PredictionInput): boolean;
}

/** The recorder's counters since it was created. */
export interface RecorderStats {
  /** Records waiting in the buffer, plus the batch being written. */
  readonly buffered: number;
  /** Records taken into the buffer. */
  readonly accepted: number;
  /** Records the store wrote. */
  readonly written: number;
  /** Records the store ignored: a record with that request id (and role) was already stored. */
  readonly duplicates: number;
  /** Records refused because the buffer was full or the recorder closed. */
  readonly dropped: number;
  /** Records lost because a write to the store failed. */
  readonly failed: number;
}

export interface PredictionRecorder extends PredictionSink {
  /** Resolves once every record accepted before the call has been written (or has failed). Never rejects. */
  flush(): Promise<void>;
  stats(): RecorderStats;
  /** Stops the timer and writes what is buffered. Later records are dropped. Idempotent. */
  close(): Promise<void>;
}

export interface PredictionRecorderOptions {
  readonly store: MonitoringStore;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Default true; false: every record is refused (and not counted as dropped). */
  readonly enabled?: boolean;
  /** Default 10 000. */
  readonly bufferSize?: number;
  /** Default 1000. */
  readonly flushIntervalMs?: number;
  /** Default 1000. */
  readonly flushBatchSize?: number;
  readonly summary?: OutputSummaryOptions;
}

/** A sealed batch of records waiting to be written. */
interface Sealed {
  readonly size: number;
  write(): Promise<InsertPredictionsResult>;
}

/** Where records accumulate until a batch is sealed: plain records, or a tape for a store that takes tapes. */
interface Accumulator {
  readonly size: number;
  add(input: PredictionInput): void;
  seal(): Sealed;
}

/** Creates a recorder and starts its flush timer. */
export function createPredictionRecorder(options: PredictionRecorderOptions): PredictionRecorder {
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const enabled = options.enabled ?? true;
  const bufferSize = options.bufferSize ?? 10_000;
  const flushIntervalMs = options.flushIntervalMs ?? 1000;
  const batchSize = options.flushBatchSize ?? 1000;
  const summarize = createOutputSummarizer(options.summary);

  const toRecord = (input: PredictionInput): PredictionRecord => ({
    requestId: input.requestId,
    at: recordAt(input.at, clock.now()),
    endpoint: input.endpoint,
    model: input.model ?? null,
    version: recordVersion(input.version),
    variant: input.variant ?? 'stable',
    latencyMs: recordLatency(input.latencyMs),
    status: recordStatus(input.status),
    outputs: summarize(input.outputs),
  });

  const accumulator = ((): Accumulator => {
    const insertTape = store.insertTape?.bind(store);
    if (insertTape !== undefined) {
      // the store takes tapes: the request thread appends primitives and raw outputs, nothing more
      const tape = createTapeWriter(options.summary);
      return {
        get size() {
          return tape.size;
        },
        add: (input) => tape.add(input, clock.now()),
        seal() {
          const sealed = tape.seal();
          return { size: sealed.n, write: () => insertTape(sealed) };
        },
      };
    }
    let records: PredictionRecord[] = [];
    return {
      get size() {
        return records.length;
      },
      add: (input) => {
        records.push(toRecord(input));
      },
      seal() {
        const sealed = records;
        records = [];
        return { size: sealed.length, write: () => store.insertPredictions(sealed) };
      },
    };
  })();

  const sealed: Sealed[] = [];
  let buffered = 0;
  let flushing: Promise<void> | undefined;
  let timer: TimerHandle | undefined;
  let soon: TimerHandle | undefined;
  let closed = false;
  const counts = { accepted: 0, written: 0, duplicates: 0, dropped: 0, failed: 0 };

  const writeBatch = async (batch: Sealed): Promise<void> => {
    try {
      const result = await batch.write();
      counts.written += result.inserted;
      counts.duplicates += result.duplicates;
    } catch (error) {
      counts.failed += batch.size;
      logger.warn({ err: toPlatformError(error).message, records: batch.size }, 'prediction records could not be written and were dropped');
    } finally {
      buffered -= batch.size;
    }
  };

  /** Writes the sealed batches, in order, until none is left. */
  const drain = async (): Promise<void> => {
    for (;;) {
      const batch = sealed.shift();
      if (batch === undefined) return;
      await writeBatch(batch);
      // let requests in between batches: a synchronous store holds the thread while it writes
      if (sealed.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };

  /**
   * One drain at a time. A caller arriving during a drain waits for it; then, with `sealPartial`,
   * seals what has accumulated, and drains — so whatever was accepted before a flush is written
   * when it resolves. A drain writes only what was sealed: records arriving meanwhile wait for a
   * full batch or the next tick. (Sealing them as soon as a write returned made batches of a few
   * dozen records under load, each with its own transaction, commit and message to the writer's
   * thread: a commit per round trip instead of one per 1,000 records.)
   */
  const writeSealed = async (sealPartial: boolean): Promise<void> => {
    while (flushing !== undefined) await flushing;
    if (sealPartial && accumulator.size > 0) sealed.push(accumulator.seal());
    if (sealed.length === 0) return;
    flushing = drain();
    try {
      await flushing;
    } finally {
      flushing = undefined;
    }
  };
  const flush = (): Promise<void> => writeSealed(true);

  const arm = (): void => {
    if (closed) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      void flush().then(arm);
    }, flushIntervalMs);
  };
  arm();

  return {
    recordPrediction(input) {
      if (!enabled) return false;
      if (closed || buffered >= bufferSize) {
        counts.dropped++;
        return false;
      }
      try {
        accumulator.add(input);
      } catch (error) {
        // the request path must never fail because of monitoring
        counts.dropped++;
        logger.warn({ err: toPlatformError(error).message, requestId: input.requestId }, 'prediction could not be recorded');
        return false;
      }
      counts.accepted++;
      buffered++;
      if (accumulator.size >= batchSize) {
        sealed.push(accumulator.seal());
        // a full batch is written now rather than at the next tick, but never from inside the
        // request (after a drain under way, should that drain have passed its last look)
        if (soon === undefined) {
          soon = clock.setTimeout(() => {
            soon = undefined;
            void writeSealed(false);
          }, 0);
        }
      }
      return true;
    },
    flush,
    stats: () => ({ buffered, ...counts }),
    async close() {
      closed = true;
      timer?.cancel();
      timer = undefined;
      soon?.cancel();
      soon = undefined;
      await flush();
    },
  };
}
