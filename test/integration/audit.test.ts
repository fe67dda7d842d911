/**
 * The audit log against the real server (docs/security.md#audit-log): control-plane changes and
 * auth refusals are recorded with who, what and the outcome; the API exports and verifies it;
 * `slipway audit verify --data-dir` checks the files without a server and names the first entry
 * someone edited or removed. And the secrets test: no token reaches the server's log output, the
 * audit log, the payload log or the database.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { addModel } from '../support/models.js';
import { addRequest, startTestServer, TEST_ADMIN_KEY, type TestServer } from '../support/server.js';
import { runCli } from '../unit/cli/cli-harness.js';

interface Entry {
  seq: number;
  action: string;
  actor: string;
  outcome: string;
  target?: string;
  requestId?: string;
  details?: { status?: number; code?: string };
}

async function exportAudit(s: TestServer, query = ''): Promise<Entry[]> {
  const res = await fetch(`${s.url}/api/v1/audit${query}`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /ndjson/);
  return (await res.text())
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Entry);
}

describe('audit log', () => {
  let s: TestServer;
  let viewerToken: string;
  before(async () => {
    s = await startTestServer({ overrides: { 'security.audit.inference': true } });
    await s.push('adder', addModel(1));
    await s.deploy('adder', 'adder', 1);
    const created = await s.call('POST', '/api/v1/keys', { name: 'dash', roles: ['viewer'] });
    viewerToken = created.json.token as string;
    await fetch(`${s.url}/api/v1/models`); // 401
    await fetch(`${s.url}/api/v1/endpoints/adder`, { method: 'DELETE', headers: { authorization: `Bearer ${viewerToken}` } }); // 403
    await s.call('POST', '/v2/models/adder/infer', addRequest([[1, 2, 3, 4]]));
  });
  after(() => s.stop());

  test('changes, refusals and (when asked) inference calls are recorded with actor, target and outcome', async () => {
    const entries = await exportAudit(s);
    const find = (pred: (e: Entry) => boolean, what: string): Entry => {
      const e = entries.find(pred);
      assert.ok(e, `${what} in ${JSON.stringify(entries.map((x) => [x.action, x.actor, x.outcome]))}`);
      return e;
    };
    find((e) => e.action === 'POST /api/v1/models/:model/versions' && e.actor === 'key:admin' && e.outcome === 'ok' && e.target === '/api/v1/models/adder/versions', 'the push');
    find((e) => e.action === 'POST /api/v1/keys' && e.outcome === 'ok', 'the key creation');
    const anon = find((e) => e.action === 'auth.denied' && e.actor === 'anonymous', 'the 401');
    assert.equal(anon.details?.status, 401);
    assert.equal(anon.details.code, 'SECURITY_UNAUTHENTICATED');
    const denied = find((e) => e.action === 'auth.denied' && e.actor === 'key:dash', 'the 403');
    assert.equal(denied.details?.status, 403);
    assert.equal(denied.target, '/api/v1/endpoints/adder');
    find((e) => e.action === 'inference' && e.target === '/v2/models/adder/infer' && e.outcome === 'ok', 'the inference call');
    // numbered without gaps, oldest first
    assert.deepEqual(
      entries.map((e) => e.seq),
      entries.map((_, i) => i + 1),
    );
    // GETs by an authorised caller are not changes
    assert.ok(!entries.some((e) => e.action.startsWith('GET ')), 'reads are not recorded');
  });

  test('filters, and a bad query names its parameter', async () => {
    const denied = await exportAudit(s, '?action=auth.denied');
    assert.ok(denied.length >= 2 && denied.every((e) => e.action === 'auth.denied'));
    assert.equal((await exportAudit(s, '?actor=key:dash')).length, 1);
    assert.equal((await exportAudit(s, '?limit=1')).length, 1);
    const bad = await s.call('GET', '/api/v1/audit?since=yesterday-ish&colour=red');
    assert.equal(bad.status, 400);
    assert.match(String(bad.json.error), /since/);
    assert.match(String(bad.json.error), /colour/);
  });

  test('the server verifies its own log; a viewer may not read it', async () => {
    const v = await s.call('GET', '/api/v1/audit/verify');
    assert.equal(v.status, 200);
    assert.equal(v.json.ok, true, JSON.stringify(v.json));
    assert.ok((v.json.entries as number) >= 5);
    const res = await fetch(`${s.url}/api/v1/audit`, { headers: { authorization: `Bearer ${viewerToken}` } });
    assert.equal(res.status, 403);
  });
});

describe('slipway audit verify --data-dir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-audit-'));
  before(async () => {
    const s = await startTestServer({ dataDir: dir });
    for (const name of ['a', 'b', 'c']) await s.call('POST', '/api/v1/keys', { name, roles: ['viewer'] });
    await s.stop();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const segment = (): string => {
    const name = readdirSync(join(dir, 'audit')).find((f) => f.endsWith('.jsonl'));
    assert.ok(name);
    return join(dir, 'audit', name);
  };

  test('an untouched log verifies (exit 0); an edited entry fails with exit 11 naming it', async () => {
    const ok = await runCli(['audit', 'verify', '--data-dir', dir]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /intact — 3 entries/);

    const file = segment();
    const original = readFileSync(file, 'utf8');
    try {
      const lines = original.split('\n');
      const second = lines.findIndex((l) => l.includes('"seq":2'));
      lines[second] = (lines[second] ?? '').replace('"outcome":"ok"', '"outcome":"denied"');
      writeFileSync(file, lines.join('\n'));
      const bad = await runCli(['audit', 'verify', '--data-dir', dir]);
      assert.equal(bad.code, 11, bad.stdout + bad.stderr);
      assert.match(bad.stdout, /NOT intact/);
      assert.match(bad.stdout, /first bad entry: 2\b/);

      // a removed entry is named too
      writeFileSync(file, original.split('\n').filter((l) => !l.includes('"seq":2,')).join('\n'));
      const removed = await runCli(['audit', 'verify', '--data-dir', dir]);
      assert.equal(removed.code, 11);
      assert.match(removed.stdout, /first bad entry: 2\b/);
    } finally {
      writeFileSync(file, original);
    }
    assert.equal((await runCli(['audit', 'verify', '--data-dir', dir])).code, 0, 'restored');
  });
});

describe('secrets never reach logs, the audit log, the payload log or the database', () => {
  const bin = fileURLToPath(new URL('../../bin/slipway.js', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'slipway-secrets-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('tokens sent, created and refused appear nowhere but admin.key and the one answer that created them', { timeout: 60_000 }, async () => {
    assert.ok(existsSync(fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))), 'dist/ must be built (npm test builds it)');
    const bootstrap = 'bootstrap-secret-0123456789-abcdefghij';
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--data-dir', dir], {
      env: { ...process.env, SLIPWAY_BOOTSTRAP_ADMIN_KEY: bootstrap, SLIPWAY_LOG_LEVEL: 'trace', SLIPWAY_MONITORING_PAYLOAD_LOG_BODIES_SAMPLE_RATE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    try {
      const deadline = Date.now() + 30_000;
      while (!/listening on (http:\/\/\S+)/.test(out)) {
        assert.ok(Date.now() < deadline && child.exitCode === null, `the server did not start: ${out}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1] ?? '';
      const auth = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
      const created = (await (await fetch(`${url}/api/v1/keys`, { method: 'POST', headers: auth(bootstrap), body: JSON.stringify({ name: 'app', roles: ['predictor'] }) })).json()) as { token: string; key: { id: string } };
      const wrong = 'slw_this-is-a-wrong-but-secret-looking-token-000';
      await fetch(`${url}/api/v1/models`, { headers: auth(wrong) });
      await fetch(`${url}/v2/models/nope/infer`, { method: 'POST', headers: auth(created.token), body: '{"inputs": []}' });
      await fetch(`${url}/v2/models/nope/infer`, { method: 'POST', headers: auth(created.token), body: '{broken' });
      const rotated = (await (await fetch(`${url}/api/v1/keys/${created.key.id}/rotate`, { method: 'POST', headers: auth(bootstrap), body: '{}' })).json()) as { token: string };
      await fetch(`${url}/api/v1/models`, { headers: auth(created.token) }); // revoked by the rotation
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));

      const secrets = [bootstrap, created.token, rotated.token, wrong];
      for (const secret of secrets) assert.ok(!out.includes(secret), `the server's output holds a token: ${secret.slice(0, 8)}…`);
      const files: string[] = [];
      const walk = (d: string): void => {
        for (const name of readdirSync(d)) {
          const p = join(d, name);
          if (statSync(p).isDirectory()) walk(p);
          else if (name !== 'admin.key') files.push(p);
        }
      };
      walk(dir);
      assert.ok(files.some((f) => f.includes(`${join('audit', 'audit-')}`)), 'the audit log was written');
      assert.ok(files.some((f) => f.includes('payloads')), 'the payload log was written');
      for (const f of files) {
        const bytes = readFileSync(f).toString('latin1');
        for (const secret of secrets) assert.ok(!bytes.includes(secret), `${f} holds a token: ${secret.slice(0, 8)}…`);
      }
      assert.equal(readFileSync(join(dir, 'admin.key'), 'utf8').trim(), bootstrap);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

