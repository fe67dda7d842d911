/**
 * `slipway models keygen | sign | attach-signature` and `models push --signature` against the
 * control-API test server (memory store) with a verifier that trusts one key.
 */
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { KeyObject } from 'node:crypto';
import { createSignatureVerifier, keyIdOf, parseSignatureDocument, verifySignatureDocument } from '../../../src/security/signing/index.js';
import { startCliHarness, type CliHarness } from './cli-harness.js';

void describe('slipway models keygen, sign, push --signature and attach-signature', () => {
  let h: CliHarness;
  // the key the server trusts is written by `keygen` itself, in the first test
  const trusted = new Map<string, KeyObject>();
  before(async () => {
    h = await startCliHarness({ signatures: { check: (signature) => createSignatureVerifier(trusted).check(signature) } });
    h.modelFile(1, 'm1.onnx');
    h.modelFile(2, 'm2.onnx');
    h.modelFile(3, 'm3.onnx');
  });
  after(() => h.close());

  const sha = (file: string): string => `sha256:${createHash('sha256').update(readFileSync(join(h.dir, file))).digest('hex')}`;

  void test('keygen writes a private key (0600) and its public key, and will not overwrite them', async () => {
    const r = await h.run(['models', 'keygen', '--out', 'keys']);
    assert.equal(r.code, 0, r.stderr);
    const key = join(h.dir, 'keys', 'signing.key');
    const pub = join(h.dir, 'keys', 'signing.pub');
    if (process.platform !== 'win32') assert.equal(statSync(key).mode & 0o777, 0o600);
    assert.match(readFileSync(key, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    const keyId = keyIdOf(readFileSync(pub, 'utf8'));
    assert.match(r.stdout, new RegExp(`^wrote ${key} \\(private, mode 0600\\) and ${pub}\\nkey id: ${keyId}\\n$`));
    trusted.set(keyId, createPublicKey(readFileSync(pub, 'utf8')));

    const again = await h.run(['models', 'keygen', '--out', 'keys']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /signing\.key exists already; pass --force/);
    assert.equal(keyIdOf(readFileSync(pub, 'utf8')), keyId, 'unchanged');

    const other = await h.run(['--json', 'models', 'keygen', '--out', 'keys', '--name', 'other']);
    assert.equal(other.code, 0, other.stderr);
    const body = JSON.parse(other.stdout) as { keyId: string; privateKey: string; publicKey: string };
    assert.equal(body.publicKey, join(h.dir, 'keys', 'other.pub'));
    assert.notEqual(body.keyId, keyId);
  });

  void test('sign writes FILE.sig over the file’s digest, the model name and metadata', async () => {
    const r = await h.run(['models', 'sign', 'm1.onnx', '--key', 'keys/signing.key', '--name', 'adder', '--meta', 'commit=abc123', '--meta', 'stage=prod']);
    assert.equal(r.code, 0, r.stderr);
    const document = parseSignatureDocument(readFileSync(join(h.dir, 'm1.onnx.sig'), 'utf8'));
    assert.equal(document.digest, sha('m1.onnx'));
    assert.equal(document.model, 'adder');
    assert.deepEqual(document.metadata, { commit: 'abc123', stage: 'prod' });
    assert.ok(verifySignatureDocument(document, trusted).ok);
    assert.match(r.stdout, new RegExp(`^signed m1\\.onnx \\(${document.digest}\\) with ${document.keyId} for model adder\\nwrote ${join(h.dir, 'm1.onnx.sig')}\\n$`));

    const out = await h.run(['models', 'sign', 'm2.onnx', '--key', 'keys/signing.key', '--out', 'sigs-m2.json']);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(parseSignatureDocument(readFileSync(join(h.dir, 'sigs-m2.json'), 'utf8')).model, undefined);
  });

  void test('sign refuses a missing file or key, a public key in place of the private one, and a bad name', async () => {
    const missing = await h.run(['models', 'sign', 'nope.onnx', '--key', 'keys/signing.key']);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /cannot sign nope\.onnx: no such file \[CONTROL_CLIENT_FILE_NOT_FOUND\]/);
    const noKey = await h.run(['models', 'sign', 'm1.onnx', '--key', 'keys/absent.key']);
    assert.equal(noKey.code, 5);
    assert.match(noKey.stderr, /absent\.key.*\[SECURITY_SIGNATURE_KEY_UNREADABLE\]/);
    const publicKey = await h.run(['models', 'sign', 'm1.onnx', '--key', 'keys/signing.pub']);
    assert.equal(publicKey.code, 5);
    assert.match(publicKey.stderr, /signing\.pub is not an Ed25519 private key.*\[SECURITY_SIGNATURE_BAD_KEY\]/);
    const badName = await h.run(['models', 'sign', 'm1.onnx', '--key', 'keys/signing.key', '--name', 'Not_A_Name']);
    assert.equal(badName.code, 2);
  });

  void test('push --signature sends it with the upload; show prints who signed and that it verifies', async () => {
    const r = await h.run(['models', 'push', 'm1.onnx', '--name', 'adder', '--signature', 'm1.onnx.sig']);
    assert.equal(r.code, 0, r.stderr);
    const keyId = [...trusted.keys()][0] ?? '';
    assert.match(r.stdout, new RegExp(`\\n {2}signed: {2}by ${keyId} at \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}Z \\(verified\\)\\n$`));
    assert.equal((await h.registry.getVersion('adder', 1)).artifactSignature?.keyId, keyId);
    const show = await h.run(['models', 'show', 'adder:1']);
    assert.match(show.stdout, new RegExp(`\\nSigned +by ${keyId} at .+ \\(verified\\)\\n`));
    const json = JSON.parse((await h.run(['--json', 'models', 'show', 'adder:1'])).stdout) as { signature: { keyId: string; verified: boolean } };
    assert.deepEqual({ keyId: json.signature.keyId, verified: json.signature.verified }, { keyId, verified: true });
  });

  void test('push --signature refuses a signature of other bytes or another model, naming the field, and registers nothing', async () => {
    const r = await h.run(['models', 'push', 'm3.onnx', '--name', 'adder', '--signature', 'm1.onnx.sig']);
    assert.equal(r.code, 5);
    assert.match(r.stderr, /^slipway: signature\.digest: the signature is for sha256:[0-9a-f]{64}, but the artifact of model "adder" is sha256:[0-9a-f]{64}.* \[REGISTRY_SIGNATURE_MISMATCH\]\n$/);
    const model = await h.run(['models', 'push', 'm1.onnx', '--name', 'other', '--signature', 'm1.onnx.sig']);
    assert.equal(model.code, 5);
    assert.match(model.stderr, /signature\.model: the signature is bound to model "adder", not to "other"/);
    assert.equal((await h.registry.listVersions('adder')).length, 1);
  });

  void test('push --signature names a missing or malformed signature file before uploading', async () => {
    const missing = await h.run(['models', 'push', 'm3.onnx', '--name', 'adder', '--signature', 'none.sig']);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /cannot read the signature file none\.sig: no such file/);
    writeFileSync(join(h.dir, 'bad.sig'), JSON.stringify({ digest: 'sha256:00' }));
    const bad = await h.run(['models', 'push', 'm3.onnx', '--name', 'adder', '--signature', 'bad.sig']);
    assert.equal(bad.code, 5);
    assert.match(bad.stderr, /^slipway: signature file bad\.sig: digest: expected "sha256:" and 64 lowercase hex digits.* \[SECURITY_SIGNATURE_MALFORMED\]\n$/);
    assert.equal((await h.registry.listVersions('adder')).length, 1);
  });

  void test('attach-signature signs a version pushed earlier; a stranger’s key is kept but not verified', async () => {
    const pushed = await h.run(['models', 'push', 'm2.onnx', '--name', 'adder']);
    assert.equal(pushed.code, 0, pushed.stderr);
    const r = await h.run(['models', 'attach-signature', 'adder:2', '--signature', 'sigs-m2.json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^signed adder:2 \(sha256:[0-9a-f]{64}\)\n {2}signed: {2}by ed25519:[0-9a-f]{16} at .+ \(verified\)\n$/);

    mkdirSync(join(h.dir, 'other'), { recursive: true });
    assert.equal((await h.run(['models', 'sign', 'm2.onnx', '--key', 'keys/other.key', '--out', 'other/m2.sig'])).code, 0);
    const stranger = await h.run(['models', 'attach-signature', 'adder:2', '--signature', 'other/m2.sig']);
    assert.equal(stranger.code, 0, stranger.stderr);
    assert.match(stranger.stdout, /\(not verified: the key is not trusted by the server\)/);

    const wrong = await h.run(['models', 'attach-signature', 'adder:1', '--signature', 'sigs-m2.json']);
    assert.equal(wrong.code, 5);
    assert.match(wrong.stderr, /^slipway: digest: the signature is for/);
    const noVersion = await h.run(['models', 'attach-signature', 'adder', '--signature', 'sigs-m2.json']);
    assert.equal(noVersion.code, 2);
  });
});
