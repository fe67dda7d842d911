/**
 * Rollout state: the persisted Rollout record, its reasons and conditions, the pure state machine
 * that moves it, the traffic policy it implies, and the RolloutStore port. See docs/rollouts.md.
 */
export type * from './types.js';
export { ROLLOUT_PHASES, TERMINAL_PHASES, ACTIVE_PHASES, ROLLOUT_CONDITION_TYPES } from './types.js';
export { ROLLOUT_REASONS, ROLLOUT_REASON_NAMES, PAUSE_REASONS, isRolloutReason, type RolloutReason, type PauseReason } from './reasons.js';
export { RolloutStateErrors, rolloutRefusals } from './errors.js';
export { planOf, type PlanStep } from './plan.js';
export {
  startRollout,
  transition,
  isTerminalPhase,
  currentStep,
  analysisDeadline,
  jsonFrozen,
  CONTROLLER_ACTOR,
  CANDIDATE,
  type StartResult,
} from './transition.js';
export { trafficPolicyOf } from './traffic.js';
export type * from './ports.js';
export { ROLLOUT_LIST_DEFAULT_LIMIT, ROLLOUT_EVENTS_DEFAULT_LIMIT, ROLLOUT_MAX_LIMIT } from './ports.js';
export { checkCreate, checkUpdate, isActiveRollout, listOptions, eventsOptions } from './store-checks.js';
