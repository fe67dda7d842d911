/** The file blob store with a master keyring: encryption at rest of artifacts (docs/security.md#encryption-at-rest). */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { PlatformError } from '../../../src/core/index.js';
import { generateMasterKeyLine, parseMasterKeyring, readEncryptedFileHeader, type MasterKeyring } from '../../../src/security/encryption/index.js';
import { createFileBlobStore, type FileBlobStore } from '../../../src/storage/index.js';

const sha = (bytes: Buffer | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const ring = (...lines: string[]): MasterKeyring => parseMasterKeyring(lines.join('\n'));
/** A recognisable plaintext of several 64 KiB chunks. */
function modelBytes(size = 200_000): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + 3) % 251;
  Buffer.from('initializer:fraud_weights_layer_1').copy(bytes, 1000);
  return bytes;
}
const MARKER = Buffer.from('initializer:fraud_weights_layer_1');

async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<PlatformError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PlatformError, `expected a PlatformError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message !== undefined) assert.match(error.message, message);
    return error;
  }
  assert.fail(`expected ${code}, but it resolved`);
}

describe('FileBlobStore with a master keyring', () => {
  let dir: string;
  let source: string;
  let plaintext: Buffer;
  const oldLine = generateMasterKeyLine('old');
  const newLine = generateMasterKeyLine('new');
  const store = (keyring?: MasterKeyring): FileBlobStore =>
    createFileBlobStore({ dir: join(dir, 'blobs'), stagingDir: join(dir, 'tmp'), ...(keyring === undefined ? {} : { keyring }) });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-blobs-enc-'));
    source = join(dir, 'upload.onnx');
    plaintext = modelBytes();
    writeFileSync(source, plaintext);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('stores a committed blob encrypted, addressed by the digest of its plaintext, read-only', async () => {
    const blobs = store(ring(oldLine));
    const ref = await blobs.putFile(source);
    assert.equal(ref.digest, sha(plaintext));
    assert.equal(ref.sizeBytes, plaintext.length);
    const onDisk = readFileSync(ref.path);
    assert.equal(onDisk.subarray(0, 8).toString('latin1'), 'SLWENC01');
    assert.equal(onDisk.indexOf(MARKER), -1, 'the plaintext must not appear on disk');
    assert.equal((await readEncryptedFileHeader(ref.path)).keyId, 'old');
    if (process.platform !== 'win32') assert.equal(statSync(ref.path).mode & 0o777, 0o444);
    assert.deepEqual(readdirSync(join(dir, 'tmp')), [], 'no staged or temporary file is left');
    assert.equal(blobs.encrypted, true);
  });

  test('verify hashes the decrypted plaintext', async () => {
    const blobs = store(ring(oldLine));
    const ref = await blobs.putFile(source);
    assert.deepEqual(await blobs.verify(ref.digest), { digest: ref.digest, ok: true, actualDigest: ref.digest });
  });

  test('readArtifact returns the plaintext in a buffer of its own (transferable to a worker)', async () => {
    const blobs = store(ring(oldLine));
    const ref = await blobs.putFile(source);
    const bytes = await blobs.readArtifact(ref.path);
    assert.ok(bytes !== undefined);
    assert.ok(Buffer.from(bytes).equals(plaintext));
    assert.equal(bytes.byteOffset, 0);
    assert.equal(bytes.byteLength, bytes.buffer.byteLength);
  });

  test('a keyring without the key fails loudly naming it, on read and verify', async () => {
    const ref = await store(ring(oldLine)).putFile(source);
    const other = store(ring(newLine));
    await rejectsWith(other.readArtifact(ref.path), 'SECURITY_ENCRYPTION_UNKNOWN_KEY', /master key "old"/);
    await rejectsWith(other.verify(ref.digest), 'SECURITY_ENCRYPTION_UNKNOWN_KEY', /master key "old"/);
  });

  test('another key under the same id fails to unwrap, never returns garbage', async () => {
    const ref = await store(ring(oldLine)).putFile(source);
    const impostor = store(ring(generateMasterKeyLine('old')));
    await rejectsWith(impostor.readArtifact(ref.path), 'SECURITY_ENCRYPTION_UNWRAP_FAILED');
    await rejectsWith(impostor.verify(ref.digest), 'SECURITY_ENCRYPTION_UNWRAP_FAILED');
  });

  test('a damaged blob fails authentication on read and verify', async () => {
    const blobs = store(ring(oldLine));
    const ref = await blobs.putFile(source);
    const bytes = readFileSync(ref.path);
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 0x01;
    chmodSync(ref.path, 0o644);
    writeFileSync(ref.path, bytes);
    await rejectsWith(blobs.readArtifact(ref.path), 'SECURITY_ENCRYPTION_INTEGRITY_FAILED');
    await rejectsWith(blobs.verify(ref.digest), 'SECURITY_ENCRYPTION_INTEGRITY_FAILED');
  });

  test('without a keyring an encrypted blob is refused naming its key, a plaintext one left to the engine', async () => {
    const ref = await store(ring(oldLine)).putFile(source);
    const plain = store();
    await rejectsWith(plain.readArtifact(ref.path), 'SECURITY_ENCRYPTION_NOT_CONFIGURED', /master key "old".*SLIPWAY_MASTER_KEYS/);
    await rejectsWith(plain.verify(ref.digest), 'SECURITY_ENCRYPTION_NOT_CONFIGURED');
    assert.equal(await plain.readArtifact(source), undefined);
    assert.equal(plain.encrypted, false);
  });

  test('blobs written before encryption still read, verify, and are counted as plaintext', async () => {
    const ref = await store().putFile(source);
    const blobs = store(ring(oldLine));
    assert.equal(await blobs.has(ref.digest), true);
    assert.equal((await blobs.verify(ref.digest)).ok, true);
    const bytes = await blobs.readArtifact(ref.path);
    assert.ok(bytes !== undefined && Buffer.from(bytes).equals(plaintext));
    assert.deepEqual(await blobs.encryptionStatus(), { total: 1, plaintext: 1, byKey: {}, unreadable: 0 });
    // the same bytes pushed again keep the stored (plaintext) copy: stored once
    assert.deepEqual(await blobs.putFile(source), ref);
    assert.equal(readFileSync(ref.path).indexOf(MARKER) >= 0, true);
  });

  test('rewrap encrypts plaintext blobs and moves data keys to the active key without re-encrypting data', async () => {
    const plainRef = await store().putFile(source);
    const second = join(dir, 'second.onnx');
    writeFileSync(second, modelBytes(70_000).reverse());
    const oldRef = await store(ring(oldLine)).putFile(second);
    const oldFile = readFileSync(oldRef.path);

    const rotated = store(ring(newLine, oldLine));
    assert.deepEqual(await rotated.encryptionStatus(), { total: 2, plaintext: 1, byKey: { old: 1 }, unreadable: 0 });
    const report = await rotated.rewrap();
    assert.deepEqual(report, { total: 2, rewrapped: 1, encrypted: 1, unchanged: 0, failed: [], activeKeyId: 'new' });
    assert.deepEqual(await rotated.encryptionStatus(), { total: 2, plaintext: 0, byKey: { new: 2 }, unreadable: 0 });

    // only the header changed: the chunks after it are byte for byte the same
    const rewrapped = readFileSync(oldRef.path);
    const oldHeader = (await readEncryptedFileHeader(oldRef.path)).headerBytes;
    assert.ok(rewrapped.subarray(oldHeader).equals(oldFile.subarray(oldFile.length - (rewrapped.length - oldHeader))));
    assert.equal(readFileSync(plainRef.path).indexOf(MARKER), -1);
    if (process.platform !== 'win32') assert.equal(statSync(plainRef.path).mode & 0o777, 0o444);

    // the old key can go: the new one alone reads both
    const onlyNew = store(ring(newLine));
    assert.equal((await onlyNew.verify(plainRef.digest)).ok, true);
    assert.equal((await onlyNew.verify(oldRef.digest)).ok, true);
    const bytes = await onlyNew.readArtifact(plainRef.path);
    assert.ok(bytes !== undefined && Buffer.from(bytes).equals(plaintext));

    // a second run finds nothing to do
    assert.deepEqual(await onlyNew.rewrap(), { total: 2, rewrapped: 0, encrypted: 0, unchanged: 2, failed: [], activeKeyId: 'new' });
  });

  test('rewrap reports the blobs it cannot move and moves the rest', async () => {
    const lostKey = generateMasterKeyLine('lost');
    const lostRef = await store(ring(lostKey)).putFile(source);
    const tamperedSource = join(dir, 'tampered.onnx');
    writeFileSync(tamperedSource, 'plaintext model');
    const tamperedRef = await store().putFile(tamperedSource);
    chmodSync(tamperedRef.path, 0o644);
    writeFileSync(tamperedRef.path, 'altered model!!');
    const fineSource = join(dir, 'fine.onnx');
    writeFileSync(fineSource, 'another model');
    const fineRef = await store(ring(oldLine)).putFile(fineSource);

    const report = await store(ring(newLine, oldLine)).rewrap();
    assert.equal(report.total, 3);
    assert.equal(report.rewrapped, 1);
    assert.equal(report.encrypted, 0);
    const byDigest = new Map(report.failed.map((f) => [f.digest, f]));
    assert.equal(byDigest.get(lostRef.digest)?.code, 'SECURITY_ENCRYPTION_UNKNOWN_KEY');
    assert.match(byDigest.get(lostRef.digest)?.message ?? '', /"lost"/);
    assert.equal(byDigest.get(tamperedRef.digest)?.code, 'SECURITY_ENCRYPTION_BLOB_MISMATCH');
    assert.equal(readFileSync(tamperedRef.path, 'utf8'), 'altered model!!', 'altered bytes are not sealed');
    assert.equal((await readEncryptedFileHeader(fineRef.path)).keyId, 'new');
    assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
  });

  test('rewrap without a keyring is refused', async () => {
    await rejectsWith(store().rewrap(), 'SECURITY_ENCRYPTION_NOT_CONFIGURED');
  });

  test('two rewraps at once run one after the other and agree', async () => {
    await store(ring(oldLine)).putFile(source);
    const rotated = store(ring(newLine, oldLine));
    const [a, b] = await Promise.all([rotated.rewrap(), rotated.rewrap()]);
    assert.equal(a.rewrapped + b.rewrapped, 1);
    assert.equal(a.unchanged + b.unchanged, 1);
  });

  test('an empty artifact round-trips', async () => {
    const empty = join(dir, 'empty.onnx');
    writeFileSync(empty, '');
    const blobs = store(ring(oldLine));
    const ref = await blobs.putFile(empty);
    assert.equal(ref.digest, sha(''));
    assert.equal((await blobs.verify(ref.digest)).ok, true);
    assert.equal((await blobs.readArtifact(ref.path))?.length, 0);
  });
});
