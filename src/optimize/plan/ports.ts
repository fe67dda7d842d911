/**
 * What capacity planning needs from storage: finished plans (measured or failed), kept with the
 * version they measured, newest first, so a plan outlives the job table and the server that ran it.
 * Adapters live in src/storage (memory for tests, SQLite by default); both pass the contract suite in
 * test/unit/storage/pre-deployment-stores.test.ts. What goes in is copied; what comes out never aliases
 * the store's state.
 */
import type { PlanJob } from './service.js';

/** A stored plan in a list: the job without its measurements. */
export interface PlanSummary {
  readonly id: string;
  readonly model: string;
  readonly version: number;
  readonly status: PlanJob['status'];
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly error: PlanJob['error'];
  /** What was asked; null when the plan failed before measuring. */
  readonly target: { readonly rps: number; readonly p99Ms: number } | null;
  readonly feasible: boolean | null;
  /** The chosen configuration's label, instances and expected p99, when one met the target. */
  readonly recommendation: { readonly configuration: string; readonly instances: number; readonly cores: number; readonly expectedP99Ms: number } | null;
}

export interface PlanStore {
  /** Stores a finished plan job (a second put of the same id replaces it). */
  putPlan(plan: PlanJob): Promise<void>;
  getPlan(id: string): Promise<PlanJob | undefined>;
  /** Summaries of a model's plans (of one version when given), newest first, at most `limit` (default 100). */
  listPlans(model: string, version?: number, limit?: number): Promise<PlanSummary[]>;
}

/** The summary of a stored plan job. */
export function summarizePlan(job: PlanJob): PlanSummary {
  const plan = job.plan;
  const chosen = plan?.recommendation ?? null;
  return {
    id: job.id,
    model: job.model,
    version: job.version,
    status: job.status,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    error: job.error,
    target: plan === null ? null : { rps: plan.target.rps, p99Ms: plan.target.p99Ms },
    feasible: plan === null ? null : plan.feasible,
    recommendation: chosen === null ? null : { configuration: chosen.configuration.label, instances: chosen.instances, cores: chosen.cores, expectedP99Ms: chosen.expectedP99Ms },
  };
}
