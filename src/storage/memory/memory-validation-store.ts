/**
 * An in-memory ValidationStore for unit tests and throw-away runs. Reports are kept as JSON text,
 * so what goes in and what comes out never alias each other (as with the SQLite adapter).
 */
import type { DatasetRecord, ValidationStore } from '../../validate/ports.js';
import { summarizeReport, type ValidationReport } from '../../validate/types.js';
import { memoryVersionDocuments } from './version-documents.js';

export function createMemoryValidationStore(): ValidationStore {
  const reports = memoryVersionDocuments<ValidationReport>();
  const datasets = new Map<string, DatasetRecord>();
  return {
    async putReport(report) {
      reports.put(report);
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
      const existing = datasets.get(record.digest);
      if (existing !== undefined) return { ...existing };
      datasets.set(record.digest, { ...record });
      return { ...record };
    },
    async getDataset(digest) {
      const found = datasets.get(digest);
      return found === undefined ? undefined : { ...found };
    },
    async listDatasets() {
      return [...datasets.values()].reverse().map((d) => ({ ...d }));
    },
  };
}
