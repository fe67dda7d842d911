/**
 * The typed client of monitoring's routes (feedback, prediction lookup, outcomes), built on the
 * same options as the control client and failing the same way: the server's `{error, code}` bodies
 * come back as PlatformErrors with their code, an unreachable server as CONTROL_CLIENT_UNREACHABLE.
 */
import { createHttpCaller, type ControlClientOptions } from '../control/client.js';
import type { FeedbackRequestBody, FeedbackResponse, OutcomesResponse, PredictionResponse } from './api-types.js';
import type { FeedbackItem, OutcomeMetric } from './types.js';

/** A time for a query: a Date, milliseconds since the epoch, or an ISO-8601 string. */
export type QueryTime = Date | number | string;

export interface OutcomesQuery {
  readonly metric: OutcomeMetric;
  /** Default: everything retained. */
  readonly since?: QueryTime;
  readonly until?: QueryTime;
}

export interface MonitoringClient {
  /** POST /api/v1/feedback with one item, or a batch (`skipUnknown` leaves out unknown request ids instead of refusing all). */
  sendFeedback(feedback: FeedbackItem | readonly FeedbackItem[], options?: { readonly skipUnknown?: boolean }): Promise<FeedbackResponse>;
  /** GET /api/v1/predictions/{requestId}. */
  getPrediction(requestId: string): Promise<PredictionResponse>;
  /** GET /api/v1/endpoints/{endpoint}/outcomes. */
  outcomes(endpoint: string, query: OutcomesQuery): Promise<OutcomesResponse>;
}

function timeParam(value: QueryTime | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/** Creates the client; `options` are the control client's (base URL, API key, fetch). */
export function createMonitoringClient(options: ControlClientOptions): MonitoringClient {
  const { call } = createHttpCaller(options);

  const seg = (value: string): string => encodeURIComponent(value);

  return {
    sendFeedback(feedback, sendOptions = {}) {
      const body: FeedbackRequestBody = Array.isArray(feedback)
        ? { items: feedback as readonly FeedbackItem[], ...(sendOptions.skipUnknown === undefined ? {} : { skipUnknown: sendOptions.skipUnknown }) }
        : (feedback as FeedbackItem);
      return call('POST', '/api/v1/feedback', body);
    },
    getPrediction: (requestId) => call('GET', `/api/v1/predictions/${seg(requestId)}`),
    outcomes(endpoint, query) {
      const search = new URLSearchParams({ metric: query.metric.kind });
      if ((query.metric.kind === 'rate' || query.metric.kind === 'mean') && query.metric.event !== undefined) search.set('event', query.metric.event);
      if (query.metric.kind === 'mean' && query.metric.missing !== undefined) search.set('missing', query.metric.missing);
      const since = timeParam(query.since);
      const until = timeParam(query.until);
      if (since !== undefined) search.set('since', since);
      if (until !== undefined) search.set('until', until);
      return call('GET', `/api/v1/endpoints/${seg(endpoint)}/outcomes?${search.toString()}`);
    },
  };
}
