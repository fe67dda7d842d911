/**
 * Reference profiles in SQLite (component `profiles`, its own migrations), on the database the
 * registry opened. One row per model version that has a profile, the profile as JSON text.
 */
import type { ProfileStore, ReferenceProfile } from '../../monitoring/profiles/index.js';
import type { SqliteDatabase } from './database.js';
import { migrate, type Migration } from './migrate.js';

export const PROFILES_COMPONENT = 'profiles';

export const profileMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    up(db) {
      db.exec(`
        CREATE TABLE reference_profiles (
          model TEXT NOT NULL,
          version INTEGER NOT NULL CHECK (version >= 1),
          profile TEXT NOT NULL CHECK (json_valid(profile)),
          rows INTEGER NOT NULL,
          created_at INTEGER NOT NULL,
          created_by TEXT NOT NULL,
          PRIMARY KEY (model, version)
        ) STRICT;
      `);
    },
  },
];

/** Creates the store on an open database (usually the registry's; never closed here), applying its migrations first. */
export function createSqliteProfileStore(db: SqliteDatabase): ProfileStore {
  migrate(db, PROFILES_COMPONENT, profileMigrations);
  const select = db.prepare<[string, number], { profile: string }>('SELECT profile FROM reference_profiles WHERE model = ? AND version = ?');
  const upsert = db.prepare(
    `INSERT INTO reference_profiles (model, version, profile, rows, created_at, created_by) VALUES (@model, @version, @profile, @rows, @createdAt, @createdBy)
     ON CONFLICT (model, version) DO UPDATE SET profile = excluded.profile, rows = excluded.rows, created_at = excluded.created_at, created_by = excluded.created_by`,
  );
  const remove = db.prepare('DELETE FROM reference_profiles WHERE model = ? AND version = ?');
  return {
    async get(model, version) {
      const row = select.get(model, version);
      return row === undefined ? undefined : (JSON.parse(row.profile) as ReferenceProfile);
    },
    async put(profile) {
      upsert.run({ model: profile.model, version: profile.version, profile: JSON.stringify(profile), rows: profile.rows, createdAt: profile.createdAt, createdBy: profile.createdBy });
    },
    async delete(model, version) {
      return remove.run(model, version).changes > 0;
    },
  };
}
