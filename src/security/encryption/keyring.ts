/**
 * Master keys: a keyring of named AES-256 keys read from a file or an environment value, one
 * `<keyId>:<base64 of 32 bytes>` line per key. The first key is the active one (new objects are
 * wrapped with it); later lines are older keys kept so that existing objects can still be unwrapped
 * until {@link rewrapFile} has moved them to the active key.
 *
 * The key material never leaves this module: a keyring object carries ids only, and wrapping and
 * unwrapping data keys are module functions ({@link wrapDataKey}, {@link unwrapDataKey}) that the
 * public index does not export.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { EncryptionErrors } from './errors.js';

/** AES-256: 32 bytes of key material for master and data keys alike. */
export const KEY_BYTES = 32;
/** AES-GCM nonce length used throughout (96 bits, the size GCM is designed for). */
export const NONCE_BYTES = 12;
/** AES-GCM tag length used throughout (128 bits). */
export const TAG_BYTES = 16;

/** A key id: 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit (never ":"). */
export const KEY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const KEY_ID_RULE = '1-64 characters of A-Z, a-z, 0-9, ".", "_" and "-", starting with a letter or digit';
const LINE_FORMAT = '"<keyId>:<base64 of 32 bytes>"';

/** A set of master keys. Holds ids only; the key material stays inside this module. */
export interface MasterKeyring {
  /** The key new objects are wrapped with: the first line of the keyring. */
  readonly active: { readonly id: string };
  /** Every key id, the active one first, in keyring order. */
  readonly ids: readonly string[];
  /** Whether the keyring holds a key with this id (and so can unwrap objects wrapped with it). */
  has(id: string): boolean;
}

/** A loaded keyring and what is worth telling the operator about where it came from. */
export interface LoadedMasterKeyring {
  readonly keyring: MasterKeyring;
  /** Where the keys came from: the file path, or "environment value". */
  readonly source: string;
  /** Problems that do not stop the server, e.g. a key file readable by its group or others. */
  readonly warnings: readonly string[];
}

/** Where {@link loadMasterKeyring} reads the keys: exactly one of a file path and a value. */
export interface LoadMasterKeyringOptions {
  /** A path to a keyring file (should be mode 0600). */
  readonly file?: string;
  /** A keyring read from the environment: the variable's value, not its name. */
  readonly env?: string;
}

const material = new WeakMap<MasterKeyring, ReadonlyMap<string, KeyObject>>();

class Keyring implements MasterKeyring {
  readonly active: { readonly id: string };
  readonly ids: readonly string[];

  constructor(ids: readonly string[]) {
    const first = ids[0];
    if (first === undefined) throw new Error('a keyring needs at least one key');
    this.active = Object.freeze({ id: first });
    this.ids = Object.freeze([...ids]);
  }

  has(id: string): boolean {
    return material.get(this)?.has(id) ?? false;
  }

  toJSON(): { active: string; ids: readonly string[] } {
    return { active: this.active.id, ids: this.ids };
  }
}

/** Builds a keyring from in-memory keys, the first being the active one. */
export function createMasterKeyring(keys: readonly { readonly id: string; readonly key: Buffer }[]): MasterKeyring {
  if (keys.length === 0) throw EncryptionErrors.SECURITY_ENCRYPTION_KEYRING_INVALID('master keyring: no keys; expected at least one key');
  const map = new Map<string, KeyObject>();
  for (const { id, key } of keys) {
    if (!KEY_ID_PATTERN.test(id)) {
      throw EncryptionErrors.SECURITY_ENCRYPTION_KEYRING_INVALID(`master keyring: key id "${id}" must be ${KEY_ID_RULE}`, { details: { keyId: id } });
    }
    if (map.has(id)) throw EncryptionErrors.SECURITY_ENCRYPTION_KEYRING_INVALID(`master keyring: key id "${id}" appears twice`, { details: { keyId: id } });
    if (key.length !== KEY_BYTES) {
      throw EncryptionErrors.SECURITY_ENCRYPTION_KEYRING_INVALID(`master keyring: key "${id}" has ${key.length} bytes; expected ${KEY_BYTES}`, {
        details: { keyId: id },
      });
    }
    map.set(id, createSecretKey(Buffer.from(key)));
  }
  const keyring = new Keyring([...map.keys()]);
  material.set(keyring, map);
  return keyring;
}

/**
 * Decodes canonical standard base64 (the alphabet with "+" and "/", "=" padding): returns null
 * for other alphabets, missing padding or stray bits that a lenient decoder would drop silently.
 */
export function decodeBase64Strict(text: string): Buffer | null {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : null;
}

/**
 * Parses keyring text: one `<keyId>:<base64 of 32 bytes>` per line, the first the active key;
 * blank lines and `#` comments (whole lines or after a key) are ignored. Errors name the line and
 * what was expected, and never echo key material. `source` labels the messages.
 */
export function parseMasterKeyring(text: string, source = 'master keyring'): MasterKeyring {
  const keys: { id: string; key: Buffer }[] = [];
  const lineOf = new Map<string, number>();
  const fail = (line: number, what: string, keyId?: string): never => {
    throw EncryptionErrors.SECURITY_ENCRYPTION_KEYRING_INVALID(`${source}, line ${line}: ${what}`, {
      details: { source, line, ...(keyId === undefined ? {} : { keyId }) },
    });
  };
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const lineNo = index + 1;
    const hash = (lines[index] ?? '').indexOf('#');
    const line = (hash < 0 ? (lines[index] ?? '') : (lines[index] ?? '').slice(0, hash)).trim();
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon < 0) fail(lineNo, `expected ${LINE_FORMAT}, found no ":"`);
    const id = line.slice(0, colon).trim();
    const encoded = line.slice(colon + 1).trim();
    if (id === '') fail(lineNo, `expected ${LINE_FORMAT}, the key id before ":" is empty`);
    if (!KEY_ID_PATTERN.test(id)) fail(lineNo, `key id "${id}" must be ${KEY_ID_RULE}`, id);
    const earlier = lineOf.get(id);
    if (earlier !== undefined) fail(lineNo, `key id "${id}" is a duplicate of line ${earlier}; each id may appear once`, id);
    if (encoded === '') fail(lineNo, `key "${id}" has no key material after ":"; expected base64 of ${KEY_BYTES} bytes`, id);
    const key = decodeBase64Strict(encoded);
    if (key === null) fail(lineNo, `key "${id}" is not valid base64; expected standard base64 (A-Z a-z 0-9 + /, "=" padded) of ${KEY_BYTES} bytes`, id);
    else if (key.length !== KEY_BYTES) fail(lineNo, `key "${id}" decodes to ${key.length} bytes; expected ${KEY_BYTES} bytes (44 base64 characters)`, id);
    else {
      lineOf.set(id, lineNo);
      keys.push({ id, key });
    }
  }
  if (keys.length === 0) {
    throw EncryptionErrors.SECURITY_ENCRYPTION_KEYRING_INVALID(`${source}: the keyring is empty; expected at least one line ${LINE_FORMAT}`, {
      details: { source },
    });
  }
  const keyring = createMasterKeyring(keys);
  for (const { key } of keys) key.fill(0);
  return keyring;
}

/**
 * Loads the master keyring from a file or from an environment value (exactly one). A key file
 * that its group or others may access is loaded anyway, with a warning to `chmod 600` it.
 */
export async function loadMasterKeyring(options: LoadMasterKeyringOptions): Promise<LoadedMasterKeyring> {
  const { file, env } = options;
  if ((file === undefined) === (env === undefined)) {
    throw EncryptionErrors.SECURITY_ENCRYPTION_KEYRING_UNREADABLE(
      file === undefined ? 'master keyring: give a key file or an environment value' : 'master keyring: give a key file or an environment value, not both',
    );
  }
  if (env !== undefined) {
    const source = 'environment value';
    return { keyring: parseMasterKeyring(env, `master keyring (${source})`), source, warnings: [] };
  }
  const path = resolve(file ?? '');
  let text: string;
  let mode: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
    mode = info.mode & 0o777;
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    throw EncryptionErrors.SECURITY_ENCRYPTION_KEYRING_UNREADABLE(`master keyring file "${path}" cannot be read (${reason})`, {
      details: { path },
      cause: error,
    });
  }
  const keyring = parseMasterKeyring(text, `master keyring file "${path}"`);
  const warnings: string[] = [];
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    warnings.push(
      `master keyring file "${path}" has mode ${mode.toString(8).padStart(4, '0')}, so users other than its owner may read or change it; run chmod 600 on it`,
    );
  }
  return { keyring, source: path, warnings };
}

/** A new keyring line `<keyId>:<base64 of 32 random bytes>`, for `slipway keys generate` and the like. */
export function generateMasterKeyLine(keyId: string): string {
  if (!KEY_ID_PATTERN.test(keyId)) {
    throw EncryptionErrors.SECURITY_ENCRYPTION_INVALID_OPTION(`key id "${keyId}" must be ${KEY_ID_RULE}`, { details: { keyId } });
  }
  return `${keyId}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

/** A data key wrapped with a master key: what an object's header records. */
export interface WrappedDataKey {
  readonly keyId: string;
  /** The data key encrypted with the master key (32 bytes). */
  readonly wrappedKey: Buffer;
  readonly nonce: Buffer;
  readonly tag: Buffer;
}

function wrapAad(purpose: string, keyId: string): Buffer {
  return Buffer.from(`slipway/wrap\0${purpose}\0${keyId}`, 'utf8');
}

function masterKey(keyring: MasterKeyring, keyId: string): KeyObject {
  const key = material.get(keyring)?.get(keyId);
  if (key === undefined) {
    throw EncryptionErrors.SECURITY_ENCRYPTION_UNKNOWN_KEY(
      `the data was encrypted under master key "${keyId}", which the keyring (${keyring.ids.map((id) => `"${id}"`).join(', ')}) does not hold; add it back as a later line`,
      { details: { keyId, keyring: keyring.ids } },
    );
  }
  return key;
}

/**
 * Wraps a data key with the keyring's active master key: AES-256-GCM, a random 12-byte nonce, and
 * the key id plus `purpose` as additional data, so a wrapped key only unwraps for its purpose.
 */
export function wrapDataKey(keyring: MasterKeyring, dataKey: Buffer, purpose: string): WrappedDataKey {
  const keyId = keyring.active.id;
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', masterKey(keyring, keyId), nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(wrapAad(purpose, keyId));
  const wrappedKey = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return { keyId, wrappedKey, nonce, tag: cipher.getAuthTag() };
}

/** Unwraps a data key; an unknown key id, a different key under that id or a modified input throws. */
export function unwrapDataKey(keyring: MasterKeyring, wrapped: WrappedDataKey, purpose: string): Buffer {
  const key = masterKey(keyring, wrapped.keyId);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, wrapped.nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(wrapAad(purpose, wrapped.keyId));
    decipher.setAuthTag(wrapped.tag);
    const dataKey = Buffer.concat([decipher.update(wrapped.wrappedKey), decipher.final()]);
    if (dataKey.length !== KEY_BYTES) throw new Error(`unwrapped ${dataKey.length} bytes`);
    return dataKey;
  } catch (error) {
    throw EncryptionErrors.SECURITY_ENCRYPTION_UNWRAP_FAILED(
      `the data key cannot be unwrapped with master key "${wrapped.keyId}": the keyring holds a different key under that id than the one that encrypted the data, or the wrapped key was modified`,
      { details: { keyId: wrapped.keyId }, cause: error },
    );
  }
}
