/**
 * Finished capacity plans in SQLite (component `plans`, its own migrations), on the database the
 * registry opened. A plan is one row, its JSON text beside the columns lists need; plans of a
 * version are read newest first by their insertion sequence.
 */
import { summarizePlan, type PlanStore } from '../../optimize/plan/ports.js';
import type { PlanJob } from '../../optimize/plan/service.js';
import type { SqliteDatabase } from './database.js';
import { migrate, type Migration } from './migrate.js';
import { versionDocuments } from './version-documents.js';

export const PLANS_COMPONENT = 'plans';

export const planMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    up(db) {
      db.exec(`
        CREATE TABLE capacity_plans (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          id TEXT NOT NULL UNIQUE,
          model TEXT NOT NULL,
          version INTEGER NOT NULL CHECK (version >= 1),
          status TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
          finished_at TEXT,
          job TEXT NOT NULL CHECK (json_valid(job))
        ) STRICT;
        CREATE INDEX capacity_plans_by_version ON capacity_plans (model, version, seq);
      `);
    },
  },
];

/** Creates the store on an open database (usually the registry's; never closed here), applying its migrations first. */
export function createSqlitePlanStore(db: SqliteDatabase): PlanStore {
  migrate(db, PLANS_COMPONENT, planMigrations);
  const insert = db.prepare(
    `INSERT INTO capacity_plans (id, model, version, status, finished_at, job) VALUES (@id, @model, @version, @status, @finishedAt, @job)
     ON CONFLICT (id) DO UPDATE SET status = excluded.status, finished_at = excluded.finished_at, job = excluded.job`,
  );
  const docs = versionDocuments<PlanJob>(db, 'capacity_plans', 'job');
  return {
    async putPlan(plan) {
      insert.run({ id: plan.id, model: plan.model, version: plan.version, status: plan.status, finishedAt: plan.finishedAt, job: JSON.stringify(plan) });
    },
    async getPlan(id) {
      return docs.get(id);
    },
    async listPlans(model, version, limit = 100) {
      return docs.list(model, version, limit).map(summarizePlan);
    },
  };
}
