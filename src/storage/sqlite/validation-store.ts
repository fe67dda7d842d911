/**
 * Validation reports and dataset records in SQLite (component `validation`, its own migrations), on
 * the database the registry opened. A report is one row, its JSON text beside the columns lists
 * need; reports of a version are read newest first by their insertion sequence.
 */
import type { DatasetRecord, ValidationStore } from '../../validate/ports.js';
import { summarizeReport, type ValidationReport } from '../../validate/types.js';
import type { SqliteDatabase } from './database.js';
import { migrate, type Migration } from './migrate.js';
import { versionDocuments } from './version-documents.js';

export const VALIDATION_COMPONENT = 'validation';

export const validationMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    up(db) {
      db.exec(`
        CREATE TABLE validation_reports (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          id TEXT NOT NULL UNIQUE,
          model TEXT NOT NULL,
          version INTEGER NOT NULL CHECK (version >= 1),
          passed INTEGER NOT NULL CHECK (passed IN (0, 1)),
          created_at TEXT NOT NULL,
          report TEXT NOT NULL CHECK (json_valid(report))
        ) STRICT;
        CREATE INDEX validation_reports_by_version ON validation_reports (model, version, seq);
        CREATE TABLE datasets (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          digest TEXT NOT NULL UNIQUE,
          name TEXT NOT NULL,
          size_bytes INTEGER NOT NULL,
          created_at TEXT NOT NULL,
          created_by TEXT NOT NULL
        ) STRICT;
      `);
    },
  },
];

interface DatasetRow {
  digest: string;
  name: string;
  size_bytes: number;
  created_at: string;
  created_by: string;
}

const toDataset = (r: DatasetRow): DatasetRecord => ({ digest: r.digest, name: r.name, sizeBytes: r.size_bytes, createdAt: r.created_at, createdBy: r.created_by });

/** Creates the store on an open database (usually the registry's; never closed here), applying its migrations first. */
export function createSqliteValidationStore(db: SqliteDatabase): ValidationStore {
  migrate(db, VALIDATION_COMPONENT, validationMigrations);
  const insert = db.prepare(
    `INSERT INTO validation_reports (id, model, version, passed, created_at, report) VALUES (@id, @model, @version, @passed, @createdAt, @report)
     ON CONFLICT (id) DO UPDATE SET passed = excluded.passed, report = excluded.report`,
  );
  const reports = versionDocuments<ValidationReport>(db, 'validation_reports', 'report');
  const insertDataset = db.prepare('INSERT INTO datasets (digest, name, size_bytes, created_at, created_by) VALUES (@digest, @name, @sizeBytes, @createdAt, @createdBy) ON CONFLICT (digest) DO NOTHING');
  const dataset = db.prepare<[string], DatasetRow>('SELECT digest, name, size_bytes, created_at, created_by FROM datasets WHERE digest = ?');
  const allDatasets = db.prepare<[], DatasetRow>('SELECT digest, name, size_bytes, created_at, created_by FROM datasets ORDER BY seq DESC');
  return {
    async putReport(report) {
      insert.run({ id: report.id, model: report.model, version: report.version, passed: report.passed ? 1 : 0, createdAt: report.createdAt, report: JSON.stringify(report) });
    },
    async getReport(id) {
      return reports.get(id);
    },
    async listReports(model, version, limit = 100) {
      return reports.list(model, version, limit).map(summarizeReport);
    },
    async latestReport(model, version) {
      return reports.list(model, version, 1)[0];
    },
    async putDataset(record) {
      insertDataset.run(record);
      return toDataset(dataset.get(record.digest) as DatasetRow);
    },
    async getDataset(digest) {
      const row = dataset.get(digest);
      return row === undefined ? undefined : toDataset(row);
    },
    async listDatasets() {
      return allDatasets.all().map(toDataset);
    },
  };
}
