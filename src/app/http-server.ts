/**
 * Assembles the Fastify server both HTTP edges share: request ids, the one auth hook (every route
 * must declare a permission), the lifecycle gate (503 while starting or draining), and the one
 * error handler that turns anything thrown into `{error, code}` with the right status.
 */
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { HttpErrors, isUniqueLookingId, newId, systemClock, toHttpError, type PlatformError } from '../core/index.js';
import { lingerOnClose } from '../control/index.js';
import { ANONYMOUS, ANONYMOUS_PREDICTOR, isPermission, resourceOfRoute, type Authenticator, type Permission, type Principal, type RouteResource } from '../security/index.js';
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

function fastifyErrorToPlatform(error: FastifyError, contentType: string | undefined): PlatformError | undefined {
  if (typeof error.code !== 'string' || !error.code.startsWith('FST_')) return undefined;
  switch (error.statusCode) {
    case 413:
      return HttpErrors.HTTP_BODY_TOO_LARGE(`request body is larger than the limit of ${error.message.match(/\d+/)?.[0] ?? 'the configured'} bytes`);
    case 415:
      return HttpErrors.HTTP_UNSUPPORTED_MEDIA_TYPE(
        `Content-Type ${contentType === undefined ? '(none)' : JSON.stringify(contentType.slice(0, 100))} is not accepted on this route: JSON routes take application/json, uploads application/octet-stream`,
        { details: { field: 'content-type' } },
      );
    default:
      if (error.code.startsWith('FST_ERR_CTP_')) return HttpErrors.HTTP_INVALID_JSON(`request body is not valid: ${error.message}`);
      return HttpErrors.HTTP_BAD_REQUEST(error.message);
  }
}

/**
 * The longest path parameter the router accepts. Names are at most 63 characters and client-sent
 * request ids 128 (`/api/v1/predictions/:requestId`); Fastify's default of 100 refused the latter.
 */
export const MAX_PATH_PARAM_LENGTH = 256;

/** A path quoted in an error message, cut short: a URL may be kilobytes long. */
function quotePath(path: string): string {
  return JSON.stringify(path.length > 120 ? `${path.slice(0, 120)}…` : path);
}

/**
 * Errors the router raises before a request reaches hooks or handlers (a malformed
 * percent-encoding, an over-long parameter), in the `{error, code}` shape instead of Fastify's own.
 */
export function routerErrorToPlatform(error: FastifyError, path: string): PlatformError {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return HttpErrors.HTTP_BAD_REQUEST(`path ${quotePath(path)} is not valid: a percent-encoding in it does not decode to UTF-8 text`, { details: { field: 'path' } });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return HttpErrors.HTTP_BAD_REQUEST(`path ${quotePath(path)} has a segment longer than ${MAX_PATH_PARAM_LENGTH} characters; names and ids are shorter`, {
        details: { field: 'path' },
      });
    default:
      return HttpErrors.HTTP_BAD_REQUEST(`the request could not be routed: ${error.message}`);
  }
}

/**
 * The raw answer to a request node's HTTP parser refused before Fastify saw it (headers over
 * node's limit, a malformed request line or header), in the `{error, code}` shape instead of
 * Fastify's own. The connection closes after it.
 */
export function clientErrorAnswer(error: { readonly code?: string }): string {
  const http = toHttpError(
    error.code === 'HPE_HEADER_OVERFLOW'
      ? HttpErrors.HTTP_BAD_REQUEST(`the request headers are larger than ${maxHeaderSize} bytes, the most the server reads; send a shorter Authorization or fewer headers`, {
          details: { field: 'headers' },
        })
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? HttpErrors.HTTP_BAD_REQUEST("the request's headers did not arrive in full within the server's timeout")
        : HttpErrors.HTTP_BAD_REQUEST(`the request is not valid HTTP/1.1 (${error.code ?? 'unreadable'}): check the request line and the headers`),
  );
  const body = JSON.stringify(http.body);
  return `HTTP/1.1 ${http.status} ${STATUS_CODES[http.status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

function onClientError(error: Error & { code?: string }, socket: Socket): void {
  // a reset connection has no one left to answer
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) socket.write(clientErrorAnswer(error));
  socket.destroy(error);
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
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    clientErrorHandler: onClientError,
    // the router's own refusals (no hook or handler runs for them) in the protocol's error shape
    frameworkErrors: (error, req, reply) => {
      const http = toHttpError(routerErrorToPlatform(error, req.raw.url?.split('?', 1)[0] ?? ''));
      void (reply as FastifyReply).code(http.status).header('x-request-id', req.id).send(http.body);
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
    // read once: Fastify builds a new object of a dozen fields on every read of req.routeOptions
    const route = req.routeOptions;
    const config = route.config;
    // no route matched (config has no permission): the 404 says only what the docs say, to anyone
    if (auth === undefined || config.permission === undefined) {
      req.principal = auth === undefined ? ANONYMOUS : ANONYMOUS_PREDICTOR;
      return;
    }
    try {
      const checked = auth.check({
        method: req.method,
        route: route.url ?? path,
        permission: config.permission,
        resource: config.resource ?? {},
        authorization: req.headers.authorization,
        params: req.params as Record<string, string | undefined>,
        query: (req.query ?? {}) as Record<string, unknown>,
        ip: req.ip,
      });
      req.principal = checked instanceof Promise ? await checked : checked;
    } catch (error) {
      // kept for the audit log, which records every refusal with who tried
      req.authError = error as PlatformError;
      throw error;
    }
  });

  app.setErrorHandler((error: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const platform = fastifyErrorToPlatform(error, req.headers['content-type']);
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
