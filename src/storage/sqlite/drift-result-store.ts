/**
 * Drift results in SQLite (component `drift-results`, its own migrations), on the database the
 * registry opened: one row per closed window's check, the report as JSON text.
 */
import type { DriftResult, DriftResultStore } from '../../monitoring/drift/ports.js';
import type { DriftReport } from '../../monitoring/drift/types.js';
import type { SqliteDatabase } from './database.js';
import { migrate, type Migration } from './migrate.js';

export const DRIFT_RESULTS_COMPONENT = 'drift-results';

export const driftResultMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    up(db) {
      db.exec(`
        CREATE TABLE drift_results (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          endpoint TEXT NOT NULL,
          model TEXT NOT NULL,
          version INTEGER NOT NULL CHECK (version >= 1),
          at INTEGER NOT NULL,
          status TEXT NOT NULL,
          report TEXT NOT NULL CHECK (json_valid(report))
        ) STRICT;
        CREATE INDEX drift_results_by_endpoint ON drift_results (endpoint, id);
      `);
    },
  },
];

interface Row {
  readonly endpoint: string;
  readonly model: string;
  readonly version: number;
  readonly at: number;
  readonly report: string;
}

/** Creates the store on an open database (usually the registry's; never closed here), applying its migrations first. */
export function createSqliteDriftResultStore(db: SqliteDatabase): DriftResultStore {
  migrate(db, DRIFT_RESULTS_COMPONENT, driftResultMigrations);
  const insert = db.prepare('INSERT INTO drift_results (endpoint, model, version, at, status, report) VALUES (@endpoint, @model, @version, @at, @status, @report)');
  const byEndpoint = db.prepare<[string, number], Row>('SELECT endpoint, model, version, at, report FROM drift_results WHERE endpoint = ? ORDER BY id DESC LIMIT ?');
  const byVersion = db.prepare<[string, number, number], Row>('SELECT endpoint, model, version, at, report FROM drift_results WHERE endpoint = ? AND version = ? ORDER BY id DESC LIMIT ?');
  const prune = db.prepare<[number], never>(
    `DELETE FROM drift_results WHERE id IN (
       SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY endpoint ORDER BY id DESC) AS n FROM drift_results) WHERE n > ?
     )`,
  );
  const toResult = (r: Row): DriftResult => ({ endpoint: r.endpoint, model: r.model, version: r.version, at: r.at, report: JSON.parse(r.report) as DriftReport });
  return {
    async put(result) {
      insert.run({ endpoint: result.endpoint, model: result.model, version: result.version, at: result.at, status: result.report.status, report: JSON.stringify(result.report) });
    },
    async list(endpoint, query) {
      const rows = query.version === undefined ? byEndpoint.all(endpoint, query.limit) : byVersion.all(endpoint, query.version, query.limit);
      return rows.map(toResult);
    },
    async prune(keep) {
      return prune.run(keep).changes;
    },
  };
}
