import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFakeClock, type FakeClock } from '../../../../src/core/index.js';
import { createUsageMeter, type BusyReading, type UsageMeterOptions } from '../../../../src/monitoring/business/index.js';

const T0 = Date.UTC(2026, 2, 3, 12, 0, 0);
const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** A process whose CPU time and replicas' busy time the test moves by hand. */
function fakeProcess() {
  let cpuMicros = 0;
  const busy = new Map<string, BusyReading>();
  return {
    /** Adds CPU-seconds, split between user and system as a process would. */
    spend(seconds: number) {
      cpuMicros += seconds * 1e6;
    },
    /** Sets a cumulative busy reading. */
    set(endpoint: string, model: string, version: number, busySeconds: number, replica?: string) {
      busy.set(`${endpoint}/${model}/${version}/${replica ?? ''}`, { endpoint, model, version, busySeconds, ...(replica === undefined ? {} : { replica }) });
    },
    remove(endpoint: string, model: string, version: number, replica?: string) {
      busy.delete(`${endpoint}/${model}/${version}/${replica ?? ''}`);
    },
    get(endpoint: string, model: string, version: number, replica?: string): number {
      return busy.get(`${endpoint}/${model}/${version}/${replica ?? ''}`)?.busySeconds ?? 0;
    },
    cpuUsage: () => ({ user: Math.round(cpuMicros * 0.75), system: cpuMicros - Math.round(cpuMicros * 0.75) }),
    busy: () => [...busy.values()],
  };
}

function meter(p: ReturnType<typeof fakeProcess>, clock: FakeClock, extra: Partial<UsageMeterOptions> = {}) {
  return createUsageMeter({ busy: p.busy, cpuUsage: p.cpuUsage, clock, sampleIntervalSeconds: 10, ...extra });
}

const cpuOf = (versions: readonly { endpoint: string; model: string; version: number; cpuSeconds: number }[], version: number, endpoint = 'shop'): number =>
  versions.filter((v) => v.endpoint === endpoint && v.version === version).reduce((s, v) => s + v.cpuSeconds, 0);

describe('usage meter', () => {
  test('splits an interval\'s process CPU 3:1 between two versions busy 3:1', async () => {
    const clock = createFakeClock(T0);
    const p = fakeProcess();
    p.set('shop', 'm', 1, 100);
    p.set('shop', 'm', 2, 50);
    const m = meter(p, clock);
    p.spend(8);
    p.set('shop', 'm', 1, 103);
    p.set('shop', 'm', 2, 51);
    await clock.advance(10 * SECOND);
    const totals = m.totals();
    assert.ok(Math.abs(cpuOf(totals.versions, 1) - 6) < 1e-9, JSON.stringify(totals));
    assert.ok(Math.abs(cpuOf(totals.versions, 2) - 2) < 1e-9);
    assert.equal(totals.unattributedCpuSeconds, 0);
    assert.equal(totals.processCpuSeconds, 8);
    assert.equal(totals.startedAt, T0);
    assert.equal(totals.sampledAt, T0 + 10 * SECOND);
    m.close();
  });

  test('attributes nothing before its first sample: busy time accumulated earlier is the baseline', async () => {
    const clock = createFakeClock(T0);
    const p = fakeProcess();
    p.spend(50);
    p.set('shop', 'm', 1, 500);
    const m = meter(p, clock);
    await clock.advance(10 * SECOND);
    assert.equal(m.totals().processCpuSeconds, 0);
    assert.equal(cpuOf(m.totals().versions, 1), 0);
    m.close();
  });

  test('counts the CPU of an interval in which no version ran as unattributed', async () => {
    const clock = createFakeClock(T0);
    const p = fakeProcess();
    p.set('shop', 'm', 1, 10);
    const m = meter(p, clock);
    p.spend(1.5);
    await clock.advance(10 * SECOND);
    p.spend(2);
    p.set('shop', 'm', 1, 11);
    await clock.advance(10 * SECOND);
    const totals = m.totals();
    assert.equal(totals.unattributedCpuSeconds, 1.5);
    assert.equal(cpuOf(totals.versions, 1), 2);
    assert.equal(totals.processCpuSeconds, 3.5);
    m.close();
  });

  test('takes a lower busy reading as a restart from zero', async () => {
    const clock = createFakeClock(T0);
    const p = fakeProcess();
    p.set('shop', 'm', 1, 100);
    p.set('shop', 'm', 2, 100);
    const m = meter(p, clock);
    // version 1 reloaded and has run 1 s since; version 2 ran 1 s as well
    p.set('shop', 'm', 1, 1);
    p.set('shop', 'm', 2, 101);
    p.spend(4);
    await clock.advance(10 * SECOND);
    const totals = m.totals();
    assert.equal(cpuOf(totals.versions, 1), 2, 'the restarted version keeps its share, not a negative one');
    assert.equal(cpuOf(totals.versions, 2), 2);
    assert.equal(m.stats().busyResets, 1);
    m.close();
  });

  test('with per-replica readings, a replica removed by a scale-down is no restart', async () => {
    const clock = createFakeClock(T0);
    const p = fakeProcess();
    p.set('shop', 'm', 1, 40, 'r1');
    p.set('shop', 'm', 1, 60, 'r2');
    p.set('shop', 'm', 2, 10, 'r1');
    const m = meter(p, clock);
    p.remove('shop', 'm', 1, 'r2');
    p.set('shop', 'm', 1, 43, 'r1');
    p.set('shop', 'm', 2, 11, 'r1');
    p.spend(4);
    await clock.advance(10 * SECOND);
    const totals = m.totals();
    assert.equal(cpuOf(totals.versions, 1), 3);
    assert.equal(cpuOf(totals.versions, 2), 1);
    assert.equal(m.stats().busyResets, 0);
    m.close();
  });

  test('counts all the busy time of a version deployed after the last sample', async () => {
    const clock = createFakeClock(T0);
    const p = fakeProcess();
    p.set('shop', 'm', 1, 10);
    const m = meter(p, clock);
    p.set('shop', 'm', 1, 11);
    p.set('shop', 'm', 2, 1);
    p.spend(2);
    await clock.advance(10 * SECOND);
    assert.equal(cpuOf(m.totals().versions, 2), 1);
    assert.equal(cpuOf(m.totals().versions, 1), 1);
    m.close();
  });

  test('keeps versions of different endpoints apart', async () => {
    const clock = createFakeClock(T0);
    const p = fakeProcess();
    p.set('shop', 'm', 1, 0);
    p.set('fraud', 'm', 1, 0);
    const m = meter(p, clock);
    p.set('shop', 'm', 1, 1);
    p.set('fraud', 'm', 1, 4);
    p.spend(10);
    await clock.advance(10 * SECOND);
    assert.equal(cpuOf(m.totals().versions, 1, 'shop'), 2);
    assert.equal(cpuOf(m.totals().versions, 1, 'fraud'), 8);
    m.close();
  });

  test('counts an interval whose busy readings fail as unattributed, and keeps sampling', async () => {
    const clock = createFakeClock(T0);
    const p = fakeProcess();
    let fail = false;
    const m = createUsageMeter({
      busy: () => {
        if (fail) throw new Error('deployments unavailable');
        return p.busy();
      },
      cpuUsage: p.cpuUsage,
      clock,
      sampleIntervalSeconds: 10,
    });
    fail = true;
    p.spend(3);
    await clock.advance(10 * SECOND);
    fail = false;
    p.set('shop', 'm', 1, 1);
    p.spend(1);
    await clock.advance(10 * SECOND);
    assert.equal(m.totals().unattributedCpuSeconds, 3);
    assert.equal(cpuOf(m.totals().versions, 1), 1);
    assert.equal(m.stats().failures, 1);
    assert.equal(m.stats().samples, 3);
    m.close();
  });

  describe('windows from the snapshot ring', () => {
    /** Ten minutes in which the process spends 1 CPU-second per 10 s sample, all of it while version 1 runs. */
    async function tenMinutes(extra: Partial<UsageMeterOptions> = {}) {
      const clock = createFakeClock(T0);
      const p = fakeProcess();
      p.set('shop', 'm', 1, 0);
      const m = meter(p, clock, extra);
      for (let i = 0; i < 60; i++) {
        p.spend(1);
        p.set('shop', 'm', 1, p.get('shop', 'm', 1) + 0.25);
        await clock.advance(10 * SECOND);
      }
      return { clock, p, m };
    }

    test('gives the CPU-seconds of a window whose edges fall on snapshots', async () => {
      const { m } = await tenMinutes();
      const w = m.window(T0 + 2 * MINUTE, T0 + 5 * MINUTE);
      assert.equal(cpuOf(w.versions, 1), 18);
      assert.equal(w.measuredSince, T0 + 2 * MINUTE);
      assert.equal(w.measuredUntil, T0 + 5 * MINUTE);
      assert.equal(w.complete, true);
      assert.equal(w.processCpuSeconds, 18);
      m.close();
    });

    test('rounds window edges down to the latest snapshot before them (its resolution)', async () => {
      const { m } = await tenMinutes();
      assert.equal(m.resolutionSeconds, 60);
      const w = m.window(T0 + 2 * MINUTE + 30 * SECOND, T0 + 5 * MINUTE + 30 * SECOND);
      assert.equal(w.measuredSince, T0 + 2 * MINUTE);
      assert.equal(w.measuredUntil, T0 + 5 * MINUTE);
      assert.equal(cpuOf(w.versions, 1), 18);
      m.close();
    });

    test('runs an open window up to the latest sample', async () => {
      const { m } = await tenMinutes();
      const w = m.window(T0 + 8 * MINUTE);
      assert.equal(w.measuredUntil, T0 + 10 * MINUTE);
      assert.equal(w.until, null);
      assert.equal(cpuOf(w.versions, 1), 12);
      m.close();
    });

    test('marks a window that starts before the meter did as incomplete', async () => {
      const { m } = await tenMinutes();
      const w = m.window(T0 - 60 * MINUTE, T0 + 3 * MINUTE);
      assert.equal(w.complete, false);
      assert.equal(w.measuredSince, T0);
      assert.equal(cpuOf(w.versions, 1), 18);
      m.close();
    });

    test('reports nothing measured for a window that ends before the meter started', async () => {
      const { m } = await tenMinutes();
      const w = m.window(T0 - 60 * MINUTE, T0 - 30 * MINUTE);
      assert.equal(w.measuredSince, null);
      assert.equal(w.versions.length, 0);
      assert.equal(w.complete, false);
      m.close();
    });

    test('keeps a bounded ring: history beyond historyHours is dropped and such windows are incomplete', async () => {
      const clock = createFakeClock(T0);
      const p = fakeProcess();
      p.set('shop', 'm', 1, 0);
      const m = meter(p, clock, { historyHours: 1, sampleIntervalSeconds: 60 });
      for (let i = 0; i < 120; i++) {
        p.spend(1);
        p.set('shop', 'm', 1, p.get('shop', 'm', 1) + 1);
        await clock.advance(MINUTE);
      }
      assert.equal(m.stats().snapshots, 61);
      const w = m.window(T0, T0 + 120 * MINUTE);
      assert.equal(w.complete, false);
      assert.equal(w.measuredSince, T0 + 60 * MINUTE);
      assert.equal(cpuOf(w.versions, 1), 60);
      // the totals since start are kept whatever the ring holds
      assert.equal(cpuOf(m.totals().versions, 1), 120);
      m.close();
    });
  });

  test('takes readings that arrive asynchronously, reading the CPU once they are in', async () => {
    const clock = createFakeClock(T0);
    const p = fakeProcess();
    p.set('shop', 'm', 1, 0);
    p.set('shop', 'm', 2, 0);
    const m = createUsageMeter({ busy: async () => p.busy(), cpuUsage: p.cpuUsage, clock, sampleIntervalSeconds: 10 });
    // the first sample's readings arrive on a later turn; the next sample is armed once they have
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(m.stats().samples, 1);
    assert.equal(clock.pendingTimers(), 1);
    p.set('shop', 'm', 1, 1);
    p.set('shop', 'm', 2, 3);
    p.spend(8);
    await clock.advance(10 * SECOND);
    assert.equal(m.stats().samples, 2);
    assert.equal(cpuOf(m.totals().versions, 1), 2);
    assert.equal(cpuOf(m.totals().versions, 2), 6);
    m.close();
  });

  test('stops sampling when closed', async () => {
    const clock = createFakeClock(T0);
    const p = fakeProcess();
    const m = meter(p, clock);
    m.close();
    p.spend(5);
    await clock.advance(60 * SECOND);
    assert.equal(m.stats().samples, 1);
    assert.equal(clock.pendingTimers(), 0);
  });
});
