/** Where the server's master keyring comes from, and `slipway encryption generate-key`. */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { PlatformError } from '../../../src/core/index.js';
import { compileSecurityOptions, generateMasterKeyLine, loadAtRestKeyring, MASTER_KEYS_ENV, parseMasterKeyring } from '../../../src/security/index.js';
import { runCli } from '../cli/cli-harness.js';

async function rejectsWith(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof PlatformError);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return true;
  });
}

describe('the at-rest master keyring', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-at-rest-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('is off when neither the file nor the variable is set', async () => {
    assert.equal(await loadAtRestKeyring({}), undefined);
    assert.equal(await loadAtRestKeyring({ masterKeyFile: '', envValue: '' }), undefined);
    assert.equal(compileSecurityOptions({}).encryption.masterKeyFile, '');
  });

  test('reads SLIPWAY_MASTER_KEYS, the first line active', async () => {
    const loaded = await loadAtRestKeyring({ envValue: `${generateMasterKeyLine('b')}\n${generateMasterKeyLine('a')}` });
    assert.equal(loaded?.source, MASTER_KEYS_ENV);
    assert.equal(loaded?.keyring.active.id, 'b');
    assert.deepEqual(loaded?.keyring.ids, ['b', 'a']);
  });

  test('reads a key file, and warns when others may read it', { skip: process.platform === 'win32' }, async () => {
    const file = join(dir, 'master.keys');
    writeFileSync(file, `${generateMasterKeyLine('k1')}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    const tight = await loadAtRestKeyring({ masterKeyFile: file });
    assert.equal(tight?.keyring.active.id, 'k1');
    assert.deepEqual(tight?.warnings, []);
    chmodSync(file, 0o644);
    const loose = await loadAtRestKeyring({ masterKeyFile: file });
    assert.match(loose?.warnings[0] ?? '', /mode 0644.*chmod 600/);
  });

  test('refuses both sources, a missing file and a malformed variable, naming them and echoing no key', async () => {
    const line = generateMasterKeyLine('k1');
    await rejectsWith(loadAtRestKeyring({ masterKeyFile: join(dir, 'k'), envValue: line }), 'SECURITY_ENCRYPTION_KEYRING_UNREADABLE', /masterKeyFile.*SLIPWAY_MASTER_KEYS/);
    await rejectsWith(loadAtRestKeyring({ masterKeyFile: join(dir, 'missing') }), 'SECURITY_ENCRYPTION_KEYRING_UNREADABLE', /missing.*ENOENT/);
    const short = `k1:${Buffer.alloc(16, 7).toString('base64')}`;
    await assert.rejects(loadAtRestKeyring({ envValue: short }), (error: unknown) => {
      assert.ok(error instanceof PlatformError);
      assert.equal(error.code, 'SECURITY_ENCRYPTION_KEYRING_INVALID');
      assert.match(error.message, /SLIPWAY_MASTER_KEYS, line 1: key "k1" decodes to 16 bytes/);
      assert.ok(!error.message.includes(short.slice(3)), 'the key material is echoed');
      return true;
    });
  });

  test('the config key takes a path and refuses other keys', () => {
    assert.equal(compileSecurityOptions({ encryption: { masterKeyFile: '/etc/slipway/master.keys' } }).encryption.masterKeyFile, '/etc/slipway/master.keys');
    assert.throws(() => compileSecurityOptions({ encryption: { masterKeys: 'k1:…' } }), /encryption\.masterKeys: unknown key/);
    assert.throws(() => compileSecurityOptions({ encryption: { masterKeyFile: 7 } }), /encryption\.masterKeyFile: must be a string/);
  });
});

describe('slipway encryption generate-key', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-genkey-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('prints a keyring line', async () => {
    const r = await runCli(['encryption', 'generate-key', 'k1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^k1:[A-Za-z0-9+/]{43}=\n$/);
    assert.equal(parseMasterKeyring(r.stdout).active.id, 'k1');
  });

  test('creates a 0600 keyring file, then puts a new key first keeping the old ones', async () => {
    const file = join(dir, 'master.keys');
    assert.equal((await runCli(['encryption', 'generate-key', 'old', '--out', file])).code, 0);
    if (process.platform !== 'win32') assert.equal(statSync(file).mode & 0o777, 0o600);
    const first = readFileSync(file, 'utf8');
    const r = await runCli(['encryption', 'generate-key', 'new', '--out', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /new is now the first \(active\) key/);
    const ring = parseMasterKeyring(readFileSync(file, 'utf8'));
    assert.deepEqual(ring.ids, ['new', 'old']);
    assert.ok(readFileSync(file, 'utf8').endsWith(first), 'the old key is kept as it was');
    const again = await runCli(['encryption', 'generate-key', 'old', '--out', file]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already has a key "old"/);
    const bad = await runCli(['encryption', 'generate-key', 'bad id']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /key id "bad id"/);
  });
});
