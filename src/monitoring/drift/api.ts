/**
 * `GET /api/v1/endpoints/{name}/drift[?version=N]`: the endpoint version's live drift against its
 * reference profile — the open window's check and the last closed window's (docs/drift.md);
 * `…/drift/report.html` the same as one HTML page with a chart per feature; `…/drift/history`
 * the stored checks of closed windows. Permission `models:read`. Without `version`, the version
 * serving as stable.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { RouteSecurity } from '../../security/permissions.js';
import { systemClock, type Clock } from '../../core/index.js';
import { DriftErrors } from './errors.js';
import { renderDriftHtml } from './html.js';
import type { DriftMonitor, EndpointDriftReport } from './monitor.js';
import type { DriftResult } from './ports.js';

const read = { permission: 'models:read' } satisfies RouteSecurity;

export interface DriftApiDeps {
  readonly drift: DriftMonitor;
  /** The endpoint's model and the version serving as stable (404 for an unknown endpoint). */
  resolve(endpoint: string): Promise<{ readonly model: string; readonly version: number }>;
  readonly clock?: Clock;
}

/** The wire shape of the route. */
export interface EndpointDriftResponse {
  readonly drift: EndpointDriftReport;
}

/** The wire shape of the history route: newest first. */
export interface DriftHistoryResponse {
  readonly endpoint: string;
  readonly results: readonly DriftResult[];
}

/** Most history results one call returns. */
export const DRIFT_HISTORY_MAX_LIMIT = 1000;

type Query = Record<string, string | string[] | undefined>;

/** A whole-number query parameter in [min, max]; absent: `fallback`. MONITORING_DRIFT_INVALID_QUERY names it otherwise. */
function intParam(query: Query, name: string, fallback: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = query[name];
  if (raw === undefined) return fallback;
  const n = typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= min && n <= max)) {
    throw DriftErrors.MONITORING_DRIFT_INVALID_QUERY(`query parameter ${name} must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`}, got ${JSON.stringify(raw)}`, { details: { parameter: name } });
  }
  return n;
}

export function driftApi(deps: DriftApiDeps): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    const report = async (name: string, query: Query): Promise<EndpointDriftReport> => {
      const version = intParam(query, 'version', undefined, 1);
      const target = await deps.resolve(name);
      return deps.drift.report(name, target.model, version ?? target.version);
    };
    app.get<{ Params: { name: string }; Querystring: Query }>('/endpoints/:name/drift', { config: read }, async (req): Promise<EndpointDriftResponse> => ({
      drift: await report(req.params.name, req.query),
    }));
    app.get<{ Params: { name: string }; Querystring: Query }>('/endpoints/:name/drift/report.html', { config: read }, async (req, reply) => {
      const html = renderDriftHtml(await report(req.params.name, req.query), (deps.clock ?? systemClock).now());
      return reply.type('text/html; charset=utf-8').send(html);
    });
    app.get<{ Params: { name: string }; Querystring: Query }>('/endpoints/:name/drift/history', { config: read }, async (req): Promise<DriftHistoryResponse> => {
      const version = intParam(req.query, 'version', undefined, 1);
      const limit = intParam(req.query, 'limit', 20, 1, DRIFT_HISTORY_MAX_LIMIT) ?? 20;
      await deps.resolve(req.params.name);
      return { endpoint: req.params.name, results: await deps.drift.history(req.params.name, { limit, ...(version === undefined ? {} : { version }) }) };
    });
  };
}
