/**
 * Monitoring's prediction record and feedback store as one service: the recorder on the request
 * path, feedback joined to predictions by request id, outcome queries for the rollout analysis and
 * experiments, and retention applied on a timer. Storage is the injected {@link MonitoringStore}.
 */
import { silentLogger, systemClock, toPlatformError, type Clock, type Logger, type TimerHandle } from '../core/index.js';
import { MonitoringErrors } from './errors.js';
import { buildOutcomeReport, buildPredictionCounts, checkOutcomeMetric, checkWindow } from './feedback/outcomes.js';
import { checkFeedbackItems } from './feedback/validate.js';
import { compileMonitoringOptions, type MonitoringConfig, type MonitoringOptions } from './options.js';
import type { MonitoringStore } from './ports.js';
import { createPredictionRecorder, type PredictionSink, type RecorderStats } from './predictions/recorder.js';
import {
  SHADOW_VARIANT,
  type FeedbackItem,
  type FeedbackWrite,
  type OutcomeMetric,
  type OutcomeReport,
  type PredictedValueRow,
  type PredictionCounts,
  type PredictionRecord,
  type PredictionWithFeedback,
  type TimeWindow,
} from './types.js';

const DAY_MS = 24 * 3600 * 1000;

/** Records removed per prune transaction: small enough that one holds the database for milliseconds. */
export const PRUNE_CHUNK_RECORDS = 2000;

/** Most unknown request ids named in an error message (all are in `details`, up to the item limit). */
const NAMED_IN_MESSAGE = 5;

export interface MonitoringServiceOptions {
  readonly store: MonitoringStore;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Raw or compiled options (see compileMonitoringOptions); default MONITORING_DEFAULTS. */
  readonly options?: MonitoringOptions | MonitoringConfig;
  /**
   * Told of every label stored for an answered one-row prediction, with its record (the drift
   * windows' performance reads them). Called after the write; what it throws is logged, not raised.
   */
  readonly onLabels?: (labelled: readonly LabelledPrediction[]) => void;
}

/** A stored label with the prediction it is for. */
export interface LabelledPrediction {
  readonly record: PredictionRecord;
  readonly label: string | number;
}

export interface SubmitFeedbackOptions {
  /** Leave out items whose request id has no record instead of refusing them all. Default false. */
  readonly skipUnknown?: boolean;
}

/** What a feedback submission did. */
export interface FeedbackReceipt {
  /** Items written. */
  readonly accepted: number;
  /** Request ids without a record (only with skipUnknown; otherwise they are refused with a 404). */
  readonly unknownRequestIds: readonly string[];
}

/** An outcome query: the metric, over predictions made in [since, until). */
export interface OutcomeQuery extends TimeWindow {
  readonly metric: OutcomeMetric;
}

export interface OutcomesQuery extends TimeWindow {
  readonly metrics: readonly OutcomeMetric[];
  /** Also count the predictions of this span (in the same pass when it lies within the window). */
  readonly span?: TimeWindow;
}

/** Several metrics' reports over one window and its prediction counts, from one state of the store. */
export interface OutcomeReports {
  readonly counts: PredictionCounts;
  /** In the order of the query's metrics. */
  readonly reports: readonly OutcomeReport[];
  /** The prediction counts of the query's span; absent without one. */
  readonly spanCounts?: PredictionCounts;
}

export interface MonitoringStats {
  readonly recorder: RecorderStats;
  /** Records removed by retention since start. */
  readonly pruned: number;
  /** When retention last completed, ms since the epoch; null before the first run. */
  readonly lastPruneAt: number | null;
  /** Retention runs that failed (logged). */
  readonly pruneFailures: number;
}

/** The monitoring service; see {@link createMonitoring}. */
export interface Monitoring extends PredictionSink {
  readonly config: MonitoringConfig;
  /**
   * Stores feedback joined to recorded predictions. Throws MONITORING_INVALID_FEEDBACK (every
   * problem), MONITORING_TOO_MANY_FEEDBACK_ITEMS, or MONITORING_PREDICTION_NOT_FOUND naming the
   * unknown request ids — then nothing is written, unless `skipUnknown`.
   */
  submitFeedback(items: readonly FeedbackItem[], options?: SubmitFeedbackOptions): Promise<FeedbackReceipt>;
  /** A prediction with its shadow's answer and its feedback; MONITORING_PREDICTION_NOT_FOUND when there is no record. */
  getPrediction(requestId: string): Promise<PredictionWithFeedback>;
  /** The metric's arms per variant and version of `endpoint`, for predictions made in the window. Includes everything recorded before the call. */
  outcomes(endpoint: string, query: OutcomeQuery): Promise<OutcomeReport>;
  /** Several metrics at once over one window, with its prediction counts: one pass over the window's records where {@link outcomes} per metric would make one each. */
  outcomeReports(endpoint: string, query: OutcomesQuery): Promise<OutcomeReports>;
  /** Predictions per variant and version of `endpoint` in the window: the observed split for a sample-ratio check. */
  predictionCounts(endpoint: string, window: TimeWindow): Promise<PredictionCounts>;
  /** How often each variant predicted each value in the window (answered one-row predictions): the prediction distributions a rollout compares. */
  predictedValues(endpoint: string, window: TimeWindow): Promise<readonly PredictedValueRow[]>;
  /** Applies retention now; resolves to the number of records removed. */
  prune(): Promise<number>;
  /** Writes every record accepted so far. */
  flush(): Promise<void>;
  stats(): MonitoringStats;
  /** Stops the timers and writes what is buffered; later calls refuse with MONITORING_CLOSED. Does not close the store. Idempotent. */
  close(): Promise<void>;
}

const yieldToIo = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/** Creates the service and starts its flush and retention timers. Throws CORE_INVALID_CONFIG for bad options. */
export function createMonitoring(options: MonitoringServiceOptions): Monitoring {
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  // compiling compiled options again yields the same, so both kinds are simply compiled
  const config = compileMonitoringOptions(options.options);
  const p = config.predictions;

  const recorder = createPredictionRecorder({
    store,
    clock,
    logger,
    enabled: p.enabled,
    bufferSize: p.bufferSize,
    flushIntervalMs: p.flushIntervalMs,
    flushBatchSize: p.flushBatchSize,
    summary: { maxRows: p.summaryRows },
  });

  const tellLabels = async (onLabels: (labelled: readonly LabelledPrediction[]) => void, writes: readonly FeedbackWrite[], unknown: ReadonlySet<string>): Promise<void> => {
    // the feedback is stored already: nothing here may fail the request that sent it
    try {
      const labelled: LabelledPrediction[] = [];
      for (const w of writes) {
        if (w.label === undefined || unknown.has(w.requestId)) continue;
        const record = (await store.getPredictions(w.requestId)).find((r) => r.variant !== SHADOW_VARIANT);
        if (record === undefined || record.status < 200 || record.status >= 300 || record.outputs.predicted === null) continue;
        labelled.push({ record, label: w.label });
      }
      if (labelled.length > 0) onLabels(labelled);
    } catch (error) {
      logger.warn({ err: toPlatformError(error).message }, 'labels could not be passed on');
    }
  };

  let closed = false;
  let closing: Promise<void> | undefined;
  let pruning: Promise<number> | undefined;
  let pruneTimer: TimerHandle | undefined;
  const pruneStats = { pruned: 0, lastPruneAt: null as number | null, pruneFailures: 0 };

  const open = (): void => {
    if (closed) throw MonitoringErrors.MONITORING_CLOSED('monitoring is closed: the server is stopping');
  };

  const runPrune = async (): Promise<number> => {
    let total = 0;
    try {
      for (;;) {
        const result = await store.prune({ olderThan: clock.now() - p.retentionDays * DAY_MS, keepNewest: p.maxRecords, limit: PRUNE_CHUNK_RECORDS });
        total += result.deleted;
        if (!result.more) break;
        await yieldToIo();
      }
      pruneStats.lastPruneAt = clock.now();
    } catch (error) {
      pruneStats.pruneFailures++;
      logger.warn({ err: toPlatformError(error).message }, 'retention of prediction records failed; it runs again at the next interval');
    }
    pruneStats.pruned += total;
    if (total > 0) logger.debug({ records: total }, 'prediction records pruned by retention');
    return total;
  };

  // one run at a time; a call during a run shares it
  const prune = (): Promise<number> => {
    if (pruning === undefined) {
      pruning = runPrune().finally(() => {
        pruning = undefined;
      });
    }
    return pruning;
  };

  const armPrune = (): void => {
    if (closed) return;
    pruneTimer = clock.setTimeout(() => {
      pruneTimer = undefined;
      void prune().then(armPrune);
    }, p.pruneIntervalSeconds * 1000);
  };
  armPrune();

  const outcomeReports = async (endpoint: string, query: OutcomesQuery): Promise<OutcomeReports> => {
    open();
    const metrics = query.metrics.map(checkOutcomeMetric);
    const window = checkWindow({ since: query.since, ...(query.until === undefined ? {} : { until: query.until }) });
    const span = query.span === undefined ? undefined : checkWindow(query.span);
    await recorder.flush();
    const snapshot = await store.outcomeSnapshot(endpoint, window, metrics, span);
    const reports = {
      counts: buildPredictionCounts(endpoint, window, snapshot.counts),
      reports: metrics.map((metric, i) => buildOutcomeReport(endpoint, window, metric, snapshot.arms[i] ?? [], snapshot.counts)),
    };
    return span === undefined ? reports : { ...reports, spanCounts: buildPredictionCounts(endpoint, span, snapshot.spanCounts ?? []) };
  };

  const findRecords = async (requestId: string) => {
    let records = await store.getPredictions(requestId);
    if (records.length === 0) {
      // it may still be in the buffer: a client can ask about an answer it got a moment ago
      await recorder.flush();
      records = await store.getPredictions(requestId);
    }
    return records;
  };

  const notFound = (ids: readonly string[]) => {
    const named = ids.slice(0, NAMED_IN_MESSAGE).map((id) => `"${id}"`).join(', ');
    const more = ids.length > NAMED_IN_MESSAGE ? ` and ${ids.length - NAMED_IN_MESSAGE} more` : '';
    const subject = ids.length === 1 ? `no prediction with request id ${named} is on record` : `no predictions with request ids ${named}${more} are on record`;
    return MonitoringErrors.MONITORING_PREDICTION_NOT_FOUND(
      `${subject}: Slipway did not answer ${ids.length === 1 ? 'it' : 'them'}, or retention has pruned ${ids.length === 1 ? 'it' : 'them'} (older than ${p.retentionDays} days or beyond the newest ${p.maxRecords}); nothing was written`,
      { details: { requestIds: ids } },
    );
  };

  return {
    config,
    recordPrediction: (input) => recorder.recordPrediction(input),

    async submitFeedback(items, submit = {}) {
      open();
      if (items.length > config.feedback.maxItems) {
        throw MonitoringErrors.MONITORING_TOO_MANY_FEEDBACK_ITEMS(`${items.length} feedback items in one call, more than the limit of ${config.feedback.maxItems}`, {
          details: { items: items.length, limit: config.feedback.maxItems },
        });
      }
      const at = clock.now();
      const writes: FeedbackWrite[] = checkFeedbackItems(items).map((item) => ({ ...item, at }));
      const skipUnknown = submit.skipUnknown ?? false;
      let result = await store.addFeedback(writes, { skipUnknown: false });
      if (result.unknownRequestIds.length > 0) {
        // the predictions may still be in the buffer; write it and try once more
        await recorder.flush();
        result = await store.addFeedback(writes, { skipUnknown });
      }
      if (result.unknownRequestIds.length > 0 && !skipUnknown) throw notFound(result.unknownRequestIds);
      if (options.onLabels !== undefined) await tellLabels(options.onLabels, writes, new Set(result.unknownRequestIds));
      return { accepted: result.applied, unknownRequestIds: result.unknownRequestIds };
    },

    async getPrediction(requestId) {
      open();
      const records = await findRecords(requestId);
      const primary = records.find((r) => r.variant !== SHADOW_VARIANT);
      const shadow = records.find((r) => r.variant === SHADOW_VARIANT) ?? null;
      const prediction = primary ?? shadow;
      if (prediction === null) throw notFound([requestId]);
      return { prediction, shadow: primary === undefined ? null : shadow, feedback: await store.getFeedback(requestId) };
    },

    async outcomes(endpoint, query) {
      const { reports } = await outcomeReports(endpoint, { since: query.since, ...(query.until === undefined ? {} : { until: query.until }), metrics: [query.metric] });
      return reports[0] as OutcomeReport;
    },

    outcomeReports,

    async predictionCounts(endpoint, window) {
      open();
      const checked = checkWindow(window);
      await recorder.flush();
      return buildPredictionCounts(endpoint, checked, await store.predictionCounts(endpoint, checked));
    },

    async predictedValues(endpoint, window) {
      open();
      const checked = checkWindow(window);
      await recorder.flush();
      return store.predictedValues(endpoint, checked);
    },

    async prune() {
      open();
      return prune();
    },

    flush: () => recorder.flush(),

    stats: () => ({ recorder: recorder.stats(), ...pruneStats }),

    close() {
      closing ??= (async () => {
        closed = true;
        pruneTimer?.cancel();
        pruneTimer = undefined;
        await recorder.close();
        if (pruning !== undefined) await pruning;
      })();
      return closing;
    },
  };
}
