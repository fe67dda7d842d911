/** `GET /metrics`: the Prometheus text exposition, permission `metrics:read`. */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { RouteSecurity } from '../../security/permissions.js';
import type { ServerMetrics } from './metrics.js';

const readMetrics = { permission: 'metrics:read' } satisfies RouteSecurity;

export function metricsApi(deps: { readonly metrics: ServerMetrics }): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.get('/metrics', { config: readMetrics }, async (_req, reply) => {
      const text = await deps.metrics.render();
      return reply.header('content-type', deps.metrics.contentType).send(text);
    });
  };
}
