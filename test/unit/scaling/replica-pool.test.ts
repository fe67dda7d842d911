import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFakeClock, PlatformError, type FakeClock } from '../../../src/core/index.js';
import { RuntimeErrors } from '../../../src/runtime/index.js';
import { createReplicaPool, type ReplicaHandle, type ReplicaPoolOptions } from '../../../src/scaling/index.js';

/** A replica whose calls stay pending until the test answers them. */
class FakeReplica implements ReplicaHandle<string, string> {
  readonly calls: { request: string; resolve: (v: string) => void; reject: (e: PlatformError) => void }[] = [];
  closed = false;
  terminated: PlatformError | undefined;
  private listener: ((error: PlatformError) => void) | undefined;
  constructor(readonly id: string) {}

  call(request: string): Promise<string> {
    return new Promise((resolve, reject) => this.calls.push({ request, resolve, reject }));
  }
  usage() {
    return { busyMs: 5, loadMs: 7, heapBytes: 1024 };
  }
  onExit(listener: (error: PlatformError) => void): void {
    this.listener = listener;
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
  terminate(reason: PlatformError): Promise<void> {
    this.terminated = reason;
    for (const c of this.calls.splice(0)) c.reject(reason);
    return Promise.resolve();
  }
  /** Answers the oldest open call with `<id>:<request>`. */
  answerNext(): void {
    const c = this.calls.shift();
    assert.ok(c, `${this.id} has no open call`);
    c.resolve(`${this.id}:${c.request}`);
  }
  crash(): void {
    const error = RuntimeErrors.RUNTIME_REPLICA_CRASHED(`replica ${this.id} exited with code 1`);
    for (const c of this.calls.splice(0)) c.reject(error);
    this.listener?.(error);
  }
}

interface Harness {
  clock: FakeClock;
  replicas: FakeReplica[];
  starts: string[];
}

/** Options for a pool of fake replicas; `fail` makes the n-th start (0-based) reject. */
function harness(overrides: Partial<ReplicaPoolOptions<string, string>> = {}, fail: (n: number) => boolean = () => false): Harness & { options: ReplicaPoolOptions<string, string> } {
  const clock = createFakeClock();
  const replicas: FakeReplica[] = [];
  const starts: string[] = [];
  const options: ReplicaPoolOptions<string, string> = {
    label: 'm:1',
    replicas: 2,
    clock,
    hangTimeoutMs: 1_000,
    start: (id) => {
      const n = starts.length;
      starts.push(id);
      if (fail(n)) return Promise.reject(RuntimeErrors.RUNTIME_LOAD_FAILED(`cannot load for ${id}`));
      const r = new FakeReplica(id);
      replicas.push(r);
      return Promise.resolve(r);
    },
    ...overrides,
  };
  return { clock, replicas, starts, options };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<PlatformError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PlatformError, `expected a PlatformError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected rejection with ${code}`);
}

describe('replica pool', () => {
  test('starts the requested number of replicas and reports them ready', async () => {
    const h = harness({ replicas: 3 });
    const pool = createReplicaPool(h.options);
    await pool.start();
    assert.deepEqual(h.starts, ['m:1/r1', 'm:1/r2', 'm:1/r3']);
    assert.deepEqual(
      pool.stats().map((s) => [s.id, s.state, s.loadMs, s.heapBytes]),
      [
        ['m:1/r1', 'ready', 7, 1024],
        ['m:1/r2', 'ready', 7, 1024],
        ['m:1/r3', 'ready', 7, 1024],
      ],
    );
    await pool.close();
  });

  test('sends each request to the replica with the fewest outstanding requests', async () => {
    const h = harness({ replicas: 3 });
    const pool = createReplicaPool(h.options);
    await pool.start();
    const [a, b, c] = h.replicas as [FakeReplica, FakeReplica, FakeReplica];
    const p1 = pool.run('1');
    const p2 = pool.run('2');
    const p3 = pool.run('3');
    assert.deepEqual([a.calls.length, b.calls.length, c.calls.length], [1, 1, 1]);
    b.answerNext();
    assert.equal(await p2, 'm:1/r2:2');
    // r2 is now the only replica with nothing outstanding
    const p4 = pool.run('4');
    assert.equal(b.calls.length, 1);
    assert.equal(b.calls[0]?.request, '4');
    a.answerNext();
    c.answerNext();
    b.answerNext();
    assert.deepEqual(await Promise.all([p1, p3, p4]), ['m:1/r1:1', 'm:1/r3:3', 'm:1/r2:4']);
    await pool.close();
  });

  test('breaks ties between equally loaded replicas round robin', async () => {
    const h = harness({ replicas: 3 });
    const pool = createReplicaPool(h.options);
    await pool.start();
    const served: string[] = [];
    for (let i = 0; i < 6; i++) {
      const p = pool.run(String(i));
      const r = h.replicas.find((x) => x.calls.length > 0);
      assert.ok(r);
      r.answerNext();
      served.push((await p).split(':')[1]?.split('/')[1] ?? '');
    }
    assert.deepEqual(served, ['r1', 'r2', 'r3', 'r1', 'r2', 'r3']);
    const stats = pool.stats();
    assert.deepEqual(stats.map((s) => s.served), [2, 2, 2]);
    await pool.close();
  });

  test('fails the in-flight requests of a crashed replica at once and serves the next request from a replacement', async () => {
    const h = harness({ replicas: 1 });
    const pool = createReplicaPool(h.options);
    await pool.start();
    const first = h.replicas[0] as FakeReplica;
    const inFlight = [pool.run('a'), pool.run('b')];
    first.crash();
    for (const p of inFlight) await rejectsWith(p, 'RUNTIME_REPLICA_CRASHED');
    await tick();
    assert.deepEqual(h.starts, ['m:1/r1', 'm:1/r2']);
    const next = pool.run('c');
    await tick();
    const second = h.replicas[1] as FakeReplica;
    second.answerNext();
    assert.equal(await next, 'm:1/r2:c');
    assert.equal(pool.counters().crashed, 1);
    assert.deepEqual(pool.stats().map((s) => s.id), ['m:1/r2']);
    await pool.close();
  });

  test('with retryOnCrash, runs a crashed replica\'s in-flight requests once more on another replica', async () => {
    const h = harness({ replicas: 2, retryOnCrash: true });
    const pool = createReplicaPool(h.options);
    await pool.start();
    const [r1, r2] = h.replicas as [FakeReplica, FakeReplica];
    const a = pool.run('a'); // least outstanding: r1 or r2
    const b = pool.run('b'); // the other one
    await tick();
    const victim = r1.calls.length === 1 ? r1 : r2;
    const survivor = victim === r1 ? r2 : r1;
    victim.crash();
    await tick();
    assert.equal(survivor.calls.length, 2, 'the crashed request went to the surviving replica at once');
    survivor.answerNext();
    survivor.answerNext();
    assert.deepEqual((await Promise.all([a, b])).map((v) => v.split(':').at(-1)).sort(), ['a', 'b']);
    assert.equal(pool.counters().crashed, 1);
    await pool.close();
  });

  test('with retryOnCrash, a request caught in a second crash fails instead of looping', async () => {
    const h = harness({ replicas: 1, retryOnCrash: true });
    const pool = createReplicaPool(h.options);
    await pool.start();
    const p = pool.run('x');
    await tick();
    (h.replicas[0] as FakeReplica).crash();
    // held until the replacement is up, then dispatched to it
    for (let i = 0; i < 10 && (h.replicas[1]?.calls.length ?? 0) === 0; i++) await tick();
    const replacement = h.replicas[1] as FakeReplica;
    assert.equal(replacement.calls.length, 1, 'the retry reached the replacement');
    replacement.crash();
    const error = await rejectsWith(p, 'RUNTIME_REPLICA_CRASHED');
    assert.equal(error.kind, 'unavailable');
    assert.equal(pool.counters().crashed, 2);
    await pool.close();
  });

  test('a request whose client left is not retried after a crash', async () => {
    const h = harness({ replicas: 2, retryOnCrash: true });
    const pool = createReplicaPool(h.options);
    await pool.start();
    const controller = new AbortController();
    const p = pool.run('gone', controller.signal);
    await tick();
    controller.abort();
    await rejectsWith(p, 'RUNTIME_ABORTED');
    const victim = h.replicas.find((r) => r.calls.length === 1);
    assert.ok(victim);
    victim.crash();
    await tick();
    const others = h.replicas.filter((r) => r !== victim);
    assert.ok(others.length >= 1 && others.every((r) => r.calls.length === 0), 'nothing was re-run for a client that left');
    await pool.close();
  });

  test('readyCount counts only replicas ready to serve, and agrees with stats()', async () => {
    const h = harness({ replicas: 2 });
    const pool = createReplicaPool(h.options);
    await pool.start();
    assert.equal(pool.readyCount(), 2);
    (h.replicas[0] as FakeReplica).crash();
    assert.equal(pool.readyCount(), 1, 'the crashed replica is gone and its replacement is not ready yet');
    assert.equal(pool.readyCount(), pool.stats().filter((r) => r.state === 'ready').length);
    await pool.close();
  });

  test('terminates and replaces a replica that answers nothing within hangTimeoutMs', async () => {
    const h = harness({ replicas: 1, hangTimeoutMs: 1_000 });
    const pool = createReplicaPool(h.options);
    await pool.start();
    const stuck = h.replicas[0] as FakeReplica;
    const p = pool.run('slow');
    const outcome = rejectsWith(p, 'RUNTIME_REPLICA_HUNG');
    await h.clock.advance(999);
    assert.equal(stuck.terminated, undefined);
    await h.clock.advance(1);
    const error = await outcome;
    assert.equal(error.kind, 'timeout');
    assert.equal((stuck.terminated as PlatformError | undefined)?.code, 'RUNTIME_REPLICA_HUNG');
    assert.equal(pool.counters().hung, 1);
    await tick();
    const next = pool.run('after');
    await tick();
    (h.replicas[1] as FakeReplica).answerNext();
    assert.equal(await next, 'm:1/r2:after');
    await pool.close();
  });

  test('restarts the hang clock whenever a replica answers, so a queue of quick requests is not a hang', async () => {
    const h = harness({ replicas: 1, hangTimeoutMs: 1_000 });
    const pool = createReplicaPool(h.options);
    await pool.start();
    const r = h.replicas[0] as FakeReplica;
    const p1 = pool.run('1');
    const p2 = pool.run('2');
    await h.clock.advance(900);
    r.answerNext();
    await p1;
    await h.clock.advance(900); // 1 800 ms since p2 was sent, 900 ms since the last answer
    assert.equal(r.terminated, undefined);
    r.answerNext();
    assert.equal(await p2, 'm:1/r1:2');
    await h.clock.advance(5_000); // nothing outstanding: no watchdog
    assert.equal(pool.counters().hung, 0);
    await pool.close();
  });

  test('rejects a request whose signal is already aborted without running it', async () => {
    const h = harness({ replicas: 1 });
    const pool = createReplicaPool(h.options);
    await pool.start();
    const ac = new AbortController();
    ac.abort();
    await rejectsWith(pool.run('x', ac.signal), 'RUNTIME_ABORTED');
    assert.equal((h.replicas[0] as FakeReplica).calls.length, 0);
    assert.equal(pool.inFlight(), 0);
    await pool.close();
  });

  test('holds requests while no replica is ready and drops a held request whose signal aborts', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const h = harness({ replicas: 1 });
    const pool = createReplicaPool({ ...h.options, start: async (id, signal, fit) => (await gate, h.options.start(id, signal, fit)) });
    const starting = pool.start();
    const ac = new AbortController();
    const dropped = pool.run('dropped', ac.signal);
    const held = pool.run('held');
    assert.equal(pool.queued(), 2);
    ac.abort();
    await rejectsWith(dropped, 'RUNTIME_ABORTED');
    assert.equal(pool.queued(), 1);
    release();
    await starting;
    const r = h.replicas[0] as FakeReplica;
    assert.deepEqual(r.calls.map((c) => c.request), ['held']);
    r.answerNext();
    assert.equal(await held, 'm:1/r1:held');
    await pool.close();
  });

  test('frees the caller of an aborted request at once while its replica finishes the work', async () => {
    const h = harness({ replicas: 1 });
    const pool = createReplicaPool(h.options);
    await pool.start();
    const ac = new AbortController();
    const p = pool.run('x', ac.signal);
    ac.abort();
    await rejectsWith(p, 'RUNTIME_ABORTED');
    assert.equal(pool.inFlight(), 1);
    (h.replicas[0] as FakeReplica).answerNext();
    await tick();
    assert.equal(pool.inFlight(), 0);
    await pool.close();
  });

  test('close waits for in-flight requests, refuses new ones and is idempotent', async () => {
    const h = harness({ replicas: 2 });
    const pool = createReplicaPool(h.options);
    await pool.start();
    const p = pool.run('last');
    let closed = false;
    const closing = pool.close().then(() => (closed = true));
    assert.equal(pool.close(), pool.close());
    await rejectsWith(pool.run('late'), 'RUNTIME_UNLOADED');
    await tick();
    assert.equal(closed, false);
    assert.ok(h.replicas.every((r) => !r.closed));
    const busy = h.replicas.find((r) => r.calls.length > 0) as FakeReplica;
    busy.answerNext();
    assert.equal(await p, `${busy.id}:last`);
    await closing;
    assert.ok(h.replicas.every((r) => r.closed));
    assert.deepEqual(pool.stats().map((s) => s.state), ['stopped', 'stopped']);
  });

  test('rejects held requests with RUNTIME_UNLOADED when closed', async () => {
    const h = harness({ replicas: 0 });
    const pool = createReplicaPool(h.options);
    await pool.start();
    const held = pool.run('never');
    assert.equal(pool.queued(), 1);
    await pool.close();
    await rejectsWith(held, 'RUNTIME_UNLOADED');
  });

  test('fails start with the replica error and stops the replicas that did start', async () => {
    const h = harness({ replicas: 3 }, (n) => n === 1);
    const pool = createReplicaPool(h.options);
    await rejectsWith(pool.start(), 'RUNTIME_LOAD_FAILED');
    assert.equal(h.replicas.length, 2);
    assert.ok(h.replicas.every((r) => r.closed));
  });

  test('retries a replacement that fails to start with a growing delay, and fails held requests meanwhile', async () => {
    // start 0 succeeds; the replacements 1 and 2 fail; 3 succeeds
    const h = harness({ replicas: 1, restartDelayMs: 100, maxRestartDelayMs: 150 }, (n) => n === 1 || n === 2);
    const pool = createReplicaPool(h.options);
    await pool.start();
    (h.replicas[0] as FakeReplica).crash();
    await tick();
    assert.equal(h.starts.length, 2);
    const error = await rejectsWith(pool.run('while down'), 'RUNTIME_NO_REPLICA');
    assert.match(error.message, /cannot load for m:1\/r2/);
    assert.equal(pool.stats()[0]?.state, 'failed');
    await h.clock.advance(99);
    assert.equal(h.starts.length, 2);
    await h.clock.advance(1);
    assert.equal(h.starts.length, 3); // the same slot retried
    await h.clock.advance(149);
    assert.equal(h.starts.length, 3);
    await h.clock.advance(1); // capped at maxRestartDelayMs
    assert.equal(h.starts.length, 4);
    await tick();
    assert.equal(pool.stats()[0]?.state, 'ready');
    const p = pool.run('back');
    (h.replicas[1] as FakeReplica).answerNext();
    assert.equal(await p, 'm:1/r2:back');
    assert.equal(pool.counters().startFailures, 2);
    await pool.close();
  });

  test('grows with resize and shrinks by draining the least busy replicas', async () => {
    const h = harness({ replicas: 1 });
    const pool = createReplicaPool(h.options);
    await pool.start();
    await pool.resize(3);
    assert.equal(pool.size(), 3);
    assert.equal(pool.replicas().length, 3);
    const results = ['1', '2', '3', '4'].map((r) => pool.run(r));
    // four requests over three replicas: outstanding 2, 1, 1; answer one of the singles → 2, 1, 0
    const byLoad = (): FakeReplica[] => [...h.replicas].sort((x, y) => y.calls.length - x.calls.length);
    assert.deepEqual(byLoad().map((r) => r.calls.length), [2, 1, 1]);
    (byLoad()[2] as FakeReplica).answerNext();
    const [busiest, single, idle] = byLoad() as [FakeReplica, FakeReplica, FakeReplica];
    assert.deepEqual([busiest.calls.length, single.calls.length, idle.calls.length], [2, 1, 0]);
    let shrunk = false;
    const shrinking = pool.resize(1).then(() => (shrunk = true));
    await tick();
    assert.equal(idle.closed, true);
    assert.equal(pool.stats().find((s) => s.id === single.id)?.state, 'draining');
    assert.equal(shrunk, false);
    // a draining replica takes no new requests
    const late = pool.run('5');
    assert.equal(busiest.calls.length, 3);
    single.answerNext();
    await shrinking;
    assert.equal(single.closed, true);
    assert.equal(busiest.closed, false);
    assert.deepEqual(pool.stats().map((s) => s.id), [busiest.id]);
    busiest.answerNext();
    busiest.answerNext();
    busiest.answerNext();
    assert.equal((await Promise.all([...results, late])).length, 5);
    await pool.close();
  });

  test('counts served and failed requests per replica', async () => {
    const h = harness({ replicas: 1 });
    const pool = createReplicaPool(h.options);
    await pool.start();
    const r = h.replicas[0] as FakeReplica;
    const ok = pool.run('ok');
    const bad = pool.run('bad');
    r.answerNext();
    await ok;
    r.calls.shift()?.reject(RuntimeErrors.RUNTIME_INFERENCE_FAILED('no'));
    await rejectsWith(bad, 'RUNTIME_INFERENCE_FAILED');
    const [s] = pool.stats();
    assert.equal(s?.served, 1);
    assert.equal(s?.failed, 1);
    assert.equal(s?.inFlight, 0);
    assert.equal(s?.busyMs, 5);
    await pool.close();
  });

  test('refuses a negative or fractional size', async () => {
    const h = harness();
    assert.throws(() => createReplicaPool({ ...h.options, replicas: -1 }), (e: unknown) => e instanceof PlatformError && e.code === 'RUNTIME_INVALID_OPTIONS');
    const pool = createReplicaPool(h.options);
    await pool.start();
    await rejectsWith(pool.resize(1.5), 'RUNTIME_INVALID_OPTIONS');
    await pool.close();
  });
  describe('refit on resize', () => {
    /** A harness whose starter records the fit each replica was started with. */
    const fitted = (replicas: number) => {
      const fits = new Map<string, number | undefined>();
      const h = harness({ replicas, fit: (n) => 4 / n });
      const start = h.options.start;
      const options: ReplicaPoolOptions<string, string> = {
        ...h.options,
        start: (id, signal, fit) => {
          fits.set(id, fit);
          return start(id, signal, fit);
        },
      };
      return { ...h, options, fits };
    };

    test('growing replaces a replica started for the smaller pool, new one first, and no request fails', async () => {
      const h = fitted(1);
      const pool = createReplicaPool(h.options);
      await pool.start();
      assert.deepEqual([...h.fits], [['m:1/r1', 4]]);
      const first = h.replicas[0] as FakeReplica;
      const busy = pool.run('in-flight');
      await pool.resize(2);
      // r2 started for a pool of 2; r3 replaced r1, which drains its outstanding request
      assert.deepEqual([...h.fits], [['m:1/r1', 4], ['m:1/r2', 2], ['m:1/r3', 2]]);
      assert.equal(pool.counters().refitted, 1);
      assert.equal(first.closed, false, 'a replica with a request outstanding is not stopped under it');
      first.answerNext();
      assert.equal(await busy, 'm:1/r1:in-flight');
      await tick();
      assert.equal(first.closed, true, 'the misfit stops once drained');
      assert.deepEqual(pool.stats().filter((s) => s.state === 'ready').map((s) => s.id), ['m:1/r2', 'm:1/r3']);
      await pool.close();
    });

    test('shrinking to one replica refits the survivor to use the whole machine again', async () => {
      const h = fitted(2);
      const pool = createReplicaPool(h.options);
      await pool.start();
      await pool.resize(1);
      const ready = pool.stats().filter((s) => s.state === 'ready');
      assert.equal(ready.length, 1);
      assert.equal(h.fits.get(ready[0]!.id), 4);
      assert.equal(pool.counters().refitted, 1);
      await pool.close();
    });

    test('a replacement that fails to start leaves the misfit serving', async () => {
      const fits = new Map<string, number | undefined>();
      const h = harness({ replicas: 1, fit: (n) => 4 / n }, (n) => n === 2);
      const start = h.options.start;
      const pool = createReplicaPool({ ...h.options, start: (id, signal, fit) => (fits.set(id, fit), start(id, signal, fit)) });
      await pool.start();
      await pool.resize(2);
      // r2 (a new replica) started; r3, r1's replacement, failed: r1 still serves
      assert.equal(pool.counters().refitted, 0);
      const ready = pool.stats().filter((s) => s.state === 'ready').map((s) => s.id);
      assert.deepEqual(ready, ['m:1/r1', 'm:1/r2']);
      const answer = pool.run('x');
      for (const r of h.replicas) if (r.calls.length > 0) r.answerNext();
      assert.match(await answer, /^m:1\/r[12]:x$/);
      await pool.close();
    });

    test('without a fit function replicas are never replaced', async () => {
      const h = harness({ replicas: 1 });
      const pool = createReplicaPool(h.options);
      await pool.start();
      await pool.resize(2);
      assert.deepEqual(h.starts, ['m:1/r1', 'm:1/r2']);
      assert.equal(pool.counters().refitted, 0);
      await pool.close();
    });
  });
});
