/**
 * Request limits (docs/security.md, Limits): token-bucket rate limits and calendar quotas for API
 * keys and endpoints, the limiter that applies them to a request, and their config section.
 */
export * from './errors.js';
export * from './token-buckets.js';
export * from './quotas.js';
export * from './options.js';
export * from './limiter.js';
