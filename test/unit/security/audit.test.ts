import assert from 'node:assert/strict';
import { createHash, createPrivateKey } from 'node:crypto';
import { appendFile, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createFakeClock, PlatformError, type FakeClock } from '../../../src/core/index.js';
import {
  openAuditLog,
  readAuditLog,
  verifyAuditLog,
  type AuditEntry,
  type AuditEvent,
  type AuditLog,
  type AuditLogOptions,
  type AuditVerification,
} from '../../../src/security/audit/index.js';
import { canonicalJson, generateSigningKeyPair, signCanonical, type SigningKey } from '../../../src/security/signing/index.js';

function newKey(): SigningKey {
  const pair = generateSigningKeyPair();
  return { privateKey: createPrivateKey(pair.privateKeyPem), publicKeyPem: pair.publicKeyPem, keyId: pair.keyId };
}

const event = (i: number, overrides: Partial<AuditEvent> = {}): AuditEvent => ({
  action: 'model.push',
  actor: `user-${i}`,
  outcome: 'ok',
  target: `model/m${i}`,
  details: { i },
  ...overrides,
});

type Record_ = Record<string, unknown>;

/** What an entry's hash must be: SHA-256 of the canonical JSON of its other fields. */
function rehashOf(value: Record_): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

async function lines(dir: string, segment = 'audit-000001.jsonl'): Promise<string[]> {
  return (await readFile(join(dir, segment), 'utf8')).split('\n').filter((line) => line !== '');
}

async function writeLines(dir: string, text: string[], segment = 'audit-000001.jsonl'): Promise<void> {
  await writeFile(join(dir, segment), text.map((line) => `${line}\n`).join(''));
}

/** The index (0-based) of the line holding entry `seq`. */
function lineOf(text: string[], seq: number): number {
  const index = text.findIndex((line) => {
    const value = JSON.parse(line) as Record_;
    return value.type === undefined && value.seq === seq;
  });
  assert.ok(index >= 0, `entry ${seq} not found`);
  return index;
}

async function segments(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith('audit-')).sort();
}

function assertBad(result: AuditVerification, seq: number | null, ...fragments: string[]): void {
  assert.equal(result.ok, false, 'verification should fail');
  assert.ok(result.firstBad, 'firstBad is set');
  assert.equal(result.firstBad.seq, seq, result.firstBad.reason);
  for (const fragment of fragments) assert.ok(result.firstBad.reason.includes(fragment), `"${result.firstBad.reason}" lacks "${fragment}"`);
  assert.match(result.firstBad.reason, /^[A-Z].*\.$/, 'the reason is a sentence');
}

function isCode(code: string, ...fragments: string[]) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof PlatformError, String(error));
    assert.equal(error.code, code, error.message);
    for (const fragment of fragments) assert.ok(error.message.includes(fragment), `${error.message} lacks ${fragment}`);
    return true;
  };
}

describe('audit log', () => {
  let dir: string;
  let clock: FakeClock;
  let key: SigningKey;
  let open: AuditLog[];
  const trusted = (): string[] => [key.publicKeyPem];
  const openLog = async (options: Partial<AuditLogOptions> = {}): Promise<AuditLog> => {
    const log = await openAuditLog({ dir, clock, signingKey: key, ...options });
    open.push(log);
    return log;
  };
  const verify = (keys: string[] = trusted()): Promise<AuditVerification> => verifyAuditLog({ dir, trustedKeys: keys });

  /** Ten entries: 1–4 one write each, 5–7 in one write, 8–10 one write each. */
  async function tenEntries(options: Partial<AuditLogOptions> = {}): Promise<AuditEntry[]> {
    const log = await openLog(options);
    const entries: AuditEntry[] = [];
    for (let i = 0; i < 4; i++) entries.push(await log.append(event(i)));
    entries.push(...(await Promise.all([4, 5, 6].map((i) => log.append(event(i))))));
    for (let i = 7; i < 10; i++) entries.push(await log.append(event(i)));
    await log.close();
    return entries;
  }

  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'slipway-audit-')), 'audit');
    clock = createFakeClock(Date.UTC(2026, 2, 3, 9));
    key = newKey();
    open = [];
  });
  afterEach(async () => {
    for (const log of open) await log.close();
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  test('keeps call order under concurrent appends, one write and checkpoint per batch', async () => {
    const log = await openLog();
    const first = Promise.all(Array.from({ length: 30 }, (_, i) => log.append(event(i))));
    await Promise.resolve();
    const second = Promise.all(Array.from({ length: 20 }, (_, i) => log.append(event(30 + i))));
    const entries = [...(await first), ...(await second)];
    assert.deepEqual(
      entries.map((e) => e.seq),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    assert.deepEqual(
      entries.map((e) => e.details?.i),
      Array.from({ length: 50 }, (_, i) => i),
    );
    for (let i = 1; i < entries.length; i++) assert.equal(entries[i]?.prev, entries[i - 1]?.hash);
    assert.equal(entries[0]?.prev, '0'.repeat(64));
    assert.equal(entries[0]?.at, '2026-03-03T09:00:00.000Z');

    const text = await lines(dir);
    const checkpoints = text.map((line) => JSON.parse(line) as Record_).filter((value) => value.type === 'checkpoint');
    assert.ok(checkpoints.length >= 1 && checkpoints.length < 10, `group commit: ${checkpoints.length} checkpoints for 50 entries`);
    assert.equal((JSON.parse(text.at(-1)!) as Record_).type, 'checkpoint', 'every batch ends with a checkpoint');
    assert.deepEqual(
      text.map((line) => JSON.parse(line) as Record_).filter((value) => value.type === undefined).map((value) => value.seq),
      entries.map((e) => e.seq),
      'lines are in seq order',
    );
    const head = JSON.parse(await readFile(join(dir, 'head.json'), 'utf8')) as Record_;
    assert.deepEqual({ seq: head.seq, hash: head.hash, keyId: head.keyId }, { seq: 50, hash: entries[49]?.hash, keyId: key.keyId });
    assert.deepEqual(log.stats(), { entries: 50, segments: 1, lastSeq: 50 });
    if (process.platform !== 'win32') {
      for (const name of ['audit-000001.jsonl', 'head.json']) assert.equal((await stat(join(dir, name))).mode & 0o777, 0o600, name);
    }
    assert.deepEqual(await verify(), { ok: true, entries: 50, checkpoints: checkpoints.length, lastSeq: 50 });
  });

  test('checkpointEvery caps the entries one checkpoint seals', async () => {
    const log = await openLog({ checkpointEvery: 4 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => log.append(event(i))));
    const checkpoints = (await lines(dir)).map((line) => JSON.parse(line) as Record_).filter((value) => value.type === 'checkpoint');
    assert.deepEqual(
      checkpoints.map((c) => c.seq),
      [4, 8, 10],
    );
    assert.equal((await verify()).ok, true);
  });

  test('continues the chain across segment rollover', async () => {
    const log = await openLog({ maxSegmentBytes: 1200 });
    const entries: AuditEntry[] = [];
    for (let i = 0; i < 12; i++) entries.push(await log.append(event(i)));
    const names = await segments(dir);
    assert.ok(names.length >= 3, `rolled over: ${names.join(', ')}`);
    assert.equal(names[0], 'audit-000001.jsonl');
    assert.equal(names[1], 'audit-000002.jsonl');
    assert.deepEqual(log.stats(), { entries: 12, segments: names.length, lastSeq: 12 });
    for (const name of names.slice(0, -1)) assert.ok((await stat(join(dir, name))).size <= 1200, `${name} stays under the limit`);
    const firstOfSecond = JSON.parse((await lines(dir, 'audit-000002.jsonl'))[0]!) as AuditEntry;
    assert.equal(firstOfSecond.prev, entries[firstOfSecond.seq - 2]?.hash, 'the first entry of a segment chains to the last of the one before');
    assert.deepEqual(await verify(), { ok: true, entries: 12, checkpoints: 12, lastSeq: 12 });
  });

  test('reopening continues the chain; a closed log takes no appends', async () => {
    let log = await openLog();
    const before = await Promise.all([0, 1, 2].map((i) => log.append(event(i))));
    await log.close();
    await assert.rejects(log.append(event(9)), isCode('SECURITY_AUDIT_CLOSED'));
    log = await openLog();
    assert.deepEqual(log.stats(), { entries: 3, segments: 1, lastSeq: 3 });
    const after = await log.append(event(3));
    assert.equal(after.seq, 4);
    assert.equal(after.prev, before[2]?.hash);
    await log.close();
    assert.deepEqual(await verify(), { ok: true, entries: 4, checkpoints: 2, lastSeq: 4 });
  });

  test('cuts a torn last line on open, and the entries of a write that never finished', async () => {
    const log = await openLog();
    await log.append(event(0));
    const two = await log.append(event(1));
    await log.close();
    const path = join(dir, 'audit-000001.jsonl');
    const sealedSize = (await stat(path)).size;

    await appendFile(path, '{"seq":3,"at":"2026-03-03T09:00:00.000Z","act');
    assertBad(await verify(), 3, 'incomplete');
    let reopened = await openLog();
    assert.equal((await stat(path)).size, sealedSize, 'the partial line is gone');
    assert.equal((await reopened.append(event(2))).prev, two.hash);
    await reopened.close();
    assert.equal((await verify()).ok, true);

    // a write of entries 4 and 5 whose checkpoint never reached the disk (head.json not yet updated)
    const head = await readFile(join(dir, 'head.json'), 'utf8');
    const sizeAt3 = (await stat(path)).size;
    reopened = await openLog();
    await Promise.all([reopened.append(event(3)), reopened.append(event(4))]);
    await reopened.close();
    const text = await lines(dir);
    await writeLines(dir, text.slice(0, -1));
    await writeFile(join(dir, 'head.json'), head);
    assertBad(await verify(), 4, 'Entries 4 to 5', 'sealed by no checkpoint');
    reopened = await openLog();
    assert.equal((await stat(path)).size, sizeAt3, 'the unsealed entries are cut');
    assert.equal((await reopened.append(event(5))).seq, 4);
    await reopened.close();
    assert.deepEqual(await verify(), { ok: true, entries: 4, checkpoints: 4, lastSeq: 4 });
  });

  test('rejects malformed events without writing them', async () => {
    const log = await openLog();
    await assert.rejects(log.append({ ...event(0), action: '' }), isCode('SECURITY_AUDIT_INVALID_EVENT', 'action'));
    await assert.rejects(log.append({ ...event(0), outcome: 'maybe' as 'ok' }), isCode('SECURITY_AUDIT_INVALID_EVENT', 'outcome'));
    await assert.rejects(log.append({ ...event(0), details: { when: new Date(0) } }), isCode('SECURITY_AUDIT_INVALID_EVENT', 'details.when'));
    await assert.rejects(log.append({ ...event(0), details: { n: Number.NaN } }), isCode('SECURITY_AUDIT_INVALID_EVENT', 'details.n'));
    const entry = await log.append({ ...event(0), target: undefined, ip: '10.0.0.1' });
    assert.equal(entry.seq, 1);
    assert.equal('target' in entry, false, 'undefined fields are left out');
    assert.equal((await verify()).ok, true);
  });

  describe('verification', () => {
    test('passes an untouched log', async () => {
      await tenEntries();
      assert.deepEqual(await verify(), { ok: true, entries: 10, checkpoints: 8, lastSeq: 10 });
    });

    test('names an edited entry', async () => {
      await tenEntries();
      const text = await lines(dir);
      const i = lineOf(text, 6);
      text[i] = text[i]!.replace('"actor":"user-5"', '"actor":"mallory"');
      await writeLines(dir, text);
      const result = await verify();
      assertBad(result, 6, 'Entry 6', 'was edited', 'hash does not match its content');
      assert.equal(result.firstBad?.line, i + 1);
      assert.equal(result.firstBad?.segment, 'audit-000001.jsonl');
      assert.equal(result.entries, 5, 'counts the good entries before it');
    });

    test('names an entry rewritten with a fresh hash by the chain or checkpoint after it', async () => {
      await tenEntries();
      const text = await lines(dir);
      const rehash = (seq: number): void => {
        const i = lineOf(text, seq);
        const value = JSON.parse(text[i]!) as Record_;
        value.actor = 'mallory';
        const { hash: _hash, ...rest } = value;
        value.hash = rehashOf(rest);
        text[i] = JSON.stringify(value);
      };
      rehash(5); // inside the batch 5–7: entry 6 no longer chains to it
      await writeLines(dir, text);
      assertBad(await verify(), 6, 'does not follow entry 5', 'entry 5 was rewritten');
    });

    test('names a removed entry', async () => {
      await tenEntries();
      const text = await lines(dir);
      text.splice(lineOf(text, 6), 1);
      await writeLines(dir, text);
      assertBad(await verify(), 6, 'Entry 6 is missing');
    });

    test('names the last entry of a batch removed before its checkpoint', async () => {
      await tenEntries();
      const text = await lines(dir);
      text.splice(lineOf(text, 7), 1);
      await writeLines(dir, text);
      assertBad(await verify(), 7, 'Entry 7 is missing', 'seals entry 7');
    });

    test('names reordered entries', async () => {
      await tenEntries();
      const text = await lines(dir);
      const i = lineOf(text, 5);
      [text[i], text[i + 1]] = [text[i + 1]!, text[i]!];
      await writeLines(dir, text);
      assertBad(await verify(), 5, 'Entry 5 was moved', `line ${i + 2}`);
    });

    test('names a log cut off in the middle of a line, and refuses to open it', async () => {
      await tenEntries();
      const path = join(dir, 'audit-000001.jsonl');
      const text = await lines(dir);
      const offset = text.slice(0, lineOf(text, 6)).reduce((n, line) => n + Buffer.byteLength(line) + 1, 0);
      await truncate(path, offset + 40);
      assertBad(await verify(), 6, 'incomplete', 'cut off in the middle of a line');
      await assert.rejects(openLog(), isCode('SECURITY_AUDIT_CORRUPT', 'ends at entry 4', 'entry 10'));
    });

    test('names a log cut at a batch boundary by head.json, and refuses to open it', async () => {
      await tenEntries();
      const text = await lines(dir);
      await writeLines(dir, text.slice(0, lineOf(text, 8))); // up to and including the checkpoint of entry 7
      const result = await verify();
      assertBad(result, 8, 'truncated', 'ends at entry 7', 'entries 8 to 10 are missing');
      assert.equal(result.firstBad?.segment, 'audit-000001.jsonl');
      assert.equal(result.entries, 7);
      await assert.rejects(openLog(), isCode('SECURITY_AUDIT_CORRUPT', 'ends at entry 7', 'entry 10'));

      await rm(join(dir, 'head.json'));
      assertBad(await verify(), null, 'head.json is missing');
      await assert.rejects(openLog(), isCode('SECURITY_AUDIT_CORRUPT', 'head.json is missing'));
    });

    test('names a removed segment, in the middle or at the end', async () => {
      await tenEntries({ maxSegmentBytes: 1200 });
      const names = await segments(dir);
      assert.ok(names.length >= 3, names.join(', '));
      const firstOfSecond = (JSON.parse((await lines(dir, names[1]))[0]!) as Record_).seq as number;
      const lastSegment = await readFile(join(dir, names.at(-1)!), 'utf8');
      const firstOfLast = (JSON.parse(lastSegment.split('\n')[0]!) as Record_).seq as number;

      await rm(join(dir, names.at(-1)!));
      assertBad(await verify(), firstOfLast, 'truncated', 'entry 10');
      await writeFile(join(dir, names.at(-1)!), lastSegment);

      await rm(join(dir, names[1]!));
      const result = await verify();
      assertBad(result, firstOfSecond, `Segment ${names[1]} is missing`);
      assert.equal(result.firstBad?.segment, names[1]);
    });

    test('names a forged checkpoint signature and a checkpoint whose hash was changed', async () => {
      await tenEntries();
      const text = await lines(dir);
      const i = lineOf(text, 3) + 1;
      const checkpoint = JSON.parse(text[i]!) as Record_;
      const signature = checkpoint.signature as string;
      text[i] = JSON.stringify({ ...checkpoint, signature: `${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}` });
      await writeLines(dir, text);
      assertBad(await verify(), 3, 'checkpoint of entry 3', 'invalid signature');

      text[i] = JSON.stringify({ ...checkpoint, hash: 'f'.repeat(64) });
      await writeLines(dir, text);
      assertBad(await verify(), 3, 'invalid signature');
    });

    test('names entries rewritten and re-sealed with a key that is not trusted', async () => {
      const entries = await tenEntries();
      const text = await lines(dir);
      // a forger who rewrites entry 9 and signs a fresh checkpoint with their own key
      const i = lineOf(text, 9);
      const value = JSON.parse(text[i]!) as Record_;
      value.outcome = 'denied';
      const { hash: _hash, ...rest } = value;
      value.hash = rehashOf(rest);
      text[i] = JSON.stringify(value);
      const forger = newKey();
      const unsigned = { type: 'checkpoint', seq: 9, hash: value.hash, at: entries[8]?.at, keyId: forger.keyId };
      text[i + 1] = JSON.stringify({ ...unsigned, signature: signCanonical(unsigned, forger.privateKey) });
      await writeLines(dir, text);
      assertBad(await verify(), 9, `signed by key ${forger.keyId}`, 'not one of the trusted keys');
      assertBad(await verify([key.publicKeyPem, forger.publicKeyPem]), 10, 'does not follow entry 9');
    });

    test('names checkpoints made after the signing key was replaced', async () => {
      const original = key;
      let log = await openLog();
      for (let i = 0; i < 3; i++) await log.append(event(i));
      await log.close();
      key = newKey();
      log = await openLog();
      await log.append(event(3));
      await log.close();
      assertBad(await verify([original.publicKeyPem]), 4, `signed by key ${key.keyId}`, 'not one of the trusted keys');
      assert.deepEqual(await verify([original.publicKeyPem, key.publicKeyPem]), { ok: true, entries: 4, checkpoints: 4, lastSeq: 4 });
    });

    test('names unparseable lines and a forged head.json', async () => {
      await tenEntries();
      const text = await lines(dir);
      const good = [...text];
      text[lineOf(text, 2)] = 'garbage';
      await writeLines(dir, text);
      const result = await verify();
      assertBad(result, null, 'not valid JSON');
      assert.equal(result.firstBad?.line, lineOf(good, 2) + 1);

      await writeLines(dir, good);
      const head = JSON.parse(await readFile(join(dir, 'head.json'), 'utf8')) as Record_;
      await writeFile(join(dir, 'head.json'), JSON.stringify({ ...head, seq: 11 }));
      assertBad(await verify(), 11, 'head.json', 'invalid signature');
    });
  });

  test('reads entries back filtered by time, action and actor', async () => {
    const log = await openLog();
    await log.append(event(0, { action: 'alias.move', actor: 'alice' }));
    await clock.advance(60_000);
    await log.append(event(1, { action: 'model.push', actor: 'bob' }));
    await clock.advance(60_000);
    await log.append(event(2, { action: 'alias.move', actor: 'bob', outcome: 'denied' }));
    await log.close();

    const collect = async <T>(items: AsyncIterable<T>): Promise<T[]> => {
      const out: T[] = [];
      for await (const item of items) out.push(item);
      return out;
    };
    const seqs = async (filters: Omit<Parameters<typeof readAuditLog>[0], 'dir'>): Promise<number[]> =>
      (await collect(readAuditLog({ dir, ...filters }))).map((entry) => entry.seq);
    const start = Date.UTC(2026, 2, 3, 9);
    assert.deepEqual(await seqs({}), [1, 2, 3]);
    assert.deepEqual(await seqs({ action: 'alias.move' }), [1, 3]);
    assert.deepEqual(await seqs({ actor: 'bob' }), [2, 3]);
    assert.deepEqual(await seqs({ action: 'alias.move', actor: 'bob' }), [3]);
    assert.deepEqual(await seqs({ since: start + 60_000 }), [2, 3]);
    assert.deepEqual(await seqs({ until: start + 60_000 }), [1]);
    assert.deepEqual(await seqs({ since: start + 30_000, until: start + 90_000 }), [2]);
    const all = await collect(readAuditLog({ dir, checkpoints: true }));
    assert.deepEqual(
      all.map((record) => ('type' in record ? `c${record.seq}` : `e${record.seq}`)),
      ['e1', 'c1', 'e2', 'c2', 'e3', 'c3'],
    );
    await assert.rejects(collect(readAuditLog({ dir, since: Number.NaN })), isCode('SECURITY_AUDIT_INVALID_QUERY', 'since'));
    await assert.rejects(collect(readAuditLog({ dir: join(dir, 'nope') })), isCode('SECURITY_AUDIT_NOT_FOUND'));
  });
});
