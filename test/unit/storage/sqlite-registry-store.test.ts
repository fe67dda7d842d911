import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createSqliteRegistryStore, migrate, openSqliteDatabase, REGISTRY_COMPONENT, registryMigrations } from '../../../src/storage/index.js';
import { at, digestOf, registryStoreContract, versionInput } from './registry-store.contract.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'slipway-sqlite-'));
}

registryStoreContract('sqlite', () => {
  const dir = tempDir();
  const store = createSqliteRegistryStore({ path: join(dir, 'slipway.db') });
  return {
    store,
    cleanup: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteRegistryStore', () => {
  test('opens the database with WAL, synchronous FULL, foreign keys and a busy timeout', () => {
    const dir = tempDir();
    try {
      const store = createSqliteRegistryStore({ path: join(dir, 'slipway.db'), busyTimeoutMs: 1234 });
      assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(store.db.pragma('synchronous', { simple: true }), 2); // FULL
      assert.equal(store.db.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(store.db.pragma('busy_timeout', { simple: true }), 1234);
      assert.deepEqual(store.checkIntegrity(), ['ok']);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('keeps everything across a close and reopen', async () => {
    const dir = tempDir();
    const path = join(dir, 'slipway.db');
    try {
      const first = createSqliteRegistryStore({ path });
      assert.deepEqual(first.migration.applied, ['initial', 'artifact-signatures']);
      await first.insertVersion(versionInput('fraud', digestOf(1), { tags: { team: 'risk' } }));
      await first.insertVersion(versionInput('fraud', digestOf(2), { lineage: { parentVersion: 1, metrics: { auc: 0.91 } } }));
      await first.setAlias({ model: 'fraud', alias: 'production', version: 2, at: at(10), by: 'bob', reason: 'go', followerReason: () => '' });
      await first.createEndpoint({ name: 'fraud', description: '', target: { kind: 'alias', model: 'fraud', alias: 'production' }, at: at(11), by: 'bob', reason: '' });
      const before = {
        models: await first.listModels(),
        versions: await first.listVersions('fraud'),
        history: await first.aliasHistory('fraud', 'production'),
        endpoints: await first.listEndpoints(),
        endpointHistory: await first.endpointHistory('fraud'),
      };
      first.close();

      const second = createSqliteRegistryStore({ path });
      assert.deepEqual(second.migration.applied, []);
      assert.deepEqual(
        {
          models: await second.listModels(),
          versions: await second.listVersions('fraud'),
          history: await second.aliasHistory('fraud', 'production'),
          endpoints: await second.listEndpoints(),
          endpointHistory: await second.endpointHistory('fraud'),
        },
        before,
      );
      const next = await second.insertVersion(versionInput('fraud', digestOf(3)));
      assert.equal(next.version.version, 3);
      second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('stores signature, tags and lineage as valid JSON columns', async () => {
    const dir = tempDir();
    try {
      const store = createSqliteRegistryStore({ path: join(dir, 'slipway.db') });
      await store.insertVersion(versionInput('fraud', digestOf(1), { tags: { team: 'risk' }, lineage: { dataDigest: 'sha256:d' } }));
      const row = store.db
        .prepare(
          "SELECT json_extract(tags, '$.team') AS team, json_extract(lineage, '$.dataDigest') AS data, json_extract(signature, '$.inputs[0].name') AS input FROM versions",
        )
        .get() as { team: string; data: string; input: string };
      assert.deepEqual({ ...row }, { team: 'risk', data: 'sha256:d', input: 'x' });
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('numbers versions without duplicates when two connections write the same file', async () => {
    const dir = tempDir();
    const path = join(dir, 'slipway.db');
    try {
      const a = createSqliteRegistryStore({ path });
      const b = createSqliteRegistryStore({ path });
      const writes = [];
      for (let i = 0; i < 20; i++) writes.push((i % 2 === 0 ? a : b).insertVersion(versionInput('shared', digestOf(i))));
      const results = await Promise.all(writes);
      assert.deepEqual(
        results.map((r) => r.version.version).sort((x, y) => x - y),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      assert.equal((await b.listVersions('shared')).length, 20);
      a.close();
      b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('shares a connection it was given and leaves it open on close', async () => {
    const dir = tempDir();
    try {
      const db = openSqliteDatabase(join(dir, 'slipway.db'));
      const store = createSqliteRegistryStore({ db });
      await store.insertVersion(versionInput('fraud', digestOf(1)));
      store.close();
      assert.equal(db.open, true);
      assert.equal((db.prepare('SELECT COUNT(*) AS n FROM versions').get() as { n: number }).n, 1);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('has the database itself refuse to delete an alias an endpoint follows', async () => {
    const dir = tempDir();
    try {
      const store = createSqliteRegistryStore({ path: join(dir, 'slipway.db') });
      await store.insertVersion(versionInput('fraud', digestOf(1)));
      await store.setAlias({ model: 'fraud', alias: 'production', version: 1, at: at(1), by: 'b', reason: '', followerReason: () => '' });
      await store.createEndpoint({ name: 'api', description: '', target: { kind: 'alias', model: 'fraud', alias: 'production' }, at: at(2), by: 'b', reason: '' });
      assert.throws(() => store.db.prepare("DELETE FROM aliases WHERE alias = 'production'").run(), /FOREIGN KEY/);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('upgrades a database from before artifact signatures: its versions read as unsigned and can be signed', async () => {
    const dir = tempDir();
    try {
      const db = openSqliteDatabase(join(dir, 'slipway.db'));
      migrate(db, REGISTRY_COMPONENT, registryMigrations.slice(0, 1));
      const row = versionInput('fraud', digestOf(1));
      db.prepare('INSERT INTO models (name, description, owner, created_at, created_by) VALUES (?, ?, ?, ?, ?)').run('fraud', '', 'alice', at(0), 'alice');
      db.prepare(
        'INSERT INTO versions (model, version, digest, size_bytes, signature, onnx, description, tags, lineage, parent_version, created_at, created_by) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)',
      ).run('fraud', row.digest, row.sizeBytes, JSON.stringify(row.signature), JSON.stringify(row.onnx), '', '{}', '{}', row.createdAt, row.createdBy);

      const store = createSqliteRegistryStore({ db });
      assert.deepEqual(store.migration.applied, ['artifact-signatures']);
      const before = await store.getVersion('fraud', 1);
      assert.equal(before?.digest, digestOf(1));
      assert.equal('artifactSignature' in (before ?? {}), false);
      const signature = { digest: digestOf(1), algorithm: 'ed25519' as const, keyId: 'ed25519:0123456789abcdef', signedAt: at(3), signature: `${'B'.repeat(86)}==` };
      assert.deepEqual((await store.setVersionSignature('fraud', 1, signature)).artifactSignature, signature);
      assert.throws(() => db.prepare("UPDATE versions SET artifact_signature = 'not json'").run(), /CHECK/);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
