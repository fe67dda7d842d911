/**
 * What validation needs from storage: finished reports (kept with their version, newest first) and
 * the records of uploaded datasets (their bytes live in the blob store, by digest). Adapters live in
 * src/storage (memory for tests, SQLite by default); both pass the contract suite in
 * test/unit/storage/pre-deployment-stores.test.ts. A report handed to `putReport` is copied; what
 * comes back never aliases the store's state.
 */
import type { ValidationReport, ValidationSummary } from './types.js';

/** An uploaded dataset: a CSV stored in the blob store under its digest. */
export interface DatasetRecord {
  /** `sha256:<64 hex>` of the bytes. */
  readonly digest: string;
  /** The file's name as the uploader gave it, for people. */
  readonly name: string;
  readonly sizeBytes: number;
  readonly createdAt: string;
  readonly createdBy: string;
}

export interface ValidationStore {
  putReport(report: ValidationReport): Promise<void>;
  getReport(id: string): Promise<ValidationReport | undefined>;
  /** Summaries of a model's reports (of one version when given), newest first, at most `limit`. */
  listReports(model: string, version?: number, limit?: number): Promise<ValidationSummary[]>;
  /** The newest report of a version, or undefined. */
  latestReport(model: string, version: number): Promise<ValidationReport | undefined>;
  /** Records a dataset; a second upload of the same bytes keeps the first record. */
  putDataset(record: DatasetRecord): Promise<DatasetRecord>;
  getDataset(digest: string): Promise<DatasetRecord | undefined>;
  listDatasets(): Promise<DatasetRecord[]>;
}
