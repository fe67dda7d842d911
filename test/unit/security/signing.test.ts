import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createFakeClock, PlatformError } from '../../../src/core/index.js';
import {
  canonicalJson,
  generateSigningKeyPair,
  keyIdOf,
  loadOrCreateSigningKey,
  parseArtifactSignature,
  readPublicKey,
  signArtifact,
  verifyArtifactSignature,
  type ArtifactSubject,
} from '../../../src/security/signing/index.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const OTHER_DIGEST = `sha256:${'cd'.repeat(32)}`;

function hasCode(code: string, ...fragments: string[]) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof PlatformError, String(error));
    assert.equal(error.code, code, error.message);
    for (const fragment of fragments) assert.ok(error.message.includes(fragment), `${error.message} lacks ${fragment}`);
    return true;
  };
}

describe('signing keys', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-signing-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  test('generates PKCS#8/SPKI PEM pairs whose key id is the SHA-256 of the public key', () => {
    const pair = generateSigningKeyPair();
    assert.match(pair.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
    assert.match(pair.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/);
    assert.match(pair.keyId, /^ed25519:[0-9a-f]{16}$/);
    assert.equal(keyIdOf(pair.publicKeyPem), pair.keyId);
    assert.notEqual(generateSigningKeyPair().keyId, pair.keyId);
  });

  test('creates a missing key file with mode 0600 and its .pub, then loads the same key', async () => {
    const path = join(dir, 'nested', 'keys', 'signing.pem');
    const created = await loadOrCreateSigningKey(path);
    if (process.platform !== 'win32') assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.match(await readFile(path, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(await readFile(`${path}.pub`, 'utf8'), created.publicKeyPem);
    assert.equal(keyIdOf(created.publicKeyPem), created.keyId);

    const loaded = await loadOrCreateSigningKey(path);
    assert.equal(loaded.keyId, created.keyId);
    assert.equal(loaded.privateKey.asymmetricKeyType, 'ed25519');

    await rm(`${path}.pub`);
    await loadOrCreateSigningKey(path);
    assert.equal(await readFile(`${path}.pub`, 'utf8'), created.publicKeyPem, 'a lost .pub is rewritten');
  });

  test('refuses a key file that is not an Ed25519 private key, naming the path and what was expected', async () => {
    const path = join(dir, 'signing.pem');
    await writeFile(path, 'not a key\n');
    await assert.rejects(loadOrCreateSigningKey(path), hasCode('SECURITY_SIGNATURE_BAD_KEY', path, 'Ed25519 private key in PKCS#8 PEM'));

    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await writeFile(path, rsa);
    await assert.rejects(loadOrCreateSigningKey(path), hasCode('SECURITY_SIGNATURE_BAD_KEY', path, 'rsa'));

    await writeFile(path, generateSigningKeyPair().publicKeyPem);
    await assert.rejects(loadOrCreateSigningKey(path), hasCode('SECURITY_SIGNATURE_BAD_KEY', path));
  });

  test('refuses a .pub that belongs to another key', async () => {
    const path = join(dir, 'signing.pem');
    await loadOrCreateSigningKey(path);
    await writeFile(`${path}.pub`, generateSigningKeyPair().publicKeyPem);
    await assert.rejects(loadOrCreateSigningKey(path), hasCode('SECURITY_SIGNATURE_BAD_KEY', `${path}.pub`));
  });

  test('reads public keys from PEM text or a file, and refuses private keys and missing files', async () => {
    const pair = generateSigningKeyPair();
    assert.equal((await readPublicKey(pair.publicKeyPem)).keyId, pair.keyId);
    const path = join(dir, 'trusted.pub');
    await writeFile(path, pair.publicKeyPem);
    assert.equal((await readPublicKey(path)).keyId, pair.keyId);
    await writeFile(path, pair.privateKeyPem);
    await assert.rejects(readPublicKey(path), hasCode('SECURITY_SIGNATURE_BAD_KEY', path, 'private key'));
    await assert.rejects(readPublicKey(join(dir, 'absent.pub')), hasCode('SECURITY_SIGNATURE_KEY_UNREADABLE', 'absent.pub'));
  });
});

describe('canonical JSON', () => {
  test('sorts keys at every depth and writes no whitespace', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } }), '{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
    assert.equal(canonicalJson({ b: 1, a: 2 }), canonicalJson({ a: 2, b: 1 }));
    assert.equal(canonicalJson('é"\n'), JSON.stringify('é"\n'));
  });

  test('refuses undefined, non-finite numbers, class instances and cycles, naming the path', () => {
    assert.throws(() => canonicalJson({ a: { b: undefined } }), hasCode('SECURITY_SIGNATURE_NOT_CANONICAL', '$.a.b', 'undefined'));
    assert.throws(() => canonicalJson({ n: [1, Number.NaN] }), hasCode('SECURITY_SIGNATURE_NOT_CANONICAL', '$.n[1]', 'NaN'));
    assert.throws(() => canonicalJson({ n: Infinity }), hasCode('SECURITY_SIGNATURE_NOT_CANONICAL', '$.n'));
    assert.throws(() => canonicalJson({ 'a b': new Date(0) }), hasCode('SECURITY_SIGNATURE_NOT_CANONICAL', '$["a b"]', 'Date'));
    assert.throws(() => canonicalJson(undefined), hasCode('SECURITY_SIGNATURE_NOT_CANONICAL', '$ is undefined'));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => canonicalJson(cyclic), hasCode('SECURITY_SIGNATURE_NOT_CANONICAL', '$.self', 'cycle'));
    assert.equal(canonicalJson({ shared: [1], again: [1] }), '{"again":[1],"shared":[1]}', 'a repeated value is no cycle');
  });
});

describe('artifact signatures', () => {
  const clock = createFakeClock(Date.UTC(2026, 2, 3, 12));
  const pair = generateSigningKeyPair();
  const privateKey = createPrivateKey(pair.privateKeyPem);
  const subject: ArtifactSubject = { digest: DIGEST, model: 'fraud', metadata: { framework: 'onnx', opset: 17 } };
  const signed = () => signArtifact(subject, privateKey, clock);

  test('signs digest, model and metadata; the signature verifies against the trusted keys', () => {
    const signature = signed();
    assert.equal(signature.algorithm, 'ed25519');
    assert.equal(signature.keyId, pair.keyId);
    assert.equal(signature.signedAt, '2026-03-03T12:00:00.000Z');
    assert.deepEqual(parseArtifactSignature(JSON.parse(JSON.stringify(signature))), signature);
    assert.deepEqual(verifyArtifactSignature(subject, signature, [pair.publicKeyPem]), { ok: true, keyId: pair.keyId });
    assert.deepEqual(verifyArtifactSignature(subject, JSON.stringify(signature), new Map([[pair.keyId, createPublicKey(pair.publicKeyPem)]])), {
      ok: true,
      keyId: pair.keyId,
    });
    const bare = signArtifact({ digest: DIGEST }, privateKey, clock);
    assert.equal(verifyArtifactSignature({ digest: DIGEST }, bare, [pair.publicKeyPem]).ok, true);
    assert.equal(verifyArtifactSignature({ digest: DIGEST, model: 'fraud' }, bare, [pair.publicKeyPem]).ok, false, 'an added model breaks it');
  });

  test('fails for a tampered digest or metadata, naming the key and digest', () => {
    const signature = signed();
    const digestResult = verifyArtifactSignature({ ...subject, digest: OTHER_DIGEST }, signature, [pair.publicKeyPem]);
    assert.equal(digestResult.ok, false);
    assert.ok(!digestResult.ok && digestResult.reason === 'bad-signature');
    assert.ok(!digestResult.ok && digestResult.message.includes(OTHER_DIGEST) && digestResult.message.includes(pair.keyId), JSON.stringify(digestResult));

    const metadataResult = verifyArtifactSignature({ ...subject, metadata: { framework: 'onnx', opset: 18 } }, signature, [pair.publicKeyPem]);
    assert.ok(!metadataResult.ok && metadataResult.reason === 'bad-signature');
    const modelResult = verifyArtifactSignature({ ...subject, model: 'other' }, signature, [pair.publicKeyPem]);
    assert.ok(!modelResult.ok && modelResult.reason === 'bad-signature');
    const timeResult = verifyArtifactSignature(subject, { ...signature, signedAt: '2026-03-04T12:00:00.000Z' }, [pair.publicKeyPem]);
    assert.ok(!timeResult.ok && timeResult.reason === 'bad-signature', 'signedAt is covered');
  });

  test('fails for an unknown key, a malformed signature and an unsigned artifact', () => {
    const signature = signed();
    const other = generateSigningKeyPair();
    const unknown = verifyArtifactSignature(subject, signature, [other.publicKeyPem]);
    assert.ok(!unknown.ok && unknown.reason === 'unknown-key' && unknown.message.includes(pair.keyId), JSON.stringify(unknown));

    const forgedKeyId = verifyArtifactSignature(subject, { ...signature, keyId: other.keyId }, [pair.publicKeyPem, other.publicKeyPem]);
    assert.ok(!forgedKeyId.ok && forgedKeyId.reason === 'bad-signature', 'a relabelled key id does not verify');

    const cases: [unknown, string][] = [
      [{ ...signature, algorithm: 'rsa' }, 'algorithm'],
      [{ ...signature, keyId: 'ed25519:xyz' }, 'keyId'],
      [{ ...signature, signedAt: 'yesterday' }, 'signedAt'],
      [{ ...signature, signature: 'AAAA' }, 'signature'],
      [{ ...signature, extra: 1 }, 'extra'],
      ['{not json', 'JSON'],
      [[signature], 'object'],
    ];
    for (const [value, field] of cases) {
      const result = verifyArtifactSignature(subject, value, [pair.publicKeyPem]);
      assert.ok(!result.ok && result.reason === 'malformed' && result.message.includes(field), `${field}: ${JSON.stringify(result)}`);
      assert.throws(() => parseArtifactSignature(value), hasCode('SECURITY_SIGNATURE_MALFORMED', field));
    }

    for (const missing of [undefined, null]) {
      const result = verifyArtifactSignature(subject, missing, [pair.publicKeyPem]);
      assert.deepEqual(result, { ok: false, reason: 'unsigned', message: `Artifact ${DIGEST} is not signed.` });
    }
  });

  test('refuses to sign a bad digest or with a key that is not Ed25519', () => {
    assert.throws(() => signArtifact({ digest: 'sha256:XYZ' }, privateKey, clock), hasCode('SECURITY_SIGNATURE_INVALID_SUBJECT', 'digest'));
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    assert.throws(() => signArtifact(subject, rsa, clock), hasCode('SECURITY_SIGNATURE_BAD_KEY'));
    assert.throws(() => verifyArtifactSignature(subject, signed(), [pair.privateKeyPem]), hasCode('SECURITY_SIGNATURE_BAD_KEY', 'trusted key 1'));
  });
});
