/**
 * The checks every RolloutStore adapter makes before it writes, and its list options with
 * defaults, so that adapters refuse the same things with the same messages.
 */
import { RolloutStateErrors, rolloutRefusals } from './errors.js';
import {
  ROLLOUT_EVENTS_DEFAULT_LIMIT,
  ROLLOUT_LIST_DEFAULT_LIMIT,
  ROLLOUT_MAX_LIMIT,
  type RolloutEventsOptions,
  type RolloutListOptions,
} from './ports.js';
import { ROLLOUT_PHASES, TERMINAL_PHASES, type Rollout, type RolloutEvent } from './types.js';

/** Whether a stored rollout counts against its endpoint's one active slot. */
export function isActiveRollout(rollout: Pick<Rollout, 'phase'>): boolean {
  return !TERMINAL_PHASES.includes(rollout.phase);
}

/** Refuses a creation whose revision, event or phase do not fit together (ROLLOUT_STATE_BAD_WRITE). */
export function checkCreate(rollout: Rollout, event: RolloutEvent): void {
  checkShape(rollout, event);
  if (rollout.revision !== 1 || event.seq !== 1) {
    throw rolloutRefusals.badWrite(`a new rollout has revision 1 and its first event seq 1, got revision ${rollout.revision} and seq ${event.seq}`, {
      rolloutId: rollout.id,
      revision: rollout.revision,
      seq: event.seq,
    });
  }
}

/** Refuses an update whose new revision is not `expectedRevision + 1` or whose event does not match (ROLLOUT_STATE_BAD_WRITE). */
export function checkUpdate(rollout: Rollout, expectedRevision: number, event: RolloutEvent): void {
  checkShape(rollout, event);
  if (!Number.isSafeInteger(expectedRevision) || expectedRevision < 1) {
    throw rolloutRefusals.badWrite(`expectedRevision must be a whole number ≥ 1, got ${String(expectedRevision)}`, { rolloutId: rollout.id });
  }
  if (rollout.revision !== expectedRevision + 1 || event.seq !== rollout.revision) {
    throw rolloutRefusals.badWrite(
      `an update from revision ${expectedRevision} writes revision ${expectedRevision + 1} with event seq ${expectedRevision + 1}, got revision ${rollout.revision} and seq ${event.seq}`,
      { rolloutId: rollout.id, expectedRevision, revision: rollout.revision, seq: event.seq },
    );
  }
}

function checkShape(rollout: Rollout, event: RolloutEvent): void {
  if (typeof rollout.id !== 'string' || rollout.id.length === 0) throw rolloutRefusals.badWrite('the rollout has no id', {});
  if (event.rolloutId !== rollout.id) {
    throw rolloutRefusals.badWrite(`event for rollout ${event.rolloutId} written with rollout ${rollout.id}`, { rolloutId: rollout.id, eventRolloutId: event.rolloutId });
  }
  if (!ROLLOUT_PHASES.includes(rollout.phase) || event.toPhase !== rollout.phase) {
    throw rolloutRefusals.badWrite(`the event leads to phase ${event.toPhase} but the rollout is ${rollout.phase}`, { rolloutId: rollout.id });
  }
  if (isActiveRollout(rollout) === (rollout.finishedAt !== null)) {
    throw rolloutRefusals.badWrite(`a ${rollout.phase} rollout ${rollout.finishedAt === null ? 'needs' : 'cannot have'} finishedAt`, { rolloutId: rollout.id });
  }
}

function limitOf(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > ROLLOUT_MAX_LIMIT) {
    throw RolloutStateErrors.ROLLOUT_STATE_INVALID_INPUT(`${field} must be a whole number from 1 to ${ROLLOUT_MAX_LIMIT}, got ${String(value)}`, {
      details: { field, value },
    });
  }
  return value;
}

/** `list` options with defaults applied; ROLLOUT_STATE_INVALID_INPUT for a limit out of range. */
export function listOptions(options: RolloutListOptions = {}): { endpoint: string | undefined; limit: number } {
  return { endpoint: options.endpoint, limit: limitOf(options.limit, ROLLOUT_LIST_DEFAULT_LIMIT, 'limit') };
}

/** `events` options with defaults applied; ROLLOUT_STATE_INVALID_INPUT for a bad limit or afterSeq. */
export function eventsOptions(options: RolloutEventsOptions = {}): { afterSeq: number; limit: number } {
  const afterSeq = options.afterSeq ?? 0;
  if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) {
    throw RolloutStateErrors.ROLLOUT_STATE_INVALID_INPUT(`afterSeq must be a whole number ≥ 0, got ${String(afterSeq)}`, { details: { field: 'afterSeq', value: afterSeq } });
  }
  return { afterSeq, limit: limitOf(options.limit, ROLLOUT_EVENTS_DEFAULT_LIMIT, 'limit') };
}
