/**
 * The reason constants of rollouts: every transition record and every condition carries one, in the
 * manner of Argo Rollouts' `RolloutPaused`, `RolloutAborted`, `NewReplicaSetAvailable`. The table in
 * docs/rollouts.md is rendered from this object and a test keeps the two identical.
 */

/** Every reason, with the one-line meaning shown in docs/rollouts.md. */
export const ROLLOUT_REASONS = Object.freeze({
  RolloutStarted: 'A rollout was created for a new target; the controller is loading and warming the candidate.',
  CandidateReady: 'The candidate is loaded and warmed; the rollout starts (or continues) its steps.',
  CandidateFailedToLoad: 'The candidate could not be loaded or warmed; the rollout aborts and stable keeps all traffic.',
  StepAdvanced: 'The rollout moved past a step (its weight set, its pause over, its analysis passed, its smoke requests answered) to the next.',
  PausedByStep: 'A pause step holds the rollout until its duration ends, or until `promote` for a pause without a duration.',
  PausedByUser: 'A person paused the rollout; it keeps its split until `resume`, `promote` or `abort`.',
  Resumed: 'A person resumed the rollout: it carries on with its current step, and analysis deadlines start again.',
  AnalysisPending: 'No analysis look has produced a result yet.',
  AnalysisPassed: 'The analysis passed: with always-valid evidence the candidate is no worse than stable beyond the tolerance.',
  AnalysisFailed: 'The analysis failed: with always-valid evidence the candidate is worse than stable beyond the tolerance.',
  AnalysisInsufficientData: 'A check has fewer observations than its minimum sample; the step waits (no data is never a failure).',
  AnalysisInconclusive: 'The checks have data but no decision yet; the step waits.',
  AnalysisInconclusiveDeadline: 'The analysis reached its deadline without a verdict; the rollout pauses for a person to decide.',
  SampleRatioMismatch: 'The observed split differs from the configured weights (chi-square, p < 0.001); the rollout pauses because every comparison is suspect.',
  SmokeRequestsFailed: "A blue-green smoke request did not get its expected status from the candidate; the rollout aborts.",
  StepFailed: 'A step the controller runs failed; the rollout aborts.',
  ExperimentConcluded: 'The stopping rule ended the experiment with a winner declared on statistical evidence; it waits for `promote` (the winner by default) or `abort`.',
  ExperimentEndedWithoutWinner: 'The stopping rule ended the experiment without a winner; it waits for a person to promote a named variant or abort.',
  PromotedByUser: 'A person promoted the rollout: all traffic moves to the candidate (or the chosen variant) now.',
  PromotedAutomatically: 'The last step passed: all traffic moves to the candidate.',
  PromotionCompleted: 'The promoted version is the endpoint\'s stable version; the rollout is Promoted.',
  AbortedByUser: 'A person aborted the rollout: all traffic went back to stable at once.',
  AbortedByAnalysis: 'An analysis failed: all traffic went back to stable at once.',
  AbortCompleted: 'Stable serves all traffic and the candidate is released; the rollout is Aborted.',
  Superseded: 'A new target for the endpoint replaced this rollout before it finished; the new rollout starts from stable.',
} as const);

/** One of the reason constants. */
export type RolloutReason = keyof typeof ROLLOUT_REASONS;

/** The reasons a rollout can be Paused for (its `pauseReason`). */
export const PAUSE_REASONS = Object.freeze([
  'PausedByStep',
  'PausedByUser',
  'AnalysisInconclusiveDeadline',
  'SampleRatioMismatch',
  'ExperimentConcluded',
  'ExperimentEndedWithoutWinner',
] as const satisfies readonly RolloutReason[]);

export type PauseReason = (typeof PAUSE_REASONS)[number];

/** Every reason name, in table order. */
export const ROLLOUT_REASON_NAMES: readonly RolloutReason[] = Object.freeze(Object.keys(ROLLOUT_REASONS) as RolloutReason[]);

/** Whether `value` is one of the reason constants (for reading stored records). */
export function isRolloutReason(value: unknown): value is RolloutReason {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ROLLOUT_REASONS, value);
}
