import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import { PlatformError } from '../../../src/core/index.js';
import {
  createDecryptStream,
  createEncryptStream,
  createValueOpener,
  createValueSealer,
  decryptFile,
  DEFAULT_CHUNK_BYTES,
  encryptFile,
  generateMasterKeyLine,
  isEncrypted,
  isEncryptedFile,
  isSealedValue,
  loadMasterKeyring,
  openValue,
  parseMasterKeyring,
  readEncryptedFileHeader,
  rewrapFile,
  sealValue,
  type MasterKeyring,
} from '../../../src/security/encryption/index.js';

const C = DEFAULT_CHUNK_BYTES;
const SMALL = 1024; // chunk size of the tamper tests: many chunks from little data
const MARKER = Buffer.from('SLIPWAY-KNOWN-PLAINTEXT-MARKER');

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const keyB64 = (): string => randomBytes(32).toString('base64');
const ring = (...lines: string[]): MasterKeyring => parseMasterKeyring(lines.join('\n'));

/** Asserts a PlatformError with this code whose message contains every fragment. */
function isError(error: unknown, code: string, ...fragments: string[]): true {
  assert.ok(error instanceof PlatformError, `expected a PlatformError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  for (const fragment of fragments) assert.ok(error.message.includes(fragment), `"${error.message}" lacks "${fragment}"`);
  return true;
}

/** Plaintext of `size` random bytes with the marker written every 4 KiB. */
function plaintext(size: number): Buffer {
  const bytes = randomBytes(size);
  for (let at = 0; at + MARKER.length <= size; at += 4096) MARKER.copy(bytes, at);
  return bytes;
}

function pieces(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

async function encryptBuffer(plain: Buffer, keyring: MasterKeyring, chunkBytes = SMALL, piece = 777): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(
    Readable.from(pieces(plain, piece)),
    createEncryptStream(keyring, { chunkBytes }),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        parts.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(parts);
}

/** Decrypts in odd-sized pieces; returns what was emitted and the error, if one. */
async function decryptBuffer(encrypted: Buffer, keyring: MasterKeyring, piece = 1000): Promise<{ out: Buffer; error: unknown }> {
  const parts: Buffer[] = [];
  let error: unknown;
  try {
    await pipeline(
      Readable.from(pieces(encrypted, piece)),
      createDecryptStream(keyring),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          parts.push(chunk);
          callback();
        },
      }),
    );
  } catch (caught) {
    error = caught;
  }
  return { out: Buffer.concat(parts), error };
}

/** Where the chunks start, and chunk i's byte range, of an encrypted buffer. */
function layout(encrypted: Buffer, chunkBytes: number): { headerEnd: number; chunk: (i: number) => [number, number]; count: number } {
  const headerEnd = 12 + encrypted.readUInt32BE(8);
  const sealed = chunkBytes + 16;
  return {
    headerEnd,
    chunk: (i) => [headerEnd + i * sealed, Math.min(headerEnd + (i + 1) * sealed, encrypted.length)],
    count: Math.ceil((encrypted.length - headerEnd) / sealed),
  };
}

/** Decrypting failed with `code`, and what was emitted is genuine plaintext of whole chunks before chunk `bad`. */
function assertFailsBefore(result: { out: Buffer; error: unknown }, plain: Buffer, bad: number, code: string, ...fragments: string[]): void {
  assert.ok(result.error !== undefined, 'decryption should fail');
  isError(result.error, code, ...fragments);
  assert.ok(result.out.length <= bad * SMALL, `emitted ${result.out.length} bytes, past the start of chunk ${bad}`);
  assert.equal(result.out.length % SMALL, 0, 'only whole, verified chunks are emitted');
  assert.ok(result.out.equals(plain.subarray(0, result.out.length)), 'emitted bytes are genuine plaintext');
}

describe('master keyring', () => {
  test('parses keys in order, the first active, with comments, blank lines and CRLF', () => {
    const [a, b, c] = [keyB64(), keyB64(), keyB64()];
    const keyring = parseMasterKeyring(`# keys\r\n\r\nk-2025.b:${a}   # newest\r\n  k1 : ${b}\n\n# retired below\nold_0:${c}\n`);
    assert.equal(keyring.active.id, 'k-2025.b');
    assert.deepEqual(keyring.ids, ['k-2025.b', 'k1', 'old_0']);
    assert.ok(keyring.has('k1') && keyring.has('old_0'));
    assert.equal(keyring.has('k2'), false);
    const shown = JSON.stringify(keyring);
    for (const key of [a, b, c]) assert.ok(!shown.includes(key), 'the keyring never shows its key material');
  });

  test('generateMasterKeyLine makes a line the parser accepts, with a fresh key each time', () => {
    const line = generateMasterKeyLine('gen-1');
    assert.match(line, /^gen-1:[A-Za-z0-9+/]{43}=$/);
    assert.notEqual(line, generateMasterKeyLine('gen-1'));
    assert.equal(parseMasterKeyring(line).active.id, 'gen-1');
    assert.throws(() => generateMasterKeyLine('bad id'), (e) => isError(e, 'SECURITY_ENCRYPTION_INVALID_OPTION', 'bad id'));
  });

  const good = `k0:${keyB64()}`;
  const cases: [string, string, number, string][] = [
    ['no colon', `${good}\n# c\nk1${keyB64()}`, 3, 'found no ":"'],
    ['empty id', `${good}\n:${keyB64()}`, 2, 'key id before ":" is empty'],
    ['bad id characters', `${good}\nk 1:${keyB64()}`, 2, 'key id "k 1" must be'],
    ['id with a slash', `${good}\n\nk/1:${keyB64()}`, 3, 'key id "k/1" must be'],
    ['duplicate id', `${good}\nk1:${keyB64()}\nk0:${keyB64()}`, 3, 'duplicate of line 1'],
    ['missing key', `${good}\nk1:`, 2, 'no key material'],
    ['bad base64', `${good}\nk1:${keyB64().slice(0, 40)}!!!=`, 2, 'not valid base64'],
    ['base64url instead of base64', `k1:${'-'.repeat(43)}=`, 1, 'not valid base64'],
    ['unpadded base64', `k1:${keyB64().replace(/=$/, '')}`, 1, 'not valid base64'],
    ['short key', `${good}\nk1:${randomBytes(16).toString('base64')}`, 2, 'decodes to 16 bytes; expected 32'],
    ['long key', `k1:${randomBytes(33).toString('base64')}`, 1, 'decodes to 33 bytes; expected 32'],
  ];
  for (const [name, text, line, fragment] of cases) {
    test(`rejects ${name}, naming line ${line}`, () => {
      assert.throws(
        () => parseMasterKeyring(text, 'keys.txt'),
        (e) => {
          isError(e, 'SECURITY_ENCRYPTION_KEYRING_INVALID', `keys.txt, line ${line}:`, fragment);
          const material = text.split('\n')[line - 1]?.split(':')[1] ?? '';
          if (material.length > 8) assert.ok(!(e as Error).message.includes(material), 'the message does not echo key material');
          assert.equal((e as PlatformError).details?.line, line);
          return true;
        },
      );
    });
  }

  test('rejects an empty keyring (only comments and blank lines)', () => {
    assert.throws(() => parseMasterKeyring('# nothing yet\n\n   \n'), (e) => isError(e, 'SECURITY_ENCRYPTION_KEYRING_INVALID', 'empty'));
  });

  test('loads from an environment value or a file, and warns about a file others can read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-keyring-'));
    try {
      const fromEnv = await loadMasterKeyring({ env: `e1:${keyB64()}\ne0:${keyB64()}` });
      assert.deepEqual(fromEnv.keyring.ids, ['e1', 'e0']);
      assert.deepEqual(fromEnv.warnings, []);
      await assert.rejects(loadMasterKeyring({ env: 'e1 nope' }), (e) => isError(e, 'SECURITY_ENCRYPTION_KEYRING_INVALID', 'environment value', 'line 1'));

      const file = join(dir, 'master.keys');
      writeFileSync(file, `f1:${keyB64()}\n`);
      chmodSync(file, 0o600);
      const private_ = await loadMasterKeyring({ file });
      assert.equal(private_.keyring.active.id, 'f1');
      assert.deepEqual(private_.warnings, []);
      if (process.platform !== 'win32') {
        chmodSync(file, 0o644);
        const open = await loadMasterKeyring({ file });
        assert.equal(open.keyring.active.id, 'f1', 'still loaded');
        assert.equal(open.warnings.length, 1);
        assert.match(open.warnings[0] ?? '', /0644.*chmod 600/);
      }
      writeFileSync(file, `f1:${keyB64()}\nf1:${keyB64()}\n`);
      await assert.rejects(loadMasterKeyring({ file }), (e) => isError(e, 'SECURITY_ENCRYPTION_KEYRING_INVALID', file, 'line 2'));
      await assert.rejects(loadMasterKeyring({ file: join(dir, 'missing') }), (e) => isError(e, 'SECURITY_ENCRYPTION_KEYRING_UNREADABLE', 'ENOENT'));
      await assert.rejects(loadMasterKeyring({}), (e) => isError(e, 'SECURITY_ENCRYPTION_KEYRING_UNREADABLE'));
      await assert.rejects(loadMasterKeyring({ file, env: 'x' }), (e) => isError(e, 'SECURITY_ENCRYPTION_KEYRING_UNREADABLE', 'not both'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('encrypted files', () => {
  let dir: string;
  const k1 = `k1:${keyB64()}`;
  const k2 = `k2:${keyB64()}`;
  const keyring = ring(k1);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-encryption-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const size of [0, 1, C - 1, C, C + 1, 3 * 1024 * 1024 + 7]) {
    test(`round trip of ${size} bytes through encryptFile and decryptFile`, async () => {
      const plain = plaintext(size);
      const src = join(dir, `plain-${size}`);
      const enc = join(dir, `enc-${size}`);
      const back = join(dir, `back-${size}`);
      writeFileSync(src, plain);
      const written = await encryptFile(src, enc, keyring);
      assert.equal(written.keyId, 'k1');
      assert.equal(written.bytesIn, size);
      const onDisk = readFileSync(enc);
      assert.equal(written.bytesOut, onDisk.length);
      assert.ok(isEncrypted(onDisk) && (await isEncryptedFile(enc)));
      assert.equal(onDisk.subarray(0, 8).toString('latin1'), 'SLWENC01');
      if (size >= MARKER.length) assert.ok(plain.includes(MARKER) && !onDisk.includes(MARKER), 'the marker is not on disk');
      const chunks = Math.max(1, Math.ceil(size / C));
      const { headerEnd } = layout(onDisk, C);
      assert.equal(onDisk.length, headerEnd + size + 16 * chunks, 'one tag per chunk, and a final chunk even when empty');
      assert.equal(statSync(enc).mode & 0o777, 0o600);
      const info = await readEncryptedFileHeader(enc);
      assert.deepEqual([info.keyId, info.chunkBytes, info.plaintextBytes, info.headerBytes], ['k1', C, size, headerEnd]);

      const read = await decryptFile(enc, back, keyring);
      assert.equal(read.bytesOut, size);
      assert.equal(sha256(readFileSync(back)), sha256(plain));
      assert.equal(await isEncryptedFile(back), size >= 8 && isEncrypted(plain));
    });
  }

  test('streams round trip whatever the piece sizes, and two encryptions of one plaintext differ', async () => {
    const plain = plaintext(10 * SMALL + 3);
    for (const piece of [1, 17, SMALL, SMALL + 16, 5000]) {
      const encrypted = await encryptBuffer(plain, keyring, SMALL, piece);
      for (const readPiece of [1, 13, SMALL + 16, 100_000]) {
        const { out, error } = await decryptBuffer(encrypted, keyring, readPiece);
        assert.equal(error, undefined);
        assert.ok(out.equals(plain), `piece ${piece}/${readPiece}`);
      }
    }
    const [a, b] = [await encryptBuffer(plain, keyring), await encryptBuffer(plain, keyring)];
    assert.ok(!a.subarray(layout(a, SMALL).headerEnd).equals(b.subarray(layout(b, SMALL).headerEnd)), 'fresh data key and nonces per object');
  });

  test('rejects chunk sizes outside the allowed range', () => {
    for (const chunkBytes of [0, 1023, 16 * 1024 * 1024 + 1, 1.5e3 + 0.5]) {
      assert.throws(() => createEncryptStream(keyring, { chunkBytes }), (e) => isError(e, 'SECURITY_ENCRYPTION_INVALID_OPTION', 'chunkBytes'));
    }
  });

  describe('tampering', () => {
    const plain = plaintext(5 * SMALL + 300); // six chunks, the last short
    let encrypted: Buffer;
    before(async () => {
      encrypted = await encryptBuffer(plain, keyring);
      assert.equal(layout(encrypted, SMALL).count, 6);
      const { out, error } = await decryptBuffer(encrypted, keyring);
      assert.equal(error, undefined);
      assert.ok(out.equals(plain));
    });

    test('a keyring with another key under the same id fails to unwrap, and emits nothing', async () => {
      const result = await decryptBuffer(encrypted, ring(`k1:${keyB64()}`));
      isError(result.error, 'SECURITY_ENCRYPTION_UNWRAP_FAILED', '"k1"');
      assert.equal(result.out.length, 0);
    });

    test('a keyring without the key id fails with an error naming it', async () => {
      const result = await decryptBuffer(encrypted, ring(k2));
      isError(result.error, 'SECURITY_ENCRYPTION_UNKNOWN_KEY', '"k1"');
      assert.deepEqual((result.error as PlatformError).details?.keyId, 'k1');
      assert.equal(result.out.length, 0);
    });

    for (const bad of [0, 2, 5]) {
      test(`a flipped bit in chunk ${bad} (ciphertext or tag) fails at that chunk`, async () => {
        const [start, end] = layout(encrypted, SMALL).chunk(bad);
        for (const at of [start, start + 100, end - 17, end - 1]) {
          const copy = Buffer.from(encrypted);
          copy[at]! ^= 0x10;
          assertFailsBefore(await decryptBuffer(copy, keyring), plain, bad, 'SECURITY_ENCRYPTION_INTEGRITY_FAILED', `chunk ${bad}`);
        }
      });
    }

    test('every flipped bit in the magic, length or header fails before a byte is emitted', async () => {
      const small = await encryptBuffer(plaintext(100), keyring);
      const { headerEnd } = layout(small, SMALL);
      const codes = new Set<string>();
      for (let at = 0; at < headerEnd; at++) {
        for (let bit = 0; bit < 8; bit++) {
          const copy = Buffer.from(small);
          copy[at]! ^= 1 << bit;
          const { out, error } = await decryptBuffer(copy, keyring, 4096);
          assert.ok(error instanceof PlatformError, `byte ${at} bit ${bit}: ${String(error)}`);
          assert.match(error.code, /^SECURITY_ENCRYPTION_/);
          assert.equal(out.length, 0, `byte ${at} bit ${bit} emitted plaintext`);
          codes.add(error.code);
        }
      }
      // magic/JSON damage, wrap damage and bound-field damage are each caught where they belong
      for (const code of ['FORMAT_INVALID', 'UNWRAP_FAILED', 'INTEGRITY_FAILED']) assert.ok(codes.has(`SECURITY_ENCRYPTION_${code}`), code);
    });

    test('a file cut at a chunk boundary is reported as truncated', async () => {
      const { chunk } = layout(encrypted, SMALL);
      for (const kept of [1, 3, 5]) {
        const cut = encrypted.subarray(0, chunk(kept - 1)[1]);
        const result = await decryptBuffer(cut, keyring);
        assertFailsBefore(result, plain, kept, 'SECURITY_ENCRYPTION_INTEGRITY_FAILED', `ends after chunk ${kept - 1} without its final chunk`);
      }
      const headerOnly = await decryptBuffer(encrypted.subarray(0, layout(encrypted, SMALL).headerEnd), keyring);
      isError(headerOnly.error, 'SECURITY_ENCRYPTION_INTEGRITY_FAILED', 'truncated');
      assert.equal(headerOnly.out.length, 0);
    });

    test('a file cut inside a chunk or inside its header fails', async () => {
      const { chunk, headerEnd } = layout(encrypted, SMALL);
      for (const [length, bad] of [
        [chunk(2)[0] + 500, 2],
        [chunk(2)[0] + 5, 2],
        [chunk(5)[1] - 1, 5],
        [chunk(0)[0] + 1, 0],
      ] as const) {
        assertFailsBefore(await decryptBuffer(encrypted.subarray(0, length), keyring), plain, bad, 'SECURITY_ENCRYPTION_INTEGRITY_FAILED');
      }
      for (const length of [0, 5, 11, headerEnd - 1]) {
        const { out, error } = await decryptBuffer(encrypted.subarray(0, length), keyring);
        assert.ok(error instanceof PlatformError && /^SECURITY_ENCRYPTION_(FORMAT_INVALID|INTEGRITY_FAILED)$/.test(error.code), `cut at ${length}: ${String(error)}`);
        assert.equal(out.length, 0);
      }
    });

    test('a removed, swapped, duplicated or appended chunk fails where the order breaks', async () => {
      const { chunk, headerEnd } = layout(encrypted, SMALL);
      const part = (i: number): Buffer => encrypted.subarray(...chunk(i));
      const head = encrypted.subarray(0, headerEnd);
      const arranged = (order: number[]): Buffer => Buffer.concat([head, ...order.map(part)]);
      const cases: [string, number[], number][] = [
        ['chunk 2 removed', [0, 1, 3, 4, 5], 2],
        ['the last full chunk removed', [0, 1, 2, 3, 5], 4],
        ['chunks 1 and 2 swapped', [0, 2, 1, 3, 4, 5], 1],
        ['chunk 3 duplicated', [0, 1, 2, 3, 3, 4, 5], 4],
        ['the first chunk moved last', [1, 2, 3, 4, 5, 0], 0],
      ];
      for (const [name, order, bad] of cases) {
        const result = await decryptBuffer(arranged(order), keyring);
        assert.ok(result.error !== undefined, name);
        assertFailsBefore(result, plain, bad, 'SECURITY_ENCRYPTION_INTEGRITY_FAILED');
      }
      const appended = await decryptBuffer(Buffer.concat([encrypted, randomBytes(SMALL + 16)]), keyring);
      assertFailsBefore(appended, plain, 5, 'SECURITY_ENCRYPTION_INTEGRITY_FAILED', 'chunk 5');
      // a chunk of another object (same key, same index) does not fit either
      const other = await encryptBuffer(plaintext(5 * SMALL + 300), keyring);
      const foreign = Buffer.concat([head, part(0), other.subarray(...layout(other, SMALL).chunk(1)), ...[2, 3, 4, 5].map(part)]);
      assertFailsBefore(await decryptBuffer(foreign, keyring), plain, 1, 'SECURITY_ENCRYPTION_INTEGRITY_FAILED', 'chunk 1');
    });

    test('plaintext is not mistaken for an encrypted file', async () => {
      const result = await decryptBuffer(Buffer.from('{"not":"encrypted"}'), keyring);
      isError(result.error, 'SECURITY_ENCRYPTION_FORMAT_INVALID', 'SLWENC01');
      assert.equal(isEncrypted(Buffer.from('SLWENC0')), false);
      assert.equal(isEncrypted(encrypted.subarray(0, 8)), true);
    });

    test('decryptFile of a damaged file leaves no output and no temporary file behind', async () => {
      const sub = mkdtempSync(join(dir, 'damaged-'));
      const src = join(sub, 'blob');
      const copy = Buffer.from(encrypted);
      copy[layout(copy, SMALL).chunk(4)[0] + 3]! ^= 1;
      writeFileSync(src, copy);
      await assert.rejects(decryptFile(src, join(sub, 'out'), keyring), (e) => isError(e, 'SECURITY_ENCRYPTION_INTEGRITY_FAILED', 'chunk 4', src));
      assert.deepEqual(readdirSync(sub), ['blob']);
    });
  });

  describe('rewrap', () => {
    test('moves a file to the new active key without touching its chunks', async () => {
      const plain = plaintext(4 * C + 123);
      const src = join(dir, 'rewrap-plain');
      const path = join(dir, 'rewrap-enc');
      writeFileSync(src, plain);
      await encryptFile(src, path, ring(k1), { mode: 0o444 });
      const before = readFileSync(path);

      const both = ring(k2, k1);
      assert.deepEqual(await rewrapFile(path, both), { from: 'k1', to: 'k2', rewrapped: true });
      const after = readFileSync(path);
      const [oldEnd, newEnd] = [layout(before, C).headerEnd, layout(after, C).headerEnd];
      assert.ok(before.subarray(oldEnd).equals(after.subarray(newEnd)), 'the chunk bytes are copied as they are');
      assert.ok(!before.subarray(0, oldEnd).equals(after.subarray(0, newEnd)), 'the header changed');
      assert.equal((await readEncryptedFileHeader(path)).keyId, 'k2');
      assert.equal(statSync(path).mode & 0o777, 0o444, 'keeps its mode');
      assert.deepEqual(readdirSync(dir).filter((name) => name.endsWith('.tmp')), []);

      for (const [name, keys] of [
        ['both keys', both],
        ['only the new key', ring(k2)],
      ] as const) {
        const out = join(dir, `rewrap-out-${keys.ids.length}`);
        await decryptFile(path, out, keys);
        assert.equal(sha256(readFileSync(out)), sha256(plain), name);
      }
      await assert.rejects(decryptFile(path, join(dir, 'never'), ring(k1)), (e) => isError(e, 'SECURITY_ENCRYPTION_UNKNOWN_KEY', '"k2"'));

      assert.deepEqual(await rewrapFile(path, both), { from: 'k2', to: 'k2', rewrapped: false });
      assert.ok(readFileSync(path).equals(after), 'a file on the active key is left as it is');
    });

    test('needs the old key, and checks it', async () => {
      const path = join(dir, 'rewrap-needs');
      writeFileSync(join(dir, 'rewrap-needs-plain'), plaintext(100));
      await encryptFile(join(dir, 'rewrap-needs-plain'), path, ring(k1));
      const before = readFileSync(path);
      await assert.rejects(rewrapFile(path, ring(k2)), (e) => isError(e, 'SECURITY_ENCRYPTION_UNKNOWN_KEY', '"k1"'));
      await assert.rejects(rewrapFile(path, ring(k2, `k1:${keyB64()}`)), (e) => isError(e, 'SECURITY_ENCRYPTION_UNWRAP_FAILED', '"k1"'));
      assert.ok(readFileSync(path).equals(before), 'a failed rewrap leaves the file as it was');
      assert.ok(!existsSync(join(dir, 'never')));
    });
  });
});

describe('sealed values', () => {
  const k1 = `v1:${keyB64()}`;
  const keyring = ring(k1);
  /** The wrapped data key (wrappedKey, wrapNonce, wrapTag) and the nonce of a sealed value. */
  const partsOf = (sealed: string): { wrap: string; nonce: string } => {
    const payload = Buffer.from(sealed.split(':')[3] ?? '', 'base64url');
    return { wrap: payload.subarray(0, 60).toString('hex'), nonce: payload.subarray(60, 72).toString('hex') };
  };

  test('round trip of strings and buffers, in the documented shape', () => {
    for (const value of ['{"inputs":[1,2,3]}', '', 'ünïcødé ✓', Buffer.from([0, 255, 1, 2])]) {
      const sealed = sealValue(value, keyring);
      assert.match(sealed, /^enc:v1:v1:[A-Za-z0-9_-]+$/);
      assert.ok(isSealedValue(sealed));
      assert.ok(!sealed.includes('inputs'));
      const opened = openValue(sealed, keyring);
      assert.ok(opened.equals(typeof value === 'string' ? Buffer.from(value) : value));
    }
    assert.notEqual(sealValue('same', keyring), sealValue('same', keyring));
    for (const notSealed of ['{"a":1}', 'enc:v1:v1:', 'enc:v1:v1:AAAA', 'enc:v2:v1:' + 'A'.repeat(200), 42, null]) assert.equal(isSealedValue(notSealed), false);
  });

  test('any changed character, another context, or the wrong key fails to open', () => {
    const sealed = sealValue('{"secret":"payload body"}', keyring, { context: 'record-7' });
    assert.equal(openValue(sealed, keyring, { context: 'record-7' }).toString(), '{"secret":"payload body"}');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_:';
    for (let at = 0; at < sealed.length; at++) {
      const replacement = alphabet[(alphabet.indexOf(sealed[at]!) + 1 + (at % 7)) % alphabet.length]!;
      const tampered = sealed.slice(0, at) + replacement + sealed.slice(at + 1);
      assert.notEqual(tampered, sealed);
      assert.throws(() => openValue(tampered, keyring, { context: 'record-7' }), PlatformError, `character ${at}`);
    }
    assert.throws(() => openValue(sealed.slice(0, -4), keyring, { context: 'record-7' }), PlatformError);
    assert.throws(() => openValue(sealed, keyring, { context: 'record-8' }), (e) => isError(e, 'SECURITY_ENCRYPTION_INTEGRITY_FAILED', 'context'));
    assert.throws(() => openValue(sealed, keyring), (e) => isError(e, 'SECURITY_ENCRYPTION_INTEGRITY_FAILED'));
    assert.throws(() => openValue(sealed, ring(`v1:${keyB64()}`), { context: 'record-7' }), (e) => isError(e, 'SECURITY_ENCRYPTION_UNWRAP_FAILED', '"v1"'));
    assert.throws(() => openValue(sealed, ring(`v2:${keyB64()}`)), (e) => isError(e, 'SECURITY_ENCRYPTION_UNKNOWN_KEY', '"v1"'));
    assert.throws(() => openValue('plain text', keyring), (e) => isError(e, 'SECURITY_ENCRYPTION_FORMAT_INVALID'));
  });

  test('a value sealer reuses one data key up to its bound, each value with its own nonce', () => {
    const sealer = createValueSealer(keyring, { rotateAfter: 3 });
    assert.equal(sealer.keyId, 'v1');
    const sealed = Array.from({ length: 7 }, (_, i) => sealer.seal(`{"n":${i}}`));
    const parts = sealed.map(partsOf);
    const wraps = parts.map((p) => p.wrap);
    assert.equal(new Set(wraps.slice(0, 3)).size, 1, 'values 0-2 share a data key');
    assert.equal(new Set(wraps.slice(3, 6)).size, 1, 'values 3-5 share the next');
    assert.equal(new Set(wraps).size, 3, 'a new key after every 3 values');
    assert.notEqual(wraps[2], wraps[3]);
    assert.equal(sealer.dataKeys, 3);
    assert.equal(new Set(parts.map((p) => p.nonce)).size, 7, 'a fresh nonce per value');
    const opener = createValueOpener(keyring, { cacheSize: 1 });
    sealed.forEach((s, i) => {
      assert.equal(openValue(s, keyring).toString(), `{"n":${i}}`);
      assert.equal(opener.open(s).toString(), `{"n":${i}}`);
    });
    sealer.rotate();
    assert.notEqual(partsOf(sealer.seal('x')).wrap, wraps[6], 'rotate() draws a new key');
    assert.equal(sealer.dataKeys, 4);

    const many = createValueSealer(keyring);
    const first = partsOf(many.seal('a')).wrap;
    for (let i = 1; i < 10_000; i++) many.seal('b');
    assert.equal(partsOf(many.seal('c')).wrap !== first, true, 'the default bound is 10 000 values');
    assert.equal(many.dataKeys, 2);

    for (const rotateAfter of [0, -1, 2 ** 24 + 1, 1.5]) {
      assert.throws(() => createValueSealer(keyring, { rotateAfter }), (e) => isError(e, 'SECURITY_ENCRYPTION_INVALID_OPTION', 'rotateAfter'));
    }
  });

  test('the opener still rejects tampering for a cached key, and a new keyring means a new sealer', () => {
    const sealer = createValueSealer(keyring);
    const opener = createValueOpener(keyring);
    const a = sealer.seal('first');
    const b = sealer.seal('second');
    assert.equal(opener.open(a).toString(), 'first');
    const payload = Buffer.from(b.split(':')[3]!, 'base64url');
    payload[payload.length - 1]! ^= 1;
    assert.throws(() => opener.open(`enc:v1:v1:${payload.toString('base64url')}`), (e) => isError(e, 'SECURITY_ENCRYPTION_INTEGRITY_FAILED'));
    assert.equal(opener.open(b).toString(), 'second');

    const rotated = ring(`v2:${keyB64()}`, k1);
    const next = createValueSealer(rotated);
    assert.equal(next.keyId, 'v2');
    const sealedNext = next.seal('third');
    assert.ok(sealedNext.startsWith('enc:v1:v2:'));
    assert.equal(openValue(sealedNext, rotated).toString(), 'third');
    assert.equal(openValue(a, rotated).toString(), 'first', 'older values open with the older key');
  });
});
