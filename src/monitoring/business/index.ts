/**
 * Business metrics (docs/business-metrics.md): measured CPU per version, and per variant and
 * version of an endpoint its conversion rate, revenue, label accuracy, cost and value per 1,000
 * predictions. The HTTP route (`api.ts`) and the client (`client.ts`) are separate entry points, as
 * for the rest of monitoring; so is `metrics.ts`, which pulls in prom-client.
 */
export * from './errors.js';
export * from './options.js';
export * from './usage.js';
export * from './report.js';
