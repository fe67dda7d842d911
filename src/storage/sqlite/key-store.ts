/**
 * API keys in SQLite (component `keys`, its own migrations) on the database the registry opened.
 * A row holds the token's SHA-256, never the token. Keys are few and read whole at start.
 */
import type { ApiKeyRecord, KeyStore } from '../../security/keys/index.js';
import type { SqliteDatabase } from './database.js';
import { migrate, type Migration } from './migrate.js';

export const KEYS_COMPONENT = 'keys';

export const keyMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'api-keys',
    up(db) {
      db.exec(`
        CREATE TABLE api_keys (
          id TEXT PRIMARY KEY,
          hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),
          record TEXT NOT NULL CHECK (json_valid(record))
        ) STRICT;
      `);
    },
  },
];

export function createSqliteKeyStore(db: SqliteDatabase): KeyStore {
  migrate(db, KEYS_COMPONENT, keyMigrations);
  const all = db.prepare<[], { record: string }>('SELECT record FROM api_keys ORDER BY rowid');
  const insert = db.prepare<[string, string, string]>('INSERT INTO api_keys (id, hash, record) VALUES (?, ?, ?)');
  const update = db.prepare<[string, string]>('UPDATE api_keys SET record = ? WHERE id = ?');
  return {
    async list() {
      return all.all().map((row) => JSON.parse(row.record) as ApiKeyRecord);
    },
    async insert(record) {
      insert.run(record.id, record.hash, JSON.stringify(record));
    },
    async update(record) {
      return update.run(JSON.stringify(record), record.id).changes > 0;
    },
  };
}
