/**
 * The vocabulary of prediction records and feedback: what Slipway keeps about each answered
 * inference (never its input payload), the later facts a client reports about it, and the
 * per-variant outcome summaries the rollout analysis consumes. Times are milliseconds since the
 * epoch; the HTTP API shows them as ISO-8601.
 */
import type { ContinuousArm, RateArm } from '../rollout/analysis/index.js';

// ─── Predictions ────────────────────────────────────────────────────────────────────────────────

/** The variant that answered: `stable`, `candidate`, an experiment variant's name, `shadow` (a mirrored copy) or `unrouted`. */
export type Variant = string;

/** The variant name of a mirrored copy: recorded beside the primary answer under the same request id. */
export const SHADOW_VARIANT = 'shadow';

/**
 * The variant of a request refused before the traffic policy chose one (no such endpoint or
 * version, nothing loaded yet): kept apart so it never counts towards a variant's observed split.
 */
export const UNROUTED_VARIANT = 'unrouted';

/** How one output tensor is summarised, chosen by its datatype and shape (see docs/feedback.md). */
export type OutputKind =
  /** one integer, boolean or string per row: a class label */
  | 'label'
  /** one floating-point number per row: a regression value or a score */
  | 'value'
  /** a row of two or more numbers: class scores or probabilities, summarised by argmax */
  | 'scores'
  /** anything else (rank ≥ 3, string rows, very wide rows): datatype and shape only */
  | 'tensor';

/** One output tensor, summarised. */
export interface OutputSummary {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly kind: OutputKind;
  /**
   * Per row, for the first rows only (`summaryRows`): the label (`label`), the value (`value`) or
   * the argmax index (`scores`). Absent for `tensor`. null where the value is not a finite number.
   */
  readonly values?: readonly (string | number | null)[];
  /** For `scores`: the highest score of each summarised row. */
  readonly scores?: readonly (number | null)[];
  /** True when rows were left out or a string label was cut to its cap. */
  readonly truncated?: boolean;
}

/** The one prediction a feedback label is compared with. */
export interface PredictedValue {
  /** The output it was read from. */
  readonly output: string;
  readonly kind: 'label' | 'value' | 'scores';
  /** The class label, the value, or the argmax index. */
  readonly value: string | number;
}

/** What is kept of a response's outputs: small, and enough to join labels to. */
export interface OutputsSummary {
  /** Rows in the response: the first dimension the outputs share (1 for scalars); null when they disagree or there are none. */
  readonly rows: number | null;
  /**
   * The prediction of a one-row response: the first `label` output, else the first `scores`
   * output's argmax, else the first `value` output. null for several rows or none.
   */
  readonly predicted: PredictedValue | null;
  readonly tensors: readonly OutputSummary[];
  /** Outputs left out beyond the cap on summarised outputs. */
  readonly omitted: number;
}

/** The record of one answered (or refused) inference. */
export interface PredictionRecord {
  /** The server request id (x-request-id, `parameters.request_id`): the join key for feedback. */
  readonly requestId: string;
  /** When it was answered, ms since the epoch. */
  readonly at: number;
  readonly endpoint: string;
  /** The model and version that answered; null when the request failed before a version was chosen. */
  readonly model: string | null;
  readonly version: number | null;
  readonly variant: Variant;
  /** Time to answer, in milliseconds. */
  readonly latencyMs: number;
  /** The HTTP status of the answer. */
  readonly status: number;
  readonly outputs: OutputsSummary;
}

// ─── Feedback ───────────────────────────────────────────────────────────────────────────────────

/** One fact about a prediction, as a client reports it. At least one of label, value and event. */
export interface FeedbackItem {
  readonly requestId: string;
  /** The true answer (class label or index, or the true value): compared with the prediction. */
  readonly label?: string | number;
  /** A number attached to the event (revenue of a purchase), or to the prediction itself when no event is given. */
  readonly value?: number;
  /** Something that happened after the prediction (`conversion`, `click`): counted by rate metrics. */
  readonly event?: string;
}

/** A feedback item ready to be stored: validated, stamped with the server's time. */
export interface FeedbackWrite extends FeedbackItem {
  /** When the server received it, ms since the epoch. */
  readonly at: number;
}

/** One outcome of a prediction: a named event (or none), with its value if one was sent. */
export interface FeedbackOutcome {
  /** null: a value sent without an event. */
  readonly event: string | null;
  readonly value: number | null;
  /** When it was last written. */
  readonly at: number;
}

/** Everything known about a prediction after the fact. */
export interface PredictionFeedback {
  /** The last label received, or null. */
  readonly label: { readonly value: string | number; readonly at: number } | null;
  /** One entry per event (and one for a value sent without an event), ordered by event name, the event-less one first. */
  readonly outcomes: readonly FeedbackOutcome[];
}

/** A prediction with its feedback, as GET /predictions/{requestId} shows it. */
export interface PredictionWithFeedback {
  readonly prediction: PredictionRecord;
  /** The shadow version's answer to the same request, when it was mirrored. */
  readonly shadow: PredictionRecord | null;
  readonly feedback: PredictionFeedback;
}

// ─── Outcomes ───────────────────────────────────────────────────────────────────────────────────

/**
 * What an outcome query measures, in the rollout spec's terms (`FeedbackMetricKind`):
 * - `rate`: share of answered predictions that received feedback `event` (conversion);
 * - `mean`: mean of each prediction's feedback value — the sum of its values of `event`, or of all
 *   its values when no event is named; predictions without one are skipped, or count 0 with `missing: 'zero'`;
 * - `accuracy`: share of labelled one-row predictions whose label equals the prediction;
 * - `error`: the absolute errors |label − prediction| of labelled one-row predictions whose label
 *   and prediction are both numbers (a regression's), as a continuous arm: its mean is the MAE, and
 *   the RMSE is √(m2/n + mean²), since |e|² = e². Not a rollout spec kind: the business report's.
 */
export type OutcomeMetric =
  | { readonly kind: 'rate'; readonly event: string }
  | { readonly kind: 'mean'; readonly event?: string; readonly missing?: 'skip' | 'zero' }
  | { readonly kind: 'accuracy' }
  | { readonly kind: 'error' };

/** The arm summary an outcome metric produces, in the analysis engine's shapes. */
export type OutcomeArm = RateArm | ContinuousArm;

/** A time window over prediction times: [since, until). */
export interface TimeWindow {
  readonly since: number;
  /** Exclusive; default: no upper bound. */
  readonly until?: number;
}

/** The arm of one (variant, version) as a store computes it. */
export interface ArmRow {
  readonly variant: Variant;
  readonly version: number | null;
  readonly arm: OutcomeArm;
}

/** Prediction counts of one (variant, version). */
/** How many answered predictions of one variant predicted one value (a label, an argmax index, a value) in a window. */
export interface PredictedValueRow {
  readonly variant: Variant;
  /** The one-row prediction as text, as labels are compared with it. */
  readonly predicted: string;
  readonly count: number;
}

export interface PredictionCountRow {
  readonly variant: Variant;
  readonly version: number | null;
  /** Every recorded prediction, whatever its status: the assignment count for sample-ratio checks. */
  readonly predictions: number;
  /** Those answered with a 2xx status: the population outcomes are measured on. */
  readonly answered: number;
}

/** One version's share of a variant's outcome. */
export interface VersionOutcome extends PredictionCountRow {
  readonly arm: OutcomeArm;
}

/** One variant's outcome: the arm pooled over its versions, and each version's own. */
export interface VariantOutcome {
  readonly variant: Variant;
  readonly predictions: number;
  readonly answered: number;
  readonly arm: OutcomeArm;
  readonly versions: readonly VersionOutcome[];
}

/** The answer to an outcome query. */
export interface OutcomeReport {
  readonly endpoint: string;
  readonly metric: OutcomeMetric;
  readonly since: number;
  /** null: no upper bound. */
  readonly until: number | null;
  /** By variant name. The shadow appears for accuracy only (nobody saw its answers, so it caused no events). */
  readonly variants: readonly VariantOutcome[];
}

/** Prediction counts per variant in a window: the observed split for a sample-ratio check. */
export interface PredictionCounts {
  readonly endpoint: string;
  readonly since: number;
  readonly until: number | null;
  readonly variants: readonly {
    readonly variant: Variant;
    readonly predictions: number;
    readonly answered: number;
    readonly versions: readonly PredictionCountRow[];
  }[];
}
