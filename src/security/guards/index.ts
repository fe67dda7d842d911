/**
 * Input guards and output hardening (docs/security.md): options, the request-path checks behind
 * the data plane's InferenceGuards port, top-k outputs, and their metrics.
 */
export * from './errors.js';
export * from './options.js';
export * from './reference.js';
export * from './outputs.js';
export * from './metrics.js';
export * from './guards.js';
