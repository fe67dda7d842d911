/**
 * Where the Open Inference Protocol content parser leaves the request text it parsed, for the
 * payload log to keep when a request's body is sampled. A leaf module with no imports, so the
 * serving edge can depend on it without depending on monitoring.
 */

/** The property of a Fastify request holding its raw body text (a reference, never a copy). */
export const RAW_BODY: unique symbol = Symbol('slipway.payloadLog.rawBody');

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body as received, set by the OIP content parser (src/serving/protocol/rest.ts). */
    [RAW_BODY]?: string;
  }
}
