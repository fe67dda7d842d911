/**
 * Abuse detection (docs/security.md, Abuse detection): PRADA model-extraction detection per caller
 * and endpoint, its config section, the HTTP hook that feeds it, its route and its gauges.
 */
export * from './options.js';
export * from './features.js';
export * from './prada.js';
export * from './detector.js';
export * from './hooks.js';
export * from './api.js';
export * from './metrics.js';
