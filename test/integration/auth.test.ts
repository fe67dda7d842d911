/**
 * Authentication and authorization over HTTP against the real server (docs/security.md): the
 * route-protection walk (every registered route: 401 without credentials, 403 with a role that
 * lacks its permission, through with one that has it), keys revoked and rotated taking effect on
 * the next request, scopes, expiry, bootstrap, an open data plane, auth switched off, and JWTs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { PERMISSIONS, PUBLIC_PERMISSIONS, ROLES, type Permission, type Role } from '../../src/security/index.js';
import { addModel } from '../support/models.js';
import { addRequest, startTestServer, TEST_ADMIN_KEY, type TestServer } from '../support/server.js';

function raw(s: TestServer, method: string, path: string, key: string | undefined, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return s.callAs(key, method, path, body);
}

async function createKey(s: TestServer, body: Record<string, unknown>): Promise<{ id: string; token: string }> {
  const r = await s.call('POST', '/api/v1/keys', body);
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return { id: (r.json.key as { id: string }).id, token: r.json.token as string };
}

/** A concrete path for a route pattern: names that exist nowhere, version 1. */
function concrete(url: string): string {
  return url.replace(/:version\b/g, '1').replace(/:(\w+)/g, 'no-such-$1').replace(/\*/g, 'x');
}

describe('route protection', () => {
  let s: TestServer;
  const tokens = new Map<Role, string>();
  before(async () => {
    s = await startTestServer();
    for (const role of Object.keys(ROLES) as Role[]) tokens.set(role, (await createKey(s, { name: `walk-${role}`, roles: [role] })).token);
  });
  after(() => s.stop());

  test('every registered route declares a permission from the table, and the keys routes need admin', () => {
    const routes = s.routes();
    assert.ok(routes.length > 40, `expected the whole API, got ${routes.length} routes`);
    for (const r of routes) assert.ok((PERMISSIONS as readonly string[]).includes(r.permission), `${r.method} ${r.url}`);
    for (const r of routes.filter((x) => x.url.startsWith('/api/v1/keys'))) assert.equal(r.permission, 'admin', `${r.method} ${r.url}`);
    // scoped keys are checked against the names these routes carry
    assert.deepEqual(routes.find((r) => r.url === '/v2/models/:name/infer')?.resource, { endpoint: 'name' });
    assert.deepEqual(routes.find((r) => r.url === '/api/v1/models/:model/versions')?.resource, { model: 'model' });
  });

  test('walk: 401 without credentials, 401 with an unknown key, 403 with a role lacking the permission, through with one holding it', async () => {
    const checked: string[] = [];
    for (const r of s.routes()) {
      if (r.method === 'HEAD' || r.method === 'OPTIONS') continue;
      const path = concrete(r.url);
      const body = r.method === 'GET' || r.method === 'DELETE' ? undefined : {};
      const where = `${r.method} ${r.url}`;
      if (PUBLIC_PERMISSIONS.has(r.permission)) {
        const anon = await raw(s, r.method, path, undefined, body);
        assert.ok(anon.status !== 401 && anon.status !== 403, `${where} is public, got ${anon.status}`);
        continue;
      }
      const anon = await raw(s, r.method, path, undefined, body);
      assert.equal(anon.status, 401, `${where} without credentials: ${JSON.stringify(anon.json)}`);
      assert.equal(anon.json.code, 'SECURITY_UNAUTHENTICATED', where);
      const unknown = await raw(s, r.method, path, 'slw_not-a-real-key', body);
      assert.equal(unknown.status, 401, `${where} with an unknown key`);
      const lacking = (Object.keys(ROLES) as Role[]).filter((role) => !(ROLES[role] as readonly Permission[]).includes(r.permission));
      assert.ok(lacking.length > 0, `${where}: some role must lack ${r.permission}`);
      for (const role of lacking) {
        const denied = await raw(s, r.method, path, tokens.get(role), body);
        assert.equal(denied.status, 403, `${where} as ${role}: ${JSON.stringify(denied.json)}`);
        assert.equal(denied.json.code, 'SECURITY_FORBIDDEN');
        assert.match(String(denied.json.error), new RegExp(r.permission));
      }
      const holder = (Object.keys(ROLES) as Role[]).find((role) => role !== 'admin' && (ROLES[role] as readonly Permission[]).includes(r.permission)) ?? 'admin';
      const allowed = await raw(s, r.method, path, tokens.get(holder), body);
      assert.ok(allowed.status !== 401 && allowed.status !== 403, `${where} as ${holder} must pass auth, got ${allowed.status} ${JSON.stringify(allowed.json)}`);
      checked.push(where);
    }
    assert.ok(checked.length > 30, `walked ${checked.length} protected routes`);
  });
});

describe('keys', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
    await s.push('fraud-model', addModel(1));
    await s.deploy('fraud-a', 'fraud-model', 1);
    await s.deploy('other', 'fraud-model', 1);
  });
  after(() => s.stop());

  test('the bootstrap admin key is in admin.key with mode 0600, and listings never show a token or its hash', async () => {
    const file = join(s.dataDir, 'admin.key');
    assert.equal(readFileSync(file, 'utf8').trim(), TEST_ADMIN_KEY);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(s.auth.createdAdminKey?.generated, false);
    const list = await s.call('GET', '/api/v1/keys');
    const text = JSON.stringify(list.json);
    assert.ok(!text.includes(TEST_ADMIN_KEY) && !text.includes('"hash"'), text);
    assert.deepEqual((list.json.keys as { name: string; roles: string[] }[]).map((k) => [k.name, k.roles]), [['admin', ['admin']]]);
  });

  test('a revoked key fails on the next request', async () => {
    const k = await createKey(s, { name: 'ci', roles: ['deployer'] });
    assert.equal((await raw(s, 'GET', '/api/v1/models', k.token)).status, 200);
    const revoked = await s.call('DELETE', `/api/v1/keys/${k.id}`);
    assert.equal((revoked.json.key as { state: string }).state, 'revoked');
    const after = await raw(s, 'GET', '/api/v1/models', k.token);
    assert.equal(after.status, 401);
    assert.match(String(after.json.error), /revoked/);
  });

  test('rotation: without grace the old token stops at once; with grace both work until it ends', async () => {
    const k = await createKey(s, { name: 'app', roles: ['predictor'] });
    const r = await s.call('POST', `/api/v1/keys/${k.id}/rotate`, { graceSeconds: 0 });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const fresh = r.json.token as string;
    assert.equal((await raw(s, 'POST', '/v2/models/fraud-a/infer', k.token, addRequest([[1, 2, 3, 4]]))).status, 401);
    assert.equal((await raw(s, 'POST', '/v2/models/fraud-a/infer', fresh, addRequest([[1, 2, 3, 4]]))).status, 200);
    assert.equal((r.json.key as { rotatedFrom: string }).rotatedFrom, k.id);

    const g = await s.call('POST', `/api/v1/keys/${(r.json.key as { id: string }).id}/rotate`, { graceSeconds: 1 });
    const newest = g.json.token as string;
    assert.equal((await raw(s, 'POST', '/v2/models/fraud-a/infer', fresh, addRequest([[1, 2, 3, 4]]))).status, 200, 'old key works during the grace');
    assert.equal((await raw(s, 'POST', '/v2/models/fraud-a/infer', newest, addRequest([[1, 2, 3, 4]]))).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const late = await raw(s, 'POST', '/v2/models/fraud-a/infer', fresh, addRequest([[1, 2, 3, 4]]));
    assert.equal(late.status, 401);
    assert.match(String(late.json.error), /expired/);
    // a revoked key cannot be rotated
    assert.equal((await s.call('POST', `/api/v1/keys/${k.id}/rotate`, {})).status, 409);
  });

  test('scope: a key limited to fraud-* reaches fraud-a and nothing else', async () => {
    const k = await createKey(s, { name: 'fraud-team', roles: ['deployer'], scope: { models: ['fraud-*'], endpoints: ['fraud-*'] } });
    assert.equal((await raw(s, 'POST', '/v2/models/fraud-a/infer', k.token, addRequest([[1, 2, 3, 4]]))).status, 200);
    const other = await raw(s, 'POST', '/v2/models/other/infer', k.token, addRequest([[1, 2, 3, 4]]));
    assert.equal(other.status, 403);
    assert.match(String(other.json.error), /endpoint "other"/);
    assert.equal((await raw(s, 'GET', '/api/v1/models/fraud-model', k.token)).status, 200);
    assert.equal((await raw(s, 'GET', '/api/v1/endpoints/other', k.token)).status, 403);
    // lists are readable; a write that names nothing is not
    assert.equal((await raw(s, 'GET', '/api/v1/endpoints', k.token)).status, 200);
    assert.equal((await raw(s, 'POST', '/api/v1/endpoints', k.token, { name: 'x', model: 'fraud-model', version: 1 })).status, 403);
  });

  test('expiry: a key past expiresInSeconds is refused', async () => {
    const k = await createKey(s, { name: 'short', roles: ['viewer'], expiresInSeconds: 1 });
    assert.equal((await raw(s, 'GET', '/api/v1/models', k.token)).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal((await raw(s, 'GET', '/api/v1/models', k.token)).status, 401);
  });

  test('bad key specs are 400s naming the field', async () => {
    for (const [body, field] of [
      [{ name: 'Bad Name', roles: ['viewer'] }, 'name'],
      [{ name: 'ok', roles: ['root'] }, 'roles'],
      [{ name: 'ok', roles: [] }, 'roles'],
      [{ name: 'ok', roles: ['viewer'], scope: { models: [''] } }, 'scope.models'],
      [{ name: 'ok', roles: ['viewer'], expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt'],
      [{ name: 'ok', roles: ['viewer'], colour: 'red' }, 'colour'],
    ] as const) {
      const r = await s.call('POST', '/api/v1/keys', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.code, 'SECURITY_INVALID_KEY_SPEC');
      assert.match(String(r.json.error), new RegExp(field.replace('.', '\\.')));
    }
    assert.equal((await s.call('POST', '/api/v1/keys/key_0000/rotate', {})).status, 404);
    assert.equal((await s.call('POST', '/api/v1/keys', 'not json')).status, 400);
  });

  test('rate limits: a key over its own limit gets 429 with Retry-After naming the key; other keys are untouched', async () => {
    const k = await createKey(s, { name: 'limited', roles: ['predictor'], limits: { ratePerSecond: 0.5, burst: 2 } });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 3; i++) {
      last = await fetch(`${s.url}/v2/models/fraud-a/infer`, { method: 'POST', headers: { authorization: `Bearer ${k.token}`, 'content-type': 'application/json' }, body: JSON.stringify(addRequest([[1, 2, 3, 4]])) });
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [200, 200, 429]);
    assert.equal(last?.headers.get('retry-after'), '2');
    const body = (await last?.json()) as { error: string; code: string };
    assert.equal(body.code, 'SECURITY_LIMIT_RATE');
    assert.match(body.error, /key "limited" is over its rate limit/);
    assert.equal((await s.call('POST', '/v2/models/fraud-a/infer', addRequest([[1, 2, 3, 4]]))).status, 200, 'the admin key has no limit');
    const metrics = await s.call('GET', '/metrics');
    assert.match(String(metrics.json.raw), /^slipway_rate_limited_total\{scope="key",limit="rate"\} 1$/m);
    const bad = await s.call('POST', '/api/v1/keys', { name: 'x', roles: ['viewer'], limits: { ratePerSecond: -1 } });
    assert.equal(bad.status, 400);
    assert.match(String(bad.json.error), /limits\.ratePerSecond/);
  });

  test('a malformed Authorization header is a 401 that says what is expected', async () => {
    const res = await fetch(`${s.url}/api/v1/models`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    assert.equal(res.status, 401);
    assert.match(((await res.json()) as { error: string }).error, /Bearer/);
  });
});

describe('bootstrap, open data plane, auth off', () => {
  test('with no SLIPWAY_BOOTSTRAP_ADMIN_KEY the first start generates a key, writes it 0600, and the next start reuses it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-boot-'));
    try {
      const first = await startTestServer({ dataDir: dir, env: { SLIPWAY_BOOTSTRAP_ADMIN_KEY: '' } });
      const made = first.auth.createdAdminKey;
      assert.equal(made?.generated, true);
      assert.match(made.token, /^slw_[A-Za-z0-9_-]{43}$/);
      assert.equal(readFileSync(join(dir, 'admin.key'), 'utf8').trim(), made.token);
      assert.equal(statSync(join(dir, 'admin.key')).mode & 0o777, 0o600);
      assert.equal((await raw(first, 'GET', '/api/v1/models', made.token)).status, 200);
      await first.stop();
      const second = await startTestServer({ dataDir: dir, env: { SLIPWAY_BOOTSTRAP_ADMIN_KEY: '' } });
      assert.equal(second.auth.createdAdminKey, undefined);
      assert.equal((await raw(second, 'GET', '/api/v1/models', made.token)).status, 200);
      await second.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a short bootstrap key is refused at start, naming the variable', async () => {
    await assert.rejects(startTestServer({ env: { SLIPWAY_BOOTSTRAP_ADMIN_KEY: 'short' } }), /SLIPWAY_BOOTSTRAP_ADMIN_KEY/);
  });

  test('dataPlane: open lets inference through without a key; the control plane still needs one', async () => {
    const s = await startTestServer({ overrides: { 'security.auth.dataPlane': 'open' } });
    try {
      await s.push('adder', addModel(1));
      await s.deploy('adder', 'adder', 1);
      assert.equal((await raw(s, 'POST', '/v2/models/adder/infer', undefined, addRequest([[1, 2, 3, 4]]))).status, 200);
      assert.equal((await raw(s, 'GET', '/v2/models/adder', undefined)).status, 200);
      assert.equal((await raw(s, 'GET', '/api/v1/models', undefined)).status, 401);
      // a key that is sent is still checked
      assert.equal((await raw(s, 'POST', '/v2/models/adder/infer', 'slw_wrong', addRequest([[1, 2, 3, 4]]))).status, 401);
    } finally {
      await s.stop();
    }
  });

  test('security.auth.enabled: false lets every request through and creates no key', async () => {
    const s = await startTestServer({ overrides: { 'security.auth.enabled': false }, env: { SLIPWAY_BOOTSTRAP_ADMIN_KEY: '' } });
    try {
      assert.equal((await raw(s, 'GET', '/api/v1/models', undefined)).status, 200);
      assert.equal(s.auth.createdAdminKey, undefined);
    } finally {
      await s.stop();
    }
  });
});

describe('JWT bearer tokens', () => {
  let s: TestServer;
  let sign: (claims: Record<string, unknown>, options?: { audience?: string; expiresIn?: string }) => Promise<string>;
  const keyDir = mkdtempSync(join(tmpdir(), 'slipway-jwt-'));
  before(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const file = join(keyDir, 'jwt.pub.pem');
    writeFileSync(file, await exportSPKI(publicKey));
    sign = (claims, options = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256' })
        .setSubject('alice')
        .setIssuer('https://idp.example')
        .setAudience(options.audience ?? 'slipway')
        .setIssuedAt()
        .setExpirationTime(options.expiresIn ?? '5m')
        .sign(privateKey);
    s = await startTestServer({ overrides: { 'security.auth.jwt.publicKeyFile': file, 'security.auth.jwt.issuer': 'https://idp.example', 'security.auth.jwt.audience': 'slipway' } });
  });
  after(async () => {
    await s.stop();
    rmSync(keyDir, { recursive: true, force: true });
  });

  test('a valid token with a viewer role reads and may not write', async () => {
    const token = await sign({ roles: ['viewer'] });
    assert.equal((await raw(s, 'GET', '/api/v1/models', token)).status, 200);
    const denied = await raw(s, 'POST', '/api/v1/endpoints', token, { name: 'x', model: 'y', version: 1 });
    assert.equal(denied.status, 403);
    assert.match(String(denied.json.error), /jwt:alice/);
  });

  test('wrong audience, expired, forged and role-less tokens are 401s', async () => {
    for (const token of [
      await sign({ roles: ['admin'] }, { audience: 'someone-else' }),
      await sign({ roles: ['admin'] }, { expiresIn: '-10m' }),
      await sign({ roles: 'nothing-known' }),
    ]) {
      const r = await raw(s, 'GET', '/api/v1/models', token);
      assert.equal(r.status, 401, JSON.stringify(r.json));
      assert.equal(r.json.code, 'SECURITY_INVALID_TOKEN');
    }
    const good = await sign({ roles: ['admin'] });
    const forged = good.slice(0, -4) + (good.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    assert.equal((await raw(s, 'GET', '/api/v1/models', forged)).status, 401);
  });
});
