import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDuration, parseDurationSeconds, parseTime } from '../../../src/core/index.js';

describe('parseDurationSeconds', () => {
  test('reads whole seconds and d/h/m/s strings', () => {
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
      ['1d', 86_400],
      ['7d', 604_800],
      ['1d12h', 129_600],
    ];
    for (const [input, seconds] of cases) assert.equal(parseDurationSeconds(input), seconds, String(input));
  });

  test('refuses fractions, negative numbers, bare numeric strings, other units, wrong order and spaces', () => {
    for (const input of [1.5, -1, '60', '', '1.5s', '100ms', '1w', '5m1h', '1h1d', '1h 30m', ' 5s', '5S', 's', null, true, [30], { s: 1 }, Number.NaN, Infinity]) {
      assert.equal(parseDurationSeconds(input), undefined, JSON.stringify(input));
    }
  });
});

describe('formatDuration', () => {
  test('writes seconds back in the same form', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(90), '1m30s');
    assert.equal(formatDuration(3600), '1h');
    assert.equal(formatDuration(3661), '1h1m1s');
    assert.equal(formatDuration(90_000), '1d1h');
    for (const s of [1, 59, 60, 61, 7322, 86_401, 700_000]) assert.equal(parseDurationSeconds(formatDuration(s)), s);
  });
});

describe('parseTime', () => {
  const now = Date.UTC(2026, 10, 29, 12);
  test('reads ISO-8601, epoch milliseconds, and a duration ago', () => {
    assert.equal(parseTime('2026-03-03T12:00:00Z', now), Date.UTC(2026, 2, 3, 12));
    assert.equal(parseTime('2026-03-03', now), Date.UTC(2026, 2, 3));
    assert.equal(parseTime('1767225600000', now), 1767225600000);
    assert.equal(parseTime('24h', now), now - 86_400_000);
    assert.equal(parseTime(' 7d ', now), now - 7 * 86_400_000);
  });

  test('refuses what is none of them', () => {
    for (const text of ['', 'yesterday', '2026-13-45', '1.5h', '-1h', '2026/03/03']) assert.equal(parseTime(text, now), undefined, text);
  });
});
