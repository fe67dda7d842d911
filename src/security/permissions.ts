/**
 * Every route declares the permission it needs (Fastify route `config.permission`); one auth hook
 * checks it. Until authentication is switched on (issue "Security"), the hook lets every request
 * through as the `anonymous` principal, but a route without a declared permission cannot register.
 */
export const PERMISSIONS = [
  'health:read', // liveness, readiness, server metadata
  'inference:call', // POST …/infer
  'models:read', // model and endpoint metadata, registry reads
  'models:write', // push versions, edit models
  'aliases:write', // move and delete aliases
  'endpoints:write', // create, re-point, delete endpoints
  'metrics:read', // /metrics
  'feedback:write', // POST /api/v1/feedback (labels, events and values joined to predictions)
  'admin', // keys, audit, server administration
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** What every Fastify route must carry in `config`. */
export interface RouteSecurity {
  readonly permission: Permission;
}

/** The principal a request acts as; recorded as `by` in registry history. */
export interface Principal {
  readonly id: string;
  readonly roles: readonly string[];
}

export const ANONYMOUS: Principal = Object.freeze({ id: 'anonymous', roles: Object.freeze(['admin']) });

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (PERMISSIONS as readonly string[]).includes(value);
}
