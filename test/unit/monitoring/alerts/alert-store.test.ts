import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createMemoryAlertStore, type AlertStore, type AlertView, type NewAlertHistoryEvent } from '../../../../src/monitoring/alerts/index.js';
import { openSqliteDatabase, schemaVersion } from '../../../../src/storage/index.js';
import { ALERTS_COMPONENT, alertMigrations, createSqliteAlertStore } from '../../../../src/storage/sqlite/alert-store.js';

const T0 = Date.UTC(2026, 0, 1);

function event(rule: string, type: NewAlertHistoryEvent['type'], i: number): NewAlertHistoryEvent {
  const alert = { rule, fingerprint: `fp-${rule}`, severity: 'warning', labels: { endpoint: 'shop' }, endpoint: 'shop', value: i, evidence: { figures: { metric: 'm', reduce: 'value', value: i, series: 1, windowSeconds: 300, coveredSeconds: 0 }, details: { features: ['a'] } } } as unknown as AlertView;
  return { at: new Date(T0 + i * 1000).toISOString(), type, rule, fingerprint: `fp-${rule}`, severity: 'warning', message: `${rule} ${type} ${i}`, alert };
}

/** One suite, run against every AlertStore adapter. */
function alertStoreContract(name: string, open: () => { store: AlertStore; cleanup: () => void }): void {
  describe(`alert store contract: ${name}`, () => {
    test('creates, replaces, lists and deletes rules', async () => {
      const { store, cleanup } = open();
      try {
        assert.deepEqual(await store.putRule({ name: 'b-rule', spec: { name: 'b-rule', metric: 'm', threshold: 1 }, at: T0, by: 'ann' }), { created: true });
        assert.deepEqual(await store.putRule({ name: 'a-rule', spec: { name: 'a-rule', metric: 'm', threshold: 2 }, at: T0, by: 'ann' }), { created: true });
        assert.deepEqual(await store.putRule({ name: 'b-rule', spec: { name: 'b-rule', metric: 'm', threshold: 3 }, at: T0 + 5000, by: 'bob' }), { created: false });
        const rules = await store.listRules();
        assert.deepEqual(rules.map((r) => r.name), ['a-rule', 'b-rule']);
        assert.deepEqual(rules[1], { name: 'b-rule', spec: { name: 'b-rule', metric: 'm', threshold: 3 }, createdAt: T0, updatedAt: T0 + 5000, updatedBy: 'bob' });
        assert.equal(await store.deleteRule('a-rule'), true);
        assert.equal(await store.deleteRule('a-rule'), false);
        assert.deepEqual((await store.listRules()).map((r) => r.name), ['b-rule']);
      } finally {
        cleanup();
      }
    });

    test('numbers history events, lists them newest first by rule, and keeps only maxEvents', async () => {
      const { store, cleanup } = open();
      try {
        const ids: number[] = [];
        for (let i = 0; i < 6; i++) ids.push((await store.appendHistory(event(i % 2 === 0 ? 'even' : 'odd', 'firing', i), 4)).id);
        assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
        assert.equal(new Set(ids).size, 6);
        const all = await store.listHistory({ limit: 10 });
        assert.deepEqual(all.map((e) => e.message), ['odd firing 5', 'even firing 4', 'odd firing 3', 'even firing 2']);
        assert.deepEqual((await store.listHistory({ limit: 10, rule: 'even' })).map((e) => e.message), ['even firing 4', 'even firing 2']);
        assert.deepEqual((await store.listHistory({ limit: 1 })).map((e) => e.message), ['odd firing 5']);
        // the alert round-trips whole, evidence included
        assert.deepEqual(all[0]?.alert, event('odd', 'firing', 5).alert);
        assert.equal(all[0]?.at, new Date(T0 + 5000).toISOString());
      } finally {
        cleanup();
      }
    });
  });
}

alertStoreContract('memory', () => ({ store: createMemoryAlertStore(), cleanup: () => undefined }));

alertStoreContract('sqlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-alerts-'));
  const db = openSqliteDatabase(join(dir, 'slipway.db'));
  return {
    store: createSqliteAlertStore(db),
    cleanup: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('the SQLite alert store', () => {
  test('applies its own migrations as component "alerts" and keeps rules and history across reopening', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-alerts-'));
    try {
      const path = join(dir, 'slipway.db');
      let db = openSqliteDatabase(path);
      const first = createSqliteAlertStore(db);
      assert.equal(schemaVersion(db, ALERTS_COMPONENT), alertMigrations.length);
      await first.putRule({ name: 'kept', spec: { name: 'kept' }, at: T0, by: 'ann' });
      await first.appendHistory(event('kept', 'resolved', 1), 10);
      db.close();
      db = openSqliteDatabase(path);
      const again = createSqliteAlertStore(db);
      assert.deepEqual((await again.listRules()).map((r) => r.name), ['kept']);
      assert.deepEqual((await again.listHistory({ limit: 5 })).map((e) => e.type), ['resolved']);
      // ids go on after reopening, never reused
      assert.equal((await again.appendHistory(event('kept', 'firing', 2), 10)).id, 2);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
