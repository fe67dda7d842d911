/**
 * The typed client of the business route, built on the control client's options and failing the
 * same way (the server's `{error, code}` bodies come back as PlatformErrors with their code).
 */
import { createHttpCaller, type ControlClientOptions } from '../../control/client.js';
import type { BusinessResponse } from './api.js';

/** A time for a query: a Date, milliseconds since the epoch, an ISO-8601 string, or a duration ago (`24h`, `7d`). */
export type BusinessQueryTime = Date | number | string;

export interface BusinessQuery {
  /** Default: the server's `monitoring.business.defaultWindowHours` ago (24 h). */
  readonly since?: BusinessQueryTime;
  /** Default: now. */
  readonly until?: BusinessQueryTime;
}

export interface BusinessClient {
  /** GET /api/v1/endpoints/{endpoint}/business. */
  report(endpoint: string, query?: BusinessQuery): Promise<BusinessResponse>;
}

function timeParam(value: BusinessQueryTime | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/** Creates the client; `options` are the control client's (base URL, API key, fetch). */
export function createBusinessClient(options: ControlClientOptions): BusinessClient {
  const { call } = createHttpCaller(options);
  return {
    report(endpoint, query = {}) {
      const search = new URLSearchParams();
      const since = timeParam(query.since);
      const until = timeParam(query.until);
      if (since !== undefined) search.set('since', since);
      if (until !== undefined) search.set('until', until);
      const qs = search.toString();
      return call('GET', `/api/v1/endpoints/${encodeURIComponent(endpoint)}/business${qs === '' ? '' : `?${qs}`}`);
    },
  };
}
