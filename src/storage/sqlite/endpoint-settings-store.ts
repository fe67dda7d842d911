/**
 * Per-endpoint serving settings in SQLite (component `endpoint-settings`, its own migrations), on
 * the database the registry opened.
 */
import type { EndpointSettings, EndpointSettingsStore } from '../../serving/endpoint-settings.js';
import type { SqliteDatabase } from './database.js';
import { migrate, type Migration } from './migrate.js';

export const ENDPOINT_SETTINGS_COMPONENT = 'endpoint-settings';

export const endpointSettingsMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    up(db) {
      db.exec(`
        CREATE TABLE endpoint_settings (
          endpoint TEXT PRIMARY KEY,
          autoscaling TEXT NOT NULL CHECK (json_valid(autoscaling)),
          updated_at TEXT NOT NULL,
          updated_by TEXT NOT NULL
        ) STRICT;
      `);
    },
  },
];

interface Row {
  endpoint: string;
  autoscaling: string;
  updated_at: string;
  updated_by: string;
}

/** Creates the store on an open database, applying its migrations first. */
export function createSqliteEndpointSettingsStore(db: SqliteDatabase): EndpointSettingsStore {
  migrate(db, ENDPOINT_SETTINGS_COMPONENT, endpointSettingsMigrations);
  const select = db.prepare<[string], Row>('SELECT endpoint, autoscaling, updated_at, updated_by FROM endpoint_settings WHERE endpoint = ?');
  const upsert = db.prepare(
    `INSERT INTO endpoint_settings (endpoint, autoscaling, updated_at, updated_by) VALUES (@endpoint, @autoscaling, @updatedAt, @updatedBy)
     ON CONFLICT (endpoint) DO UPDATE SET autoscaling = excluded.autoscaling, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
  );
  const remove = db.prepare('DELETE FROM endpoint_settings WHERE endpoint = ?');
  return {
    get(endpoint) {
      const row = select.get(endpoint);
      if (row === undefined) return undefined;
      return { endpoint: row.endpoint, autoscaling: JSON.parse(row.autoscaling) as EndpointSettings['autoscaling'], updatedAt: row.updated_at, updatedBy: row.updated_by };
    },
    put(settings) {
      upsert.run({ endpoint: settings.endpoint, autoscaling: JSON.stringify(settings.autoscaling), updatedAt: settings.updatedAt, updatedBy: settings.updatedBy });
    },
    delete(endpoint) {
      remove.run(endpoint);
    },
  };
}
