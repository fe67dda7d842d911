/**
 * The capacity-plan routes, a Fastify plugin to register under /api/v1:
 * `POST /models/:model/versions/:version/plans` starts a plan (202 with the job), and
 * `GET /plans/:id` is the job with its progress and, once measured, the plan, and
 * `GET /models/:model/versions/:version/plans` lists a version's plans, newest first (docs/plan.md).
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { describe } from '../../core/index.js';
import { nameParam, versionParam } from '../../control/validate.js';
import type { RouteSecurity } from '../../security/index.js';
import { PlanErrors } from './errors.js';
import type { PlanSummary } from './ports.js';
import type { PlanJob, PlanService, StartPlanInput } from './service.js';

const read = { permission: 'models:read' } satisfies RouteSecurity;
const write = { permission: 'models:write' } satisfies RouteSecurity;
const BODY_KEYS = ['rps', 'p99Ms', 'pricePerCoreHour', 'currency', 'headroom', 'budgetSeconds', 'data'] as const;

/** Reads the POST body; unknown fields are refused by name, the values are checked by the service. */
export function readPlanBody(body: unknown): Omit<StartPlanInput, 'model' | 'version'> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw PlanErrors.OPTIMIZE_PLAN_INVALID_TARGET(`body: expected a JSON object {rps, p99Ms, …}, got ${describe(body)}`, { details: { field: 'body' } });
  }
  const o = body as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(BODY_KEYS as readonly string[]).includes(key)) throw PlanErrors.OPTIMIZE_PLAN_INVALID_TARGET(`${key}: unknown field (known: ${BODY_KEYS.join(', ')})`, { details: { field: key } });
  }
  if (o.data !== undefined && (typeof o.data !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(o.data))) {
    throw PlanErrors.OPTIMIZE_PLAN_INVALID_OPTIONS(`data: expected a dataset digest sha256:<64 hex> (PUT /api/v1/datasets returns it), got ${describe(o.data)}`, { details: { field: 'data' } });
  }
  const { budgetSeconds, data, ...target } = o;
  return {
    target: target as unknown as StartPlanInput['target'],
    ...(budgetSeconds === undefined ? {} : { budgetSeconds: budgetSeconds as number }),
    ...(data === undefined ? {} : { data: data }),
  };
}

export function planApi(options: { readonly service: PlanService }): FastifyPluginAsync {
  const { service } = options;
  return async (app: FastifyInstance) => {
    app.post<{ Params: { model: string; version: string } }>('/models/:model/versions/:version/plans', { config: write }, async (req, reply): Promise<{ plan: PlanJob }> => {
      const model = nameParam('model', req.params.model);
      const version = versionParam(req.params.version);
      const plan = await service.start({ model, version, ...readPlanBody(req.body) });
      void reply.code(202);
      return { plan };
    });
    app.get<{ Params: { id: string } }>('/plans/:id', { config: read }, async (req): Promise<{ plan: PlanJob }> => {
      const id = req.params.id;
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw PlanErrors.OPTIMIZE_PLAN_NOT_FOUND(`no capacity plan ${JSON.stringify(id)}: plan ids are letters, digits, - and _`);
      return { plan: await service.job(id) };
    });
    app.get<{ Params: { model: string; version: string } }>('/models/:model/versions/:version/plans', { config: read }, async (req): Promise<{ plans: PlanSummary[] }> => {
      const model = nameParam('model', req.params.model);
      const version = versionParam(req.params.version);
      return { plans: await service.list(model, version) };
    });
  };
}
