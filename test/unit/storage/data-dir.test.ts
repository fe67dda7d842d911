import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createFakeClock, PlatformError } from '../../../src/core/index.js';
import { openDataDir } from '../../../src/storage/index.js';

const HOLDER = fileURLToPath(new URL('./fixtures/data-dir-holder.ts', import.meta.url));

function isLocked(error: unknown, pid: number, lockPath: string): boolean {
  assert.ok(error instanceof PlatformError, String(error));
  assert.equal(error.code, 'STORAGE_DATA_DIR_LOCKED');
  assert.equal(error.kind, 'conflict');
  assert.ok(error.message.includes(`process ${pid}`), error.message);
  assert.ok(error.message.includes(lockPath), error.message);
  assert.equal(error.details?.pid, pid);
  return true;
}

/** The pid of a process that has already exited. */
function deadPid(): number {
  const result = spawnSync(process.execPath, ['-e', '']);
  assert.ok(result.pid !== undefined && result.pid > 0);
  return result.pid;
}

describe('data directory', () => {
  let base: string;
  let root: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'slipway-datadir-'));
    root = join(base, 'nested', '.slipway');
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  test('creates the directory and its layout, and records the lock owner', async () => {
    const clock = createFakeClock(Date.UTC(2026, 2, 3, 9));
    const dataDir = await openDataDir(root, { clock });
    try {
      assert.equal(dataDir.root, root);
      assert.equal(dataDir.dbPath, join(root, 'slipway.db'));
      assert.equal(dataDir.blobsDir, join(root, 'blobs'));
      assert.equal(dataDir.tmpDir, join(root, 'tmp'));
      assert.equal(dataDir.auditDir, join(root, 'audit'));
      for (const dir of [root, dataDir.blobsDir, dataDir.tmpDir, dataDir.auditDir]) assert.ok(statSync(dir).isDirectory(), dir);
      if (process.platform !== 'win32') assert.equal(statSync(root).mode & 0o777, 0o700);
      assert.deepEqual(
        { path: dataDir.lock.path, pid: dataDir.lock.pid, acquiredAt: dataDir.lock.acquiredAt },
        { path: join(root, 'slipway.lock'), pid: process.pid, acquiredAt: '2026-03-03T09:00:00.000Z' },
      );
      const content = JSON.parse(readFileSync(dataDir.lock.path, 'utf8')) as { pid: number; hostname: string };
      assert.equal(content.pid, process.pid);
      assert.equal(content.hostname, hostname());
    } finally {
      await dataDir.close();
    }
  });

  test('refuses a second open of the same directory while the first holds it, and allows it after close', async () => {
    const first = await openDataDir(root);
    await assert.rejects(openDataDir(root), (error) => isLocked(error, process.pid, join(root, 'slipway.lock')));
    await first.close();
    assert.equal(existsSync(join(root, 'slipway.lock')), false);
    const second = await openDataDir(root);
    await second.close();
  });

  test('refuses a directory held by another live process', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, root], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const first = await lines.next();
      assert.equal(first.value, `locked ${child.pid}`);
      await assert.rejects(openDataDir(root), (error) => isLocked(error, child.pid ?? -1, join(root, 'slipway.lock')));
    } finally {
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.stdin.end();
      await exited;
    }
    // the holder released its lock on the way out
    const after = await openDataDir(root);
    await after.close();
  });

  test('takes over a stale lock left by a dead process', async () => {
    const dead = deadPid();
    mkdirSync(root, { recursive: true });
    const lockPath = join(root, 'slipway.lock');
    writeFileSync(lockPath, JSON.stringify({ pid: dead, hostname: hostname(), acquiredAt: 'then', token: 'old' }));
    const dataDir = await openDataDir(root);
    try {
      assert.equal(dataDir.lock.tookOverFromPid, dead);
      assert.equal((JSON.parse(readFileSync(lockPath, 'utf8')) as { pid: number }).pid, process.pid);
    } finally {
      await dataDir.close();
    }
  });

  test('takes over a lock left by an earlier process that had this same pid (a restarted container)', async () => {
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'slipway.lock'), JSON.stringify({ pid: process.pid, hostname: hostname(), acquiredAt: 'then', token: 'previous-life' }));
    const dataDir = await openDataDir(root);
    assert.equal(dataDir.lock.tookOverFromPid, process.pid);
    await dataDir.close();
  });

  test('takes over an unreadable lock file', async () => {
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'slipway.lock'), '');
    const dataDir = await openDataDir(root);
    assert.equal(dataDir.lock.pid, process.pid);
    await dataDir.close();
  });

  test('refuses a lock taken on another host, whose owner it cannot check', async () => {
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'slipway.lock'), JSON.stringify({ pid: 4242, hostname: 'elsewhere.example', acquiredAt: 'then', token: 't' }));
    await assert.rejects(openDataDir(root), (error) => isLocked(error, 4242, join(root, 'slipway.lock')) && /elsewhere\.example/.test((error as Error).message));
  });

  test('releases only its own lock', async () => {
    const dataDir = await openDataDir(root);
    const lockPath = join(root, 'slipway.lock');
    const foreign = JSON.stringify({ pid: 1, hostname: hostname(), acquiredAt: 'now', token: 'someone-else' });
    writeFileSync(lockPath, foreign); // e.g. an operator removed ours and another server started
    await dataDir.close();
    assert.equal(readFileSync(lockPath, 'utf8'), foreign);
  });

  test('empties tmp/ of leftovers from a crashed run', async () => {
    const first = await openDataDir(root);
    writeFileSync(join(first.tmpDir, 'upload-123'), 'half an upload');
    mkdirSync(join(first.tmpDir, 'some-dir'));
    writeFileSync(join(first.blobsDir, 'keep-me'), 'x');
    await first.close();
    const second = await openDataDir(root);
    try {
      assert.equal(existsSync(join(second.tmpDir, 'upload-123')), false);
      assert.equal(existsSync(join(second.tmpDir, 'some-dir')), false);
      assert.equal(existsSync(join(second.blobsDir, 'keep-me')), true);
    } finally {
      await second.close();
    }
  });

  test('refuses a path that is a file', async () => {
    const file = join(base, 'a-file');
    writeFileSync(file, 'x');
    await assert.rejects(
      openDataDir(file),
      (error: unknown) => error instanceof PlatformError && error.code === 'STORAGE_DATA_DIR_UNUSABLE' && error.message.includes(file),
    );
  });

  test('closes idempotently', async () => {
    const dataDir = await openDataDir(root);
    await dataDir.close();
    await dataDir.close();
    assert.equal(existsSync(join(root, 'slipway.lock')), false);
  });
});
