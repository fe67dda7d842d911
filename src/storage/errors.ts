/** The storage adapters' error table: the data directory, the SQLite database and the blob store. */
import { defineErrors } from '../core/index.js';

export const StorageErrors = defineErrors({
  STORAGE_DATA_DIR_LOCKED: {
    kind: 'conflict',
    help: 'Another Slipway server holds the data directory lock; stop it, or use another --data-dir. If no server runs, delete the lock file named in the message.',
  },
  STORAGE_DATA_DIR_UNUSABLE: {
    kind: 'invalid',
    help: 'The data directory path is not a directory or cannot be created or written; fix the path or its permissions.',
  },
  STORAGE_SCHEMA_TOO_NEW: {
    kind: 'conflict',
    help: 'The database was written by a newer Slipway with a schema this version does not know; run that newer version, or restore a backup made by this one.',
  },
  STORAGE_MIGRATION_FAILED: {
    kind: 'internal',
    help: 'A database schema migration failed and was rolled back, leaving the database as it was; the message names the migration and the cause.',
  },
  STORAGE_DATABASE_UNUSABLE: {
    kind: 'internal',
    help: 'The SQLite database could not be opened or configured (not a database, no WAL support on this file system, …); the message has the cause.',
  },
  STORAGE_INVALID_DIGEST: {
    kind: 'invalid',
    help: 'A blob digest must be "sha256:" followed by 64 lowercase hex digits.',
  },
});
