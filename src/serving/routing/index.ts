/** The data plane's traffic router: weighted, sticky and header routes, and the shadow mirror with its response diff. */
export * from './errors.js';
export * from './hash.js';
export * from './policy.js';
export * from './router.js';
export * from './mirror.js';
export * from './compare.js';
