/**
 * The typed client of the alerts routes, on the control client's options; the server's
 * `{error, code}` bodies come back as PlatformErrors with their code.
 */
import { createHttpCaller, type ControlClientOptions } from '../../control/client.js';
import type { AlertHistoryResponse, AlertRuleDeleteResponse, AlertRulePutResponse, AlertRulesResponse, AlertsResponse } from './api.js';

export interface AlertsClient {
  /** GET /api/v1/alerts: pending and firing alerts. */
  list(): Promise<AlertsResponse>;
  /** GET /api/v1/alerts/rules. */
  rules(): Promise<AlertRulesResponse>;
  /** PUT /api/v1/alerts/rules/{name}. */
  putRule(name: string, rule: unknown): Promise<AlertRulePutResponse>;
  /** DELETE /api/v1/alerts/rules/{name}. */
  deleteRule(name: string): Promise<AlertRuleDeleteResponse>;
  /** GET /api/v1/alerts/history. */
  history(query?: { readonly limit?: number; readonly rule?: string }): Promise<AlertHistoryResponse>;
}

export function createAlertsClient(options: ControlClientOptions): AlertsClient {
  const { call } = createHttpCaller(options);
  const seg = encodeURIComponent;
  return {
    list: () => call('GET', '/api/v1/alerts'),
    rules: () => call('GET', '/api/v1/alerts/rules'),
    putRule: (name, rule) => call('PUT', `/api/v1/alerts/rules/${seg(name)}`, rule),
    deleteRule: (name) => call('DELETE', `/api/v1/alerts/rules/${seg(name)}`),
    history(query = {}) {
      const search = new URLSearchParams();
      if (query.limit !== undefined) search.set('limit', String(query.limit));
      if (query.rule !== undefined) search.set('rule', query.rule);
      const qs = search.toString();
      return call('GET', `/api/v1/alerts/history${qs === '' ? '' : `?${qs}`}`);
    },
  };
}
