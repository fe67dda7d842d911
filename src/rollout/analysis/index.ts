/**
 * Rollout analysis: candidate against baseline with always-valid statistics, verdicts with
 * evidence, and a written worst-wins order. See docs/analysis.md.
 */
export * from './errors.js';
export * from './types.js';
export * from './definitions.js';
export * from './arms.js';
export * from './evaluate-check.js';
export * from './analyse.js';
