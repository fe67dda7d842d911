import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { NAME_RULE } from '../../../src/core/index.js';
import { FAKE_ONNX_FACTS, FAKE_SIGNATURE, writeFailingModel, writeFakeModel } from './fake-inspector.js';
import { ALICE, createHarness, refused, type Harness } from './harness.js';

describe('registry: pushing versions', () => {
  let h: Harness;
  beforeEach(() => {
    h = createHarness();
  });
  afterEach(() => h.cleanup());

  const blobFiles = (): string[] => readdirSync(join(h.dir, 'blobs', 'sha256'));

  test('creates the model on its first push and registers version 1 with every fact', async () => {
    const path = writeFakeModel(h.uploads, 'first.onnx', 'a');
    const bytes = readFileSync(path);
    const { version, created } = await h.registry.pushVersion(
      {
        model: 'fraud-detector',
        artifactPath: path,
        description: 'first cut',
        modelDescription: 'flags card fraud',
        tags: { team: 'risk' },
        dataDigest: 'sha256:training-data',
        metrics: { accuracy: 0.97 },
      },
      { by: 'alice', reason: 'initial' },
    );
    assert.equal(created, true);
    assert.deepEqual(version, {
      model: 'fraud-detector',
      version: 1,
      digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
      sizeBytes: bytes.length,
      signature: FAKE_SIGNATURE,
      onnx: FAKE_ONNX_FACTS,
      description: 'first cut',
      tags: { team: 'risk' },
      lineage: { dataDigest: 'sha256:training-data', metrics: { accuracy: 0.97 } },
      createdAt: '2026-03-03T12:00:00.000Z',
      createdBy: 'alice',
    });
    assert.deepEqual(await h.registry.getModel('fraud-detector'), {
      name: 'fraud-detector',
      description: 'flags card fraud',
      owner: 'alice',
      createdAt: '2026-03-03T12:00:00.000Z',
      createdBy: 'alice',
      latestVersion: 1,
    });
  });

  test('stores the artifact in the blob store and leaves the upload alone', async () => {
    const path = writeFakeModel(h.uploads, 'm.onnx', 'a');
    const { version } = await h.registry.pushVersion({ model: 'fraud', artifactPath: path }, ALICE);
    const stored = await h.registry.artifactPath('fraud', 1);
    assert.equal(stored, h.blobs.path(version.digest));
    assert.ok(readFileSync(stored).equals(readFileSync(path)));
    assert.deepEqual(readdirSync(join(h.dir, 'tmp')), []);
  });

  test('numbers later pushes 2, 3 … and records the parent version', async () => {
    await h.push('fraud', 'a');
    await h.clock.advance(60_000);
    const second = await h.push('fraud', 'b', { parentVersion: 1, tags: { quantized: 'int8' } }, { by: 'bob' });
    assert.equal(second.version.version, 2);
    assert.deepEqual(second.version.lineage, { parentVersion: 1 });
    assert.equal(second.version.createdBy, 'bob');
    assert.equal(second.version.createdAt, '2026-03-03T12:01:00.000Z');
    assert.equal((await h.registry.getModel('fraud')).owner, 'alice');
    assert.deepEqual(
      (await h.registry.listVersions('fraud')).map((v) => v.version),
      [1, 2],
    );
  });

  test('returns the existing version for identical bytes, without inspecting or storing them again', async () => {
    const first = await h.push('fraud', 'a');
    const again = await h.registry.pushVersion(
      { model: 'fraud', artifactPath: writeFakeModel(h.uploads, 'copy.onnx', 'a'), description: 'same bytes' },
      { by: 'bob' },
    );
    assert.equal(again.created, false);
    assert.deepEqual(again.version, first.version);
    assert.equal(h.inspector.calls.length, 1);
    assert.equal((await h.registry.listVersions('fraud')).length, 1);
    assert.equal(blobFiles().length, 1);
  });

  test('registers identical bytes under another model as that model’s own version, sharing the blob', async () => {
    const a = await h.push('alpha', 'same');
    const b = await h.push('beta', 'same');
    assert.equal(b.created, true);
    assert.equal(b.version.digest, a.version.digest);
    assert.equal(blobFiles().length, 1);
  });

  test('gives concurrent pushes distinct numbers 1 … n', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => h.push('fraud', `c${i}`)));
    assert.deepEqual(
      results.map((r) => r.version.version).sort((x, y) => x - y),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
  });

  test('registers the same bytes pushed concurrently once', async () => {
    const paths = Array.from({ length: 4 }, (_, i) => writeFakeModel(h.uploads, `dup${i}.onnx`, 'same'));
    const results = await Promise.all(paths.map((artifactPath) => h.registry.pushVersion({ model: 'fraud', artifactPath }, ALICE)));
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.ok(results.every((r) => r.version.version === 1));
    assert.equal(blobFiles().length, 1);
  });

  test('passes the inspector’s refusal through unchanged and writes nothing', async () => {
    const path = writeFailingModel(h.uploads, 'zipmap.onnx', {
      code: 'RUNTIME_UNSUPPORTED_OUTPUT',
      kind: 'invalid',
      message: 'output "probabilities" is a sequence of maps, not a tensor',
    });
    const error = await refused(h.registry.pushVersion({ model: 'fraud', artifactPath: path }, ALICE), 'RUNTIME_UNSUPPORTED_OUTPUT');
    assert.equal(error.kind, 'invalid');
    assert.equal(error.message, 'output "probabilities" is a sequence of maps, not a tensor');
    await refused(h.registry.getModel('fraud'), 'REGISTRY_MODEL_NOT_FOUND');
    assert.deepEqual(blobFiles(), []);
    assert.deepEqual(readdirSync(join(h.dir, 'tmp')), []);
  });

  test('refuses a file that is not ONNX and writes nothing', async () => {
    const path = join(h.uploads, 'notes.txt');
    writeFileSync(path, 'hello');
    await refused(h.registry.pushVersion({ model: 'fraud', artifactPath: path }, ALICE), 'ONNX_NOT_ONNX');
    assert.deepEqual(await h.registry.listModels(), []);
    assert.deepEqual(blobFiles(), []);
  });

  test('keeps earlier versions untouched when a later push is refused', async () => {
    await h.push('fraud', 'a');
    const bad = writeFailingModel(h.uploads, 'bad.onnx', { code: 'ONNX_INVALID', kind: 'invalid', message: 'broken graph' });
    await refused(h.registry.pushVersion({ model: 'fraud', artifactPath: bad }, ALICE), 'ONNX_INVALID');
    assert.equal((await h.registry.getModel('fraud')).latestVersion, 1);
    assert.equal(blobFiles().length, 1);
  });

  test('refuses a model name that is not a DNS label, naming the field and the rule, before reading the file', async () => {
    for (const bad of ['Fraud', 'fraud_detector', '-fraud', 'fraud-', '', 'a'.repeat(64), 'fraud.v2']) {
      const error = await refused(h.push(bad, 'x'), 'REGISTRY_INVALID_NAME');
      assert.ok(error.message.startsWith('model: '), error.message);
      assert.ok(error.message.includes(NAME_RULE), error.message);
      assert.equal(error.details?.field, 'model');
    }
    assert.deepEqual(h.inspector.calls, []);
  });

  test('accepts names of 1 and 63 characters', async () => {
    await h.push('a', 'x');
    await h.push(`a${'-'.repeat(61)}b`, 'y');
    assert.equal((await h.registry.listModels()).length, 2);
  });

  test('refuses a parent version that does not exist, before inspecting', async () => {
    const error = await refused(h.push('fraud', 'a', { parentVersion: 1 }), 'REGISTRY_PARENT_NOT_FOUND');
    assert.equal(error.kind, 'invalid');
    assert.match(error.message, /parentVersion: model "fraud" has no version 1/);
    await h.push('fraud', 'a');
    await refused(h.push('fraud', 'b', { parentVersion: 7 }), 'REGISTRY_PARENT_NOT_FOUND');
    assert.equal(h.inspector.calls.length, 1);
  });

  test('refuses malformed tags, naming the tag', async () => {
    const cases: [unknown, RegExp][] = [
      [{ team: 42 }, /tags\.team: must be a string/],
      [{ 'bad key': 'x' }, /key "bad key"/],
      [{ '': 'x' }, /key ""/],
      [{ k: 'v'.repeat(1025) }, /tags\.k: must be at most 1024 characters/],
      [{ k: 'line\nbreak' }, /without control characters/],
      [Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])), /at most 64 tags/],
      [['a', 'b'], /must be an object/],
    ];
    for (const [tags, message] of cases) {
      const error = await refused(h.push('fraud', 'a', { tags: tags as Record<string, string> }), 'REGISTRY_INVALID_TAGS');
      assert.match(error.message, message);
    }
    await h.push('fraud', 'a', { tags: { 'team.name/x-y_z': 'risk & fraud — ünïcode' } });
  });

  test('refuses other malformed fields, naming each', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ parentVersion: 0 }, /parentVersion: must be a positive integer/],
      [{ parentVersion: 1.5 }, /parentVersion: must be a positive integer/],
      [{ metrics: { auc: Number.NaN } }, /metrics\.auc: must be a finite number/],
      [{ metrics: { auc: '0.9' } }, /metrics\.auc: must be a finite number/],
      [{ description: 'x'.repeat(4097) }, /description: must be at most 4096 characters/],
      [{ dataDigest: 'has space' }, /dataDigest: must be/],
      [{ artifactPath: '' }, /artifactPath: must be the path/],
    ];
    for (const [extra, message] of cases) {
      const error = await refused(h.push('fraud', 'a', extra), 'REGISTRY_INVALID_FIELD');
      assert.match(error.message, message);
    }
  });

  test('refuses a push without an actor name', async () => {
    const error = await refused(h.push('fraud', 'a', {}, { by: '' }), 'REGISTRY_INVALID_FIELD');
    assert.match(error.message, /actor\.by/);
  });

  test('refuses an artifact path that cannot be read', async () => {
    const error = await refused(
      h.registry.pushVersion({ model: 'fraud', artifactPath: join(h.uploads, 'missing.onnx') }, ALICE),
      'REGISTRY_ARTIFACT_UNREADABLE',
    );
    assert.match(error.message, /artifactPath: cannot read .*missing\.onnx.*ENOENT/);
  });

  test('reports a version whose blob has gone missing, and restores it when the same bytes are pushed again', async () => {
    const { version } = await h.push('fraud', 'a');
    rmSync(h.blobs.path(version.digest));
    const error = await refused(h.registry.artifactPath('fraud', 1), 'REGISTRY_ARTIFACT_MISSING');
    assert.equal(error.kind, 'internal');
    const again = await h.push('fraud', 'a');
    assert.equal(again.created, false);
    assert.equal((await h.blobs.verify(version.digest)).ok, true);
    assert.equal(await h.registry.artifactPath('fraud', 1), h.blobs.path(version.digest));
  });
});

describe('registry: reading models and versions', () => {
  let h: Harness;
  beforeEach(() => {
    h = createHarness();
  });
  afterEach(() => h.cleanup());

  test('refuses unknown models and versions with not-found errors that say what exists', async () => {
    await refused(h.registry.getModel('nope'), 'REGISTRY_MODEL_NOT_FOUND');
    await refused(h.registry.listVersions('nope'), 'REGISTRY_MODEL_NOT_FOUND');
    await refused(h.registry.getVersion('nope', 1), 'REGISTRY_MODEL_NOT_FOUND');
    await h.push('fraud', 'a');
    await h.push('fraud', 'b');
    const error = await refused(h.registry.getVersion('fraud', 3), 'REGISTRY_VERSION_NOT_FOUND');
    assert.equal(error.kind, 'not_found');
    assert.match(error.message, /model "fraud" has no version 3 \(its latest version is 2\)/);
  });

  test('refuses a version number that is not a positive integer', async () => {
    await h.push('fraud', 'a');
    await refused(h.registry.getVersion('fraud', 0), 'REGISTRY_INVALID_FIELD');
    await refused(h.registry.getVersion('fraud', Number.NaN), 'REGISTRY_INVALID_FIELD');
  });

  test('lists models by name', async () => {
    await h.push('zeta', 'a');
    await h.push('alpha', 'b');
    assert.deepEqual(
      (await h.registry.listModels()).map((m) => m.name),
      ['alpha', 'zeta'],
    );
  });
});
