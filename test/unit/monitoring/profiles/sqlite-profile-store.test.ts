import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createSqliteProfileStore, createSqliteRegistryStore, openSqliteDatabase, PROFILES_COMPONENT, REGISTRY_COMPONENT, schemaVersion } from '../../../../src/storage/index.js';
import { profileStoreContract, sampleProfile } from './profile-store.contract.js';

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'slipway-profiles-'));

profileStoreContract('sqlite', () => {
  const dir = tempDir();
  const db = openSqliteDatabase(join(dir, 'slipway.db'));
  return {
    store: createSqliteProfileStore(db),
    cleanup: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

void describe('SqliteProfileStore', () => {
  void test('lives in the registry’s database with its own migrations, and keeps profiles across a reopen', async () => {
    const dir = tempDir();
    try {
      const path = join(dir, 'slipway.db');
      const db = openSqliteDatabase(path);
      createSqliteRegistryStore({ db });
      await createSqliteProfileStore(db).put(sampleProfile('fraud', 4));
      assert.equal(schemaVersion(db, PROFILES_COMPONENT), 1);
      assert.ok(schemaVersion(db, REGISTRY_COMPONENT) >= 1);
      db.close();
      const again = openSqliteDatabase(path);
      assert.deepEqual(await createSqliteProfileStore(again).get('fraud', 4), sampleProfile('fraud', 4));
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
