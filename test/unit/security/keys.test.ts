/** The key service on the memory store with a fake clock: tokens, states, rotation, last use, bootstrap. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createFakeClock } from '../../../src/core/index.js';
import { createKeyService, hashToken, readKeySpec } from '../../../src/security/index.js';
import { createMemoryKeyStore } from '../../../src/storage/index.js';

const spec = (over: Record<string, unknown> = {}) => readKeySpec({ name: 'ci', roles: ['deployer'], ...over }, Date.UTC(2026, 0, 1));

describe('key service', () => {
  test('a created token authenticates; the store holds only its hash; listings show a hint', async () => {
    const store = createMemoryKeyStore();
    const keys = createKeyService({ store, clock: createFakeClock() });
    const { token, key } = await keys.create(spec(), 'key:admin');
    const found = keys.authenticate(token);
    assert.ok(found.ok);
    assert.equal(found.principal.id, 'key:ci');
    assert.deepEqual(found.principal.roles, ['deployer']);
    const stored = await store.list();
    assert.equal(stored[0]?.hash, hashToken(token));
    assert.ok(!JSON.stringify(stored).includes(token));
    assert.equal(key.hint, `${token.slice(0, 12)}…`);
    assert.deepEqual(keys.authenticate(token + 'x'), { ok: false, reason: 'unknown' });
  });

  test('expiry, revocation and rotation with and without grace, by the clock', async () => {
    const clock = createFakeClock();
    const keys = createKeyService({ store: createMemoryKeyStore(), clock });
    const short = await keys.create(spec({ expiresInSeconds: 60 }), 'x');
    await clock.advance(59_999);
    assert.ok(keys.authenticate(short.token).ok);
    await clock.advance(1);
    assert.equal((keys.authenticate(short.token) as { reason: string }).reason, 'expired');

    const a = await keys.create(spec(), 'x');
    const r1 = await keys.rotate(a.key.id, 0, 'x');
    assert.equal((keys.authenticate(a.token) as { reason: string }).reason, 'revoked');
    assert.ok(keys.authenticate(r1.token).ok);
    const r2 = await keys.rotate(r1.key.id, 3600, 'x');
    assert.ok(keys.authenticate(r1.token).ok, 'the grace keeps the old token');
    await clock.advance(3600_000);
    assert.equal((keys.authenticate(r1.token) as { reason: string }).reason, 'expired');
    assert.ok(keys.authenticate(r2.token).ok);
    assert.equal(keys.get(r2.key.id).rotatedFrom, r1.key.id);
    await assert.rejects(keys.rotate(a.key.id, 0, 'x'), { code: 'SECURITY_KEY_REVOKED' });
    await keys.revoke(r2.key.id, 'x');
    assert.equal((keys.authenticate(r2.token) as { reason: string }).reason, 'revoked');
    await assert.rejects(keys.revoke('key_0000000000000000', 'x'), { code: 'SECURITY_KEY_NOT_FOUND' });
  });

  test('last use is kept in memory, shown at once, and written at the flush (and survives a reload)', async () => {
    const clock = createFakeClock();
    const store = createMemoryKeyStore();
    const keys = createKeyService({ store, clock, flushIntervalMs: 60_000 });
    const { token, key } = await keys.create(spec(), 'x');
    assert.equal(keys.get(key.id).lastUsedAt, null);
    await clock.advance(5000);
    keys.authenticate(token);
    assert.equal(keys.get(key.id).lastUsedAt, new Date(clock.now()).toISOString());
    assert.equal((await store.list())[0]?.lastUsedAt, null, 'not written per request');
    await clock.advance(60_000);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await store.list())[0]?.lastUsedAt, new Date(Date.UTC(2026, 0, 1) + 5000).toISOString());
    const reloaded = createKeyService({ store, clock });
    await reloaded.load();
    assert.ok(reloaded.authenticate(token).ok);
  });

  test('bootstrap creates one admin key, writes it 0600, and does nothing once keys exist', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-keys-'));
    try {
      const keys = createKeyService({ store: createMemoryKeyStore(), clock: createFakeClock() });
      const made = await keys.bootstrap({ keyFile: join(dir, 'admin.key') });
      assert.equal(made?.generated, true);
      assert.equal(readFileSync(join(dir, 'admin.key'), 'utf8').trim(), made.token);
      assert.equal(statSync(join(dir, 'admin.key')).mode & 0o777, 0o600);
      assert.equal(await keys.bootstrap({ keyFile: join(dir, 'admin.key') }), undefined);
      const other = createKeyService({ store: createMemoryKeyStore(), clock: createFakeClock() });
      await assert.rejects(other.bootstrap({ keyFile: join(dir, 'b.key'), bootstrapToken: 'too short' }), { code: 'SECURITY_BOOTSTRAP_KEY_INVALID' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('readKeySpec names each bad field', () => {
    const bad = (body: unknown, field: RegExp) => assert.throws(() => readKeySpec(body, 0), (e: Error & { code?: string }) => e.code === 'SECURITY_INVALID_KEY_SPEC' && field.test(e.message));
    bad([], /JSON object/);
    bad({ roles: ['viewer'] }, /name/);
    bad({ name: 'x', roles: 'viewer' }, /roles/);
    bad({ name: 'x', roles: ['viewer'], scope: { teams: ['a'] } }, /scope\.teams/);
    bad({ name: 'x', roles: ['viewer'], expiresInSeconds: -5 }, /expiresInSeconds/);
    bad({ name: 'x', roles: ['viewer'], expiresAt: '2030-01-01', expiresInSeconds: 5 }, /not both/);
    bad({ name: 'x', roles: ['viewer'], limits: { ratePerSecond: 1 } }, /limits/);
    assert.deepEqual(readKeySpec({ name: 'x', roles: ['viewer', 'viewer'], scope: { models: ['a-*'] } }, 0).scope, { models: ['a-*'], endpoints: ['*'] });
  });
});
