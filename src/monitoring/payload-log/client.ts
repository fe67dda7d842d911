/**
 * The typed client of the payload log's routes, on the control client's HTTP layer: the server's
 * `{error, code}` bodies come back as PlatformErrors, an unreachable server as
 * CONTROL_CLIENT_UNREACHABLE. An export is streamed line by line, never held whole.
 */
import { completeLines, decodeUtf8 } from '../../core/index.js';
import { createHttpCaller, type ControlClientOptions } from '../../control/client.js';
import { ControlErrors } from '../../control/errors.js';
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
  const { baseUrl, send, decode, call } = createHttpCaller(options);
  return {
    async *exportLines(query = {}) {
      const path = `/api/v1/payloads${payloadQueryString(query)}`;
      const response = await send('GET', path);
      // an error answer is JSON like every other: decode turns it into the server's error
      if (!response.ok || response.body === null) {
        await decode('GET', path, response);
        return;
      }
      let rest = '';
      try {
        yield* completeLines(decodeUtf8(response.body as AsyncIterable<Uint8Array>), (r) => (rest = r));
      } catch (error) {
        throw ControlErrors.CONTROL_CLIENT_CONNECTION_LOST(`the connection to Slipway at ${baseUrl} broke during the payload export`, { details: { baseUrl }, cause: error });
      }
      // the server ends every line with a newline: anything left is an answer cut short
      if (rest !== '') {
        throw ControlErrors.CONTROL_CLIENT_CONNECTION_LOST(`the payload export from ${baseUrl} ended in the middle of a line`, { details: { baseUrl } });
      }
    },
    stats: () => call('GET', '/api/v1/payloads/stats'),
  };
}
