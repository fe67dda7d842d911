/** Payload-log bodies under encryption at rest: sealed on disk, metadata clear, opened by the export, plaintext to the webhook. */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createFakeClock, PlatformError } from '../../../../src/core/index.js';
import { compilePayloadLogOptions, openPayloadLog, type PayloadEntry } from '../../../../src/monitoring/payload-log/index.js';
import { generateMasterKeyLine, parseMasterKeyring } from '../../../../src/security/encryption/index.js';
import { capture, collect, config, tempDir } from './helpers.js';

const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);
const K1 = parseMasterKeyring(generateMasterKeyLine('k1'));
const SECRET = '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[424242.5,2]}]}';

async function segmentText(dir: string): Promise<string> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.jsonl'));
  assert.ok(names.length > 0, 'no segment written');
  return (await Promise.all(names.map((n) => readFile(join(dir, n), 'utf8')))).join('');
}

async function exportFails(entries: AsyncIterable<PayloadEntry>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(collect(entries), (error: unknown) => {
    assert.ok(error instanceof PlatformError);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return true;
  });
}

describe('payload log with a master keyring', () => {
  test('bodies are sealed on disk with metadata clear, and the export opens them', async () => {
    const { dir, cleanup } = await tempDir();
    const log = await openPayloadLog({ dir, config: config({ bodies: { sampleRate: 1 } }), clock: createFakeClock(T0), keyring: K1 });
    try {
      log.record(capture({ requestBody: SECRET, requestId: 'sealed-entry-0001' }));
      log.record(capture({ requestBody: undefined, responseBody: undefined, requestId: 'no-bodies-0001' }));
      await log.flush();
      const text = await segmentText(dir);
      assert.ok(!text.includes('424242.5'), 'a request value is on disk in clear');
      assert.ok(!text.includes('0.9'), 'a response value is on disk in clear');
      assert.ok(text.includes('"requestId":"sealed-entry-0001"') && text.includes('"endpoint":"fraud"') && text.includes('"status":200'));
      const stored = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(stored[0]?.sealed, true);
      assert.match(String(stored[0]?.request), /^enc:v1:k1:/);
      assert.match(String(stored[0]?.response), /^enc:v1:k1:/);
      assert.equal(stored[1]?.sealed, undefined, 'an entry without bodies has nothing to seal');

      const [entry, bare] = await collect(log.entries());
      assert.deepEqual(entry?.request, JSON.parse(SECRET));
      assert.deepEqual(entry?.response, { model_name: 'fraud', outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: [0.9] }] });
      assert.equal(entry?.sealed, undefined);
      assert.equal(bare?.request, undefined);
      // the filters read the clear metadata
      assert.deepEqual((await collect(log.entries({ requestId: 'sealed-entry-0001' }))).length, 1);
    } finally {
      await log.close();
      await cleanup();
    }
  });

  test('an export that cannot open the bodies fails naming the master key, never answers garbage', async () => {
    const { dir, cleanup } = await tempDir();
    const writer = await openPayloadLog({ dir, config: config({ bodies: { sampleRate: 1 } }), clock: createFakeClock(T0), keyring: K1 });
    writer.record(capture({ requestBody: SECRET, requestId: 'sealed-entry-0002' }));
    await writer.close();
    try {
      const plain = await openPayloadLog({ dir, config: config({ enabled: false }), clock: createFakeClock(T0) });
      await exportFails(plain.entries(), 'SECURITY_ENCRYPTION_NOT_CONFIGURED', /sealed-entry-0002.*master key "k1".*no master keyring/);
      const other = await openPayloadLog({ dir, config: config({ enabled: false }), clock: createFakeClock(T0), keyring: parseMasterKeyring(generateMasterKeyLine('k2')) });
      await exportFails(other.entries(), 'SECURITY_ENCRYPTION_UNREADABLE', /master key "k1"/);
      const impostor = await openPayloadLog({ dir, config: config({ enabled: false }), clock: createFakeClock(T0), keyring: parseMasterKeyring(generateMasterKeyLine('k1')) });
      await exportFails(impostor.entries(), 'SECURITY_ENCRYPTION_UNREADABLE', /master key "k1".*cannot be opened/);
    } finally {
      await cleanup();
    }
  });

  test('a sealed body moved to another entry or field does not open', async () => {
    const { dir, cleanup } = await tempDir();
    const log = await openPayloadLog({ dir, config: config({ bodies: { sampleRate: 1 } }), clock: createFakeClock(T0), keyring: K1 });
    try {
      log.record(capture({ requestBody: SECRET, requestId: 'moved-from-0001' }));
      log.record(capture({ requestBody: '{"inputs":[]}', requestId: 'moved-to-00001' }));
      await log.flush();
      const [name] = (await readdir(dir)).filter((n) => n.endsWith('.jsonl'));
      const path = join(dir, name ?? '');
      const [a, b] = (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.ok(a !== undefined && b !== undefined);
      await writeFile(path, `${JSON.stringify(a)}\n${JSON.stringify({ ...b, request: a.request })}\n`);
      await exportFails(log.entries({ requestId: 'moved-to-00001' }), 'SECURITY_ENCRYPTION_UNREADABLE', /moved-to-00001.*request body/);
      await writeFile(path, `${JSON.stringify({ ...a, request: a.response, response: a.request })}\n`);
      await exportFails(log.entries(), 'SECURITY_ENCRYPTION_UNREADABLE', /moved-from-0001/);
    } finally {
      await log.close();
      await cleanup();
    }
  });

  test('without a keyring a body that looks sealed is plain text, exported as it is', async () => {
    const { dir, cleanup } = await tempDir();
    const log = await openPayloadLog({ dir, config: config({ bodies: { sampleRate: 1 } }), clock: createFakeClock(T0) });
    try {
      const lookalike = `enc:v1:k1:${'A'.repeat(120)}`;
      log.record(capture({ requestBody: lookalike, requestId: 'lookalike-0001' }));
      await log.flush();
      const [entry] = await collect(log.entries());
      assert.equal(entry?.request, lookalike);
    } finally {
      await log.close();
      await cleanup();
    }
  });

  test('a rewrap seals bodies under older keys again under the active key, so the old key can go', async () => {
    const { dir, cleanup } = await tempDir();
    const k1 = generateMasterKeyLine('k1');
    const k2 = generateMasterKeyLine('k2');
    const lost = generateMasterKeyLine('lost');
    try {
      const before = await openPayloadLog({ dir, config: config({ bodies: { sampleRate: 1 } }), clock: createFakeClock(T0), keyring: parseMasterKeyring(k1) });
      for (let i = 0; i < 3; i++) before.record(capture({ requestBody: SECRET, requestId: `rotate-old-000${i}` }));
      await before.close();
      const orphan = await openPayloadLog({ dir, config: config({ bodies: { sampleRate: 1 } }), clock: createFakeClock(T0), keyring: parseMasterKeyring(lost) });
      orphan.record(capture({ requestBody: SECRET, requestId: 'rotate-lost-0001' }));
      await orphan.close();

      const rotated = await openPayloadLog({ dir, config: config({ bodies: { sampleRate: 1 } }), clock: createFakeClock(T0), keyring: parseMasterKeyring(`${k2}\n${k1}`) });
      rotated.record(capture({ requestBody: SECRET, requestId: 'rotate-new-0001' }));
      await rotated.flush();
      const report = await rotated.rewrapBodies();
      assert.equal(report.resealed, 3);
      assert.equal(report.failedCount, 1);
      assert.deepEqual(report.failed.map((f) => [f.requestId, f.code]), [['rotate-lost-0001', 'SECURITY_ENCRYPTION_UNREADABLE']]);
      assert.equal(report.activeKeyId, 'k2');
      assert.equal(report.rewritten, 1, 'only the segment holding k1 bodies is replaced');
      // writing goes on after the rewrap, into a new segment
      rotated.record(capture({ requestBody: SECRET, requestId: 'rotate-after-0001' }));
      await rotated.close();
      const text = await segmentText(dir);
      assert.ok(!text.includes('enc:v1:k1:'), 'a body is still sealed under k1');
      assert.ok(text.includes('enc:v1:lost:'), 'a body that did not open is kept as it was');
      assert.ok(!text.includes('424242.5'));
      assert.equal((await readdir(dir)).filter((n) => n.includes('.rewrite-')).length, 0, 'no temporary file is left');

      // k1 has left the keyring: everything but the orphan still exports
      const after = await openPayloadLog({ dir, config: config({ enabled: false }), clock: createFakeClock(T0), keyring: parseMasterKeyring(k2) });
      const moved = await collect(after.entries({ requestId: 'rotate-old-0001' }));
      assert.deepEqual(moved[0]?.request, JSON.parse(SECRET));
      assert.equal((await collect(after.entries({ endpoint: 'fraud', limit: 3 }))).length, 3);
      // a second rewrap (recording off: no writer) has only the orphan left to report
      const again = await after.rewrapBodies();
      assert.deepEqual([again.resealed, again.failedCount, again.rewritten], [0, 1, 0]);
    } finally {
      await cleanup();
    }
  });

  test('a rewrap without a keyring is refused', async () => {
    const { dir, cleanup } = await tempDir();
    const log = await openPayloadLog({ dir, config: config(), clock: createFakeClock(T0) });
    try {
      await assert.rejects(log.rewrapBodies(), (error: unknown) => error instanceof PlatformError && error.code === 'SECURITY_ENCRYPTION_NOT_CONFIGURED');
    } finally {
      await log.close();
      await cleanup();
    }
  });

  test('the webhook gets plaintext bodies while the disk holds them sealed', async () => {
    const { dir, cleanup } = await tempDir();
    const batches: unknown[] = [];
    const fakeFetch = (async (_url: string | URL | Request, init?: RequestInit) => {
      batches.push(JSON.parse(init?.body as string));
      return new Response(null, { status: 204 });
    }) as typeof fetch;
    const log = await openPayloadLog({
      dir,
      config: compilePayloadLogOptions({ bodies: { sampleRate: 1 }, webhook: { url: 'http://127.0.0.1:9/hook', batchSize: 10 } }),
      clock: createFakeClock(T0),
      keyring: K1,
      fetch: fakeFetch,
    });
    try {
      log.record(capture({ requestBody: SECRET, requestId: 'webhook-plain-01' }));
      await log.close();
      assert.match(JSON.stringify(batches), /424242\.5/);
      assert.doesNotMatch(JSON.stringify(batches), /enc:v1:/);
      assert.ok(!(await segmentText(dir)).includes('424242.5'));
    } finally {
      await cleanup();
    }
  });
});
