import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFakeClock, isUniqueLookingId, newId, PlatformError, revivePlatformError, toHttpError, toPlatformError } from '../../../src/core/index.js';

test('the fake clock fires timers in due order only when advanced', async () => {
  const clock = createFakeClock(0);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push('b'), 20);
  clock.setTimeout(() => fired.push('a'), 10);
  const cancelled = clock.setTimeout(() => fired.push('never'), 15);
  cancelled.cancel();
  await clock.advance(9);
  assert.deepEqual(fired, []);
  await clock.advance(11);
  assert.deepEqual(fired, ['a', 'b']);
  assert.equal(clock.now(), 20);
  assert.equal(clock.pendingTimers(), 0);
});

test('a fake sleep rejects when its signal aborts', async () => {
  const clock = createFakeClock(0);
  const controller = new AbortController();
  const sleeping = clock.sleep(100, controller.signal);
  controller.abort(new Error('stop'));
  await assert.rejects(sleeping, /stop/);
});

test('a PlatformError survives a trip through plain data (worker threads)', () => {
  const e = new PlatformError('RUNTIME_LOAD_FAILED', 'invalid', 'bad model', { details: { path: '/x' }, retryAfterSeconds: 2 });
  const back = revivePlatformError(structuredClone(e.toJSON()));
  assert.equal(back.code, e.code);
  assert.equal(back.kind, 'invalid');
  assert.deepEqual(back.details, { path: '/x' });
  assert.equal(back.retryAfterSeconds, 2);
  assert.equal(toPlatformError(structuredClone(e.toJSON())).code, 'RUNTIME_LOAD_FAILED');
});

test('internal errors reach clients as a bare 500 without their message or stack', () => {
  const http = toHttpError(new TypeError('secret path /etc/x'));
  assert.equal(http.status, 500);
  assert.deepEqual(http.body, { error: 'internal error', code: 'CORE_INTERNAL' });
});

test('503 and 429 answers carry Retry-After', () => {
  assert.equal(toHttpError(new PlatformError('X_Y', 'unavailable', 'later', { retryAfterSeconds: 2.2 })).headers['retry-after'], '3');
  assert.equal(toHttpError(new PlatformError('X_Y', 'limited', 'slow down')).headers['retry-after'], '1');
});

test('ids are unique and client ids are kept only when they look unique', () => {
  const ids = new Set(Array.from({ length: 1000 }, () => newId()));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, /^[0-9A-HJKMNP-TV-Z]{26}$/, `${id} is 26 Crockford base32 characters`);
  // the first ten characters are the time in ms, so ids sort by creation time
  assert.equal(newId(0).slice(0, 10), '0000000000');
  assert.equal(newId(32 * 32 + 31).slice(0, 10), '000000010Z');
  assert.equal(newId(1_796_034_514_173).slice(0, 10), '01M8NZZK7X', 'base32 of 1796034514173 (computed with Python)');
  const times = [5, 1_000, 1_796_034_514_173, 1_796_034_514_174, 2 ** 48 - 1];
  const inOrder = times.map((t) => newId(t));
  assert.deepEqual([...inOrder].sort(), inOrder, 'ids sort by time');
  assert.ok(isUniqueLookingId('3f2b8c1e-6d4a-4e2b-9a7c-0d1e2f3a4b5c'));
  assert.ok(!isUniqueLookingId('1'));
  assert.ok(!isUniqueLookingId('has spaces in it, which is odd'));
});
