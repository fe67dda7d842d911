/**
 * The persisted state of rollouts: the Rollout record, its conditions, the analysis it carries from
 * look to look, the actions that move it and the event recorded for every change. Everything here
 * is plain JSON-exact data (no undefined, NaN or Infinity; times are milliseconds since the epoch),
 * so what a store gives back after a restart is deep-equal to what was written. See
 * docs/rollouts.md for the phases, conditions and reasons.
 */
import type { AnalysisInput, AnalysisResult, AnalysisState } from '../analysis/index.js';
import type { RolloutStrategy } from '../spec/index.js';
import type { PauseReason, RolloutReason } from './reasons.js';

/**
 * Where a rollout is. Progressing and Paused hold a split between stable and candidate;
 * Promoting and Aborting are the decided-but-not-finished phases (traffic already at its final
 * split; the controller finishes the side effects — the endpoint's stable version, releasing
 * replicas — and then sends `finalized`); Promoted and Aborted are terminal.
 */
export type RolloutPhase = 'Progressing' | 'Paused' | 'Promoting' | 'Promoted' | 'Aborting' | 'Aborted';

export const ROLLOUT_PHASES: readonly RolloutPhase[] = Object.freeze(['Progressing', 'Paused', 'Promoting', 'Promoted', 'Aborting', 'Aborted']);

/** The phases a rollout never leaves. */
export const TERMINAL_PHASES: readonly RolloutPhase[] = Object.freeze(['Promoted', 'Aborted']);

/** The phases of an unfinished rollout: at most one rollout per endpoint is in one of these. */
export const ACTIVE_PHASES: readonly RolloutPhase[] = Object.freeze(['Progressing', 'Paused', 'Promoting', 'Aborting']);

/** The condition types every rollout carries, once each, in this order (Kubernetes style). */
export type RolloutConditionType = 'Progressing' | 'Paused' | 'CandidateReady' | 'AnalysisPassing' | 'Completed';

export const ROLLOUT_CONDITION_TYPES: readonly RolloutConditionType[] = Object.freeze([
  'Progressing',
  'Paused',
  'CandidateReady',
  'AnalysisPassing',
  'Completed',
]);

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** One observation about a rollout, as Kubernetes status conditions have them. */
export interface RolloutCondition {
  readonly type: RolloutConditionType;
  readonly status: ConditionStatus;
  readonly reason: RolloutReason;
  readonly message: string;
  /** When `status` last changed (ms since the epoch); a new reason with the same status keeps it. */
  readonly lastTransitionAt: number;
}

/** One arm of an A/B experiment, with the version its target resolved to when the rollout began. */
export interface RolloutVariant {
  readonly name: string;
  readonly version: number;
  /** Relative weight ≥ 0, as in the spec. */
  readonly weight: number;
}

/** What a promotion makes the endpoint's stable version. */
export interface RolloutPromotion {
  /** `candidate`, or the experiment variant's name. */
  readonly variant: string;
  readonly version: number;
}

/** Which analysis a result belongs to: the canary's background analysis, or the current step's (a canary analysis step, blue-green pre-promotion analysis). */
export type AnalysisRunName = 'background' | 'step';

/** One analysis as it stands between looks: enough to carry on after a restart. */
export interface AnalysisRecord {
  /** When the current deadline started counting (ms): the run's start, reset by `resume`. */
  readonly startedAt: number;
  /** The engine's state for the next look (`result.state` of the last look). */
  readonly state: AnalysisState;
  readonly lastResult: AnalysisResult | null;
  /** When the last look was recorded (ms), null before the first. */
  readonly lastAt: number | null;
  /**
   * The cumulative arm summaries and traffic counts the last look saw, so that collectors restart
   * from them after a restart instead of from zero (only the requests since that look are lost).
   */
  readonly input: AnalysisInput | null;
  /** When this run first passed (ms); the deadline no longer applies after that. */
  readonly passedAt: number | null;
  /** A person resumed after a sample-ratio mismatch: later mismatches are recorded but pause no more. */
  readonly srmAcknowledged: boolean;
}

export interface RolloutAnalysis {
  readonly background: AnalysisRecord | null;
  readonly step: AnalysisRecord | null;
}

/** One run of a strategy on an endpoint. Times are milliseconds since the epoch. */
export interface Rollout {
  /** ULID (src/core/ids.ts). */
  readonly id: string;
  readonly endpoint: string;
  readonly model: string;
  /** The compiled strategy, as `slipway apply` produced it (stored as JSON). */
  readonly strategy: RolloutStrategy;
  /** The version serving before the rollout; all traffic returns to it on abort. */
  readonly stableVersion: number;
  /** The version being rolled out (canary, blue-green, shadow); null for an experiment. */
  readonly candidateVersion: number | null;
  /** The experiment's variants with resolved versions; null for the other strategies. */
  readonly variants: readonly RolloutVariant[] | null;
  readonly phase: RolloutPhase;
  /** Index into {@link planOf}(strategy): for a canary, the index of `strategy.steps`. */
  readonly stepIndex: number;
  /** When the current step was entered; null before the steps start (candidate not ready yet). */
  readonly stepStartedAt: number | null;
  /** When the candidate was first reported loaded and warmed; null until then. */
  readonly candidateReadyAt: number | null;
  /**
   * The share of traffic (0–100, fractions allowed) routed away from stable: the canary weight;
   * 0 or 100 for blue-green; 0 for shadow (it only mirrors); 100 while an experiment's variants
   * split traffic; 100 while Promoting, 0 while Aborting.
   */
  readonly currentWeight: number;
  /** When the current pause began; null unless Paused. */
  readonly pausedAt: number | null;
  /** When a timed pause step ends; null for a pause that waits for a person, or unless Paused. */
  readonly pauseUntil: number | null;
  /** Why it is Paused; null unless Paused. */
  readonly pauseReason: PauseReason | null;
  /** The winner an experiment's stopping rule declared; promote picks it by default. */
  readonly winner: string | null;
  /** What becomes stable: set on entering Promoting, kept after. */
  readonly promotion: RolloutPromotion | null;
  /** One of each {@link ROLLOUT_CONDITION_TYPES}, in that order. */
  readonly conditions: readonly RolloutCondition[];
  readonly analysis: RolloutAnalysis;
  /** Mixed into the sticky hash; fixed for the rollout's life so users keep their side across restarts. */
  readonly stickySalt: string;
  readonly createdAt: number;
  readonly createdBy: string;
  readonly updatedAt: number;
  /** Set when the rollout reaches Promoted or Aborted. */
  readonly finishedAt: number | null;
  /** The rollout that replaced this one (reason Superseded). */
  readonly supersededBy: string | null;
  /** 1 at creation, +1 per recorded change: optimistic concurrency for the store. */
  readonly revision: number;
}

/** What {@link startRollout} needs. */
export interface NewRolloutInput {
  readonly endpoint: string;
  readonly model: string;
  readonly strategy: RolloutStrategy;
  readonly stableVersion: number;
  /** Required for canary, blue-green and shadow; absent for an experiment. */
  readonly candidateVersion?: number;
  /** Required for an experiment: the spec's variants in order, targets resolved to versions. */
  readonly variants?: readonly RolloutVariant[];
  /** Why the rollout starts (e.g. `alias production moved 2 → 3`); recorded on its first event. */
  readonly message?: string;
  /** Default: a new ULID. */
  readonly id?: string;
  /** Default: the rollout's id (as the router's StickinessPolicy asks). */
  readonly stickySalt?: string;
}

/** The verbs a person uses: `slipway rollout pause|resume|promote|abort`. */
export type UserAction =
  | { readonly type: 'pause'; readonly message?: string }
  | { readonly type: 'resume'; readonly message?: string }
  | {
      readonly type: 'promote';
      /** Skip every remaining step (canary); blue-green, shadow and experiments always promote fully. */
      readonly full?: boolean;
      /** Experiments: the variant to make stable (default: the declared winner). Others: `candidate` or absent. */
      readonly variant?: string;
      readonly message?: string;
    }
  | { readonly type: 'abort'; readonly message?: string };

/** What the controller reports. Each is refused as stale (ROLLOUT_STATE_STALE_EVENT) once it no longer applies. */
export type ControllerAction =
  /** The candidate (every variant, for an experiment) is loaded and warmed. */
  | { readonly type: 'candidateReady'; readonly message?: string }
  | { readonly type: 'candidateFailed'; readonly message: string; readonly evidence?: Readonly<Record<string, unknown>> }
  /** The smoke step (the one step the controller runs itself) finished well; `stepIndex` guards against a skipped step. */
  | { readonly type: 'stepCompleted'; readonly stepIndex: number; readonly message?: string; readonly evidence?: Readonly<Record<string, unknown>> }
  | { readonly type: 'stepFailed'; readonly stepIndex: number; readonly message: string; readonly evidence?: Readonly<Record<string, unknown>> }
  /** A timed pause step's `pauseUntil` has come. */
  | { readonly type: 'pauseExpired' }
  /** One look of an analysis; for the step's run, `stepIndex` is the step it was taken at. */
  | {
      readonly type: 'analysisResult';
      readonly run: AnalysisRunName;
      readonly stepIndex?: number;
      readonly result: AnalysisResult;
      readonly input?: AnalysisInput | null;
    }
  /** An experiment's stopping rule fired; `winner` is a variant name or null. */
  | { readonly type: 'experimentConcluded'; readonly winner: string | null; readonly message: string; readonly evidence?: Readonly<Record<string, unknown>> }
  /** A new target replaced this rollout; `by` is the new rollout's id. */
  | { readonly type: 'superseded'; readonly by: string; readonly message?: string }
  /** The side effects of Promoting or Aborting are done. */
  | { readonly type: 'finalized'; readonly message?: string };

export type RolloutAction = UserAction | ControllerAction;
export type RolloutActionType = RolloutAction['type'];

/** One recorded change of a rollout (append-only). `seq` equals the revision the change produced. */
export interface RolloutEvent {
  readonly rolloutId: string;
  /** 1 for the creation, then 2, 3 … without gaps. */
  readonly seq: number;
  readonly at: number;
  /** Who: a key or user name for verbs, the controller's name for its events. */
  readonly actor: string;
  /** The action, or `started` for the creation. */
  readonly type: RolloutActionType | 'started';
  /** null for the creation. */
  readonly fromPhase: RolloutPhase | null;
  readonly toPhase: RolloutPhase;
  readonly reason: RolloutReason;
  readonly message: string;
  /** The step and weight after the change, so that the history reads as a timeline of the split. */
  readonly stepIndex: number;
  readonly weight: number;
  /** What the decision rests on (an analysis verdict with its evidence, a smoke failure…); JSON. */
  readonly evidence: Readonly<Record<string, unknown>> | null;
}

/** What {@link transition} and {@link startRollout} return. `record` is null when nothing changed. */
export interface TransitionResult {
  readonly rollout: Rollout;
  readonly record: RolloutEvent | null;
}
