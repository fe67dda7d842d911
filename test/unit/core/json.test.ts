import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { jsonName, jsonNumber, jsonScalar } from '../../../src/core/index.js';

describe('hand-written JSON pieces', () => {
  test('write what JSON.stringify writes, odd values included', () => {
    for (const s of ['', 'plain', 'with "quotes"', 'back\\slash', 'line\nbreak', '\u0000control', 'ünïcödé ✓', '\ud83d\ude00', '\ud800 lone surrogate']) {
      assert.equal(jsonName(s), JSON.stringify(s));
      assert.equal(jsonName(s), JSON.stringify(s), 'from the cache, the same');
      assert.equal(jsonScalar(s), JSON.stringify(s));
    }
    for (const n of [0, -0, 1, -1.5, 0.1 + 0.2, 1e21, 5e-7, Number.MAX_SAFE_INTEGER, NaN, Infinity, -Infinity]) {
      assert.equal(jsonNumber(n), JSON.stringify(n));
      assert.equal(jsonScalar(n), JSON.stringify(n));
    }
    assert.equal(jsonNumber(null), 'null');
    assert.equal(jsonScalar(null), 'null');
    assert.equal(jsonScalar(true), 'true');
  });

  test('the name cache stays bounded and right after it is cleared', () => {
    for (let i = 0; i < 10_000; i++) assert.equal(jsonName(`name-${i}`), `"name-${i}"`);
    assert.equal(jsonName('name-1'), '"name-1"');
  });
});
