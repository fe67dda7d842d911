/**
 * The streaming encrypted file format (`SLWENC01`), for artifacts up to several GiB that are never
 * held in memory whole.
 *
 * ```
 * "SLWENC01"                       8 bytes, the magic
 * header length                    uint32, big-endian (at most 4 KiB)
 * header                           UTF-8 JSON: { v: 1, alg: "AES-256-GCM", keyId, wrappedKey, wrapNonce,
 *                                  wrapTag, chunkBytes, noncePrefix, objectId } (binary fields in base64)
 * chunk 0 … chunk n-1              each: ciphertext (chunkBytes bytes; the last 0…chunkBytes) ‖ 16-byte tag
 * ```
 *
 * Each object has its own random 32-byte data key, wrapped with the keyring's active master key
 * (see keyring.ts). Chunk i is sealed with AES-256-GCM under the data key, with the nonce
 * `noncePrefix (8 random bytes) ‖ uint32 i` and the additional data
 * `sha256(bound header fields) ‖ uint32 i ‖ final flag (1 byte)`. Only the last chunk carries the
 * final flag, so a reordered, removed, duplicated or appended chunk, a file cut at a chunk boundary
 * (its new last chunk was not sealed as final) and a file cut inside a chunk all fail
 * authentication. Every file has a final chunk, empty when the plaintext is empty.
 *
 * The header digest binds only the fields that never change for an object: v, alg, chunkBytes,
 * noncePrefix and a random objectId. keyId and the wrapped key are left out on purpose, so that
 * {@link rewrapFile} can move an object to a new master key by rewriting the header alone; they are
 * authenticated by the wrap itself (a changed keyId, wrapped key, nonce or tag fails to unwrap) and,
 * indirectly, by the chunks (a different data key fails every chunk).
 *
 * Chunk nonces never repeat under one data key: the key is fresh per object and the counter
 * distinct per chunk; 2^32 chunks of 64 KiB bound an object at 256 TiB.
 */
import { createCipheriv, createDecipheriv, createHash, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { syncDir } from '../../core/files.js';
import { ByteQueue } from './byte-queue.js';
import { EncryptionErrors } from './errors.js';
import { decodeBase64Strict, KEY_BYTES, KEY_ID_PATTERN, NONCE_BYTES, TAG_BYTES, unwrapDataKey, wrapDataKey, type MasterKeyring } from './keyring.js';

/** The first 8 bytes of every encrypted file. */
export const ENCRYPTED_FILE_MAGIC: Buffer = Buffer.from('SLWENC01', 'latin1');
/** The plaintext bytes per chunk unless {@link EncryptStreamOptions.chunkBytes} says otherwise (64 KiB). */
export const DEFAULT_CHUNK_BYTES = 64 * 1024;
/** The smallest chunk size accepted (1 KiB). */
export const MIN_CHUNK_BYTES = 1024;
/** The largest chunk size accepted (16 MiB): what a reader may have to buffer per chunk. */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;

const LENGTH_BYTES = 4;
const PREFIX_BYTES = ENCRYPTED_FILE_MAGIC.length + LENGTH_BYTES;
const MAX_HEADER_BYTES = 4096;
const NONCE_PREFIX_BYTES = 8;
const OBJECT_ID_BYTES = 16;
const MAX_CHUNK_INDEX = 0xffffffff;
const FILE_PURPOSE = 'file-data-key/v1';
const ALG = 'AES-256-GCM';
const HEADER_FIELDS = ['v', 'alg', 'keyId', 'wrappedKey', 'wrapNonce', 'wrapTag', 'chunkBytes', 'noncePrefix', 'objectId'] as const;

/** A parsed and checked header. */
interface FileHeader {
  readonly v: 1;
  readonly alg: typeof ALG;
  readonly keyId: string;
  readonly wrappedKey: Buffer;
  readonly wrapNonce: Buffer;
  readonly wrapTag: Buffer;
  readonly chunkBytes: number;
  readonly noncePrefix: Buffer;
  readonly objectId: Buffer;
}

/** Options of {@link createEncryptStream} and {@link encryptFile}. */
export interface EncryptStreamOptions {
  /** Plaintext bytes per chunk, {@link MIN_CHUNK_BYTES} to {@link MAX_CHUNK_BYTES}. Default 64 KiB. */
  readonly chunkBytes?: number;
}

/** Where and how {@link encryptFile}, {@link decryptFile} and {@link rewrapFile} write their output. */
export interface AtomicWriteOptions {
  /**
   * The directory of the temporary file that is renamed onto the destination; it must be on the
   * same file system (e.g. the blob store's staging directory). Default: the destination's directory.
   */
  readonly tempDir?: string;
  /** The permission bits of the written file. Default 0o600 (rewrapFile: those of the file it replaces). */
  readonly mode?: number;
}

/** What {@link readEncryptedFileHeader} reports about an encrypted file (nothing of it is secret). */
export interface EncryptedFileInfo {
  /** The master key the data key is wrapped with. */
  readonly keyId: string;
  readonly chunkBytes: number;
  /** The random id bound into every chunk, in hex. */
  readonly objectId: string;
  /** Bytes before the first chunk: magic, length and header. */
  readonly headerBytes: number;
  /** The size of the plaintext, worked out from the file's length (not yet authenticated). */
  readonly plaintextBytes: number;
  readonly fileBytes: number;
}

/** What {@link encryptFile} and {@link decryptFile} did. */
export interface FileCryptResult {
  readonly keyId: string;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** The outcome of {@link rewrapFile}. */
export interface RewrapResult {
  /** The master key the file was wrapped with. */
  readonly from: string;
  /** The keyring's active key, which it is wrapped with now. */
  readonly to: string;
  /** False when the file already was on the active key (it was left untouched). */
  readonly rewrapped: boolean;
}

function checkChunkBytes(chunkBytes: number): number {
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < MIN_CHUNK_BYTES || chunkBytes > MAX_CHUNK_BYTES) {
    throw EncryptionErrors.SECURITY_ENCRYPTION_INVALID_OPTION(
      `chunkBytes must be a whole number from ${MIN_CHUNK_BYTES} to ${MAX_CHUNK_BYTES}, got ${chunkBytes}`,
      { details: { field: 'chunkBytes', value: chunkBytes } },
    );
  }
  return chunkBytes;
}

function encodeHeader(header: FileHeader): Buffer {
  const json = Buffer.from(
    JSON.stringify({
      v: header.v,
      alg: header.alg,
      keyId: header.keyId,
      wrappedKey: header.wrappedKey.toString('base64'),
      wrapNonce: header.wrapNonce.toString('base64'),
      wrapTag: header.wrapTag.toString('base64'),
      chunkBytes: header.chunkBytes,
      noncePrefix: header.noncePrefix.toString('base64'),
      objectId: header.objectId.toString('base64'),
    }),
    'utf8',
  );
  const length = Buffer.alloc(LENGTH_BYTES);
  length.writeUInt32BE(json.length, 0);
  return Buffer.concat([ENCRYPTED_FILE_MAGIC, length, json]);
}

function formatError(what: string, source: string): Error {
  return EncryptionErrors.SECURITY_ENCRYPTION_FORMAT_INVALID(`${source}: ${what}`, { details: { source } });
}

function integrityError(what: string, source: string, chunk?: number): Error {
  return EncryptionErrors.SECURITY_ENCRYPTION_INTEGRITY_FAILED(`${source}: ${what}`, {
    details: { source, ...(chunk === undefined ? {} : { chunk }) },
  });
}

/** Checks the magic of the first bytes seen so far (fewer than 8 are checked as far as they go). */
function checkMagic(bytes: Buffer, source: string): void {
  const n = Math.min(bytes.length, ENCRYPTED_FILE_MAGIC.length);
  if (!bytes.subarray(0, n).equals(ENCRYPTED_FILE_MAGIC.subarray(0, n))) {
    throw formatError('does not start with the magic bytes "SLWENC01": not a Slipway encrypted file', source);
  }
}

/** The length of the JSON header, from the 12 bytes of magic and length. */
function headerLength(prefix: Buffer, source: string): number {
  checkMagic(prefix, source);
  const length = prefix.readUInt32BE(ENCRYPTED_FILE_MAGIC.length);
  if (length < 2 || length > MAX_HEADER_BYTES) {
    throw formatError(`the header length ${length} is outside 2…${MAX_HEADER_BYTES} bytes: the file is damaged`, source);
  }
  return length;
}

function parseHeader(json: Buffer, source: string): FileHeader {
  let value: unknown;
  try {
    value = JSON.parse(json.toString('utf8'));
  } catch {
    throw formatError('the header is not valid JSON: the file is damaged', source);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw formatError('the header is not a JSON object', source);
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  const unexpected = keys.filter((k) => !(HEADER_FIELDS as readonly string[]).includes(k));
  const missing = HEADER_FIELDS.filter((k) => !(k in record));
  if (unexpected.length > 0 || missing.length > 0) {
    const parts = [...(missing.length > 0 ? [`lacks ${missing.join(', ')}`] : []), ...(unexpected.length > 0 ? [`has unknown fields ${unexpected.join(', ')}`] : [])];
    throw formatError(`the header ${parts.join(' and ')}`, source);
  }
  if (record.v !== 1) throw formatError(`header version ${JSON.stringify(record.v)} is not supported (this build reads version 1)`, source);
  if (record.alg !== ALG) throw formatError(`header algorithm ${JSON.stringify(record.alg)} is not supported (expected "${ALG}")`, source);
  if (typeof record.keyId !== 'string' || !KEY_ID_PATTERN.test(record.keyId)) throw formatError('the header keyId is not a valid key id', source);
  const chunkBytes = record.chunkBytes;
  if (typeof chunkBytes !== 'number' || !Number.isSafeInteger(chunkBytes) || chunkBytes < MIN_CHUNK_BYTES || chunkBytes > MAX_CHUNK_BYTES) {
    throw formatError(`the header chunkBytes ${JSON.stringify(chunkBytes)} is outside ${MIN_CHUNK_BYTES}…${MAX_CHUNK_BYTES}`, source);
  }
  const bytes = (field: (typeof HEADER_FIELDS)[number], length: number): Buffer => {
    const text = record[field];
    const decoded = typeof text === 'string' ? decodeBase64Strict(text) : null;
    if (decoded?.length !== length) throw formatError(`the header ${field} is not base64 of ${length} bytes`, source);
    return decoded;
  };
  return {
    v: 1,
    alg: ALG,
    keyId: record.keyId,
    wrappedKey: bytes('wrappedKey', KEY_BYTES),
    wrapNonce: bytes('wrapNonce', NONCE_BYTES),
    wrapTag: bytes('wrapTag', TAG_BYTES),
    chunkBytes,
    noncePrefix: bytes('noncePrefix', NONCE_PREFIX_BYTES),
    objectId: bytes('objectId', OBJECT_ID_BYTES),
  };
}

/** sha256 of the header fields that never change for an object (not keyId nor the wrapped key). */
function headerDigest(header: FileHeader): Buffer {
  const bound = JSON.stringify([header.v, header.alg, header.chunkBytes, header.noncePrefix.toString('base64'), header.objectId.toString('base64')]);
  return createHash('sha256').update(ENCRYPTED_FILE_MAGIC).update(bound, 'utf8').digest();
}

/** Seals and opens the chunks of one object. */
class ChunkCipher {
  private readonly aad: Buffer;
  private readonly nonce: Buffer;

  constructor(
    private readonly key: KeyObject,
    header: FileHeader,
  ) {
    this.aad = Buffer.alloc(32 + 4 + 1);
    headerDigest(header).copy(this.aad, 0);
    this.nonce = Buffer.alloc(NONCE_BYTES);
    header.noncePrefix.copy(this.nonce, 0);
  }

  private prepare(index: number, final: boolean): void {
    this.nonce.writeUInt32BE(index, NONCE_PREFIX_BYTES);
    this.aad.writeUInt32BE(index, 32);
    this.aad[36] = final ? 1 : 0;
  }

  seal(plaintext: Buffer, index: number, final: boolean): Buffer {
    this.prepare(index, final);
    const cipher = createCipheriv('aes-256-gcm', this.key, this.nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(this.aad);
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  }

  /** The plaintext, or null when the chunk does not authenticate as chunk `index` with this final flag. */
  open(sealed: Buffer, index: number, final: boolean): Buffer | null {
    if (sealed.length < TAG_BYTES) return null;
    this.prepare(index, final);
    const decipher = createDecipheriv('aes-256-gcm', this.key, this.nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(this.aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const out = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
    try {
      decipher.final();
    } catch {
      out.fill(0);
      return null;
    }
    return out;
  }
}

function dataKeyObject(dataKey: Buffer): KeyObject {
  const key = createSecretKey(dataKey);
  dataKey.fill(0);
  return key;
}

class EncryptStream extends Transform {
  private readonly queue = new ByteQueue();
  private readonly chunkBytes: number;
  private readonly chunks: ChunkCipher;
  private header: Buffer | null;
  private index = 0;

  constructor(keyring: MasterKeyring, options: EncryptStreamOptions) {
    super();
    this.chunkBytes = checkChunkBytes(options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
    const dataKey = randomBytes(KEY_BYTES);
    const wrapped = wrapDataKey(keyring, dataKey, FILE_PURPOSE);
    const header: FileHeader = {
      v: 1,
      alg: ALG,
      keyId: wrapped.keyId,
      wrappedKey: wrapped.wrappedKey,
      wrapNonce: wrapped.nonce,
      wrapTag: wrapped.tag,
      chunkBytes: this.chunkBytes,
      noncePrefix: randomBytes(NONCE_PREFIX_BYTES),
      objectId: randomBytes(OBJECT_ID_BYTES),
    };
    this.header = encodeHeader(header);
    this.chunks = new ChunkCipher(dataKeyObject(dataKey), header);
  }

  private pushHeader(): void {
    if (this.header === null) return;
    this.push(this.header);
    this.header = null;
  }

  private seal(plaintext: Buffer, final: boolean): void {
    if (this.index > MAX_CHUNK_INDEX) {
      throw EncryptionErrors.SECURITY_ENCRYPTION_INVALID_OPTION(`the plaintext needs more than 2^32 chunks of ${this.chunkBytes} bytes; use larger chunks`, {
        details: { field: 'chunkBytes', value: this.chunkBytes },
      });
    }
    this.push(this.chunks.seal(plaintext, this.index, final));
    this.index++;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.pushHeader();
      this.queue.push(chunk);
      // a full chunk is only sealed once more data follows it: the last one must carry the final flag
      while (this.queue.length > this.chunkBytes) this.seal(this.queue.take(this.chunkBytes), false);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.pushHeader();
      this.seal(this.queue.takeAll(), true);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }
}

class DecryptStream extends Transform {
  private readonly queue = new ByteQueue();
  private headerBytes = -1; // the JSON header's length, once the first 12 bytes are in
  private chunks: ChunkCipher | null = null;
  private sealedBytes = 0; // chunkBytes + tag
  private index = 0;
  private seen = 0;

  constructor(
    private readonly keyring: MasterKeyring,
    private readonly source: string,
  ) {
    super();
  }

  /** Reads magic, length and header once enough bytes are in; true when chunks may follow. */
  private readHeader(): boolean {
    if (this.chunks !== null) return true;
    if (this.headerBytes < 0) {
      checkMagic(this.queue.peek(Math.min(this.queue.length, ENCRYPTED_FILE_MAGIC.length)), this.source);
      if (this.queue.length < PREFIX_BYTES) return false;
      this.headerBytes = headerLength(this.queue.take(PREFIX_BYTES), this.source);
    }
    if (this.queue.length < this.headerBytes) return false;
    const header = parseHeader(this.queue.take(this.headerBytes), this.source);
    const dataKey = unwrapDataKey(this.keyring, { keyId: header.keyId, wrappedKey: header.wrappedKey, nonce: header.wrapNonce, tag: header.wrapTag }, FILE_PURPOSE);
    this.chunks = new ChunkCipher(dataKeyObject(dataKey), header);
    this.sealedBytes = header.chunkBytes + TAG_BYTES;
    return true;
  }

  private open(chunks: ChunkCipher, sealed: Buffer, final: boolean): Buffer {
    if (this.index > MAX_CHUNK_INDEX) throw integrityError('has more than 2^32 chunks: the file is damaged', this.source, this.index);
    const plaintext = chunks.open(sealed, this.index, final);
    if (plaintext === null) {
      // a cut exactly at a chunk boundary leaves a last chunk that was sealed as not final
      if (final && sealed.length === this.sealedBytes && chunks.open(sealed, this.index, false) !== null) {
        throw integrityError(
          `the file ends after chunk ${this.index} without its final chunk: it was truncated, or its last chunks were removed`,
          this.source,
          this.index,
        );
      }
      throw integrityError(
        `chunk ${this.index}${final ? ' (the last)' : ''} failed authentication: the file was modified, truncated or had chunks removed or reordered, or was not written under this data key; nothing of this chunk was returned`,
        this.source,
        this.index,
      );
    }
    this.index++;
    return plaintext;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.seen += chunk.length;
      this.queue.push(chunk);
      if (this.readHeader() && this.chunks !== null) {
        // a full chunk is known not to be the last only once a byte after it has arrived
        while (this.queue.length > this.sealedBytes) this.push(this.open(this.chunks, this.queue.take(this.sealedBytes), false));
      }
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (this.seen === 0) throw formatError('is empty: not a Slipway encrypted file', this.source);
      if (!this.readHeader() || this.chunks === null) {
        throw integrityError(`ends inside its header after ${this.seen} bytes: the file was truncated`, this.source);
      }
      const rest = this.queue.takeAll();
      if (rest.length === 0) {
        throw integrityError(
          this.index === 0
            ? 'ends after its header without a chunk: the file was truncated'
            : `the file ends after chunk ${this.index - 1} without its final chunk: it was truncated, or its last chunks were removed`,
          this.source,
          this.index,
        );
      }
      if (rest.length < TAG_BYTES) throw integrityError(`ends inside chunk ${this.index}: the file was truncated`, this.source, this.index);
      this.push(this.open(this.chunks, rest, true));
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }
}

/**
 * A Transform from plaintext to the bytes of an encrypted file: a fresh data key wrapped with the
 * keyring's active key, then the chunks. Memory stays at about two chunks whatever the size.
 */
export function createEncryptStream(keyring: MasterKeyring, options: EncryptStreamOptions = {}): Transform {
  return new EncryptStream(keyring, options);
}

/** Options of {@link createDecryptStream}. */
export interface DecryptStreamOptions {
  /** Names the input in error messages, e.g. the file path. Default "encrypted stream". */
  readonly source?: string;
}

/**
 * A Transform from the bytes of an encrypted file to its plaintext. A chunk is only emitted after
 * its tag was verified; an unknown key id, a different key under that id, a modified header or
 * chunk, a truncated file or removed or reordered chunks destroy the stream with a PlatformError
 * (SECURITY_ENCRYPTION_*) and nothing of the failing chunk is emitted. A consumer must still treat
 * the output as incomplete until the stream ends without an error: the chunks before a bad one were
 * genuine and have been emitted.
 */
export function createDecryptStream(keyring: MasterKeyring, options: DecryptStreamOptions = {}): Transform {
  return new DecryptStream(keyring, options.source ?? 'encrypted stream');
}


/**
 * Writes `target` all or nothing: `fill` writes a temporary file beside it (or in `tempDir`), which
 * is fsynced, given its mode and renamed onto `target`; on failure the temporary file is removed.
 */
async function writeAtomically(target: string, options: AtomicWriteOptions, defaultMode: number, fill: (out: Writable) => Promise<void>): Promise<void> {
  const temp = join(resolve(options.tempDir ?? dirname(target)), `.${basename(target)}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  // the stream owns the handle from here: it fsyncs (flush) and closes it when it finishes or fails
  const out = handle.createWriteStream({ flush: true });
  try {
    await fill(out);
    if (!out.closed) await new Promise<void>((done) => out.once('close', () => done()));
    await chmod(temp, options.mode ?? defaultMode);
    await rename(temp, target);
  } catch (error) {
    out.destroy();
    if (!out.closed) await new Promise<void>((done) => out.once('close', () => done()));
    await rm(temp, { force: true });
    throw error;
  }
  await syncDir(dirname(target));
}

/** Counts the bytes passing through. */
function counter(): Transform & { bytes: number } {
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      stream.bytes += chunk.length;
      callback(null, chunk);
    },
  }) as Transform & { bytes: number };
  stream.bytes = 0;
  return stream;
}

/**
 * Encrypts the file `src` into `dst` atomically (a temporary file renamed into place, so `dst` is
 * either absent, as before, or complete). `src` and `dst` may be the same path.
 */
export async function encryptFile(src: string, dst: string, keyring: MasterKeyring, options: EncryptStreamOptions & AtomicWriteOptions = {}): Promise<FileCryptResult> {
  const input = counter();
  const output = counter();
  await writeAtomically(resolve(dst), options, 0o600, (out) => pipeline(createReadStream(src), input, createEncryptStream(keyring, options), output, out));
  return { keyId: keyring.active.id, bytesIn: input.bytes, bytesOut: output.bytes };
}

/**
 * Decrypts the encrypted file `src` into `dst` atomically: on an integrity or key error `dst` is
 * left as it was and the partial plaintext is deleted.
 */
export async function decryptFile(src: string, dst: string, keyring: MasterKeyring, options: AtomicWriteOptions = {}): Promise<FileCryptResult> {
  const info = await readEncryptedFileHeader(src);
  const input = counter();
  const output = counter();
  await writeAtomically(resolve(dst), options, 0o600, (out) =>
    pipeline(createReadStream(src), input, createDecryptStream(keyring, { source: `encrypted file "${resolve(src)}"` }), output, out),
  );
  return { keyId: info.keyId, bytesIn: input.bytes, bytesOut: output.bytes };
}

/** Whether a buffer starts with the encrypted file magic `SLWENC01`. */
export function isEncrypted(bytes: Buffer | Uint8Array): boolean {
  return bytes.length >= ENCRYPTED_FILE_MAGIC.length && ENCRYPTED_FILE_MAGIC.equals(bytes.subarray(0, ENCRYPTED_FILE_MAGIC.length));
}

/**
 * Whether the file starts with the encrypted file magic (a file shorter than it is not encrypted).
 * Lets a store hold blobs written before encryption was switched on beside encrypted ones.
 */
export async function isEncryptedFile(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(ENCRYPTED_FILE_MAGIC.length);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return isEncrypted(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

async function readExactly(handle: FileHandle, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

async function readHeaderFrom(handle: FileHandle, source: string): Promise<{ header: FileHeader; headerEnd: number }> {
  const prefix = await readExactly(handle, PREFIX_BYTES, 0);
  checkMagic(prefix, source);
  if (prefix.length === 0) throw formatError('is empty: not a Slipway encrypted file', source);
  if (prefix.length < PREFIX_BYTES) throw integrityError(`ends inside its header after ${prefix.length} bytes: the file was truncated`, source);
  const length = headerLength(prefix, source);
  const json = await readExactly(handle, length, PREFIX_BYTES);
  if (json.length < length) throw integrityError(`ends inside its header after ${PREFIX_BYTES + json.length} bytes: the file was truncated`, source);
  return { header: parseHeader(json, source), headerEnd: PREFIX_BYTES + length };
}

/**
 * Reads an encrypted file's header without a key: which master key it is wrapped with, its chunk
 * size and its plaintext size (from the file length; decrypting is what authenticates it).
 */
export async function readEncryptedFileHeader(path: string): Promise<EncryptedFileInfo> {
  const source = `encrypted file "${resolve(path)}"`;
  const handle = await open(path, 'r');
  try {
    const { header, headerEnd } = await readHeaderFrom(handle, source);
    const fileBytes = (await handle.stat()).size;
    const body = fileBytes - headerEnd;
    const sealed = header.chunkBytes + TAG_BYTES;
    const rest = body % sealed;
    if (body <= 0 || (rest > 0 && rest < TAG_BYTES)) throw integrityError('its length does not fit whole chunks: the file was truncated', source);
    const plaintextBytes = Math.floor(body / sealed) * header.chunkBytes + (rest === 0 ? 0 : rest - TAG_BYTES);
    return { keyId: header.keyId, chunkBytes: header.chunkBytes, objectId: header.objectId.toString('hex'), headerBytes: headerEnd, plaintextBytes, fileBytes };
  } finally {
    await handle.close();
  }
}

/**
 * Master-key rotation for one file: unwraps its data key with the key it names and wraps it again
 * with the keyring's active key, writing the new header followed by the chunk bytes copied as they
 * are (no chunk is decrypted or re-encrypted), atomically via a temporary file and a rename. The
 * file keeps its permission bits. A file already on the active key is left untouched.
 */
export async function rewrapFile(path: string, keyring: MasterKeyring, options: Pick<AtomicWriteOptions, 'tempDir'> = {}): Promise<RewrapResult> {
  const target = resolve(path);
  const source = `encrypted file "${target}"`;
  const handle = await open(target, 'r');
  try {
    const { header, headerEnd } = await readHeaderFrom(handle, source);
    const from = header.keyId;
    const to = keyring.active.id;
    if (from === to) return { from, to, rewrapped: false };
    const dataKey = unwrapDataKey(keyring, { keyId: from, wrappedKey: header.wrappedKey, nonce: header.wrapNonce, tag: header.wrapTag }, FILE_PURPOSE);
    const wrapped = wrapDataKey(keyring, dataKey, FILE_PURPOSE);
    dataKey.fill(0);
    const fresh = encodeHeader({ ...header, keyId: wrapped.keyId, wrappedKey: wrapped.wrappedKey, wrapNonce: wrapped.nonce, wrapTag: wrapped.tag });
    const mode = (await handle.stat()).mode & 0o777;
    await writeAtomically(target, { ...options, mode }, mode, async (out) => {
      const body = handle.createReadStream({ start: headerEnd }); // closes the handle when done
      await pipeline(async function* () {
        yield fresh;
        yield* body;
      }, out);
    });
    return { from, to, rewrapped: true };
  } finally {
    await handle.close();
  }
}
