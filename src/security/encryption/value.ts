/**
 * Sealed values: small secrets such as payload-log bodies (one JSON string per record), encrypted
 * into one compact string
 *
 * ```
 * enc:v1:<keyId>:<base64url( wrappedKey 32 ‖ wrapNonce 12 ‖ wrapTag 16 ‖ nonce 12 ‖ ciphertext ‖ tag 16 )>
 * ```
 *
 * The data key (AES-256-GCM) is wrapped with the master key `keyId` as in the file format; the
 * value's additional data is the `enc:v1:<keyId>:` prefix, the wrapped key, its nonce and tag, and
 * an optional caller context (e.g. a record id), so no part of the string can be swapped or changed
 * without failing to open. Every value has its own random 96-bit nonce.
 *
 * {@link sealValue} wraps a fresh data key per value. {@link createValueSealer} reuses one data key
 * for up to `rotateAfter` values (default 10 000) so that a busy log does not pay a wrap per record.
 * Nonce safety of that reuse: with random 96-bit nonces the chance that two of n values under one
 * key share a nonce is below n²/2^97; NIST SP 800-38D caps random nonces at 2^32 per key. The bound
 * here is at most {@link MAX_VALUES_PER_DATA_KEY} (2^24, a collision chance below 2^-49), far under
 * that cap, and a new data key is drawn after it.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { EncryptionErrors } from './errors.js';
import { KEY_BYTES, KEY_ID_PATTERN, NONCE_BYTES, TAG_BYTES, unwrapDataKey, wrapDataKey, type MasterKeyring, type WrappedDataKey } from './keyring.js';

/** What every sealed value starts with. */
export const SEALED_VALUE_PREFIX = 'enc:v1:';
/** The default number of values {@link createValueSealer} seals under one data key. */
export const DEFAULT_VALUES_PER_DATA_KEY = 10_000;
/** The most values {@link createValueSealer} may seal under one data key (2^24, far below the 2^32 random-nonce limit). */
export const MAX_VALUES_PER_DATA_KEY = 2 ** 24;

const VALUE_PURPOSE = 'value-data-key/v1';
const WRAP_BYTES = KEY_BYTES + NONCE_BYTES + TAG_BYTES;
const MIN_PAYLOAD_BYTES = WRAP_BYTES + NONCE_BYTES + TAG_BYTES;
const SEALED = /^enc:v1:([A-Za-z0-9][A-Za-z0-9._-]{0,63}):([A-Za-z0-9_-]+)$/;

/** Options of sealing and opening one value. */
export interface SealOptions {
  /**
   * Additional data bound to the value but not stored in it, e.g. the record id: opening needs the
   * same context, so a sealed value cannot be moved to another record.
   */
  readonly context?: string;
}

/** Seals many values, reusing one data key for a bounded number of them. */
export interface ValueSealer {
  /** Seals one value under the current data key, drawing a new one once the bound is reached. */
  seal(plaintext: Buffer | string, options?: SealOptions): string;
  /** Draws a new data key for the next value. */
  rotate(): void;
  /** The master key the data keys are wrapped with. */
  readonly keyId: string;
  /** How many data keys this sealer has drawn so far. */
  readonly dataKeys: number;
}

/** Options of {@link createValueSealer}. */
export interface ValueSealerOptions {
  /** Values sealed under one data key before a new one is drawn, 1 to {@link MAX_VALUES_PER_DATA_KEY}. Default 10 000. */
  readonly rotateAfter?: number;
}

/** Opens many values, keeping recently unwrapped data keys. */
export interface ValueOpener {
  /** The plaintext of a sealed value; throws a PlatformError when it does not open. */
  open(sealed: string, options?: SealOptions): Buffer;
}

/** Options of {@link createValueOpener}. */
export interface ValueOpenerOptions {
  /** How many unwrapped data keys to keep (the most recently used). Default 64; 0 keeps none. */
  readonly cacheSize?: number;
}

function aadOf(keyId: string, wrap: Buffer, options: SealOptions | undefined): Buffer {
  const parts = [Buffer.from(`${SEALED_VALUE_PREFIX}${keyId}:`, 'utf8'), wrap];
  if (options?.context !== undefined) {
    const context = Buffer.from(options.context, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(context.length, 0);
    parts.push(Buffer.from([1]), length, context);
  } else parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** A data key with its wrapped form, ready to seal values. */
interface ValueKey {
  readonly keyId: string;
  readonly key: Buffer;
  /** wrappedKey ‖ wrapNonce ‖ wrapTag */
  readonly wrap: Buffer;
}

function drawKey(keyring: MasterKeyring): ValueKey {
  const key = randomBytes(KEY_BYTES);
  const wrapped = wrapDataKey(keyring, key, VALUE_PURPOSE);
  return { keyId: wrapped.keyId, key, wrap: Buffer.concat([wrapped.wrappedKey, wrapped.nonce, wrapped.tag]) };
}

function sealWith(valueKey: ValueKey, plaintext: Buffer | string, options: SealOptions | undefined): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', valueKey.key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aadOf(valueKey.keyId, valueKey.wrap, options));
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const payload = Buffer.concat([valueKey.wrap, nonce, cipher.update(data), cipher.final(), cipher.getAuthTag()]);
  return `${SEALED_VALUE_PREFIX}${valueKey.keyId}:${payload.toString('base64url')}`;
}

/** Whether a string has the shape of a sealed value (`enc:v1:<keyId>:<base64url>`, long enough). */
export function isSealedValue(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = SEALED.exec(value);
  return match?.[2] !== undefined && Math.floor((match[2].length * 3) / 4) >= MIN_PAYLOAD_BYTES;
}

/** Seals one value under a fresh data key wrapped with the keyring's active key. */
export function sealValue(plaintext: Buffer | string, keyring: MasterKeyring, options?: SealOptions): string {
  const valueKey = drawKey(keyring);
  try {
    return sealWith(valueKey, plaintext, options);
  } finally {
    valueKey.key.fill(0);
  }
}

interface ParsedValue {
  readonly keyId: string;
  readonly wrapped: WrappedDataKey;
  readonly wrap: Buffer;
  readonly nonce: Buffer;
  readonly sealed: Buffer;
}

function parseSealed(sealed: string): ParsedValue {
  const match = typeof sealed === 'string' ? SEALED.exec(sealed) : null;
  const keyId = match?.[1];
  const encoded = match?.[2];
  if (keyId === undefined || encoded === undefined || !KEY_ID_PATTERN.test(keyId)) {
    throw EncryptionErrors.SECURITY_ENCRYPTION_FORMAT_INVALID('sealed value: expected "enc:v1:<keyId>:<base64url>"', { details: { source: 'sealed value' } });
  }
  const payload = Buffer.from(encoded, 'base64url');
  if (payload.toString('base64url') !== encoded || payload.length < MIN_PAYLOAD_BYTES) {
    throw EncryptionErrors.SECURITY_ENCRYPTION_FORMAT_INVALID(`sealed value: the payload is not base64url of at least ${MIN_PAYLOAD_BYTES} bytes`, {
      details: { source: 'sealed value', keyId },
    });
  }
  const wrap = payload.subarray(0, WRAP_BYTES);
  return {
    keyId,
    wrap,
    wrapped: {
      keyId,
      wrappedKey: wrap.subarray(0, KEY_BYTES),
      nonce: wrap.subarray(KEY_BYTES, KEY_BYTES + NONCE_BYTES),
      tag: wrap.subarray(KEY_BYTES + NONCE_BYTES),
    },
    nonce: payload.subarray(WRAP_BYTES, WRAP_BYTES + NONCE_BYTES),
    sealed: payload.subarray(WRAP_BYTES + NONCE_BYTES),
  };
}

function openWith(parsed: ParsedValue, key: Buffer, options: SealOptions | undefined): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, parsed.nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aadOf(parsed.keyId, parsed.wrap, options));
  decipher.setAuthTag(parsed.sealed.subarray(parsed.sealed.length - TAG_BYTES));
  const out = decipher.update(parsed.sealed.subarray(0, parsed.sealed.length - TAG_BYTES));
  try {
    decipher.final();
  } catch (error) {
    out.fill(0);
    throw EncryptionErrors.SECURITY_ENCRYPTION_INTEGRITY_FAILED(
      `sealed value under master key "${parsed.keyId}" failed authentication: it was modified${options?.context === undefined ? '' : ', or belongs to another context than the one given'}`,
      { details: { source: 'sealed value', keyId: parsed.keyId }, cause: error },
    );
  }
  return out;
}

/**
 * Opens a sealed value: its plaintext bytes (`.toString('utf8')` for text). A malformed string, an
 * unknown key id, a different key under that id or a change to the string throw a PlatformError.
 */
export function openValue(sealed: string, keyring: MasterKeyring, options?: SealOptions): Buffer {
  const parsed = parseSealed(sealed);
  const key = unwrapDataKey(keyring, parsed.wrapped, VALUE_PURPOSE);
  try {
    return openWith(parsed, key, options);
  } finally {
    key.fill(0);
  }
}

/**
 * A sealer that reuses one data key (wrapped once with the keyring's active key) for up to
 * `rotateAfter` values, each with its own random 96-bit nonce; see the module comment for the
 * nonce-safety bound. A keyring is fixed, so a new keyring (after a rotation of master keys) needs
 * a new sealer: one sealer per keyring epoch.
 */
export function createValueSealer(keyring: MasterKeyring, options: ValueSealerOptions = {}): ValueSealer {
  const rotateAfter = options.rotateAfter ?? DEFAULT_VALUES_PER_DATA_KEY;
  if (!Number.isSafeInteger(rotateAfter) || rotateAfter < 1 || rotateAfter > MAX_VALUES_PER_DATA_KEY) {
    throw EncryptionErrors.SECURITY_ENCRYPTION_INVALID_OPTION(`rotateAfter must be a whole number from 1 to ${MAX_VALUES_PER_DATA_KEY}, got ${rotateAfter}`, {
      details: { field: 'rotateAfter', value: rotateAfter },
    });
  }
  let current: ValueKey | null = null;
  let used = 0;
  let dataKeys = 0;
  const rotate = (): void => {
    current?.key.fill(0);
    current = null;
    used = 0;
  };
  return {
    keyId: keyring.active.id,
    get dataKeys() {
      return dataKeys;
    },
    rotate,
    seal(plaintext, sealOptions) {
      if (current === null || used >= rotateAfter) {
        rotate();
        current = drawKey(keyring);
        dataKeys++;
      }
      used++;
      return sealWith(current, plaintext, sealOptions);
    },
  };
}

/**
 * An opener that keeps the most recently unwrapped data keys (by their wrapped form), so values
 * sealed by one {@link ValueSealer} cost one unwrap, not one per value.
 */
export function createValueOpener(keyring: MasterKeyring, options: ValueOpenerOptions = {}): ValueOpener {
  const cacheSize = options.cacheSize ?? 64;
  if (!Number.isSafeInteger(cacheSize) || cacheSize < 0) {
    throw EncryptionErrors.SECURITY_ENCRYPTION_INVALID_OPTION(`cacheSize must be a whole number of at least 0, got ${cacheSize}`, {
      details: { field: 'cacheSize', value: cacheSize },
    });
  }
  const cache = new Map<string, Buffer>();
  return {
    open(sealed, sealOptions) {
      const parsed = parseSealed(sealed);
      const id = `${parsed.keyId}:${parsed.wrap.toString('base64')}`;
      let key = cache.get(id);
      if (key === undefined) {
        key = unwrapDataKey(keyring, parsed.wrapped, VALUE_PURPOSE);
        if (cacheSize > 0) {
          if (cache.size >= cacheSize) {
            const oldest = cache.keys().next();
            if (oldest.done !== true) {
              cache.get(oldest.value)?.fill(0);
              cache.delete(oldest.value);
            }
          }
          cache.set(id, key);
        }
      } else {
        cache.delete(id); // most recently used last
        cache.set(id, key);
      }
      try {
        return openWith(parsed, key, sealOptions);
      } finally {
        if (cacheSize === 0) key.fill(0);
      }
    },
  };
}
