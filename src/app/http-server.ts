/**
 * Assembles the Fastify server both HTTP edges share: request ids, the one auth hook (every route
 * must declare a permission), the lifecycle gate (503 while starting or draining), and the one
 * error handler that turns anything thrown into `{error, code}` with the right status.
 */
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { HttpErrors, isUniqueLookingId, newId, systemClock, toHttpError, type PlatformError } from '../core/index.js';
import { lingerOnClose } from '../control/index.js';
import { ANONYMOUS, isPermission, resourceOfRoute, type Authenticator, type Permission, type Principal, type RouteResource } from '../security/index.js';
import { ServingErrors } from '../serving/index.js';
import type { LogLevel } from './config.js';

export type Lifecycle = 'starting' | 'ready' | 'draining' | 'stopped';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
    /** Set when the auth hook refused the request (401/403): for the audit log. */
    authError: PlatformError | null;
  }
  interface FastifyContextConfig {
    permission?: Permission;
    /** Set when the route registers: the path parameters naming its model or endpoint (scoped keys). */
    resource?: RouteResource;
  }
  interface FastifyInstance {
    /** Requests received and not yet answered (or abandoned by their client). */
    inFlight(): number;
    /** Resolves when no request is in flight. */
    whenIdle(): Promise<void>;
    /** Every registered route with the permission it needs (the route-protection test walks it). */
    routeTable(): readonly RouteEntry[];
  }
}

/** One registered route, as the auth hook sees it. */
export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  readonly permission: Permission;
  readonly resource: RouteResource;
}

export interface HttpServerOptions {
  /** HTTPS (and mTLS) options for node's https server; absent: plain HTTP. */
  readonly https?: { readonly cert: string; readonly key: string; readonly ca?: string; readonly requestCert: boolean; readonly rejectUnauthorized: boolean };
  /** Who a request is and whether it may use its route; absent: everything is allowed (unit tests). */
  readonly auth?: Authenticator;
  readonly bodyLimitBytes: number;
  readonly logLevel: LogLevel;
  readonly lifecycle: () => Lifecycle;
}

/** Paths that answer even while the server starts or drains (probes must see the truth). */
const ALWAYS_OPEN = new Set(['/v2/health/live', '/v2/health/ready']);

function fastifyErrorToPlatform(error: FastifyError): PlatformError | undefined {
  if (typeof error.code !== 'string' || !error.code.startsWith('FST_')) return undefined;
  switch (error.statusCode) {
    case 413:
      return HttpErrors.HTTP_BODY_TOO_LARGE(`request body is larger than the limit of ${error.message.match(/\d+/)?.[0] ?? 'the configured'} bytes`);
    case 415:
      return HttpErrors.HTTP_UNSUPPORTED_MEDIA_TYPE(`unsupported Content-Type: ${error.message}`);
    default:
      if (error.code.startsWith('FST_ERR_CTP_')) return HttpErrors.HTTP_INVALID_JSON(`request body is not valid: ${error.message}`);
      return HttpErrors.HTTP_BAD_REQUEST(error.message);
  }
}

export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const app = Fastify({
    ...(options.https === undefined ? {} : { https: { ...options.https } }),
    logger: { level: options.logLevel },
    // per-request log lines cost throughput; errors are logged by the error handler
    logController: new LogController({ disableRequestLogging: true }),
    // no child logger per request (it costs a pino child on every inference): handlers that log
    // name the request id themselves, as the error handler does
    childLoggerFactory: (logger) => logger,
    bodyLimit: options.bodyLimitBytes,
    // our own lifecycle gate answers 503 in the protocol's error shape
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    requestIdHeader: false,
    genReqId: (req) => {
      const sent = req.headers['x-request-id'];
      return typeof sent === 'string' && isUniqueLookingId(sent) ? sent : newId();
    },
  });

  // set by the auth hook on every request before any handler runs
  app.decorateRequest('principal', null as unknown as Principal);
  app.decorateRequest('authError', null);

  // Every route declares the permission it needs; a route without one does not register.
  const routes: RouteEntry[] = [];
  app.decorate('routeTable', () => routes);
  app.addHook('onRoute', (route) => {
    const permission = (route.config as { permission?: unknown } | undefined)?.permission;
    if (!isPermission(permission)) {
      throw new Error(`route ${String(route.method)} ${route.url} declares no permission (config.permission)`);
    }
    const resource = resourceOfRoute(route.url);
    route.config = { ...route.config, permission, resource };
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) routes.push({ method, url: route.url, permission, resource });
  });

  // In-flight tracking, so shutdown can drain before it closes connections.
  let inFlight = 0;
  let idleWaiters: (() => void)[] = [];
  app.decorate('inFlight', () => inFlight);
  app.decorate('whenIdle', () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve))));
  app.addHook('onRequest', async (_req, reply) => {
    inFlight++;
    reply.raw.once('close', () => {
      inFlight--;
      if (inFlight === 0) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const w of waiters) w();
      }
    });
  });
  // While draining, every answer closes its connection, so keep-alive clients reconnect elsewhere.
  app.addHook('onSend', async (_req, reply) => {
    if (options.lifecycle() !== 'ready') void reply.header('connection', 'close');
  });

  app.addHook('onRequest', async (req, reply) => {
    void reply.header('x-request-id', req.id);
    const state = options.lifecycle();
    const path = req.url.split('?', 1)[0] ?? req.url;
    if (state !== 'ready' && !ALWAYS_OPEN.has(path)) {
      void reply.header('connection', 'close');
      throw state === 'starting'
        ? ServingErrors.SERVING_STARTING('Slipway is starting; retry shortly', { retryAfterSeconds: 1 })
        : ServingErrors.SERVING_DRAINING('Slipway is shutting down and takes no new requests', { retryAfterSeconds: 5 });
    }
    // The auth hook: 401 without valid credentials, 403 without the permission or scope (docs/security.md)
    const auth = options.auth;
    if (auth === undefined) {
      req.principal = ANONYMOUS;
      return;
    }
    const config = req.routeOptions.config;
    try {
      const checked = auth.check({
        method: req.method,
        route: req.routeOptions.url ?? path,
        permission: config.permission ?? 'admin',
        resource: config.resource ?? {},
        authorization: req.headers.authorization,
        params: req.params as Record<string, string | undefined>,
        query: (req.query ?? {}) as Record<string, unknown>,
      });
      req.principal = checked instanceof Promise ? await checked : checked;
    } catch (error) {
      // kept for the audit log, which records every refusal with who tried
      req.authError = error as PlatformError;
      throw error;
    }
  });

  app.setErrorHandler((error: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const platform = fastifyErrorToPlatform(error);
    const http = toHttpError(platform ?? error);
    if (http.status >= 500 && http.status !== 503) req.log.error({ reqId: req.id, err: error, code: http.body.code }, 'request failed');
    if (http.status === 413) {
      void reply.header('connection', 'close');
      // the client may still be sending: drain what arrives so it can read the 413 instead of a reset
      if (!req.raw.complete) lingerOnClose(req.raw, systemClock);
    }
    void reply.code(http.status).headers(http.headers).send(http.body);
  });

  app.setNotFoundHandler({}, (req, reply) => {
    const http = toHttpError(HttpErrors.HTTP_ROUTE_NOT_FOUND(`no route for ${req.method} ${req.url.split('?', 1)[0] ?? req.url}`));
    void reply.code(http.status).send(http.body);
  });

  return app;
}
