import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDuration, parseDurationSeconds } from '../../../../src/rollout/spec/index.js';

describe('parseDurationSeconds', () => {
  test('reads whole seconds and h/m/s strings', () => {
    const cases: [unknown, number][] = [
      [0, 0],
      [90, 90],
      ['30s', 30],
      ['5m', 300],
      ['1h', 3600],
      ['1h30m', 5400],
      ['2m5s', 125],
      ['1h0m1s', 3601],
      ['90s', 90],
    ];
    for (const [input, seconds] of cases) assert.equal(parseDurationSeconds(input), seconds, String(input));
  });

  test('refuses fractions, negative numbers, bare numeric strings, other units, wrong order and spaces', () => {
    for (const input of [1.5, -1, '60', '', '1.5s', '100ms', '1d', '5m1h', '1h 30m', ' 5s', '5S', 's', null, true, [30], { s: 1 }, Number.NaN, Infinity]) {
      assert.equal(parseDurationSeconds(input), undefined, JSON.stringify(input));
    }
  });
});

describe('formatDuration', () => {
  test('writes seconds back in the spec form', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(90), '1m30s');
    assert.equal(formatDuration(3600), '1h');
    assert.equal(formatDuration(3661), '1h1m1s');
    for (const s of [1, 59, 60, 61, 7322]) assert.equal(parseDurationSeconds(formatDuration(s)), s);
  });
});
