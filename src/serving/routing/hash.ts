/**
 * The sticky-assignment hash: 32-bit FNV-1a over the UTF-8 bytes of `salt`, a NUL byte and the
 * key, finished with murmur3's fmix32 so that keys differing in one trailing character still land
 * far apart, mapped to [0, 1). FNV-1a streams, so the salt's part is hashed once per policy and
 * each request hashes only its key — in place, over a range of the header string, without slicing.
 *
 * The bytes are UTF-8 (not UTF-16 code units) so that anything outside Node (a Kubernetes
 * renderer, a client predicting its own variant) can compute the same bucket.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const TWO_POW_32 = 4294967296;

function fnvByte(h: number, byte: number): number {
  return Math.imul(h ^ byte, FNV_PRIME);
}

/**
 * Continues an FNV-1a state over the UTF-8 encoding of `text[start, end)`. A lone surrogate is
 * encoded as U+FFFD, as TextEncoder does.
 */
export function fnv1aUpdate(h: number, text: string, start = 0, end = text.length): number {
  for (let i = start; i < end; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      h = fnvByte(h, c);
      continue;
    }
    if (c < 0x800) {
      h = fnvByte(h, 0xc0 | (c >> 6));
      h = fnvByte(h, 0x80 | (c & 0x3f));
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < end ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        h = fnvByte(h, 0xf0 | (cp >> 18));
        h = fnvByte(h, 0x80 | ((cp >> 12) & 0x3f));
        h = fnvByte(h, 0x80 | ((cp >> 6) & 0x3f));
        h = fnvByte(h, 0x80 | (cp & 0x3f));
        continue;
      }
      c = 0xfffd;
    }
    h = fnvByte(h, 0xe0 | (c >> 12));
    h = fnvByte(h, 0x80 | ((c >> 6) & 0x3f));
    h = fnvByte(h, 0x80 | (c & 0x3f));
  }
  return h;
}

/** murmur3's 32-bit finaliser: every input bit affects every output bit. Returns an unsigned value. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The FNV-1a state after `salt` and the NUL separator: the starting point for every key of a policy. */
export function saltState(salt: string): number {
  return fnvByte(fnv1aUpdate(FNV_OFFSET, salt), 0);
}

/** The bucket in [0, 1) of `text[start, end)` under a salt state from {@link saltState}. */
export function bucketFromState(state: number, text: string, start = 0, end = text.length): number {
  return fmix32(fnv1aUpdate(state, text, start, end)) / TWO_POW_32;
}

/**
 * The sticky bucket of a key in [0, 1): the same salt and key always give the same bucket, and
 * different salts give independent buckets. A key is in a variant whose share is `w` (0–1) when
 * its bucket falls in that variant's slice; for a canary, when `bucket < weight / 100`, so raising
 * the weight only ever adds keys to the candidate.
 */
export function stickyBucket(salt: string, key: string): number {
  return bucketFromState(saltState(salt), key);
}
