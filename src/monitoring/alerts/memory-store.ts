/** An in-memory {@link AlertStore} for tests and for running without a data directory. */
import type { AlertStore, StoredAlertRule } from './ports.js';
import type { AlertHistoryEvent } from './types.js';

export function createMemoryAlertStore(): AlertStore {
  const rules = new Map<string, StoredAlertRule>();
  let history: AlertHistoryEvent[] = [];
  let nextId = 1;
  return {
    async listRules() {
      return [...rules.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    async putRule({ name, spec, at, by }) {
      const existing = rules.get(name);
      rules.set(name, { name, spec: structuredClone(spec), createdAt: existing?.createdAt ?? at, updatedAt: at, updatedBy: by });
      return { created: existing === undefined };
    },
    async deleteRule(name) {
      return rules.delete(name);
    },
    async appendHistory(event, maxEvents) {
      const stored: AlertHistoryEvent = { id: nextId++, ...structuredClone(event) };
      history.push(stored);
      if (history.length > maxEvents) history = history.slice(history.length - maxEvents);
      return stored;
    },
    async listHistory({ limit, rule }) {
      const out: AlertHistoryEvent[] = [];
      for (let i = history.length - 1; i >= 0 && out.length < limit; i--) {
        const e = history[i];
        if (e !== undefined && (rule === undefined || e.rule === rule)) out.push(structuredClone(e));
      }
      return out;
    },
  };
}
