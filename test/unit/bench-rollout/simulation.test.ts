import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GateOutcome } from '../../../bench/rollout/gates.js';
import { errorFixedHorizonPower } from '../../../bench/rollout/report.js';
import { runCases, runShard } from '../../../bench/rollout/runner.js';
import { SHAPE } from '../../../bench/rollout/scenarios.js';
import { calibrateThreshold, fixedOutcome, medianOf, summarise, type RunResult } from '../../../bench/rollout/simulation.js';
import { generateTraffic, NO_FAULT } from '../../../bench/rollout/traffic.js';

const small = { ...SHAPE, requests: 2000 };

describe('synthetic traffic', () => {
  test('the same seed gives the same requests', () => {
    assert.deepEqual([...generateTraffic(small, NO_FAULT, 7)], [...generateTraffic(small, NO_FAULT, 7)]);
    assert.notDeepEqual([...generateTraffic(small, NO_FAULT, 7)], [...generateTraffic(small, NO_FAULT, 8)]);
  });

  test('scenarios on the same seed differ by their fault alone: same routing, same baseline requests, slower canary', () => {
    const healthy = [...generateTraffic(small, NO_FAULT, 3)];
    const slow = [...generateTraffic(small, { ...NO_FAULT, latencyFactor: 1.5, extraErrorRate: 0.02 }, 3)];
    assert.deepEqual(
      slow.map((r) => r.arm),
      healthy.map((r) => r.arm),
    );
    healthy.forEach((h, i) => {
      const s = slow[i];
      assert.ok(s !== undefined);
      if (h.arm === 'baseline') assert.deepEqual(s, h);
      else {
        assert.ok(Math.abs(s.latencyMs - 1.5 * h.latencyMs) < 1e-9);
        assert.ok(s.failed || !h.failed, 'a fault only adds errors');
      }
    });
  });

  test('the canary share and the baseline error rate match the shape within sampling error', () => {
    const requests = [...generateTraffic({ ...SHAPE, requests: 20_000 }, NO_FAULT, 11)];
    const canary = requests.filter((r) => r.arm === 'candidate').length / requests.length;
    const errors = requests.filter((r) => r.failed).length / requests.length;
    // 20,000 draws: 5 standard errors either side
    assert.ok(Math.abs(canary - 0.1) < 5 * Math.sqrt(0.09 / 20_000), `canary share ${canary}`);
    assert.ok(Math.abs(errors - 0.01) < 5 * Math.sqrt(0.0099 / 20_000), `error rate ${errors}`);
  });
});

describe('aggregation', () => {
  const outcomes: GateOutcome[] = [
    { kind: 'rollback', atRequest: 3000, checks: ['error-rate'] },
    { kind: 'rollback', atRequest: 1000, checks: ['error-rate', 'latency-mean-log'] },
    { kind: 'promote', atRequest: 7000 },
    { kind: 'pause', atRequest: 4000 },
    { kind: 'end', atRequest: 20_000, lastVerdict: 'Inconclusive' },
  ];

  test('summarise counts each kind of outcome, sorts the request counts and attributes rollbacks to checks', () => {
    const s = summarise(outcomes);
    assert.equal(s.runs, 5);
    assert.deepEqual(s.rollbackAt, [1000, 3000]);
    assert.deepEqual(s.rollbacksByCheck, { 'error-rate': 2, 'latency-mean-log': 1 });
    assert.equal(s.promotedOnPass, 1);
    assert.equal(s.paused, 1);
    assert.equal(s.endedUndecided, 1);
    assert.deepEqual(s.endedByVerdict, { Inconclusive: 1 });
  });

  test('medianOf takes the middle value, or the mean of the middle two', () => {
    assert.equal(medianOf([1000, 3000]), 2000);
    assert.equal(medianOf([1, 2, 9]), 2);
    assert.equal(medianOf([]), null);
  });

  const run = (failedAt: number[]): RunResult => ({ seed: 0, slipway: null, fixedFailures: failedAt.map((atRequest) => ({ atRequest, reason: 'error-rate' })) });

  test("the fixed gate's outcome for any threshold is read off the run's failed checks", () => {
    assert.deepEqual(fixedOutcome(run([500, 1500, 4000]), 2, 20_000), { kind: 'rollback', atRequest: 1500, checks: ['error-rate'] });
    assert.deepEqual(fixedOutcome(run([500]), 2, 20_000), { kind: 'end', atRequest: 20_000, lastVerdict: null });
  });

  test('calibration picks the smallest threshold whose rollback share is at most the target', () => {
    const runs = [run([500, 1000, 1500]), run([500]), run([]), run([500, 1000])];
    // threshold 1: 3 of 4 roll back; 2: 2 of 4; 3: 1 of 4
    assert.equal(calibrateThreshold(runs, 20_000, 0.25, 1, 10), 3);
    assert.equal(calibrateThreshold(runs, 20_000, 0, 1, 3), null);
  });
});

describe('runner', () => {
  test('results do not depend on how the seeds are split across processes', async () => {
    const inProcess = runShard({ caseIds: ['main:errors'], from: 0, to: 3 });
    const split = await runCases(['main:errors'], 3, 2);
    assert.deepEqual(split, inProcess);
    assert.equal(split['main:errors']?.length, 3);
  });
});

void describe('the bound quoted for a missed detection-speed target', () => {
  void test('is the power of a one-sided two-proportion z test, checked by hand', () => {
    // 1,500 requests at 10 %: 150 canary at 3 %, 1,350 stable at 1 %; z = 0.02 / 0.014187 = 1.4097; Φ(1.4097 − 1.6449) = 0.4071
    const power = errorFixedHorizonPower({ baselineErrorRate: 0.01, candidateWeight: 0.1 }, 0.02, 1500, 0.05);
    assert.ok(Math.abs(power - 0.4071) < 5e-4, String(power));
    assert.ok(errorFixedHorizonPower({ baselineErrorRate: 0.01, candidateWeight: 0.1 }, 0.02, 3500, 0.05) > power, 'more requests, more power');
  });
});
