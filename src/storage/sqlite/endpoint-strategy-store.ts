/**
 * Applied endpoint strategies in SQLite (component `endpoint-strategies`, its own migrations), on
 * the database the registry opened. One row per endpoint that has a strategy; `slipway apply`
 * without one deletes the row.
 */
import type { EndpointStrategy, EndpointStrategyStore } from '../../rollout/controller/endpoint-strategies.js';
import type { RolloutStrategy } from '../../rollout/spec/index.js';
import type { SqliteDatabase } from './database.js';
import { migrate, type Migration } from './migrate.js';

export const ENDPOINT_STRATEGIES_COMPONENT = 'endpoint-strategies';

export const endpointStrategyMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    up(db) {
      db.exec(`
        CREATE TABLE endpoint_strategies (
          endpoint TEXT PRIMARY KEY,
          strategy TEXT NOT NULL CHECK (json_valid(strategy)),
          stable_version INTEGER NOT NULL CHECK (stable_version >= 1),
          applied_at INTEGER NOT NULL,
          applied_by TEXT NOT NULL
        ) STRICT;
      `);
    },
  },
  {
    version: 2,
    name: 'model',
    up(db) {
      // the model the strategy was applied for: a held stable version means nothing for another model
      db.exec(`ALTER TABLE endpoint_strategies ADD COLUMN model TEXT;`);
    },
  },
];

interface Row {
  endpoint: string;
  model: string | null;
  strategy: string;
  stable_version: number;
  applied_at: number;
  applied_by: string;
}

const fromRow = (row: Row): EndpointStrategy => ({
  endpoint: row.endpoint,
  model: row.model,
  strategy: JSON.parse(row.strategy) as RolloutStrategy,
  stableVersion: row.stable_version,
  appliedAt: row.applied_at,
  appliedBy: row.applied_by,
});

/** Creates the store on an open database, applying its migrations first. */
export function createSqliteEndpointStrategyStore(db: SqliteDatabase): EndpointStrategyStore {
  migrate(db, ENDPOINT_STRATEGIES_COMPONENT, endpointStrategyMigrations);
  const columns = 'endpoint, model, strategy, stable_version, applied_at, applied_by';
  const select = db.prepare<[string], Row>(`SELECT ${columns} FROM endpoint_strategies WHERE endpoint = ?`);
  const all = db.prepare<[], Row>(`SELECT ${columns} FROM endpoint_strategies ORDER BY endpoint`);
  const upsert = db.prepare(
    `INSERT INTO endpoint_strategies (${columns}) VALUES (@endpoint, @model, @strategy, @stableVersion, @appliedAt, @appliedBy)
     ON CONFLICT (endpoint) DO UPDATE SET model = excluded.model, strategy = excluded.strategy, stable_version = excluded.stable_version,
       applied_at = excluded.applied_at, applied_by = excluded.applied_by`,
  );
  const remove = db.prepare('DELETE FROM endpoint_strategies WHERE endpoint = ?');
  return {
    get(endpoint) {
      const row = select.get(endpoint);
      return row === undefined ? undefined : fromRow(row);
    },
    list: () => all.all().map(fromRow),
    put(record) {
      upsert.run({ ...record, strategy: JSON.stringify(record.strategy) });
    },
    delete(endpoint) {
      remove.run(endpoint);
    },
  };
}
