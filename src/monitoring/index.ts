/**
 * Monitoring: the prediction record and the feedback store (docs/feedback.md). Metrics, the
 * payload log, drift and alerts (issue 5) build on these.
 *
 * The HTTP edges are separate entry points, not exported here, so that the domain (and the
 * storage adapters that import it) never pulls in the control plane above it: the composition
 * root imports `monitoring/api.js` (the Fastify plugin), the CLI `monitoring/client.js`.
 */
export * from './errors.js';
export * from './types.js';
export * from './ports.js';
export * from './options.js';
export * from './predictions/summary.js';
export * from './predictions/recorder.js';
export * from './feedback/validate.js';
export * from './feedback/outcomes.js';
export * from './monitoring.js';
export type * from './api-types.js';
export * from './predictions/tape.js';
