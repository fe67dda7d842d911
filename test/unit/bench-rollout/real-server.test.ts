import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CheckResult } from '../../../src/rollout/analysis/index.js';
import { engineChecksOf } from '../../../src/rollout/checks.js';
import { readEndpointSpecs } from '../../../src/rollout/spec/index.js';
import type { Rollout } from '../../../src/rollout/state/index.js';
import {
  analysedOf,
  latencyRatioOf,
  outcomeOf,
  realServerPlans,
  runDocuments,
  storedVerdictOf,
  type RealServerRun,
  type RealServerResult,
  type StoredVerdict,
} from '../../../bench/rollout/real-server.js';
import { outcomeCell, realServerMarkdown } from '../../../bench/rollout/report.js';
import { byId, GATE_VARIANTS, SCENARIOS } from '../../../bench/rollout/scenarios.js';
import { summarise } from '../../../bench/rollout/simulation.js';

function check(name: string, verdict: CheckResult['verdict'], n: [number, number], estimates: [number, number]): CheckResult {
  return {
    name,
    metric: name,
    kind: name === 'latency-mean-log' ? 'latency' : 'rate',
    verdict,
    evidence: {
      nBaseline: n[0],
      nCandidate: n[1],
      minimumSample: 100,
      scale: 'absolute',
      estimates: { baseline: estimates[0], candidate: estimates[1] },
      difference: estimates[1] - estimates[0],
      interval: { lower: 0.001, upper: 0.05 },
      statistic: 3,
      statisticName: 'ln Λ',
      pValue: 0.004,
      pValueNullHypothesis: null,
      threshold: 0,
      passMargin: 0.02,
      alpha: 0.025,
      method: 'msprt',
      looks: 4,
      reason: 'test',
      fixedHorizon: null,
      lift: null,
      chanceToWin: null,
      quantiles: null,
    },
  };
}

const failing: StoredVerdict = {
  run: 'step',
  verdict: 'Fail',
  reason: 'error-rate failed',
  checks: [check('error-rate', 'Fail', [2700, 300], [0.01, 0.03]), check('latency-mean-log', 'Inconclusive', [2670, 290], [4, 5])],
  sampleRatio: null,
};

function rollout(phase: Rollout['phase'], completed: string, pauseReason: Rollout['pauseReason'] = null): Pick<Rollout, 'phase' | 'pauseReason' | 'conditions'> {
  return {
    phase,
    pauseReason,
    conditions: [{ type: 'Completed', status: 'False', reason: completed as Rollout['conditions'][number]['reason'], message: '', lastTransitionAt: 0 }],
  };
}

describe('real-server plans', () => {
  test('each scenario gets its own model, and only its fault differs between baseline and candidate', () => {
    const plans = realServerPlans(10);
    assert.deepEqual(
      plans.map((p) => p.scenario.id),
      SCENARIOS.map((s) => s.id),
    );
    assert.equal(new Set(plans.map((p) => p.model)).size, plans.length);
    const of = (id: string) => plans.find((p) => p.scenario.id === id) ?? assert.fail(id);
    for (const p of plans) {
      assert.equal(p.baseline.tableSize, 99, 'the baseline fails 1 %');
      assert.equal(p.baseline.rounds, 10);
      assert.equal(p.candidate.tag, 1, 'the candidate never has the baseline’s bytes');
    }
    assert.equal(of('no-fault').candidate.tableSize, 99);
    assert.equal(of('no-fault').candidate.rounds, 10);
    assert.equal(of('errors').candidate.tableSize, 97);
    assert.equal(of('latency').candidate.rounds, 15);
    assert.equal(of('latency').candidate.tableSize, 99);
    assert.deepEqual(of('outcome').conversion, { stable: 0.1, candidate: 0.08 });
    assert.equal(of('errors').conversion, null);
  });

  test('the spec documents pass the real spec parser, and their checks are the simulator’s', () => {
    for (const plan of realServerPlans()) {
      const docs = runDocuments(`${plan.model}-1`, plan, { baseline: 1, candidate: 2 });
      const [create] = readEndpointSpecs(docs.create);
      assert.equal(create?.spec.strategy, undefined);
      assert.deepEqual(create?.spec.target, { kind: 'version', model: plan.model, version: 1 });
      const [canary] = readEndpointSpecs(docs.canary);
      const strategy = canary?.spec.strategy;
      assert.equal(strategy?.kind, 'canary');
      if (strategy?.kind !== 'canary') return;
      assert.deepEqual(strategy.steps[0], { kind: 'setWeight', weight: 10 });
      const step = strategy.steps[1];
      assert.equal(step?.kind, 'analysis');
      if (step?.kind !== 'analysis') return;
      assert.equal(step.analysis.intervalSeconds, 1);
      assert.equal(step.analysis.minimumSamplePerArm, 100);
      const variant = byId(GATE_VARIANTS, plan.conversion === null ? 'slipway' : 'slipway-feedback');
      const compiled = engineChecksOf(step.analysis);
      assert.deepEqual(
        compiled.map((c) => c.name),
        variant.checks.map((c) => c.name),
      );
      for (const c of compiled) {
        const simulated = variant.checks.find((s) => s.name === c.name);
        assert.equal(c.tolerance, simulated?.tolerance, c.name ?? '');
        assert.equal(c.minimumDetectableEffect, simulated?.minimumDetectableEffect, c.name ?? '');
        assert.equal(c.minimumSample, simulated?.minimumSample, c.name ?? '');
        assert.equal(c.kind, simulated?.kind, c.name ?? '');
      }
    }
  });
});

describe('reading a run’s outcome', () => {
  test('an analysis event’s evidence is read as a verdict; other events are not', () => {
    assert.deepEqual(storedVerdictOf({ type: 'analysisResult', evidence: { ...failing } }), failing);
    assert.equal(storedVerdictOf({ type: 'candidateReady', evidence: null }), null);
    assert.equal(storedVerdictOf({ type: 'analysisResult', evidence: { note: 'no verdict' } }), null);
  });

  test('the stored rollout decides the outcome: promote, rollback with the failed checks, pause, or end with the last verdict', () => {
    assert.deepEqual(outcomeOf(rollout('Promoted', 'PromotionCompleted'), null, 5000), { kind: 'promote', atRequest: 5000 });
    assert.deepEqual(outcomeOf(rollout('Promoting', 'PromotedAutomatically'), null, 5000), { kind: 'promote', atRequest: 5000 });
    assert.deepEqual(outcomeOf(rollout('Aborted', 'AbortedByAnalysis'), failing, 3000), { kind: 'rollback', atRequest: 3000, checks: ['error-rate'] });
    assert.deepEqual(outcomeOf(rollout('Paused', 'RolloutStarted', 'SampleRatioMismatch'), failing, 100), { kind: 'pause', atRequest: 100 });
    assert.deepEqual(outcomeOf(rollout('Progressing', 'RolloutStarted'), { ...failing, verdict: 'Inconclusive' }, 20000), { kind: 'end', atRequest: 20000, lastVerdict: 'Inconclusive' });
    assert.deepEqual(outcomeOf(rollout('Progressing', 'RolloutStarted'), null, 20000), { kind: 'end', atRequest: 20000, lastVerdict: null });
  });

  test('an ending that is not the analysis’s is a broken wiring, not a result', () => {
    assert.throws(() => outcomeOf(rollout('Aborted', 'CandidateFailedToLoad'), failing, 10), /another reason/);
    assert.throws(() => outcomeOf(rollout('Aborted', 'AbortedByUser'), failing, 10), /another reason/);
    assert.throws(() => outcomeOf(rollout('Promoted', 'PromotedByUser'), null, 10), /another reason/);
  });

  test('the latency ratio and the requests analysed come from the stored evidence', () => {
    assert.equal(latencyRatioOf(failing), 1.25);
    assert.equal(analysedOf(failing), 3000);
    assert.equal(latencyRatioOf({ ...failing, checks: [] }), null);
    assert.equal(analysedOf(null), null);
  });
});

describe('rendering the real-server part', () => {
  test('a part that did not run says why', () => {
    assert.deepEqual(realServerMarkdown({ status: 'not-measured', reason: 'the server did not start' }), ['Not measured: the server did not start.']);
  });

  test('the tables show each run as it ended, and nothing the runs did not produce', () => {
    const run: RealServerRun = {
      scenarioId: 'errors',
      run: 1,
      seed: 1,
      endpoint: 'rs-errors-1',
      outcome: { kind: 'rollback', atRequest: 3250, checks: ['error-rate'] },
      reason: 'AbortedByAnalysis',
      timeCapped: false,
      seconds: 5.5,
      setupSeconds: 2,
      wrapUpSeconds: 1,
      sent: 3250,
      answered: { stable: 2900, candidate: 300 },
      failed: { 400: 50 },
      feedbackSent: 0,
      feedbackRefused: 0,
      looks: 5,
      lastVerdict: failing,
      lastVerdictSeq: 8,
    };
    const result: RealServerResult = {
      status: 'measured',
      seconds: 12.5,
      requestsPerRun: 20000,
      runsAsked: 3,
      scenarios: [{ scenarioId: 'errors', title: '+2 pp errors', checks: 'default', runs: 1, summary: summarise([run.outcome]), details: [run] }],
      setup: ['a setup line'],
      notes: ['a note'],
    };
    const md = realServerMarkdown(result).join('\n');
    assert.match(md, /wiring check, not a rate estimate/);
    assert.match(md, /cannot estimate false-rollback or detection rates/);
    assert.match(md, /of 3 asked; the time budget ran out/);
    assert.match(md, /- a setup line/);
    assert.match(md, /- a note/);
    assert.match(md, /\| \+2 pp errors \| default \| 1 \| 1 of 1 \| error-rate 1 \| 3,250 \/ 3,000 \|/);
    assert.match(md, /\| errors \| 1 \| rollback \(error-rate\) at 3,250 \| AbortedByAnalysis \| 3,000 \| 5 \| 5\.5 \| 9\.4 % \| 50 × 400 \| 1\.25 × \|/);
    assert.equal(outcomeCell({ kind: 'end', atRequest: 20000, lastVerdict: null }), 'undecided (no look) at 20,000');
  });
});
