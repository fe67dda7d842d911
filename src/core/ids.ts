import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A ULID-like id: 48 bits of milliseconds then 80 random bits, Crockford base32 (26 chars).
 * Sortable by creation time, unique without coordination.
 */
export function newId(nowMs: number = Date.now()): string {
  let out = '';
  let t = nowMs;
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[t % 32] + out;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  for (let i = 0; i < 16; i++) out += CROCKFORD[(bytes[i] ?? 0) % 32];
  return out;
}

const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{15,127}$/;

/**
 * Whether a client-sent request id looks unique enough to keep: 16–128 characters of letters,
 * digits and `._:-` (UUIDs and ULIDs pass; `1` or `test` do not).
 */
export function isUniqueLookingId(value: string): boolean {
  return CLIENT_ID.test(value);
}
