import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { createHttpServer } from '../../../../src/app/http-server.js';
import { main } from '../../../../src/cli/main.js';
import { createFakeClock, type FakeClock } from '../../../../src/core/index.js';
import { alertsApi } from '../../../../src/monitoring/alerts/api.js';
import { createAlertsClient } from '../../../../src/monitoring/alerts/client.js';
import {
  compileAlertsOptions,
  createAlerting,
  createMemoryAlertStore,
  createStaticSignalSource,
  registerAlertMetrics,
  type Alerting,
  type AlertNotification,
} from '../../../../src/monitoring/alerts/index.js';

const T0 = Date.UTC(2026, 0, 1);

interface JsonResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function request(url: string, method: string, path: string, init: { json?: unknown; body?: string; type?: string } = {}): Promise<JsonResponse> {
  const body = init.json === undefined ? init.body : JSON.stringify(init.json);
  const headers: Record<string, string> = body === undefined ? {} : { 'content-type': init.type ?? 'application/json' };
  const res = await fetch(url + path, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

describe('the alerts API over HTTP', () => {
  let app: FastifyInstance;
  let url: string;
  let alerting: Alerting;
  let clock: FakeClock;
  let share = 0.9;
  const sent: AlertNotification[] = [];
  const routes: [string, string, unknown][] = [];
  const dir = mkdtempSync(join(tmpdir(), 'slipway-alerts-cli-'));

  before(async () => {
    clock = createFakeClock(T0);
    const source = createStaticSignalSource(() => [{ name: 'slipway_drift_share', type: 'gauge', samples: [{ name: 'slipway_drift_share', labels: { endpoint: 'shop', model: 'shop', version: '2' }, value: share }] }]);
    alerting = createAlerting({
      config: compileAlertsOptions({ rules: [{ name: 'drift', metric: 'slipway_drift_share', op: '>', threshold: 0.5, severity: 'critical', description: 'Half the features drift.' }] }),
      source,
      store: createMemoryAlertStore(),
      clock,
      notifier: { notify: (n) => void sent.push(n), stats: () => [], close: async () => undefined },
    });
    app = createHttpServer({ bodyLimitBytes: 1024 * 1024, logLevel: 'silent', lifecycle: () => 'ready' });
    app.addHook('onRoute', (route) => void routes.push([String(route.method), route.url, (route.config as { permission?: unknown } | undefined)?.permission]));
    await app.register(alertsApi({ alerting, principal: () => 'tester' }), { prefix: '/api/v1' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  });
  after(async () => {
    await alerting.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('declares a read permission for reading and admin for writing rules', () => {
    assert.deepEqual(
      routes.filter(([method]) => method !== 'HEAD'),
      [
        ['GET', '/api/v1/alerts', 'metrics:read'],
        ['GET', '/api/v1/alerts/history', 'metrics:read'],
        ['GET', '/api/v1/alerts/rules', 'metrics:read'],
        ['PUT', '/api/v1/alerts/rules/:name', 'admin'],
        ['DELETE', '/api/v1/alerts/rules/:name', 'admin'],
      ],
    );
  });

  test('creates a rule (201), replaces it (200), and lists it beside the config rule', async () => {
    const created = await request(url, 'PUT', '/api/v1/alerts/rules/error-rate', {
      json: { metric: 'slipway_errors_total', reduce: 'ratio', denominator: 'slipway_requests_total', by: ['endpoint'], window: '5m', op: '>', threshold: 0.05, minSamples: 100, for: '2m', severity: 'critical', action: 'rollback' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((created.body.rule as { updatedBy: string }).updatedBy, 'tester');
    const replaced = await request(url, 'PUT', '/api/v1/alerts/rules/error-rate', { body: 'metric: slipway_errors_total\nreduce: increase\nop: ">"\nthreshold: 10\n', type: 'application/yaml' });
    assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
    assert.equal(replaced.body.created, false);
    const listed = await request(url, 'GET', '/api/v1/alerts/rules');
    const rules = listed.body.rules as { name: string; source: string; rule: { reduce: string } }[];
    assert.deepEqual(rules.map((r) => [r.name, r.source, r.rule.reduce]), [['drift', 'config', 'value'], ['error-rate', 'api', 'increase']]);
  });

  test('answers 400 naming each bad field, 409 for a config rule, 404 for an unknown one', async () => {
    const bad = await request(url, 'PUT', '/api/v1/alerts/rules/bad', { json: { metric: 'slipway_errors_total', op: 'bigger', threshold: 'x', window: '5 min' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'ALERTS_INVALID_RULE');
    const paths = ((bad.body.details as { problems: { path: string }[] }).problems).map((p) => p.path).sort();
    assert.deepEqual(paths, ['op', 'threshold', 'window']);
    const clash = await request(url, 'PUT', '/api/v1/alerts/rules/drift', { json: { metric: 'slipway_drift_share', op: '>', threshold: 0.9 } });
    assert.equal(clash.status, 409);
    assert.equal(clash.body.code, 'ALERTS_RULE_READ_ONLY');
    assert.equal((await request(url, 'DELETE', '/api/v1/alerts/rules/drift')).status, 409);
    const missing = await request(url, 'DELETE', '/api/v1/alerts/rules/nothing-here');
    assert.deepEqual([missing.status, missing.body.code], [404, 'ALERTS_RULE_NOT_FOUND']);
    const badJson = await request(url, 'PUT', '/api/v1/alerts/rules/x', { body: '{nope' });
    assert.deepEqual([badJson.status, badJson.body.code], [400, 'HTTP_INVALID_JSON']);
    const badLimit = await request(url, 'GET', '/api/v1/alerts/history?limit=0');
    assert.deepEqual([badLimit.status, badLimit.body.code], [400, 'ALERTS_INVALID_QUERY']);
  });

  test('shows firing alerts and their history, and the CLI prints them', async () => {
    share = 0.9;
    await alerting.evaluate();
    const active = await request(url, 'GET', '/api/v1/alerts');
    const alerts = active.body.alerts as { rule: string; state: string; endpoint: string; version: string; evidence: { figures: { value: number } } }[];
    assert.deepEqual(alerts.map((a) => [a.rule, a.state, a.endpoint, a.version, a.evidence.figures.value]), [['drift', 'firing', 'shop', '2', 0.9]]);
    share = 0.1;
    await clock.advance(15_000);
    await alerting.evaluate();
    const history = await createAlertsClient({ baseUrl: url }).history({ limit: 5, rule: 'drift' });
    assert.deepEqual(history.events.map((e) => e.type), ['resolved', 'firing']);

    const out = { text: '', write: (c: string) => ((out.text += c), true) };
    const err = { text: '', write: (c: string) => ((err.text += c), true) };
    const io = { stdout: out, stderr: err, env: { SLIPWAY_SERVER: url }, cwd: dir };
    assert.equal(await main(['alerts', 'history', '--limit', '5'], io), 0, err.text);
    assert.match(out.text, /AT +EVENT +RULE/);
    assert.match(out.text, /resolved +drift +critical +shop +shop:2/);
  });

  test('the CLI sets rules from a YAML file and deletes them', async () => {
    writeFileSync(join(dir, 'rules.yaml'), 'rules:\n  - name: slow\n    metric: slipway_request_duration_seconds\n    reduce: p99\n    window: 5m\n    op: ">"\n    threshold: 0.5\n    severity: warning\n');
    const out = { text: '', write: (c: string) => ((out.text += c), true) };
    const err = { text: '', write: (c: string) => ((err.text += c), true) };
    const io = { stdout: out, stderr: err, env: { SLIPWAY_SERVER: url }, cwd: dir };
    assert.equal(await main(['alerts', 'set', '-f', 'rules.yaml'], io), 0, err.text);
    assert.match(out.text, /Alert rule slow created: p99\(slipway_request_duration_seconds\[5m\]\) > 0\.5 for 0s \(warning\)/);
    out.text = '';
    assert.equal(await main(['alerts', 'rules'], io), 0, err.text);
    assert.match(out.text, /slow +api +p99/);
    assert.equal(await main(['alerts', 'delete', 'slow'], io), 0, err.text);
    assert.notEqual(await main(['alerts', 'delete', 'drift'], io), 0);
    assert.match(err.text, /ALERTS_RULE_READ_ONLY/);
  });
});

describe('alerting metrics', () => {
  test('exports firing alerts by rule and severity, and notification counts by receiver', async () => {
    const registry = new Registry();
    registerAlertMetrics(registry, {
      active: () => [
        { rule: 'drift', severity: 'critical', state: 'firing' },
        { rule: 'drift', severity: 'critical', state: 'firing' },
        { rule: 'slow', severity: 'warning', state: 'pending' },
      ] as never,
      stats: () => ({ evaluations: 7, evaluationFailures: 1, lastEvaluationAt: null, series: { series: 0, points: 0, refusedSeries: 0 }, notifications: [{ receiver: 'ops', queued: 1, sent: 4, failed: 1, dropped: 2, retries: 3 }], actions: { ok: 1, error: 0, disabled: 2 }, notificationsQueued: 1 }),
    });
    const text = await registry.metrics();
    assert.match(text, /slipway_alerts_firing\{rule="drift",severity="critical"\} 2/);
    assert.match(text, /slipway_alerts_pending\{rule="slow",severity="warning"\} 1/);
    assert.match(text, /slipway_alert_notifications_total\{receiver="ops",outcome="sent"\} 4/);
    assert.match(text, /slipway_alert_notifications_total\{receiver="ops",outcome="dropped"\} 2/);
    assert.match(text, /slipway_alert_notification_retries_total\{receiver="ops"\} 3/);
    assert.match(text, /slipway_alert_actions_total\{outcome="disabled"\} 2/);
    assert.match(text, /slipway_alert_evaluations_total 7/);
    assert.doesNotMatch(text, /slipway_alerts_firing\{rule="slow"/);
  });
});
