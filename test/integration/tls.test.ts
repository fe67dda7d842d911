/**
 * HTTPS and mTLS against the real server (docs/security.md): `server.tls` with a self-signed pair
 * from the same helper `slipway tls self-signed` uses; client certificates when required; bad
 * certificate files refused at start with the setting named.
 */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createSelfSignedCertificate, issueClientCertificate, writeCertificatePair, type CertificatePair } from '../../src/security/tls/index.js';
import { startTestServer, TEST_ADMIN_KEY, type TestServer } from '../support/server.js';

function get(url: string, options: { ca: string; cert?: string; key?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', ca: options.ca, ...(options.cert === undefined ? {} : { cert: options.cert, key: options.key }), headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTPS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-tls-'));
  let pair: CertificatePair;
  let s: TestServer;
  let mtls: TestServer;
  let client: CertificatePair;
  before(async () => {
    pair = await createSelfSignedCertificate({ days: 30 });
    await writeCertificatePair(dir, pair);
    client = await issueClientCertificate({ ca: pair, commonName: 'ci-runner', days: 30 });
    const files = { 'server.tls.enabled': true, 'server.tls.cert': join(dir, 'cert.pem'), 'server.tls.key': join(dir, 'key.pem') };
    s = await startTestServer({ overrides: files });
    mtls = await startTestServer({ overrides: { ...files, 'server.tls.ca': join(dir, 'cert.pem'), 'server.tls.clientCertificates': 'require' } });
  });
  after(async () => {
    await s.stop();
    await mtls.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the server speaks HTTPS with the configured certificate', async () => {
    assert.match(s.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await get(`${s.url}/api/v1/models`, { ca: pair.certPem });
    assert.equal(r.status, 200, r.body);
  });

  test('a client that does not trust the certificate fails the handshake', async () => {
    const other = await createSelfSignedCertificate({ days: 1 });
    await assert.rejects(get(`${s.url}/v2/health/live`, { ca: other.certPem }), /self[- ]signed|unable to verify|certificate/i);
  });

  test('mTLS: no client certificate is refused, one signed by the configured CA is served', async () => {
    await assert.rejects(get(`${mtls.url}/v2/health/live`, { ca: pair.certPem }), /certificate|socket hang up|ECONNRESET|alert/i);
    const ok = await get(`${mtls.url}/v2/health/live`, { ca: pair.certPem, cert: client.certPem, key: client.keyPem });
    assert.equal(ok.status, 200, ok.body);
    const stranger = await issueClientCertificate({ ca: await createSelfSignedCertificate({ days: 1 }), commonName: 'stranger', days: 1 });
    await assert.rejects(get(`${mtls.url}/v2/health/live`, { ca: pair.certPem, cert: stranger.certPem, key: stranger.keyPem }), /certificate|socket hang up|ECONNRESET|alert/i);
  });

  test('a key that does not match the certificate, or a missing file, stops the start naming server.tls', async () => {
    const wrongKey = join(dir, 'wrong-key.pem');
    writeFileSync(wrongKey, (await createSelfSignedCertificate({ days: 1 })).keyPem);
    await assert.rejects(startTestServer({ overrides: { 'server.tls.enabled': true, 'server.tls.cert': join(dir, 'cert.pem'), 'server.tls.key': wrongKey } }), /server\.tls\.key/);
    await assert.rejects(startTestServer({ overrides: { 'server.tls.enabled': true, 'server.tls.cert': join(dir, 'nope.pem'), 'server.tls.key': wrongKey } }), /server\.tls\.cert[\s\S]*nope\.pem|nope\.pem[\s\S]*server\.tls\.cert/);
    await assert.rejects(startTestServer({ overrides: { 'server.tls.enabled': true } }), /server\.tls\.cert/);
  });
});
