import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createMemoryEndpointStrategyStore, holdsStable, type EndpointStrategy, type EndpointStrategyStore } from '../../../src/rollout/controller/index.js';
import { createSqliteEndpointStrategyStore } from '../../../src/storage/index.js';
import { openSqliteDatabase } from '../../../src/storage/sqlite/database.js';
import type { RolloutStrategy } from '../../../src/rollout/spec/index.js';

const canary: RolloutStrategy = { kind: 'canary', steps: [{ kind: 'setWeight', weight: 10 }], analysis: undefined, stickiness: { kind: 'header', name: 'x-user' }, headerRoute: undefined, mirrorPercent: 0 };
const shadow: RolloutStrategy = { kind: 'shadow', target: { kind: 'alias', model: 'm', alias: 'next' }, mirrorPercent: 50 };
const row = (endpoint: string, strategy: RolloutStrategy, stableVersion: number): EndpointStrategy => ({ endpoint, model: 'm', strategy, stableVersion, appliedAt: 1_700_000_000_000, appliedBy: 'alice' });

function contract(name: string, open: () => { store: EndpointStrategyStore; close: () => void }): void {
  describe(`${name} endpoint strategy store`, () => {
    test('stores, replaces, lists by endpoint and forgets applied strategies', () => {
      const opened = open();
      const store = opened.store;
      try {
        assert.equal(store.get('a'), undefined);
        store.put(row('b', shadow, 3));
        store.put(row('a', canary, 1));
        store.put(row('a', canary, 2));
        assert.deepEqual(store.get('a'), JSON.parse(JSON.stringify(row('a', canary, 2))));
        assert.deepEqual(store.list().map((r) => [r.endpoint, r.stableVersion]), [
          ['a', 2],
          ['b', 3],
        ]);
        store.delete('a');
        store.delete('nobody');
        assert.equal(store.get('a'), undefined);
        assert.equal(store.list().length, 1);
      } finally {
        opened.close();
      }
    });
  });
}

contract('memory', () => ({ store: createMemoryEndpointStrategyStore(), close: () => undefined }));

contract('SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-strategies-'));
  const db = openSqliteDatabase(join(dir, 'db.sqlite'));
  return {
    store: createSqliteEndpointStrategyStore(db),
    close: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SQLite endpoint strategy store', () => {
  test('what was applied survives reopening the database', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-strategies-'));
    try {
      const path = join(dir, 'db.sqlite');
      let db = openSqliteDatabase(path);
      createSqliteEndpointStrategyStore(db).put(row('a', canary, 4));
      db.close();
      db = openSqliteDatabase(path);
      assert.equal(createSqliteEndpointStrategyStore(db).get('a')?.stableVersion, 4);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('only canary and blue-green hold the stable version', () => {
    assert.equal(holdsStable(canary), true);
    assert.equal(holdsStable(shadow), false);
  });
});
