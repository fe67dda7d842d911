/**
 * The bodies of monitoring's HTTP routes under /api/v1, shared by the Fastify plugin and the typed
 * client. Times are ISO-8601 in UTC here, as everywhere in the control API.
 */
import type { FeedbackItem, OutcomeReport, PredictionRecord } from './types.js';

/** POST /feedback: one item, or a batch. */
export type FeedbackRequestBody = FeedbackItem | { readonly items: readonly FeedbackItem[]; readonly skipUnknown?: boolean };

/** 200 from POST /feedback. */
export interface FeedbackResponse {
  readonly accepted: number;
  /** With `skipUnknown`: the request ids left out because no prediction is on record. */
  readonly unknownRequestIds: readonly string[];
}

/** A prediction record as the API shows it. */
export interface PredictionView extends Omit<PredictionRecord, 'at'> {
  readonly at: string;
}

export interface FeedbackView {
  readonly label: { readonly value: string | number; readonly at: string } | null;
  readonly outcomes: readonly { readonly event: string | null; readonly value: number | null; readonly at: string }[];
}

/** 200 from GET /predictions/{requestId}. */
export interface PredictionResponse {
  readonly prediction: PredictionView;
  readonly shadow: PredictionView | null;
  readonly feedback: FeedbackView;
}

/** 200 from GET /endpoints/{name}/outcomes. */
export interface OutcomesResponse extends Omit<OutcomeReport, 'since' | 'until'> {
  readonly since: string;
  readonly until: string | null;
}
