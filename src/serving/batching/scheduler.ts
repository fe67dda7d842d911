/**
 * The per-version dynamic batching scheduler. It sits in front of a {@link LoadedModel}'s `infer`
 * and keeps at most as many runs in flight as the model has ready replicas. Requests that arrive
 * while every replica is busy wait in a bounded queue; when a replica frees, everything queued that
 * can be concatenated (up to `maxBatchSize` rows) goes out as one run, and the answers are split
 * back per caller.
 *
 * Why adaptive by default: measured on a 2-core machine, a "wait up to 5 ms or 32 items" batcher was
 * 3× slower than no batching at all (batches never filled, so every request waited the whole
 * delay), while dispatching the moment a replica is idle and queueing only while all are busy came
 * near the HTTP ceiling. So a request is never held while a replica is idle; batches form by
 * themselves under load, exactly as large as the load makes them. `maxQueueDelayMicros` > 0 turns on
 * Triton's wait-to-fill behaviour for those who want it.
 *
 * Ownership: the caller keeps its input tensors (they are copied when merged); the output tensors it
 * receives are its own (split outputs are copies, never views shared with batch-mates).
 */
import { silentLogger, toPlatformError, type Clock, type Logger, type PlatformError, type Tensor, type TimerHandle } from '../../core/index.js';
// A leaf import: the runtime's index also loads the onnxruntime adapter, which serving does not need.
import { RuntimeErrors } from '../../runtime/errors.js';
import { readyReplicasOf, type LoadedModel } from '../../runtime/index.js';
import { ServingErrors } from '../errors.js';
import { batchKeyOf, canMergeSignature, concatInputs, splitOutputs } from './merge.js';
import { compileBatchSchedulerOptions, type BatchSchedulerOptions, type CompiledBatchSchedulerOptions } from './options.js';

/** Figures of one scheduler since it was created (the queue and in-flight figures are current). */
export interface BatchStats {
  /** Whether requests are merged; false for fixed-shape models, or once a merged run proved unsplittable. */
  readonly merging: boolean;
  /** Requests waiting now. */
  readonly queueDepth: number;
  /** Runs handed to the model and not yet answered. */
  readonly inFlightBatches: number;
  /** Runs handed to the model (a merged run counts once; isolation re-runs are not counted). */
  readonly batches: number;
  /** Requests those runs carried. */
  readonly requests: number;
  /** Rows those runs carried. */
  readonly rows: number;
  /** Rows per run on average (Triton's batch size); 0 before the first run. */
  readonly meanBatchSize: number;
  /** Requests per run on average; 0 before the first run. */
  readonly meanRequestsPerBatch: number;
  /** Requests refused because the queue was full (SERVING_QUEUE_FULL). */
  readonly rejected: number;
  /** Requests that waited longer than queueTimeoutMs (SERVING_QUEUE_TIMEOUT). */
  readonly timedOut: number;
  /** Requests whose signal aborted while they waited; they never ran. */
  readonly aborted: number;
  /** Merged runs that failed on their inputs and were re-run one request at a time. */
  readonly isolatedBatches: number;
}

/** A dynamic batcher with the `infer` shape of {@link LoadedModel}, so the data plane calls it unchanged. */
export interface BatchScheduler {
  readonly options: CompiledBatchSchedulerOptions;
  /**
   * Runs one request, possibly merged with others. Rejects with SERVING_QUEUE_FULL when the queue is
   * full, SERVING_QUEUE_TIMEOUT after queueTimeoutMs in the queue, RUNTIME_ABORTED when `signal`
   * aborts (a queued request then never runs), RUNTIME_UNLOADED after {@link close}, and otherwise
   * with whatever the model's own `infer` rejects with.
   */
  infer(inputs: readonly Tensor[], outputs: readonly string[] | undefined, signal?: AbortSignal): Promise<Tensor[]>;
  stats(): BatchStats;
  /** Refuses new requests and rejects queued ones with RUNTIME_UNLOADED; runs in flight finish. Idempotent. */
  close(): void;
}

interface Batch {
  readonly controller: AbortController;
  readonly members: readonly Pending[];
}

interface Pending {
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly string[] | undefined;
  readonly signal: AbortSignal | undefined;
  /** Row count and merge key; undefined when this request cannot be merged with others. */
  readonly merge: { readonly rows: number; readonly key: string } | undefined;
  readonly enqueuedMs: number;
  state: 'new' | 'queued' | 'running' | 'done';
  timer: TimerHandle | undefined;
  onAbort: (() => void) | undefined;
  batch: Batch | undefined;
  readonly resolve: (value: Tensor[]) => void;
  readonly reject: (error: PlatformError) => void;
}

type Outcome = { readonly value: Tensor[] } | { readonly error: PlatformError };

/**
 * Creates the scheduler for one loaded version. Options are checked here (CORE_INVALID_CONFIG lists
 * every problem).
 */
export function createBatchScheduler(loaded: LoadedModel, options: BatchSchedulerOptions, clock: Clock, logger: Logger = silentLogger): BatchScheduler {
  const compiled = compileBatchSchedulerOptions(options);
  const { maxBatchSize, preferredBatchSizes, maxQueueDelayMicros, maxQueueSize, queueTimeoutMs } = compiled;
  const observer = options.observer;
  const delayMode = maxQueueDelayMicros > 0;
  const concurrency =
    options.concurrency ??
    // at least one: with no replica ready (scale from zero) the pool holds the run until one is
    ((): number => Math.max(1, readyReplicasOf(loaded)));

  let merging = canMergeSignature(loaded.signature);
  let queue: Pending[] = [];
  let inFlight = 0;
  let closed = false;
  let delayTimer: TimerHandle | undefined;
  const counts = { batches: 0, requests: 0, rows: 0, rejected: 0, timedOut: 0, aborted: 0, isolatedBatches: 0 };

  const finish = (p: Pending, outcome: Outcome): void => {
    if (p.state === 'done') return;
    p.state = 'done';
    p.timer?.cancel();
    p.timer = undefined;
    if (p.onAbort !== undefined) p.signal?.removeEventListener('abort', p.onAbort);
    p.onAbort = undefined;
    if ('error' in outcome) p.reject(outcome.error);
    else p.resolve(outcome.value);
  };

  const removeFromQueue = (p: Pending): void => {
    const i = queue.indexOf(p);
    if (i >= 0) queue.splice(i, 1);
  };

  const abortedError = (): PlatformError => RuntimeErrors.RUNTIME_ABORTED(`${loaded.label}: the request was cancelled before the model answered`);

  const onAbort = (p: Pending): void => {
    if (p.state === 'queued') {
      removeFromQueue(p);
      counts.aborted++;
      finish(p, { error: abortedError() });
      pump(); // in delay mode the head may have changed
    } else if (p.state === 'running') {
      // the run goes on for its batch-mates; this caller is freed now
      finish(p, { error: abortedError() });
      // a run whose every caller has left is not worth finishing (the pool drops it if it still holds it)
      const batch = p.batch;
      if (batch !== undefined && batch.members.every((m) => m.state === 'done')) batch.controller.abort();
    }
  };

  const onQueueTimeout = (p: Pending): void => {
    p.timer = undefined;
    if (p.state !== 'queued') return;
    removeFromQueue(p);
    counts.timedOut++;
    finish(p, {
      error: ServingErrors.SERVING_QUEUE_TIMEOUT(`${loaded.label}: the request waited ${queueTimeoutMs} ms in the batching queue without a free replica and was not run`, {
        retryAfterSeconds: 1,
        details: { queueTimeoutMs },
      }),
    });
    pump();
  };

  // ---- forming batches ----

  /** Takes the head and every later queued request that can join it, up to `cap` rows. */
  const take = (cap: number): Pending[] => {
    const head = queue[0];
    if (head === undefined) return [];
    if (!merging || head.merge === undefined) {
      queue.shift();
      return [head];
    }
    const key = head.merge.key;
    const members = [head];
    let rows = head.merge.rows;
    const rest: Pending[] = [];
    for (let i = 1; i < queue.length; i++) {
      const q = queue[i];
      if (q === undefined) continue;
      if (rows >= cap) {
        for (let j = i; j < queue.length; j++) {
          const r = queue[j];
          if (r !== undefined) rest.push(r);
        }
        break;
      }
      if (q.merge !== undefined && q.merge.key === key && rows + q.merge.rows <= cap) {
        members.push(q);
        rows += q.merge.rows;
      } else rest.push(q);
    }
    queue = rest;
    return members;
  };

  /** Rows the head could be merged with right now (itself included), up to maxBatchSize. */
  const mergeableRows = (): number => {
    const head = queue[0];
    if (head?.merge === undefined) return 0;
    let rows = 0;
    for (const q of queue) {
      if (q.merge !== undefined && q.merge.key === head.merge.key && rows + q.merge.rows <= maxBatchSize) rows += q.merge.rows;
    }
    return rows;
  };

  /** Delay mode: the batch to send now, or undefined after arming a timer for when the head's delay runs out. */
  const takeDelayed = (): Pending[] | undefined => {
    const head = queue[0];
    if (head === undefined) return undefined;
    // a request that cannot be merged gains nothing by waiting
    if (!merging || head.merge === undefined) return take(maxBatchSize);
    const rows = mergeableRows();
    const goal = preferredBatchSizes[preferredBatchSizes.length - 1] ?? maxBatchSize;
    if (rows >= goal) return take(goal);
    const delayMs = maxQueueDelayMicros / 1000;
    const waitedMs = clock.monotonicMs() - head.enqueuedMs;
    if (waitedMs >= delayMs) {
      let fit: number | undefined;
      for (const size of preferredBatchSizes) if (size <= rows) fit = size;
      return take(fit ?? maxBatchSize);
    }
    delayTimer = clock.setTimeout(() => {
      delayTimer = undefined;
      pump();
    }, delayMs - waitedMs);
    return undefined;
  };

  /** Sends batches while there is free capacity and something to send. */
  function pump(): void {
    delayTimer?.cancel();
    delayTimer = undefined;
    while (queue.length > 0 && inFlight < concurrency()) {
      const members = delayMode ? takeDelayed() : take(maxBatchSize);
      if (members === undefined || members.length === 0) return;
      launch(members);
    }
  }

  // ---- running batches ----

  /** A run finished, however it ended: its replica can take the next batch. */
  const freed = (): void => {
    inFlight--;
    pump();
  };

  const launch = (members: Pending[]): void => {
    inFlight++;
    counts.batches++;
    counts.requests += members.length;
    const batch: Batch = { controller: new AbortController(), members };
    const startedMs = clock.monotonicMs();
    let rows = 0;
    for (const m of members) {
      m.state = 'running';
      m.timer?.cancel();
      m.timer = undefined;
      m.batch = batch;
      rows += m.merge?.rows ?? m.inputs[0]?.shape[0] ?? 1;
      observer?.queued((startedMs - m.enqueuedMs) / 1000);
    }
    counts.rows += rows;
    void execute(batch).finally(() => {
      observer?.ran(rows, (clock.monotonicMs() - startedMs) / 1000);
      freed();
    });
  };

  const runAlone = async (m: Pending): Promise<Outcome> => {
    try {
      return { value: await loaded.infer(m.inputs, m.outputs, m.signal) };
    } catch (error) {
      return { error: toPlatformError(error) };
    }
  };

  const stopMerging = (why: string): void => {
    if (!merging) return;
    merging = false;
    logger.warn({ model: loaded.label, reason: why }, 'batching: requests of this model are no longer merged; they run one at a time');
  };

  /** Runs each still-waiting member on its own, one after another (within this batch's capacity slot). */
  const runEach = async (members: readonly Pending[], afterInputFailure: boolean): Promise<void> => {
    let ranAll = true;
    let inputFailures = 0;
    for (const m of members) {
      if (m.state === 'done') {
        ranAll = false;
        continue;
      }
      const outcome = await runAlone(m);
      if ('error' in outcome && outcome.error.kind === 'invalid') inputFailures++;
      finish(m, outcome);
    }
    // the merged run failed on its inputs, yet every request succeeds alone: merging is what the model refuses
    if (afterInputFailure && ranAll && inputFailures === 0) stopMerging('a merged run failed although each of its requests succeeds alone');
  };

  const execute = async (batch: Batch): Promise<void> => {
    const { members } = batch;
    const first = members[0];
    if (first === undefined) return;
    if (members.length === 1) return finish(first, await runAlone(first));
    let outputs: Tensor[];
    try {
      const inputs = concatInputs(members.map((m) => m.inputs));
      outputs = await loaded.infer(inputs, first.outputs, batch.controller.signal);
    } catch (error) {
      const e = toPlatformError(error);
      if (e.kind === 'invalid') {
        // an input-dependent failure: find the culprit by running each alone, so its batch-mates still get answers
        counts.isolatedBatches++;
        return runEach(members, true);
      }
      // crashes, hangs, unloads: nothing suggests running again would help; fail fast as without batching
      for (const m of members) finish(m, { error: e });
      return;
    }
    const split = splitOutputs(
      outputs,
      members.map((m) => m.merge?.rows ?? 0),
    );
    if (split === undefined) {
      stopMerging(`an output's first dimension is not the batch's ${members.length} requests' total row count`);
      return runEach(members, false);
    }
    members.forEach((m, i) => finish(m, { value: split[i] ?? [] }));
  };

  return {
    options: compiled,

    infer(inputs, outputs, signal) {
      if (closed) return Promise.reject(RuntimeErrors.RUNTIME_UNLOADED(`${loaded.label} is unloading and takes no new requests`, { retryAfterSeconds: 1 }));
      if (signal?.aborted === true) return Promise.reject(abortedError());
      // the common case under light load: a replica is idle and nobody is ahead, so go now — straight
      // to the model, without the bookkeeping a queued request needs (the pool handles its abort)
      if (!delayMode && queue.length === 0 && inFlight < concurrency()) {
        inFlight++;
        counts.batches++;
        counts.requests++;
        const rows = inputs[0]?.shape[0] ?? 1;
        counts.rows += rows;
        let run: Promise<Tensor[]>;
        try {
          run = loaded.infer(inputs, outputs, signal);
        } catch (error) {
          run = Promise.reject(toPlatformError(error));
        }
        if (observer === undefined) run.then(freed, freed);
        else {
          const startedMs = clock.monotonicMs();
          observer.queued(0);
          const done = (): void => {
            observer.ran(rows, (clock.monotonicMs() - startedMs) / 1000);
            freed();
          };
          run.then(done, done);
        }
        return run;
      }
      return new Promise<Tensor[]>((resolve, reject) => {
        const p: Pending = {
          inputs,
          outputs,
          signal,
          merge: merging ? batchKeyOf(inputs, outputs) : undefined,
          enqueuedMs: clock.monotonicMs(),
          state: 'new',
          timer: undefined,
          onAbort: undefined,
          batch: undefined,
          resolve,
          reject,
        };
        if (signal !== undefined) {
          p.onAbort = () => onAbort(p);
          signal.addEventListener('abort', p.onAbort, { once: true });
        }
        if (queue.length >= maxQueueSize) {
          counts.rejected++;
          return finish(p, {
            error: ServingErrors.SERVING_QUEUE_FULL(`${loaded.label}: every replica is busy and ${maxQueueSize} requests are already queued; retry shortly`, {
              retryAfterSeconds: 1,
              details: { maxQueueSize },
            }),
          });
        }
        p.state = 'queued';
        queue.push(p);
        if (queueTimeoutMs > 0) p.timer = clock.setTimeout(() => onQueueTimeout(p), queueTimeoutMs);
        pump();
      });
    },

    stats() {
      return {
        merging,
        queueDepth: queue.length,
        inFlightBatches: inFlight,
        ...counts,
        meanBatchSize: counts.batches === 0 ? 0 : counts.rows / counts.batches,
        meanRequestsPerBatch: counts.batches === 0 ? 0 : counts.requests / counts.batches,
      };
    },

    close() {
      if (closed) return;
      closed = true;
      delayTimer?.cancel();
      delayTimer = undefined;
      const waiting = queue;
      queue = [];
      for (const p of waiting) finish(p, { error: RuntimeErrors.RUNTIME_UNLOADED(`${loaded.label} was unloaded before the request could run`, { retryAfterSeconds: 1 }) });
    },
  };
}

/** A {@link LoadedModel} whose `infer` goes through a batch scheduler; everything else is the model's own. */
export interface BatchedModel extends LoadedModel {
  readonly batching: BatchScheduler;
  /** The model behind the scheduler. */
  readonly inner: LoadedModel;
}

/** Wraps a loaded model's `infer` with a scheduler, so whoever holds a LoadedModel batches without knowing. */
export function withBatching(loaded: LoadedModel, scheduler: BatchScheduler): BatchedModel {
  return {
    get label() {
      return loaded.label;
    },
    get signature() {
      return loaded.signature;
    },
    batching: scheduler,
    inner: loaded,
    infer: (inputs, outputs, signal) => scheduler.infer(inputs, outputs, signal),
    stats: () => loaded.stats(),
    unload() {
      scheduler.close();
      return loaded.unload();
    },
  };
}
