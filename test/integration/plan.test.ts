/**
 * Capacity planning on the real server: `slipway plan` measures the breast-cancer example on this
 * machine (a short budget) and recommends a configuration, which the server keeps with the version
 * across a restart; bad targets are refused by field.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { PlanResult, PlanSummary } from '../../src/optimize/plan/index.js';
import { runCli } from '../unit/cli/cli-harness.js';
import { ADMIN_ENV, startTestServer, type TestServer } from '../support/server.js';

let s: TestServer;
// a data directory of its own, so that the server can be restarted on it
const dataDir = mkdtempSync(join(tmpdir(), 'slipway-plan-it-'));
before(async () => {
  s = await startTestServer({ examples: true, dataDir });
});
after(async () => {
  await s.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

void test('slipway plan recommends a configuration meeting a loose target, with the measurements behind it', async () => {
  const r = await runCli(['--server', s.url, '--json', 'plan', 'breast-cancer:1', '--rps', '50', '--p99-ms', '200', '--price-per-core-hour', '0.04', '--budget', '10'], { env: ADMIN_ENV });
  assert.equal(r.code, 0, r.stderr);
  const plan = (JSON.parse(r.stdout) as { plan: PlanResult }).plan;
  assert.equal(plan.feasible, true, plan.reason ?? '');
  const rec = plan.recommendation;
  assert.ok(rec !== null);
  assert.ok(rec.instances >= 1);
  assert.ok(rec.expectedP99Ms <= 200);
  assert.ok(rec.costPer1MPredictions !== null && rec.costPer1MPredictions > 0);
  assert.ok(plan.alternatives.length >= 1);
  assert.ok(plan.measurements.serviceTimes.length >= 1);
  assert.equal(plan.target.rps, 50);

  // the plan is kept with its version, and outlives the server that measured it
  const listed = await s.call('GET', '/api/v1/models/breast-cancer/versions/1/plans');
  assert.equal(listed.status, 200, JSON.stringify(listed.json));
  const [kept] = listed.json.plans as PlanSummary[];
  assert.ok(kept !== undefined, 'the finished plan is listed');
  assert.deepEqual([kept.status, kept.feasible, kept.target], ['succeeded', true, { rps: 50, p99Ms: 200 }]);
  assert.equal(kept.recommendation?.instances, rec.instances);
  await s.stop();
  s = await startTestServer({ examples: true, dataDir });
  const again = await s.call('GET', `/api/v1/plans/${kept.id}`);
  assert.equal(again.status, 200, JSON.stringify(again.json));
  assert.deepEqual((again.json.plan as { plan: PlanResult }).plan, plan, 'the whole plan, measurements included, after a restart');
  const list = await runCli(['--server', s.url, 'plans', 'list', 'breast-cancer:1'], { env: ADMIN_ENV });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`${kept.id}\\s+succeeded .* 50 req/s, p99 ≤ 200 ms\\s+yes\\s+${rec.instances} × `));
  const show = await runCli(['--server', s.url, 'plans', 'show', kept.id], { env: ADMIN_ENV });
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /serving:/, 'the plan as `slipway plan` printed it, with its serving block');
  const none = await runCli(['--server', s.url, 'plans', 'list', 'breast-cancer:1', '--json'], { env: ADMIN_ENV });
  assert.equal((JSON.parse(none.stdout) as { plans: PlanSummary[] }).plans.length, 1);
});

void test('bad targets are refused by field before anything is measured', async () => {
  const neg = await s.call('POST', '/api/v1/models/breast-cancer/versions/1/plans', { rps: -1, p99Ms: 10 });
  assert.equal(neg.status, 400);
  assert.equal(neg.json.code, 'OPTIMIZE_PLAN_INVALID_TARGET');
  assert.match(String(neg.json.error), /rps/);
  const unknown = await s.call('POST', '/api/v1/models/breast-cancer/versions/1/plans', { rps: 10, p99Ms: 10, replicas: 2 });
  assert.equal(unknown.status, 400);
  assert.match(String(unknown.json.error), /^replicas: unknown field/);
  const budget = await s.call('POST', '/api/v1/models/breast-cancer/versions/1/plans', { rps: 10, p99Ms: 10, budgetSeconds: 5 });
  assert.equal(budget.status, 400);
  assert.match(String(budget.json.error), /budgetSeconds/);
  const missing = await s.call('GET', '/api/v1/plans/nope');
  assert.equal(missing.status, 404);
  assert.equal(missing.json.code, 'OPTIMIZE_PLAN_NOT_FOUND');
  const noVersion = await s.call('GET', '/api/v1/models/breast-cancer/versions/0/plans');
  assert.equal(noVersion.status, 400);
  const showMissing = await runCli(['--server', s.url, 'plans', 'show', 'nope'], { env: ADMIN_ENV });
  assert.equal(showMissing.code, 3, showMissing.stderr);
  assert.match(showMissing.stderr, /OPTIMIZE_PLAN_NOT_FOUND/);
  const cli = await runCli(['--server', s.url, 'plan', 'breast-cancer:1', '--rps', 'fast', '--p99-ms', '10'], { env: ADMIN_ENV });
  assert.equal(cli.code, 2);
  assert.match(cli.stderr, /--rps must be a number/);
});
