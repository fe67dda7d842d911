/** The typed client of `GET /api/v1/abuse`, built on the same options as the control client and failing the same way. */
import { createHttpCaller, type ControlClientOptions } from '../../control/client.js';
import type { AbuseListResponse } from './api.js';

/** Filters of the listing. */
export interface AbuseQuery {
  readonly flagged?: boolean;
  readonly endpoint?: string;
  readonly key?: string;
}

export interface AbuseClient {
  list(query?: AbuseQuery): Promise<AbuseListResponse>;
}

export function createAbuseClient(options: ControlClientOptions): AbuseClient {
  const { call } = createHttpCaller(options);
  return {
    list(query = {}) {
      const search = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined) search.set(k, String(v));
      const text = search.toString();
      return call('GET', `/api/v1/abuse${text === '' ? '' : `?${text}`}`);
    },
  };
}
