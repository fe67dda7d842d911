/**
 * The typed client of the keys routes (and, with the audit log, its routes), built on the same
 * options as the control client and failing the same way.
 */
import { createHttpCaller, type ControlClientOptions } from '../control/client.js';
import type { KeyCreatedResponse } from './api.js';
import type { AuditVerification } from './audit/index.js';
import type { ApiKeyView } from './keys/types.js';

export interface KeysClient {
  list(): Promise<{ keys: ApiKeyView[] }>;
  get(id: string): Promise<{ key: ApiKeyView }>;
  create(body: Record<string, unknown>): Promise<KeyCreatedResponse>;
  revoke(id: string): Promise<{ key: ApiKeyView }>;
  rotate(id: string, graceSeconds: number): Promise<KeyCreatedResponse & { previous: ApiKeyView }>;
}

export function createKeysClient(options: ControlClientOptions): KeysClient {
  const { call } = createHttpCaller(options);
  const seg = (value: string): string => encodeURIComponent(value);
  return {
    list: () => call('GET', '/api/v1/keys'),
    get: (id) => call('GET', `/api/v1/keys/${seg(id)}`),
    create: (body) => call('POST', '/api/v1/keys', body),
    revoke: (id) => call('DELETE', `/api/v1/keys/${seg(id)}`),
    rotate: (id, graceSeconds) => call('POST', `/api/v1/keys/${seg(id)}/rotate`, { graceSeconds }),
  };
}

/** An audit export query: times as the server reads them (ISO-8601, epoch ms, or `1h` ago). */
export interface AuditQuery {
  readonly since?: string;
  readonly until?: string;
  readonly action?: string;
  readonly actor?: string;
  readonly limit?: number;
}

export interface AuditClient {
  /** GET /api/v1/audit: entries as JSON lines, streamed. */
  exportLines(query?: AuditQuery): AsyncGenerator<string>;
  /** GET /api/v1/audit/verify. */
  verify(): Promise<AuditVerification>;
}

export function createAuditClient(options: ControlClientOptions): AuditClient {
  const { call, lines } = createHttpCaller(options);
  return {
    exportLines(query = {}) {
      const search = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined) search.set(k, String(v));
      const text = search.toString();
      return lines(`/api/v1/audit${text === '' ? '' : `?${text}`}`, 'the audit export');
    },
    verify: () => call('GET', '/api/v1/audit/verify'),
  };
}
