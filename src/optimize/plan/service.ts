/**
 * Capacity plans as jobs the API starts and the caller watches: the server measures a registered
 * version with its own runtime (sample rows from an uploaded dataset when given, zero-filled inputs
 * otherwise) and recommends a configuration (docs/plan.md). One plan at a time — measuring takes
 * the machine's cores. A finished plan (measured or failed) is stored with its version when the
 * service has a store, so it outlives the job table and a restart.
 */
import { createJobTable, jobView, silentLogger, type Clock, type JobView, type Logger, type ModelSignature } from '../../core/index.js';
import type { ModelVersion } from '../../registry/index.js';
import type { ModelRuntime, RuntimeSessionOptions } from '../../runtime/index.js';
import { createSeededRandom } from '../../stats/random.js';
import { readValidationData } from '../../validate/data.js';
import { batchInputs } from '../../validate/measure.js';
import { PlanErrors } from './errors.js';
import { summarizePlan, type PlanStore, type PlanSummary } from './ports.js';
import { measurePlan } from './measure.js';
import { recommendPlan, resolvePlanTarget } from './recommend.js';
import type { PlanResult, PlanTarget } from './types.js';

export interface PlanServiceOptions {
  readonly registry: {
    getVersion(model: string, version: number): Promise<ModelVersion>;
    artifactPath(model: string, version: number): Promise<string>;
  };
  readonly runtime: ModelRuntime;
  /** The text of an uploaded dataset and the feature names of a version, for sample rows. */
  readonly datasets?: {
    text(digest: string): Promise<string>;
    featureNames(artifactPath: string): Promise<readonly string[] | undefined>;
  };
  readonly clock: Clock;
  readonly logger?: Logger;
  readonly sessionOptions?: RuntimeSessionOptions;
  /** Where finished plans are kept; without one they live only in the job table (the newest 100). */
  readonly store?: PlanStore;
}

export interface StartPlanInput {
  readonly model: string;
  readonly version: number;
  readonly target: PlanTarget;
  /** The measuring budget, seconds (10–600). Default 60. */
  readonly budgetSeconds?: number;
  /** A dataset digest whose rows are the inputs; default zero-filled inputs. */
  readonly data?: string;
}

export interface PlanJob extends JobView {
  readonly model: string;
  readonly version: number;
  readonly plan: PlanResult | null;
}

export interface PlanService {
  start(input: StartPlanInput): Promise<PlanJob>;
  /** A running plan, or a finished one from the job table or the store; OPTIMIZE_PLAN_NOT_FOUND otherwise. */
  job(id: string): Promise<PlanJob>;
  /** Stored plans of a model (of one version when given), newest first; a plan still running is listed first. */
  list(model: string, version?: number, limit?: number): Promise<PlanSummary[]>;
  close(): Promise<void>;
}

const DEFAULT_BUDGET_SECONDS = 60;

export function createPlanService(options: PlanServiceOptions): PlanService {
  const { registry, runtime, clock } = options;
  const logger = options.logger ?? silentLogger;
  const jobs = createJobTable<PlanResult, { model: string; version: number }>(clock);
  const store = options.store;
  // writes of finished plans still under way, awaited on close (the database closes after)
  const writes = new Set<Promise<void>>();
  let closed = false;
  const viewOf = (id: string): PlanJob | undefined => {
    const j = jobs.get(id);
    return j === undefined ? undefined : { ...jobView(j), ...j.meta, plan: j.result ?? null };
  };
  const notFound = (id: string) =>
    PlanErrors.OPTIMIZE_PLAN_NOT_FOUND(`no capacity plan ${id} on this server${store === undefined ? ' (plans are kept in memory until it stops)' : ''}`, { details: { id } });
  // a finished plan is written once it ends; a failure to write is logged and the job keeps it
  const persist = async (id: string): Promise<void> => {
    const finished = viewOf(id);
    if (store === undefined || finished === undefined || finished.status === 'running') return;
    try {
      await store.putPlan(finished);
    } catch (error) {
      logger.error({ plan: id, err: error instanceof Error ? error.message : String(error) }, 'a finished capacity plan could not be stored; it is kept in memory only');
    }
  };

  return {
    async start(input) {
      if (closed) throw PlanErrors.OPTIMIZE_PLAN_BUSY('the server is stopping and starts no more plans', { retryAfterSeconds: 5 });
      const target = resolvePlanTarget(input.target);
      const budget = input.budgetSeconds ?? DEFAULT_BUDGET_SECONDS;
      if (!Number.isInteger(budget) || budget < 10 || budget > 600) {
        throw PlanErrors.OPTIMIZE_PLAN_INVALID_OPTIONS(`budgetSeconds: expected a whole number of seconds from 10 to 600, got ${JSON.stringify(input.budgetSeconds)}`, { details: { field: 'budgetSeconds' } });
      }
      const version = await registry.getVersion(input.model, input.version);
      const artifactPath = await registry.artifactPath(input.model, input.version);
      // sample rows are read now, so data that does not fit the model is this request's 400
      let makeInputs: ((rows: number) => ReturnType<typeof batchInputs>) | undefined;
      if (input.data !== undefined) {
        if (options.datasets === undefined) throw PlanErrors.OPTIMIZE_PLAN_INVALID_OPTIONS('data: this server takes no datasets for plans');
        const text = await options.datasets.text(input.data);
        const featureNames = await options.datasets.featureNames(artifactPath);
        const data = readValidationData(text, version.signature, featureNames === undefined ? {} : { featureNames });
        const signature: ModelSignature = version.signature;
        makeInputs = (rows) => batchInputs(signature, data, rows, createSeededRandom(1));
      }
      if (jobs.running().length > 0) {
        throw PlanErrors.OPTIMIZE_PLAN_BUSY('the server is measuring a capacity plan already (plans take every core); retry when it is done', { retryAfterSeconds: 30 });
      }
      const job = jobs.start({ model: version.model, version: version.version }, async (signal, progress) => {
        const measurements = await measurePlan({
          runtime,
          artifactPath,
          label: `${version.model}:${version.version}`,
          signature: version.signature,
          ...(makeInputs === undefined ? {} : { makeInputs }),
          p99TargetMs: target.p99Ms,
          budgetMs: budget * 1000,
          ...(options.sessionOptions === undefined ? {} : { sessionOptions: options.sessionOptions }),
          signal,
          onProgress: (done, total, label) => progress({ stage: label, done, total }),
          clock,
        });
        const plan = recommendPlan(measurements, input.target);
        logger.info({ model: version.model, version: version.version, feasible: plan.feasible }, 'capacity plan measured');
        return plan;
      });
      const stored = job.done.then(
        () => persist(job.id),
        () => persist(job.id),
      );
      writes.add(stored);
      void stored.finally(() => writes.delete(stored));
      return viewOf(job.id) as PlanJob;
    },
    async job(id) {
      const found = viewOf(id) ?? (await store?.getPlan(id));
      if (found === undefined) throw notFound(id);
      return found;
    },
    async list(model, version, limit = 100) {
      const running = jobs
        .running()
        .filter((j) => j.meta.model === model && (version === undefined || j.meta.version === version))
        .map((j) => summarizePlan(viewOf(j.id) as PlanJob));
      const stored = store === undefined ? [] : await store.listPlans(model, version, limit);
      return [...running, ...stored].slice(0, limit);
    },
    async close() {
      closed = true;
      await jobs.close(PlanErrors.OPTIMIZE_PLAN_BUSY('the server is stopping; the plan was not finished', { retryAfterSeconds: 5 }));
      await Promise.all([...writes]);
    },
  };
}
