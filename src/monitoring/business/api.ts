/**
 * `GET /api/v1/endpoints/{name}/business?since=&until=`: the endpoint's business report per variant
 * and version (docs/business-metrics.md). Permission `models:read`, as the outcomes route.
 * Errors are thrown as PlatformErrors for the app's error handler to answer.
 */
import { parseTime, TIME_RULE } from '../../core/time.js';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { describe, isValidName, NAME_RULE, systemClock, type Clock } from '../../core/index.js';
import type { RouteSecurity } from '../../security/permissions.js';
import { MonitoringErrors } from '../errors.js';
import { invalidBusinessQuery, type BusinessMetrics, type BusinessReport, type BusinessUsage } from './report.js';

const read = { permission: 'models:read' } satisfies RouteSecurity;

export interface BusinessApiOptions {
  readonly business: Pick<BusinessMetrics, 'report'>;
  /**
   * Resolves when the endpoint exists and throws its not-found error otherwise (the app passes
   * `(name) => registry.getEndpoint(name)`: 404 REGISTRY_ENDPOINT_NOT_FOUND). Absent: every
   * well-formed name is reported on, an unknown one with no variants, as the outcomes route does.
   */
  endpointExists?(name: string): Promise<unknown>;
  /** For `since=24h` (a duration ago). Default the system clock. */
  readonly clock?: Clock;
}

/** The report as the route answers it: times as ISO-8601. */
export interface BusinessResponse extends Omit<BusinessReport, 'since' | 'until' | 'generatedAt' | 'usage'> {
  readonly since: string;
  readonly until: string | null;
  readonly generatedAt: string;
  readonly usage: (Omit<BusinessUsage, 'measuredSince' | 'measuredUntil'> & { readonly measuredSince: string | null; readonly measuredUntil: string | null }) | null;
}

const QUERY_KEYS = ['since', 'until'] as const;
/** The rule for a time in the query, for messages and help. */
export const QUERY_TIME_RULE = TIME_RULE;

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Reads one time: ISO-8601 and epoch milliseconds as monitoring's outcomes route reads them, plus a
 * duration ago counted from `now` (so `--since 24h` means the server's last 24 hours).
 */
export function readQueryTime(value: unknown, now: number): { readonly ms?: number; readonly problem?: string } {
  if (value === undefined) return {};
  if (typeof value !== 'string') return { problem: Array.isArray(value) ? `is given ${value.length} times; give it once` : `must be ${QUERY_TIME_RULE}` };
  const ms = parseTime(value, now);
  if (ms === undefined) return { problem: `${describe(value)} is not a time; expected ${QUERY_TIME_RULE}` };
  return { ms };
}

/** Reads the route's query, reporting every problem at once (BUSINESS_INVALID_QUERY). */
export function readBusinessQuery(query: unknown, now: number): { readonly since?: number; readonly until?: number } {
  const q = (query ?? {}) as Record<string, unknown>;
  const problems: { path: string; message: string }[] = [];
  for (const key of Object.keys(q)) if (!(QUERY_KEYS as readonly string[]).includes(key)) problems.push({ path: key, message: `unknown parameter (known: ${QUERY_KEYS.join(', ')})` });
  const since = readQueryTime(q.since, now);
  const until = readQueryTime(q.until, now);
  if (since.problem !== undefined) problems.push({ path: 'since', message: since.problem });
  if (until.problem !== undefined) problems.push({ path: 'until', message: until.problem });
  if (since.ms !== undefined && until.ms !== undefined && until.ms <= since.ms) problems.push({ path: 'until', message: `must be after since (${iso(since.ms)}), got ${iso(until.ms)}` });
  if (problems.length > 0) throw invalidBusinessQuery(problems);
  return { ...(since.ms === undefined ? {} : { since: since.ms }), ...(until.ms === undefined ? {} : { until: until.ms }) };
}

/** The report with its times as ISO-8601. */
export function businessView(report: BusinessReport): BusinessResponse {
  const { usage } = report;
  return {
    ...report,
    since: iso(report.since),
    until: report.until === null ? null : iso(report.until),
    generatedAt: iso(report.generatedAt),
    usage:
      usage === null
        ? null
        : {
            ...usage,
            measuredSince: usage.measuredSince === null ? null : iso(usage.measuredSince),
            measuredUntil: usage.measuredUntil === null ? null : iso(usage.measuredUntil),
          },
  };
}

/** The business route as a Fastify plugin, to be registered under the prefix `/api/v1`. */
export function businessApi(options: BusinessApiOptions): FastifyPluginAsync {
  const clock = options.clock ?? systemClock;
  return async (app: FastifyInstance) => {
    app.get<{ Params: { name: string } }>('/endpoints/:name/business', { config: read }, async (req): Promise<BusinessResponse> => {
      const endpoint = req.params.name;
      if (!isValidName(endpoint)) {
        throw MonitoringErrors.MONITORING_INVALID_PARAM(`path parameter "endpoint": ${describe(endpoint)} is not a valid endpoint name; expected ${NAME_RULE}`, {
          details: { param: 'endpoint', value: endpoint },
        });
      }
      const query = readBusinessQuery(req.query, clock.now());
      await options.endpointExists?.(endpoint);
      return businessView(await options.business.report(endpoint, query));
    });
  };
}
