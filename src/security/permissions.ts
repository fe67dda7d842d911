/**
 * Every route declares the permission it needs (Fastify route `config.permission`); one auth hook
 * checks it against the principal's roles (docs/security.md). A route without a declared
 * permission cannot register, and a test walks every registered route to prove it is protected.
 */
import type { LimitOverrides } from './limits/index.js';

export const PERMISSIONS = [
  'health:read', // liveness, readiness, server metadata: public, so probes need no key
  'inference:call', // POST …/infer, and the OIP model metadata a caller needs to build a request
  'models:read', // model and endpoint metadata, registry reads, drift, profiles, outcomes
  'models:write', // push versions, edit models, profiles
  'aliases:write', // move and delete aliases
  'endpoints:write', // create, re-point, delete endpoints; traffic, scaling, rollouts
  'metrics:read', // /metrics, alert state, payload-log counters
  'payloads:read', // the payload log and prediction records: request and response contents
  'feedback:write', // POST /api/v1/feedback (labels, events and values joined to predictions)
  'admin', // keys, audit, alert rules, server administration
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Permissions every caller holds, with or without credentials (Kubernetes probes, OIP server metadata). */
export const PUBLIC_PERMISSIONS: ReadonlySet<Permission> = new Set<Permission>(['health:read']);

/**
 * The roles a key or token may carry, and what each grants. `admin` holds everything; the others
 * follow who uses Slipway: a CI job deploys, a dashboard views, an application predicts.
 */
export const ROLES = {
  admin: PERMISSIONS,
  deployer: ['health:read', 'inference:call', 'models:read', 'models:write', 'aliases:write', 'endpoints:write', 'metrics:read', 'feedback:write'],
  viewer: ['health:read', 'models:read', 'metrics:read'],
  predictor: ['health:read', 'inference:call', 'feedback:write'],
} as const satisfies Record<string, readonly Permission[]>;
export type Role = keyof typeof ROLES;
export const ROLE_NAMES = Object.keys(ROLES) as Role[];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ROLES, value);
}

/** The permissions a set of roles grants (unknown role names grant nothing). */
export function permissionsOf(roles: readonly string[]): ReadonlySet<Permission> {
  const out = new Set<Permission>();
  for (const role of roles) if (isRole(role)) for (const p of ROLES[role]) out.add(p);
  return out;
}

/**
 * What a route acts on, for scoped keys: the route parameter that names a model or an endpoint.
 * Derived from the route's path when it registers (see {@link resourceOfRoute}).
 */
export interface RouteResource {
  readonly model?: string;
  readonly endpoint?: string;
}

/** What every Fastify route must carry in `config`. */
export interface RouteSecurity {
  readonly permission: Permission;
}

/**
 * Names and globs a key is limited to. `null` (the default) means every model and endpoint. A
 * scoped key may act only on the models and endpoints its globs match (`*` matches within a name).
 */
export interface Scope {
  readonly models: readonly string[];
  readonly endpoints: readonly string[];
}

/** The principal a request acts as; recorded as `by` in registry history and as `actor` in the audit log. */
export interface Principal {
  /** `key:<name>` for API keys, `jwt:<subject>` for tokens, `anonymous` when none is needed. */
  readonly id: string;
  readonly roles: readonly string[];
  readonly scope?: Scope | null;
  /** The API key's id, when the principal is a key (rate limits, audit). */
  readonly keyId?: string;
  /** The key's own rate limit and quota, if it has them (the server's defaults otherwise). */
  readonly limits?: LimitOverrides | null;
}

/** Who a request is when authentication is switched off: everything is allowed. */
export const ANONYMOUS: Principal = Object.freeze({ id: 'anonymous', roles: Object.freeze(['admin']) });

/** Who a request without credentials is on an open data plane: it may call models and read health. */
export const ANONYMOUS_PREDICTOR: Principal = Object.freeze({ id: 'anonymous', roles: Object.freeze(['predictor']) });

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (PERMISSIONS as readonly string[]).includes(value);
}

/**
 * The model and endpoint parameters of a route, from its path: `:model` names a model,
 * `:endpoint` an endpoint, and `:name` an endpoint on `/v2/models/:name…` (an OIP name is an
 * endpoint) and on `/api/v1/endpoints/:name…`.
 */
export function resourceOfRoute(url: string): RouteResource {
  const params = new Set([...url.matchAll(/:([A-Za-z_]\w*)/g)].map((m) => m[1]));
  const out: { model?: string; endpoint?: string } = {};
  if (params.has('model')) out.model = 'model';
  if (params.has('endpoint')) out.endpoint = 'endpoint';
  else if (params.has('name') && (url.startsWith('/v2/models/') || url.startsWith('/api/v1/endpoints/'))) out.endpoint = 'name';
  return out;
}

/** Whether `name` matches one of the globs (`*` matches within a name, nothing else is special). */
export function matchesGlob(globs: readonly string[], name: string): boolean {
  for (const glob of globs) {
    if (glob === '*' || glob === name) return true;
    if (glob.includes('*')) {
      const re = new RegExp('^' + glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
      if (re.test(name)) return true;
    }
  }
  return false;
}
