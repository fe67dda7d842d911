/**
 * Property test of the state machine: random sequences of verbs and controller events (seeded, so
 * a failure is reproducible from the seed it names) and, at every state reached, the rule that
 * matters most — abort and promote are accepted from every unfinished state — plus the invariants
 * the store and the router rely on.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlatformError } from '../../../../src/core/index.js';
import type { AnalysisVerdict } from '../../../../src/rollout/analysis/index.js';
import {
  isTerminalPhase,
  planOf,
  ROLLOUT_CONDITION_TYPES,
  transition,
  trafficPolicyOf,
  type Rollout,
  type RolloutAction,
} from '../../../../src/rollout/state/index.js';
import { compileTrafficPolicy } from '../../../../src/serving/routing/index.js';
import { createSeededRandom, type SeededRandom } from '../../../../src/stats/index.js';
import { result, SECOND, start, STRATEGIES, T0, type StrategyName } from './fixtures.js';

const NAMES = Object.keys(STRATEGIES) as StrategyName[];
const VERDICTS: AnalysisVerdict[] = ['Pass', 'Fail', 'Inconclusive', 'InsufficientData', 'SampleRatioMismatch'];
const RUNS = 300;
const ACTIONS_PER_RUN = 60;

function pick<T>(rng: SeededRandom, items: readonly T[]): T {
  return items[rng.int(items.length)] as T;
}

/** A promote that names a variant where one is needed (an experiment). */
function promoteOf(r: Rollout, rng: SeededRandom, full: boolean): RolloutAction {
  const variant = r.variants === null ? undefined : pick(rng, r.variants).name;
  return { type: 'promote', full, ...(variant === undefined ? {} : { variant }) };
}

/** A random action, mostly ones that keep the rollout going so that deep states are reached. */
function randomAction(r: Rollout, rng: SeededRandom): RolloutAction {
  const step = rng.bernoulli(0.8) ? r.stepIndex : rng.int(6);
  const u = rng.next();
  if (u < 0.02) return { type: 'abort' };
  if (u < 0.04) return promoteOf(r, rng, true);
  if (u < 0.05) return { type: 'superseded', by: 'NEXT' };
  if (u < 0.08) return { type: 'finalized' };
  if (u < 0.1) return { type: 'candidateFailed', message: 'boom' };
  if (u < 0.18) return promoteOf(r, rng, false);
  if (u < 0.26) return { type: 'pause' };
  if (u < 0.34) return { type: 'resume' };
  if (u < 0.44) return { type: 'candidateReady' };
  if (u < 0.52) return { type: 'pauseExpired' };
  if (u < 0.6) return { type: 'stepCompleted', stepIndex: step };
  if (u < 0.62) return { type: 'stepFailed', stepIndex: step, message: 'smoke 500' };
  if (u < 0.68 && r.variants !== null) return { type: 'experimentConcluded', winner: rng.bernoulli(0.7) ? pick(rng, r.variants).name : null, message: 'stopping rule' };
  const verdict = rng.bernoulli(0.1) ? 'Fail' : pick(rng, VERDICTS.filter((v) => v !== 'Fail'));
  return { type: 'analysisResult', run: rng.bernoulli(0.5) ? 'step' : 'background', stepIndex: step, result: result(verdict, 1 + rng.int(5)) };
}

const EXPECTED_REFUSALS = new Set(['ROLLOUT_STATE_STALE_EVENT', 'ROLLOUT_STATE_NOT_ALLOWED', 'ROLLOUT_STATE_FINISHED']);

function checkInvariants(r: Rollout, where: string): void {
  const plan = planOf(r.strategy);
  const terminal = isTerminalPhase(r.phase);
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r, `${where}: JSON-exact`);
  assert.ok(Object.isFrozen(r) && Object.isFrozen(r.conditions), `${where}: frozen`);
  assert.equal(r.phase === 'Paused', r.pauseReason !== null, `${where}: Paused ⇔ pauseReason`);
  assert.equal(r.phase === 'Paused', r.pausedAt !== null, `${where}: Paused ⇔ pausedAt`);
  if (r.phase !== 'Paused') assert.equal(r.pauseUntil, null, `${where}: pauseUntil only while Paused`);
  assert.equal(terminal, r.finishedAt !== null, `${where}: terminal ⇔ finishedAt`);
  assert.ok(r.currentWeight >= 0 && r.currentWeight <= 100, `${where}: weight in [0, 100]`);
  if (r.phase === 'Promoting' || r.phase === 'Promoted') {
    assert.equal(r.currentWeight, 100, `${where}: promoting sends everything to the candidate`);
    assert.notEqual(r.promotion, null, `${where}: promoting knows what becomes stable`);
  }
  if (r.phase === 'Aborting' || r.phase === 'Aborted') assert.equal(r.currentWeight, 0, `${where}: aborting sends everything to stable`);
  if (r.candidateReadyAt === null) assert.equal(r.stepStartedAt, null, `${where}: no step before the candidate is ready`);
  if (r.phase === 'Progressing' || r.phase === 'Paused') assert.ok(r.stepIndex < plan.length, `${where}: an unfinished walk is on a real step`);
  assert.deepEqual(r.conditions.map((c) => c.type), ROLLOUT_CONDITION_TYPES, `${where}: one condition of each type`);
  const status = (type: string): string | undefined => r.conditions.find((c) => c.type === type)?.status;
  assert.equal(status('Paused') === 'True', r.phase === 'Paused', `${where}: Paused condition`);
  assert.equal(status('Progressing') === 'True', ['Progressing', 'Promoting', 'Aborting'].includes(r.phase), `${where}: Progressing condition`);
  assert.equal(status('Completed') === 'True', terminal, `${where}: Completed condition`);
  // the router accepts whatever split the state implies
  compileTrafficPolicy(trafficPolicyOf(r));
}

/** The rule: abort and promote work from every unfinished state, and a finished state is then within reach. */
function checkEscapes(r: Rollout, rng: SeededRandom, where: string): void {
  const at = r.updatedAt + SECOND;
  if (isTerminalPhase(r.phase)) {
    for (const action of [{ type: 'abort' }, promoteOf(r, rng, true)] as RolloutAction[]) {
      assert.throws(
        () => transition(r, action, at, 'bob'),
        (e: unknown) => e instanceof PlatformError && e.code === 'ROLLOUT_STATE_FINISHED' && e.message.includes(`is ${r.phase}`),
        `${where}: ${action.type} of a ${r.phase} rollout is refused naming its phase`,
      );
    }
    return;
  }
  const aborted = transition(r, { type: 'abort' }, at, 'bob').rollout;
  assert.equal(aborted.phase, 'Aborting', `${where}: abort from ${r.phase}`);
  assert.equal(transition(aborted, { type: 'finalized' }, at + 1, 'controller').rollout.phase, 'Aborted', `${where}: abort finishes`);

  const promoted = transition(r, promoteOf(r, rng, true), at, 'bob').rollout;
  assert.equal(promoted.phase, 'Promoting', `${where}: promote --full from ${r.phase}`);
  assert.equal(transition(promoted, { type: 'finalized' }, at + 1, 'controller').rollout.phase, 'Promoted', `${where}: promotion finishes`);

  // a plain promote is accepted too, and moves the rollout (or it was Promoting already)
  const plain = transition(r, promoteOf(r, rng, false), at, 'bob');
  assert.ok(plain.record !== null || r.phase === 'Promoting', `${where}: plain promote from ${r.phase} changes something`);
}

describe('rollout state machine properties', () => {
  test('from every state reached by random actions, abort and promote are accepted and finish', () => {
    const seen = new Set<string>();
    const reasons = new Set<string>();
    let states = 0;
    for (let seed = 1; seed <= RUNS; seed++) {
      const rng = createSeededRandom(seed);
      const name = NAMES[seed % NAMES.length] as StrategyName;
      let { rollout } = start(name, {}, T0);
      let now = T0;
      for (let i = 0; i < ACTIONS_PER_RUN; i++) {
        const where = `seed ${seed} (${name}) action ${i}`;
        checkInvariants(rollout, where);
        checkEscapes(rollout, rng, where);
        seen.add(`${rollout.phase}/${rollout.pauseReason ?? '-'}`);
        states++;
        if (isTerminalPhase(rollout.phase)) break;
        now += (rng.bernoulli(0.15) ? 400 + rng.int(800) : rng.int(90)) * SECOND;
        const action = randomAction(rollout, rng);
        try {
          const next = transition(rollout, action, now, action.type === 'pause' || action.type === 'resume' || action.type === 'promote' || action.type === 'abort' ? 'bob' : 'controller');
          if (next.record === null) {
            assert.equal(next.rollout, rollout, `${where}: a no-op returns the same rollout`);
          } else {
            assert.deepEqual(
              [next.record.seq, next.rollout.revision, next.record.fromPhase, next.record.toPhase, next.record.rolloutId, next.record.at],
              [rollout.revision + 1, rollout.revision + 1, rollout.phase, next.rollout.phase, rollout.id, now],
              `${where}: ${action.type} is recorded as revision ${rollout.revision + 1}`,
            );
            reasons.add(next.record.reason);
            rollout = next.rollout;
          }
        } catch (error) {
          assert.ok(error instanceof PlatformError, `${where}: ${action.type} threw ${String(error)}`);
          // invalid only where the generator sends nonsense on purpose: promote of an experiment without a
          // winner when it names none (it always names one), stepCompleted of a step the controller does not run
          const expected = EXPECTED_REFUSALS.has(error.code) || (error.code === 'ROLLOUT_STATE_INVALID_INPUT' && action.type === 'stepCompleted');
          assert.ok(expected, `${where}: ${action.type} refused with ${error.code}: ${error.message}`);
        }
      }
    }
    // the generator must actually reach the states the rule is about
    for (const state of ['Progressing/-', 'Paused/PausedByStep', 'Paused/PausedByUser', 'Paused/AnalysisInconclusiveDeadline', 'Paused/SampleRatioMismatch', 'Paused/ExperimentConcluded', 'Paused/ExperimentEndedWithoutWinner', 'Promoting/-', 'Aborting/-', 'Promoted/-', 'Aborted/-']) {
      assert.ok(seen.has(state), `no run reached ${state}; reached: ${[...seen].join(', ')}`);
    }
    for (const reason of ['StepAdvanced', 'PromotedAutomatically', 'AbortedByAnalysis', 'SmokeRequestsFailed', 'Resumed', 'Superseded', 'PromotionCompleted', 'AbortCompleted']) {
      assert.ok(reasons.has(reason), `no run recorded ${reason}`);
    }
    assert.ok(states > RUNS * 5, `only ${states} states checked`);
  });
});
