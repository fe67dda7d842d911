/**
 * The one auth check every request passes (docs/security.md): who is calling (an API key, a JWT,
 * or nobody), then whether their roles grant the route's permission and their scope covers the
 * model or endpoint the route names. Failures are 401 (who?) or 403 (not allowed), and each is
 * reported to `onFailure` for the audit log.
 */
import { createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, importSPKI, importX509, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { PlatformError } from '../../core/index.js';
import { SecurityErrors } from '../errors.js';
import type { KeyService } from '../keys/index.js';
import type { JwtConfig } from '../options.js';
import {
  ANONYMOUS,
  ANONYMOUS_PREDICTOR,
  isRole,
  matchesGlob,
  permissionsOf,
  PUBLIC_PERMISSIONS,
  type Permission,
  type Principal,
  type RouteResource,
} from '../permissions.js';

/** What the check needs to know of a request. */
export interface AuthRequest {
  readonly method: string;
  /** The route's path pattern (`/api/v1/models/:model`), for messages. */
  readonly route: string;
  readonly permission: Permission;
  readonly resource: RouteResource;
  readonly authorization: string | undefined;
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, unknown>>;
  /** The client's address: who an anonymous caller is to abuse detection's throttle. */
  readonly ip?: string;
}

/** One refused request, for the audit log. */
export interface AuthFailure {
  readonly status: 401 | 403;
  readonly actor: string;
  readonly reason: string;
  readonly error: PlatformError;
}

export interface Authenticator {
  /** The principal, or a thrown 401/403 PlatformError. Synchronous unless a JWT is verified. */
  check(req: AuthRequest): Principal | Promise<Principal>;
}

export interface AuthenticatorOptions {
  readonly enabled: boolean;
  readonly dataPlane: 'required' | 'open';
  readonly keys: KeyService;
  readonly jwt?: JwtVerifier;
  readonly onFailure?: (failure: AuthFailure) => void;
}

/** Permissions a scoped key may use on a route that names no model or endpoint (lists, figures, feedback). */
const UNSCOPED_OK: ReadonlySet<Permission> = new Set<Permission>(['health:read', 'models:read', 'metrics:read', 'inference:call', 'feedback:write']);

function bearerOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m?.[1] ?? '';
}

function roleList(principal: Principal): string {
  return principal.roles.length === 0 ? 'no role' : `role${principal.roles.length === 1 ? '' : 's'} ${principal.roles.join(', ')}`;
}

/** Checks roles and scope; throws SECURITY_FORBIDDEN naming what is missing. */
export function authorize(principal: Principal, req: AuthRequest): void {
  const where = `${req.method} ${req.route}`;
  if (!permissionsOf(principal.roles).has(req.permission)) {
    throw SecurityErrors.SECURITY_FORBIDDEN(`${principal.id} (${roleList(principal)}) lacks the permission "${req.permission}" that ${where} needs`, {
      details: { principal: principal.id, permission: req.permission, roles: principal.roles },
    });
  }
  const scope = principal.scope;
  if (scope === null || scope === undefined) return;
  const named: { kind: 'model' | 'endpoint'; name: string }[] = [];
  const model = req.resource.model === undefined ? undefined : req.params[req.resource.model];
  const endpoint = req.resource.endpoint === undefined ? undefined : req.params[req.resource.endpoint];
  if (model !== undefined) named.push({ kind: 'model', name: model });
  if (endpoint !== undefined) named.push({ kind: 'endpoint', name: endpoint });
  // a route without a path name may still be narrowed by its query (payload export, outcomes)
  if (named.length === 0) {
    if (typeof req.query.endpoint === 'string') named.push({ kind: 'endpoint', name: req.query.endpoint });
    if (typeof req.query.model === 'string') named.push({ kind: 'model', name: req.query.model });
  }
  if (named.length === 0) {
    if (UNSCOPED_OK.has(req.permission)) return;
    throw SecurityErrors.SECURITY_FORBIDDEN(`${principal.id} is scoped to models [${scope.models.join(', ')}] and endpoints [${scope.endpoints.join(', ')}]; ${where} must name one (e.g. ?endpoint=NAME)`, {
      details: { principal: principal.id, permission: req.permission, scope },
    });
  }
  for (const n of named) {
    const globs = n.kind === 'model' ? scope.models : scope.endpoints;
    if (!matchesGlob(globs, n.name)) {
      throw SecurityErrors.SECURITY_FORBIDDEN(`${principal.id} is scoped to ${n.kind}s [${globs.join(', ')}], which does not include ${n.kind} "${n.name}"`, {
        details: { principal: principal.id, [n.kind]: n.name, scope },
      });
    }
  }
}

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const refuse = (cause: PlatformError, actor: string): never => {
    // who tried goes with the error, for the audit log (never the token itself)
    const error = new PlatformError(cause.code, cause.kind, cause.message, { details: { ...cause.details, actor } });
    options.onFailure?.({ status: error.kind === 'forbidden' ? 403 : 401, actor, reason: error.message, error });
    throw error;
  };
  const authorized = (principal: Principal, req: AuthRequest): Principal => {
    try {
      authorize(principal, req);
    } catch (error) {
      refuse(error as PlatformError, principal.id);
    }
    return principal;
  };
  return {
    check(req) {
      if (PUBLIC_PERMISSIONS.has(req.permission)) return ANONYMOUS_PREDICTOR;
      if (!options.enabled) return ANONYMOUS;
      const token = bearerOf(req.authorization);
      if (token === undefined) {
        if (options.dataPlane === 'open' && req.permission === 'inference:call') return ANONYMOUS_PREDICTOR;
        return refuse(SecurityErrors.SECURITY_UNAUTHENTICATED(`${req.method} ${req.route} needs credentials: send "Authorization: Bearer <API key>"`), 'anonymous');
      }
      if (token === '') return refuse(SecurityErrors.SECURITY_UNAUTHENTICATED('the Authorization header must be "Bearer <API key>"'), 'anonymous');
      if (options.jwt !== undefined && looksLikeJwt(token)) {
        return options.jwt.verify(token).then(
          (principal) => authorized(principal, req),
          (error: unknown) => refuse(error as PlatformError, 'jwt'),
        );
      }
      const found = options.keys.authenticate(token);
      if (!found.ok) {
        const which = found.key === undefined ? 'the API key is not known' : `API key ${found.key.hint} (${found.key.name}) is ${found.reason}`;
        return refuse(SecurityErrors.SECURITY_UNAUTHENTICATED(`${which}; use an active key (slipway keys list)`), found.key === undefined ? 'unknown-key' : `key:${found.key.name}`);
      }
      return authorized(found.principal, req);
    },
  };
}

function looksLikeJwt(token: string): boolean {
  return token.startsWith('ey') && token.split('.').length === 3;
}

/** Verifies JWT bearer tokens against configured keys or a JWKS, and maps their claims to a principal. */
export interface JwtVerifier {
  verify(token: string): Promise<Principal>;
}

/** Builds the verifier from config; a key file that cannot be read fails at start, naming it. */
export async function createJwtVerifier(config: JwtConfig): Promise<JwtVerifier> {
  let getKey: JWTVerifyGetKey | Awaited<ReturnType<typeof importSPKI>>;
  if (config.publicKeyFile !== '') {
    const pem = readFileSync(config.publicKeyFile, 'utf8');
    const alg = pemAlgorithm(pem);
    getKey = pem.includes('BEGIN CERTIFICATE') ? await importX509(pem, alg) : await importSPKI(pem, alg);
  } else {
    getKey = createRemoteJWKSet(new URL(config.jwksUrl));
  }
  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey as JWTVerifyGetKey, {
          ...(config.issuer === '' ? {} : { issuer: config.issuer }),
          ...(config.audience === '' ? {} : { audience: config.audience }),
          clockTolerance: config.clockToleranceSeconds,
        }));
      } catch (error) {
        throw SecurityErrors.SECURITY_INVALID_TOKEN(`the bearer token failed verification: ${(error as Error).message}`);
      }
      const claim = payload[config.rolesClaim];
      const names = typeof claim === 'string' ? claim.split(/\s+/) : Array.isArray(claim) ? claim.filter((c): c is string => typeof c === 'string') : [];
      const roles = names.filter(isRole);
      if (roles.length === 0) {
        throw SecurityErrors.SECURITY_INVALID_TOKEN(`the token's "${config.rolesClaim}" claim names no Slipway role (admin, deployer, viewer, predictor)`);
      }
      return { id: `jwt:${payload.sub ?? 'unknown'}`, roles };
    },
  };
}

/** The JOSE algorithm a PEM public key is used with: its key type decides. */
function pemAlgorithm(pem: string): string {
  const key = pem.includes('BEGIN CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem);
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'ec':
      return key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'ES384' : 'ES256';
    case 'ed25519':
      return 'EdDSA';
    default:
      throw SecurityErrors.SECURITY_INVALID_TOKEN(`the JWT public key is of type ${String(key.asymmetricKeyType)}; use an RSA, EC or Ed25519 key`);
  }
}
