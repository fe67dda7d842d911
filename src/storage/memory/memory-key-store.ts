/** API keys in memory, for unit tests; the same contract as the SQLite store. */
import type { ApiKeyRecord, KeyStore } from '../../security/keys/index.js';

export function createMemoryKeyStore(): KeyStore {
  const rows = new Map<string, ApiKeyRecord>();
  return {
    async list() {
      return [...rows.values()].map((r) => structuredClone(r));
    },
    async insert(record) {
      if (rows.has(record.id) || [...rows.values()].some((r) => r.hash === record.hash)) throw new Error(`key ${record.id} or its hash exists already`);
      rows.set(record.id, structuredClone(record));
    },
    async update(record) {
      if (!rows.has(record.id)) return false;
      rows.set(record.id, structuredClone(record));
      return true;
    },
  };
}
