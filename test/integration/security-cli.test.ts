/**
 * `slipway keys`, `slipway audit` and `slipway tls` against the real server (or none, for tls and
 * a local audit check): what a person types, and what a script reads back.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_ENV, startTestServer, type TestServer } from '../support/server.js';
import { runCli } from '../unit/cli/cli-harness.js';

describe('slipway keys and audit', () => {
  let s: TestServer;
  const cli = (...argv: string[]) => runCli(['--server', s.url, ...argv], { env: ADMIN_ENV });
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.stop());

  test('create prints only the token on stdout; list, show, rotate and revoke work by name', async () => {
    const created = await cli('keys', 'create', 'shop', '--role', 'predictor', '--endpoint', 'digits', '--rate', '5');
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.match(token, /^slw_[A-Za-z0-9_-]{43}$/);
    assert.match(created.stderr, /shown only now/);

    const list = await cli('keys', 'list');
    assert.match(list.stdout, /shop\s+predictor\s+models \*; endpoints digits\s+active\s+slw_/);
    assert.ok(!list.stdout.includes(token));
    const show = await cli('keys', 'show', 'shop');
    assert.match(show.stdout, /limits\s+\{"ratePerSecond":5\}/);

    const rotated = await cli('keys', 'rotate', 'shop', '--grace', '1h');
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.notEqual(rotated.stdout.trim(), token);
    assert.match(rotated.stderr, /works until/);
    // two active keys share the name during the grace: the CLI asks for an id
    const ambiguous = await cli('keys', 'revoke', 'shop');
    assert.equal(ambiguous.code, 2);
    assert.match(ambiguous.stderr, /2 active keys are named "shop"/);

    const json = JSON.parse((await cli('keys', 'list', '--json')).stdout) as { keys: { id: string; name: string; state: string }[] };
    for (const k of json.keys.filter((x) => x.name === 'shop')) assert.equal((await cli('keys', 'revoke', k.id)).code, 0);
    const gone = await cli('keys', 'revoke', 'shop');
    assert.equal(gone.code, 3);
    assert.match(gone.stderr, /no active key is named "shop"/);
  });

  test('bad flags and refusals exit with their codes', async () => {
    assert.equal((await cli('keys', 'create', 'x', '--expires', 'soon')).code, 2);
    const badRole = await cli('keys', 'create', 'x', '--role', 'root');
    assert.equal(badRole.code, 5);
    assert.match(badRole.stderr, /roles must be/);
    const noKey = await runCli(['--server', s.url, 'keys', 'list']);
    assert.equal(noKey.code, 7);
    assert.match(noKey.stderr, /SECURITY_UNAUTHENTICATED/);
  });

  test('audit verify asks the server; audit export streams JSON lines to a file', async () => {
    const verify = await cli('audit', 'verify');
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /intact — \d+ entries/);
    const dir = mkdtempSync(join(tmpdir(), 'slipway-audit-export-'));
    try {
      const out = join(dir, 'audit.jsonl');
      const exported = await cli('audit', 'export', '--action', 'auth.denied', '-o', out);
      assert.equal(exported.code, 0, exported.stderr);
      const lines = readFileSync(out, 'utf8').trim().split('\n');
      assert.ok(lines.length >= 1);
      for (const l of lines) assert.equal((JSON.parse(l) as { action: string }).action, 'auth.denied');
      assert.match(exported.stderr, new RegExp(`Exported ${lines.length} audit entr`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal((await cli('audit', 'verify', '--public-key', 'x.pub')).code, 2, '--public-key needs --data-dir');
  });
});

describe('slipway tls self-signed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-tls-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('writes a certificate, a 0600 key and a client certificate signed by it; refuses to overwrite without --force', async () => {
    const r = await runCli(['tls', 'self-signed', '--out', dir, '--client', 'ci-runner', '--days', '10']);
    assert.equal(r.code, 0, r.stderr);
    const cert = new X509Certificate(readFileSync(join(dir, 'cert.pem')));
    assert.match(cert.subjectAltName ?? '', /DNS:localhost/);
    assert.equal(statSync(join(dir, 'key.pem')).mode & 0o777, 0o600);
    const client = new X509Certificate(readFileSync(join(dir, 'client.pem')));
    assert.ok(client.checkIssued(cert), 'the client certificate is signed by the server certificate');
    assert.ok(existsSync(join(dir, 'client-key.pem')));
    const again = await runCli(['tls', 'self-signed', '--out', dir]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /cert\.pem/);
    assert.equal((await runCli(['tls', 'self-signed', '--out', dir, '--force'])).code, 0);
  });
});
