/**
 * The error table of rollout state: refusals of the transition function (a finished rollout, a
 * verb that does not apply, a controller event overtaken by another change) and of every
 * RolloutStore adapter, built here so that the same refusal reads the same whichever store is wired.
 */
import { defineErrors, type PlatformError } from '../../core/index.js';
import type { RolloutPhase } from './types.js';

export const RolloutStateErrors = defineErrors({
  ROLLOUT_STATE_FINISHED: {
    kind: 'conflict',
    help: 'The rollout has finished (Promoted or Aborted) and accepts no more verbs; to change the endpoint again, apply a new target, or use `slipway rollback`.',
  },
  ROLLOUT_STATE_NOT_ALLOWED: {
    kind: 'conflict',
    help: 'The verb does not apply in the rollout\'s current phase (pausing a rollout that is already Promoting or Aborting); the message names the phase and what it accepts. Abort and promote are accepted in every unfinished phase.',
  },
  ROLLOUT_STATE_STALE_EVENT: {
    kind: 'conflict',
    help: 'A controller event no longer applies because the rollout moved on (a person skipped the step, paused or aborted it first); the controller re-reads the rollout and carries on. Not caused by a client.',
  },
  ROLLOUT_STATE_INVALID_INPUT: {
    kind: 'invalid',
    help: 'A rollout verb, new rollout or rollout query has a wrong field (an unknown experiment variant, promote of an experiment with no winner and no variant named, a version that is not a whole number ≥ 1, a list limit out of range); the message names the field and what was expected.',
  },
  ROLLOUT_STATE_NOT_FOUND: {
    kind: 'not_found',
    help: 'No rollout has this id; list an endpoint\'s rollouts with `slipway rollout status ENDPOINT`.',
  },
  ROLLOUT_STATE_EXISTS: {
    kind: 'conflict',
    help: 'A rollout with this id is stored already; ids are ULIDs made once per rollout, so this is a retry of a creation that succeeded.',
  },
  ROLLOUT_STATE_ACTIVE_EXISTS: {
    kind: 'conflict',
    help: 'The endpoint already has an unfinished rollout; promote or abort it first, or supersede it with the new target (at most one rollout per endpoint runs at a time).',
  },
  ROLLOUT_STATE_REVISION_CONFLICT: {
    kind: 'conflict',
    help: 'The rollout changed since it was read (another verb or the controller got there first); read it again and retry the verb if it still makes sense.',
  },
  ROLLOUT_STATE_BAD_WRITE: {
    kind: 'internal',
    help: 'A rollout write was inconsistent (event for another rollout, sequence not equal to the new revision); this is a bug in the caller, please report it.',
  },
  ROLLOUT_STATE_CORRUPT: {
    kind: 'internal',
    help: 'A stored rollout record could not be read back (invalid JSON or an unknown phase); the database was changed outside Slipway or is damaged: restore a backup.',
  },
});

/** Message builders shared by the transition function and every store adapter. */
export const rolloutRefusals = {
  finished(id: string, endpoint: string, phase: RolloutPhase, verb: string): PlatformError {
    return RolloutStateErrors.ROLLOUT_STATE_FINISHED(
      `rollout ${id} of endpoint "${endpoint}" is ${phase}: it cannot ${verb}, as it has finished; apply a new target to start another rollout`,
      { details: { rolloutId: id, endpoint, phase } },
    );
  },
  notFound(id: string): PlatformError {
    return RolloutStateErrors.ROLLOUT_STATE_NOT_FOUND(`no rollout has id "${id}"`, { details: { rolloutId: id } });
  },
  exists(id: string): PlatformError {
    return RolloutStateErrors.ROLLOUT_STATE_EXISTS(`a rollout with id "${id}" is stored already`, { details: { rolloutId: id } });
  },
  activeExists(endpoint: string, activeId: string | null, activePhase: RolloutPhase | null): PlatformError {
    const which = activeId === null ? 'an unfinished rollout' : `rollout ${activeId} (${activePhase ?? 'unfinished'})`;
    return RolloutStateErrors.ROLLOUT_STATE_ACTIVE_EXISTS(
      `endpoint "${endpoint}" already has ${which}; promote or abort it first, or supersede it`,
      { details: { endpoint, activeRolloutId: activeId } },
    );
  },
  revisionConflict(id: string, expected: number, actual: number): PlatformError {
    return RolloutStateErrors.ROLLOUT_STATE_REVISION_CONFLICT(
      `rollout ${id} is at revision ${actual}, not ${expected}: it changed since it was read; read it again and retry`,
      { details: { rolloutId: id, expectedRevision: expected, actualRevision: actual } },
    );
  },
  badWrite(message: string, details: Record<string, unknown>): PlatformError {
    return RolloutStateErrors.ROLLOUT_STATE_BAD_WRITE(`inconsistent rollout write: ${message}`, { details });
  },
};
