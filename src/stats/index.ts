/**
 * Slipway's statistics layer: special functions, distributions, sample summaries, distances,
 * always-valid sequential statistics and multiple-testing adjustments. Pure TypeScript, no
 * dependencies; used by rollout analysis and drift detection. See docs/analysis.md.
 */
export * from './errors.js';
export * from './normal.js';
export * from './gamma.js';
export * from './distributions.js';
export * from './ks.js';
export * from './moments.js';
export * from './proportions.js';
export * from './quantiles.js';
export * from './sketch.js';
export * from './distances.js';
export * from './multiple-testing.js';
export * from './sequential.js';
export * from './hypothesis-tests.js';
export * from './random.js';
export * from './reservoir.js';
export * from './shapiro-wilk.js';
export * from './multivariate.js';
export * from './bootstrap.js';
