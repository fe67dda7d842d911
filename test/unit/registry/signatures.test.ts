/** The registry and artifact signatures: pushed with a version, attached later, re-hashed on demand. */
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createFakeClock } from '../../../src/core/index.js';
import { createRegistry, type Registry, type VersionSignature } from '../../../src/registry/index.js';
import { createSignatureVerifier, generateSigningKeyPair, keyIdOf, signArtifactDocument } from '../../../src/security/signing/index.js';
import { createFileBlobStore, createMemoryRegistryStore, type FileBlobStore } from '../../../src/storage/index.js';
import { createFakeInspector, writeFakeModel } from './fake-inspector.js';
import { ALICE, refused } from './harness.js';

const clock = createFakeClock(Date.UTC(2026, 2, 3, 12));
const trusted = generateSigningKeyPair();
const stranger = generateSigningKeyPair();

describe('registry: artifact signatures', () => {
  let dir: string;
  let uploads: string;
  let blobs: FileBlobStore;
  let registry: Registry;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-registry-sig-'));
    uploads = join(dir, 'uploads');
    mkdirSync(uploads);
    blobs = createFileBlobStore({ dir: join(dir, 'blobs'), stagingDir: join(dir, 'tmp') });
    const verifier = createSignatureVerifier(new Map([[keyIdOf(trusted.publicKeyPem), createPublicKey(trusted.publicKeyPem)]]));
    registry = createRegistry({ store: createMemoryRegistryStore(), blobs, inspector: createFakeInspector(), clock, signatures: verifier });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const fileOf = (salt: string): { path: string; digest: string } => {
    const path = writeFakeModel(uploads, `m-${salt}.onnx`, salt);
    return { path, digest: `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}` };
  };
  /** A signature of `digest` bound to `model` (null: to none). */
  const sign = (digest: string, model: string | null = 'fraud', pem = trusted.privateKeyPem): VersionSignature =>
    signArtifactDocument({ digest, ...(model === null ? {} : { model }) }, createPrivateKey(pem), clock);

  test('keeps a signature pushed with the version', async () => {
    const file = fileOf('a');
    const { version } = await registry.pushVersion({ model: 'fraud', artifactPath: file.path, artifactSignature: sign(file.digest) }, ALICE);
    assert.deepEqual(version.artifactSignature, sign(file.digest));
    assert.deepEqual((await registry.getVersion('fraud', 1)).artifactSignature, sign(file.digest));
  });

  test('keeps a signature by an untrusted key, unverified, and one not bound to a model', async () => {
    const a = fileOf('a');
    const b = fileOf('b');
    assert.equal((await registry.pushVersion({ model: 'fraud', artifactPath: a.path, artifactSignature: sign(a.digest, 'fraud', stranger.privateKeyPem) }, ALICE)).version.artifactSignature?.keyId, stranger.keyId);
    assert.equal((await registry.pushVersion({ model: 'fraud', artifactPath: b.path, artifactSignature: sign(b.digest, null) }, ALICE)).version.artifactSignature?.model, undefined);
  });

  test('refuses a push whose signature is for other bytes, another model, or altered, and registers nothing', async () => {
    const file = fileOf('a');
    const other = fileOf('b');
    const digestError = await refused(registry.pushVersion({ model: 'fraud', artifactPath: file.path, artifactSignature: sign(other.digest) }, ALICE), 'REGISTRY_SIGNATURE_MISMATCH');
    assert.equal(digestError.kind, 'invalid');
    assert.equal(digestError.details?.field, 'signature.digest');
    assert.match(digestError.message, new RegExp(`signature\\.digest: the signature is for ${other.digest}, but the artifact of model "fraud" is ${file.digest}`));
    const modelError = await refused(registry.pushVersion({ model: 'fraud', artifactPath: file.path, artifactSignature: sign(file.digest, 'churn') }, ALICE), 'REGISTRY_SIGNATURE_MISMATCH');
    assert.equal(modelError.details?.field, 'signature.model');
    const altered = { ...sign(file.digest), signedAt: '2030-01-01T00:00:00.000Z' };
    const alteredError = await refused(registry.pushVersion({ model: 'fraud', artifactPath: file.path, artifactSignature: altered }, ALICE), 'REGISTRY_SIGNATURE_MISMATCH');
    assert.equal(alteredError.details?.field, 'signature.signature');
    await refused(registry.getModel('fraud'), 'REGISTRY_MODEL_NOT_FOUND');
  });

  test('attaches a signature pushed again with the same bytes, and one attached later', async () => {
    const file = fileOf('a');
    await registry.pushVersion({ model: 'fraud', artifactPath: file.path }, ALICE);
    assert.equal((await registry.getVersion('fraud', 1)).artifactSignature, undefined);
    const again = await registry.pushVersion({ model: 'fraud', artifactPath: file.path, artifactSignature: sign(file.digest) }, ALICE);
    assert.equal(again.created, false);
    assert.equal(again.version.artifactSignature?.keyId, trusted.keyId);

    const later = fileOf('b');
    await registry.pushVersion({ model: 'fraud', artifactPath: later.path }, ALICE);
    const signed = await registry.attachSignature('fraud', 2, sign(later.digest), ALICE);
    assert.equal(signed.artifactSignature?.digest, later.digest);
    assert.equal((await registry.getVersion('fraud', 2)).artifactSignature?.digest, later.digest);
  });

  test('refuses to attach a signature of other bytes, naming the field, and keeps the version as it was', async () => {
    const file = fileOf('a');
    await registry.pushVersion({ model: 'fraud', artifactPath: file.path }, ALICE);
    const error = await refused(registry.attachSignature('fraud', 1, sign(fileOf('b').digest), ALICE), 'REGISTRY_SIGNATURE_MISMATCH');
    assert.equal(error.details?.field, 'digest');
    assert.equal((await registry.getVersion('fraud', 1)).artifactSignature, undefined);
    await refused(registry.attachSignature('fraud', 9, sign(file.digest), ALICE), 'REGISTRY_VERSION_NOT_FOUND');
  });

  test('re-hashes a version’s blob: intact, then altered on disk', async () => {
    const file = fileOf('a');
    await registry.pushVersion({ model: 'fraud', artifactPath: file.path }, ALICE);
    assert.deepEqual(await registry.verifyArtifact('fraud', 1), { digest: file.digest, ok: true, actualDigest: file.digest });
    const blob = blobs.path(file.digest);
    chmodSync(blob, 0o644);
    writeFileSync(blob, 'altered bytes');
    const after = await registry.verifyArtifact('fraud', 1);
    assert.equal(after.ok, false);
    assert.equal(after.actualDigest, `sha256:${createHash('sha256').update('altered bytes').digest('hex')}`);
  });
});
