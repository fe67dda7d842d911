import { randomFillSync } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CROCKFORD_CODES = Uint8Array.from(CROCKFORD, (c) => c.charCodeAt(0));
/** Where an id's characters are written before they become its string. */
const ID = Buffer.alloc(26);

// One getrandom call per 256 ids instead of one per id: every inference gets an id, and the system
// call cost more than the rest of the id (28 µs against 2 µs when profiled on the request path).
const POOL = Buffer.alloc(16 * 256);
let poolOffset = POOL.length;

function randomIndexes(): number {
  if (poolOffset + 16 > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += 16;
  return at;
}

/**
 * A ULID-like id: 48 bits of milliseconds then 80 random bits, Crockford base32 (26 chars).
 * Sortable by creation time, unique without coordination.
 */
export function newId(nowMs: number = Date.now()): string {
  let t = nowMs;
  for (let i = 9; i >= 0; i--) {
    ID[i] = CROCKFORD_CODES[t % 32] as number;
    t = Math.floor(t / 32);
  }
  const at = randomIndexes();
  for (let i = 0; i < 16; i++) ID[10 + i] = CROCKFORD_CODES[(POOL[at + i] ?? 0) % 32] as number;
  // one flat string from the bytes: 26 concatenations leave a rope (a tree of pieces), which the
  // first use that needs the characters in a row (the response header, JSON) has to copy flat
  return ID.toString('latin1', 0, 26);
}

const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{15,127}$/;

/**
 * Whether a client-sent request id looks unique enough to keep: 16–128 characters of letters,
 * digits and `._:-` (UUIDs and ULIDs pass; `1` or `test` do not).
 */
export function isUniqueLookingId(value: string): boolean {
  return CLIENT_ID.test(value);
}
