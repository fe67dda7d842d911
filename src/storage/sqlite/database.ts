/**
 * Opens a SQLite database the way every Slipway store needs it: write-ahead log, full fsync on
 * commit, foreign keys enforced, and a busy timeout so concurrent writers wait instead of failing.
 */
import Database from 'better-sqlite3';
import { StorageErrors } from '../errors.js';

/** An open better-sqlite3 connection. */
export type SqliteDatabase = Database.Database;

export interface SqliteDatabaseOptions {
  /** How long a write waits for another connection's write lock before SQLITE_BUSY. Default 5000. */
  readonly busyTimeoutMs?: number;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating if missing) a database file with WAL, `synchronous = FULL`, foreign keys on and
 * a busy timeout. `:memory:` works too (without WAL, which needs a file). Throws
 * STORAGE_DATABASE_UNUSABLE when the file is not a database or cannot be configured.
 */
export function openSqliteDatabase(path: string, options: SqliteDatabaseOptions = {}): SqliteDatabase {
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  let db: SqliteDatabase;
  try {
    db = new Database(path, { timeout: busyTimeoutMs });
  } catch (error) {
    throw StorageErrors.STORAGE_DATABASE_UNUSABLE(`cannot open database "${path}": ${(error as Error).message}`, {
      details: { path },
      cause: error,
    });
  }
  try {
    // WAL: readers never block the writer, and a commit is one append to the log (crash-safe).
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal' && path !== ':memory:') {
      throw new Error(`the file system refused write-ahead logging (journal_mode is ${String(mode)})`);
    }
    // FULL: the log is fsynced at every commit, so a committed change survives power loss too.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    return db;
  } catch (error) {
    db.close();
    throw StorageErrors.STORAGE_DATABASE_UNUSABLE(`cannot use database "${path}": ${(error as Error).message}`, {
      details: { path },
      cause: error,
    });
  }
}

/**
 * Runs `fn` in one write transaction taken with BEGIN IMMEDIATE: the write lock is held from the
 * start, so two connections never both read "next number is 4" and the busy timeout applies.
 */
export function writeTransaction<T>(db: SqliteDatabase, fn: () => T): T {
  return db.transaction(fn).immediate();
}

/** `PRAGMA integrity_check` and `PRAGMA foreign_key_check` results; `['ok']` when both are clean. */
export function checkDatabaseIntegrity(db: SqliteDatabase): string[] {
  const integrity = db.pragma('integrity_check', { simple: false }) as { integrity_check: string }[];
  const problems = integrity.map((r) => r.integrity_check).filter((r) => r !== 'ok');
  const fk = db.pragma('foreign_key_check', { simple: false }) as { table: string; rowid: number; parent: string }[];
  for (const row of fk) problems.push(`foreign key: row ${row.rowid} of ${row.table} points at a missing ${row.parent}`);
  return problems.length === 0 ? ['ok'] : problems;
}
