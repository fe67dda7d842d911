import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFakeClock, PlatformError } from '../../../../src/core/index.js';
import { createMirror, type MirrorResult } from '../../../../src/serving/routing/index.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await turn();
}

interface Req {
  readonly id: number;
}

/** A shadow whose calls are settled by the test. */
function controlledShadow() {
  const calls: { request: Req; signal: AbortSignal; resolve: (v: string) => void; reject: (e: Error) => void }[] = [];
  const infer = (request: Req, signal: AbortSignal): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      calls.push({ request, signal, resolve, reject });
    });
  return { calls, infer };
}

describe('createMirror', () => {
  test('returns from submit before the shadow is even called, and calls it on a later turn', async () => {
    const shadow = controlledShadow();
    const mirror = createMirror<Req, string>({ infer: shadow.infer, maxQueue: 4, concurrency: 2, onResult: () => undefined });
    assert.equal(mirror.submit({ request: { id: 1 }, primary: 'p', primaryLatencyMs: 3 }), true);
    assert.equal(shadow.calls.length, 0);
    assert.equal(mirror.stats().queued, 1);
    await turn();
    assert.equal(shadow.calls.length, 1);
    assert.equal(mirror.stats().running, 1);
    shadow.calls[0]!.resolve('s');
    await mirror.close();
  });

  test('a shadow that hangs or throws neither delays nor changes the primary answer', async () => {
    const failures: string[] = [];
    const results: MirrorResult<Req, string>[] = [];
    const hanging = createMirror<Req, string>({ infer: () => new Promise<string>(() => undefined), maxQueue: 8, concurrency: 2, onResult: (r) => results.push(r) });
    const throwing = createMirror<Req, string>({
      infer: () => {
        throw new Error('shadow exploded');
      },
      maxQueue: 8,
      concurrency: 2,
      onResult: (r) => results.push(r),
      onFailure: (f) => failures.push(`${f.kind}:${(f.error as Error).message}`),
    });
    const rejecting = createMirror<Req, string>({ infer: () => Promise.reject(new Error('shadow failed')), maxQueue: 8, concurrency: 2, onResult: (r) => results.push(r) });
    // the data plane's shape: answer, hand a copy to the mirror, return the answer
    const handle = (id: number, mirror: typeof hanging): string => {
      const answer = `primary-${id}`;
      mirror.submit({ request: { id }, primary: answer, primaryLatencyMs: 1 });
      return answer;
    };
    for (let i = 0; i < 3; i++) {
      assert.equal(handle(i, hanging), `primary-${i}`);
      assert.equal(handle(i, throwing), `primary-${i}`);
      assert.equal(handle(i, rejecting), `primary-${i}`);
    }
    await turns(3);
    assert.equal(results.length, 0);
    assert.deepEqual(failures, ['failed:shadow exploded', 'failed:shadow exploded', 'failed:shadow exploded']);
    assert.equal(throwing.stats().failed, 3);
    assert.equal(rejecting.stats().failed, 3);
    assert.equal(hanging.stats().running, 2);
    assert.equal(hanging.stats().queued, 1);
    await Promise.all([throwing.close(), rejecting.close()]);
  });

  test('holds at most maxQueue copies and counts every drop', async () => {
    const shadow = controlledShadow();
    const mirror = createMirror<Req, string>({ infer: shadow.infer, maxQueue: 3, concurrency: 1, onResult: () => undefined });
    const accepted = Array.from({ length: 10 }, (_, id) => mirror.submit({ request: { id }, primary: 'p', primaryLatencyMs: 1 }));
    assert.deepEqual(accepted.filter(Boolean).length, 3);
    assert.deepEqual(mirror.stats(), { submitted: 10, dropped: 7, completed: 0, failed: 0, timedOut: 0, callbackErrors: 0, queued: 3, running: 0, lingering: 0 });
    await turn();
    assert.equal(mirror.stats().running, 1);
    assert.equal(mirror.stats().queued, 2);
    assert.equal(mirror.submit({ request: { id: 10 }, primary: 'p', primaryLatencyMs: 1 }), true);
    assert.equal(mirror.submit({ request: { id: 11 }, primary: 'p', primaryLatencyMs: 1 }), false);
    assert.equal(mirror.stats().queued, 3);
    assert.equal(mirror.stats().dropped, 8);
    // the queue drains in order as calls finish
    shadow.calls[0]!.resolve('s0');
    await turns(2);
    assert.deepEqual(shadow.calls.map((c) => c.request.id), [0, 1]);
    for (const c of shadow.calls) c.resolve('s');
    await mirror.close();
  });

  test('hands primary, shadow and both latencies to onResult', async () => {
    const clock = createFakeClock();
    const shadow = controlledShadow();
    const results: MirrorResult<Req, string>[] = [];
    const mirror = createMirror<Req, string>({ infer: shadow.infer, maxQueue: 2, concurrency: 1, clock, onResult: (r) => results.push(r) });
    mirror.submit({ request: { id: 1 }, primary: 'primary', primaryLatencyMs: 12 });
    await turn();
    await clock.advance(30);
    shadow.calls[0]!.resolve('shadow');
    await turns(2);
    assert.deepEqual(results, [{ request: { id: 1 }, primary: 'primary', primaryLatencyMs: 12, shadow: 'shadow', shadowLatencyMs: 30 }]);
    assert.equal(mirror.stats().completed, 1);
  });

  test('times out a hung shadow, aborts its signal, and stops starting calls while too many linger', async () => {
    const clock = createFakeClock();
    const shadow = controlledShadow();
    const failures: string[] = [];
    const mirror = createMirror<Req, string>({ infer: shadow.infer, maxQueue: 10, concurrency: 1, timeoutMs: 100, clock, onResult: () => undefined, onFailure: (f) => failures.push(f.kind) });
    for (let id = 0; id < 4; id++) mirror.submit({ request: { id }, primary: 'p', primaryLatencyMs: 1 });
    await turn();
    assert.equal(shadow.calls.length, 1);
    await clock.advance(100);
    await turns(2);
    assert.equal(shadow.calls[0]!.signal.aborted, true);
    assert.equal((shadow.calls[0]!.signal.reason as PlatformError).code, 'CORE_TIMEOUT');
    assert.equal(shadow.calls.length, 2, 'the freed slot starts the next copy');
    await clock.advance(100);
    await turns(2);
    // two calls linger (they ignore their signal): running + lingering reached 2 × concurrency
    assert.equal(shadow.calls.length, 2);
    assert.deepEqual({ ...mirror.stats(), submitted: 0 }, { submitted: 0, dropped: 0, completed: 0, failed: 0, timedOut: 2, callbackErrors: 0, queued: 2, running: 0, lingering: 2 });
    // a late answer from a timed-out call is ignored but frees its lingering place
    shadow.calls[0]!.resolve('late');
    await turns(2);
    assert.equal(mirror.stats().completed, 0);
    assert.equal(mirror.stats().lingering, 1);
    assert.equal(shadow.calls.length, 3);
    assert.deepEqual(failures, ['timeout', 'timeout']);
    // close waits for the running call; it ignores its signal, so its timeout releases it
    const closing = mirror.close();
    await clock.advance(100);
    await closing;
    assert.equal(mirror.stats().timedOut, 3);
  });

  test('counts an onResult that throws and keeps going', async () => {
    let n = 0;
    const mirror = createMirror<Req, string>({
      infer: async (r) => `s${r.id}`,
      maxQueue: 4,
      concurrency: 1,
      onResult: () => {
        n++;
        throw new Error('compare bug');
      },
    });
    mirror.submit({ request: { id: 1 }, primary: 'p', primaryLatencyMs: 1 });
    mirror.submit({ request: { id: 2 }, primary: 'p', primaryLatencyMs: 1 });
    await turns(6);
    assert.equal(n, 2);
    assert.equal(mirror.stats().callbackErrors, 2);
    assert.equal(mirror.stats().completed, 2);
  });

  test('close drops what waits, aborts what runs, and refuses later copies', async () => {
    const shadow = controlledShadow();
    const mirror = createMirror<Req, string>({ infer: shadow.infer, maxQueue: 4, concurrency: 1, onResult: () => undefined });
    for (let id = 0; id < 3; id++) mirror.submit({ request: { id }, primary: 'p', primaryLatencyMs: 1 });
    await turn();
    shadow.calls[0]!.signal.addEventListener('abort', () => shadow.calls[0]!.reject(new Error('aborted')));
    await mirror.close();
    assert.equal(shadow.calls[0]!.signal.aborted, true);
    assert.equal(mirror.submit({ request: { id: 9 }, primary: 'p', primaryLatencyMs: 1 }), false);
    const s = mirror.stats();
    assert.equal(s.dropped, 3);
    assert.equal(s.running, 0);
    assert.equal(s.queued, 0);
  });

  test('refuses a zero queue, zero concurrency or a non-positive timeout', () => {
    for (const bad of [{ maxQueue: 0 }, { concurrency: 0 }, { timeoutMs: 0 }, { maxQueue: 1.5 }]) {
      assert.throws(
        () => createMirror({ infer: async () => 1, maxQueue: 1, concurrency: 1, onResult: () => undefined, ...bad }),
        (e: unknown) => e instanceof PlatformError && e.code === 'ROUTING_MIRROR_OPTIONS_INVALID' && new RegExp(Object.keys(bad)[0]!).test(e.message),
      );
    }
  });
});
