import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { PlatformError } from '../../../src/core/index.js';
import { createFileBlobStore, type FileBlobStore } from '../../../src/storage/index.js';

const sha = (bytes: Buffer | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe('FileBlobStore', () => {
  let dir: string;
  let blobs: FileBlobStore;
  let source: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-blobs-'));
    blobs = createFileBlobStore({ dir: join(dir, 'blobs'), stagingDir: join(dir, 'tmp') });
    source = join(dir, 'upload.onnx');
    writeFileSync(source, 'model bytes');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('stores a file under blobs/sha256/<hex> of its bytes', async () => {
    const ref = await blobs.putFile(source);
    assert.equal(ref.digest, sha('model bytes'));
    assert.equal(ref.sizeBytes, 11);
    assert.equal(ref.path, join(dir, 'blobs', 'sha256', ref.digest.slice('sha256:'.length)));
    assert.equal(blobs.path(ref.digest), ref.path);
    assert.equal(readFileSync(ref.path, 'utf8'), 'model bytes');
    assert.equal(await blobs.has(ref.digest), true);
  });

  test('leaves the source file where it was, unchanged', async () => {
    await blobs.putFile(source);
    assert.equal(readFileSync(source, 'utf8'), 'model bytes');
  });

  test('stores identical content once', async () => {
    const copy = join(dir, 'copy.onnx');
    writeFileSync(copy, 'model bytes');
    const a = await blobs.putFile(source);
    const b = await blobs.putFile(copy);
    assert.deepEqual(a, b);
    assert.deepEqual(readdirSync(join(dir, 'blobs', 'sha256')), [a.digest.slice(7)]);
  });

  test('hashes files larger than one read chunk correctly', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 251;
    const path = join(dir, 'big.onnx');
    writeFileSync(path, big);
    const ref = await blobs.putFile(path);
    assert.equal(ref.digest, sha(big));
    assert.equal(ref.sizeBytes, big.length);
    assert.ok(readFileSync(ref.path).equals(big));
  });

  test('hashes an empty file to the SHA-256 of nothing', async () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    const ref = await blobs.putFile(empty);
    assert.equal(ref.digest, 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  test('makes stored blobs read-only', { skip: process.platform === 'win32' }, async () => {
    const ref = await blobs.putFile(source);
    assert.equal(statSync(ref.path).mode & 0o777, 0o444);
  });

  test('leaves nothing in the staging area after a put', async () => {
    await blobs.putFile(source);
    assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
  });

  test('keeps a staged blob invisible until it is committed', async () => {
    const staged = await blobs.stage(source);
    assert.equal(staged.digest, sha('model bytes'));
    assert.equal(readFileSync(staged.path, 'utf8'), 'model bytes');
    assert.equal(await blobs.has(staged.digest), false);
    const ref = await staged.commit();
    assert.equal(await blobs.has(ref.digest), true);
    assert.equal(existsSync(staged.path), false);
    await staged.discard(); // harmless after commit
    assert.equal(await blobs.has(ref.digest), true);
  });

  test('discards a staged blob without a trace', async () => {
    const staged = await blobs.stage(source);
    await staged.discard();
    await staged.discard();
    assert.equal(existsSync(staged.path), false);
    assert.equal(await blobs.has(staged.digest), false);
    assert.deepEqual(readdirSync(join(dir, 'blobs', 'sha256')), []);
    await assert.rejects(staged.commit(), /already committed or discarded/);
  });

  test('stages a private copy: changing the source afterwards changes nothing stored', async () => {
    const staged = await blobs.stage(source);
    writeFileSync(source, 'tampered after staging');
    const ref = await staged.commit();
    assert.equal(readFileSync(ref.path, 'utf8'), 'model bytes');
    assert.equal(ref.digest, sha('model bytes'));
  });

  test('verifies a sound blob', async () => {
    const ref = await blobs.putFile(source);
    assert.deepEqual(await blobs.verify(ref.digest), { digest: ref.digest, ok: true, actualDigest: ref.digest });
  });

  test('detects a blob whose bytes were changed on disk', async () => {
    const ref = await blobs.putFile(source);
    chmodSync(ref.path, 0o644);
    writeFileSync(ref.path, 'model bytez');
    assert.deepEqual(await blobs.verify(ref.digest), { digest: ref.digest, ok: false, actualDigest: sha('model bytez') });
  });

  test('reports a missing blob as not ok with no actual digest', async () => {
    const digest = sha('never stored');
    assert.deepEqual(await blobs.verify(digest), { digest, ok: false, actualDigest: null });
    assert.equal(await blobs.has(digest), false);
  });

  test('refuses digests that are not sha256:<64 hex>, so none can escape the blobs folder', async () => {
    for (const bad of ['sha256:../../etc/passwd', 'md5:abc', `sha256:${'A'.repeat(64)}`, `sha256:${'a'.repeat(63)}`, '']) {
      assert.throws(
        () => blobs.path(bad),
        (error: unknown) => error instanceof PlatformError && error.code === 'STORAGE_INVALID_DIGEST',
        bad,
      );
      await assert.rejects(blobs.has(bad), (error: unknown) => error instanceof PlatformError && error.code === 'STORAGE_INVALID_DIGEST');
    }
  });

  test('fails on a missing source file and leaves nothing behind', async () => {
    await assert.rejects(blobs.putFile(join(dir, 'missing.onnx')), (error: NodeJS.ErrnoException) => error.code === 'ENOENT');
    assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
  });

  test('refuses a directory as the source', async () => {
    await assert.rejects(blobs.putFile(dir), (error: NodeJS.ErrnoException) => error.code === 'EISDIR');
    assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
  });
});
