/** Drift results in memory, for tests and embedding; the same contract as the SQLite store. */
import type { DriftResult, DriftResultStore } from '../../monitoring/drift/ports.js';

export function createMemoryDriftResultStore(): DriftResultStore {
  const results: DriftResult[] = [];
  return {
    async put(result) {
      results.push(structuredClone(result));
    },
    async list(endpoint, query) {
      const out: DriftResult[] = [];
      for (let i = results.length - 1; i >= 0 && out.length < query.limit; i--) {
        const r = results[i] as DriftResult;
        if (r.endpoint === endpoint && (query.version === undefined || r.version === query.version)) out.push(structuredClone(r));
      }
      return out;
    },
    async prune(keep) {
      const seen = new Map<string, number>();
      let removed = 0;
      for (let i = results.length - 1; i >= 0; i--) {
        const r = results[i] as DriftResult;
        const n = (seen.get(r.endpoint) ?? 0) + 1;
        seen.set(r.endpoint, n);
        if (n > keep) {
          results.splice(i, 1);
          removed++;
        }
      }
      return removed;
    },
  };
}
