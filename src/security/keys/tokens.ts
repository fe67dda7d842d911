/**
 * API key tokens: `slw_` followed by 32 random bytes in base64url (256 bits). Only the SHA-256 of a
 * token is stored: a token is random, not a password, so a fast hash suffices (as GitHub and
 * Stripe store theirs) and lookup is a map access instead of a slow comparison per key.
 */
import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_PREFIX = 'slw_';

/** Characters shown of a token in listings (the prefix and 8 more), enough to recognise it. */
const SHOWN = TOKEN_PREFIX.length + 8;

export function newApiKeyToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** The stored form of a token: lowercase hex SHA-256 of its UTF-8 bytes. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** What listings show of a token: its first characters, never enough to use it. */
export function tokenHint(token: string): string {
  return token.slice(0, SHOWN) + '…';
}

/** A key's public id: `key_` and 16 hex digits. */
export function newKeyId(): string {
  return 'key_' + randomBytes(8).toString('hex');
}

/** The shape a bootstrap key must have: long enough to be a secret, characters safe in a header. */
export const BOOTSTRAP_KEY_PATTERN = /^[A-Za-z0-9._-]{24,512}$/;
