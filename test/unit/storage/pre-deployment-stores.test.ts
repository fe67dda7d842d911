/**
 * The stores of pre-deployment work, memory and SQLite alike: capacity plans (src/optimize/plan/ports.ts)
 * and validation reports with dataset records (src/validate/ports.ts). Both adapters run the same
 * contract; the SQLite ones also keep what they hold across reopening the database.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { PlanStore } from '../../../src/optimize/plan/ports.js';
import type { PlanJob } from '../../../src/optimize/plan/service.js';
import type { PlanResult } from '../../../src/optimize/plan/types.js';
import { createMemoryPlanStore, createMemoryValidationStore, createSqlitePlanStore, createSqliteValidationStore } from '../../../src/storage/index.js';
import { openSqliteDatabase, type SqliteDatabase } from '../../../src/storage/sqlite/database.js';
import type { ValidationStore } from '../../../src/validate/ports.js';
import type { ValidationReport } from '../../../src/validate/types.js';

const planJob = (id: string, model: string, version: number, feasible: boolean | 'failed'): PlanJob => {
  const base = { id, model, version, startedAt: `2026-11-30T00:00:0${id.length % 10}Z`, finishedAt: '2026-11-30T00:01:00Z', progress: { stage: 'done', done: 1, total: 1 } };
  if (feasible === 'failed') return { ...base, status: 'failed', error: { code: 'OPTIMIZE_PLAN_INPUTS_REFUSED', message: 'refused' }, plan: null };
  const plan = {
    label: `${model}:${version}`,
    target: { rps: 100, p99Ms: 20, pricePerCoreHour: null, currency: 'USD', headroom: 0.7 },
    feasible,
    reason: feasible ? null : 'too slow',
    recommendation: feasible ? { configuration: { label: '1 replica × 2 threads' }, instances: 2, cores: 4, expectedP99Ms: 3.5 } : null,
    measurements: { configurations: [{ points: [{ offeredRps: 50 }] }] },
  } as unknown as PlanResult;
  return { ...base, status: 'succeeded', error: null, plan };
};

async function planContract(store: PlanStore): Promise<void> {
  await store.putPlan(planJob('p1', 'm', 1, true));
  await store.putPlan(planJob('p2', 'm', 1, false));
  await store.putPlan(planJob('p3', 'm', 2, 'failed'));
  await store.putPlan(planJob('q1', 'other', 1, true));
  assert.deepEqual((await store.listPlans('m')).map((p) => p.id), ['p3', 'p2', 'p1'], 'newest first');
  assert.deepEqual((await store.listPlans('m', 1)).map((p) => p.id), ['p2', 'p1'], 'of one version');
  assert.deepEqual((await store.listPlans('m', undefined, 1)).map((p) => p.id), ['p3'], 'at most limit');
  assert.deepEqual(await store.listPlans('nobody'), []);
  const [p2, p1] = await store.listPlans('m', 1);
  assert.deepEqual(p1, {
    id: 'p1',
    model: 'm',
    version: 1,
    status: 'succeeded',
    startedAt: '2026-11-30T00:00:02Z',
    finishedAt: '2026-11-30T00:01:00Z',
    error: null,
    target: { rps: 100, p99Ms: 20 },
    feasible: true,
    recommendation: { configuration: '1 replica × 2 threads', instances: 2, cores: 4, expectedP99Ms: 3.5 },
  });
  assert.equal(p2?.feasible, false);
  assert.equal(p2?.recommendation, null);
  const failed = (await store.listPlans('m', 2))[0];
  assert.deepEqual([failed?.status, failed?.target, failed?.feasible, failed?.error?.code], ['failed', null, null, 'OPTIMIZE_PLAN_INPUTS_REFUSED']);

  // the whole job comes back, measurements included, and never aliases the store's copy
  const got = await store.getPlan('p1');
  assert.deepEqual(got, planJob('p1', 'm', 1, true));
  (got?.plan?.measurements.configurations[0]?.points as unknown as { offeredRps: number }[])[0]!.offeredRps = 9;
  assert.equal((await store.getPlan('p1'))?.plan?.measurements.configurations[0]?.points[0]?.offeredRps, 50);
  assert.equal(await store.getPlan('nope'), undefined);

  // a second put of an id replaces the plan and keeps its place
  await store.putPlan({ ...planJob('p1', 'm', 1, 'failed') });
  assert.deepEqual((await store.listPlans('m', 1)).map((p) => [p.id, p.status]), [['p2', 'succeeded'], ['p1', 'failed']]);
}

const report = (id: string, model: string, version: number, passed: boolean): ValidationReport =>
  ({ id, model, version, createdAt: `2026-11-30T00:00:0${id.length}Z`, createdBy: 'ci', passed, gates: passed ? { results: [{ gate: 'accuracy >= 0.9', passed }] } : null, baseline: null, data: { name: 'test.csv' } }) as unknown as ValidationReport;

async function validationContract(store: ValidationStore): Promise<void> {
  await store.putReport(report('r1', 'm', 1, true));
  await store.putReport(report('r2', 'm', 1, false));
  await store.putReport(report('r3', 'm', 2, true));
  assert.deepEqual((await store.listReports('m')).map((r) => r.id), ['r3', 'r2', 'r1'], 'newest first');
  assert.deepEqual((await store.listReports('m', 1)).map((r) => [r.id, r.passed, r.gated, r.data]), [['r2', false, false, 'test.csv'], ['r1', true, true, 'test.csv']]);
  assert.deepEqual((await store.listReports('m', undefined, 2)).map((r) => r.id), ['r3', 'r2']);
  assert.equal((await store.latestReport('m', 1))?.id, 'r2');
  assert.equal(await store.latestReport('m', 3), undefined);
  assert.deepEqual(await store.getReport('r1'), report('r1', 'm', 1, true));
  assert.equal(await store.getReport('nope'), undefined);

  const first = { digest: `sha256:${'a'.repeat(64)}`, name: 'train.csv', sizeBytes: 10, createdAt: '2026-11-30T00:00:00Z', createdBy: 'ci' };
  assert.deepEqual(await store.putDataset(first), first);
  // the same bytes again keep the first record
  assert.deepEqual(await store.putDataset({ ...first, name: 'again.csv', createdBy: 'someone' }), first);
  const second = { ...first, digest: `sha256:${'b'.repeat(64)}`, name: 'test.csv' };
  await store.putDataset(second);
  assert.deepEqual((await store.listDatasets()).map((d) => d.name), ['test.csv', 'train.csv'], 'newest first');
  assert.deepEqual(await store.getDataset(first.digest), first);
  assert.equal(await store.getDataset(`sha256:${'c'.repeat(64)}`), undefined);
}

async function withDatabase(run: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-predeploy-stores-'));
  try {
    await run(join(dir, 'db.sqlite'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const reopen = async (path: string, use: (db: SqliteDatabase) => Promise<void>): Promise<void> => {
  const db = openSqliteDatabase(path);
  try {
    await use(db);
  } finally {
    db.close();
  }
};

describe('capacity plan stores', () => {
  test('memory: newest first, by version, whole jobs back, a second put replaces', async () => {
    await planContract(createMemoryPlanStore());
  });
  test('SQLite: the same, and plans are still there after reopening', async () => {
    await withDatabase(async (path) => {
      await reopen(path, (db) => planContract(createSqlitePlanStore(db)));
      await reopen(path, async (db) => assert.deepEqual((await createSqlitePlanStore(db).listPlans('m')).map((p) => p.id), ['p3', 'p2', 'p1']));
    });
  });
});

describe('validation stores', () => {
  test('memory: reports newest first, latest per version, datasets kept once per digest', async () => {
    await validationContract(createMemoryValidationStore());
  });
  test('SQLite: the same, and reports are still there after reopening', async () => {
    await withDatabase(async (path) => {
      await reopen(path, (db) => validationContract(createSqliteValidationStore(db)));
      await reopen(path, async (db) => assert.equal((await createSqliteValidationStore(db).latestReport('m', 2))?.id, 'r3'));
    });
  });
});
