/**
 * `GET /api/v1/endpoints/{name}/drift[?version=N]`: the endpoint version's live drift against its
 * reference profile — the open window's check and the last closed window's (docs/drift.md).
 * Permission `models:read`. Without `version`, the version serving as stable.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { ConfigReader } from '../../core/index.js';
import type { RouteSecurity } from '../../security/permissions.js';
import type { DriftMonitor, EndpointDriftReport } from './monitor.js';

const read = { permission: 'models:read' } satisfies RouteSecurity;

export interface DriftApiDeps {
  readonly drift: DriftMonitor;
  /** The endpoint's model and the version serving as stable (404 for an unknown endpoint). */
  resolve(endpoint: string): Promise<{ readonly model: string; readonly version: number }>;
}

/** The wire shape of the route. */
export interface EndpointDriftResponse {
  readonly drift: EndpointDriftReport;
}

export function driftApi(deps: DriftApiDeps): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.get<{ Params: { name: string }; Querystring: Record<string, string | string[] | undefined> }>('/endpoints/:name/drift', { config: read }, async (req): Promise<EndpointDriftResponse> => {
      const r = new ConfigReader();
      const raw = req.query.version;
      const version = raw === undefined ? undefined : r.integer(typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw, 'version', 0, 1);
      r.finish('query');
      const target = await deps.resolve(req.params.name);
      return { drift: await deps.drift.report(req.params.name, target.model, version ?? target.version) };
    });
  };
}
