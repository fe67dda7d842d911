/**
 * The keys routes, a Fastify plugin to register under /api/v1 (permission `admin`):
 * `GET /keys`, `POST /keys` (the token is in this answer and nowhere else, ever), `GET /keys/:id`,
 * `DELETE /keys/:id` (revoke), `POST /keys/:id/rotate` (`{"graceSeconds": N}`: the old key keeps
 * working N seconds). Changes take effect on the next request; no restart.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { describe, systemClock, type Clock } from '../core/index.js';
import { SecurityErrors } from './errors.js';
import { readKeySpec, type KeyService, type LimitsParser } from './keys/index.js';
import type { ApiKeyView } from './keys/types.js';
import type { RouteSecurity } from './permissions.js';

const admin = { permission: 'admin' } satisfies RouteSecurity;

export interface KeysApiOptions {
  readonly keys: KeyService;
  readonly clock?: Clock;
  readonly principal: (req: FastifyRequest) => string;
  readonly parseLimits?: LimitsParser;
  /** Longest rotation grace, seconds. Default 30 days. */
  readonly maxGraceSeconds?: number;
}

export interface KeyCreatedResponse {
  readonly key: ApiKeyView;
  /** The secret: shown once, here. */
  readonly token: string;
}

export function keysApi(options: KeysApiOptions): FastifyPluginAsync {
  const { keys } = options;
  const clock = options.clock ?? systemClock;
  const maxGrace = options.maxGraceSeconds ?? 30 * 86_400;
  return async (app: FastifyInstance) => {
    app.get('/keys', { config: admin }, async () => ({ keys: keys.list() }));
    app.post('/keys', { config: admin }, async (req, reply): Promise<KeyCreatedResponse> => {
      const spec = readKeySpec(req.body, clock.now(), options.parseLimits);
      const created = await keys.create(spec, options.principal(req));
      void reply.code(201).header('cache-control', 'no-store');
      return created;
    });
    app.get<{ Params: { id: string } }>('/keys/:id', { config: admin }, async (req) => ({ key: keys.get(req.params.id) }));
    app.delete<{ Params: { id: string } }>('/keys/:id', { config: admin }, async (req) => ({ key: await keys.revoke(req.params.id, options.principal(req)) }));
    app.post<{ Params: { id: string } }>('/keys/:id/rotate', { config: admin }, async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (typeof body !== 'object' || Array.isArray(body)) throw SecurityErrors.SECURITY_INVALID_KEY_SPEC(`the body must be a JSON object such as {"graceSeconds": 3600}, got ${describe(body)}`);
      for (const k of Object.keys(body)) if (k !== 'graceSeconds') throw SecurityErrors.SECURITY_INVALID_KEY_SPEC(`unknown field "${k}" (known: graceSeconds)`, { details: { field: k } });
      const grace = body.graceSeconds ?? 0;
      if (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0 || grace > maxGrace) {
        throw SecurityErrors.SECURITY_INVALID_KEY_SPEC(`graceSeconds must be a whole number of seconds from 0 to ${maxGrace}, got ${describe(grace)}`, { details: { field: 'graceSeconds' } });
      }
      const rotated = await keys.rotate(req.params.id, grace, options.principal(req));
      void reply.header('cache-control', 'no-store');
      return rotated;
    });
  };
}
