import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { createFakeClock, PlatformError } from '../../../src/core/index.js';
import {
  certificateExpiryWarning,
  compileTlsOptions,
  createSelfSignedCertificate,
  issueClientCertificate,
  loadTlsOptions,
  TLS_OPTION_KEYS,
  writeCertificatePair,
  type CertificatePair,
  type LoadedTlsOptions,
} from '../../../src/security/tls/index.js';

const DAY_MS = 86_400_000;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-tls-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Asserts that `fn` throws (or rejects with) a PlatformError with `code` whose message contains every fragment. */
async function rejectsWith(fn: () => unknown, code: string, ...fragments: string[]): Promise<PlatformError> {
  let caught: unknown;
  try {
    await fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof PlatformError, `expected a PlatformError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const f of fragments) assert.ok(caught.message.includes(f), `message ${JSON.stringify(caught.message)} lacks ${JSON.stringify(f)}`);
  return caught;
}

interface Reply {
  readonly status: number;
  readonly body: string;
}

function get(port: number, tls: { ca?: string; cert?: string; key?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', method: 'GET', servername: 'localhost', agent: false, ...tls }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Asserts the server refused the client's certificate (or its absence): a TLS alert or a reset, not a server certificate the client distrusts. */
async function refused(reply: Promise<Reply>): Promise<void> {
  await assert.rejects(reply, (error: NodeJS.ErrnoException) => {
    assert.match(String(error.code), /^(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE|ERR_SSL_TLSV1_ALERT_UNKNOWN_CA|ECONNRESET|EPIPE)$/, error.message);
    return true;
  });
}

async function listen(options: LoadedTlsOptions): Promise<{ server: Server; port: number }> {
  const server = createServer(options, (req, res) => {
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerCertificate();
    const cn = peer.subject === undefined ? '-' : String(peer.subject.CN);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`hello ${cn} authorized=${String(socket.authorized)}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The dev CA (also the server certificate), on disk, made once for the whole file. */
let dev: CertificatePair;
let devFiles: { certPath: string; keyPath: string };
before(async () => {
  dev = await createSelfSignedCertificate();
  devFiles = await writeCertificatePair(tempDir(), dev);
});

describe('createSelfSignedCertificate', () => {
  test('parses, carries the SANs and EKUs, is a CA, its key matches, validity is the days asked for', async () => {
    const clock = createFakeClock(Date.UTC(2026, 2, 3, 12, 30, 15, 700));
    const pair = await createSelfSignedCertificate({ days: 90, clock });
    const cert = new X509Certificate(pair.certPem);
    assert.equal(cert.subject, 'CN=localhost');
    assert.equal(cert.subject, cert.issuer);
    assert.deepEqual(
      cert.subjectAltName?.split(', ').sort(),
      ['DNS:localhost', 'IP Address:0:0:0:0:0:0:0:1', 'IP Address:127.0.0.1'],
    );
    assert.ok(cert.checkPrivateKey(createPrivateKey(pair.keyPem)));
    assert.ok(cert.verify(cert.publicKey), 'self-signed');
    assert.equal(cert.ca, true);
    assert.deepEqual([...(cert.keyUsage ?? [])].sort(), [SERVER_AUTH, CLIENT_AUTH].sort());
    assert.equal(cert.publicKey.asymmetricKeyType, 'ec');
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const from = Date.parse(cert.validFrom);
    const to = Date.parse(cert.validTo);
    assert.equal(from, Date.UTC(2026, 2, 3, 12, 30, 15));
    assert.equal(to - from, 90 * DAY_MS);
    assert.match(pair.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  });

  test('takes a common name and alt names; two certificates differ in key and serial', async () => {
    const pair = await createSelfSignedCertificate({ commonName: 'slipway.internal', altNames: ['slipway.internal', '10.0.0.7'] });
    const cert = new X509Certificate(pair.certPem);
    assert.equal(cert.subject, 'CN=slipway.internal');
    assert.equal(cert.subjectAltName, 'DNS:slipway.internal, IP Address:10.0.0.7');
    const other = new X509Certificate(dev.certPem);
    assert.notEqual(cert.serialNumber, other.serialNumber);
    assert.ok(!cert.checkPrivateKey(createPrivateKey(dev.keyPem)));
  });

  test('refuses bad requests', async () => {
    await rejectsWith(() => createSelfSignedCertificate({ days: 0 }), 'SECURITY_TLS_INVALID_ARGUMENT', 'days');
    await rejectsWith(() => createSelfSignedCertificate({ days: 1.5 }), 'SECURITY_TLS_INVALID_ARGUMENT', 'days');
    await rejectsWith(() => createSelfSignedCertificate({ commonName: ' ' }), 'SECURITY_TLS_INVALID_ARGUMENT', 'commonName');
    await rejectsWith(() => createSelfSignedCertificate({ altNames: [] }), 'SECURITY_TLS_INVALID_ARGUMENT', 'altNames');
    await rejectsWith(() => createSelfSignedCertificate({ altNames: ['not a host'] }), 'SECURITY_TLS_INVALID_ARGUMENT', 'not a host');
  });
});

describe('issueClientCertificate', () => {
  test('is signed by the CA, for clientAuth only, not a CA itself', async () => {
    const clock = createFakeClock(Date.UTC(2026, 5, 1));
    const ca = await createSelfSignedCertificate({ clock });
    const client = await issueClientCertificate({ ca, commonName: 'batch-job', days: 7, clock });
    const cert = new X509Certificate(client.certPem);
    const caCert = new X509Certificate(ca.certPem);
    assert.equal(cert.subject, 'CN=batch-job');
    assert.equal(cert.issuer, caCert.subject);
    assert.ok(cert.checkIssued(caCert));
    assert.ok(cert.verify(caCert.publicKey));
    assert.ok(!cert.verify(new X509Certificate(dev.certPem).publicKey), 'not signed by another CA');
    assert.equal(cert.ca, false);
    assert.deepEqual(cert.keyUsage, [CLIENT_AUTH]);
    assert.ok(cert.checkPrivateKey(createPrivateKey(client.keyPem)));
    assert.equal(Date.parse(cert.validTo) - Date.parse(cert.validFrom), 7 * DAY_MS);
    assert.equal(Date.parse(cert.validFrom), Date.UTC(2026, 5, 1));
  });

  test('refuses a CA that is no CA, a CA key that does not match, an expired CA', async () => {
    const client = await issueClientCertificate({ ca: dev, commonName: 'c' });
    await rejectsWith(() => issueClientCertificate({ ca: client, commonName: 'x' }), 'SECURITY_TLS_INVALID_ARGUMENT', 'not a CA');
    await rejectsWith(() => issueClientCertificate({ ca: { certPem: dev.certPem, keyPem: client.keyPem }, commonName: 'x' }), 'SECURITY_TLS_KEY_MISMATCH');
    const old = await createSelfSignedCertificate({ days: 1, clock: createFakeClock(Date.UTC(2020, 0, 1)) });
    await rejectsWith(() => issueClientCertificate({ ca: old, commonName: 'x' }), 'SECURITY_TLS_CERT_EXPIRED', '2020-01-02');
  });
});

describe('HTTPS with loadTlsOptions', () => {
  let server: Server | undefined;
  let port = 0;
  before(async () => {
    ({ server, port } = await listen(loadTlsOptions({ cert: devFiles.certPath, key: devFiles.keyPath })));
  });
  after(async () => {
    if (server !== undefined) await close(server);
  });

  test('a client trusting the certificate as CA gets 200', async () => {
    const reply = await get(port, { ca: dev.certPem });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'hello - authorized=false');
  });

  test('a client that does not trust it fails the handshake', async () => {
    await assert.rejects(get(port, {}), (error: NodeJS.ErrnoException) => {
      assert.match(String(error.code), /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/);
      return true;
    });
    const stranger = await createSelfSignedCertificate();
    await assert.rejects(get(port, { ca: stranger.certPem }));
  });

  test('the loaded options describe the certificate', () => {
    const loaded = loadTlsOptions({ cert: devFiles.certPath, key: devFiles.keyPath });
    const cert = new X509Certificate(dev.certPem);
    assert.equal(loaded.subject, 'CN=localhost');
    assert.equal(loaded.fingerprint256, cert.fingerprint256);
    assert.equal(loaded.notAfter.getTime(), Date.parse(cert.validTo));
    assert.equal(loaded.cert, dev.certPem);
    assert.equal(loaded.key, dev.keyPem);
    assert.equal(loaded.requestCert, false);
    assert.equal(loaded.rejectUnauthorized, false);
    assert.equal('ca' in loaded, false);
  });
});

describe('mTLS', () => {
  let server: Server | undefined;
  let port = 0;
  before(async () => {
    const options = loadTlsOptions({ cert: devFiles.certPath, key: devFiles.keyPath, ca: devFiles.certPath, clientCertificates: 'require' });
    assert.equal(options.requestCert, true);
    assert.equal(options.rejectUnauthorized, true);
    assert.equal(options.ca, dev.certPem);
    ({ server, port } = await listen(options));
  });
  after(async () => {
    if (server !== undefined) await close(server);
  });

  test('without a client certificate the handshake fails', async () => {
    await refused(get(port, { ca: dev.certPem }));
  });

  test('with a certificate issued by the dev CA the request succeeds and the server sees its CN', async () => {
    const client = await issueClientCertificate({ ca: dev, commonName: 'model-trainer', days: 1 });
    const reply = await get(port, { ca: dev.certPem, cert: client.certPem, key: client.keyPem });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'hello model-trainer authorized=true');
  });

  test('a client certificate from another CA is refused', async () => {
    const otherCa = await createSelfSignedCertificate({ commonName: 'other-ca' });
    const client = await issueClientCertificate({ ca: otherCa, commonName: 'intruder', days: 1 });
    await refused(get(port, { ca: dev.certPem, cert: client.certPem, key: client.keyPem }));
    // the dev CA's self-signed certificate itself is a valid client certificate (clientAuth, trusted)
    const reply = await get(port, { ca: dev.certPem, cert: dev.certPem, key: dev.keyPem });
    assert.equal(reply.body, 'hello localhost authorized=true');
  });

  test('request mode asks for a certificate but lets clients without one in', async () => {
    const options = loadTlsOptions({ cert: devFiles.certPath, key: devFiles.keyPath, ca: devFiles.certPath, clientCertificates: 'request' });
    assert.equal(options.requestCert, true);
    assert.equal(options.rejectUnauthorized, false);
    const running = await listen(options);
    try {
      assert.equal((await get(running.port, { ca: dev.certPem })).body, 'hello - authorized=false');
      const client = await issueClientCertificate({ ca: dev, commonName: 'optional', days: 1 });
      assert.equal((await get(running.port, { ca: dev.certPem, cert: client.certPem, key: client.keyPem })).body, 'hello optional authorized=true');
    } finally {
      await close(running.server);
    }
  });
});

describe('loadTlsOptions errors', () => {
  test('a missing file names the setting and the path', async () => {
    const missing = join(tempDir(), 'nope.pem');
    const error = await rejectsWith(() => loadTlsOptions({ cert: missing, key: devFiles.keyPath }), 'SECURITY_TLS_FILE_UNREADABLE', 'server.tls.cert', missing, 'no such file');
    assert.equal(error.details?.path, 'server.tls.cert');
    await rejectsWith(() => loadTlsOptions({ cert: devFiles.certPath, key: missing }, { path: 'tls' }), 'SECURITY_TLS_FILE_UNREADABLE', 'tls.key', missing);
    await rejectsWith(() => loadTlsOptions({ cert: devFiles.certPath, key: devFiles.keyPath, ca: missing }), 'SECURITY_TLS_FILE_UNREADABLE', 'server.tls.ca', missing);
    await rejectsWith(() => loadTlsOptions({ cert: '', key: devFiles.keyPath }), 'SECURITY_TLS_FILE_UNREADABLE', 'server.tls.cert is not set');
    await rejectsWith(() => loadTlsOptions({ cert: tempDir(), key: devFiles.keyPath }), 'SECURITY_TLS_FILE_UNREADABLE', 'server.tls.cert');
  });

  test('garbage, a truncated certificate, swapped files and an encrypted key are not PEM as needed', async () => {
    const dir = tempDir();
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'this is not a certificate\n');
    await rejectsWith(() => loadTlsOptions({ cert: garbage, key: devFiles.keyPath }), 'SECURITY_TLS_NOT_PEM', 'server.tls.cert', garbage);
    await rejectsWith(() => loadTlsOptions({ cert: devFiles.certPath, key: garbage }), 'SECURITY_TLS_NOT_PEM', 'server.tls.key', garbage);
    await rejectsWith(
      () => loadTlsOptions({ cert: devFiles.certPath, key: devFiles.keyPath, ca: garbage, clientCertificates: 'require' }),
      'SECURITY_TLS_NOT_PEM',
      'server.tls.ca',
      garbage,
    );
    const broken = join(dir, 'broken.pem');
    writeFileSync(broken, dev.certPem.replace(/\n[A-Za-z0-9+/]{64}\n/, '\nAAAA\n'));
    await rejectsWith(() => loadTlsOptions({ cert: broken, key: devFiles.keyPath }), 'SECURITY_TLS_NOT_PEM', 'server.tls.cert', 'not a valid PEM certificate');
    await rejectsWith(() => loadTlsOptions({ cert: devFiles.keyPath, key: devFiles.certPath }), 'SECURITY_TLS_NOT_PEM', 'swapped');
    const encrypted = join(dir, 'encrypted.pem');
    writeFileSync(encrypted, createPrivateKey(dev.keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }));
    await rejectsWith(() => loadTlsOptions({ cert: devFiles.certPath, key: encrypted }), 'SECURITY_TLS_NOT_PEM', 'server.tls.key', 'encrypted');
  });

  test('the key of another pair is a mismatch', async () => {
    const other = await writeCertificatePair(tempDir(), await createSelfSignedCertificate());
    await rejectsWith(() => loadTlsOptions({ cert: devFiles.certPath, key: other.keyPath }), 'SECURITY_TLS_KEY_MISMATCH', 'server.tls.key', other.keyPath, devFiles.certPath);
  });

  test('an expired certificate is refused, one not valid yet too, judged by the clock given', async () => {
    const past = await writeCertificatePair(tempDir(), await createSelfSignedCertificate({ days: 30, clock: createFakeClock(Date.UTC(2021, 0, 1)) }));
    await rejectsWith(() => loadTlsOptions({ cert: past.certPath, key: past.keyPath }), 'SECURITY_TLS_CERT_EXPIRED', 'server.tls.cert', past.certPath, '2021-01-31T00:00:00.000Z');
    // the same files are fine in January 2021
    const loaded = loadTlsOptions({ cert: past.certPath, key: past.keyPath }, { clock: createFakeClock(Date.UTC(2021, 0, 15)) });
    assert.equal(loaded.notAfter.toISOString(), '2021-01-31T00:00:00.000Z');
    await rejectsWith(
      () => loadTlsOptions({ cert: past.certPath, key: past.keyPath }, { clock: createFakeClock(Date.UTC(2020, 11, 31)) }),
      'SECURITY_TLS_CERT_NOT_YET_VALID',
      '2021-01-01T00:00:00.000Z',
    );
  });

  test('client certificates without a CA are refused', async () => {
    for (const mode of ['request', 'require'] as const) {
      await rejectsWith(() => loadTlsOptions({ cert: devFiles.certPath, key: devFiles.keyPath, clientCertificates: mode }), 'SECURITY_TLS_CA_REQUIRED', 'server.tls.ca', mode);
      await rejectsWith(() => loadTlsOptions({ cert: devFiles.certPath, key: devFiles.keyPath, ca: '', clientCertificates: mode }), 'SECURITY_TLS_CA_REQUIRED');
    }
  });
});

describe('certificateExpiryWarning', () => {
  test('warns within 30 days and after expiry, not before', () => {
    const certificate = { subject: 'CN=localhost', notAfter: new Date(Date.UTC(2026, 6, 1)) };
    assert.equal(certificateExpiryWarning(certificate, { clock: createFakeClock(Date.UTC(2026, 4, 1)) }), undefined);
    assert.equal(certificateExpiryWarning(certificate, { clock: createFakeClock(Date.UTC(2026, 5, 1) - 1) }), undefined);
    const soon = certificateExpiryWarning(certificate, { clock: createFakeClock(Date.UTC(2026, 5, 11)) });
    assert.match(String(soon), /CN=localhost expires in 20 days \(2026-07-01T00:00:00\.000Z\)/);
    assert.match(String(certificateExpiryWarning(certificate, { clock: createFakeClock(Date.UTC(2026, 6, 1) - 3600_000) })), /in less than a day/);
    assert.match(String(certificateExpiryWarning(certificate, { clock: createFakeClock(Date.UTC(2026, 6, 2)) })), /expired on 2026-07-01/);
    assert.equal(certificateExpiryWarning(certificate, { clock: createFakeClock(Date.UTC(2026, 5, 11)), withinDays: 7 }), undefined);
  });
});

describe('writeCertificatePair', () => {
  test('writes the key 0600 and the certificate 0644, leaving no temporary files', async () => {
    const dir = join(tempDir(), 'nested', 'tls');
    const written = await writeCertificatePair(dir, dev);
    assert.equal(written.certPath, join(dir, 'cert.pem'));
    assert.equal(written.keyPath, join(dir, 'key.pem'));
    assert.equal(statSync(written.keyPath).mode & 0o777, 0o600);
    assert.equal(statSync(written.certPath).mode & 0o777, 0o644);
    assert.equal(readFileSync(written.certPath, 'utf8'), dev.certPem);
    assert.equal(readFileSync(written.keyPath, 'utf8'), dev.keyPem);
    assert.deepEqual(readdirSync(dir).sort(), ['cert.pem', 'key.pem']);
  });

  test('refuses to overwrite, naming the file, unless forced', async () => {
    const dir = tempDir();
    await writeCertificatePair(dir, dev, { names: { cert: 'server.crt', key: 'server.key' } });
    const other = await createSelfSignedCertificate();
    await rejectsWith(() => writeCertificatePair(dir, other, { names: { cert: 'server.crt', key: 'server.key' } }), 'SECURITY_TLS_FILE_EXISTS', join(dir, 'server.crt'));
    assert.equal(readFileSync(join(dir, 'server.crt'), 'utf8'), dev.certPem, 'left as it was');
    assert.equal(readFileSync(join(dir, 'server.key'), 'utf8'), dev.keyPem, 'left as it was');
    // only the key exists: still refused, and the certificate is not written either
    const half = tempDir();
    writeFileSync(join(half, 'key.pem'), 'mine');
    await rejectsWith(() => writeCertificatePair(half, other), 'SECURITY_TLS_FILE_EXISTS', join(half, 'key.pem'));
    assert.deepEqual(readdirSync(half), ['key.pem']);

    await writeCertificatePair(dir, other, { names: { cert: 'server.crt', key: 'server.key' }, force: true });
    assert.equal(readFileSync(join(dir, 'server.crt'), 'utf8'), other.certPem);
    assert.equal(statSync(join(dir, 'server.key')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir).sort(), ['server.crt', 'server.key']);
  });

  test('refuses file names that are paths', async () => {
    await rejectsWith(() => writeCertificatePair(tempDir(), dev, { names: { cert: '../cert.pem' } }), 'SECURITY_TLS_INVALID_ARGUMENT', 'names.cert');
  });
});

describe('compileTlsOptions', () => {
  test('defaults: disabled, no files, no client certificates', () => {
    const config = compileTlsOptions(undefined, { path: 'server.tls' });
    assert.deepEqual({ ...config }, { enabled: false, cert: '', key: '', ca: '', clientCertificates: 'none' });
    assert.ok(Object.isFrozen(config));
    assert.equal(compileTlsOptions(config), config);
    assert.deepEqual([...TLS_OPTION_KEYS], ['enabled', 'cert', 'key', 'ca', 'clientCertificates']);
  });

  test('enabled without cert or key names server.tls.cert and server.tls.key', async () => {
    const error = await rejectsWith(() => compileTlsOptions({ enabled: 'true' }, { path: 'server.tls', what: 'server options' }), 'CORE_INVALID_CONFIG', 'server.tls.cert', 'server.tls.key', 'invalid server options');
    const paths = (error.details?.problems as { path: string }[]).map((p) => p.path);
    assert.deepEqual(paths, ['server.tls.cert', 'server.tls.key']);
  });

  test('every problem by path: client certificates without ca, bad mode, wrong types, unknown keys', async () => {
    const error = await rejectsWith(
      () => compileTlsOptions({ enabled: true, cert: 'c.pem', key: 'k.pem', clientCertificates: 'require' }, { path: 'server.tls' }),
      'CORE_INVALID_CONFIG',
      'server.tls.ca',
    );
    assert.equal((error.details?.problems as unknown[]).length, 1);
    const many = await rejectsWith(() => compileTlsOptions({ enabled: 'yes', cert: 5, clientCertificates: 'always', crt: 'x' }, { path: 'server.tls' }), 'CORE_INVALID_CONFIG');
    const paths = (many.details?.problems as { path: string }[]).map((p) => p.path).sort();
    assert.deepEqual(paths, ['server.tls.cert', 'server.tls.clientCertificates', 'server.tls.crt', 'server.tls.enabled']);
  });

  test('a valid enabled section compiles and loads', () => {
    const config = compileTlsOptions({ enabled: true, cert: devFiles.certPath, key: devFiles.keyPath, ca: devFiles.certPath, clientCertificates: 'require' }, { path: 'server.tls' });
    assert.equal(config.clientCertificates, 'require');
    const loaded = loadTlsOptions(config);
    assert.equal(loaded.rejectUnauthorized, true);
    assert.equal(loaded.ca, dev.certPem);
  });
});
