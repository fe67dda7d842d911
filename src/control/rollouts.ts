/**
 * The rollout routes of the control API: `POST /apply` (the body of `slipway apply -f`), an
 * endpoint's rollout status and verbs, `rollback`, and rollouts with their recorded events.
 * Verbs answer once their immediate effect is in place (abort: traffic back on stable).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ConfigReader, HttpErrors } from '../core/index.js';
import type { RolloutController } from '../rollout/controller/index.js';
import { readEndpointSpecs } from '../rollout/spec/index.js';
import { ROLLOUT_MAX_LIMIT, RolloutStateErrors, type UserAction } from '../rollout/state/index.js';
import type { Registry } from '../registry/index.js';
import type { RouteSecurity } from '../security/permissions.js';
import type {
  ApplyResponse,
  RollbackResponse,
  RolloutEventsResponse,
  RolloutResponse,
  RolloutsListResponse,
  RolloutStatusResponse,
} from './types.js';
import { invalidBody, nameParam, queryString } from './validate.js';
import { ControlErrors } from './errors.js';

/** What the rollout routes need: the controller's verbs and reads. */
export type RolloutControl = Pick<RolloutController, 'apply' | 'act' | 'retry' | 'rollback' | 'status' | 'get' | 'list' | 'events'>;

const read = { permission: 'models:read' } satisfies RouteSecurity;
const writeEndpoints = { permission: 'endpoints:write' } satisfies RouteSecurity;

const VERBS = ['pause', 'resume', 'promote', 'abort', 'retry'] as const;
type Verb = (typeof VERBS)[number];

/** Reads a verb's body: `{message?}`, and for promote `{full?, variant?}`. Every problem at once. */
export function readVerbBody(verb: Verb, body: unknown): UserAction | { readonly type: 'retry' } {
  const r = new ConfigReader();
  const o = body === undefined ? {} : r.object(body, '');
  // retry starts a new rollout, whose first event says why; it takes no message of its own
  const keys = verb === 'promote' ? ['message', 'full', 'variant'] : verb === 'retry' ? [] : ['message'];
  r.onlyKeys(o, '', keys);
  const message = r.optionalString(o.message, 'message');
  const extra = message === undefined ? {} : { message };
  let action: UserAction | { readonly type: 'retry' };
  if (verb === 'promote') {
    const full = o.full === undefined ? undefined : r.boolean(o.full, 'full', false);
    const variant = r.optionalString(o.variant, 'variant');
    action = { type: 'promote', ...extra, ...(full === undefined ? {} : { full }), ...(variant === undefined ? {} : { variant }) };
  } else if (verb === 'retry') action = { type: 'retry' };
  else action = { type: verb, ...extra };
  if (r.problems.length > 0) throw invalidBody(r.problems);
  return action;
}

/** Reads the body of POST /endpoints/{name}/rollback: `{toVersion?, message?}`. */
export function readRollbackBody(body: unknown): { toVersion?: number; message?: string } {
  const r = new ConfigReader();
  const o = body === undefined ? {} : r.object(body, '');
  r.onlyKeys(o, '', ['toVersion', 'message']);
  const toVersion = o.toVersion === undefined ? undefined : r.integer(o.toVersion, 'toVersion', 0, 1);
  const message = r.optionalString(o.message, 'message');
  if (r.problems.length > 0) throw invalidBody(r.problems);
  return { ...(toVersion === undefined ? {} : { toVersion }), ...(message === undefined ? {} : { message }) };
}

function limitQuery(query: unknown, key: string): number | undefined {
  const raw = queryString(query, key);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > ROLLOUT_MAX_LIMIT) {
    throw ControlErrors.CONTROL_INVALID_QUERY(`query parameter "${key}" must be a whole number from 1 to ${ROLLOUT_MAX_LIMIT}, got "${raw}"`, { details: { param: key, value: raw } });
  }
  return n;
}

function boolQuery(query: unknown, key: string): boolean {
  const raw = queryString(query, key);
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true' || raw === '') return true;
  throw ControlErrors.CONTROL_INVALID_QUERY(`query parameter "${key}" must be true or false, got "${raw}"`, { details: { param: key, value: raw } });
}

interface EndpointParams {
  name: string;
}

/** Registers the rollout routes on the control API's JSON routes. */
export function registerRolloutRoutes(app: FastifyInstance, deps: { readonly registry: Registry; readonly rollouts: RolloutControl | undefined; readonly principal: (req: FastifyRequest) => string }): void {
  const control = (): RolloutControl => {
    if (deps.rollouts === undefined) throw HttpErrors.HTTP_ROUTE_NOT_FOUND('rollouts are not available on this server');
    return deps.rollouts;
  };

  app.post('/apply', { config: writeEndpoints }, async (req): Promise<ApplyResponse> => {
    if (req.body === undefined) {
      throw invalidBody([{ path: '(body)', message: 'is required: one endpoint spec document, or a list of them (apiVersion, kind, metadata, spec)' }]);
    }
    const docs = readEndpointSpecs(req.body, { source: 'the request body' });
    if (boolQuery(req.query, 'dryRun')) return { dryRun: true, endpoints: docs.map((d) => ({ endpoint: d.metadata.name, model: d.spec.model, strategy: d.spec.strategy?.kind ?? null })) };
    return { dryRun: false, results: await control().apply(docs, deps.principal(req)) };
  });

  app.get<{ Params: EndpointParams }>('/endpoints/:name/rollout', { config: read }, async (req): Promise<RolloutStatusResponse> => {
    const name = nameParam('endpoint', req.params.name);
    return { status: await control().status(name) };
  });

  app.get<{ Params: EndpointParams }>('/endpoints/:name/rollouts', { config: read }, async (req): Promise<RolloutsListResponse> => {
    const name = nameParam('endpoint', req.params.name);
    await deps.registry.getEndpoint(name).catch(async (error: unknown) => {
      // a deleted endpoint keeps its rollout history: list it when there is one
      if ((await control().list({ endpoint: name, limit: 1 })).length === 0) throw error;
    });
    const limit = limitQuery(req.query, 'limit');
    return { rollouts: await control().list({ endpoint: name, ...(limit === undefined ? {} : { limit }) }) };
  });

  for (const verb of VERBS) {
    app.post<{ Params: EndpointParams }>(`/endpoints/:name/rollout/${verb}`, { config: writeEndpoints }, async (req): Promise<RolloutResponse> => {
      const name = nameParam('endpoint', req.params.name);
      const action = readVerbBody(verb, req.body);
      const rollout = action.type === 'retry' ? await control().retry(name, deps.principal(req)) : await control().act(name, action, deps.principal(req));
      return { rollout };
    });
  }

  app.post<{ Params: EndpointParams }>('/endpoints/:name/rollback', { config: writeEndpoints }, async (req): Promise<RollbackResponse> => {
    const name = nameParam('endpoint', req.params.name);
    return { rollback: await control().rollback(name, deps.principal(req), readRollbackBody(req.body)) };
  });

  app.get<{ Params: { id: string } }>('/rollouts/:id', { config: read }, async (req): Promise<RolloutResponse> => {
    const rollout = await control().get(req.params.id);
    if (rollout === undefined) throw RolloutStateErrors.ROLLOUT_STATE_NOT_FOUND(`no rollout has id "${req.params.id}"`, { details: { rolloutId: req.params.id } });
    return { rollout };
  });

  app.get<{ Params: { id: string } }>('/rollouts/:id/events', { config: read }, async (req): Promise<RolloutEventsResponse> => {
    const rollout = await control().get(req.params.id);
    if (rollout === undefined) throw RolloutStateErrors.ROLLOUT_STATE_NOT_FOUND(`no rollout has id "${req.params.id}"`, { details: { rolloutId: req.params.id } });
    const afterSeq = queryString(req.query, 'afterSeq');
    if (afterSeq !== undefined && !/^\d+$/.test(afterSeq)) {
      throw ControlErrors.CONTROL_INVALID_QUERY(`query parameter "afterSeq" must be a whole number ≥ 0, got "${afterSeq}"`, { details: { param: 'afterSeq', value: afterSeq } });
    }
    const limit = limitQuery(req.query, 'limit');
    return { events: await control().events(rollout.id, { ...(afterSeq === undefined ? {} : { afterSeq: Number(afterSeq) }), ...(limit === undefined ? {} : { limit }) }) };
  });
}
