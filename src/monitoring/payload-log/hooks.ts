/**
 * Capture at the HTTP edge: a Fastify plugin, registered at the root before the inference routes,
 * whose hooks join those routes and record every inference request in the payload log — whatever
 * its status, including a body that was not JSON and never reached a handler. `onSend` keeps a
 * reference to the serialized response and `onResponse` records (its latency is Fastify's
 * `reply.elapsedTime`, what the client waited).
 */
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest, onResponseHookHandler, onSendHookHandler } from 'fastify';
import { RAW_BODY } from './raw-body.js';
import type { PayloadCapture, PayloadRecorder, PayloadRoute } from './types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The Open Inference Protocol routes recorded, as Fastify names them (`req.routeOptions.url`). */
export const INFERENCE_ROUTES: readonly string[] = Object.freeze(['/v2/models/:name/infer', '/v2/models/:name/versions/:version/infer']);

/** The response payload seen in onSend, kept for onResponse. */
const RESPONSE_BODY: unique symbol = Symbol('slipway.payloadLog.responseBody');

declare module 'fastify' {
  interface FastifyRequest {
    [RESPONSE_BODY]?: string | Buffer;
  }
}

export interface PayloadLogHooksOptions {
  readonly log: PayloadRecorder;
  /**
   * The model, version and variant that answered the request, once the data plane has chosen
   * them; undefined when it never did (bad JSON, unknown endpoint). Called in onResponse.
   */
  readonly routeOf?: (req: FastifyRequest, reply: FastifyReply) => PayloadRoute | undefined;
  /** Routes to record; default {@link INFERENCE_ROUTES}. */
  readonly routes?: readonly string[];
}

/**
 * The hooks as a plugin for the root instance. It does not encapsulate (as fastify-plugin would
 * mark it), so its hooks see the routes of sibling plugins such as the OIP routes.
 */
export function payloadLogHooks(options: PayloadLogHooksOptions): FastifyPluginCallback {
  const routes = new Set(options.routes ?? INFERENCE_ROUTES);
  const { log, routeOf } = options;

  const onSend: onSendHookHandler = (req, _reply, payload, next) => {
    if (typeof payload === 'string' || Buffer.isBuffer(payload)) req[RESPONSE_BODY] = payload;
    next(null, payload);
  };
  const onResponse: onResponseHookHandler = (req, reply, next) => {
    try {
      const params = req.params as { name?: unknown };
      const route = routeOf?.(req, reply);
      const variantHeader = reply.getHeader('x-slipway-variant');
      const q = req.url.indexOf('?');
      const requestBody = req[RAW_BODY];
      const responseBody = req[RESPONSE_BODY];
      // one literal of one shape, bodies or not: conditional spreads cost more than the rest of the hook
      const capture: Mutable<PayloadCapture> = {
        requestId: req.id,
        endpoint: typeof params.name === 'string' ? params.name : '',
        model: route?.model ?? null,
        version: route?.version ?? null,
        variant: route?.variant ?? (typeof variantHeader === 'string' ? variantHeader : null),
        latencyMs: reply.elapsedTime,
        status: reply.statusCode,
        method: req.method,
        path: q < 0 ? req.url : req.url.slice(0, q),
      };
      if (requestBody !== undefined) capture.requestBody = requestBody;
      if (responseBody !== undefined) capture.responseBody = responseBody;
      log.record(capture);
    } catch {
      // recording must never disturb serving; the recorder itself never throws, routeOf might
    }
    next();
  };

  const plugin: FastifyPluginCallback = (app: FastifyInstance, _opts, done) => {
    // declared up front, so every request object has the same shape from its construction on
    for (const key of [RAW_BODY, RESPONSE_BODY]) if (!app.hasRequestDecorator(key)) app.decorateRequest(key, undefined);
    // The hooks join the recorded routes as they are declared (so this plugin must be registered
    // before them), rather than run for every request and ask each which route it took: Fastify's
    // req.routeOptions builds a new object of a dozen fields on every read.
    let joined = 0;
    app.addHook('onRoute', (route) => {
      if (!routes.has(route.url)) return;
      route.onSend = [...hookList(route.onSend), onSend];
      route.onResponse = [...hookList(route.onResponse), onResponse];
      joined++;
    });
    // registered after the routes it records, the log would stay empty without a word: refuse to start instead
    app.addHook('onReady', (ready) => {
      ready(joined > 0 ? undefined : new Error(`the payload log's hooks joined none of the routes ${[...routes].join(', ')}: register them before those routes`));
    });
    done();
  };
  // what fastify-plugin does: register the hooks on the instance it is given, not in a child context
  Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'slipway-payload-log' });
  return plugin;
}

/** A route option's hooks as a list: absent, one, or several. */
function hookList<T>(hooks: T | readonly T[] | undefined): readonly T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? (hooks as readonly T[]) : [hooks as T];
}
