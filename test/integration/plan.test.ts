/**
 * Capacity planning on the real server: `slipway plan` measures the breast-cancer example on this
 * machine (a short budget) and recommends a configuration; bad targets are refused by field.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { PlanResult } from '../../src/optimize/plan/index.js';
import { runCli } from '../unit/cli/cli-harness.js';
import { ADMIN_ENV, startTestServer, type TestServer } from '../support/server.js';

let s: TestServer;
before(async () => {
  s = await startTestServer({ examples: true });
});
after(async () => {
  await s.stop();
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
  const cli = await runCli(['--server', s.url, 'plan', 'breast-cancer:1', '--rps', 'fast', '--p99-ms', '10'], { env: ADMIN_ENV });
  assert.equal(cli.code, 2);
  assert.match(cli.stderr, /--rps must be a number/);
});
