/**
 * The RolloutStore contract suite (see src/rollout/state/ports.ts). Every adapter runs it through
 * `rolloutStoreContract(name, factory)` in its own test file.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { PlatformError } from '../../../../src/core/index.js';
import { transition, type Rollout, type RolloutAction, type RolloutStore } from '../../../../src/rollout/state/index.js';
import { realFailingResult, result, SECOND, start, T0, type StrategyName } from './fixtures.js';

export interface RolloutStoreUnderTest {
  readonly store: RolloutStore;
  cleanup(): Promise<void> | void;
}

export type RolloutStoreFactory = () => Promise<RolloutStoreUnderTest> | RolloutStoreUnderTest;

async function refusal(promise: Promise<unknown>, code: string): Promise<PlatformError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PlatformError, `expected a PlatformError ${code}, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}, but the call succeeded`);
}

/** Creates a rollout in the store. */
export async function created(store: RolloutStore, name: StrategyName = 'CANARY', endpoint = 'fraud', at = T0): Promise<Rollout> {
  const { rollout, record } = start(name, { endpoint }, at);
  return store.create(rollout, record);
}

/** Applies an action and persists it; returns the stored rollout. */
export async function act(store: RolloutStore, rollout: Rollout, action: RolloutAction, at = rollout.updatedAt + SECOND): Promise<Rollout> {
  const { rollout: next, record } = transition(rollout, action, at, 'bob');
  assert.ok(record !== null, `${action.type} changed nothing`);
  return store.update(next, rollout.revision, record);
}

export function rolloutStoreContract(adapter: string, factory: RolloutStoreFactory): void {
  describe(`RolloutStore contract: ${adapter}`, () => {
    let handle: RolloutStoreUnderTest;
    let store: RolloutStore;

    beforeEach(async () => {
      handle = await factory();
      store = handle.store;
    });
    afterEach(async () => {
      await handle.cleanup();
    });

    describe('create and read', () => {
      test('stores a new rollout with its started event and reads both back unchanged', async () => {
        const { rollout, record } = start('BLUE_GREEN_MANUAL');
        const stored = await store.create(rollout, record);
        assert.deepEqual(stored, rollout);
        assert.deepEqual(await store.get(rollout.id), rollout);
        assert.deepEqual(await store.events(rollout.id), [record]);
      });

      test('keeps every field of a rollout deep into its walk: analysis state, evidence, input, fractional weight, conditions', async () => {
        let r = await created(store, 'CANARY');
        r = await act(store, r, { type: 'candidateReady' });
        r = await act(store, r, { type: 'pauseExpired' }, r.pauseUntil ?? 0);
        const input = {
          metrics: { errors: { baseline: { kind: 'rate' as const, n: 1000, successes: 10 }, candidate: { kind: 'rate' as const, n: 111, successes: 1 } } },
          traffic: { arms: ['stable', 'canary'], counts: [1000, 111], weights: [0.9, 0.1] },
        };
        r = await act(store, r, { type: 'analysisResult', run: 'step', stepIndex: 2, result: result('Inconclusive', 4), input });
        r = await act(store, r, { type: 'analysisResult', run: 'background', result: realFailingResult(), input });
        assert.equal(r.phase, 'Aborting');
        const back = await store.get(r.id);
        assert.deepEqual(back, r);
        assert.deepEqual(back?.analysis.step?.input, input);
        assert.equal(back?.analysis.background?.lastResult?.verdict, 'Fail');
        const events = await store.events(r.id);
        assert.deepEqual(events.map((e) => e.seq), [1, 2, 3, 4, 5]);
        assert.deepEqual(events.at(-1)?.evidence, (({ state: _s, ...rest }) => ({ run: 'background', ...rest }))(realFailingResult()));
      });

      test('keeps a fractional weight exactly', async () => {
        const { rollout, record } = start('CANARY');
        const stored = await store.create({ ...rollout, currentWeight: 12.345678901 }, record);
        assert.equal((await store.get(stored.id))?.currentWeight, 12.345678901);
      });

      test('reads unknown ids and endpoints as nothing', async () => {
        assert.equal(await store.get('nope'), undefined);
        assert.equal(await store.active('nope'), undefined);
        assert.deepEqual(await store.events('nope'), []);
        assert.deepEqual(await store.list(), []);
        assert.deepEqual(await store.listActive(), []);
      });

      test('refuses a second rollout with the same id', async () => {
        const first = await created(store);
        const { record } = start('CANARY', { id: first.id, endpoint: 'other' });
        await refusal(store.create({ ...first, endpoint: 'other' }, record), 'ROLLOUT_STATE_EXISTS');
        assert.equal((await store.get(first.id))?.endpoint, 'fraud');
      });

      test('returns frozen snapshots that cannot change the store', async () => {
        const r = await created(store);
        const read = await store.get(r.id);
        assert.ok(read !== undefined && Object.isFrozen(read) && Object.isFrozen(read.conditions[0]));
        assert.throws(() => {
          (read as { phase: string }).phase = 'Aborted';
        }, TypeError);
        assert.equal((await store.get(r.id))?.phase, 'Progressing');
      });
    });

    describe('one active rollout per endpoint', () => {
      test('refuses a second unfinished rollout for the same endpoint, naming the running one', async () => {
        const first = await created(store, 'CANARY', 'fraud');
        const { rollout, record } = start('SHADOW', { endpoint: 'fraud' }, T0 + SECOND);
        const error = await refusal(store.create(rollout, record), 'ROLLOUT_STATE_ACTIVE_EXISTS');
        assert.equal(error.kind, 'conflict');
        assert.match(error.message, new RegExp(first.id));
        assert.equal(await store.get(rollout.id), undefined);
        assert.deepEqual(await store.events(rollout.id), []);
      });

      test('allows rollouts on other endpoints, and a new one once the first has finished', async () => {
        let first = await created(store, 'CANARY', 'fraud');
        await created(store, 'CANARY', 'churn');
        first = await act(store, first, { type: 'abort' });
        await refusal(created(store, 'CANARY', 'fraud', T0 + 10 * SECOND), 'ROLLOUT_STATE_ACTIVE_EXISTS');
        first = await act(store, first, { type: 'finalized' });
        assert.equal(first.phase, 'Aborted');
        const second = await created(store, 'SHADOW', 'fraud', T0 + 20 * SECOND);
        assert.equal((await store.active('fraud'))?.id, second.id);
      });

      test('lists the active rollouts of every endpoint, newest first, and nothing finished', async () => {
        const a = await created(store, 'CANARY', 'a', T0);
        const b = await created(store, 'SHADOW', 'b', T0 + SECOND);
        const c = await created(store, 'EXPERIMENT', 'c', T0 + 2 * SECOND);
        await act(store, await act(store, b, { type: 'abort' }), { type: 'finalized' });
        const promoting = await act(store, a, { type: 'promote', full: true });
        assert.deepEqual((await store.listActive()).map((r) => r.id), [c.id, a.id]);
        assert.deepEqual(await store.active('a'), promoting, 'Promoting is unfinished: a restart must finish it');
        assert.equal(await store.active('b'), undefined);
      });
    });

    describe('update', () => {
      test('replaces the state and appends the event when the revision matches', async () => {
        const r = await created(store);
        const { rollout: next, record } = transition(r, { type: 'pause', message: 'looking at dashboards' }, T0 + SECOND, 'bob');
        assert.ok(record);
        const stored = await store.update(next, r.revision, record);
        assert.deepEqual(stored, next);
        assert.deepEqual(await store.get(r.id), next);
        const events = await store.events(r.id);
        assert.deepEqual(events.at(-1), record);
        assert.deepEqual([events.at(-1)?.actor, events.at(-1)?.reason, events.at(-1)?.at], ['bob', 'PausedByUser', T0 + SECOND]);
      });

      test('refuses a stale revision and writes nothing', async () => {
        const r = await created(store);
        const moved = await act(store, r, { type: 'pause' });
        const { rollout: stale, record } = transition(r, { type: 'abort' }, T0 + 5 * SECOND, 'carol');
        assert.ok(record);
        const error = await refusal(store.update(stale, r.revision, record), 'ROLLOUT_STATE_REVISION_CONFLICT');
        assert.deepEqual(error.details, { rolloutId: r.id, expectedRevision: 1, actualRevision: 2 });
        assert.deepEqual(await store.get(r.id), moved);
        assert.equal((await store.events(r.id)).length, 2);
      });

      test('lets exactly one of two concurrent updates from the same revision win', async () => {
        const r = await created(store);
        const a = transition(r, { type: 'abort' }, T0 + SECOND, 'bob');
        const b = transition(r, { type: 'promote', full: true }, T0 + SECOND, 'carol');
        assert.ok(a.record && b.record);
        const outcomes = await Promise.allSettled([store.update(a.rollout, 1, a.record), store.update(b.rollout, 1, b.record)]);
        assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected']);
        const rejected = outcomes.find((o) => o.status === 'rejected');
        assert.equal((rejected?.reason as PlatformError).code, 'ROLLOUT_STATE_REVISION_CONFLICT');
        const events = await store.events(r.id);
        assert.equal(events.length, 2);
        assert.equal((await store.get(r.id))?.phase, events[1]?.toPhase);
      });

      test('refuses an unknown rollout', async () => {
        const { rollout } = start('CANARY');
        const { rollout: next, record } = transition(rollout, { type: 'abort' }, T0 + 1, 'bob');
        assert.ok(record);
        await refusal(store.update(next, 1, record), 'ROLLOUT_STATE_NOT_FOUND');
      });

      test('refuses writes whose event, revision or endpoint do not fit the rollout', async () => {
        const r = await created(store);
        const other = await created(store, 'CANARY', 'other');
        const { rollout: next, record } = transition(r, { type: 'abort' }, T0 + 1, 'bob');
        assert.ok(record);
        await refusal(store.update(next, 1, { ...record, rolloutId: other.id }), 'ROLLOUT_STATE_BAD_WRITE');
        await refusal(store.update(next, 1, { ...record, seq: 3 }), 'ROLLOUT_STATE_BAD_WRITE');
        await refusal(store.update({ ...next, revision: 5 }, 1, { ...record, seq: 5 }), 'ROLLOUT_STATE_BAD_WRITE');
        await refusal(store.update({ ...next, endpoint: 'moved' }, 1, record), 'ROLLOUT_STATE_BAD_WRITE');
        await refusal(store.update(next, 1, { ...record, toPhase: 'Promoting' }), 'ROLLOUT_STATE_BAD_WRITE');
        const { rollout: fresh, record: startedEvent } = start('CANARY', { endpoint: 'x' });
        await refusal(store.create({ ...fresh, revision: 2 }, startedEvent), 'ROLLOUT_STATE_BAD_WRITE');
        assert.deepEqual(await store.get(r.id), r);
        assert.equal((await store.events(r.id)).length, 1);
      });
    });

    describe('supersede', () => {
      test('ends the running rollout and starts its replacement in one step', async () => {
        const old = await created(store, 'CANARY', 'fraud');
        const next = start('CANARY', { endpoint: 'fraud' }, T0 + 10 * SECOND);
        const ended = transition(old, { type: 'superseded', by: next.rollout.id }, T0 + 10 * SECOND, 'controller');
        assert.ok(ended.record);
        const stored = await store.supersede({ rollout: ended.rollout, expectedRevision: old.revision, record: ended.record }, next);
        assert.deepEqual(stored, next.rollout);
        assert.deepEqual(await store.get(old.id), ended.rollout);
        assert.equal((await store.get(old.id))?.supersededBy, next.rollout.id);
        assert.equal((await store.active('fraud'))?.id, next.rollout.id);
        assert.deepEqual((await store.events(old.id)).map((e) => e.reason), ['RolloutStarted', 'Superseded']);
      });

      test('writes nothing when the replacement is refused', async () => {
        const old = await created(store, 'CANARY', 'fraud');
        const taken = await created(store, 'CANARY', 'other');
        const next = start('CANARY', { endpoint: 'fraud', id: taken.id }, T0 + 10 * SECOND);
        const ended = transition(old, { type: 'superseded', by: next.rollout.id }, T0 + 10 * SECOND, 'controller');
        assert.ok(ended.record);
        await refusal(store.supersede({ rollout: ended.rollout, expectedRevision: 1, record: ended.record }, next), 'ROLLOUT_STATE_EXISTS');
        assert.deepEqual(await store.get(old.id), old);
        assert.equal((await store.events(old.id)).length, 1);
      });

      test('refuses a replacement while the old rollout would stay active', async () => {
        const old = await created(store, 'CANARY', 'fraud');
        const next = start('CANARY', { endpoint: 'fraud' }, T0 + 10 * SECOND);
        const paused = transition(old, { type: 'pause' }, T0 + 10 * SECOND, 'bob');
        assert.ok(paused.record);
        await refusal(store.supersede({ rollout: paused.rollout, expectedRevision: 1, record: paused.record }, next), 'ROLLOUT_STATE_ACTIVE_EXISTS');
        assert.deepEqual(await store.get(old.id), old);
        assert.equal(await store.get(next.rollout.id), undefined);
      });
    });

    describe('lists and histories', () => {
      test('lists rollouts newest first, by endpoint, up to a limit', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          let r = await created(store, 'CANARY', i % 2 === 0 ? 'even' : 'odd', T0 + i * SECOND);
          ids.push(r.id);
          r = await act(store, r, { type: 'abort' });
          await act(store, r, { type: 'finalized' });
        }
        assert.deepEqual((await store.list()).map((r) => r.id), [...ids].reverse());
        assert.deepEqual((await store.list({ endpoint: 'even' })).map((r) => r.id), [ids[4], ids[2], ids[0]]);
        assert.deepEqual((await store.list({ limit: 2 })).map((r) => r.id), [ids[4], ids[3]]);
        await refusal(store.list({ limit: 0 }), 'ROLLOUT_STATE_INVALID_INPUT');
        await refusal(store.list({ limit: 1.5 }), 'ROLLOUT_STATE_INVALID_INPUT');
      });

      test('pages through events by seq', async () => {
        let r = await created(store);
        for (let i = 0; i < 6; i++) r = await act(store, r, { type: i % 2 === 0 ? 'pause' : 'resume' });
        const all = await store.events(r.id);
        assert.deepEqual(all.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7]);
        assert.deepEqual((await store.events(r.id, { afterSeq: 2, limit: 3 })).map((e) => e.seq), [3, 4, 5]);
        assert.deepEqual((await store.events(r.id, { afterSeq: 7 })).map((e) => e.seq), []);
        await refusal(store.events(r.id, { afterSeq: -1 }), 'ROLLOUT_STATE_INVALID_INPUT');
        assert.deepEqual(all.map((e) => e.seq), all.map((e, i) => (i === 0 ? 1 : all[i - 1]!.seq + 1)), 'no gaps');
      });
    });
  });
}
