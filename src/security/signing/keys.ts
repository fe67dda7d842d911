/**
 * Ed25519 signing keys: generating them, loading the server's private key (creating it on first
 * use), reading public keys, and signing or checking canonical JSON with them. A key is named by
 * its key id, `ed25519:` and the first 16 hex digits of the SHA-256 of its public key (SPKI DER).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { PlatformError } from '../../core/index.js';
import { canonicalJson } from './canonical-json.js';
import { SigningErrors } from './errors.js';
import { writeFileAtomic } from '../../core/files.js';

/** A freshly generated key pair, as PEM text. */
export interface SigningKeyPair {
  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
  readonly privateKeyPem: string;
  /** SPKI PEM (`-----BEGIN PUBLIC KEY-----`). */
  readonly publicKeyPem: string;
  readonly keyId: string;
}

/** A private key ready to sign with, and what verifiers need to know about it. */
export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
  readonly keyId: string;
}

/** A public key ready to verify with. */
export interface PublicSigningKey {
  readonly publicKey: KeyObject;
  readonly publicKeyPem: string;
  readonly keyId: string;
}

/** The keys a verifier accepts: a map from key id to public key, or a list of public keys (PEM or KeyObject). */
export type TrustedKeys = ReadonlyMap<string, KeyObject> | readonly (string | KeyObject)[];

/** `ed25519:` and 16 lowercase hex digits. */
export const SIGNING_KEY_ID_PATTERN = /^ed25519:[0-9a-f]{16}$/;

const EXPECTED_PRIVATE = 'an Ed25519 private key in PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----")';
const EXPECTED_PUBLIC = 'an Ed25519 public key in SPKI PEM ("-----BEGIN PUBLIC KEY-----")';
const PRIVATE_PEM = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

function badKey(source: string, expected: string, problem: string): PlatformError {
  return SigningErrors.SECURITY_SIGNATURE_BAD_KEY(`${source} is not ${expected}: ${problem}`, { details: { source, expected } });
}

function unreadable(path: string, action: string, error: unknown): PlatformError {
  const reason = error instanceof Error ? error.message : String(error);
  return SigningErrors.SECURITY_SIGNATURE_KEY_UNREADABLE(`cannot ${action} the key file ${path}: ${reason}`, { details: { path }, cause: error });
}

function problemOf(error: unknown): string {
  return `it cannot be parsed (${error instanceof Error ? error.message : String(error)})`;
}

/** Returns `key` when it is an Ed25519 key of the given type; throws SECURITY_SIGNATURE_BAD_KEY naming `source` otherwise. */
export function requireEd25519(key: KeyObject, type: 'private' | 'public', source: string): KeyObject {
  const expected = type === 'private' ? EXPECTED_PRIVATE : EXPECTED_PUBLIC;
  if (key.type !== type) throw badKey(source, expected, `it is a ${key.type} key`);
  if (key.asymmetricKeyType !== 'ed25519') throw badKey(source, expected, `it holds a key of type ${key.asymmetricKeyType ?? 'unknown'}`);
  return key;
}

function privateKeyFromPem(pem: string, source: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw badKey(source, EXPECTED_PRIVATE, problemOf(error));
  }
  return requireEd25519(key, 'private', source);
}

function publicKeyFromPem(pem: string, source: string): KeyObject {
  if (PRIVATE_PEM.test(pem)) throw badKey(source, EXPECTED_PUBLIC, 'it holds a private key, which must never be handed out in place of a public one');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw badKey(source, EXPECTED_PUBLIC, problemOf(error));
  }
  return requireEd25519(key, 'public', source);
}

/** The public half of a key (itself when it is public). */
function publicHalf(key: KeyObject): KeyObject {
  return key.type === 'public' ? key : createPublicKey(key);
}

function publicPemOf(key: KeyObject): string {
  return publicHalf(key).export({ type: 'spki', format: 'pem' }).toString();
}

/** The key id of a public key (SPKI PEM or KeyObject; a private KeyObject stands for its public half). */
export function keyIdOf(key: string | KeyObject): string {
  const publicKey = typeof key === 'string' ? publicKeyFromPem(key, 'the public key text') : publicHalf(key);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `ed25519:${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
}

/** Generates a new Ed25519 key pair as PEM text, with its key id. */
export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey, keyId: keyIdOf(publicKey) };
}

/** Reads a file as text; null when it does not exist. */
async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw unreadable(path, 'read', error);
  }
}

/**
 * Loads the Ed25519 private key kept in `path` (PKCS#8 PEM). When the file does not exist, a new
 * key is generated and written there with mode 0600 (its directory is created if needed), and its
 * public key beside it as `<path>.pub`. A missing `.pub` is rewritten; one that belongs to another
 * key, or a key file that is not an Ed25519 private key, is refused with SECURITY_SIGNATURE_BAD_KEY.
 */
export async function loadOrCreateSigningKey(path: string): Promise<SigningKey> {
  const file = resolve(path);
  const pem = await readOptional(file);
  let privateKey: KeyObject;
  if (pem === null) {
    const pair = generateSigningKeyPair();
    try {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      await writeFileAtomic(file, pair.privateKeyPem, 0o600);
    } catch (error) {
      throw unreadable(file, 'create', error);
    }
    privateKey = createPrivateKey(pair.privateKeyPem);
  } else {
    privateKey = privateKeyFromPem(pem, `the key file ${file}`);
  }
  const publicKeyPem = publicPemOf(privateKey);
  const keyId = keyIdOf(privateKey);

  const pubFile = `${file}.pub`;
  const pubPem = await readOptional(pubFile);
  if (pubPem === null) {
    try {
      await writeFileAtomic(pubFile, publicKeyPem, 0o644);
    } catch (error) {
      throw unreadable(pubFile, 'write', error);
    }
  } else {
    const pubKeyId = keyIdOf(publicKeyFromPem(pubPem, `the public key file ${pubFile}`));
    if (pubKeyId !== keyId) {
      throw badKey(
        `the public key file ${pubFile}`,
        `the public half of ${file} (${keyId})`,
        `it holds the key ${pubKeyId}; restore the matching file, or delete it to have it rewritten`,
      );
    }
  }
  return { privateKey, publicKeyPem, keyId };
}

/**
 * Reads the Ed25519 private key kept in `path` (PKCS#8 PEM), as `slipway models sign --key` does.
 * Unlike {@link loadOrCreateSigningKey} it never creates one: a missing file is
 * SECURITY_SIGNATURE_KEY_UNREADABLE and a file holding something else SECURITY_SIGNATURE_BAD_KEY,
 * both naming the file.
 */
export async function readSigningKey(path: string): Promise<SigningKey> {
  const file = resolve(path);
  const pem = await readOptional(file);
  if (pem === null) throw unreadable(file, 'read', new Error('no such file'));
  const privateKey = privateKeyFromPem(pem, `the key file ${file}`);
  return { privateKey, publicKeyPem: publicPemOf(privateKey), keyId: keyIdOf(privateKey) };
}

/** Reads an Ed25519 public key given as SPKI PEM text or as the path of a file holding it. */
export async function readPublicKey(pemOrPath: string): Promise<PublicSigningKey> {
  let publicKey: KeyObject;
  if (pemOrPath.trimStart().startsWith('-----BEGIN')) {
    publicKey = publicKeyFromPem(pemOrPath, 'the public key text');
  } else {
    const file = resolve(pemOrPath);
    const pem = await readOptional(file);
    if (pem === null) throw unreadable(file, 'read', new Error('no such file'));
    publicKey = publicKeyFromPem(pem, `the public key file ${file}`);
  }
  return { publicKey, publicKeyPem: publicPemOf(publicKey), keyId: keyIdOf(publicKey) };
}

/** Turns trusted keys into a map from key id to public key, refusing what is not an Ed25519 public key. */
export function toTrustedKeys(keys: TrustedKeys): Map<string, KeyObject> {
  const trusted = new Map<string, KeyObject>();
  if (Array.isArray(keys)) {
    (keys as readonly (string | KeyObject)[]).forEach((key, i) => {
      const source = `trusted key ${i + 1}`;
      const publicKey = typeof key === 'string' ? publicKeyFromPem(key, source) : requireEd25519(key, 'public', source);
      trusted.set(keyIdOf(publicKey), publicKey);
    });
  } else {
    for (const [keyId, key] of keys as ReadonlyMap<string, KeyObject>) trusted.set(keyId, requireEd25519(key, 'public', `trusted key ${keyId}`));
  }
  return trusted;
}

/** Signs the canonical JSON of `value` with an Ed25519 private key; returns the signature in base64. */
export function signCanonical(value: unknown, privateKey: KeyObject): string {
  return sign(null, Buffer.from(canonicalJson(value), 'utf8'), privateKey).toString('base64');
}

/** Whether `signature` (base64) is a valid Ed25519 signature of the canonical JSON of `value` by `publicKey`. */
export function verifyCanonical(value: unknown, signature: string, publicKey: KeyObject): boolean {
  const data = Buffer.from(canonicalJson(value), 'utf8');
  try {
    return verify(null, data, publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
