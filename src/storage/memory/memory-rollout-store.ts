/**
 * An in-memory RolloutStore for unit tests and throw-away runs. Each method checks every
 * precondition before it changes anything and runs without awaiting, so it is atomic and
 * serialised on the single JavaScript thread.
 */
import {
  checkCreate,
  checkUpdate,
  eventsOptions,
  isActiveRollout,
  jsonFrozen,
  listOptions,
  rolloutRefusals,
  type Rollout,
  type RolloutEvent,
  type RolloutStore,
} from '../../rollout/state/index.js';

/** The memory adapter of the RolloutStore port. */
export type MemoryRolloutStore = RolloutStore;

/** Newest first: createdAt, then id, descending (ids are ULIDs, so this is creation order too). */
function newestFirst(a: Rollout, b: Rollout): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** Creates an empty in-memory rollout store. */
export function createMemoryRolloutStore(): MemoryRolloutStore {
  const rollouts = new Map<string, Rollout>();
  const events = new Map<string, RolloutEvent[]>();

  function activeOf(endpoint: string, except?: string): Rollout | undefined {
    for (const r of rollouts.values()) if (r.endpoint === endpoint && r.id !== except && isActiveRollout(r)) return r;
    return undefined;
  }

  /** Checks a creation; returns what to write. Writes nothing. */
  function prepareCreate(rollout: Rollout, event: RolloutEvent, endingId?: string): { rollout: Rollout; event: RolloutEvent } {
    checkCreate(rollout, event);
    if (rollouts.has(rollout.id)) throw rolloutRefusals.exists(rollout.id);
    const active = isActiveRollout(rollout) ? activeOf(rollout.endpoint, endingId) : undefined;
    if (active !== undefined) throw rolloutRefusals.activeExists(rollout.endpoint, active.id, active.phase);
    return { rollout: jsonFrozen(rollout), event: jsonFrozen(event) };
  }

  /** Checks an update; returns what to write. Writes nothing. */
  function prepareUpdate(rollout: Rollout, expectedRevision: number, event: RolloutEvent): { rollout: Rollout; event: RolloutEvent } {
    checkUpdate(rollout, expectedRevision, event);
    const stored = rollouts.get(rollout.id);
    if (stored === undefined) throw rolloutRefusals.notFound(rollout.id);
    if (stored.revision !== expectedRevision) throw rolloutRefusals.revisionConflict(rollout.id, expectedRevision, stored.revision);
    if (rollout.endpoint !== stored.endpoint) {
      throw rolloutRefusals.badWrite(`rollout ${rollout.id} belongs to endpoint "${stored.endpoint}", not "${rollout.endpoint}"`, { rolloutId: rollout.id });
    }
    if (isActiveRollout(rollout)) {
      const active = activeOf(rollout.endpoint, rollout.id);
      if (active !== undefined) throw rolloutRefusals.activeExists(rollout.endpoint, active.id, active.phase);
    }
    return { rollout: jsonFrozen(rollout), event: jsonFrozen(event) };
  }

  function write(next: { rollout: Rollout; event: RolloutEvent }): Rollout {
    rollouts.set(next.rollout.id, next.rollout);
    const list = events.get(next.rollout.id) ?? [];
    list.push(next.event);
    events.set(next.rollout.id, list);
    return next.rollout;
  }

  return {
    async create(rollout, event) {
      return write(prepareCreate(rollout, event));
    },

    async get(id) {
      return rollouts.get(id);
    },

    async active(endpoint) {
      return activeOf(endpoint);
    },

    async list(options) {
      const { endpoint, limit } = listOptions(options);
      return [...rollouts.values()]
        .filter((r) => endpoint === undefined || r.endpoint === endpoint)
        .sort(newestFirst)
        .slice(0, limit);
    },

    async listActive() {
      return [...rollouts.values()].filter(isActiveRollout).sort(newestFirst);
    },

    async update(rollout, expectedRevision, event) {
      return write(prepareUpdate(rollout, expectedRevision, event));
    },

    async supersede(current, next) {
      const ending = prepareUpdate(current.rollout, current.expectedRevision, current.record);
      // the new rollout may take the endpoint's slot only if the old one gives it up
      const starting = prepareCreate(next.rollout, next.record, isActiveRollout(ending.rollout) ? undefined : ending.rollout.id);
      write(ending);
      return write(starting);
    },

    async events(rolloutId, options) {
      const { afterSeq, limit } = eventsOptions(options);
      return (events.get(rolloutId) ?? []).filter((e) => e.seq > afterSeq).slice(0, limit);
    },
  };
}
