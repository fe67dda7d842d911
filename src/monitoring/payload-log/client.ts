/**
 * The typed client of the payload log's routes, on the control client's HTTP layer: the server's
 * `{error, code}` bodies come back as PlatformErrors, an unreachable server as
 * CONTROL_CLIENT_UNREACHABLE. An export is streamed line by line, never held whole.
 */
import { createHttpCaller, type ControlClientOptions } from '../../control/client.js';
import type { PayloadStatsResponse } from './api.js';

/** An export query as sent: times as the server reads them (ISO-8601, epoch ms, or `1h` ago by the server's clock). */
export interface PayloadExportQuery {
  readonly endpoint?: string;
  readonly since?: string | number | Date;
  readonly until?: string | number | Date;
  /** `5xx`, `404`, `4xx,5xx`. */
  readonly status?: string;
  readonly requestId?: string;
  readonly limit?: number;
}

export interface PayloadLogClient {
  /** GET /api/v1/payloads: each stored entry's JSON line (without its newline), oldest first. */
  exportLines(query?: PayloadExportQuery): AsyncGenerator<string>;
  /** GET /api/v1/payloads/stats. */
  stats(): Promise<PayloadStatsResponse>;
}

/** The query string of an export (with its leading `?`, or empty). */
export function payloadQueryString(query: PayloadExportQuery): string {
  const search = new URLSearchParams();
  const time = (v: string | number | Date): string => (v instanceof Date ? v.toISOString() : String(v));
  if (query.endpoint !== undefined) search.set('endpoint', query.endpoint);
  if (query.since !== undefined) search.set('since', time(query.since));
  if (query.until !== undefined) search.set('until', time(query.until));
  if (query.status !== undefined) search.set('status', query.status);
  if (query.requestId !== undefined) search.set('requestId', query.requestId);
  if (query.limit !== undefined) search.set('limit', String(query.limit));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

export function createPayloadLogClient(options: ControlClientOptions): PayloadLogClient {
  const { call, lines } = createHttpCaller(options);
  return {
    exportLines: (query = {}) => lines(`/api/v1/payloads${payloadQueryString(query)}`, 'the payload export'),
    stats: () => call('GET', '/api/v1/payloads/stats'),
  };
}
