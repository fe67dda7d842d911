/**
 * Alerts (docs/alerts.md): rules on Slipway's metrics, evaluated in process, sent to webhooks in
 * Alertmanager's format, with an optional action on the endpoint. The HTTP plugin (./api.js) and
 * the client (./client.js) are separate entry points, as for the rest of monitoring.
 */
export * from './errors.js';
export * from './types.js';
export * from './ports.js';
export * from './rules.js';
export * from './source.js';
export * from './reduce.js';
export * from './options.js';
export * from './webhook.js';
export * from './alerting.js';
export * from './metrics.js';
export * from './memory-store.js';
