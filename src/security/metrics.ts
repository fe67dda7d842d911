/**
 * Security figures as Prometheus metrics, read at scrape time: requests refused by authentication
 * and authorization, requests refused by a rate limit or quota, and API keys by state.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ApiKeyView } from './keys/index.js';
import type { RequestLimiter } from './limits/index.js';

export interface SecurityMetricsSources {
  readonly limiter: RequestLimiter;
  /** Cumulative refusals: 401s and 403s. */
  readonly authFailures: () => { readonly unauthenticated: number; readonly forbidden: number };
  readonly keys: () => readonly ApiKeyView[];
}

export function registerSecurityMetrics(registry: Registry, sources: SecurityMetricsSources): void {
  new Counter({
    name: 'slipway_auth_failures_total',
    help: 'Requests refused by authentication (401) or authorization (403).',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      const f = sources.authFailures();
      this.inc({ reason: 'unauthenticated' }, f.unauthenticated);
      this.inc({ reason: 'forbidden' }, f.forbidden);
    },
  });
  new Counter({
    name: 'slipway_rate_limited_total',
    help: 'Requests refused with 429 by a rate limit or quota, by scope (key, endpoint) and limit (rate, quota; extraction: a key throttled by abuse detection).',
    labelNames: ['scope', 'limit'],
    registers: [registry],
    collect() {
      this.reset();
      const snapshot = sources.limiter.snapshot();
      for (const [scope, byLimit] of Object.entries(snapshot.refused)) for (const [limit, n] of Object.entries(byLimit)) this.inc({ scope, limit }, n);
      // a key throttled because abuse detection flagged it (docs/security.md, Abuse detection)
      this.inc({ scope: 'key', limit: 'extraction' }, snapshot.throttled);
    },
  });
  new Gauge({
    name: 'slipway_api_keys',
    help: 'API keys by state (active, expired, revoked).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      const counts = { active: 0, expired: 0, revoked: 0 };
      for (const k of sources.keys()) counts[k.state]++;
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
}
