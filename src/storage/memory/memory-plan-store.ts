/**
 * An in-memory PlanStore for unit tests and throw-away runs. Plans are kept as JSON text, so what
 * goes in and what comes out never alias each other (as with the SQLite adapter).
 */
import { summarizePlan, type PlanStore } from '../../optimize/plan/ports.js';
import type { PlanJob } from '../../optimize/plan/service.js';
import { memoryVersionDocuments } from './version-documents.js';

export function createMemoryPlanStore(): PlanStore {
  const plans = memoryVersionDocuments<PlanJob>();
  return {
    async putPlan(plan) {
      plans.put(plan);
    },
    async getPlan(id) {
      return plans.get(id);
    },
    async listPlans(model, version, limit = 100) {
      return plans.list(model, version, limit).map(summarizePlan);
    },
  };
}
