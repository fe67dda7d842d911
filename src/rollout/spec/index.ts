/** Endpoint specs: the YAML documents of `slipway apply`, parsed, checked, defaulted and frozen. */
export type * from './types.js';
export { SPEC_API_VERSION, SPEC_KINDS, BUILTIN_CHECK_METRICS } from './types.js';
export * from './errors.js';
export { parseDurationSeconds, formatDuration, DURATION_RULE } from './duration.js';
export { ANALYSIS_DEFAULTS, BUILTIN_CHECK_DEFAULTS, DEFAULT_CHECKS } from './analysis.js';
export { BLUE_GREEN_DEFAULTS, CANARY_DEFAULTS, HEADER_ROUTE_DEFAULTS, EXPERIMENT_DEFAULTS, SHADOW_DEFAULTS } from './strategies.js';
export { MAX_SPEC_SECONDS } from './reader.js';
export { parseEndpointSpecs, readEndpointSpecs, invalidSpecError, MAX_SPEC_DOCUMENTS, type ParseSpecOptions } from './parse.js';
