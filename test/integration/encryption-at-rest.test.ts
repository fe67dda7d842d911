/**
 * Encryption at rest on the real server (docs/security.md#encryption-at-rest): with
 * SLIPWAY_MASTER_KEYS set, a pushed model is stored encrypted (its bytes nowhere on disk in clear)
 * and still served; a restart whose keyring lacks the key refuses to load it, loudly, and serves
 * nothing; a rotation (new key first, old second) and a rewrap move every blob to the new key, so a
 * restart with the new key alone serves again. Payload-log bodies are sealed on disk and opened by
 * the export.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { buildModel } from '../../src/onnx/index.js';
import { generateMasterKeyLine } from '../../src/security/encryption/index.js';
import { ADMIN_ENV, addRequest, adminHeaders, startTestServer, type TestServer } from '../support/server.js';
import { runCli } from '../unit/cli/cli-harness.js';

/** A name that appears in the ONNX file's bytes, and so must never appear in a blob on disk. */
const INITIALIZER = 'slipway_at_rest_secret_initializer_4f9c2a';
/** A value sent in a request: it must reach the export, never a payload segment in clear. */
const DISTINCTIVE = 31337.625;

/** y = x + 0.5 for x: FP32 [batch, 4], with a distinctive initializer name. */
function model(): Uint8Array {
  return buildModel({
    graph: {
      inputs: [{ name: 'x', elemType: 'FLOAT', shape: ['batch', 4] }],
      outputs: [{ name: 'y', elemType: 'FLOAT', shape: ['batch', 4] }],
      initializers: [{ name: INITIALIZER, elemType: 'FLOAT', dims: [1], values: [0.5] }],
      nodes: [{ opType: 'Add', inputs: ['x', INITIALIZER], outputs: ['y'] }],
    },
    opsets: [{ domain: '', version: 13 }],
  });
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    out = statSync(path).isDirectory() ? [...out, ...filesUnder(path)] : [...out, path];
  }
  return out;
}

const OLD = generateMasterKeyLine('old');
const NEW = generateMasterKeyLine('new');
const dataDir = mkdtempSync(join(tmpdir(), 'slipway-at-rest-'));
const overrides = { 'monitoring.payloadLog.bodies.sampleRate': 1, 'monitoring.payloadLog.flushIntervalMs': 50 };
let s: TestServer | undefined;
const start = async (keys: string): Promise<TestServer> => {
  s = await startTestServer({ dataDir, env: { SLIPWAY_MASTER_KEYS: keys }, overrides });
  await s.settled;
  return s;
};
const stop = async (): Promise<void> => {
  await s?.stop();
  s = undefined;
};
after(async () => {
  await stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function infer(server: TestServer): Promise<{ status: number; json: Record<string, unknown> }> {
  return server.call('POST', '/v2/models/secret/infer', addRequest([[DISTINCTIVE, 1, 2, 3]]));
}

/** The export's lines once `count` entries are in (bounded: the log writes within its flush interval). */
async function exported(server: TestServer, count: number): Promise<Record<string, unknown>[]> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const r = await fetch(`${server.url}/api/v1/payloads?endpoint=secret`, { headers: adminHeaders() });
    assert.equal(r.status, 200, await r.clone().text());
    const lines = (await r.text()).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    if (lines.length >= count) return lines;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`the payload export did not reach ${count} entries`);
}

describe('encryption at rest on the real server', () => {
  let blobPath = '';

  test('a pushed model is stored encrypted, served correctly, and its payload bodies sealed on disk', async () => {
    const server = await start(OLD);
    const version = await server.push('secret-model', model());
    const info = await server.call('GET', `/api/v1/models/secret-model/versions/${version}`);
    const digest = (info.json.version as { digest: string }).digest;
    blobPath = join(dataDir, 'blobs', 'sha256', digest.slice('sha256:'.length));
    const onDisk = readFileSync(blobPath);
    assert.equal(onDisk.subarray(0, 8).toString('latin1'), 'SLWENC01');
    assert.equal(onDisk.indexOf(INITIALIZER), -1, 'the initializer name is in the blob in clear');
    // nor is a plaintext copy left anywhere in the data directory (uploads and staging are removed)
    for (const file of filesUnder(dataDir)) assert.equal(readFileSync(file).indexOf(INITIALIZER), -1, `${file} holds the model in clear`);

    await server.deploy('secret', 'secret-model', version);
    const answer = await infer(server);
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    const y = (answer.json.outputs as { name: string; data: number[] }[]).find((o) => o.name === 'y');
    assert.deepEqual(y?.data, [DISTINCTIVE + 0.5, 1.5, 2.5, 3.5]);

    // the export shows the bodies; the segment files hold them sealed, metadata in clear
    const [entry] = await exported(server, 1);
    assert.match(JSON.stringify(entry?.request), /31337\.625/);
    assert.match(JSON.stringify(entry?.response), /31337\.625|31338\.125/);
    assert.equal(entry?.sealed, undefined);
    const segments = filesUnder(join(dataDir, 'payloads')).map((f) => readFileSync(f, 'utf8')).join('');
    assert.ok(segments.includes('"endpoint":"secret"'), 'metadata stays clear');
    assert.ok(segments.includes('"sealed":true') && segments.includes('enc:v1:old:'), 'bodies are sealed under the active key');
    assert.ok(!segments.includes('31337.625') && !segments.includes('31338.125'), 'a body value is in a payload segment in clear');

    const status = await server.call('GET', '/api/v1/encryption');
    assert.equal(status.status, 200);
    assert.deepEqual({ enabled: status.json.enabled, activeKeyId: status.json.activeKeyId, keyIds: status.json.keyIds, source: status.json.source }, {
      enabled: true,
      activeKeyId: 'old',
      keyIds: ['old'],
      source: 'SLIPWAY_MASTER_KEYS',
    });
    assert.deepEqual(status.json.blobs, { total: 1, plaintext: 0, byKey: { old: 1 }, unreadable: 0 });
    await stop();
  });

  test('a restart whose keyring lacks the key fails the load loudly and serves nothing', async () => {
    const server = await start(NEW);
    const ep = await server.call('GET', '/api/v1/endpoints/secret');
    const versions = (ep.json.endpoint as { deployment: { versions: { state: string; error?: { code: string; message: string } }[] } }).deployment.versions;
    assert.equal(versions[0]?.state, 'failed', JSON.stringify(ep.json));
    // the load checks (integrity, then the runtime's reader) name the missing master key
    assert.match(versions[0]?.error?.code ?? '', /^SECURITY_ENCRYPTION_UNKNOWN_KEY$/);
    assert.match(versions[0]?.error?.message ?? '', /master key "old".*does not hold/);
    const refused = await infer(server);
    assert.equal(refused.status, 503);
    assert.match(String(refused.json.error), /master key "old"/);
    // the payload export cannot open the bodies sealed under "old": it says so instead of answering garbage
    const r = await fetch(`${server.url}/api/v1/payloads?endpoint=secret`, { headers: adminHeaders() });
    assert.equal(r.status, 409);
    const body = (await r.json()) as { code: string; error: string };
    assert.equal(body.code, 'SECURITY_ENCRYPTION_UNREADABLE');
    assert.match(body.error, /master key "old"/);
    // and a rewrap cannot move what it cannot unwrap: it reports the blob and the entry, exit code 11 from the CLI
    const cli = await runCli(['--server', server.url, 'encryption', 'rewrap'], { env: ADMIN_ENV });
    assert.equal(cli.code, 11, cli.stdout + cli.stderr);
    assert.match(cli.stdout, /0 encrypted, 0 already on it, 1 failed/);
    assert.match(cli.stdout, /payload log: 0 entries sealed again .* 1 failed/);
    assert.match(cli.stdout, /SECURITY_ENCRYPTION_UNKNOWN_KEY/);
    assert.match(cli.stdout, /SECURITY_ENCRYPTION_UNREADABLE/);
    await stop();
  });

  test('rotation: new key first, old second, rewrap; then the new key alone serves', async () => {
    const rotated = await start(`${NEW}\n${OLD}\n`);
    await rotated.waitForVersion('secret', 1);
    const before = readFileSync(blobPath);
    const cli = await runCli(['--server', rotated.url, '--json', 'encryption', 'rewrap'], { env: ADMIN_ENV });
    assert.equal(cli.code, 0, cli.stderr);
    const moved = JSON.parse(cli.stdout) as { blobs: Record<string, unknown>; payloads: { resealed: number; failedCount: number; activeKeyId: string } };
    assert.deepEqual(moved.blobs, { total: 1, rewrapped: 1, encrypted: 0, unchanged: 0, failed: [], activeKeyId: 'new' });
    // the one entry whose bodies were sealed under "old" (the 503 of the last start was sealed under "new")
    assert.deepEqual([moved.payloads.resealed, moved.payloads.failedCount, moved.payloads.activeKeyId], [1, 0, 'new']);
    const after = readFileSync(blobPath);
    // the data were not re-encrypted: the file keeps its length and its last chunk
    assert.equal(after.length, before.length);
    assert.ok(after.subarray(after.length - 64).equals(before.subarray(before.length - 64)));
    const status = await runCli(['--server', rotated.url, 'encryption', 'status'], { env: ADMIN_ENV });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /under key new\s+1/);
    // a second run finds nothing to move
    const again = await rotated.call('POST', '/api/v1/encryption/rewrap');
    assert.deepEqual((again.json.blobs as { unchanged: number }).unchanged, 1);
    assert.deepEqual((again.json.payloads as { resealed: number }).resealed, 0);
    const segments = filesUnder(join(dataDir, 'payloads')).map((f) => readFileSync(f, 'utf8')).join('');
    assert.ok(!segments.includes('enc:v1:old:'), 'a payload body is still sealed under the old key');
    await stop();

    const server = await start(NEW);
    await server.waitForVersion('secret', 1);
    const answer = await infer(server);
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.deepEqual((answer.json.outputs as { name: string; data: number[] }[])[0]?.data, [DISTINCTIVE + 0.5, 1.5, 2.5, 3.5]);
    // the bodies first sealed under "old" export with the new key alone
    const bodies = await exported(server, 3);
    assert.ok(bodies.filter((e) => JSON.stringify(e.request).includes('31337.625')).length >= 2, JSON.stringify(bodies));
    // new bodies are sealed under the new key, and the status shows every blob on it
    const status2 = await server.call('GET', '/api/v1/encryption');
    assert.deepEqual(status2.json.blobs, { total: 1, plaintext: 0, byKey: { new: 1 }, unreadable: 0 });
    // a reference profile runs the model in a session of its own, loaded through the same reader
    const csv = ['a,b,c,d', ...Array.from({ length: 20 }, (_, i) => `${i},${i + 1},${i + 2},${i + 3}`)].join('\n');
    const res = await fetch(`${server.url}/api/v1/models/secret-model/versions/1/profile?source=rows.csv`, { method: 'PUT', headers: adminHeaders({ 'content-type': 'text/csv' }), body: csv });
    const profiled = (await res.json()) as { profile?: { rows: number } };
    assert.equal(res.status, 200, JSON.stringify(profiled));
    assert.equal(profiled.profile?.rows, 20);
    await stop();
  });

  test('a keyring that cannot be loaded stops the start, naming the variable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-at-rest-bad-'));
    try {
      await assert.rejects(startTestServer({ dataDir: dir, env: { SLIPWAY_MASTER_KEYS: 'k1:not-base64' } }), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'SECURITY_ENCRYPTION_KEYRING_INVALID');
        assert.match(error.message, /SLIPWAY_MASTER_KEYS, line 1/);
        assert.doesNotMatch(error.message, /not-base64/);
        return true;
      });
      await assert.rejects(
        startTestServer({ dataDir: dir, env: { SLIPWAY_MASTER_KEYS: OLD }, overrides: { 'security.encryption.masterKeyFile': join(dir, 'keys.txt') } }),
        /both security\.encryption\.masterKeyFile .* and SLIPWAY_MASTER_KEYS are set/,
      );
      await assert.rejects(startTestServer({ dataDir: dir, overrides: { 'security.encryption.masterKeyFile': join(dir, 'missing.txt') } }), /missing\.txt.*ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
