/** Prometheus metrics (`/metrics`); see docs/metrics.md. The HTTP plugin is in ./api.js. */
export * from './metrics.js';
