/**
 * The optimisation routes, a Fastify plugin to register under /api/v1:
 * `POST /models/:model/versions/:version/optimize` rewrites the version, registers the result and
 * starts its validation against the parent (202); `GET /optimizations/:id` is its state — the new
 * version, what the rewrite did, the validation's progress, and what happened to the alias.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { describe } from '../core/index.js';
import { nameParam, versionParam } from '../control/validate.js';
import type { RouteSecurity } from '../security/index.js';
import { OptimizeErrors } from './errors.js';
import type { Optimization, OptimizeRequest, OptimizeService } from './service.js';

const read = { permission: 'models:read' } satisfies RouteSecurity;
const write = { permission: 'models:write' } satisfies RouteSecurity;
const BODY_KEYS = ['quantize', 'perChannel', 'prune', 'structured', 'data', 'target', 'gates', 'settings', 'alias'] as const;

const invalid = (field: string, message: string): Error => OptimizeErrors.OPTIMIZE_INVALID_OPTIONS(`${field}: ${message}`, { details: { field } });

/** Reads the POST body; field types are checked here, values and combinations by the service. */
export function readOptimizeBody(body: unknown): Omit<OptimizeRequest, 'model' | 'version' | 'by'> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('body', `expected a JSON object {quantize?, prune?, …}, got ${describe(body)}`);
  const o = body as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!(BODY_KEYS as readonly string[]).includes(key)) throw invalid(key, `unknown field (known: ${BODY_KEYS.join(', ')})`);
  const text = (key: 'quantize' | 'data' | 'target' | 'gates' | 'alias', max: number): string | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '' || v.length > max) throw invalid(key, `expected text of 1–${max} characters, got ${describe(v)}`);
    return v;
  };
  const flag = (key: 'perChannel' | 'structured'): boolean | undefined => {
    const v = o[key];
    if (v !== undefined && typeof v !== 'boolean') throw invalid(key, `expected true or false, got ${describe(v)}`);
    return v;
  };
  if (o.prune !== undefined && typeof o.prune !== 'number') throw invalid('prune', `expected a sparsity between 0 and 1, got ${describe(o.prune)}`);
  const data = text('data', 100);
  if (data !== undefined && !/^sha256:[0-9a-f]{64}$/.test(data)) throw invalid('data', `expected a dataset digest sha256:<64 hex> (PUT /api/v1/datasets returns it), got ${JSON.stringify(data)}`);
  if (o.settings !== undefined && (typeof o.settings !== 'object' || o.settings === null || Array.isArray(o.settings))) throw invalid('settings', 'expected an object of validation settings');
  const quantize = text('quantize', 32);
  const fields = {
    quantize: quantize as OptimizeRequest['quantize'],
    perChannel: flag('perChannel'),
    prune: o.prune,
    structured: flag('structured'),
    data,
    target: text('target', 200),
    gates: text('gates', 64 * 1024),
    settings: o.settings as OptimizeRequest['settings'],
    alias: text('alias', 64),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

export function optimizeApi(options: { readonly service: OptimizeService; readonly principal?: (req: FastifyRequest) => string }): FastifyPluginAsync {
  const { service } = options;
  const principal = options.principal ?? (() => 'anonymous');
  return async (app: FastifyInstance) => {
    app.post<{ Params: { model: string; version: string } }>('/models/:model/versions/:version/optimize', { config: write }, async (req, reply): Promise<{ optimization: Optimization }> => {
      const model = nameParam('model', req.params.model);
      const version = versionParam(req.params.version);
      const optimization = await service.start({ model, version, by: principal(req), ...readOptimizeBody(req.body) });
      void reply.code(202);
      return { optimization };
    });
    app.get<{ Params: { id: string } }>('/optimizations/:id', { config: read }, async (req): Promise<{ optimization: Optimization }> => {
      const id = req.params.id;
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw OptimizeErrors.OPTIMIZE_NOT_FOUND(`no optimisation ${JSON.stringify(id)}: ids are letters, digits, - and _`);
      return { optimization: await service.get(id) };
    });
  };
}
