/** The profile service over a stand-in runtime: the temporary session, batches, the second pass, limits, refusals. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createFakeClock, PlatformError } from '../../../../src/core/index.js';
import { createProfileService, type CategoricalFeatureProfile, type NumericFeatureProfile, type ProfileService } from '../../../../src/monitoring/profiles/index.js';
import { createMemoryProfileStore, type MemoryProfileStore } from '../../../../src/storage/index.js';
import { createSeededRandom } from '../../../../src/stats/index.js';
import { csvText, fakeRegistry, fakeRuntime, type FakeRegistry, type FakeRuntime } from './fakes.js';

let registry: FakeRegistry;
let runtime: FakeRuntime;
let store: MemoryProfileStore;
let service: ProfileService;
const clock = createFakeClock(Date.UTC(2026, 2, 1));

function make(options: { maxRows?: number; batchRows?: number; maxConcurrent?: number } = {}): ProfileService {
  return createProfileService({ registry, runtime, store, clock, ...options });
}

beforeEach(() => {
  registry = fakeRegistry();
  runtime = fakeRuntime();
  store = createMemoryProfileStore();
  service = make({ batchRows: 4 });
});
afterEach(async () => {
  await service.close();
  registry.cleanup();
});

async function rejectsWith(promise: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof PlatformError, String(e));
    assert.equal(e.code, code, e.message);
    if (pattern !== undefined) assert.match(e.message, pattern);
    return true;
  });
}

const tenRows = csvText(
  ['p', 'q', 'label'],
  Array.from({ length: 10 }, (_, i) => [i, 9 - i, i % 2]),
);

void describe('computing a profile', () => {
  void test('profiles each feature and the predictions, running the rows through a temporary one-replica session in batches', async () => {
    const path = registry.csv('train.csv', tenRows);
    const profile = await service.compute({ model: 'clf', version: 1, path, source: 'train.csv', target: 'label', by: 'alice' });
    assert.equal(profile.rows, 10);
    assert.equal(profile.source, 'train.csv');
    assert.equal(profile.createdBy, 'alice');
    assert.equal(profile.createdAt, Date.UTC(2026, 2, 1));
    assert.deepEqual(profile.features.map((f) => [f.name, f.input, f.column, f.kind]), [
      ['p', 'x', 0, 'numeric'],
      ['q', 'x', 1, 'numeric'],
    ]);
    const p = profile.features[0] as NumericFeatureProfile;
    assert.equal(p.mean, 4.5);
    // label = 1 when p > q: rows 5…9
    assert.deepEqual(profile.predictions, { kind: 'categorical', name: 'label', input: 'label', column: null, count: 10, missing: 0, frequencies: { 0: 5, 1: 5 } });
    // the target column scores the reference rows: predicted 0,0,0,0,0,1,1,1,1,1 against labels 0,1,0,1,…: 6 right
    assert.equal(profile.performance?.task, 'classification');
    assert.equal(profile.performance?.labels, 10);
    assert.equal(profile.performance?.task === 'classification' ? profile.performance.correct : -1, 6);
    assert.equal(runtime.loads.length, 1);
    assert.deepEqual([runtime.loads[0]?.replicas, runtime.loads[0]?.warmup, runtime.loads[0]?.placement], [1, false, 'worker']);
    assert.deepEqual(runtime.batches, [4, 4, 2]);
    assert.equal(runtime.unloads, 1, 'the session is unloaded at the end');
    assert.deepEqual(await service.get('clf', 1), profile, 'and the profile is stored');
  });

  void test('reads the file a second time for columns with many distinct values, running the model only once per row', async () => {
    const random = createSeededRandom(9);
    const rows = Array.from({ length: 1500 }, () => [random.normal().toFixed(6), random.normal().toFixed(6)]);
    const path = registry.csv('big.csv', csvText(['p', 'q'], rows));
    const profile = await make().compute({ model: 'clf', version: 1, path, source: 'big.csv', by: 'alice' });
    const p = profile.features[0] as NumericFeatureProfile;
    assert.equal(p.histogram.counts.reduce((a, b) => a + b, 0), 1500);
    assert.equal(p.histogram.counts.length, 10);
    assert.equal(runtime.batches.reduce((a, b) => a + b, 0), 1500, 'every row ran once');
  });

  void test('profiles regression outputs as a numeric prediction, counted in the second pass when needed', async () => {
    const rows = Array.from({ length: 1200 }, (_, i) => [i, 0.5]);
    const path = registry.csv('reg.csv', csvText(['a', 'b'], rows));
    const profile = await make().compute({ model: 'reg', version: 1, path, source: 'reg.csv', by: 'alice' });
    const predictions = profile.predictions as NumericFeatureProfile;
    assert.equal(predictions.kind, 'numeric');
    assert.equal(predictions.name, 'value');
    assert.equal(predictions.min, 0.5);
    assert.equal(predictions.max, 1199.5);
    assert.equal(predictions.histogram.counts.reduce((a, b) => a + b, 0), 1200);
  });

  void test('keeps rows with missing values out of the model and counts their prediction as missing', async () => {
    const path = registry.csv('gaps.csv', csvText(['p', 'q'], [[1, 2], ['NA', 3], [4, ''], [5, 1]]));
    const profile = await service.compute({ model: 'clf', version: 1, path, source: 'gaps.csv', by: 'alice' });
    assert.deepEqual(profile.features.map((f) => [f.count, f.missing]), [
      [3, 1],
      [3, 1],
    ]);
    assert.deepEqual(runtime.batches, [2]);
    assert.deepEqual((profile.predictions as CategoricalFeatureProfile).frequencies, { 0: 1, 1: 1 });
    assert.equal(profile.predictions?.missing, 2);
  });

  void test('matches columns by the model’s feature_names, in any order', async () => {
    const path = registry.csv('named.csv', csvText(['y', 'b', 'a'], [[0, 1, 5]]));
    const profile = await service.compute({ model: 'clf', version: 2, path, source: 'named.csv', target: 'y', by: 'alice' });
    assert.deepEqual(profile.features.map((f) => [f.name, (f as NumericFeatureProfile).mean]), [
      ['a', 5],
      ['b', 1],
    ]);
    assert.deepEqual((profile.predictions as CategoricalFeatureProfile).frequencies, { 1: 1 });
  });

  void test('replaces an earlier profile of the same version', async () => {
    await service.compute({ model: 'clf', version: 1, path: registry.csv('one.csv', csvText(['p', 'q'], [[1, 2]])), source: 'one.csv', by: 'a' });
    await service.compute({ model: 'clf', version: 1, path: registry.csv('two.csv', csvText(['p', 'q'], [[1, 2], [3, 4]])), source: 'two.csv', by: 'b' });
    const stored = await service.get('clf', 1);
    assert.deepEqual([stored.rows, stored.source, stored.createdBy], [2, 'two.csv', 'b']);
  });
});

void describe('refusing', () => {
  void test('an unknown version, with the registry’s error', async () => {
    await rejectsWith(service.compute({ model: 'clf', version: 9, path: registry.csv('a.csv', tenRows), source: 'a.csv', by: 'a' }), 'REGISTRY_VERSION_NOT_FOUND');
  });

  void test('an empty file and a header without rows, before loading the model', async () => {
    await rejectsWith(service.compute({ model: 'clf', version: 1, path: registry.csv('empty.csv', ''), source: 'e', by: 'a' }), 'MONITORING_PROFILE_INVALID_DATA', /empty: expected a header row/);
    await rejectsWith(service.compute({ model: 'clf', version: 1, path: registry.csv('header.csv', 'p,q\n'), source: 'h', by: 'a' }), 'MONITORING_PROFILE_INVALID_DATA', /a header but no rows/);
    assert.equal(runtime.loads.length, 0);
  });

  void test('a bad cell, naming its row and column, unloading the session and storing nothing', async () => {
    const rows: (string | number)[][] = Array.from({ length: 9 }, (_, i) => [i, i]);
    rows.push([1, 'oops']);
    await rejectsWith(service.compute({ model: 'clf', version: 1, path: registry.csv('bad.csv', csvText(['p', 'q'], rows)), source: 'b', by: 'a' }), 'MONITORING_PROFILE_INVALID_DATA', /row 10, column "q": "oops" is not a number/);
    assert.equal(runtime.loads.length, 1);
    assert.equal(runtime.unloads, 1);
    assert.equal(await store.get('clf', 1), undefined);
  });

  void test('more rows than maxRows', async () => {
    const limited = make({ maxRows: 5 });
    await rejectsWith(limited.compute({ model: 'clf', version: 1, path: registry.csv('a.csv', tenRows), source: 'a', target: 'label', by: 'a' }), 'MONITORING_PROFILE_TOO_MANY_ROWS', /more than 5 rows/);
  });

  void test('a model with a rank-3 input', async () => {
    await rejectsWith(service.compute({ model: 'img', version: 1, path: registry.csv('a.csv', 'a\n1\n'), source: 'a', by: 'a' }), 'MONITORING_PROFILE_UNSUPPORTED_MODEL', /input "image" has shape \[\?, 8, 8\]/);
  });

  void test('a second profile of the same version while the first is computed, and more profiles than maxConcurrent', async () => {
    let open!: () => void;
    runtime.gate = new Promise<void>((resolve) => (open = resolve));
    const path = registry.csv('a.csv', tenRows);
    const first = service.compute({ model: 'clf', version: 1, path, source: 'a', target: 'label', by: 'a' });
    await rejectsWith(service.compute({ model: 'clf', version: 1, path, source: 'a', target: 'label', by: 'a' }), 'MONITORING_PROFILE_BUSY', /clf:1 is being computed now/);
    await rejectsWith(service.compute({ model: 'clf', version: 2, path, source: 'a', by: 'a' }), 'MONITORING_PROFILE_BUSY', /computing 1 profile already/);
    open();
    assert.equal((await first).rows, 10);
  });

  void test('reading or deleting a profile that does not exist', async () => {
    await rejectsWith(service.get('clf', 1), 'MONITORING_PROFILE_NOT_FOUND', /clf version 1 has no reference profile/);
    await rejectsWith(service.delete('clf', 1), 'MONITORING_PROFILE_NOT_FOUND');
  });
});

void describe('deleting and closing', () => {
  void test('deletes a stored profile and answers with it', async () => {
    const profile = await service.compute({ model: 'clf', version: 1, path: registry.csv('a.csv', tenRows), source: 'a', target: 'label', by: 'a' });
    assert.deepEqual(await service.delete('clf', 1), profile);
    await rejectsWith(service.get('clf', 1), 'MONITORING_PROFILE_NOT_FOUND');
  });

  void test('stops a profile being computed on close, unloading its session and storing nothing', async () => {
    let open!: () => void;
    runtime.gate = new Promise<void>((resolve) => (open = resolve));
    const running = service.compute({ model: 'clf', version: 1, path: registry.csv('a.csv', tenRows), source: 'a', target: 'label', by: 'a' });
    // close once the session is loaded and its first batch waits
    // bounded by time, not by turns of the event loop: reading the file may take longer on a busy machine
    for (let i = 0; i < 1000 && runtime.loads.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(runtime.loads.length, 1);
    const closing = service.close();
    open();
    await rejectsWith(running, 'MONITORING_PROFILE_BUSY', /stopping/);
    await closing;
    assert.equal(runtime.unloads, 1);
    assert.equal(await store.get('clf', 1), undefined);
    await rejectsWith(service.compute({ model: 'clf', version: 1, path: registry.csv('b.csv', tenRows), source: 'a', target: 'label', by: 'a' }), 'MONITORING_PROFILE_BUSY', /stopping/);
  });
});
