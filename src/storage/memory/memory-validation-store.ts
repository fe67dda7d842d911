/**
 * An in-memory ValidationStore for unit tests and throw-away runs. Reports are kept as JSON text,
 * so what goes in and what comes out never alias each other (as with the SQLite adapter).
 */
import type { DatasetRecord, ValidationStore } from '../../validate/ports.js';
import { summarizeReport, type ValidationReport } from '../../validate/types.js';

export function createMemoryValidationStore(): ValidationStore {
  // in insertion order: newest last
  const reports: { id: string; model: string; version: number; text: string }[] = [];
  const datasets = new Map<string, DatasetRecord>();
  const parse = (text: string): ValidationReport => JSON.parse(text) as ValidationReport;
  return {
    async putReport(report) {
      const text = JSON.stringify(report);
      const at = reports.findIndex((r) => r.id === report.id);
      if (at >= 0) reports.splice(at, 1);
      reports.push({ id: report.id, model: report.model, version: report.version, text });
    },
    async getReport(id) {
      const found = reports.find((r) => r.id === id);
      return found === undefined ? undefined : parse(found.text);
    },
    async listReports(model, version, limit = 100) {
      return reports
        .filter((r) => r.model === model && (version === undefined || r.version === version))
        .reverse()
        .slice(0, limit)
        .map((r) => summarizeReport(parse(r.text)));
    },
    async latestReport(model, version) {
      for (let i = reports.length - 1; i >= 0; i--) {
        const r = reports[i];
        if (r !== undefined && r.model === model && r.version === version) return parse(r.text);
      }
      return undefined;
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
