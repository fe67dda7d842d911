/**
 * The port rollouts need from storage. Adapters live in src/storage (memory, SQLite); every one
 * passes the contract suite in test/unit/rollout/state/rollout-store.contract.ts.
 */
import type { Rollout, RolloutEvent } from './types.js';

export interface RolloutListOptions {
  /** Only this endpoint's rollouts. */
  readonly endpoint?: string;
  /** At most this many, newest first. Default 100; a whole number from 1 to 10,000. */
  readonly limit?: number;
}

export interface RolloutEventsOptions {
  /** Only events with a higher seq (paging: pass the last seq seen). Default 0. */
  readonly afterSeq?: number;
  /** At most this many, oldest first. Default 1,000; a whole number from 1 to 10,000. */
  readonly limit?: number;
}

/** One state write: the new state, the revision it was computed from, and the event recording it (a TransitionResult plus the revision). */
export interface RolloutWrite {
  readonly rollout: Rollout;
  readonly expectedRevision: number;
  readonly record: RolloutEvent;
}

/** A new rollout and its `started` event, as startRollout returns them. */
export interface RolloutCreate {
  readonly rollout: Rollout;
  readonly record: RolloutEvent;
}

/**
 * Persisted rollouts and their histories. Contract, shared by every adapter:
 *
 * - **Atomic.** `create`, `update` and `supersede` each write the rollout row(s) and the event
 *   row(s) in one transaction: all or nothing, whether they throw or the process dies. A resolved
 *   promise means committed (durable for durable adapters, which is what lets a restarted server
 *   resume from `listActive()`).
 * - **One active rollout per endpoint.** A rollout whose phase is not Promoted or Aborted is
 *   active; a write that would leave two active rollouts for one endpoint is refused with
 *   ROLLOUT_STATE_ACTIVE_EXISTS (the SQLite adapter enforces it with a partial unique index).
 * - **Optimistic concurrency.** `update` applies only when the stored revision equals
 *   `expectedRevision`, else ROLLOUT_STATE_REVISION_CONFLICT and nothing is written. Of two
 *   concurrent updates from the same revision exactly one succeeds.
 * - **Consistent writes.** The stored revision and the event's seq are the same number: 1 at
 *   creation, `expectedRevision + 1` on update; `event.rolloutId` is the rollout's id. Anything
 *   else is refused with ROLLOUT_STATE_BAD_WRITE (a bug in the caller). The store does not judge
 *   transitions: `transition` in src/rollout/state does.
 * - **History is append-only.** Events are never changed or removed; `events()` lists them by seq.
 * - **Reads** return `undefined` for a missing rollout and never throw for it. Returned objects are
 *   deep-frozen snapshots, deep-equal to what was written (rollouts are JSON-exact by construction).
 * - **Ordering.** `list` and `listActive` give the newest first (createdAt, then id, descending);
 *   `events` the oldest first.
 */
export interface RolloutStore {
  /** Stores a new rollout (revision 1) with its `started` event (seq 1). ROLLOUT_STATE_EXISTS for a taken id; ROLLOUT_STATE_ACTIVE_EXISTS when the endpoint has an active rollout. */
  create(rollout: Rollout, event: RolloutEvent): Promise<Rollout>;
  get(id: string): Promise<Rollout | undefined>;
  /** The endpoint's active rollout, if any (at most one exists). */
  active(endpoint: string): Promise<Rollout | undefined>;
  list(options?: RolloutListOptions): Promise<Rollout[]>;
  /** Every active rollout of every endpoint: what a starting server resumes. */
  listActive(): Promise<Rollout[]>;
  /**
   * Replaces the stored state of `rollout.id` when its revision is `expectedRevision`, and appends
   * `event`. ROLLOUT_STATE_NOT_FOUND for an unknown id, ROLLOUT_STATE_REVISION_CONFLICT for a stale
   * revision. Returns the stored rollout.
   */
  update(rollout: Rollout, expectedRevision: number, event: RolloutEvent): Promise<Rollout>;
  /**
   * Ends the running rollout and creates its replacement in one transaction (a new target while one
   * runs): `current` is the old rollout's update (its `superseded` transition), `next` the new
   * rollout and its `started` event. Refused as a whole, writing nothing, if either part is.
   * Returns the new rollout.
   */
  supersede(current: RolloutWrite, next: RolloutCreate): Promise<Rollout>;
  /** The rollout's events by seq; empty for an unknown id. */
  events(rolloutId: string, options?: RolloutEventsOptions): Promise<RolloutEvent[]>;
}

/** Default and maximum of the list limits. */
export const ROLLOUT_LIST_DEFAULT_LIMIT = 100;
export const ROLLOUT_EVENTS_DEFAULT_LIMIT = 1000;
export const ROLLOUT_MAX_LIMIT = 10_000;
