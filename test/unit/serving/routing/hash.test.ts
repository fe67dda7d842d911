import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bucketFromState, fmix32, fnv1aUpdate, saltState, stickyBucket } from '../../../../src/serving/routing/index.js';

const FNV_OFFSET = 0x811c9dc5;

/** FNV-1a over bytes, written the textbook way, as the reference. */
function referenceFnv1a(bytes: Uint8Array, h = FNV_OFFSET): number {
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h;
}

describe('sticky hash', () => {
  test('computes published FNV-1a 32 test vectors', () => {
    assert.equal(fnv1aUpdate(FNV_OFFSET, '') >>> 0, 0x811c9dc5);
    assert.equal(fnv1aUpdate(FNV_OFFSET, 'a') >>> 0, 0xe40c292c);
    assert.equal(fnv1aUpdate(FNV_OFFSET, 'foobar') >>> 0, 0xbf9cf968);
  });

  test('hashes the UTF-8 bytes of any string, emoji and lone surrogates included', () => {
    const enc = new TextEncoder();
    for (const s of ['plain', 'café', 'ключ', '用户', 'a😀b', 'x\uD800y', 'end\uDC00']) {
      assert.equal(fnv1aUpdate(FNV_OFFSET, s) >>> 0, referenceFnv1a(enc.encode(s)) >>> 0, s);
    }
  });

  test('hashes a range of a string the same as the sliced string', () => {
    const text = 'a=1; uid=hello; b=2';
    const state = saltState('s');
    assert.equal(bucketFromState(state, text, 9, 14), stickyBucket('s', 'hello'));
  });

  test('puts salt and key apart with a separator, so moving characters between them changes the bucket', () => {
    assert.notEqual(stickyBucket('ab', 'c'), stickyBucket('a', 'bc'));
    assert.equal(stickyBucket('ab', 'c'), fmix32(referenceFnv1a(new Uint8Array([0x63]), referenceFnv1a(new Uint8Array([0x61, 0x62, 0])))) / 2 ** 32);
  });

  test('gives buckets in [0, 1) and the same bucket every time', () => {
    for (let i = 0; i < 1000; i++) {
      const b = stickyBucket('salt', `k${i}`);
      assert.ok(b >= 0 && b < 1);
      assert.equal(stickyBucket('salt', `k${i}`), b);
    }
  });
});
