/**
 * The port monitoring needs from storage: a store of prediction records and their feedback, able
 * to compute outcome arms with aggregates rather than handing rows back. Adapters live in
 * src/storage (memory for tests, SQLite by default); every adapter passes the contract suite in
 * test/unit/monitoring/monitoring-store.contract.ts.
 *
 * Every method is atomic: it sees and leaves the store consistent, whatever else runs. Records and
 * feedback handed to a method are owned by the store after the call (it may keep them); what a
 * method returns is the caller's and never aliases the store's state.
 */
import type { PredictionTape } from './predictions/tape.js';
import type { ArmRow, FeedbackWrite, OutcomeMetric, PredictedValueRow, PredictionCountRow, PredictionFeedback, PredictionRecord, TimeWindow } from './types.js';

export interface InsertPredictionsResult {
  /** Records stored. */
  readonly inserted: number;
  /** Records ignored because a record of the same request id and role (primary or shadow) was already stored. */
  readonly duplicates: number;
}

export interface AddFeedbackOptions {
  /**
   * false: when any item names a request id with no record, nothing is written and those ids
   * are returned. true: items for unknown ids are left out and the rest are written.
   */
  readonly skipUnknown: boolean;
}

export interface AddFeedbackResult {
  /** Items written. */
  readonly applied: number;
  /** Request ids without a record, each once, in the order first seen. */
  readonly unknownRequestIds: readonly string[];
}

/** What a prune call removes; records go oldest first by insertion. */
export interface PrunePolicy {
  /** Remove records answered before this time (ms since the epoch). */
  readonly olderThan?: number;
  /** Keep at most this many records: the most recently inserted. */
  readonly keepNewest?: number;
  /** Remove at most this many records in this call, so one call holds the store only briefly. */
  readonly limit: number;
}

export interface PruneResult {
  /** Records removed. */
  readonly deleted: number;
  /** True when the limit was reached and more records are due; call again. */
  readonly more: boolean;
}

/** Several outcome metrics over one window, with its prediction counts; see {@link MonitoringStore.outcomeSnapshot}. */
export interface OutcomeSnapshot {
  readonly counts: readonly PredictionCountRow[];
  /** Each metric's arms, in the order the metrics were given. */
  readonly arms: readonly (readonly ArmRow[])[];
  /** The prediction counts of the span asked for; absent without one. */
  readonly spanCounts?: readonly PredictionCountRow[];
}

/** How much a store holds. */
export interface MonitoringStoreSize {
  readonly predictions: number;
  /** Predictions with a label. */
  readonly labels: number;
  /** Event and value entries. */
  readonly outcomes: number;
}

export interface MonitoringStore {
  /**
   * Stores records in one transaction. A record whose request id and role (variant `shadow` or
   * not) is already stored is ignored and counted as a duplicate: the first answer stays.
   */
  insertPredictions(records: readonly PredictionRecord[]): Promise<InsertPredictionsResult>;

  /**
   * Optional: stores the records on a prediction tape, as {@link insertPredictions} would the
   * records {@link readTape} makes of it. A store that has it is handed tapes by the recorder, so
   * the request thread neither summarises outputs nor builds records (the server's SQLite store
   * reads tapes on its writer thread).
   */
  insertTape?(tape: PredictionTape): Promise<InsertPredictionsResult>;

  /** The records of a request id: none, the primary, and/or the shadow's. Order: primary first. */
  getPredictions(requestId: string): Promise<readonly PredictionRecord[]>;

  /** The feedback of a request id (empty when there is none, or no such request). */
  getFeedback(requestId: string): Promise<PredictionFeedback>;

  /**
   * Writes feedback in one transaction, in order. A label replaces the prediction's label. An
   * event (or, without one, a value) adds or updates the prediction's entry for that event: a
   * value given replaces the stored one, a value left out keeps it; `at` becomes the item's.
   * An item is known when any record of its request id is stored (see {@link AddFeedbackOptions}).
   */
  addFeedback(items: readonly FeedbackWrite[], options: AddFeedbackOptions): Promise<AddFeedbackResult>;

  /**
   * The window's prediction counts (as {@link predictionCounts}) and, for each metric, its arm for
   * each (variant, version) of `endpoint` with data in the window (prediction times in
   * [since, until)), all read from one consistent state of the store and computed with aggregates.
   * Only answered (2xx) predictions count; rate and mean leave shadow records out. (variant,
   * version) pairs without data may be absent from a metric's arms. Given a `span`, the snapshot
   * also counts the predictions in it (the business report's CPU span; when it lies within the
   * window, in the same pass).
   */
  outcomeSnapshot(endpoint: string, window: TimeWindow, metrics: readonly OutcomeMetric[], span?: TimeWindow): Promise<OutcomeSnapshot>;

  /** Prediction counts for each (variant, version) of `endpoint` in the window. */
  predictionCounts(endpoint: string, window: TimeWindow): Promise<readonly PredictionCountRow[]>;

  /**
   * How often each variant of `endpoint` predicted each value in the window: answered (2xx),
   * one-row predictions only, shadow copies included under `shadow`. Order unspecified.
   */
  predictedValues(endpoint: string, window: TimeWindow): Promise<readonly PredictedValueRow[]>;

  /** Removes records due under `policy`, and the feedback of request ids left without a record. */
  prune(policy: PrunePolicy): Promise<PruneResult>;

  size(): Promise<MonitoringStoreSize>;
}
