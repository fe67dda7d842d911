import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFakeClock, PlatformError, type FakeClock } from '../../../src/core/index.js';
import { RuntimeErrors } from '../../../src/runtime/index.js';
import { AutoscalerReasons, createAutoscaler, type Autoscaler, type AutoscalerEvent, type AutoscalerOptions } from '../../../src/scaling/index.js';

/** Scripted load against a fake pool whose ready count follows every scale call at once. */
interface Harness {
  readonly clock: FakeClock;
  readonly autoscaler: Autoscaler;
  readonly load: { inFlight: number; queued: number; arrivals: number; ready: number };
  /** Every replica count passed to scale, in order. */
  readonly scaleCalls: number[];
  /** Advances time in whole ticks, calling `each` after every tick. */
  run(seconds: number, each?: (t: number) => void): Promise<void>;
  /** Seconds since the harness started. */
  elapsed(): number;
  reasons(): string[];
  last(reason: string): AutoscalerEvent | undefined;
}

function harness(options: AutoscalerOptions, init: { initialReplicas?: number; inFlight?: number; observedLoadMs?: number } = {}): Harness {
  const clock = createFakeClock();
  const start = clock.now();
  const initialReplicas = init.initialReplicas ?? 1;
  const load = { inFlight: init.inFlight ?? 0, queued: 0, arrivals: 0, ready: initialReplicas };
  const scaleCalls: number[] = [];
  const autoscaler = createAutoscaler(options, {
    endpoint: 'demo',
    clock,
    initialReplicas,
    ...(init.observedLoadMs === undefined ? {} : { observedLoadMs: init.observedLoadMs }),
    observe: () => ({ inFlight: load.inFlight, queued: load.queued, readyReplicas: load.ready, arrivals: load.arrivals }),
    scale: async (n) => {
      scaleCalls.push(n);
      load.ready = n;
    },
  });
  autoscaler.start();
  const tickMs = autoscaler.config.tickIntervalMs;
  return {
    clock,
    autoscaler,
    load,
    scaleCalls,
    async run(seconds, each) {
      const ticks = Math.round((seconds * 1000) / tickMs);
      for (let i = 0; i < ticks; i++) {
        await clock.advance(tickMs);
        each?.((clock.now() - start) / 1000);
      }
    },
    elapsed: () => (clock.now() - start) / 1000,
    reasons: () => autoscaler.events().map((e) => e.reason),
    last: (reason) => autoscaler.events().filter((e) => e.reason === reason).at(-1),
  };
}

describe('autoscaler: stable mode', () => {
  for (const [inFlight, expected] of [
    [1, 1],
    [8, 1],
    [9, 2],
    [24, 3],
    [40, 5],
  ] as const) {
    test(`steady concurrency ${inFlight} at target 8 settles at ${expected} replica(s)`, async () => {
      // a high panic threshold keeps this test on the stable path
      const h = harness({ targetConcurrency: 8, maxReplicas: 10, panicThresholdPercent: 1000 }, { inFlight, initialReplicas: 1 });
      await h.run(300);
      assert.equal(h.load.ready, expected);
      assert.equal(h.autoscaler.status().mode, 'stable');
      if (expected > 1) assert.deepEqual(h.scaleCalls, [expected]);
      else assert.deepEqual(h.scaleCalls, []);
      await h.autoscaler.stop();
    });
  }

  test('queued requests count as concurrency as much as in-flight ones', async () => {
    const h = harness({ targetConcurrency: 8, maxReplicas: 10, panicThresholdPercent: 1000 });
    h.load.inFlight = 10;
    h.load.queued = 14;
    await h.run(60);
    assert.equal(h.load.ready, 3);
    assert.equal(h.last(AutoscalerReasons.ScaleUpStable)?.desiredReplicas, 3);
    await h.autoscaler.stop();
  });

  test('a steady load below the panic threshold never panics', async () => {
    const h = harness({ targetConcurrency: 8, maxReplicas: 10 }, { inFlight: 15, initialReplicas: 1 });
    await h.run(120);
    assert.ok(!h.reasons().some((r) => r.includes('Panic')), h.reasons().join());
    assert.equal(h.load.ready, 2);
    await h.autoscaler.stop();
  });
});

describe('autoscaler: panic mode', () => {
  test('a burst of at least 200 % of capacity scales up in panic on the first tick that sees it', async () => {
    const h = harness({ targetConcurrency: 8, maxReplicas: 10 }, { inFlight: 8, initialReplicas: 1 });
    await h.run(60);
    assert.deepEqual(h.scaleCalls, []);
    h.load.inFlight = 40;
    await h.run(2); // one tick
    const e = h.last(AutoscalerReasons.ScaleUpPanic);
    assert.ok(e, h.reasons().join());
    assert.equal(e.mode, 'panic');
    assert.equal(e.previousMode, 'stable');
    // panic window = last 3 ticks: (8 + 8 + 40) / 3
    assert.equal(e.panicConcurrency, 18.667);
    assert.equal(e.wantedReplicas, 3);
    assert.deepEqual(h.scaleCalls, [3]);
    await h.autoscaler.stop();
  });

  test('never scales down while in panic, and leaves panic a stable window after the last burst', async () => {
    const h = harness({ targetConcurrency: 8, maxReplicas: 10 }, { inFlight: 8, initialReplicas: 1 });
    await h.run(60);
    h.load.inFlight = 40;
    let burstEndsAt = 0;
    const history: { t: number; ready: number; mode: string }[] = [];
    const note = (t: number): void => void history.push({ t, ready: h.load.ready, mode: h.autoscaler.status().mode });
    await h.run(10, note);
    burstEndsAt = h.elapsed();
    h.load.inFlight = 0;
    await h.run(120, note);

    const panicTicks = history.filter((s) => s.mode === 'panic');
    assert.ok(panicTicks.length > 0);
    for (let i = 1; i < history.length; i++) {
      const [prev, cur] = [history[i - 1]!, history[i]!];
      if (cur.mode === 'panic') assert.ok(cur.ready >= prev.ready, `scaled down in panic at t=${cur.t}`);
    }
    assert.ok(h.reasons().includes(AutoscalerReasons.HeldByPanic), h.reasons().join());
    // the last tick over the threshold is within the burst, so panic must end by burstEnd + 60 s (+ one tick)
    const lastPanic = panicTicks.at(-1)!;
    assert.ok(lastPanic.t <= burstEndsAt + 60, `panic lasted until ${lastPanic.t}`);
    const afterPanic = history.filter((s) => s.t > lastPanic.t);
    assert.ok(afterPanic.some((s) => s.ready < lastPanic.ready), 'scaled down once panic was over');
    const down = h.autoscaler.events().find((e) => e.reason === AutoscalerReasons.ScaleDownStabilised || e.reason === AutoscalerReasons.PanicEnded);
    assert.ok(down !== undefined && down.previousMode === 'panic' && down.mode === 'stable', JSON.stringify(down));
    await h.autoscaler.stop();
  });

  test('a burst while no replica is ready panics against a capacity of one replica', async () => {
    const h = harness({ targetConcurrency: 8, maxReplicas: 10 }, { initialReplicas: 0 });
    h.load.queued = 60;
    await h.run(2);
    const e = h.autoscaler.events()[0];
    assert.equal(e?.reason, AutoscalerReasons.ScaleUpPanic);
    assert.equal(e?.desiredReplicas, 8);
    await h.autoscaler.stop();
  });
});

describe('autoscaler: scale-down stabilisation', () => {
  const options = { targetConcurrency: 8, maxReplicas: 10, stableWindowSeconds: 6, panicWindowSeconds: 2, tickIntervalMs: 1000, panicThresholdPercent: 1000 };

  test('a scale-down waits until no higher count was wanted for scaleDownDelaySeconds', async () => {
    const h = harness({ ...options, scaleDownDelaySeconds: 30 }, { inFlight: 24, initialReplicas: 3 });
    await h.run(10);
    assert.deepEqual(h.scaleCalls, []);
    const changedAt = h.elapsed();
    h.load.inFlight = 8;
    // over the 6 s window the average falls 24 → 8: 3 replicas are last wanted 2 s after the change,
    // 2 replicas 5 s after it; each is held for 30 s from then
    const downs: { t: number; to: number }[] = [];
    let calls = 0;
    await h.run(40, (t) => {
      while (calls < h.scaleCalls.length) downs.push({ t: t - changedAt, to: h.scaleCalls[calls++]! });
    });
    assert.deepEqual(downs, [
      { t: 32, to: 2 },
      { t: 35, to: 1 },
    ]);
    const held = h.autoscaler.events().find((e) => e.reason === AutoscalerReasons.HeldByScaleDownDelay);
    assert.ok(held, h.reasons().join());
    assert.equal(held.currentReplicas, 3);
    assert.equal(held.desiredReplicas, 3);
    assert.equal(held.wantedReplicas, 2);
    const heldLonger = h.autoscaler.events().find((e) => e.reason === AutoscalerReasons.HeldByScaleDownDelay && e.wantedReplicas === 1 && e.currentReplicas === 3);
    // T+6 … T+31: the same held decision, one event with a count
    assert.equal(heldLonger?.count, 26);
    assert.equal(h.last(AutoscalerReasons.ScaleDownStabilised)?.desiredReplicas, 1);
    await h.autoscaler.stop();
  });

  test('without a delay the same drop scales down as soon as the stable average allows', async () => {
    const h = harness(options, { inFlight: 24, initialReplicas: 3 });
    await h.run(10);
    const changedAt = h.elapsed();
    h.load.inFlight = 8;
    const downs: { t: number; to: number }[] = [];
    let calls = 0;
    await h.run(10, (t) => {
      while (calls < h.scaleCalls.length) downs.push({ t: t - changedAt, to: h.scaleCalls[calls++]! });
    });
    assert.deepEqual(downs, [
      { t: 3, to: 2 },
      { t: 6, to: 1 },
    ]);
    assert.ok(!h.reasons().includes(AutoscalerReasons.HeldByScaleDownDelay));
    await h.autoscaler.stop();
  });
});

describe('autoscaler: min and max replicas', () => {
  test('a load above maxReplicas scales to the maximum and then records one held decision with a count', async () => {
    const h = harness({ targetConcurrency: 8, maxReplicas: 2 }, { inFlight: 100, initialReplicas: 1 });
    await h.run(20);
    assert.deepEqual(h.scaleCalls, [2]);
    const [up, held, ...rest] = h.autoscaler.events();
    assert.equal(up?.reason, AutoscalerReasons.ScaleUpPanic);
    assert.equal(up?.limitedBy, 'maxReplicas');
    assert.equal(up?.desiredReplicas, 2);
    assert.equal(held?.reason, AutoscalerReasons.HeldByMaxReplicas);
    assert.equal(held?.currentReplicas, 2);
    assert.equal(held?.desiredReplicas, 2);
    assert.equal(held?.wantedReplicas, 13);
    assert.equal(held?.limitedBy, 'maxReplicas');
    assert.ok((held?.count ?? 0) >= 8, `count ${held?.count}`);
    assert.deepEqual(rest, []);
    await h.autoscaler.stop();
  });

  test('no load never takes the endpoint below minReplicas', async () => {
    const h = harness({ minReplicas: 2, maxReplicas: 4 }, { initialReplicas: 2 });
    await h.run(600);
    assert.deepEqual(h.scaleCalls, []);
    const events = h.autoscaler.events();
    assert.equal(events.length, 1);
    assert.equal(events[0]?.reason, AutoscalerReasons.HeldByMinReplicas);
    assert.equal(events[0]?.wantedReplicas, 0);
    assert.equal(events[0]?.limitedBy, 'minReplicas');
    assert.equal(events[0]?.count, 300);
    await h.autoscaler.stop();
  });

  test('a start below minReplicas is raised to it on the first tick', async () => {
    const h = harness({ minReplicas: 2, maxReplicas: 4 }, { initialReplicas: 1 });
    await h.run(2);
    assert.deepEqual(h.scaleCalls, [2]);
    assert.equal(h.autoscaler.events()[0]?.limitedBy, 'minReplicas');
    await h.autoscaler.stop();
  });
});

describe('autoscaler: scale to zero', () => {
  test('keeps the last replica until the grace period passes without traffic, then scales to zero', async () => {
    const h = harness({ minReplicas: 0, scaleToZeroGracePeriodSeconds: 90 }, { inFlight: 4, initialReplicas: 1 });
    await h.run(20);
    const quietAt = h.elapsed();
    h.load.inFlight = 0;
    let zeroAt: number | undefined;
    await h.run(120, (t) => {
      if (zeroAt === undefined && h.scaleCalls.includes(0)) zeroAt = t - quietAt;
    });
    assert.equal(zeroAt, 90);
    const held = h.last(AutoscalerReasons.HeldByScaleToZeroGrace);
    assert.ok(held, h.reasons().join());
    assert.equal(held.wantedReplicas, 0);
    assert.equal(held.desiredReplicas, 1);
    const zero = h.last(AutoscalerReasons.ScaleToZero);
    assert.equal(zero?.idleMs, 90_000);
    assert.equal(zero?.desiredReplicas, 0);
    await h.autoscaler.stop();
  });

  test('a grace period shorter than the stable window still waits a whole stable window without traffic', async () => {
    const h = harness({ minReplicas: 0, scaleToZeroGracePeriodSeconds: 30 }, { inFlight: 4, initialReplicas: 1 });
    await h.run(20);
    const quietAt = h.elapsed();
    h.load.inFlight = 0;
    let zeroAt: number | undefined;
    await h.run(120, (t) => {
      if (zeroAt === undefined && h.scaleCalls.includes(0)) zeroAt = t - quietAt;
    });
    assert.equal(zeroAt, 60);
    await h.autoscaler.stop();
  });

  test('requests too short to be sampled in flight still count as traffic through arrivals', async () => {
    const h = harness({ minReplicas: 0 }, { initialReplicas: 1 });
    h.load.arrivals = 3;
    await h.run(600);
    assert.deepEqual(h.scaleCalls, []);
    assert.equal(h.last(AutoscalerReasons.HeldByScaleToZeroGrace)?.idleMs, 0);
    h.load.arrivals = 0;
    await h.run(62);
    assert.deepEqual(h.scaleCalls, [0]);
    await h.autoscaler.stop();
  });

  test('with minReplicas 1 an idle endpoint never scales to zero', async () => {
    const h = harness({ minReplicas: 1 }, { initialReplicas: 1 });
    await h.run(600);
    assert.deepEqual(h.scaleCalls, []);
    assert.ok(!h.reasons().includes(AutoscalerReasons.ScaleToZero));
    await h.autoscaler.stop();
  });
});

describe('autoscaler: activation from zero', () => {
  test('a request at zero replicas asks for one at once, without waiting for a tick', async () => {
    const h = harness({ minReplicas: 0 }, { initialReplicas: 0 });
    await h.run(10);
    assert.deepEqual(h.scaleCalls, []);
    const activated = h.autoscaler.activate();
    assert.deepEqual(h.scaleCalls, [1]);
    await activated;
    assert.equal(h.load.ready, 1);
    const e = h.autoscaler.events().at(-1);
    assert.equal(e?.reason, AutoscalerReasons.ActivateFromZero);
    assert.equal(e?.currentReplicas, 0);
    assert.equal(e?.desiredReplicas, 1);
    assert.equal(e?.atMs, h.clock.now());
    await h.autoscaler.stop();
  });

  test('simultaneous activations start one replica, and activating a running endpoint does nothing', async () => {
    const h = harness({ minReplicas: 0 }, { initialReplicas: 0 });
    await Promise.all([h.autoscaler.activate(), h.autoscaler.activate(), h.autoscaler.activate()]);
    assert.deepEqual(h.scaleCalls, [1]);
    await h.autoscaler.activate();
    assert.deepEqual(h.scaleCalls, [1]);
    assert.equal(h.autoscaler.events().filter((e) => e.reason === AutoscalerReasons.ActivateFromZero).length, 1);
    await h.autoscaler.stop();
  });

  test('an activated replica is kept for the idle period even if the request finished before any tick', async () => {
    const h = harness({ minReplicas: 0, scaleToZeroGracePeriodSeconds: 30 }, { initialReplicas: 0 });
    await h.run(4);
    const activatedAt = h.elapsed();
    await h.autoscaler.activate();
    let zeroAt: number | undefined;
    await h.run(100, (t) => {
      if (zeroAt === undefined && h.scaleCalls.at(-1) === 0) zeroAt = t - activatedAt;
    });
    assert.equal(zeroAt, 60);
    await h.autoscaler.stop();
  });

  test('requests queued at zero replicas scale up on the next tick even without activate', async () => {
    const h = harness({ minReplicas: 0 }, { initialReplicas: 0 });
    h.load.queued = 2;
    await h.run(2);
    assert.deepEqual(h.scaleCalls, [1]);
    assert.equal(h.autoscaler.events()[0]?.reason, AutoscalerReasons.ScaleUpStable);
    await h.autoscaler.stop();
  });
});

describe('autoscaler: decision log', () => {
  test('an event records the inputs the decision was made from', async () => {
    const h = harness({ targetConcurrency: 8, maxReplicas: 10, panicThresholdPercent: 1000 }, { inFlight: 20, initialReplicas: 1 });
    await h.run(2);
    const [e] = h.autoscaler.events();
    assert.ok(e);
    assert.deepEqual(
      { ...e },
      {
        seq: 1,
        endpoint: 'demo',
        atMs: h.clock.now(),
        lastAtMs: h.clock.now(),
        count: 1,
        reason: AutoscalerReasons.ScaleUpStable,
        mode: 'stable',
        previousMode: 'stable',
        stableConcurrency: 20,
        panicConcurrency: 20,
        targetConcurrency: 8,
        readyReplicas: 1,
        currentReplicas: 1,
        wantedReplicas: 3,
        desiredReplicas: 3,
        idleMs: 0,
        message: e.message,
      },
    );
    assert.match(e.message, /1 → 3 replicas: average concurrency 20\.00 over 60 s at target 8 asks for 3/);
    assert.ok(Object.isFrozen(e));
  });

  test('a failed scale call is recorded and retried on the next tick', async () => {
    const clock = createFakeClock();
    const calls: number[] = [];
    let failures = 1;
    const autoscaler = createAutoscaler(
      { targetConcurrency: 8, panicThresholdPercent: 1000 },
      {
        endpoint: 'demo',
        clock,
        initialReplicas: 1,
        observe: () => ({ inFlight: 20, queued: 0, readyReplicas: 1 }),
        scale: async (n) => {
          calls.push(n);
          if (failures-- > 0) throw RuntimeErrors.RUNTIME_UNLOADED('demo is unloading and cannot be resized');
        },
      },
    );
    autoscaler.start();
    await clock.advance(2000);
    assert.deepEqual(calls, [3]);
    assert.equal(autoscaler.status().appliedReplicas, 1);
    const failed = autoscaler.events().at(-1);
    assert.equal(failed?.reason, AutoscalerReasons.ScaleFailed);
    assert.match(failed?.message ?? '', /RUNTIME_UNLOADED/);
    await clock.advance(2000);
    assert.deepEqual(calls, [3, 3]);
    assert.equal(autoscaler.status().appliedReplicas, 3);
    await autoscaler.stop();
  });

  test('a scale callback that throws synchronously is retried on the next tick too', async () => {
    const clock = createFakeClock();
    const calls: number[] = [];
    let failures = 1;
    const autoscaler = createAutoscaler(
      { targetConcurrency: 8, panicThresholdPercent: 1000 },
      {
        endpoint: 'demo',
        clock,
        initialReplicas: 1,
        observe: () => ({ inFlight: 20, queued: 0, readyReplicas: 1 }),
        scale: (n) => {
          calls.push(n);
          if (failures-- > 0) throw new PlatformError('TEST_SCALE', 'internal', 'resize threw');
          return Promise.resolve();
        },
      },
    );
    autoscaler.start();
    await clock.advance(2000);
    assert.equal(autoscaler.events().at(-1)?.reason, AutoscalerReasons.ScaleFailed);
    await clock.advance(2000);
    assert.deepEqual(calls, [3, 3]);
    assert.equal(autoscaler.status().appliedReplicas, 3);
    await autoscaler.stop();
  });

  test('scale calls never overlap; a decision made meanwhile is applied once the call settles', async () => {
    const clock = createFakeClock();
    const calls: number[] = [];
    let release: () => void = () => undefined;
    const load = { inFlight: 20 };
    const autoscaler = createAutoscaler(
      { targetConcurrency: 8, maxReplicas: 10, panicThresholdPercent: 1000 },
      {
        endpoint: 'demo',
        clock,
        initialReplicas: 1,
        observe: () => ({ inFlight: load.inFlight, queued: 0, readyReplicas: 1 }),
        scale: (n) => {
          calls.push(n);
          return new Promise<void>((resolve) => {
            release = resolve;
          });
        },
      },
    );
    autoscaler.start();
    await clock.advance(2000);
    load.inFlight = 200; // the stable average rises while the first call is still running
    await clock.advance(4000);
    assert.deepEqual(calls, [3]);
    release();
    await clock.advance(0);
    assert.equal(calls.length, 2);
    assert.ok(calls[1]! > 3);
    release();
    await autoscaler.stop();
  });

  test('memory stays bounded over a long run: window buckets and the log do not grow', async () => {
    const h = harness({ targetConcurrency: 4, maxReplicas: 8, maxEvents: 50 }, { initialReplicas: 1 });
    const buckets = h.autoscaler.status().windowBuckets;
    assert.equal(buckets, 30);
    // a day of traffic that swings every few minutes, so the log keeps filling
    let tick = 0;
    await h.run(24 * 3600, () => {
      tick++;
      h.load.inFlight = Math.floor(tick / 90) % 3 === 0 ? 0 : (tick % 7) * 5;
    });
    assert.equal(h.autoscaler.status().windowBuckets, buckets);
    const events = h.autoscaler.events();
    assert.equal(events.length, 50);
    assert.ok(events[0]!.seq > 50, `seq ${events[0]!.seq}`);
    for (let i = 1; i < events.length; i++) assert.equal(events[i]!.seq, events[i - 1]!.seq + 1);
    await h.autoscaler.stop();
  });
});

describe('autoscaler: lifecycle', () => {
  test('stop ends ticking and leaves no timer behind', async () => {
    const h = harness({}, { inFlight: 50 });
    await h.run(4);
    await h.autoscaler.stop();
    assert.equal(h.clock.pendingTimers(), 0);
    const before = h.autoscaler.events().length;
    await h.clock.advance(60_000);
    assert.equal(h.autoscaler.events().length, before);
    assert.equal(h.autoscaler.tick(), undefined);
    assert.equal(h.autoscaler.status().running, false);
  });

  test('a sampler that throws skips that tick and the next one runs', async () => {
    const clock = createFakeClock();
    let throws = true;
    const autoscaler = createAutoscaler(
      { panicThresholdPercent: 1000 },
      {
        endpoint: 'demo',
        clock,
        initialReplicas: 1,
        observe: () => {
          if (throws) throw new PlatformError('TEST_SAMPLER', 'internal', 'sampler broke');
          return { inFlight: 20, queued: 0, readyReplicas: 1 };
        },
        scale: async () => undefined,
      },
    );
    autoscaler.start();
    await clock.advance(2000);
    assert.deepEqual(autoscaler.events(), []);
    throws = false;
    await clock.advance(2000);
    assert.equal(autoscaler.events()[0]?.reason, AutoscalerReasons.ScaleUpStable);
    await autoscaler.stop();
  });

  test('invalid options throw before anything starts, naming every problem', () => {
    assert.throws(
      () => createAutoscaler({ minReplicas: 0, maxReplicas: 0, scaleToZeroGracePeriodSeconds: 2 }, { endpoint: 'demo', initialReplicas: 0, observedLoadMs: 5000, observe: () => ({ inFlight: 0, queued: 0, readyReplicas: 0 }), scale: async () => undefined }),
      (error: unknown) => {
        assert.ok(error instanceof PlatformError);
        assert.equal(error.code, 'CORE_INVALID_CONFIG');
        assert.match(error.message, /maxReplicas: must be ≥ 1/);
        assert.match(error.message, /scaleToZeroGracePeriodSeconds: must exceed the model's observed load time/);
        return true;
      },
    );
  });
});
