/**
 * The RegistryStore contract suite (see src/registry/ports.ts). Every adapter runs it through
 * `registryStoreContract(name, factory)` in its own test file.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { PlatformError } from '../../../src/core/index.js';
import type { ModelSignature } from '../../../src/core/index.js';
import type { EndpointTarget, NewModel, NewVersion, OnnxFacts, RegistryStore, VersionSignature } from '../../../src/registry/index.js';

export interface StoreUnderTest {
  readonly store: RegistryStore;
  /** Releases the store (closes databases, removes temp files). */
  cleanup(): Promise<void> | void;
}

export type StoreFactory = () => Promise<StoreUnderTest> | StoreUnderTest;

const SIGNATURE: ModelSignature = {
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4], dimNames: ['batch', null] }],
  outputs: [
    { name: 'label', datatype: 'INT64', shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
  ],
};

const ONNX: OnnxFacts = {
  irVersion: 8,
  producerName: 'slipway-test',
  producerVersion: '1',
  opsets: [
    { domain: '', version: 17 },
    { domain: 'ai.onnx.ml', version: 3 },
  ],
  nodeCount: 3,
  initializerCount: 2,
  initializerBytes: 40,
};

export function at(minute: number): string {
  return new Date(Date.UTC(2026, 2, 3, 12, minute)).toISOString();
}

/** A well-formed digest standing for some artifact `n`. */
export function digestOf(n: number | string): string {
  return `sha256:${createHash('sha256').update(String(n)).digest('hex')}`;
}

export function modelInput(name: string, overrides: Partial<NewModel> = {}): NewModel {
  return { name, description: `the ${name} model`, owner: 'alice', createdAt: at(0), createdBy: 'alice', ...overrides };
}

export function versionInput(model: string, digest: string, overrides: Partial<NewVersion> = {}): NewVersion {
  return {
    model,
    digest,
    sizeBytes: 1234,
    signature: SIGNATURE,
    onnx: ONNX,
    description: '',
    tags: {},
    lineage: {},
    createdAt: at(1),
    createdBy: 'alice',
    createModel: { description: '', owner: 'alice', createdAt: at(1), createdBy: 'alice' },
    ...overrides,
  };
}

const stamp = (minute: number, reason = '') => ({ at: at(minute), by: 'bob', reason });
const follower = (from: number, to: number): string => `moved ${from} → ${to}`;

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

/** Registers the contract's tests for one adapter. */
export function registryStoreContract(adapter: string, factory: StoreFactory): void {
  describe(`RegistryStore contract: ${adapter}`, () => {
    let handle: StoreUnderTest;
    let store: RegistryStore;

    beforeEach(async () => {
      handle = await factory();
      store = handle.store;
    });
    afterEach(async () => {
      await handle.cleanup();
    });

    /** Model `m` with versions 1..n. */
    async function seed(model: string, n: number): Promise<void> {
      for (let i = 1; i <= n; i++) await store.insertVersion(versionInput(model, digestOf(`${model}${i}`)));
    }

    describe('models', () => {
      test('creates a model and reads it back with no versions', async () => {
        const created = await store.createModel(modelInput('fraud'));
        const expected = { name: 'fraud', description: 'the fraud model', owner: 'alice', createdAt: at(0), createdBy: 'alice', latestVersion: 0 };
        assert.deepEqual(created, expected);
        assert.deepEqual(await store.getModel('fraud'), expected);
      });

      test('refuses a second model with the same name', async () => {
        await store.createModel(modelInput('fraud'));
        const error = await refusal(store.createModel(modelInput('fraud', { owner: 'eve' })), 'REGISTRY_MODEL_EXISTS');
        assert.equal(error.kind, 'conflict');
        assert.equal((await store.getModel('fraud'))?.owner, 'alice');
      });

      test('reads an unknown model as undefined', async () => {
        assert.equal(await store.getModel('nope'), undefined);
      });

      test('lists models sorted by name with their latest version', async () => {
        await store.createModel(modelInput('zeta'));
        await seed('alpha', 2);
        await store.createModel(modelInput('mid'));
        const models = await store.listModels();
        assert.deepEqual(
          models.map((m) => [m.name, m.latestVersion]),
          [
            ['alpha', 2],
            ['mid', 0],
            ['zeta', 0],
          ],
        );
      });
    });

    describe('versions', () => {
      test('numbers versions 1, 2, 3 per model, independently across models', async () => {
        const a1 = await store.insertVersion(versionInput('a', digestOf(1)));
        const b1 = await store.insertVersion(versionInput('b', digestOf(2)));
        const a2 = await store.insertVersion(versionInput('a', digestOf(3)));
        const a3 = await store.insertVersion(versionInput('a', digestOf(4)));
        assert.deepEqual(
          [a1, b1, a2, a3].map((r) => [r.version.model, r.version.version, r.created]),
          [
            ['a', 1, true],
            ['b', 1, true],
            ['a', 2, true],
            ['a', 3, true],
          ],
        );
        assert.equal((await store.getModel('a'))?.latestVersion, 3);
      });

      test('keeps every field of a version exactly as given', async () => {
        const input = versionInput('fraud', digestOf(7), {
          sizeBytes: 987_654_321,
          description: 'gradient boosted, ünïcode ✓',
          tags: { team: 'risk', 'stage.env/name': 'prod' },
          createdBy: 'carol',
          createdAt: at(9),
        });
        await store.insertVersion(versionInput('fraud', digestOf(6)));
        const { version } = await store.insertVersion({
          ...input,
          lineage: { parentVersion: 1, dataDigest: 'sha256:data', metrics: { accuracy: 0.975, rmse: 1e-9, n: 1000 } },
        });
        const expected = {
          model: 'fraud',
          version: 2,
          digest: digestOf(7),
          sizeBytes: 987_654_321,
          signature: SIGNATURE,
          onnx: ONNX,
          description: 'gradient boosted, ünïcode ✓',
          tags: { team: 'risk', 'stage.env/name': 'prod' },
          lineage: { parentVersion: 1, dataDigest: 'sha256:data', metrics: { accuracy: 0.975, rmse: 1e-9, n: 1000 } },
          createdAt: at(9),
          createdBy: 'carol',
        };
        assert.deepEqual(version, expected);
        assert.deepEqual(await store.getVersion('fraud', 2), expected);
        assert.deepEqual(await store.findVersionByDigest('fraud', digestOf(7)), expected);
      });

      test('returns the existing version for a digest the model already has, without a new number', async () => {
        await store.insertVersion(versionInput('fraud', digestOf(1)));
        await store.insertVersion(versionInput('fraud', digestOf(2)));
        const again = await store.insertVersion(versionInput('fraud', digestOf(1), { description: 'different text' }));
        assert.equal(again.created, false);
        assert.equal(again.version.version, 1);
        assert.equal(again.version.description, '');
        assert.equal((await store.listVersions('fraud')).length, 2);
      });

      test('gives the same digest its own version in another model', async () => {
        await store.insertVersion(versionInput('a', digestOf(1)));
        const b = await store.insertVersion(versionInput('b', digestOf(1)));
        assert.equal(b.created, true);
        assert.equal(b.version.model, 'b');
      });

      test('refuses a version of an unknown model unless asked to create it', async () => {
        const { createModel: _omit, ...withoutCreate } = versionInput('ghost', digestOf(1));
        await refusal(store.insertVersion(withoutCreate), 'REGISTRY_MODEL_NOT_FOUND');
        assert.equal(await store.getModel('ghost'), undefined);
      });

      test('creates the model with the first version, and ignores createModel once it exists', async () => {
        await store.insertVersion(
          versionInput('fraud', digestOf(1), { createModel: { description: 'first', owner: 'dave', createdAt: at(5), createdBy: 'dave' } }),
        );
        await store.insertVersion(
          versionInput('fraud', digestOf(2), { createModel: { description: 'second', owner: 'erin', createdAt: at(6), createdBy: 'erin' } }),
        );
        assert.deepEqual(await store.getModel('fraud'), {
          name: 'fraud',
          description: 'first',
          owner: 'dave',
          createdAt: at(5),
          createdBy: 'dave',
          latestVersion: 2,
        });
      });

      test('refuses an unknown parent version and writes nothing, not even the model', async () => {
        await refusal(store.insertVersion(versionInput('fresh', digestOf(1), { lineage: { parentVersion: 1 } })), 'REGISTRY_PARENT_NOT_FOUND');
        assert.equal(await store.getModel('fresh'), undefined);
        await seed('fraud', 1);
        await refusal(store.insertVersion(versionInput('fraud', digestOf(9), { lineage: { parentVersion: 2 } })), 'REGISTRY_PARENT_NOT_FOUND');
        assert.equal((await store.listVersions('fraud')).length, 1);
        const ok = await store.insertVersion(versionInput('fraud', digestOf(9), { lineage: { parentVersion: 1 } }));
        assert.equal(ok.version.version, 2);
      });

      test('gives concurrent inserts distinct, gap-free numbers', async () => {
        const results = await Promise.all(Array.from({ length: 25 }, (_, i) => store.insertVersion(versionInput('race', digestOf(100 + i)))));
        const numbers = results.map((r) => r.version.version).sort((a, b) => a - b);
        assert.deepEqual(numbers, Array.from({ length: 25 }, (_, i) => i + 1));
        assert.ok(results.every((r) => r.created));
      });

      test('stores a digest pushed concurrently once', async () => {
        const results = await Promise.all(Array.from({ length: 5 }, () => store.insertVersion(versionInput('race', digestOf(1)))));
        assert.equal(results.filter((r) => r.created).length, 1);
        assert.ok(results.every((r) => r.version.version === 1));
        assert.equal((await store.listVersions('race')).length, 1);
      });

      test('lists versions by number and reads missing ones as undefined', async () => {
        await seed('fraud', 3);
        assert.deepEqual(
          (await store.listVersions('fraud')).map((v) => v.version),
          [1, 2, 3],
        );
        assert.deepEqual(await store.listVersions('nope'), []);
        assert.equal(await store.getVersion('fraud', 4), undefined);
        assert.equal(await store.getVersion('nope', 1), undefined);
        assert.equal(await store.findVersionByDigest('fraud', digestOf('x')), undefined);
      });

      test('hands out snapshots that cannot change the stored version', async () => {
        await seed('fraud', 1);
        const read = await store.getVersion('fraud', 1);
        assert.ok(read);
        try {
          (read.tags as Record<string, string>).sneaky = 'yes';
          (read as { description: string }).description = 'changed';
        } catch {
          // a frozen snapshot refuses the write: also fine
        }
        const again = await store.getVersion('fraud', 1);
        assert.deepEqual(again?.tags, {});
        assert.equal(again?.description, '');
      });
    });

    describe('artifact signatures', () => {
      const signed = (digest: string, keyId = 'ed25519:0123456789abcdef'): VersionSignature => ({
        digest,
        model: 'fraud',
        metadata: { stage: 'prod', size: 3 },
        algorithm: 'ed25519',
        keyId,
        signedAt: at(2),
        signature: `${'A'.repeat(86)}==`,
      });

      test('keeps a signature inserted with the version, and none on an unsigned one', async () => {
        const { version } = await store.insertVersion(versionInput('fraud', digestOf(1), { artifactSignature: signed(digestOf(1)) }));
        assert.deepEqual(version.artifactSignature, signed(digestOf(1)));
        assert.deepEqual((await store.getVersion('fraud', 1))?.artifactSignature, signed(digestOf(1)));
        const plain = await store.insertVersion(versionInput('fraud', digestOf(2)));
        assert.equal('artifactSignature' in plain.version, false);
        assert.equal('artifactSignature' in ((await store.getVersion('fraud', 2)) ?? {}), false);
      });

      test('attaches a signature to an existing version, replaces it, and changes nothing else', async () => {
        await seed('fraud', 2);
        const before = await store.getVersion('fraud', 2);
        const first = await store.setVersionSignature('fraud', 2, signed(digestOf('fraud2')));
        assert.deepEqual(first, { ...before, artifactSignature: signed(digestOf('fraud2')) });
        const second = await store.setVersionSignature('fraud', 2, signed(digestOf('fraud2'), 'ed25519:fedcba9876543210'));
        assert.equal(second.artifactSignature?.keyId, 'ed25519:fedcba9876543210');
        assert.deepEqual(await store.getVersion('fraud', 2), second);
        assert.deepEqual((await store.listVersions('fraud')).map((v) => v.artifactSignature?.keyId), [undefined, 'ed25519:fedcba9876543210']);
        assert.equal((await store.findVersionByDigest('fraud', digestOf('fraud2')))?.artifactSignature?.keyId, 'ed25519:fedcba9876543210');
      });

      test('refuses to sign an unknown model or version', async () => {
        await seed('fraud', 1);
        await refusal(store.setVersionSignature('ghost', 1, signed(digestOf(1))), 'REGISTRY_MODEL_NOT_FOUND');
        await refusal(store.setVersionSignature('fraud', 2, signed(digestOf(1))), 'REGISTRY_VERSION_NOT_FOUND');
        assert.equal('artifactSignature' in ((await store.getVersion('fraud', 1)) ?? {}), false);
      });

      test('hands out signature snapshots that cannot change the stored one', async () => {
        await seed('fraud', 1);
        const got = await store.setVersionSignature('fraud', 1, signed(digestOf('fraud1')));
        try {
          (got.artifactSignature as { keyId: string }).keyId = 'ed25519:ffffffffffffffff';
        } catch {
          // frozen: also fine
        }
        assert.equal((await store.getVersion('fraud', 1))?.artifactSignature?.keyId, 'ed25519:0123456789abcdef');
      });
    });

    describe('aliases', () => {
      test('creates an alias with a history event from null', async () => {
        await seed('fraud', 2);
        const result = await store.setAlias({ model: 'fraud', alias: 'production', version: 1, ...stamp(10, 'first release'), followerReason: follower });
        assert.deepEqual(result.alias, { model: 'fraud', alias: 'production', version: 1, updatedAt: at(10), updatedBy: 'bob' });
        assert.ok(result.event);
        assert.deepEqual({ ...result.event, seq: 0 }, {
          seq: 0,
          model: 'fraud',
          alias: 'production',
          from: null,
          to: 1,
          at: at(10),
          by: 'bob',
          reason: 'first release',
        });
        assert.deepEqual(result.endpointEvents, []);
        assert.deepEqual(await store.getAlias('fraud', 'production'), result.alias);
      });

      test('moves an alias and appends to its history in order', async () => {
        await seed('fraud', 3);
        await store.setAlias({ model: 'fraud', alias: 'production', version: 1, ...stamp(10), followerReason: follower });
        await store.setAlias({ model: 'fraud', alias: 'production', version: 3, ...stamp(11, 'better'), followerReason: follower });
        await store.setAlias({ model: 'fraud', alias: 'production', version: 2, ...stamp(12, 'rollback'), followerReason: follower });
        const history = await store.aliasHistory('fraud', 'production');
        assert.deepEqual(
          history.map((e) => [e.from, e.to, e.at, e.reason]),
          [
            [null, 1, at(10), ''],
            [1, 3, at(11), 'better'],
            [3, 2, at(12), 'rollback'],
          ],
        );
        assert.ok(history.every((e, i) => i === 0 || e.seq > (history[i - 1]?.seq ?? Infinity)));
        assert.equal((await store.getAlias('fraud', 'production'))?.version, 2);
      });

      test('treats setting an alias to its current version as a no-op', async () => {
        await seed('fraud', 1);
        const first = await store.setAlias({ model: 'fraud', alias: 'production', version: 1, ...stamp(10), followerReason: follower });
        const again = await store.setAlias({ model: 'fraud', alias: 'production', version: 1, ...stamp(20, 'again'), followerReason: follower });
        assert.equal(again.event, null);
        assert.deepEqual(again.alias, first.alias);
        assert.equal((await store.aliasHistory('fraud', 'production')).length, 1);
      });

      test('refuses an alias to a missing version or model and writes nothing', async () => {
        await seed('fraud', 1);
        const error = await refusal(
          store.setAlias({ model: 'fraud', alias: 'production', version: 2, ...stamp(10), followerReason: follower }),
          'REGISTRY_VERSION_NOT_FOUND',
        );
        assert.equal(error.kind, 'not_found');
        await refusal(store.setAlias({ model: 'nope', alias: 'production', version: 1, ...stamp(10), followerReason: follower }), 'REGISTRY_MODEL_NOT_FOUND');
        assert.equal(await store.getAlias('fraud', 'production'), undefined);
        assert.deepEqual(await store.aliasHistory('fraud', 'production'), []);
      });

      test('lists a model’s aliases by name', async () => {
        await seed('fraud', 2);
        await seed('other', 1);
        await store.setAlias({ model: 'fraud', alias: 'staging', version: 2, ...stamp(10), followerReason: follower });
        await store.setAlias({ model: 'fraud', alias: 'production', version: 1, ...stamp(11), followerReason: follower });
        await store.setAlias({ model: 'other', alias: 'production', version: 1, ...stamp(12), followerReason: follower });
        assert.deepEqual(
          (await store.listAliases('fraud')).map((a) => [a.alias, a.version]),
          [
            ['production', 1],
            ['staging', 2],
          ],
        );
        assert.deepEqual(await store.listAliases('nope'), []);
      });

      test('deletes an alias with an event to null and keeps its history across a re-create', async () => {
        await seed('fraud', 2);
        await store.setAlias({ model: 'fraud', alias: 'staging', version: 1, ...stamp(10), followerReason: follower });
        const deleted = await store.deleteAlias({ model: 'fraud', alias: 'staging', ...stamp(11, 'retired') });
        assert.deepEqual([deleted.from, deleted.to, deleted.reason, deleted.by], [1, null, 'retired', 'bob']);
        assert.equal(await store.getAlias('fraud', 'staging'), undefined);
        await refusal(store.deleteAlias({ model: 'fraud', alias: 'staging', ...stamp(12) }), 'REGISTRY_ALIAS_NOT_FOUND');
        await refusal(store.deleteAlias({ model: 'nope', alias: 'staging', ...stamp(12) }), 'REGISTRY_MODEL_NOT_FOUND');
        await store.setAlias({ model: 'fraud', alias: 'staging', version: 2, ...stamp(13), followerReason: follower });
        assert.deepEqual(
          (await store.aliasHistory('fraud', 'staging')).map((e) => [e.from, e.to]),
          [
            [null, 1],
            [1, null],
            [null, 2],
          ],
        );
      });

      test('answers which version an alias pointed to at a given time', async () => {
        await seed('fraud', 3);
        await store.setAlias({ model: 'fraud', alias: 'production', version: 1, ...stamp(10), followerReason: follower });
        await store.setAlias({ model: 'fraud', alias: 'production', version: 2, ...stamp(20), followerReason: follower });
        await store.deleteAlias({ model: 'fraud', alias: 'production', ...stamp(30) });
        await store.setAlias({ model: 'fraud', alias: 'production', version: 3, ...stamp(40), followerReason: follower });
        const cases: [number, number | null][] = [
          [9, null],
          [10, 1],
          [15, 1],
          [20, 2],
          [29, 2],
          [30, null],
          [35, null],
          [40, 3],
          [59, 3],
        ];
        for (const [minute, expected] of cases) {
          assert.equal(await store.aliasAt('fraud', 'production', at(minute)), expected, `at minute ${minute}`);
        }
        assert.equal(await store.aliasAt('fraud', 'staging', at(59)), null);
      });

      test('resolves two moves at the same instant to the later one', async () => {
        await seed('fraud', 2);
        await store.setAlias({ model: 'fraud', alias: 'production', version: 1, ...stamp(10), followerReason: follower });
        await store.setAlias({ model: 'fraud', alias: 'production', version: 2, ...stamp(10), followerReason: follower });
        assert.equal(await store.aliasAt('fraud', 'production', at(10)), 2);
      });
    });

    describe('endpoints', () => {
      const pinned = (model: string, version: number): EndpointTarget => ({ kind: 'version', model, version });
      const following = (model: string, alias: string): EndpointTarget => ({ kind: 'alias', model, alias });

      test('creates an endpoint on a pinned version with a creation event', async () => {
        await seed('fraud', 2);
        const { endpoint, event } = await store.createEndpoint({ name: 'fraud', description: 'card fraud', target: pinned('fraud', 2), ...stamp(10, 'launch') });
        const expected = {
          name: 'fraud',
          description: 'card fraud',
          target: { kind: 'version', model: 'fraud', version: 2 },
          model: 'fraud',
          version: 2,
          createdAt: at(10),
          updatedAt: at(10),
        };
        assert.deepEqual(endpoint, expected);
        assert.deepEqual(await store.getEndpoint('fraud'), expected);
        assert.ok(event);
        assert.deepEqual(
          { ...event, seq: 0 },
          { seq: 0, endpoint: 'fraud', from: null, to: { target: expected.target, model: 'fraud', version: 2 }, at: at(10), by: 'bob', reason: 'launch' },
        );
      });

      test('resolves an alias target to the version the alias points to', async () => {
        await seed('fraud', 2);
        await store.setAlias({ model: 'fraud', alias: 'production', version: 2, ...stamp(10), followerReason: follower });
        const { endpoint } = await store.createEndpoint({ name: 'api', description: '', target: following('fraud', 'production'), ...stamp(11) });
        assert.deepEqual(endpoint.target, { kind: 'alias', model: 'fraud', alias: 'production' });
        assert.equal(endpoint.version, 2);
      });

      test('refuses a duplicate endpoint and writes nothing', async () => {
        await seed('fraud', 2);
        await store.createEndpoint({ name: 'api', description: '', target: pinned('fraud', 1), ...stamp(10) });
        const error = await refusal(store.createEndpoint({ name: 'api', description: '', target: pinned('fraud', 2), ...stamp(11) }), 'REGISTRY_ENDPOINT_EXISTS');
        assert.equal(error.kind, 'conflict');
        assert.equal((await store.getEndpoint('api'))?.version, 1);
        assert.equal((await store.endpointHistory('api')).length, 1);
      });

      test('refuses a target that does not exist and writes nothing', async () => {
        await seed('fraud', 1);
        await refusal(store.createEndpoint({ name: 'api', description: '', target: pinned('fraud', 2), ...stamp(10) }), 'REGISTRY_VERSION_NOT_FOUND');
        await refusal(store.createEndpoint({ name: 'api', description: '', target: pinned('nope', 1), ...stamp(10) }), 'REGISTRY_MODEL_NOT_FOUND');
        await refusal(store.createEndpoint({ name: 'api', description: '', target: following('fraud', 'production'), ...stamp(10) }), 'REGISTRY_ALIAS_NOT_FOUND');
        await refusal(store.createEndpoint({ name: 'api', description: '', target: following('nope', 'production'), ...stamp(10) }), 'REGISTRY_MODEL_NOT_FOUND');
        assert.equal(await store.getEndpoint('api'), undefined);
        assert.deepEqual(await store.endpointHistory('api'), []);
      });

      test('re-points an endpoint with an event holding from and to', async () => {
        await seed('fraud', 2);
        await store.setAlias({ model: 'fraud', alias: 'production', version: 2, ...stamp(10), followerReason: follower });
        await store.createEndpoint({ name: 'api', description: 'kept', target: pinned('fraud', 1), ...stamp(11) });
        const { endpoint, event } = await store.updateEndpoint({ name: 'api', target: following('fraud', 'production'), ...stamp(12, 'follow prod') });
        assert.equal(endpoint.version, 2);
        assert.equal(endpoint.description, 'kept');
        assert.equal(endpoint.createdAt, at(11));
        assert.equal(endpoint.updatedAt, at(12));
        assert.ok(event);
        assert.deepEqual(event.from, { target: { kind: 'version', model: 'fraud', version: 1 }, model: 'fraud', version: 1 });
        assert.deepEqual(event.to, { target: { kind: 'alias', model: 'fraud', alias: 'production' }, model: 'fraud', version: 2 });
        assert.equal(event.reason, 'follow prod');
      });

      test('treats an update to the same target as a no-op', async () => {
        await seed('fraud', 1);
        await store.createEndpoint({ name: 'api', description: '', target: pinned('fraud', 1), ...stamp(10) });
        const { endpoint, event } = await store.updateEndpoint({ name: 'api', target: pinned('fraud', 1), ...stamp(20) });
        assert.equal(event, null);
        assert.equal(endpoint.updatedAt, at(10));
        assert.equal((await store.endpointHistory('api')).length, 1);
      });

      test('records pinning the version an alias already gives as a change of target', async () => {
        await seed('fraud', 1);
        await store.setAlias({ model: 'fraud', alias: 'production', version: 1, ...stamp(10), followerReason: follower });
        await store.createEndpoint({ name: 'api', description: '', target: following('fraud', 'production'), ...stamp(11) });
        const { event } = await store.updateEndpoint({ name: 'api', target: pinned('fraud', 1), ...stamp(12) });
        assert.ok(event);
        assert.equal(event.from?.target.kind, 'alias');
        assert.equal(event.to?.target.kind, 'version');
      });

      test('refuses to update an unknown endpoint or to a missing target', async () => {
        await seed('fraud', 1);
        await refusal(store.updateEndpoint({ name: 'api', target: pinned('fraud', 1), ...stamp(10) }), 'REGISTRY_ENDPOINT_NOT_FOUND');
        await store.createEndpoint({ name: 'api', description: '', target: pinned('fraud', 1), ...stamp(10) });
        await refusal(store.updateEndpoint({ name: 'api', target: pinned('fraud', 5), ...stamp(11) }), 'REGISTRY_VERSION_NOT_FOUND');
        assert.equal((await store.getEndpoint('api'))?.version, 1);
        assert.equal((await store.endpointHistory('api')).length, 1);
      });

      test('deletes an endpoint with an event to null and keeps its history across a re-create', async () => {
        await seed('fraud', 2);
        await store.createEndpoint({ name: 'api', description: '', target: pinned('fraud', 1), ...stamp(10) });
        const deleted = await store.deleteEndpoint({ name: 'api', ...stamp(11, 'gone') });
        assert.equal(deleted.to, null);
        assert.equal(deleted.from?.version, 1);
        assert.equal(await store.getEndpoint('api'), undefined);
        await refusal(store.deleteEndpoint({ name: 'api', ...stamp(12) }), 'REGISTRY_ENDPOINT_NOT_FOUND');
        await store.createEndpoint({ name: 'api', description: '', target: pinned('fraud', 2), ...stamp(13) });
        const history = await store.endpointHistory('api');
        assert.deepEqual(
          history.map((e) => [e.from?.version ?? null, e.to?.version ?? null]),
          [
            [null, 1],
            [1, null],
            [null, 2],
          ],
        );
        assert.ok(history.every((e, i) => i === 0 || e.seq > (history[i - 1]?.seq ?? Infinity)));
      });

      test('lists endpoints by name and those following an alias', async () => {
        await seed('fraud', 2);
        await store.setAlias({ model: 'fraud', alias: 'production', version: 2, ...stamp(10), followerReason: follower });
        await store.setAlias({ model: 'fraud', alias: 'staging', version: 1, ...stamp(10), followerReason: follower });
        await store.createEndpoint({ name: 'zulu', description: '', target: following('fraud', 'production'), ...stamp(11) });
        await store.createEndpoint({ name: 'alpha', description: '', target: following('fraud', 'production'), ...stamp(11) });
        await store.createEndpoint({ name: 'mike', description: '', target: pinned('fraud', 2), ...stamp(11) });
        await store.createEndpoint({ name: 'echo', description: '', target: following('fraud', 'staging'), ...stamp(11) });
        assert.deepEqual(
          (await store.listEndpoints()).map((e) => e.name),
          ['alpha', 'echo', 'mike', 'zulu'],
        );
        assert.deepEqual(
          (await store.listEndpointsFollowing('fraud', 'production')).map((e) => e.name),
          ['alpha', 'zulu'],
        );
        assert.deepEqual(await store.listEndpointsFollowing('fraud', 'canary'), []);
      });
    });

    describe('aliases and the endpoints that follow them', () => {
      async function followers(): Promise<void> {
        await seed('fraud', 3);
        await store.setAlias({ model: 'fraud', alias: 'production', version: 2, ...stamp(10), followerReason: follower });
        await store.setAlias({ model: 'fraud', alias: 'staging', version: 2, ...stamp(10), followerReason: follower });
        await store.createEndpoint({ name: 'web', description: '', target: { kind: 'alias', model: 'fraud', alias: 'production' }, ...stamp(11) });
        await store.createEndpoint({ name: 'batch', description: '', target: { kind: 'alias', model: 'fraud', alias: 'production' }, ...stamp(11) });
        await store.createEndpoint({ name: 'pinned', description: '', target: { kind: 'version', model: 'fraud', version: 2 }, ...stamp(11) });
        await store.createEndpoint({ name: 'qa', description: '', target: { kind: 'alias', model: 'fraud', alias: 'staging' }, ...stamp(11) });
      }

      test('moves every follower with the alias, each with an event carrying the follower reason', async () => {
        await followers();
        const result = await store.setAlias({ model: 'fraud', alias: 'production', version: 3, ...stamp(20, 'better auc'), followerReason: follower });
        assert.deepEqual(
          result.endpointEvents.map((e) => [e.endpoint, e.from?.version, e.to?.version, e.reason, e.by, e.at]),
          [
            ['batch', 2, 3, 'moved 2 → 3', 'bob', at(20)],
            ['web', 2, 3, 'moved 2 → 3', 'bob', at(20)],
          ],
        );
        for (const e of result.endpointEvents) assert.deepEqual(e.to?.target, { kind: 'alias', model: 'fraud', alias: 'production' });
        assert.equal((await store.getEndpoint('web'))?.version, 3);
        assert.equal((await store.getEndpoint('web'))?.updatedAt, at(20));
        assert.equal((await store.getEndpoint('batch'))?.version, 3);
        assert.equal((await store.getEndpoint('pinned'))?.version, 2);
        assert.equal((await store.getEndpoint('qa'))?.version, 2);
        assert.deepEqual(
          (await store.endpointHistory('web')).map((e) => e.reason),
          ['', 'moved 2 → 3'],
        );
      });

      test('moves no endpoint when the alias does not actually move', async () => {
        await followers();
        const result = await store.setAlias({ model: 'fraud', alias: 'production', version: 2, ...stamp(20), followerReason: follower });
        assert.deepEqual(result.endpointEvents, []);
        assert.equal((await store.endpointHistory('web')).length, 1);
      });

      test('rolls back the whole move when any part of it fails', async () => {
        await followers();
        await assert.rejects(
          store.setAlias({
            model: 'fraud',
            alias: 'production',
            version: 3,
            ...stamp(20),
            followerReason: () => {
              throw new Error('boom');
            },
          }),
          /boom/,
        );
        assert.equal((await store.getAlias('fraud', 'production'))?.version, 2);
        assert.equal((await store.aliasHistory('fraud', 'production')).length, 1);
        assert.equal((await store.getEndpoint('web'))?.version, 2);
        assert.equal((await store.endpointHistory('web')).length, 1);
      });

      test('refuses to delete a followed alias, naming the followers, and writes nothing', async () => {
        await followers();
        const error = await refusal(store.deleteAlias({ model: 'fraud', alias: 'production', ...stamp(20) }), 'REGISTRY_ALIAS_IN_USE');
        assert.equal(error.kind, 'conflict');
        assert.deepEqual(error.details?.endpoints, ['batch', 'web']);
        assert.match(error.message, /"batch", "web"/);
        assert.equal((await store.getAlias('fraud', 'production'))?.version, 2);
        assert.equal((await store.aliasHistory('fraud', 'production')).length, 1);
      });

      test('allows deleting an alias once nothing follows it', async () => {
        await followers();
        await store.deleteEndpoint({ name: 'qa', ...stamp(20) });
        await store.deleteAlias({ model: 'fraud', alias: 'staging', ...stamp(21) });
        assert.equal(await store.getAlias('fraud', 'staging'), undefined);
      });
    });
  });
}
