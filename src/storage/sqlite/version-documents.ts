/**
 * Documents kept with a model version as JSON text — validation reports, capacity plans — in a
 * table with columns `seq` (insertion order), `id`, `model`, `version` and the document's column:
 * read by id, and newest first for a model or one of its versions.
 */
import type { SqliteDatabase } from './database.js';

export interface VersionDocuments<T> {
  get(id: string): T | undefined;
  /** Newest first, of `version` when given, at most `limit`. */
  list(model: string, version: number | undefined, limit: number): T[];
}

export function versionDocuments<T>(db: SqliteDatabase, table: string, column: string): VersionDocuments<T> {
  const byId = db.prepare<[string], { doc: string }>(`SELECT ${column} AS doc FROM ${table} WHERE id = ?`);
  const ofModel = db.prepare<[string, number], { doc: string }>(`SELECT ${column} AS doc FROM ${table} WHERE model = ? ORDER BY seq DESC LIMIT ?`);
  const ofVersion = db.prepare<[string, number, number], { doc: string }>(`SELECT ${column} AS doc FROM ${table} WHERE model = ? AND version = ? ORDER BY seq DESC LIMIT ?`);
  const parse = (text: string): T => JSON.parse(text) as T;
  return {
    get(id) {
      const row = byId.get(id);
      return row === undefined ? undefined : parse(row.doc);
    },
    list(model, version, limit) {
      const rows = version === undefined ? ofModel.all(model, limit) : ofVersion.all(model, version, limit);
      return rows.map((r) => parse(r.doc));
    },
  };
}
