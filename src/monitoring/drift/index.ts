/**
 * Drift detection: live windows of an endpoint version's inputs, predictions and labels (bounded
 * memory, by count and by time) compared with the version's reference profile — per-feature tests
 * and distances chosen as Evidently does, multiple-testing control, effect-size floors beside
 * p-values, dataset and prediction drift, and performance from feedback labels. See docs/drift.md.
 */
export * from './errors.js';
export * from './types.js';
export * from './window.js';
export * from './options.js';
export * from './check.js';
export { evaluatePerformance, performanceMetrics, performanceTest, TASK_METRICS, type PerformanceMetric, type PerformanceTask } from './performance.js';
export * from './monitor.js';
export * from './ports.js';
