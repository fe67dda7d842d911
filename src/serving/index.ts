export * from './types.js';
export * from './errors.js';
export * from './inference.js';
export * from './deployments.js';
export * from './dataplane.js';
export * from './protocol/oip-json.js';
export * from './protocol/rest.js';
export type * from './protocol/oip-types.js';
export * from './endpoint-settings.js';
