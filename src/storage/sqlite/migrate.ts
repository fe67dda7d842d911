/**
 * Versioned schema migrations. Each component (the registry now; rollouts, audit… later) owns a
 * numbered list; the `schema_migrations` table records which of them a database has applied.
 */
import { systemClock, type Clock } from '../../core/index.js';
import { StorageErrors } from '../errors.js';
import { writeTransaction, type SqliteDatabase } from './database.js';

/** One schema change. Never edit a released migration: add the next one. */
export interface Migration {
  /** 1, 2, 3 … within its component. */
  readonly version: number;
  /** A short slug for the record and for errors, e.g. `initial` or `endpoint-labels`. */
  readonly name: string;
  /**
   * Applies the change. Runs inside the migration's transaction, so it must not change pragmas
   * that SQLite ignores inside one (foreign_keys, journal_mode).
   */
  up(db: SqliteDatabase): void;
}

export interface MigrationOutcome {
  readonly component: string;
  /** Schema version before and after. */
  readonly from: number;
  readonly to: number;
  /** Names of the migrations this call applied, in order. */
  readonly applied: readonly string[];
}

export interface MigrateOptions {
  readonly clock?: Clock;
}

const CREATE_TABLE = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (component, version)
  ) STRICT`;

/** The schema version of `component` recorded in the database (0 when none). */
export function schemaVersion(db: SqliteDatabase, component: string): number {
  db.exec(CREATE_TABLE);
  const row = db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations WHERE component = ?').get(component) as {
    v: number;
  };
  return row.v;
}

/**
 * Brings `component`'s schema up to the last migration, each migration in its own write
 * transaction together with its record, so a failure or crash leaves the previous version intact.
 * Safe against another process migrating at the same time (the version is re-read under the lock).
 * Throws STORAGE_SCHEMA_TOO_NEW when the database is ahead of this build, and
 * STORAGE_MIGRATION_FAILED (after rolling back) when a migration throws.
 */
export function migrate(
  db: SqliteDatabase,
  component: string,
  migrations: readonly Migration[],
  options: MigrateOptions = {},
): MigrationOutcome {
  const clock = options.clock ?? systemClock;
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new Error(`migrations of ${component} must be numbered 1, 2, 3 … in order; #${i} is ${m.version}`);
    }
  });
  const latest = migrations.length;
  const from = schemaVersion(db, component);
  if (from > latest) {
    throw StorageErrors.STORAGE_SCHEMA_TOO_NEW(
      `database "${db.name}" has ${component} schema version ${from}, but this Slipway knows versions up to ${latest}: it was written by a newer Slipway; run that version or restore a backup`,
      { details: { path: db.name, component, databaseVersion: from, supportedVersion: latest } },
    );
  }
  const applied: string[] = [];
  for (const migration of migrations.slice(from)) {
    try {
      writeTransaction(db, () => {
        // another process may have applied it since we looked
        if (schemaVersion(db, component) >= migration.version) return;
        migration.up(db);
        db.prepare('INSERT INTO schema_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)').run(
          component,
          migration.version,
          migration.name,
          new Date(clock.now()).toISOString(),
        );
        applied.push(migration.name);
      });
    } catch (error) {
      throw StorageErrors.STORAGE_MIGRATION_FAILED(
        `migration ${component} #${migration.version} (${migration.name}) failed and was rolled back: ${(error as Error).message}`,
        { details: { path: db.name, component, version: migration.version, name: migration.name }, cause: error },
      );
    }
  }
  return { component, from, to: schemaVersion(db, component), applied };
}
