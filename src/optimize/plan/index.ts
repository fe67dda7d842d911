/**
 * Capacity planning (`slipway plan MODEL:VERSION --rps R --p99-ms L`): measure a model on this
 * machine across batch sizes, replica counts, thread settings and batching knobs, then recommend
 * the serving configuration that meets a target with headroom, at its cost. docs/plan.md.
 */
export * from './types.js';
export * from './errors.js';
export { measurePlan, bestBatchSize, repeatRows, zeroInputs, PLAN_DEFAULTS, type MeasurePlanOptions, type PlanGridOptions } from './measure.js';
export { recommendPlan, resolvePlanTarget, capacityOf, failureOf, readAt, configSnippet, DEFAULT_HEADROOM, type Capacity, type Reading } from './recommend.js';
export { runLoadPoint, summariseLatencies, lateLimitFor, plannedRequests, MAX_POINT_REQUESTS, type InferFunction, type LoadPointOptions, type PointSize } from './load.js';
export { formatPlan, planTable } from './format.js';
export { createPlanService, type PlanService, type PlanJob, type StartPlanInput } from './service.js';
export { summarizePlan, type PlanStore, type PlanSummary } from './ports.js';
export { planApi } from './api.js';
