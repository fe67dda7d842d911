/**
 * The typed client of monitoring's routes (feedback, prediction lookup, outcomes), built on the
 * same options as the control client and failing the same way: the server's `{error, code}` bodies
 * come back as PlatformErrors with their code, an unreachable server as CONTROL_CLIENT_UNREACHABLE.
 */
import { PlatformError, type ErrorKind } from '../core/index.js';
import { ControlErrors, type ControlClientOptions } from '../control/index.js';
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

const KIND_BY_STATUS: Readonly<Record<number, ErrorKind>> = {
  400: 'invalid',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'too_large',
  429: 'limited',
  503: 'unavailable',
  504: 'timeout',
  500: 'internal',
};

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'EADDRNOTAVAIL']);

function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function baseUrlOf(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw ControlErrors.CONTROL_CLIENT_INVALID_URL(`server address ${JSON.stringify(raw)} is not a URL; expected e.g. http://127.0.0.1:8080`, { details: { baseUrl: raw } });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw ControlErrors.CONTROL_CLIENT_INVALID_URL(`server address ${JSON.stringify(raw)} must start with http:// or https://`, { details: { baseUrl: raw } });
  }
  return url.href.replace(/\/+$/, '');
}

function timeParam(value: QueryTime | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/** Creates the client; `options` are the control client's (base URL, API key, fetch). */
export function createMonitoringClient(options: ControlClientOptions): MonitoringClient {
  const baseUrl = baseUrlOf(options.baseUrl);
  const doFetch = options.fetch ?? globalThis.fetch;

  async function call<T>(method: string, path: string, json?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.apiKey !== undefined && options.apiKey !== '') headers.authorization = `Bearer ${options.apiKey}`;
    if (json !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await doFetch(`${baseUrl}${path}`, { method, headers, ...(json === undefined ? {} : { body: JSON.stringify(json) }) });
    } catch (error) {
      const code = causeCode(error);
      if (code !== undefined && UNREACHABLE.has(code)) {
        throw ControlErrors.CONTROL_CLIENT_UNREACHABLE(`cannot reach Slipway at ${baseUrl} — is \`slipway serve\` running?`, { details: { baseUrl, cause: code }, cause: error });
      }
      throw ControlErrors.CONTROL_CLIENT_CONNECTION_LOST(`the connection to Slipway at ${baseUrl} broke before the answer arrived (${code ?? (error as Error).message})`, {
        details: { baseUrl },
        cause: error,
      });
    }
    const text = await response.text().catch((error: unknown) => {
      throw ControlErrors.CONTROL_CLIENT_CONNECTION_LOST(`the connection to Slipway at ${baseUrl} broke while reading the answer to ${method} ${path}`, { details: { baseUrl }, cause: error });
    });
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (response.ok && typeof body === 'object' && body !== null) return body as T;
    const error = body as { error?: unknown; code?: unknown; details?: unknown } | undefined;
    if (!response.ok && typeof error?.error === 'string' && typeof error.code === 'string') {
      const kind = KIND_BY_STATUS[response.status] ?? (response.status >= 500 ? 'internal' : 'invalid');
      const retry = Number(response.headers.get('retry-after'));
      throw new PlatformError(error.code, kind, error.error, {
        ...(typeof error.details === 'object' && error.details !== null ? { details: error.details as Record<string, unknown> } : {}),
        ...(Number.isFinite(retry) && retry > 0 ? { retryAfterSeconds: retry } : {}),
      });
    }
    throw ControlErrors.CONTROL_CLIENT_BAD_RESPONSE(`${method} ${baseUrl}${path} answered ${response.status} without a Slipway body; is ${baseUrl} a Slipway server?`, {
      details: { status: response.status },
    });
  }

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
      if (query.metric.kind !== 'accuracy' && query.metric.event !== undefined) search.set('event', query.metric.event);
      if (query.metric.kind === 'mean' && query.metric.missing !== undefined) search.set('missing', query.metric.missing);
      const since = timeParam(query.since);
      const until = timeParam(query.until);
      if (since !== undefined) search.set('since', since);
      if (until !== undefined) search.set('until', until);
      return call('GET', `/api/v1/endpoints/${seg(endpoint)}/outcomes?${search.toString()}`);
    },
  };
}
