/**
 * Encryption at rest of payload-log bodies (docs/payload-log.md#encryption-at-rest): with a master
 * keyring, an entry's `request` and `response` are stored as sealed values
 * (`enc:v1:<keyId>:…`, AES-256-GCM, src/security/encryption/value.ts) and the entry is marked
 * `sealed: true`; its metadata (endpoint, times, status, …) stays clear so that export filters and
 * retention work unchanged. Each value is bound to its entry's request id and field, so a sealed
 * body cannot be moved to another entry or field. The export opens them again; the marker, not the
 * shape of a string, says a body is sealed, so a plaintext body that happens to start with
 * `enc:v1:` is never mistaken for one.
 */
import { AtRestErrors } from '../../security/at-rest/errors.js';
import { isSealedValue, type ValueOpener, type ValueSealer } from '../../security/encryption/index.js';
import { toPlatformError } from '../../core/index.js';
import type { JsonValue, PayloadEntry } from './types.js';

const BODY_FIELDS = ['request', 'response'] as const;
type BodyField = (typeof BODY_FIELDS)[number];

/** The additional data a body is sealed with: its entry's request id and its field. */
function contextOf(entry: PayloadEntry, field: BodyField): string {
  return `payload-log/${field}/${entry.requestId}`;
}

/** The entry as stored with a keyring: bodies sealed, `sealed: true`; an entry without bodies as it is. */
export function sealEntry(entry: PayloadEntry, sealer: ValueSealer): PayloadEntry {
  if (entry.request === undefined && entry.response === undefined) return entry;
  const out: Record<string, unknown> = { ...entry };
  for (const field of BODY_FIELDS) {
    const value = entry[field];
    if (value !== undefined) out[field] = sealer.seal(JSON.stringify(value), { context: contextOf(entry, field) });
  }
  out.sealed = true;
  return out as unknown as PayloadEntry;
}

/** The key id a sealed value names (`enc:v1:<keyId>:…`), or "(malformed)". */
function keyIdOf(value: unknown): string {
  return typeof value === 'string' && isSealedValue(value) ? (value.split(':', 3)[2] ?? '(malformed)') : '(malformed)';
}

/**
 * The entry as exported: sealed bodies opened (and the marker dropped). Rejects loudly, naming the
 * entry and the master key id, when the bodies cannot be opened: SECURITY_ENCRYPTION_NOT_CONFIGURED
 * without a keyring, SECURITY_ENCRYPTION_UNREADABLE when the key is missing, different, or the
 * stored value was changed. Never returns a body it could not authenticate.
 */
export function openEntry(entry: PayloadEntry, opener: ValueOpener | undefined): PayloadEntry {
  if (entry.sealed !== true) return entry;
  const out: Record<string, unknown> = { ...entry };
  delete out.sealed;
  const where = `payload log entry "${entry.requestId}" at ${new Date(entry.at).toISOString()}`;
  for (const field of BODY_FIELDS) {
    const value = entry[field];
    if (value === undefined) continue;
    const keyId = keyIdOf(value);
    if (opener === undefined) {
      throw AtRestErrors.SECURITY_ENCRYPTION_NOT_CONFIGURED(
        `${where}: its ${field} body is sealed under master key "${keyId}", but this server has no master keyring; set security.encryption.masterKeyFile or SLIPWAY_MASTER_KEYS`,
        { details: { requestId: entry.requestId, field, keyId } },
      );
    }
    let text: string;
    try {
      if (typeof value !== 'string') throw new Error(`the stored ${field} is not a sealed value`);
      text = opener.open(value, { context: contextOf(entry, field) }).toString('utf8');
    } catch (error) {
      const cause = toPlatformError(error);
      throw AtRestErrors.SECURITY_ENCRYPTION_UNREADABLE(`${where}: its ${field} body (master key "${keyId}") cannot be opened: ${cause.message}`, {
        details: { requestId: entry.requestId, field, keyId, reason: cause.code },
        cause: error,
      });
    }
    out[field] = JSON.parse(text) as JsonValue;
  }
  return out as unknown as PayloadEntry;
}

/** What {@link resealLine} did with one stored line. */
export type ResealOutcome =
  /** Nothing to do: no sealed bodies, every one already under the active key, or not an entry. */
  | { readonly kind: 'unchanged' }
  /** The bodies were opened and sealed again under the active key. */
  | { readonly kind: 'resealed'; readonly line: string }
  /** A body did not open (its key missing, another key under its id, a changed value): the line is kept as it is. */
  | { readonly kind: 'failed'; readonly requestId: string; readonly code: string; readonly message: string };

/**
 * Master-key rotation for one stored line: when a sealed body names another master key than the
 * sealer's, both bodies are opened and sealed again under the sealer's (active) key, bound to the
 * same entry and field. A sealed value's additional data includes its wrapped key, so moving it to
 * another master key means sealing it again: the body is decrypted in memory, never written in clear.
 */
export function resealLine(line: string, opener: ValueOpener, sealer: ValueSealer): ResealOutcome {
  let entry: PayloadEntry;
  try {
    entry = JSON.parse(line) as PayloadEntry;
  } catch {
    return { kind: 'unchanged' };
  }
  if (typeof entry !== 'object' || entry === null || entry.sealed !== true) return { kind: 'unchanged' };
  const stale = BODY_FIELDS.some((field) => entry[field] !== undefined && keyIdOf(entry[field]) !== sealer.keyId);
  if (!stale) return { kind: 'unchanged' };
  try {
    return { kind: 'resealed', line: JSON.stringify(sealEntry(openEntry(entry, opener), sealer)) };
  } catch (error) {
    const e = toPlatformError(error);
    return { kind: 'failed', requestId: String(entry.requestId), code: e.code, message: e.message };
  }
}
