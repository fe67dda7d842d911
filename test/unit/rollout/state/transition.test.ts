import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlatformError } from '../../../../src/core/index.js';
import {
  analysisDeadline,
  currentStep,
  planOf,
  ROLLOUT_CONDITION_TYPES,
  startRollout,
  transition,
  type Rollout,
  type RolloutAction,
  type RolloutConditionType,
  type TransitionResult,
} from '../../../../src/rollout/state/index.js';
import { inputFor, realFailingResult, result, SECOND, start, strategyOf, T0 } from './fixtures.js';

function refusal(fn: () => unknown, code: string): PlatformError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof PlatformError, `expected PlatformError ${code}, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}, but the action was accepted`);
}

/** Applies actions in order, each one second after the last unless `at` is given; returns the last result. */
function run(rollout: Rollout, ...steps: (RolloutAction | [RolloutAction, number])[]): TransitionResult {
  let current: TransitionResult = { rollout, record: null };
  for (const step of steps) {
    const [action, at] = Array.isArray(step) ? step : [step, current.rollout.updatedAt + SECOND];
    current = transition(current.rollout, action, at, action.type === 'pause' || action.type === 'resume' || action.type === 'promote' || action.type === 'abort' ? 'bob' : 'controller');
  }
  return current;
}

function condition(r: Rollout, type: RolloutConditionType): Rollout['conditions'][number] {
  const c = r.conditions.find((x) => x.type === type);
  assert.ok(c, `no ${type} condition`);
  return c;
}

describe('startRollout', () => {
  test('creates a canary at step 0 with all traffic on stable, revision 1 and its started event', () => {
    const { rollout, record } = start('CANARY');
    assert.equal(rollout.phase, 'Progressing');
    assert.equal(rollout.stepIndex, 0);
    assert.equal(rollout.stepStartedAt, null);
    assert.equal(rollout.currentWeight, 0);
    assert.equal(rollout.revision, 1);
    assert.equal(rollout.stickySalt, rollout.id);
    assert.match(rollout.id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
    assert.deepEqual(
      rollout.conditions.map((c) => [c.type, c.status, c.reason]),
      [
        ['Progressing', 'True', 'RolloutStarted'],
        ['Paused', 'False', 'RolloutStarted'],
        ['CandidateReady', 'Unknown', 'RolloutStarted'],
        ['AnalysisPassing', 'Unknown', 'AnalysisPending'],
        ['Completed', 'False', 'RolloutStarted'],
      ],
    );
    assert.deepEqual(
      { seq: record.seq, type: record.type, from: record.fromPhase, to: record.toPhase, reason: record.reason, actor: record.actor, at: record.at },
      { seq: 1, type: 'started', from: null, to: 'Progressing', reason: 'RolloutStarted', actor: 'alice', at: T0 },
    );
    assert.ok(Object.isFrozen(rollout) && Object.isFrozen(rollout.strategy));
  });

  test('is JSON-exact, so a stored copy reads back deep-equal', () => {
    const { rollout } = start('BLUE_GREEN_MANUAL');
    assert.deepEqual(JSON.parse(JSON.stringify(rollout)), rollout);
  });

  test('keeps a given id and sticky salt', () => {
    const { rollout } = start('CANARY', { id: 'R1', stickySalt: 'salt' });
    assert.equal(rollout.id, 'R1');
    assert.equal(rollout.stickySalt, 'salt');
  });

  test('lists every problem of an invalid input at once', () => {
    const error = refusal(
      () => startRollout({ ...inputFor('CANARY'), endpoint: '', stableVersion: 0, candidateVersion: 1.5 }, T0, 'alice'),
      'ROLLOUT_STATE_INVALID_INPUT',
    );
    assert.match(error.message, /3 problems/);
    assert.match(error.message, /endpoint/);
    assert.match(error.message, /stableVersion/);
    assert.match(error.message, /candidateVersion/);
  });

  test('requires variants for an experiment and refuses them elsewhere', () => {
    refusal(() => startRollout({ ...inputFor('EXPERIMENT'), variants: [{ name: 'a', version: 1, weight: 1 }] }, T0, 'a'), 'ROLLOUT_STATE_INVALID_INPUT');
    refusal(() => startRollout({ ...inputFor('CANARY'), variants: [] }, T0, 'a'), 'ROLLOUT_STATE_INVALID_INPUT');
  });
});

describe('canary walk', () => {
  test('sets the first weight and stops at the timed pause once the candidate is ready', () => {
    const { rollout, record } = run(start('CANARY').rollout, [{ type: 'candidateReady' }, T0 + 5 * SECOND]);
    assert.equal(rollout.phase, 'Paused');
    assert.equal(rollout.pauseReason, 'PausedByStep');
    assert.equal(rollout.stepIndex, 1);
    assert.equal(rollout.currentWeight, 10);
    assert.equal(rollout.pausedAt, T0 + 5 * SECOND);
    assert.equal(rollout.pauseUntil, T0 + 65 * SECOND);
    assert.equal(rollout.candidateReadyAt, T0 + 5 * SECOND);
    assert.equal(rollout.revision, 2);
    assert.equal(rollout.analysis.background?.startedAt, T0 + 5 * SECOND, 'the background analysis starts with the steps');
    assert.equal(condition(rollout, 'CandidateReady').status, 'True');
    assert.equal(condition(rollout, 'Paused').reason, 'PausedByStep');
    assert.deepEqual([record?.seq, record?.reason, record?.fromPhase, record?.toPhase, record?.weight, record?.stepIndex], [2, 'CandidateReady', 'Progressing', 'Paused', 10, 1]);
  });

  test('ends a timed pause only when it is due', () => {
    const paused = run(start('CANARY').rollout, [{ type: 'candidateReady' }, T0]).rollout;
    refusal(() => transition(paused, { type: 'pauseExpired' }, T0 + 59 * SECOND, 'controller'), 'ROLLOUT_STATE_STALE_EVENT');
    const { rollout, record } = transition(paused, { type: 'pauseExpired' }, T0 + 60 * SECOND, 'controller');
    assert.equal(rollout.phase, 'Progressing');
    assert.equal(rollout.stepIndex, 2);
    assert.equal(currentStep(rollout)?.kind, 'analysis');
    assert.equal(rollout.analysis.step?.startedAt, T0 + 60 * SECOND);
    assert.equal(record?.reason, 'StepAdvanced');
    assert.equal(condition(rollout, 'Paused').status, 'False');
  });

  test('moves on when the step analysis passes, through setWeight to the pause that waits for promote', () => {
    const atAnalysis = run(start('CANARY').rollout, [{ type: 'candidateReady' }, T0], [{ type: 'pauseExpired' }, T0 + 60 * SECOND]).rollout;
    const { rollout, record } = transition(atAnalysis, { type: 'analysisResult', run: 'step', stepIndex: 2, result: result('Pass') }, T0 + 90 * SECOND, 'controller');
    assert.equal(rollout.stepIndex, 4);
    assert.equal(rollout.currentWeight, 50);
    assert.equal(rollout.phase, 'Paused');
    assert.equal(rollout.pauseUntil, null);
    assert.equal(rollout.analysis.step, null, 'the step analysis belongs to its step');
    assert.equal(record?.reason, 'StepAdvanced');
    assert.equal((record?.evidence as { verdict?: string } | null)?.verdict, 'Pass');
  });

  test('refuses resume at a pause step (only promote opens it), then promotes past the last step', () => {
    const atGate = run(
      start('CANARY').rollout,
      [{ type: 'candidateReady' }, T0],
      [{ type: 'pauseExpired' }, T0 + 60 * SECOND],
      [{ type: 'analysisResult', run: 'step', stepIndex: 2, result: result('Pass') }, T0 + 90 * SECOND],
    ).rollout;
    refusal(() => transition(atGate, { type: 'resume' }, T0 + 100 * SECOND, 'bob'), 'ROLLOUT_STATE_NOT_ALLOWED');
    const promoting = transition(atGate, { type: 'promote' }, T0 + 100 * SECOND, 'bob');
    assert.equal(promoting.rollout.phase, 'Promoting');
    assert.equal(promoting.rollout.currentWeight, 100);
    assert.deepEqual(promoting.rollout.promotion, { variant: 'candidate', version: 3 });
    assert.equal(promoting.record?.reason, 'PromotedByUser');
    assert.equal(condition(promoting.rollout, 'Completed').reason, 'PromotedByUser');

    const done = transition(promoting.rollout, { type: 'finalized' }, T0 + 101 * SECOND, 'controller');
    assert.equal(done.rollout.phase, 'Promoted');
    assert.equal(done.rollout.finishedAt, T0 + 101 * SECOND);
    assert.equal(done.record?.reason, 'PromotionCompleted');
    assert.deepEqual([condition(done.rollout, 'Completed').status, condition(done.rollout, 'Completed').reason], ['True', 'PromotedByUser']);
    assert.equal(condition(done.rollout, 'Progressing').status, 'False');
  });

  test('promote approves one step; promote --full skips them all', () => {
    const atAnalysis = run(start('CANARY').rollout, [{ type: 'candidateReady' }, T0], [{ type: 'pauseExpired' }, T0 + 60 * SECOND]).rollout;
    const one = transition(atAnalysis, { type: 'promote' }, T0 + 61 * SECOND, 'bob');
    assert.deepEqual([one.rollout.phase, one.rollout.stepIndex, one.rollout.currentWeight, one.record?.reason], ['Paused', 4, 50, 'StepAdvanced']);
    const full = transition(atAnalysis, { type: 'promote', full: true }, T0 + 61 * SECOND, 'bob');
    assert.deepEqual([full.rollout.phase, full.rollout.currentWeight, full.record?.reason], ['Promoting', 100, 'PromotedByUser']);
  });

  test('promotes by itself when only setWeight steps stand between ready and the end', () => {
    const { rollout, record } = transition(start('CANARY_WEIGHTS_ONLY').rollout, { type: 'candidateReady' }, T0, 'controller');
    assert.equal(rollout.phase, 'Promoting');
    assert.equal(rollout.currentWeight, 100);
    assert.equal(rollout.stepIndex, 2);
    assert.equal(record?.reason, 'PromotedAutomatically');
  });

  test('keeps fractional weights', () => {
    const strategy = strategyOf('    canary:\n      steps:\n        - setWeight: 2.5\n        - pause: {}\n');
    const ready = transition(startRollout({ ...inputFor('CANARY'), strategy }, T0, 'alice').rollout, { type: 'candidateReady' }, T0 + 1, 'controller').rollout;
    assert.deepEqual([ready.phase, ready.currentWeight], ['Paused', 2.5]);
  });
});

describe('waiting and pausing', () => {
  const atAnalysis = (): Rollout => run(start('CANARY').rollout, [{ type: 'candidateReady' }, T0], [{ type: 'pauseExpired' }, T0 + 60 * SECOND]).rollout;

  test('waits on insufficient data until the deadline, then pauses for a person', () => {
    const r = atAnalysis();
    assert.equal(analysisDeadline(r, 'step'), T0 + 660 * SECOND);
    const early = transition(r, { type: 'analysisResult', run: 'step', stepIndex: 2, result: result('InsufficientData') }, T0 + 659 * SECOND, 'controller');
    assert.equal(early.rollout.phase, 'Progressing');
    assert.equal(early.record?.reason, 'AnalysisInsufficientData');
    assert.equal(condition(early.rollout, 'AnalysisPassing').status, 'Unknown');
    const late = transition(early.rollout, { type: 'analysisResult', run: 'step', stepIndex: 2, result: result('Inconclusive', 2) }, T0 + 660 * SECOND, 'controller');
    assert.equal(late.rollout.phase, 'Paused');
    assert.equal(late.rollout.pauseReason, 'AnalysisInconclusiveDeadline');
    assert.equal(late.record?.reason, 'AnalysisInconclusiveDeadline');
    assert.deepEqual(late.rollout.analysis.step?.state, result('Inconclusive', 2).state, 'the engine state is kept for the next look');
  });

  test('restarts the deadline on resume and keeps the evidence gathered so far', () => {
    const r = atAnalysis();
    const paused = transition(r, { type: 'analysisResult', run: 'step', stepIndex: 2, result: result('Inconclusive', 3) }, T0 + 700 * SECOND, 'controller').rollout;
    const resumed = transition(paused, { type: 'resume' }, T0 + 800 * SECOND, 'bob');
    assert.equal(resumed.rollout.phase, 'Progressing');
    assert.equal(resumed.record?.reason, 'Resumed');
    assert.equal(resumed.rollout.analysis.step?.startedAt, T0 + 800 * SECOND);
    assert.equal(analysisDeadline(resumed.rollout, 'step'), T0 + 1400 * SECOND);
    assert.equal(resumed.rollout.analysis.step?.state.checks['error-rate']?.looks, 3);
  });

  test('pauses on a sample-ratio mismatch, and after a person resumes records later ones without pausing', () => {
    const r = atAnalysis();
    const srm = transition(r, { type: 'analysisResult', run: 'background', result: result('SampleRatioMismatch') }, T0 + 70 * SECOND, 'controller');
    assert.equal(srm.rollout.pauseReason, 'SampleRatioMismatch');
    const resumed = transition(srm.rollout, { type: 'resume' }, T0 + 80 * SECOND, 'bob').rollout;
    assert.equal(resumed.analysis.background?.srmAcknowledged, true);
    const again = transition(resumed, { type: 'analysisResult', run: 'background', result: result('SampleRatioMismatch') }, T0 + 90 * SECOND, 'controller');
    assert.equal(again.rollout.phase, 'Progressing');
    assert.equal(again.record?.reason, 'SampleRatioMismatch');
  });

  test('a person pausing a timed pause step holds it; resuming returns to the step\'s own timer', () => {
    const stepPause = run(start('CANARY').rollout, [{ type: 'candidateReady' }, T0]).rollout;
    const held = transition(stepPause, { type: 'pause' }, T0 + 10 * SECOND, 'bob').rollout;
    assert.deepEqual([held.pauseReason, held.pauseUntil], ['PausedByUser', null]);
    refusal(() => transition(held, { type: 'pauseExpired' }, T0 + 70 * SECOND, 'controller'), 'ROLLOUT_STATE_STALE_EVENT');
    const early = transition(held, { type: 'resume' }, T0 + 20 * SECOND, 'bob').rollout;
    assert.deepEqual([early.phase, early.pauseReason, early.pauseUntil, early.stepIndex], ['Paused', 'PausedByStep', T0 + 60 * SECOND, 1]);
    const late = transition(held, { type: 'resume' }, T0 + 90 * SECOND, 'bob').rollout;
    assert.deepEqual([late.phase, late.stepIndex], ['Progressing', 2]);
  });

  test('pausing twice and resuming a running rollout change nothing and record nothing', () => {
    const r = atAnalysis();
    const paused = transition(r, { type: 'pause' }, T0 + 70 * SECOND, 'bob').rollout;
    const again = transition(paused, { type: 'pause' }, T0 + 71 * SECOND, 'carol');
    assert.equal(again.record, null);
    assert.equal(again.rollout, paused);
    const noop = transition(r, { type: 'resume' }, T0 + 70 * SECOND, 'bob');
    assert.equal(noop.record, null);
    assert.equal(noop.rollout.revision, r.revision);
  });

  test('a person pausing before the candidate is ready holds the steps until resume', () => {
    const paused = transition(start('CANARY').rollout, { type: 'pause' }, T0, 'bob').rollout;
    const ready = transition(paused, { type: 'candidateReady' }, T0 + SECOND, 'controller').rollout;
    assert.deepEqual([ready.phase, ready.stepStartedAt, ready.currentWeight], ['Paused', null, 0]);
    const resumed = transition(ready, { type: 'resume' }, T0 + 2 * SECOND, 'bob').rollout;
    assert.deepEqual([resumed.phase, resumed.pauseReason, resumed.stepIndex, resumed.currentWeight], ['Paused', 'PausedByStep', 1, 10]);
  });

  test('refuses a step analysis result for another step as stale', () => {
    const r = atAnalysis();
    refusal(() => transition(r, { type: 'analysisResult', run: 'step', stepIndex: 1, result: result('Pass') }, T0 + 70 * SECOND, 'controller'), 'ROLLOUT_STATE_STALE_EVENT');
    refusal(() => transition(r, { type: 'stepCompleted', stepIndex: 5 }, T0 + 70 * SECOND, 'controller'), 'ROLLOUT_STATE_STALE_EVENT');
  });
});

describe('aborting', () => {
  test('a failed analysis sends all traffic back to stable and records the verdict with its evidence', () => {
    const r = run(start('CANARY').rollout, [{ type: 'candidateReady' }, T0]).rollout;
    const failing = realFailingResult();
    const { rollout, record } = transition(r, { type: 'analysisResult', run: 'background', result: failing }, T0 + 30 * SECOND, 'controller');
    assert.equal(rollout.phase, 'Aborting');
    assert.equal(rollout.currentWeight, 0);
    assert.equal(rollout.pauseReason, null);
    assert.equal(record?.reason, 'AbortedByAnalysis');
    const evidence = record?.evidence as { verdict: string; checks: { evidence: { nCandidate: number } }[]; state?: unknown };
    assert.equal(evidence.verdict, 'Fail');
    assert.equal(evidence.checks[0]?.evidence.nCandidate, 2000);
    assert.equal(evidence.state, undefined, 'the engine state lives on the rollout, not in every event');
    assert.equal(condition(rollout, 'AnalysisPassing').reason, 'AnalysisFailed');
    const done = transition(rollout, { type: 'finalized' }, T0 + 31 * SECOND, 'controller').rollout;
    assert.deepEqual([done.phase, condition(done, 'Completed').status, condition(done, 'Completed').reason], ['Aborted', 'True', 'AbortedByAnalysis']);
  });

  test('a candidate that fails to load aborts the rollout, even while Promoting', () => {
    const failed = transition(start('CANARY').rollout, { type: 'candidateFailed', message: 'out of memory' }, T0, 'controller');
    assert.equal(failed.rollout.phase, 'Aborting');
    assert.equal(failed.record?.reason, 'CandidateFailedToLoad');
    assert.deepEqual([condition(failed.rollout, 'CandidateReady').status, condition(failed.rollout, 'CandidateReady').reason], ['False', 'CandidateFailedToLoad']);
    const promoting = transition(start('CANARY').rollout, { type: 'promote', full: true }, T0, 'bob').rollout;
    assert.equal(transition(promoting, { type: 'candidateFailed', message: 'crashed' }, T0 + 1, 'controller').rollout.phase, 'Aborting');
  });

  test('abort and promote override each other while the decision is being carried out', () => {
    const promoting = transition(start('CANARY').rollout, { type: 'promote', full: true }, T0, 'bob').rollout;
    refusal(() => transition(promoting, { type: 'pause' }, T0 + 1, 'bob'), 'ROLLOUT_STATE_NOT_ALLOWED');
    const aborting = transition(promoting, { type: 'abort' }, T0 + 1, 'carol');
    assert.deepEqual([aborting.rollout.phase, aborting.rollout.currentWeight, aborting.record?.reason], ['Aborting', 0, 'AbortedByUser']);
    assert.equal(transition(aborting.rollout, { type: 'abort' }, T0 + 2, 'carol').record, null);
    const back = transition(aborting.rollout, { type: 'promote' }, T0 + 2, 'bob');
    assert.deepEqual([back.rollout.phase, back.rollout.currentWeight, back.record?.reason], ['Promoting', 100, 'PromotedByUser']);
  });

  test('a superseded rollout ends at once, naming its successor', () => {
    const { rollout, record } = transition(start('CANARY').rollout, { type: 'superseded', by: 'NEXT' }, T0 + 1, 'controller');
    assert.deepEqual([rollout.phase, rollout.supersededBy, rollout.finishedAt, record?.reason], ['Aborted', 'NEXT', T0 + 1, 'Superseded']);
    assert.equal(condition(rollout, 'Completed').reason, 'Superseded');
  });

  test('a finished rollout refuses every action, naming its phase', () => {
    const aborted = run(start('CANARY').rollout, { type: 'abort' }, { type: 'finalized' }).rollout;
    for (const action of [{ type: 'abort' }, { type: 'promote' }, { type: 'pause' }, { type: 'resume' }, { type: 'candidateReady' }, { type: 'finalized' }] as RolloutAction[]) {
      const error = refusal(() => transition(aborted, action, T0 + 10 * SECOND, 'bob'), 'ROLLOUT_STATE_FINISHED');
      assert.equal(error.kind, 'conflict');
      assert.match(error.message, /is Aborted/);
    }
    const promoted = run(start('CANARY').rollout, { type: 'promote', full: true }, { type: 'finalized' }).rollout;
    assert.match(refusal(() => transition(promoted, { type: 'abort' }, T0 + 10 * SECOND, 'bob'), 'ROLLOUT_STATE_FINISHED').message, /is Promoted: it cannot be aborted/);
  });
});

describe('blue-green, shadow and experiment', () => {
  test('blue-green runs smoke requests, then its analysis, then waits for promote', () => {
    const ready = transition(start('BLUE_GREEN_MANUAL').rollout, { type: 'candidateReady' }, T0, 'controller').rollout;
    assert.deepEqual(planOf(ready.strategy).map((s) => s.kind), ['smoke', 'analysis', 'pause']);
    assert.deepEqual([ready.phase, ready.stepIndex, ready.currentWeight], ['Progressing', 0, 0]);
    const smoked = transition(ready, { type: 'stepCompleted', stepIndex: 0 }, T0 + SECOND, 'controller').rollout;
    assert.deepEqual([smoked.stepIndex, currentStep(smoked)?.kind], [1, 'analysis']);
    const passed = transition(smoked, { type: 'analysisResult', run: 'step', stepIndex: 1, result: result('Pass') }, T0 + 2 * SECOND, 'controller').rollout;
    assert.deepEqual([passed.phase, passed.pauseReason, passed.pauseUntil, passed.currentWeight], ['Paused', 'PausedByStep', null, 0]);
    const promoted = transition(passed, { type: 'promote' }, T0 + 3 * SECOND, 'bob').rollout;
    assert.deepEqual([promoted.phase, promoted.currentWeight], ['Promoting', 100]);
  });

  test('blue-green aborts when a smoke request fails', () => {
    const ready = transition(start('BLUE_GREEN_MANUAL').rollout, { type: 'candidateReady' }, T0, 'controller').rollout;
    const { rollout, record } = transition(ready, { type: 'stepFailed', stepIndex: 0, message: 'request 0 answered 500, expected 200', evidence: { status: 500 } }, T0 + 1, 'controller');
    assert.deepEqual([rollout.phase, record?.reason, record?.evidence], ['Aborting', 'SmokeRequestsFailed', { status: 500 }]);
  });

  test('blue-green auto-promotes autoPromotionSeconds after green is ready', () => {
    const ready = transition(start('BLUE_GREEN_AUTO').rollout, { type: 'candidateReady' }, T0, 'controller').rollout;
    assert.deepEqual([ready.phase, ready.pauseUntil], ['Paused', T0 + 120 * SECOND]);
    const { rollout, record } = transition(ready, { type: 'pauseExpired' }, T0 + 120 * SECOND, 'controller');
    assert.deepEqual([rollout.phase, record?.reason], ['Promoting', 'PromotedAutomatically']);
  });

  test('a shadow waits for promote; resume never switches its traffic', () => {
    const ready = transition(start('SHADOW').rollout, { type: 'candidateReady' }, T0, 'controller').rollout;
    assert.deepEqual([ready.phase, ready.pauseReason, ready.currentWeight], ['Paused', 'PausedByStep', 0]);
    refusal(() => transition(ready, { type: 'resume' }, T0 + 1, 'bob'), 'ROLLOUT_STATE_NOT_ALLOWED');
    assert.deepEqual(transition(ready, { type: 'promote' }, T0 + 1, 'bob').rollout.promotion, { variant: 'candidate', version: 3 });
  });

  test('an experiment splits all traffic between its variants and promotes the declared winner', () => {
    const ready = transition(start('EXPERIMENT').rollout, { type: 'candidateReady' }, T0, 'controller').rollout;
    assert.deepEqual([ready.phase, ready.currentWeight, currentStep(ready)?.kind], ['Progressing', 100, 'experiment']);
    assert.match(refusal(() => transition(ready, { type: 'promote' }, T0 + 1, 'bob'), 'ROLLOUT_STATE_INVALID_INPUT').message, /must name the variant/);
    refusal(() => transition(ready, { type: 'promote', variant: 'nope' }, T0 + 1, 'bob'), 'ROLLOUT_STATE_INVALID_INPUT');
    const failing = transition(ready, { type: 'analysisResult', run: 'background', result: result('Fail') }, T0 + 1, 'controller');
    assert.deepEqual([failing.rollout.phase, failing.record?.reason], ['Progressing', 'AnalysisFailed'], 'a losing variant is an outcome, not a fault');
    const concluded = transition(ready, { type: 'experimentConcluded', winner: 'treatment', message: 'chance to win 0.99' }, T0 + 2, 'controller');
    assert.deepEqual([concluded.rollout.phase, concluded.rollout.pauseReason, concluded.rollout.winner], ['Paused', 'ExperimentConcluded', 'treatment']);
    const promoted = transition(concluded.rollout, { type: 'promote' }, T0 + 3, 'bob').rollout;
    assert.deepEqual(promoted.promotion, { variant: 'treatment', version: 3 });
    const control = transition(concluded.rollout, { type: 'promote', variant: 'control' }, T0 + 3, 'bob').rollout;
    assert.deepEqual(control.promotion, { variant: 'control', version: 2 });
    const resumed = transition(concluded.rollout, { type: 'resume' }, T0 + 3, 'bob').rollout;
    assert.equal(resumed.phase, 'Progressing');
  });
});

describe('conditions', () => {
  test('every rollout carries each condition type once, in order', () => {
    const r = run(start('CANARY').rollout, [{ type: 'candidateReady' }, T0], { type: 'pause' }, { type: 'resume' }, { type: 'abort' }).rollout;
    assert.deepEqual(r.conditions.map((c) => c.type), ROLLOUT_CONDITION_TYPES);
  });

  test('lastTransitionAt moves only when a status changes', () => {
    const r = run(start('CANARY').rollout, [{ type: 'candidateReady' }, T0], [{ type: 'pauseExpired' }, T0 + 60 * SECOND]).rollout;
    const first = transition(r, { type: 'analysisResult', run: 'step', stepIndex: 2, result: result('InsufficientData') }, T0 + 70 * SECOND, 'controller').rollout;
    const second = transition(first, { type: 'analysisResult', run: 'step', stepIndex: 2, result: result('Inconclusive') }, T0 + 80 * SECOND, 'controller').rollout;
    assert.equal(condition(second, 'AnalysisPassing').reason, 'AnalysisInconclusive');
    assert.equal(condition(second, 'AnalysisPassing').lastTransitionAt, condition(first, 'AnalysisPassing').lastTransitionAt);
    const passed = transition(second, { type: 'analysisResult', run: 'background', result: result('Pass') }, T0 + 90 * SECOND, 'controller').rollout;
    assert.equal(condition(passed, 'AnalysisPassing').status, 'Unknown', 'worst wins: the step is still inconclusive');
    assert.equal(condition(passed, 'Progressing').lastTransitionAt, T0 + 60 * SECOND);
  });

  test('records the person and the note on the event', () => {
    const { record } = transition(start('CANARY').rollout, { type: 'abort', message: 'customer complaints' }, T0 + 5, 'bob');
    assert.equal(record?.actor, 'bob');
    assert.equal(record?.at, T0 + 5);
    assert.match(record?.message ?? '', /aborted by bob.*customer complaints/);
  });
});
