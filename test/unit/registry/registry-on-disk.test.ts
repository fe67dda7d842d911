import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createFakeClock } from '../../../src/core/index.js';
import { createRegistry } from '../../../src/registry/index.js';
import { createFileBlobStore, createSqliteRegistryStore, openDataDir } from '../../../src/storage/index.js';
import { createFakeInspector, writeFakeModel } from './fake-inspector.js';

/** Wires the registry the way `slipway serve` does: data dir → SQLite store + file blob store. */
async function boot(root: string) {
  const dataDir = await openDataDir(root);
  const store = createSqliteRegistryStore({ path: dataDir.dbPath });
  const blobs = createFileBlobStore({ dir: dataDir.blobsDir, stagingDir: dataDir.tmpDir });
  const registry = createRegistry({ store, blobs, inspector: createFakeInspector(), clock: createFakeClock() });
  return {
    registry,
    async stop() {
      store.close();
      await dataDir.close();
    },
  };
}

test('keeps versions, aliases and endpoints across a server restart on the same data directory', async () => {
  const base = mkdtempSync(join(tmpdir(), 'slipway-ondisk-'));
  try {
    const root = join(base, '.slipway');
    const upload = writeFakeModel(base, 'model.onnx', 'bytes');
    const first = await boot(root);
    const pushed = await first.registry.pushVersion({ model: 'fraud', artifactPath: upload, tags: { team: 'risk' } }, { by: 'alice' });
    await first.registry.setAlias('fraud', 'production', 1, { by: 'alice', reason: 'go' });
    await first.registry.createEndpoint('fraud', { kind: 'alias', model: 'fraud', alias: 'production' }, { by: 'alice' });
    await first.stop();

    const second = await boot(root);
    try {
      assert.deepEqual(await second.registry.getVersion('fraud', 1), pushed.version);
      assert.equal((await second.registry.getEndpoint('fraud')).version, 1);
      assert.ok(readFileSync(await second.registry.artifactPath('fraud', 1)).equals(readFileSync(upload)));
      const again = await second.registry.pushVersion({ model: 'fraud', artifactPath: upload }, { by: 'bob' });
      assert.equal(again.created, false);
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
