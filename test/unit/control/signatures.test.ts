/** The control API and artifact signatures: sent with an upload (query, header, multipart field), attached later, shown. */
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createFakeClock } from '../../../src/core/index.js';
import { addModel } from '../../support/models.js';
import { createSignatureVerifier, generateSigningKeyPair, signArtifactDocument, type SignatureDocument } from '../../../src/security/signing/index.js';
import { request, startControlHarness, type ControlHarness } from './harness.js';

const trusted = generateSigningKeyPair();
const clock = createFakeClock(Date.UTC(2026, 2, 1, 9));
const digestOf = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const sign = (bytes: Uint8Array, model = 'adder'): SignatureDocument => signArtifactDocument({ digest: digestOf(bytes), model }, createPrivateKey(trusted.privateKeyPem), clock);
const VIEW = { keyId: trusted.keyId, signedAt: '2026-03-01T09:00:00.000Z', verified: true };

void describe('control API: artifact signatures', () => {
  let h: ControlHarness;
  before(async () => {
    h = await startControlHarness({ signatures: createSignatureVerifier(new Map([[trusted.keyId, createPublicKey(trusted.publicKeyPem)]])) });
  });
  after(() => h.close());

  const upload = (bytes: Uint8Array, query = '', headers: Record<string, string> = {}) =>
    request(h.url, 'POST', `/api/v1/models/adder/versions${query}`, { body: bytes, headers: { 'content-type': 'application/octet-stream', ...headers } });

  void test('takes a signature in the query string, an X-Slipway-Signature header or a multipart field', async () => {
    const one = addModel(1);
    const byQuery = await upload(one, `?signature=${encodeURIComponent(JSON.stringify(sign(one)))}`);
    assert.equal(byQuery.status, 201, JSON.stringify(byQuery.body));
    assert.deepEqual(byQuery.body.signature, VIEW);

    const two = addModel(2);
    const byHeader = await upload(two, '', { 'x-slipway-signature': JSON.stringify(sign(two)) });
    assert.equal(byHeader.status, 201, JSON.stringify(byHeader.body));
    assert.deepEqual(byHeader.body.signature, VIEW);

    const three = addModel(3);
    const form = new FormData();
    form.append('signature', JSON.stringify(sign(three)));
    form.append('file', new Blob([three]), 'model.onnx');
    const res = await fetch(`${h.url}/api/v1/models/adder/versions`, { method: 'POST', body: form });
    assert.equal(res.status, 201);
    assert.deepEqual(((await res.json()) as { signature: unknown }).signature, VIEW);
    assert.deepEqual(h.leftoverUploads(), []);
  });

  void test('shows signature null for an unsigned version, and attaches one to it', async () => {
    const four = addModel(4);
    const pushed = await upload(four);
    assert.equal(pushed.status, 201);
    assert.equal(pushed.body.signature, null);
    const n = (pushed.body.version as { version: number }).version;
    assert.equal((await request(h.url, 'GET', `/api/v1/models/adder/versions/${n}`)).body.signature, null);
    const attached = await request(h.url, 'POST', `/api/v1/models/adder/versions/${n}/signature`, { json: sign(four) });
    assert.equal(attached.status, 200, JSON.stringify(attached.body));
    assert.deepEqual(attached.body.signature, VIEW);
    assert.deepEqual((await request(h.url, 'GET', `/api/v1/models/adder/versions/${n}`)).body.signature, VIEW);
    // the version list carries the stored signature record itself
    const listed = (await request(h.url, 'GET', '/api/v1/models/adder/versions')).body.versions as { version: number; artifactSignature?: { keyId: string } }[];
    assert.equal(listed.find((v) => v.version === n)?.artifactSignature?.keyId, trusted.keyId);
  });

  void test('refuses a bad attach body naming the field, and an unknown version with 404', async () => {
    const one = addModel(1);
    const cases: [unknown, string][] = [
      [undefined, 'body'],
      [[1], 'body'],
      [{ ...sign(one), colour: 'red' }, 'colour'],
      [{ ...sign(one), signature: 'abc' }, 'signature'],
      [{ ...sign(one), metadata: [1] }, 'metadata'],
    ];
    for (const [json, path] of cases) {
      const r = await request(h.url, 'POST', '/api/v1/models/adder/versions/1/signature', json === undefined ? {} : { json });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.code, 'CONTROL_INVALID_BODY');
      assert.deepEqual((r.body.details as { problems: { path: string }[] }).problems.map((p) => p.path), [path]);
    }
    const other = await request(h.url, 'POST', '/api/v1/models/adder/versions/1/signature', { json: sign(addModel(9)) });
    assert.equal(other.status, 400);
    assert.equal(other.body.code, 'REGISTRY_SIGNATURE_MISMATCH');
    assert.equal((other.body.details as { field: string }).field, 'digest');
    const missing = await request(h.url, 'POST', '/api/v1/models/adder/versions/99/signature', { json: sign(one) });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'REGISTRY_VERSION_NOT_FOUND');
  });

  void test('refuses an upload with a malformed signature before storing it, naming the field', async () => {
    const five = addModel(5);
    const r = await upload(five, `?signature=${encodeURIComponent(JSON.stringify({ ...sign(five), keyId: 'x' }))}`);
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'CONTROL_INVALID_METADATA');
    assert.deepEqual((r.body.details as { problems: { path: string }[] }).problems.map((p) => p.path), ['signature.keyId']);
    const notJson = await upload(five, '?signature=%7Bnope');
    assert.deepEqual((notJson.body.details as { problems: { path: string }[] }).problems.map((p) => p.path), ['signature']);
    assert.deepEqual(h.leftoverUploads(), []);
  });
});
