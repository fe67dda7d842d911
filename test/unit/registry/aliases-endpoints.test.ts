import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { EndpointChange } from '../../../src/registry/index.js';
import { ALICE, createHarness, refused, type Harness } from './harness.js';

const MINUTE = 60_000;

describe('registry: aliases', () => {
  let h: Harness;
  beforeEach(async () => {
    h = createHarness();
    await h.push('fraud', 'v1');
    await h.push('fraud', 'v2');
    await h.push('fraud', 'v3');
  });
  afterEach(() => h.cleanup());

  test('sets and moves an alias, keeping who, when, from, to and why', async () => {
    const created = await h.registry.setAlias('fraud', 'production', 1, { by: 'alice', reason: 'first release' });
    assert.deepEqual(created, { model: 'fraud', alias: 'production', version: 1, updatedAt: '2026-03-03T12:00:00.000Z', updatedBy: 'alice' });
    await h.clock.advance(5 * MINUTE);
    await h.registry.setAlias('fraud', 'production', 3, { by: 'bob', reason: 'better auc' });
    assert.equal((await h.registry.getAlias('fraud', 'production')).version, 3);
    const history = await h.registry.aliasHistory('fraud', 'production');
    assert.deepEqual(
      history.map(({ from, to, at, by, reason }) => ({ from, to, at, by, reason })),
      [
        { from: null, to: 1, at: '2026-03-03T12:00:00.000Z', by: 'alice', reason: 'first release' },
        { from: 1, to: 3, at: '2026-03-03T12:05:00.000Z', by: 'bob', reason: 'better auc' },
      ],
    );
  });

  test('does not add history when an alias is set to the version it already has', async () => {
    await h.registry.setAlias('fraud', 'production', 2, ALICE);
    await h.registry.setAlias('fraud', 'production', 2, { by: 'bob', reason: 'again' });
    assert.equal((await h.registry.aliasHistory('fraud', 'production')).length, 1);
  });

  test('refuses an alias to a version that does not exist', async () => {
    const error = await refused(h.registry.setAlias('fraud', 'production', 4, ALICE), 'REGISTRY_VERSION_NOT_FOUND');
    assert.match(error.message, /no version 4 \(its latest version is 3\)/);
    await refused(h.registry.setAlias('nope', 'production', 1, ALICE), 'REGISTRY_MODEL_NOT_FOUND');
    await refused(h.registry.getAlias('fraud', 'production'), 'REGISTRY_ALIAS_NOT_FOUND');
  });

  test('refuses an alias name that is not a DNS label', async () => {
    const error = await refused(h.registry.setAlias('fraud', 'Production', 1, ALICE), 'REGISTRY_INVALID_NAME');
    assert.equal(error.details?.field, 'alias');
  });

  test('lists aliases of a model', async () => {
    await h.registry.setAlias('fraud', 'staging', 3, ALICE);
    await h.registry.setAlias('fraud', 'production', 2, ALICE);
    assert.deepEqual(
      (await h.registry.listAliases('fraud')).map((a) => `${a.alias}=${a.version}`),
      ['production=2', 'staging=3'],
    );
    await refused(h.registry.listAliases('nope'), 'REGISTRY_MODEL_NOT_FOUND');
  });

  test('answers which version an alias pointed to at a time, including before it existed and after it was deleted', async () => {
    await h.clock.advance(10 * MINUTE); // 12:10
    await h.registry.setAlias('fraud', 'production', 1, ALICE);
    await h.clock.advance(10 * MINUTE); // 12:20
    await h.registry.setAlias('fraud', 'production', 2, ALICE);
    await h.clock.advance(10 * MINUTE); // 12:30
    await h.registry.deleteAlias('fraud', 'production', ALICE);
    const at = (time: string) => h.registry.aliasAt('fraud', 'production', time);
    assert.equal(await at('2026-03-03T12:05:00Z'), null);
    assert.equal(await at('2026-03-03T12:10:00Z'), 1);
    assert.equal(await at('2026-03-03T12:19:59.999Z'), 1);
    assert.equal(await at('2026-03-03T12:25:00.000Z'), 2);
    assert.equal(await at('2026-03-03T13:25:00+01:00'), 2); // the same instant, another zone
    assert.equal(await at('2026-03-03T12:25'), 2); // no offset: UTC
    assert.equal(await at('2026-03-03T12:31:00Z'), null);
    assert.equal(await at('2026-03-02'), null);
  });

  test('refuses a time that is not ISO-8601, and an alias that never existed', async () => {
    await h.registry.setAlias('fraud', 'production', 1, ALICE);
    for (const bad of ['yesterday', '3 March 2026', '2026-13-45T00:00:00Z', '']) {
      const error = await refused(h.registry.aliasAt('fraud', 'production', bad), 'REGISTRY_INVALID_FIELD');
      assert.match(error.message, /^at: must be an ISO-8601 time/);
    }
    await refused(h.registry.aliasAt('fraud', 'canary', '2026-03-03T12:00:00Z'), 'REGISTRY_ALIAS_NOT_FOUND');
    await refused(h.registry.aliasHistory('fraud', 'canary'), 'REGISTRY_ALIAS_NOT_FOUND');
  });

  test('deletes an alias, keeping its history', async () => {
    await h.registry.setAlias('fraud', 'staging', 2, ALICE);
    await h.registry.deleteAlias('fraud', 'staging', { by: 'bob', reason: 'retired' });
    await refused(h.registry.getAlias('fraud', 'staging'), 'REGISTRY_ALIAS_NOT_FOUND');
    const history = await h.registry.aliasHistory('fraud', 'staging');
    assert.deepEqual(history.at(-1) && { from: history.at(-1)?.from, to: history.at(-1)?.to, by: history.at(-1)?.by }, { from: 2, to: null, by: 'bob' });
    await refused(h.registry.deleteAlias('fraud', 'staging', ALICE), 'REGISTRY_ALIAS_NOT_FOUND');
  });

  test('refuses to delete an alias that endpoints follow, naming them', async () => {
    await h.registry.setAlias('fraud', 'production', 2, ALICE);
    await h.registry.createEndpoint('web', { kind: 'alias', model: 'fraud', alias: 'production' }, ALICE);
    await h.registry.createEndpoint('batch', { kind: 'alias', model: 'fraud', alias: 'production' }, ALICE);
    const error = await refused(h.registry.deleteAlias('fraud', 'production', ALICE), 'REGISTRY_ALIAS_IN_USE');
    assert.equal(error.kind, 'conflict');
    assert.match(error.message, /endpoints "batch", "web" follow it/);
    assert.equal((await h.registry.getAlias('fraud', 'production')).version, 2);
  });
});

describe('registry: endpoints', () => {
  let h: Harness;
  let changes: EndpointChange[];
  beforeEach(async () => {
    h = createHarness();
    await h.push('fraud', 'v1');
    await h.push('fraud', 'v2');
    await h.push('fraud', 'v3');
    changes = [];
    h.registry.onEndpointChange((change) => changes.push(change));
  });
  afterEach(() => h.cleanup());

  test('creates an endpoint on a pinned version and tells listeners', async () => {
    const endpoint = await h.registry.createEndpoint('fraud', { kind: 'version', model: 'fraud', version: 2 }, { by: 'alice', reason: 'launch', description: 'card fraud' });
    assert.deepEqual(endpoint, {
      name: 'fraud',
      description: 'card fraud',
      target: { kind: 'version', model: 'fraud', version: 2 },
      model: 'fraud',
      version: 2,
      createdAt: '2026-03-03T12:00:00.000Z',
      updatedAt: '2026-03-03T12:00:00.000Z',
    });
    assert.equal(changes.length, 1);
    assert.equal(changes[0]?.endpoint, 'fraud');
    assert.deepEqual(changes[0]?.event.to, { target: endpoint.target, model: 'fraud', version: 2 });
    assert.equal(changes[0]?.event.by, 'alice');
    assert.equal(changes[0]?.event.reason, 'launch');
  });

  test('resolves an alias target to the alias’s version', async () => {
    await h.registry.setAlias('fraud', 'production', 3, ALICE);
    const endpoint = await h.registry.createEndpoint('api', { kind: 'alias', model: 'fraud', alias: 'production' }, ALICE);
    assert.equal(endpoint.version, 3);
    assert.deepEqual(endpoint.target, { kind: 'alias', model: 'fraud', alias: 'production' });
  });

  test('refuses a duplicate endpoint as a conflict', async () => {
    await h.registry.createEndpoint('api', { kind: 'version', model: 'fraud', version: 1 }, ALICE);
    const error = await refused(h.registry.createEndpoint('api', { kind: 'version', model: 'fraud', version: 2 }, ALICE), 'REGISTRY_ENDPOINT_EXISTS');
    assert.equal(error.kind, 'conflict');
    assert.equal((await h.registry.getEndpoint('api')).version, 1);
    assert.equal(changes.length, 1);
  });

  test('refuses targets that do not exist or are malformed', async () => {
    await refused(h.registry.createEndpoint('api', { kind: 'version', model: 'fraud', version: 9 }, ALICE), 'REGISTRY_VERSION_NOT_FOUND');
    await refused(h.registry.createEndpoint('api', { kind: 'alias', model: 'fraud', alias: 'production' }, ALICE), 'REGISTRY_ALIAS_NOT_FOUND');
    await refused(h.registry.createEndpoint('api', { kind: 'version', model: 'nope', version: 1 }, ALICE), 'REGISTRY_MODEL_NOT_FOUND');
    const badKind = await refused(
      h.registry.createEndpoint('api', { kind: 'latest', model: 'fraud' } as unknown as { kind: 'version'; model: string; version: number }, ALICE),
      'REGISTRY_INVALID_FIELD',
    );
    assert.match(badKind.message, /target\.kind: must be "version" or "alias"/);
    const badName = await refused(h.registry.createEndpoint('API', { kind: 'version', model: 'fraud', version: 1 }, ALICE), 'REGISTRY_INVALID_NAME');
    assert.equal(badName.details?.field, 'endpoint');
    const badModel = await refused(h.registry.createEndpoint('api', { kind: 'version', model: 'Fraud', version: 1 }, ALICE), 'REGISTRY_INVALID_NAME');
    assert.equal(badModel.details?.field, 'target.model');
    assert.deepEqual(await h.registry.listEndpoints(), []);
    assert.deepEqual(changes, []);
  });

  test('re-points an endpoint and records the change', async () => {
    await h.registry.createEndpoint('api', { kind: 'version', model: 'fraud', version: 1 }, ALICE);
    await h.clock.advance(MINUTE);
    const updated = await h.registry.updateEndpoint('api', { kind: 'version', model: 'fraud', version: 2 }, { by: 'bob', reason: 'hotfix' });
    assert.equal(updated.version, 2);
    assert.equal(updated.updatedAt, '2026-03-03T12:01:00.000Z');
    const history = await h.registry.endpointHistory('api');
    assert.deepEqual(
      history.map((e) => [e.from?.version ?? null, e.to?.version ?? null, e.by, e.reason]),
      [
        [null, 1, 'alice', 'testing'],
        [1, 2, 'bob', 'hotfix'],
      ],
    );
    assert.deepEqual(
      changes.map((c) => c.event.seq),
      history.map((e) => e.seq),
    );
  });

  test('treats an update to the same target as a no-op: no history, no notification', async () => {
    await h.registry.setAlias('fraud', 'production', 2, ALICE);
    await h.registry.createEndpoint('api', { kind: 'alias', model: 'fraud', alias: 'production' }, ALICE);
    const same = await h.registry.updateEndpoint('api', { kind: 'alias', model: 'fraud', alias: 'production' }, { by: 'bob' });
    assert.equal(same.version, 2);
    assert.equal((await h.registry.endpointHistory('api')).length, 1);
    assert.equal(changes.length, 1);
  });

  test('moves every endpoint following an alias when the alias moves, with the move as the reason', async () => {
    await h.registry.setAlias('fraud', 'production', 2, ALICE);
    await h.registry.createEndpoint('web', { kind: 'alias', model: 'fraud', alias: 'production' }, ALICE);
    await h.registry.createEndpoint('batch', { kind: 'alias', model: 'fraud', alias: 'production' }, ALICE);
    await h.registry.createEndpoint('pinned', { kind: 'version', model: 'fraud', version: 2 }, ALICE);
    changes.length = 0;

    const seenInsideListener: number[] = [];
    h.registry.onEndpointChange((change) => {
      // a listener runs after the commit: the registry already reads the new state
      void h.registry.getEndpoint(change.endpoint).then((e) => seenInsideListener.push(e.version));
    });
    await h.registry.setAlias('fraud', 'production', 3, { by: 'carol', reason: 'better auc' });

    assert.deepEqual(
      changes.map((c) => [c.endpoint, c.event.from?.version, c.event.to?.version, c.event.by, c.event.reason]),
      [
        ['batch', 2, 3, 'carol', 'alias production moved 2 → 3: better auc'],
        ['web', 2, 3, 'carol', 'alias production moved 2 → 3: better auc'],
      ],
    );
    assert.equal((await h.registry.getEndpoint('web')).version, 3);
    assert.equal((await h.registry.getEndpoint('pinned')).version, 2);
    assert.deepEqual(seenInsideListener, [3, 3]);
    assert.equal((await h.registry.endpointHistory('web')).at(-1)?.reason, 'alias production moved 2 → 3: better auc');
  });

  test('leaves the reason at the move itself when none was given', async () => {
    await h.registry.setAlias('fraud', 'production', 1, ALICE);
    await h.registry.createEndpoint('web', { kind: 'alias', model: 'fraud', alias: 'production' }, ALICE);
    await h.registry.setAlias('fraud', 'production', 2, { by: 'carol' });
    assert.equal(changes.at(-1)?.event.reason, 'alias production moved 1 → 2');
  });

  test('keeps working when a listener throws, and still tells the other listeners', async () => {
    h.registry.onEndpointChange(() => {
      throw new Error('listener bug');
    });
    const after: string[] = [];
    h.registry.onEndpointChange((change) => after.push(change.endpoint));
    const endpoint = await h.registry.createEndpoint('api', { kind: 'version', model: 'fraud', version: 1 }, ALICE);
    assert.equal(endpoint.version, 1);
    assert.deepEqual(after, ['api']);
    assert.equal((await h.registry.getEndpoint('api')).version, 1);
    const logged = h.logs.find((l) => l.level === 'error');
    assert.ok(logged);
    assert.equal(logged.obj.endpoint, 'api');
    assert.match(String(logged.obj.err), /listener bug/);
  });

  test('catches a rejecting async listener instead of leaving an unhandled rejection', async () => {
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the misuse is what this test guards against
    h.registry.onEndpointChange(async () => {
      await Promise.resolve();
      throw new Error('async listener bug');
    });
    await h.registry.createEndpoint('api', { kind: 'version', model: 'fraud', version: 1 }, ALICE);
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.ok(h.logs.some((l) => l.level === 'error' && /async listener bug/.test(String(l.obj.err))));
  });

  test('stops calling a listener once it unsubscribes', async () => {
    const calls: string[] = [];
    const unsubscribe = h.registry.onEndpointChange((c) => calls.push(c.endpoint));
    await h.registry.createEndpoint('one', { kind: 'version', model: 'fraud', version: 1 }, ALICE);
    unsubscribe();
    await h.registry.createEndpoint('two', { kind: 'version', model: 'fraud', version: 1 }, ALICE);
    assert.deepEqual(calls, ['one']);
  });

  test('deletes an endpoint, tells listeners, and keeps its history', async () => {
    await h.registry.createEndpoint('api', { kind: 'version', model: 'fraud', version: 1 }, ALICE);
    await h.registry.deleteEndpoint('api', { by: 'bob', reason: 'sunset' });
    await refused(h.registry.getEndpoint('api'), 'REGISTRY_ENDPOINT_NOT_FOUND');
    assert.equal(changes.at(-1)?.event.to, null);
    assert.equal(changes.at(-1)?.event.reason, 'sunset');
    assert.equal((await h.registry.endpointHistory('api')).length, 2);
    await refused(h.registry.deleteEndpoint('api', ALICE), 'REGISTRY_ENDPOINT_NOT_FOUND');
    await refused(h.registry.endpointHistory('never'), 'REGISTRY_ENDPOINT_NOT_FOUND');
    await refused(h.registry.updateEndpoint('api', { kind: 'version', model: 'fraud', version: 2 }, ALICE), 'REGISTRY_ENDPOINT_NOT_FOUND');
  });

  test('lists endpoints by name', async () => {
    await h.registry.createEndpoint('zulu', { kind: 'version', model: 'fraud', version: 1 }, ALICE);
    await h.registry.createEndpoint('alpha', { kind: 'version', model: 'fraud', version: 2 }, ALICE);
    assert.deepEqual(
      (await h.registry.listEndpoints()).map((e) => e.name),
      ['alpha', 'zulu'],
    );
  });
});
