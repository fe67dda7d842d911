/**
 * Signed artifacts against the real server (docs/security.md#signed-artifacts): a version signed
 * by a trusted key loads where signatures are required; an unsigned one, or one signed by a key
 * the server does not trust, is refused at load with a clear error and an audit entry; a blob
 * altered on disk is refused at the next load (a restart) with SECURITY_ARTIFACT_TAMPERED; a
 * signature of other bytes is refused at the API, naming the field; a bad trusted key file stops
 * the start, naming the file.
 */
import assert from 'node:assert/strict';
import { createHash, createPrivateKey } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createFakeClock, PlatformError } from '../../src/core/index.js';
import type { VersionSignature } from '../../src/registry/index.js';
import { generateSigningKeyPair, signArtifactDocument } from '../../src/security/signing/index.js';
import { addModel } from '../support/models.js';
import { addRequest, ADMIN_ENV, adminHeaders, startTestServer, TEST_ADMIN_KEY, type TestServer } from '../support/server.js';
import { runCli } from '../unit/cli/cli-harness.js';

const clock = createFakeClock(Date.UTC(2026, 2, 1, 9));
const trusted = generateSigningKeyPair();
const stranger = generateSigningKeyPair();

const digestOf = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const sign = (bytes: Uint8Array, model: string, pem = trusted.privateKeyPem): VersionSignature =>
  signArtifactDocument({ digest: digestOf(bytes), model }, createPrivateKey(pem), clock);

interface AuditEntry {
  action?: string;
  actor?: string;
  outcome?: string;
  target?: string;
  details?: { endpoint?: string; code?: string; reason?: string; message?: string; digest?: string; actualDigest?: string | null; keyId?: string };
}

async function refusals(s: TestServer): Promise<AuditEntry[]> {
  const res = await fetch(`${s.url}/api/v1/audit?action=artifact.refused`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
  assert.equal(res.status, 200);
  return (await res.text())
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditEntry)
    .filter((e) => e.action === 'artifact.refused');
}

/** Pushes bytes with a signature in the query string (as `slipway models push --signature` does); returns status and body. */
async function pushSigned(s: TestServer, model: string, bytes: Uint8Array, signature: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${s.url}/api/v1/models/${model}/versions?signature=${encodeURIComponent(typeof signature === 'string' ? signature : JSON.stringify(signature))}`, {
    method: 'POST',
    headers: adminHeaders({ 'content-type': 'application/octet-stream' }),
    body: bytes,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

interface DeployedView {
  version: number;
  state: string;
  role: string;
  error?: { code: string; message: string };
}

/** Polls the endpoint until `version` has failed to load (bounded), and returns that version's view. */
async function waitForFailure(s: TestServer, endpoint: string, version: number): Promise<DeployedView> {
  for (let i = 0; i < 500; i++) {
    const r = await s.call('GET', `/api/v1/endpoints/${endpoint}`);
    const versions = ((r.json.endpoint as { deployment?: { versions: DeployedView[] } | null } | undefined)?.deployment?.versions ?? []);
    const failed = versions.find((v) => v.version === version && v.state === 'failed');
    if (failed !== undefined) return failed;
    if (versions.some((v) => v.version === version && v.state === 'ready')) assert.fail(`version ${version} of ${endpoint} loaded, but it should have been refused`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`version ${version} of ${endpoint} neither failed nor loaded`);
}

async function createEndpoint(s: TestServer, name: string, model: string, version: number): Promise<void> {
  const r = await s.call('POST', '/api/v1/endpoints', { name, model, version });
  assert.equal(r.status, 201, JSON.stringify(r.json));
}

describe('signed artifacts where signatures are required', () => {
  let s: TestServer;
  let keyDir: string;
  before(async () => {
    keyDir = mkdtempSync(join(tmpdir(), 'slipway-keys-'));
    writeFileSync(join(keyDir, 'release.pub'), trusted.publicKeyPem);
    s = await startTestServer({
      overrides: {
        'security.signing.trustedKeys': [join(keyDir, 'release.pub')],
        'security.signing.requireSignature': true,
        'security.signing.endpoints': { lenient: { requireSignature: false } },
      },
    });
  });
  after(async () => {
    await s.stop();
    rmSync(keyDir, { recursive: true, force: true });
  });

  test('a version signed by a trusted key is pushed, shown as verified, deployed and serves', async () => {
    const bytes = addModel(1);
    const pushed = await pushSigned(s, 'signed', bytes, sign(bytes, 'signed'));
    assert.equal(pushed.status, 201, JSON.stringify(pushed.json));
    assert.deepEqual(pushed.json.signature, { keyId: trusted.keyId, signedAt: '2026-03-01T09:00:00.000Z', verified: true });
    const shown = await s.call('GET', '/api/v1/models/signed/versions/1');
    assert.deepEqual(shown.json.signature, { keyId: trusted.keyId, signedAt: '2026-03-01T09:00:00.000Z', verified: true });
    await s.deploy('signed', 'signed', 1);
    const answer = await s.call('POST', '/v2/models/signed/infer', addRequest([[1, 2, 3, 4]]));
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
  });

  test('an unsigned version is refused at load with a clear error and an audit entry, and loads once signed', async () => {
    const bytes = addModel(2);
    await s.push('unsigned', bytes);
    assert.equal((await s.call('GET', '/api/v1/models/unsigned/versions/1')).json.signature, null);
    await createEndpoint(s, 'unsigned', 'unsigned', 1);
    const failed = await waitForFailure(s, 'unsigned', 1);
    assert.equal(failed.error?.code, 'SECURITY_SIGNATURE_REQUIRED');
    assert.match(failed.error?.message ?? '', /endpoint "unsigned" loads only artifacts signed by a trusted key \(security\.signing\.requireSignature\), and unsigned:1 is not signed/);
    const infer = await s.call('POST', '/v2/models/unsigned/infer', addRequest([[1, 2, 3, 4]]));
    assert.equal(infer.status, 503);
    assert.match(String(infer.json.error), /SECURITY_SIGNATURE_REQUIRED/);

    const entry = (await refusals(s)).find((e) => e.target === 'unsigned:1');
    assert.ok(entry, 'an artifact.refused entry for unsigned:1');
    assert.equal(entry.actor, 'system');
    assert.equal(entry.outcome, 'denied');
    assert.equal(entry.details?.endpoint, 'unsigned');
    assert.equal(entry.details?.code, 'SECURITY_SIGNATURE_REQUIRED');
    assert.equal(entry.details?.reason, 'unsigned');

    // `slipway endpoints show` says why, in full
    const show = await runCli(['--server', s.url, 'endpoints', 'show', 'unsigned'], { env: ADMIN_ENV });
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /unsigned:1 failed: SECURITY_SIGNATURE_REQUIRED: endpoint "unsigned" loads only artifacts signed by a trusted key/);

    // signing it afterwards lets the endpoint load it
    const attached = await s.call('POST', '/api/v1/models/unsigned/versions/1/signature', sign(bytes, 'unsigned'));
    assert.equal(attached.status, 200, JSON.stringify(attached.json));
    assert.deepEqual(attached.json.signature, { keyId: trusted.keyId, signedAt: '2026-03-01T09:00:00.000Z', verified: true });
    await s.waitForVersion('unsigned', 1);
  });

  test('a version signed by a key the server does not trust is kept unverified and refused at load', async () => {
    const bytes = addModel(3);
    const pushed = await pushSigned(s, 'foreign', bytes, sign(bytes, 'foreign', stranger.privateKeyPem));
    assert.equal(pushed.status, 201, JSON.stringify(pushed.json));
    assert.deepEqual(pushed.json.signature, { keyId: stranger.keyId, signedAt: '2026-03-01T09:00:00.000Z', verified: false });
    await createEndpoint(s, 'foreign', 'foreign', 1);
    const failed = await waitForFailure(s, 'foreign', 1);
    assert.equal(failed.error?.code, 'SECURITY_SIGNATURE_REQUIRED');
    assert.match(failed.error?.message ?? '', new RegExp(`signed by ${stranger.keyId}, which is not one of the 1 trusted keys`));
    const entry = (await refusals(s)).find((e) => e.target === 'foreign:1');
    assert.equal(entry?.details?.reason, 'untrusted-key');
    assert.equal(entry?.details?.keyId, stranger.keyId);
  });

  test('an endpoint whose own policy does not require signatures loads an unsigned version', async () => {
    await s.push('plain', addModel(4));
    await s.deploy('lenient', 'plain', 1);
  });

  test('a signature of other bytes is refused at the API naming the field, and nothing changes', async () => {
    const bytes = addModel(5);
    await s.push('mismatch', bytes);
    const other = addModel(6);
    const attach = await s.call('POST', '/api/v1/models/mismatch/versions/1/signature', sign(other, 'mismatch'));
    assert.equal(attach.status, 400);
    assert.equal(attach.json.code, 'REGISTRY_SIGNATURE_MISMATCH');
    assert.match(String(attach.json.error), new RegExp(`^digest: the signature is for ${digestOf(other)}, but the artifact of model "mismatch" is ${digestOf(bytes)}`));
    assert.equal((await s.call('GET', '/api/v1/models/mismatch/versions/1')).json.signature, null);

    const push = await pushSigned(s, 'mismatch2', bytes, sign(other, 'mismatch2'));
    assert.equal(push.status, 400);
    assert.equal(push.json.code, 'REGISTRY_SIGNATURE_MISMATCH');
    assert.match(String(push.json.error), /^signature\.digest: /);
    assert.equal((await s.call('GET', '/api/v1/models/mismatch2')).status, 404, 'nothing registered');

    const malformed = await s.call('POST', '/api/v1/models/mismatch/versions/1/signature', { ...sign(bytes, 'mismatch'), keyId: 'nope' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.json.code, 'CONTROL_INVALID_BODY');
    assert.match(String(malformed.json.error), /keyId: expected "ed25519:"/);
    const badPush = await pushSigned(s, 'mismatch3', bytes, '{"digest": 1}');
    assert.equal(badPush.status, 400);
    assert.equal(badPush.json.code, 'CONTROL_INVALID_METADATA');
    assert.match(String(badPush.json.error), /signature\.digest: expected "sha256:"/);
  });
});

describe('an artifact altered on disk', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'slipway-tamper-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('is refused at the next load with SECURITY_ARTIFACT_TAMPERED and an audit entry, and never served', async () => {
    const bytes = addModel(7);
    const first = await startTestServer({ dataDir });
    let digest: string;
    try {
      await first.push('victim', bytes);
      await first.deploy('victim', 'victim', 1);
      digest = String(((await first.call('GET', '/api/v1/models/victim/versions/1')).json.version as { digest: string }).digest);
    } finally {
      await first.stop();
    }
    assert.equal(digest, digestOf(bytes));

    // someone with write access to the data directory changes one byte of the stored model
    const blob = join(dataDir, 'blobs', 'sha256', digest.slice('sha256:'.length));
    chmodSync(blob, 0o644);
    const altered = Buffer.from(readFileSync(blob));
    altered[altered.length - 1] = (altered[altered.length - 1] ?? 0) ^ 0xff;
    writeFileSync(blob, altered);
    chmodSync(blob, 0o444);

    const second = await startTestServer({ dataDir });
    try {
      const failed = await waitForFailure(second, 'victim', 1);
      assert.equal(failed.error?.code, 'SECURITY_ARTIFACT_TAMPERED');
      assert.match(failed.error?.message ?? '', new RegExp(`the artifact of victim:1 has been altered: it hashes to sha256:[0-9a-f]{64}, but ${digest} was recorded when it was pushed`));
      const infer = await second.call('POST', '/v2/models/victim/infer', addRequest([[1, 2, 3, 4]]));
      assert.equal(infer.status, 503);
      const entry = (await refusals(second)).find((e) => e.target === 'victim:1');
      assert.ok(entry, 'an artifact.refused entry for victim:1');
      assert.equal(entry.actor, 'system');
      assert.equal(entry.details?.code, 'SECURITY_ARTIFACT_TAMPERED');
      assert.equal(entry.details?.reason, 'digest-mismatch');
      assert.equal(entry.details?.digest, digest);
      assert.notEqual(entry.details?.actualDigest, digest);
    } finally {
      await second.stop();
    }
  });
});

describe('trusted key files', () => {
  test('a bad key file stops the start, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-badkey-'));
    try {
      const junk = join(dir, 'junk.pub');
      writeFileSync(junk, 'not a key\n');
      await assert.rejects(
        startTestServer({ dataDir: join(dir, 'data'), overrides: { 'security.signing.trustedKeys': [junk] } }),
        (error: unknown) => error instanceof PlatformError && error.code === 'SECURITY_SIGNATURE_BAD_KEY' && error.message.includes(junk),
      );
      await assert.rejects(
        startTestServer({ dataDir: join(dir, 'data'), env: { SLIPWAY_SECURITY_SIGNING_TRUSTED_KEYS_DIR: join(dir, 'missing') } }),
        (error: unknown) => error instanceof PlatformError && error.code === 'SECURITY_SIGNATURE_KEY_UNREADABLE' && error.message.includes(join(dir, 'missing')),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
