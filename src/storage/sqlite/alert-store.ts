/**
 * Alert rules made through the API and the alert history in SQLite (component `alerts`, its own
 * migrations), on the database the registry opened. Rules are kept as their canonical JSON and
 * compiled by alerting when loaded; history is bounded by a count, the oldest going first.
 */
import type { AlertHistoryEvent, AlertStore, AlertView, StoredAlertRule } from '../../monitoring/alerts/index.js';
import type { SqliteDatabase } from './database.js';
import { writeTransaction } from './database.js';
import { migrate, type Migration } from './migrate.js';

export const ALERTS_COMPONENT = 'alerts';

export const alertMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'rules-and-history',
    up(db) {
      db.exec(`
        CREATE TABLE alert_rules (
          name TEXT PRIMARY KEY,
          spec TEXT NOT NULL CHECK (json_valid(spec)),
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          updated_by TEXT NOT NULL
        ) STRICT;

        -- seq orders events; count-based retention removes the lowest first
        CREATE TABLE alert_history (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          at TEXT NOT NULL,
          type TEXT NOT NULL CHECK (type IN ('firing', 'resolved', 'action')),
          rule TEXT NOT NULL,
          fingerprint TEXT NOT NULL,
          severity TEXT NOT NULL,
          message TEXT NOT NULL,
          alert TEXT NOT NULL CHECK (json_valid(alert))
        ) STRICT;
        CREATE INDEX alert_history_by_rule ON alert_history (rule, seq);
      `);
    },
  },
];

interface RuleRow {
  name: string;
  spec: string;
  created_at: number;
  updated_at: number;
  updated_by: string;
}

interface HistoryRow {
  seq: number;
  at: string;
  type: AlertHistoryEvent['type'];
  rule: string;
  fingerprint: string;
  severity: AlertHistoryEvent['severity'];
  message: string;
  alert: string;
}

function toEvent(row: HistoryRow): AlertHistoryEvent {
  return { id: row.seq, at: row.at, type: row.type, rule: row.rule, fingerprint: row.fingerprint, severity: row.severity, message: row.message, alert: JSON.parse(row.alert) as AlertView };
}

/** Creates the store on an open database (usually the registry's; never closed here), applying its migrations first. */
export function createSqliteAlertStore(db: SqliteDatabase): AlertStore {
  migrate(db, ALERTS_COMPONENT, alertMigrations);
  const listRules = db.prepare<[], RuleRow>('SELECT name, spec, created_at, updated_at, updated_by FROM alert_rules ORDER BY name');
  const exists = db.prepare<[string], { n: number }>('SELECT 1 AS n FROM alert_rules WHERE name = ?');
  const upsert = db.prepare(
    `INSERT INTO alert_rules (name, spec, created_at, updated_at, updated_by) VALUES (@name, @spec, @at, @at, @by)
     ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
  );
  const removeRule = db.prepare('DELETE FROM alert_rules WHERE name = ?');
  const insertEvent = db.prepare<[string, string, string, string, string, string, string], HistoryRow>(
    'INSERT INTO alert_history (at, type, rule, fingerprint, severity, message, alert) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *',
  );
  const prune = db.prepare('DELETE FROM alert_history WHERE seq <= ?');
  const newest = db.prepare<[number], HistoryRow>('SELECT * FROM alert_history ORDER BY seq DESC LIMIT ?');
  const newestOfRule = db.prepare<[string, number], HistoryRow>('SELECT * FROM alert_history WHERE rule = ? ORDER BY seq DESC LIMIT ?');

  return {
    async listRules(): Promise<StoredAlertRule[]> {
      return listRules.all().map((r) => ({ name: r.name, spec: JSON.parse(r.spec) as Record<string, unknown>, createdAt: r.created_at, updatedAt: r.updated_at, updatedBy: r.updated_by }));
    },
    async putRule({ name, spec, at, by }) {
      return writeTransaction(db, () => {
        const created = exists.get(name) === undefined;
        upsert.run({ name, spec: JSON.stringify(spec), at, by });
        return { created };
      });
    },
    async deleteRule(name) {
      return removeRule.run(name).changes > 0;
    },
    async appendHistory(event, maxEvents) {
      return writeTransaction(db, () => {
        const row = insertEvent.get(event.at, event.type, event.rule, event.fingerprint, event.severity, event.message, JSON.stringify(event.alert));
        if (row === undefined) throw new Error('the history insert returned no row');
        // seq is AUTOINCREMENT, so ids are never reused and "beyond maxEvents" is a range
        if (row.seq > maxEvents) prune.run(row.seq - maxEvents);
        return toEvent(row);
      });
    },
    async listHistory({ limit, rule }) {
      return (rule === undefined ? newest.all(limit) : newestOfRule.all(rule, limit)).map(toEvent);
    },
  };
}
