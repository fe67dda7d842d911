/**
 * A self-check of the analysis engine on synthetic canary traffic: the shape of the rollout
 * benchmark (10 % candidate weight, 1 % baseline error rate, a look every 500 requests, 20,000
 * requests per run), at a size a unit test can afford. The bounds are loose enough not to flake on
 * a seed change yet tight enough to fail if always-valid inference breaks (a peeking z test fails
 * the first bound; a test without power fails the second).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyse, compileChecks, createRateArm, type AnalysisState, type AnalysisVerdict } from '../../../../src/rollout/analysis/index.js';
import { createSeededRandom } from '../../../../src/stats/index.js';

const RUNS = 200;
const REQUESTS = 20_000;
const LOOK_EVERY = 500;
const CANDIDATE_WEIGHT = 0.1;
const BASELINE_ERROR_RATE = 0.01;

const checks = compileChecks([{ metric: 'errors', kind: 'rate', direction: 'lower-is-better', alpha: 0.05, minimumDetectableEffect: 0.02, minimumSample: 100 }]);

interface Outcome {
  readonly verdict: AnalysisVerdict | 'Undecided';
  readonly requests: number;
}

/** One canary run: stops at the first Fail (rollback); otherwise records whether it ever passed. */
function run(seed: number, extraCandidateErrorRate: number): Outcome {
  const rnd = createSeededRandom(seed);
  const baseline = createRateArm();
  const candidate = createRateArm();
  let state: AnalysisState | null = null;
  let passedAt: number | null = null;
  for (let i = 1; i <= REQUESTS; i++) {
    if (rnd.next() < CANDIDATE_WEIGHT) candidate.add(rnd.next() < BASELINE_ERROR_RATE + extraCandidateErrorRate);
    else baseline.add(rnd.next() < BASELINE_ERROR_RATE);
    if (i % LOOK_EVERY !== 0) continue;
    const result = analyse(checks, { metrics: { errors: { baseline: baseline.summary(), candidate: candidate.summary() } } }, state);
    state = result.state;
    if (result.verdict === 'Fail') return { verdict: 'Fail', requests: i };
    if (result.verdict === 'Pass' && passedAt === null) passedAt = i;
  }
  return passedAt === null ? { verdict: 'Undecided', requests: REQUESTS } : { verdict: 'Pass', requests: passedAt };
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

describe('canary simulation (Bernoulli errors)', () => {
  test('with no fault, checking every 500 requests fails at most 10 % of 200 runs at α = 0.05, and most runs pass', (t) => {
    const outcomes = Array.from({ length: RUNS }, (_, i) => run(1000 + i, 0));
    const falseFails = outcomes.filter((o) => o.verdict === 'Fail').length / RUNS;
    const passes = outcomes.filter((o) => o.verdict === 'Pass').length / RUNS;
    t.diagnostic(`no fault: false Fail ${falseFails}, Pass ${passes}, median requests to Pass ${median(outcomes.filter((o) => o.verdict === 'Pass').map((o) => o.requests))}`);
    assert.ok(falseFails <= 0.1, `false-Fail rate ${falseFails}`);
    assert.ok(passes >= 0.8, `pass rate ${passes}`);
  });

  test('a +2 percentage-point error fault is detected in at least 90 % of 200 runs', (t) => {
    const outcomes = Array.from({ length: RUNS }, (_, i) => run(5000 + i, 0.02));
    const detected = outcomes.filter((o) => o.verdict === 'Fail').length / RUNS;
    t.diagnostic(`+2 pp: detected ${detected}, median requests to detection ${median(outcomes.filter((o) => o.verdict === 'Fail').map((o) => o.requests))}`);
    assert.ok(detected >= 0.9, `detection rate ${detected}`);
  });
});
