import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileSlipwayGate, createFixedGate, createSlipwayGate, fixedGateRollbackAt, fixedIntervalFailure, type Gate, type GateOutcome } from '../../../bench/rollout/gates.js';
import { ERROR_RATE_CHECK, LATENCY_CHECK } from '../../../bench/rollout/scenarios.js';
import type { SimulatedRequest } from '../../../bench/rollout/traffic.js';

const fixedConfig = { errorRateAbove: 0.02, p99AboveMs: 100, failedChecksThreshold: 2 };

function request(index: number, arm: SimulatedRequest['arm'], failed = false, latencyMs = 20): SimulatedRequest {
  return { index, arm, failed, latencyMs, converted: false };
}

/** Feeds one interval of `n` canary requests, `errors` of them failed, and returns the look's decision. */
function interval(gate: Gate, at: number, n: number, errors: number, latencyMs = 20): GateOutcome | null {
  for (let i = 0; i < n; i++) gate.observe(request(at - n + i + 1, 'candidate', i < errors, latencyMs));
  return gate.look(at);
}

describe('fixed-threshold gate', () => {
  test('an interval fails when the canary error rate is above the threshold, not when it equals it', () => {
    assert.equal(fixedIntervalFailure(fixedConfig, 50, 1, new Array<number>(50).fill(20)), null);
    assert.equal(fixedIntervalFailure(fixedConfig, 49, 1, new Array<number>(49).fill(20)), 'error-rate');
  });

  test('an interval fails when the canary p99 latency is above the threshold', () => {
    const latencies = [...new Array<number>(98).fill(20), 500, 500];
    assert.equal(fixedIntervalFailure(fixedConfig, 100, 0, latencies), 'latency-p99');
    assert.equal(fixedIntervalFailure(fixedConfig, 100, 0, new Array<number>(100).fill(99)), null);
  });

  test('an interval with no canary request counts as a failed check, as Flagger does when it finds no values', () => {
    assert.equal(fixedIntervalFailure(fixedConfig, 0, 0, []), 'no-traffic');
  });

  test('failed checks are counted in total: a passing interval in between does not reset them', () => {
    const gate = createFixedGate(fixedConfig);
    assert.equal(interval(gate, 500, 50, 5), null);
    assert.equal(interval(gate, 1000, 50, 0), null);
    assert.deepEqual(interval(gate, 1500, 50, 5), { kind: 'rollback', atRequest: 1500, checks: ['error-rate'] });
    assert.deepEqual(gate.failures, [
      { atRequest: 500, reason: 'error-rate' },
      { atRequest: 1500, reason: 'error-rate' },
    ]);
  });

  test('an interval where both metrics are over their thresholds counts as one failed check', () => {
    const gate = createFixedGate(fixedConfig);
    assert.equal(interval(gate, 500, 50, 10, 1000), null);
    assert.equal(gate.failures.length, 1);
  });

  test('each look judges only the requests of its own interval', () => {
    const gate = createFixedGate(fixedConfig);
    assert.equal(interval(gate, 500, 50, 5), null);
    // 5 errors in 100 requests would be 5 % cumulatively; this interval alone has none
    assert.equal(interval(gate, 1000, 50, 0), null);
    assert.equal(gate.failures.length, 1);
  });

  test('fixedGateRollbackAt returns the request count of the threshold-th failed check, or null', () => {
    assert.equal(fixedGateRollbackAt([500, 2000, 3500], 2), 2000);
    assert.equal(fixedGateRollbackAt([500], 2), null);
  });
});

describe("Slipway's gate", () => {
  const compiled = compileSlipwayGate({ checks: [ERROR_RATE_CHECK, LATENCY_CHECK], weights: [90, 10] });

  /**
   * Feeds `looks` intervals of 500 deterministic requests: every tenth to the canary (or every
   * `candidateEvery`-th), errors every 100th request per arm plus `extraCandidateErrorsEvery`, and
   * latencies cycling through the same values in both arms. Returns the first decision.
   */
  function drive(gate: Gate, looks: number, options: { candidateEvery?: number; candidateFailsEvery?: number } = {}): GateOutcome {
    const every = options.candidateEvery ?? 10;
    const latencies = [12, 16, 20, 25, 33];
    let count = { baseline: 0, candidate: 0 };
    for (let look = 1; look <= looks; look++) {
      for (let i = (look - 1) * 500 + 1; i <= look * 500; i++) {
        const arm = i % every === 0 ? 'candidate' : 'baseline';
        count = { ...count, [arm]: count[arm] + 1 };
        const k = count[arm];
        const failed = k % 100 === 0 || (arm === 'candidate' && options.candidateFailsEvery !== undefined && k % options.candidateFailsEvery === 0);
        gate.observe(request(i, arm, failed, latencies[k % latencies.length] ?? 20));
      }
      const decision = gate.look(look * 500);
      if (decision !== null) return decision;
    }
    return gate.end(looks * 500);
  }

  test('waits while the canary has fewer observations than the minimum sample, and reports InsufficientData at the end', () => {
    const outcome = drive(createSlipwayGate(compiled), 1);
    assert.deepEqual(outcome, { kind: 'end', atRequest: 500, lastVerdict: 'InsufficientData' });
  });

  test('rolls back on the first Fail and names the failing check', () => {
    const outcome = drive(createSlipwayGate(compiled), 40, { candidateFailsEvery: 4 });
    assert.equal(outcome.kind, 'rollback');
    assert.ok(outcome.kind === 'rollback' && outcome.checks.includes('error-rate'));
    assert.ok(outcome.atRequest <= 3000, `rolled back after ${outcome.atRequest} requests`);
  });

  test('promotes a canary identical to its baseline once every check passes', () => {
    const outcome = drive(createSlipwayGate(compiled), 40);
    assert.equal(outcome.kind, 'promote');
  });

  test('pauses on a sample-ratio mismatch rather than promoting', () => {
    const outcome = drive(createSlipwayGate(compiled), 40, { candidateEvery: 2 });
    assert.equal(outcome.kind, 'pause');
  });
});
