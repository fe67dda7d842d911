/**
 * Reference profiles (docs/profiles.md): per-feature statistics of the data a model version was
 * trained or validated on, and what the version predicted on it — the yardstick drift detection
 * compares live traffic with.
 *
 * The HTTP edges are separate entry points, not exported here (as in src/monitoring): the
 * composition root imports `profiles/api.js`, the CLI `profiles/client.js`.
 */
export * from './types.js';
export * from './errors.js';
export * from './ports.js';
export * from './compute.js';
export * from './reference-data.js';
export * from './feature-names.js';
export * from './service.js';
export type * from './api-types.js';
