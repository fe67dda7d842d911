/**
 * The rollout state machine: {@link startRollout} makes a rollout, {@link transition} applies one
 * verb or controller event to it. Both are pure (time and actor come in as arguments) and return
 * a new deep-frozen rollout with its revision bumped and the event that records the change, or the
 * same rollout and no event when the action changes nothing. The controller persists the pair with
 * `RolloutStore.update` and then makes the world match the state (router split, loaded replicas).
 *
 * The rule everything here keeps: from every unfinished phase, `abort` and `promote` are accepted.
 * Refusals are PlatformErrors from RolloutStateErrors; see docs/rollouts.md for the full table.
 */
import { ANALYSIS_VERDICT_ORDER, EMPTY_ANALYSIS_STATE, type AnalysisInput, type AnalysisResult, type AnalysisVerdict } from '../analysis/index.js';
import type { AnalysisTemplate } from '../spec/index.js';
import { newId, type PlatformError } from '../../core/index.js';
import { RolloutStateErrors, rolloutRefusals } from './errors.js';
import { planOf, type PlanStep } from './plan.js';
import type { PauseReason, RolloutReason } from './reasons.js';
import {
  TERMINAL_PHASES,
  type AnalysisRecord,
  type AnalysisRunName,
  type ConditionStatus,
  type NewRolloutInput,
  type Rollout,
  type RolloutAction,
  type RolloutCondition,
  type RolloutConditionType,
  type RolloutEvent,
  type RolloutPhase,
  type RolloutPromotion,
  type TransitionResult,
} from './types.js';

/** The actor name the controller records on its own events. */
export const CONTROLLER_ACTOR = 'controller';

/** The variant name of the candidate in promotions (the router's CANDIDATE_VARIANT). */
export const CANDIDATE = 'candidate';

/** Whether a phase is final (Promoted, Aborted). */
export function isTerminalPhase(phase: RolloutPhase): boolean {
  return TERMINAL_PHASES.includes(phase);
}

/** The step the rollout is on, or null when the steps have not started or are over. */
export function currentStep(rollout: Rollout): PlanStep | null {
  if (rollout.stepStartedAt === null || isTerminalPhase(rollout.phase)) return null;
  return planOf(rollout.strategy)[rollout.stepIndex] ?? null;
}

/**
 * When an analysis run pauses the rollout for lack of a verdict (ms since the epoch), or null when
 * no deadline applies (no template, already passed, not running).
 */
export function analysisDeadline(rollout: Rollout, run: AnalysisRunName): number | null {
  const record = rollout.analysis[run];
  const template = templateOf(rollout, run);
  if (record === null || template === undefined || record.passedAt !== null) return null;
  return record.startedAt + template.deadlineSeconds * 1000;
}

/** The pair a new rollout is created with: its state at revision 1 and its `started` event. */
export interface StartResult {
  readonly rollout: Rollout;
  readonly record: RolloutEvent;
}

/**
 * Creates a rollout in phase Progressing at step 0 with all traffic on stable, waiting for the
 * controller to report the candidate ready. Throws ROLLOUT_STATE_INVALID_INPUT listing every
 * problem of the input.
 */
export function startRollout(input: NewRolloutInput, now: number, actor: string): StartResult {
  checkClockAndActor(now, actor);
  const problems: string[] = [];
  const nonEmpty = (value: unknown, field: string): void => {
    if (typeof value !== 'string' || value.length === 0) problems.push(`${field}: must be a non-empty string, got ${JSON.stringify(value)}`);
  };
  const versionField = (value: unknown, field: string): void => {
    if (!isVersion(value)) problems.push(`${field}: must be a version number (a whole number ≥ 1), got ${JSON.stringify(value)}`);
  };
  nonEmpty(input.endpoint, 'endpoint');
  nonEmpty(input.model, 'model');
  versionField(input.stableVersion, 'stableVersion');
  if (input.id !== undefined) nonEmpty(input.id, 'id');
  if (input.stickySalt !== undefined) nonEmpty(input.stickySalt, 'stickySalt');
  const kind = (input.strategy as { kind?: unknown } | undefined)?.kind;
  if (kind === 'experiment') {
    if (input.candidateVersion !== undefined) problems.push('candidateVersion: an experiment has variants, not a candidate');
    const variants = input.variants ?? [];
    if (variants.length < 2) problems.push(`variants: an experiment needs at least 2 variants, got ${variants.length}`);
    const names = new Set<string>();
    let sum = 0;
    variants.forEach((v, i) => {
      nonEmpty(v.name, `variants[${i}].name`);
      if (v.name === CANDIDATE || v.name === 'stable') problems.push(`variants[${i}].name: "${v.name}" is reserved`);
      if (names.has(v.name)) problems.push(`variants[${i}].name: duplicates "${v.name}"`);
      names.add(v.name);
      versionField(v.version, `variants[${i}].version`);
      if (typeof v.weight !== 'number' || !Number.isFinite(v.weight) || v.weight < 0) problems.push(`variants[${i}].weight: must be a number ≥ 0, got ${JSON.stringify(v.weight)}`);
      else sum += v.weight;
    });
    if (variants.length >= 2 && !(sum > 0)) problems.push('variants: the weights must not all be 0');
  } else if (kind === 'canary' || kind === 'blueGreen' || kind === 'shadow') {
    versionField(input.candidateVersion, 'candidateVersion');
    if (input.variants !== undefined) problems.push(`variants: only an experiment has variants, not a ${kind}`);
  } else {
    problems.push(`strategy.kind: must be canary, blueGreen, experiment or shadow, got ${JSON.stringify(kind)}`);
  }
  if (problems.length > 0) {
    throw RolloutStateErrors.ROLLOUT_STATE_INVALID_INPUT(`invalid new rollout (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.join('; ')}`, {
      details: { problems },
    });
  }

  const id = input.id ?? newId(now);
  const candidate =
    input.variants === undefined
      ? `version ${String(input.candidateVersion)}`
      : `variants ${input.variants.map((v) => `${v.name}=v${v.version}`).join(', ')}`;
  const message = `${kindName(input.strategy.kind)} of ${candidate} on endpoint "${input.endpoint}" (stable version ${input.stableVersion}) started${note(input.message)}`;
  const condition = (type: RolloutConditionType, status: ConditionStatus, reason: RolloutReason, text: string): RolloutCondition => ({
    type,
    status,
    reason,
    message: text,
    lastTransitionAt: now,
  });
  const rollout: Rollout = {
    id,
    endpoint: input.endpoint,
    model: input.model,
    strategy: input.strategy,
    stableVersion: input.stableVersion,
    candidateVersion: input.candidateVersion ?? null,
    variants: input.variants === undefined ? null : input.variants.map((v) => ({ name: v.name, version: v.version, weight: v.weight })),
    phase: 'Progressing',
    stepIndex: 0,
    stepStartedAt: null,
    candidateReadyAt: null,
    currentWeight: 0,
    pausedAt: null,
    pauseUntil: null,
    pauseReason: null,
    winner: null,
    promotion: null,
    conditions: [
      condition('Progressing', 'True', 'RolloutStarted', message),
      condition('Paused', 'False', 'RolloutStarted', 'not paused'),
      condition('CandidateReady', 'Unknown', 'RolloutStarted', `loading ${candidate}`),
      condition('AnalysisPassing', 'Unknown', 'AnalysisPending', 'no analysis result yet'),
      condition('Completed', 'False', 'RolloutStarted', 'the rollout is running'),
    ],
    analysis: { background: null, step: null },
    stickySalt: input.stickySalt ?? id,
    createdAt: now,
    createdBy: actor,
    updatedAt: now,
    finishedAt: null,
    supersededBy: null,
    revision: 1,
  };
  const frozen = jsonFrozen(rollout);
  return { rollout: frozen, record: eventOf(frozen, 'started', null, now, actor, 'RolloutStarted', message, null) };
}

/**
 * Applies one action. Abort and promote are accepted in every unfinished phase; in Promoted and
 * Aborted everything is refused with ROLLOUT_STATE_FINISHED naming the phase. Other refusals:
 * ROLLOUT_STATE_NOT_ALLOWED (pause while Promoting or Aborting), ROLLOUT_STATE_STALE_EVENT (a
 * controller event overtaken by another change), ROLLOUT_STATE_INVALID_INPUT (a malformed action).
 */
export function transition(rollout: Rollout, action: RolloutAction, now: number, actor: string): TransitionResult {
  checkClockAndActor(now, actor);
  if (isTerminalPhase(rollout.phase)) throw rolloutRefusals.finished(rollout.id, rollout.endpoint, rollout.phase, verbOf(action));
  const d: Draft = { ...rollout, conditions: [...rollout.conditions], analysis: { ...rollout.analysis } };
  const outcome = apply(d, action, now, actor);
  if (outcome === null) return { rollout, record: null };

  // a person's (or the controller's optional) note goes after what happened; required messages are in it already
  const message = outcome.message + (NOTED_ACTIONS.has(action.type) && 'message' in action ? note(action.message) : '');
  settleConditions(rollout, d, action, outcome.reason, message, now);
  d.updatedAt = now;
  d.revision = rollout.revision + 1;
  const next = jsonFrozen<Rollout>(d);
  return { rollout: next, record: eventOf(next, action.type, rollout.phase, now, actor, outcome.reason, message, outcome.evidence ?? null) };
}

// ─── internals ──────────────────────────────────────────────────────────────────────────────────

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Draft = Omit<Mutable<Rollout>, 'conditions' | 'analysis'> & { conditions: RolloutCondition[]; analysis: Mutable<Rollout['analysis']> };

const NOTED_ACTIONS: ReadonlySet<RolloutAction['type']> = new Set(['pause', 'resume', 'promote', 'abort', 'candidateReady', 'stepCompleted', 'superseded', 'finalized']);

interface Outcome {
  readonly reason: RolloutReason;
  readonly message: string;
  readonly evidence?: Readonly<Record<string, unknown>> | null;
}

function apply(d: Draft, action: RolloutAction, now: number, actor: string): Outcome | null {
  switch (action.type) {
    case 'pause': {
      if (d.phase === 'Promoting' || d.phase === 'Aborting') {
        throw RolloutStateErrors.ROLLOUT_STATE_NOT_ALLOWED(
          `rollout ${d.id} of endpoint "${d.endpoint}" is ${d.phase}: it can no longer be paused; ${d.phase === 'Promoting' ? 'abort it to send all traffic back to stable' : 'promote it to keep the candidate'}`,
          { details: { rolloutId: d.id, endpoint: d.endpoint, phase: d.phase, accepts: ['promote', 'abort'] } },
        );
      }
      if (d.phase === 'Paused' && d.pauseReason === 'PausedByUser') return null;
      setPause(d, 'PausedByUser', null, now);
      return { reason: 'PausedByUser', message: `paused by ${actor} at ${where(d)}` };
    }

    case 'resume': {
      if (d.phase !== 'Paused') return null;
      return resume(d, now, actor);
    }

    case 'promote': {
      const promotion = promotionTarget(d, action.variant);
      if (d.phase === 'Promoting') {
        if (d.promotion !== null && d.promotion.variant === promotion.variant && d.promotion.version === promotion.version) return null;
        beginPromotion(d, promotion);
        return { reason: 'PromotedByUser', message: `promotion target changed to ${describePromotion(promotion)} by ${actor}` };
      }
      const full = action.full === true || d.strategy.kind !== 'canary' || d.phase === 'Aborting';
      if (full) {
        beginPromotion(d, promotion);
        return { reason: 'PromotedByUser', message: `promoted by ${actor}: all traffic to ${describePromotion(promotion)}` };
      }
      // a canary's plain promote approves the current step, as Argo's `promote` does
      const skipped = d.stepIndex;
      clearPause(d);
      if (d.stepStartedAt === null) {
        // steps not started (candidate loading): skip the step that would have come first
        d.stepIndex += 1;
        if (d.stepIndex >= planOf(d.strategy).length) {
          beginPromotion(d, promotion);
          return { reason: 'PromotedByUser', message: `promoted by ${actor} past the last step: all traffic to ${describePromotion(promotion)}` };
        }
        if (d.candidateReadyAt !== null) walk(d, d.stepIndex, now);
        return { reason: 'StepAdvanced', message: `step ${skipped} skipped by ${actor}'s promote; next ${where(d)}` };
      }
      if (walk(d, skipped + 1, now) === 'end') {
        return { reason: 'PromotedByUser', message: `promoted by ${actor} past the last step: all traffic to ${describePromotion(promotion)}` };
      }
      return { reason: 'StepAdvanced', message: `step ${skipped} approved by ${actor}'s promote; now ${where(d)}` };
    }

    case 'abort': {
      if (d.phase === 'Aborting') return null;
      beginAbort(d);
      return { reason: 'AbortedByUser', message: `aborted by ${actor}: all traffic back to stable version ${d.stableVersion}` };
    }

    case 'candidateReady': {
      if (d.candidateReadyAt !== null) return null;
      d.candidateReadyAt = now;
      setCondition(d, 'CandidateReady', 'True', 'CandidateReady', `${candidateName(d)} loaded and warmed`, now);
      if (d.phase === 'Progressing' && d.stepStartedAt === null) {
        if (walk(d, d.stepIndex, now) === 'end') {
          return { reason: 'PromotedAutomatically', message: `${candidateName(d)} ready and no step holds it: all traffic to ${describePromotion(d.promotion)}` };
        }
        return { reason: 'CandidateReady', message: `${candidateName(d)} ready; ${where(d)}` };
      }
      return { reason: 'CandidateReady', message: `${candidateName(d)} ready` };
    }

    case 'candidateFailed': {
      const condition = conditionOf(d, 'CandidateReady');
      if (d.phase === 'Aborting') {
        if (condition.status === 'False') return null;
        setCondition(d, 'CandidateReady', 'False', 'CandidateFailedToLoad', action.message, now);
        return { reason: 'CandidateFailedToLoad', message: `${candidateName(d)} failed to load: ${action.message}`, evidence: action.evidence ?? null };
      }
      setCondition(d, 'CandidateReady', 'False', 'CandidateFailedToLoad', action.message, now);
      beginAbort(d);
      return {
        reason: 'CandidateFailedToLoad',
        message: `${candidateName(d)} failed to load (${action.message}): all traffic back to stable version ${d.stableVersion}`,
        evidence: action.evidence ?? null,
      };
    }

    case 'stepCompleted': {
      requireStep(d, action.stepIndex, action.type, ['Progressing']);
      const done = d.stepIndex;
      const kind = planOf(d.strategy)[done]?.kind;
      if (kind !== 'smoke') {
        // analysis steps complete on a Pass, pauses on their timer or promote, experiments on their stopping rule
        throw invalid(d, `stepCompleted applies to the smoke step the controller runs; step ${done} is ${kind === 'analysis' ? 'an analysis' : `a ${String(kind)}`} step`);
      }
      if (walk(d, done + 1, now) === 'end') {
        return { reason: 'PromotedAutomatically', message: `last step (${done}) completed: all traffic to ${describePromotion(d.promotion)}`, evidence: action.evidence ?? null };
      }
      return { reason: 'StepAdvanced', message: `step ${done} completed; now ${where(d)}`, evidence: action.evidence ?? null };
    }

    case 'stepFailed': {
      requireStep(d, action.stepIndex, action.type, ['Progressing', 'Paused']);
      const step = planOf(d.strategy)[d.stepIndex];
      beginAbort(d);
      return {
        reason: step?.kind === 'smoke' ? 'SmokeRequestsFailed' : 'StepFailed',
        message: `step ${action.stepIndex} (${step?.kind ?? 'unknown'}) failed: ${action.message}; all traffic back to stable version ${d.stableVersion}`,
        evidence: action.evidence ?? null,
      };
    }

    case 'pauseExpired': {
      if (d.phase !== 'Paused' || d.pauseReason !== 'PausedByStep' || d.pauseUntil === null) {
        throw stale(d, action.type, `it is ${d.phase}${d.pauseReason === null ? '' : ` (${d.pauseReason})`}, not in a timed pause step`);
      }
      if (now < d.pauseUntil) throw stale(d, action.type, `its pause step ends at ${new Date(d.pauseUntil).toISOString()}, not yet`);
      const done = d.stepIndex;
      clearPause(d);
      if (walk(d, done + 1, now) === 'end') {
        return { reason: 'PromotedAutomatically', message: `pause step ${done} over, it was the last: all traffic to ${describePromotion(d.promotion)}` };
      }
      return { reason: 'StepAdvanced', message: `pause step ${done} over; now ${where(d)}` };
    }

    case 'analysisResult':
      return recordAnalysis(d, action.run, action.stepIndex, action.result, action.input, now);

    case 'experimentConcluded': {
      if (d.strategy.kind !== 'experiment' || d.variants === null) {
        throw invalid(d, `experimentConcluded applies to experiments only; rollout ${d.id} is a ${kindName(d.strategy.kind)}`);
      }
      if (d.phase !== 'Progressing' && d.phase !== 'Paused') throw stale(d, action.type, `it is ${d.phase}`);
      if (action.winner !== null && !d.variants.some((v) => v.name === action.winner)) {
        throw invalid(d, `winner "${action.winner}" is not a variant (variants: ${d.variants.map((v) => v.name).join(', ')})`);
      }
      d.winner = action.winner;
      const reason: PauseReason = action.winner === null ? 'ExperimentEndedWithoutWinner' : 'ExperimentConcluded';
      setPause(d, reason, null, now);
      return {
        reason,
        message: action.winner === null ? `experiment ended without a winner: ${action.message}` : `experiment concluded, winner "${action.winner}": ${action.message}`,
        evidence: action.evidence ?? null,
      };
    }

    case 'superseded': {
      if (typeof action.by !== 'string' || action.by.length === 0 || action.by === d.id) {
        throw invalid(d, `superseded.by must be the id of the new rollout, got ${JSON.stringify(action.by)}`);
      }
      clearPause(d);
      d.phase = 'Aborted';
      d.currentWeight = 0;
      d.finishedAt = now;
      d.supersededBy = action.by;
      return { reason: 'Superseded', message: `superseded by rollout ${action.by}` };
    }

    case 'finalized': {
      if (d.phase === 'Promoting') {
        d.phase = 'Promoted';
        d.finishedAt = now;
        return { reason: 'PromotionCompleted', message: `${describePromotion(d.promotion)} is the stable version of endpoint "${d.endpoint}"` };
      }
      if (d.phase === 'Aborting') {
        d.phase = 'Aborted';
        d.finishedAt = now;
        return { reason: 'AbortCompleted', message: `stable version ${d.stableVersion} serves all traffic of endpoint "${d.endpoint}"` };
      }
      throw stale(d, action.type, `it is ${d.phase}, not Promoting or Aborting`);
    }

    default:
      throw invalid(d, `unknown rollout action ${JSON.stringify((action as { type?: unknown }).type)}`);
  }
}

/** Resume from a hold (a person's, a deadline's, a mismatch's, an experiment's end): back to the step it held. */
function resume(d: Draft, now: number, actor: string): Outcome {
  const reason = d.pauseReason;
  const index = d.stepIndex;
  if (reason === 'PausedByStep') {
    // a pause step is a gate: only promote opens it (resuming a shadow must never switch its traffic)
    const until = d.pauseUntil === null ? 'until promote' : `until ${new Date(d.pauseUntil).toISOString()}`;
    throw RolloutStateErrors.ROLLOUT_STATE_NOT_ALLOWED(
      `rollout ${d.id} of endpoint "${d.endpoint}" is held by its pause step ${index} (${until}), not by a person: resume does not skip steps; promote to go on, or abort`,
      { details: { rolloutId: d.id, endpoint: d.endpoint, phase: d.phase, pauseReason: reason, accepts: ['pause', 'promote', 'abort'] } },
    );
  }
  clearPause(d);
  // the deadlines count again from now, and a mismatch the person has seen pauses no more
  for (const run of ['background', 'step'] as const) {
    const record = d.analysis[run];
    if (record !== null) d.analysis[run] = { ...record, startedAt: now, srmAcknowledged: record.srmAcknowledged || reason === 'SampleRatioMismatch' };
  }
  if (d.stepStartedAt === null) {
    if (d.candidateReadyAt !== null && walk(d, index, now) === 'end') {
      return { reason: 'PromotedAutomatically', message: `resumed by ${actor}; no step holds it: all traffic to ${describePromotion(d.promotion)}` };
    }
    return { reason: 'Resumed', message: `resumed by ${actor}; ${where(d)}` };
  }
  const step = planOf(d.strategy)[index];
  if (step?.kind === 'pause') {
    // back to the pause step's own wait, which kept counting while the person held the rollout
    const until = pauseUntilOf(step, d);
    if (until !== null && until <= now) {
      if (walk(d, index + 1, now) === 'end') {
        return { reason: 'PromotedAutomatically', message: `resumed by ${actor}; the pause step was over and the last: all traffic to ${describePromotion(d.promotion)}` };
      }
      return { reason: 'Resumed', message: `resumed by ${actor}; pause step ${index} was over; now ${where(d)}` };
    }
    setPause(d, 'PausedByStep', until, now);
  }
  return { reason: 'Resumed', message: `resumed by ${actor}; ${where(d)}` };
}

function recordAnalysis(
  d: Draft,
  run: AnalysisRunName,
  stepIndex: number | undefined,
  result: AnalysisResult,
  input: AnalysisInput | null | undefined,
  now: number,
): Outcome {
  if (run !== 'background' && run !== 'step') throw invalid(d, `analysis run must be "background" or "step", got ${JSON.stringify(run)}`);
  if (result === null || typeof result !== 'object' || !ANALYSIS_VERDICT_ORDER.includes(result.verdict)) {
    throw invalid(d, `analysis result must have a verdict (${ANALYSIS_VERDICT_ORDER.join(', ')})`);
  }
  if (d.phase !== 'Progressing' && d.phase !== 'Paused') throw stale(d, 'analysisResult', `it is ${d.phase}: its analysis is over`);
  let record: AnalysisRecord;
  if (run === 'step') {
    if (stepIndex === undefined) throw invalid(d, 'a step analysis result must name its stepIndex');
    if (stepIndex !== d.stepIndex || d.stepStartedAt === null || planOf(d.strategy)[d.stepIndex]?.kind !== 'analysis' || d.analysis.step === null) {
      throw stale(d, 'analysisResult', `it is at ${where(d)}, not in analysis step ${stepIndex}`);
    }
    record = d.analysis.step;
  } else {
    record = d.analysis.background ?? freshAnalysis(now);
  }
  const verdict = result.verdict;
  const updated: AnalysisRecord = {
    ...record,
    state: result.state,
    lastResult: result,
    lastAt: now,
    input: input === undefined ? record.input : input,
    passedAt: verdict === 'Pass' && record.passedAt === null ? now : record.passedAt,
  };
  d.analysis[run] = updated;
  updateAnalysisCondition(d, now);

  const { state: _state, ...shown } = result;
  const evidence = { run, ...(run === 'step' ? { stepIndex } : {}), ...shown };
  const label = run === 'step' ? `analysis of step ${String(stepIndex)}` : 'background analysis';
  const experiment = d.strategy.kind === 'experiment';

  if (verdict === 'Fail' && !experiment) {
    beginAbort(d);
    return { reason: 'AbortedByAnalysis', message: `${label} failed (${result.reason}): all traffic back to stable version ${d.stableVersion}`, evidence };
  }
  if (verdict === 'Fail') return { reason: 'AnalysisFailed', message: `${label}: ${result.reason}`, evidence };
  if (verdict === 'SampleRatioMismatch') {
    if (d.phase === 'Progressing' && !updated.srmAcknowledged) {
      setPause(d, 'SampleRatioMismatch', null, now);
      return { reason: 'SampleRatioMismatch', message: `${label}: sample-ratio mismatch (${result.reason}); paused for a person`, evidence };
    }
    return { reason: 'SampleRatioMismatch', message: `${label}: sample-ratio mismatch (${result.reason})`, evidence };
  }
  if (verdict === 'Pass') {
    if (run === 'step' && d.phase === 'Progressing') {
      const done = d.stepIndex;
      if (walk(d, done + 1, now) === 'end') {
        return { reason: 'PromotedAutomatically', message: `${label} passed and it was the last step: all traffic to ${describePromotion(d.promotion)}`, evidence };
      }
      return { reason: 'StepAdvanced', message: `${label} passed; now ${where(d)}`, evidence };
    }
    return { reason: 'AnalysisPassed', message: `${label} passed`, evidence };
  }
  // InsufficientData or Inconclusive: wait, up to the deadline, then pause for a person
  const template = templateOf(d, run);
  if (template !== undefined && d.phase === 'Progressing' && updated.passedAt === null && now >= updated.startedAt + template.deadlineSeconds * 1000) {
    setPause(d, 'AnalysisInconclusiveDeadline', null, now);
    return {
      reason: 'AnalysisInconclusiveDeadline',
      message: `${label} has no verdict (${verdict}: ${result.reason}) after its ${template.deadlineSeconds} s deadline; paused for a person`,
      evidence,
    };
  }
  return { reason: verdict === 'InsufficientData' ? 'AnalysisInsufficientData' : 'AnalysisInconclusive', message: `${label}: ${result.reason}`, evidence };
}

/**
 * Enters step `index` and carries on through steps that finish at once (setWeight, a pause already
 * over) until one holds the rollout; past the last step it begins the promotion and says 'end'.
 */
function walk(d: Draft, index: number, now: number): 'holding' | 'end' {
  const plan = planOf(d.strategy);
  if (d.strategy.kind === 'canary' && d.strategy.analysis !== undefined && d.analysis.background === null) {
    d.analysis.background = freshAnalysis(now);
  }
  d.phase = 'Progressing';
  for (let i = index; i < plan.length; i++) {
    const step = plan[i];
    if (step === undefined) break;
    d.stepIndex = i;
    d.stepStartedAt = now;
    d.analysis.step = null;
    switch (step.kind) {
      case 'setWeight':
        d.currentWeight = step.weight;
        continue;
      case 'pause': {
        const until = pauseUntilOf(step, d);
        if (until !== null && until <= now) continue;
        setPause(d, 'PausedByStep', until, now);
        return 'holding';
      }
      case 'analysis':
        d.analysis.step = freshAnalysis(now);
        return 'holding';
      case 'smoke':
        return 'holding';
      case 'experiment':
        d.currentWeight = 100;
        return 'holding';
    }
  }
  d.stepIndex = plan.length;
  beginPromotion(d, promotionTarget(d, undefined));
  return 'end';
}

function pauseUntilOf(step: Extract<PlanStep, { kind: 'pause' }>, d: Draft): number | null {
  if (step.durationSeconds === undefined) return null;
  const from = step.from === 'candidateReady' ? (d.candidateReadyAt ?? d.stepStartedAt) : d.stepStartedAt;
  return (from ?? d.updatedAt) + step.durationSeconds * 1000;
}

function beginPromotion(d: Draft, promotion: RolloutPromotion): void {
  clearPause(d);
  d.phase = 'Promoting';
  d.promotion = promotion;
  d.currentWeight = 100;
}

function beginAbort(d: Draft): void {
  clearPause(d);
  d.phase = 'Aborting';
  d.currentWeight = 0;
}

function setPause(d: Draft, reason: PauseReason, until: number | null, now: number): void {
  d.phase = 'Paused';
  d.pauseReason = reason;
  d.pausedAt = now;
  d.pauseUntil = until;
}

function clearPause(d: Draft): void {
  if (d.phase === 'Paused') d.phase = 'Progressing';
  d.pauseReason = null;
  d.pausedAt = null;
  d.pauseUntil = null;
}

/** What promote makes stable: the candidate, or an experiment's named (else declared) winner. */
function promotionTarget(d: Draft, variant: string | undefined): RolloutPromotion {
  if (d.strategy.kind === 'experiment' || d.variants !== null) {
    const variants = d.variants ?? [];
    const name = variant ?? d.winner;
    if (name === null) {
      throw invalid(d, `promote of experiment ${d.id} must name the variant to make stable: no winner has been declared (variants: ${variants.map((v) => v.name).join(', ')})`);
    }
    const found = variants.find((v) => v.name === name);
    if (found === undefined) throw invalid(d, `variant "${name}" is not one of the experiment's variants (${variants.map((v) => v.name).join(', ')})`);
    return { variant: found.name, version: found.version };
  }
  if (variant !== undefined && variant !== CANDIDATE) {
    throw invalid(d, `a ${kindName(d.strategy.kind)} promotes its candidate; variant must be "${CANDIDATE}" or absent, got "${variant}"`);
  }
  return { variant: CANDIDATE, version: d.candidateVersion ?? d.stableVersion };
}

function templateOf(rollout: Pick<Rollout, 'strategy' | 'stepIndex'>, run: AnalysisRunName): AnalysisTemplate | undefined {
  if (run === 'background') return rollout.strategy.kind === 'canary' ? rollout.strategy.analysis : undefined;
  const step = planOf(rollout.strategy)[rollout.stepIndex];
  return step?.kind === 'analysis' ? step.analysis : undefined;
}

function freshAnalysis(now: number): AnalysisRecord {
  return { startedAt: now, state: EMPTY_ANALYSIS_STATE, lastResult: null, lastAt: null, input: null, passedAt: null, srmAcknowledged: false };
}

function requireStep(d: Draft, stepIndex: number, type: string, phases: readonly RolloutPhase[]): void {
  if (!Number.isInteger(stepIndex)) throw invalid(d, `${type}.stepIndex must be a whole number, got ${JSON.stringify(stepIndex)}`);
  if (!phases.includes(d.phase) || d.stepStartedAt === null || stepIndex !== d.stepIndex) {
    throw stale(d, type, `it is ${d.phase} at ${where(d)}, not running step ${stepIndex}`);
  }
}

// ─── conditions ─────────────────────────────────────────────────────────────────────────────────

function conditionOf(d: Draft, type: RolloutConditionType): RolloutCondition {
  const found = d.conditions.find((c) => c.type === type);
  if (found === undefined) throw RolloutStateErrors.ROLLOUT_STATE_CORRUPT(`rollout ${d.id} has no ${type} condition`, { details: { rolloutId: d.id } });
  return found;
}

/** Sets a condition; `lastTransitionAt` moves only when the status changes (Kubernetes semantics). */
function setCondition(d: Draft, type: RolloutConditionType, status: ConditionStatus, reason: RolloutReason, message: string, now: number): void {
  const i = d.conditions.findIndex((c) => c.type === type);
  const old = d.conditions[i];
  const lastTransitionAt = old !== undefined && old.status === status ? old.lastTransitionAt : now;
  const next: RolloutCondition = { type, status, reason, message, lastTransitionAt };
  if (i < 0) d.conditions.push(next);
  else d.conditions[i] = next;
}

const VERDICT_CONDITION: Record<AnalysisVerdict, { status: ConditionStatus; reason: RolloutReason }> = {
  Pass: { status: 'True', reason: 'AnalysisPassed' },
  Fail: { status: 'False', reason: 'AnalysisFailed' },
  SampleRatioMismatch: { status: 'Unknown', reason: 'SampleRatioMismatch' },
  InsufficientData: { status: 'Unknown', reason: 'AnalysisInsufficientData' },
  Inconclusive: { status: 'Unknown', reason: 'AnalysisInconclusive' },
};

/** AnalysisPassing follows the worst latest verdict of the runs in progress (the analysis engine's worst-wins order). */
function updateAnalysisCondition(d: Draft, now: number): void {
  const latest: { run: string; result: AnalysisResult }[] = [];
  for (const run of ['background', 'step'] as const) {
    const result = d.analysis[run]?.lastResult;
    if (result !== null && result !== undefined) latest.push({ run, result });
  }
  const worst = ANALYSIS_VERDICT_ORDER.find((v) => latest.some((l) => l.result.verdict === v));
  if (worst === undefined) return;
  const which = latest.filter((l) => l.result.verdict === worst).map((l) => `${l.run}: ${l.result.reason}`);
  const { status, reason } = VERDICT_CONDITION[worst];
  setCondition(d, 'AnalysisPassing', status, reason, which.join('; '), now);
}

/** Progressing, Paused and Completed follow the phase; they change only when the phase, step or pause does. */
function settleConditions(before: Rollout, d: Draft, action: RolloutAction, reason: RolloutReason, message: string, now: number): void {
  const moved = before.phase !== d.phase || before.stepIndex !== d.stepIndex || before.pauseReason !== d.pauseReason;
  if (moved) {
    const going = d.phase === 'Progressing' || d.phase === 'Promoting' || d.phase === 'Aborting';
    setCondition(d, 'Progressing', going ? 'True' : 'False', reason, message, now);
    if (d.phase === 'Paused' && d.pauseReason !== null) setCondition(d, 'Paused', 'True', d.pauseReason, message, now);
    else if (before.phase === 'Paused') setCondition(d, 'Paused', 'False', reason, message, now);
  }
  if (isTerminalPhase(d.phase)) {
    // finalized keeps the decision's reason (PromotedByUser, AbortedByAnalysis…); superseded is its own decision
    const decided = conditionOf(d, 'Completed');
    if (action.type === 'finalized') setCondition(d, 'Completed', 'True', decided.reason, decided.message, now);
    else setCondition(d, 'Completed', 'True', reason, message, now);
  } else if ((d.phase === 'Promoting' || d.phase === 'Aborting') && (before.phase !== d.phase || before.promotion?.variant !== d.promotion?.variant)) {
    setCondition(d, 'Completed', 'False', reason, message, now);
  }
}

// ─── small helpers ──────────────────────────────────────────────────────────────────────────────

function eventOf(
  r: Rollout,
  type: RolloutEvent['type'],
  fromPhase: RolloutPhase | null,
  now: number,
  actor: string,
  reason: RolloutReason,
  message: string,
  evidence: Readonly<Record<string, unknown>> | null,
): RolloutEvent {
  return jsonFrozen<RolloutEvent>({
    rolloutId: r.id,
    seq: r.revision,
    at: now,
    actor,
    type,
    fromPhase,
    toPhase: r.phase,
    reason,
    message,
    stepIndex: r.stepIndex,
    weight: r.currentWeight,
    evidence,
  });
}

/**
 * A deep copy as JSON keeps it, deep-frozen: what a store gives back after a restart is then
 * deep-equal to what the state machine produced (undefined fields of the compiled strategy vanish
 * here rather than at the first reload).
 */
export function jsonFrozen<T>(value: T): T {
  return freeze(JSON.parse(JSON.stringify(value)) as T);
}

function freeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.freeze(value);
    for (const inner of Object.values(value)) freeze(inner);
  }
  return value;
}

function checkClockAndActor(now: number, actor: string): void {
  if (typeof now !== 'number' || !Number.isSafeInteger(now) || now < 0) {
    throw RolloutStateErrors.ROLLOUT_STATE_INVALID_INPUT(`now must be milliseconds since the epoch (a whole number ≥ 0), got ${JSON.stringify(now)}`);
  }
  if (typeof actor !== 'string' || actor.length === 0) {
    throw RolloutStateErrors.ROLLOUT_STATE_INVALID_INPUT(`actor must name who acts (a non-empty string), got ${JSON.stringify(actor)}`);
  }
}

function isVersion(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

function invalid(d: Draft, message: string): PlatformError {
  return RolloutStateErrors.ROLLOUT_STATE_INVALID_INPUT(message, { details: { rolloutId: d.id, endpoint: d.endpoint } });
}

function stale(d: Draft, type: string, why: string): PlatformError {
  return RolloutStateErrors.ROLLOUT_STATE_STALE_EVENT(`${type} no longer applies to rollout ${d.id} of endpoint "${d.endpoint}": ${why}`, {
    details: { rolloutId: d.id, endpoint: d.endpoint, phase: d.phase, stepIndex: d.stepIndex, action: type },
  });
}

function verbOf(action: RolloutAction): string {
  switch (action.type) {
    case 'pause':
      return 'be paused';
    case 'resume':
      return 'be resumed';
    case 'promote':
      return 'be promoted';
    case 'abort':
      return 'be aborted';
    default:
      return `accept ${String(action.type)}`;
  }
}

function kindName(kind: string): string {
  return kind === 'blueGreen' ? 'blue-green rollout' : kind === 'experiment' ? 'experiment' : kind === 'shadow' ? 'shadow rollout' : 'canary';
}

function candidateName(d: Draft): string {
  return d.variants === null ? `candidate version ${String(d.candidateVersion)}` : `variants ${d.variants.map((v) => `${v.name} (v${v.version})`).join(', ')}`;
}

function describePromotion(p: RolloutPromotion | null): string {
  if (p === null) return 'the candidate';
  return p.variant === CANDIDATE ? `version ${p.version}` : `variant "${p.variant}" (version ${p.version})`;
}

/** "step 2 of 5 (analysis), weight 25 %" — where a rollout stands, for messages. */
function where(d: Draft): string {
  const plan = planOf(d.strategy);
  if (d.stepStartedAt === null) return `waiting for the candidate before step ${d.stepIndex} of ${plan.length}`;
  const step = plan[d.stepIndex];
  return `step ${d.stepIndex} of ${plan.length}${step === undefined ? '' : ` (${step.kind})`}, weight ${d.currentWeight} %`;
}

function note(message: string | undefined): string {
  return message === undefined || message.length === 0 ? '' : ` — ${message}`;
}
