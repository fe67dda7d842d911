/**
 * Feeds abuse detection from the HTTP edge: a Fastify plugin for the root instance whose
 * `onResponse` hook hands every answered inference (status 200) to the detector, once the answer
 * has been sent, so detection adds nothing to the latency a client sees. It reads the principal the
 * auth hook set, the endpoint from the route, and the decoded inputs and the answering version the
 * OIP route left on the request.
 */
import type { FastifyInstance, FastifyPluginCallback, FastifyRequest } from 'fastify';
import type { Tensor } from '../../core/index.js';
import { abuseCallerOf, type ExtractionDetector } from './detector.js';

export interface AbuseHooksOptions {
  readonly detector: ExtractionDetector;
  /** The decoded inputs of an answered inference (undefined otherwise). */
  readonly inputsOf: (req: FastifyRequest) => readonly Tensor[] | undefined;
  /** The model and version that answered it. */
  readonly routeOf: (req: FastifyRequest) => { readonly model: string; readonly version: number } | undefined;
}

/**
 * The hook as a plugin for the root instance. It does not encapsulate (as fastify-plugin would
 * mark it), so it sees the routes of sibling plugins such as the OIP routes.
 */
export function abuseHooks(options: AbuseHooksOptions): FastifyPluginCallback {
  const { detector } = options;
  const plugin: FastifyPluginCallback = (app: FastifyInstance, _opts, done) => {
    app.addHook('onResponse', (req, reply, next) => {
      if (reply.statusCode === 200 && req.method === 'POST' && req.routeOptions.config.permission === 'inference:call') {
        try {
          const inputs = options.inputsOf(req);
          const route = options.routeOf(req);
          const endpoint = (req.params as { name?: unknown }).name;
          if (inputs !== undefined && route !== undefined && typeof endpoint === 'string') {
            detector.observe({
              caller: abuseCallerOf(req.principal.id, req.ip),
              endpoint,
              model: route.model,
              version: route.version,
              inputs,
              requestId: req.id,
              ip: req.ip,
            });
          }
        } catch {
          // detection must never disturb serving; the detector itself never throws
        }
      }
      next();
    });
    done();
  };
  Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'slipway-abuse-detection' });
  return plugin;
}
