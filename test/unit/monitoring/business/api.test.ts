import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Command } from 'commander';
import { createHttpServer } from '../../../../src/app/http-server.js';
import { registerBusinessCommand } from '../../../../src/cli/commands/business.js';
import type { CliIo } from '../../../../src/cli/io.js';
import { PlatformError } from '../../../../src/core/index.js';
import { businessApi, readBusinessQuery, type BusinessResponse } from '../../../../src/monitoring/business/api.js';
import { createBusinessClient } from '../../../../src/monitoring/business/client.js';
import { createBusinessMetrics } from '../../../../src/monitoring/business/index.js';
import { RegistryErrors } from '../../../../src/registry/index.js';
import { capture } from '../../cli/cli-harness.js';
import { request } from '../harness.js';
import { fixedUsage, HOUR, seedShop, seededMonitoring, T0, type Seeded } from './fixtures.js';

const CPU = [
  { endpoint: 'shop', model: 'shop-model', version: 1, cpuSeconds: 36 },
  { endpoint: 'shop', model: 'shop-model', version: 2, cpuSeconds: 72 },
  { endpoint: 'shop', model: 'shop-model', version: 3, cpuSeconds: 18 },
];

describe('business route over HTTP', () => {
  let url: string;
  let s: Seeded;
  let app: ReturnType<typeof createHttpServer>;
  const routes: { method: string; url: string; permission: unknown }[] = [];
  const usage = fixedUsage(CPU);

  before(async () => {
    s = seededMonitoring();
    await seedShop(s);
    const business = createBusinessMetrics({
      monitoring: s.monitoring,
      usage,
      options: { pricePerCoreHour: 0.5, outcomeValues: { conversion: 3, click: 0.5 } },
      clock: s.clock,
    });
    app = createHttpServer({ bodyLimitBytes: 1024 * 1024, logLevel: 'silent', lifecycle: () => 'ready' });
    app.addHook('onRoute', (route) => {
      routes.push({ method: String(route.method), url: route.url, permission: (route.config as { permission?: unknown } | undefined)?.permission });
    });
    await app.register(
      businessApi({
        business,
        clock: s.clock,
        endpointExists: async (name) => {
          if (name !== 'shop') throw RegistryErrors.REGISTRY_ENDPOINT_NOT_FOUND(`endpoint "${name}" does not exist`, { details: { endpoint: name } });
        },
      }),
      { prefix: '/api/v1' },
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  });

  after(async () => {
    await s.monitoring.close();
    await app.close();
  });

  test('declares models:read, as the outcomes route does', () => {
    assert.deepEqual(
      routes.filter((r) => r.method === 'GET').map((r) => [r.url, r.permission]),
      [['/api/v1/endpoints/:name/business', 'models:read']],
    );
  });

  test('answers the report per variant and version with its times as ISO-8601', async () => {
    const res = await request(url, 'GET', `/api/v1/endpoints/shop/business?since=${new Date(T0).toISOString()}&until=${T0 + HOUR}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const body = res.body as unknown as BusinessResponse;
    assert.equal(body.endpoint, 'shop');
    assert.equal(body.since, new Date(T0).toISOString());
    assert.equal(body.until, new Date(T0 + HOUR).toISOString());
    assert.equal(body.usage?.measuredSince, new Date(T0).toISOString());
    const stable = body.variants.find((v) => v.variant === 'stable')?.versions[0];
    assert.equal(stable?.predictions, 10);
    assert.equal(stable?.conversion?.rate, 0.25);
    assert.equal(stable?.costPer1kPredictions, 0.5);
    assert.equal(stable?.valuePer1kPredictions, 800);
  });

  test('defaults to the last 24 hours and reads a duration ago from the server\'s clock', async () => {
    const plain = await request(url, 'GET', '/api/v1/endpoints/shop/business');
    assert.equal(plain.status, 200);
    assert.equal(plain.body.since, new Date(T0 + HOUR - 24 * HOUR).toISOString());
    assert.equal(plain.body.until, null);
    const ago = await request(url, 'GET', '/api/v1/endpoints/shop/business?since=2h&until=30m');
    assert.equal(ago.status, 200);
    assert.equal(ago.body.since, new Date(T0 - HOUR).toISOString());
    assert.equal(ago.body.until, new Date(T0 + HOUR / 2).toISOString());
  });

  test('answers 404 for an unknown endpoint, as the registry names it', async () => {
    const res = await request(url, 'GET', '/api/v1/endpoints/nowhere/business');
    assert.equal(res.status, 404);
    assert.equal(res.body.code, 'REGISTRY_ENDPOINT_NOT_FOUND');
  });

  test('answers 400 listing every problem of a malformed query', async () => {
    const res = await request(url, 'GET', '/api/v1/endpoints/shop/business?since=yesterday&until=3&color=red');
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'BUSINESS_INVALID_QUERY');
    const problems = (res.body.details as { problems: { path: string }[] }).problems.map((p) => p.path);
    assert.deepEqual(problems, ['color', 'since']);
    const order = await request(url, 'GET', `/api/v1/endpoints/shop/business?since=${T0}&until=${T0}`);
    assert.equal(order.status, 400);
    assert.match(String(order.body.error), /until: must be after since/);
    const name = await request(url, 'GET', '/api/v1/endpoints/Not_A_Name/business');
    assert.equal(name.status, 400);
    assert.equal(name.body.code, 'MONITORING_INVALID_PARAM');
  });

  test('has a typed client that sends the window and returns the report', async () => {
    const client = createBusinessClient({ baseUrl: url });
    const body = await client.report('shop', { since: new Date(T0), until: T0 + HOUR });
    assert.equal(body.since, new Date(T0).toISOString());
    assert.equal(body.variants.length, 3);
    await assert.rejects(
      () => client.report('nowhere'),
      (e: unknown) => e instanceof PlatformError && e.code === 'REGISTRY_ENDPOINT_NOT_FOUND',
    );
  });

  describe('slipway business', () => {
    async function run(argv: readonly string[]) {
      const stdout = capture();
      const stderr = capture();
      const io: CliIo = { stdout, stderr, env: {}, cwd: process.cwd(), waitForStop: () => new Promise(() => undefined) };
      const program = new Command('slipway').option('--server <url>').option('--api-key <key>').option('--json').exitOverride();
      registerBusinessCommand(program, io);
      await program.parseAsync(['--server', url, ...argv], { from: 'user' });
      return { stdout: stdout.text, stderr: stderr.text };
    }

    test('prints a table per variant and version', async () => {
      const { stdout } = await run(['business', 'shop', '--since', String(T0), '--until', new Date(T0 + HOUR).toISOString()]);
      assert.match(stdout, /^Endpoint shop — predictions from 2026-03-03 12:00:00Z to 2026-03-03 13:00:00Z/);
      assert.match(stdout, /cost: 0\.5 USD per core-hour of measured CPU/);
      assert.match(stdout, /value: conversion = 3 USD, click = 0\.5 USD/);
      const lines = stdout.split('\n');
      const header = lines.find((l) => l.startsWith('VARIANT'));
      assert.ok(header !== undefined, stdout);
      assert.match(header, /VERSION\s+PREDICTIONS\s+CONVERSION \(95% CI, N\)\s+REVENUE\s+REV\/PRED\s+ACCURACY \(95% CI, LABELS\)\s+MAE \/ RMSE \(LABELS\)/);
      const stable = lines.find((l) => l.startsWith('stable'));
      assert.ok(stable !== undefined);
      assert.deepEqual(stable.split(/\s{2,}/), ['stable', 'shop-model:1', '10', '25% [7.1–59.1] (2)', '30', '3.75', '75% [30.1–95.4] (4)', '0.25 / 0.5 (4)', '36', '0.5', '800', '799.5']);
      const shadow = lines.find((l) => l.startsWith('shadow'));
      assert.ok(shadow !== undefined);
      assert.deepEqual(shadow.split(/\s{2,}/).slice(0, 5), ['shadow', 'shop-model:3', '4', 'n/a', 'n/a']);
    });

    test('prints the API\'s JSON with --json', async () => {
      const { stdout } = await run(['--json', 'business', 'shop', '--since', '2h']);
      const body = JSON.parse(stdout) as BusinessResponse;
      assert.equal(body.endpoint, 'shop');
      assert.equal(body.since, new Date(T0 - HOUR).toISOString());
    });
  });
});

describe('business query', () => {
  test('reads ISO-8601, epoch milliseconds and durations ago', () => {
    const now = T0;
    assert.deepEqual(readBusinessQuery({ since: '2026-03-03T11:00:00Z' }, now), { since: T0 - HOUR });
    assert.deepEqual(readBusinessQuery({ since: String(T0 - 5) }, now), { since: T0 - 5 });
    assert.deepEqual(readBusinessQuery({ since: '7d', until: '1d12h' }, now), { since: T0 - 7 * 24 * HOUR, until: T0 - 36 * HOUR });
  });

  test('refuses a parameter given twice', () => {
    assert.throws(() => readBusinessQuery({ since: ['1h', '2h'] }, T0), /since: is given 2 times; give it once/);
  });
});
