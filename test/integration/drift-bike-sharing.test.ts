/**
 * Real drift end to end: the bike-sharing example, trained on 2011, profiled from its held-out 2011
 * rows (with the target, so the profile knows the model's error), then served through the real
 * server with labels arriving as feedback, as `slipway predict --feedback` sends them:
 * - more 2011 rows (the training sample): no drift verdict, performance not degraded, no alert;
 * - 2012 rows: the service grew, so the same weather brings many more rentals — the model's error
 *   triples (performance drift, a one-sided Welch test against the profile's MAE) and humidity
 *   shifts; the report says drift, the gauges say so, and the alert rule on slipway_drift_detected
 *   fires to a webhook naming the endpoint, the version and the evidence.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createSeededRandom } from '../../src/stats/index.js';
import { runCli } from '../unit/cli/cli-harness.js';
import { startTestServer, type TestServer, adminHeaders, ADMIN_ENV } from '../support/server.js';

const dir = fileURLToPath(new URL('../../examples/models/bike-sharing/', import.meta.url));
let s: TestServer;
let receiver: Server;
let work = '';
const notifications: { status: string; alerts: { labels: Record<string, string>; status: string }[]; slipway?: unknown }[] = [];

interface Report {
  status: string;
  window: { rows: number };
  dataset: { driftedFeatures: string[]; drifted: boolean };
  performance: { metric: string; labels: number; value: number; reference: number; pValue: number; degraded: boolean | null } | null;
}

async function drift(): Promise<Report> {
  const r = await s.call('GET', '/api/v1/endpoints/bike-sharing/drift');
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return (r.json.drift as { current: Report }).current;
}

/** Polls (bounded) until `check` holds. */
async function until<T>(what: string, read: () => Promise<T>, check: (value: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last = await read();
  while (!check(last)) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    last = await read();
  }
  return last;
}

/**
 * The CSV's rows in a seeded random order, written to the work folder. The files are in date
 * order, and a window of the first rows of a year is a season — drift against a whole year's
 * reference, truly, but not the comparison this test is about.
 */
function shuffled(file: string, name: string, keep: (index: number) => boolean = () => true): { path: string; rows: number } {
  const [header, ...lines] = readFileSync(`${dir}${file}`, 'utf8').trim().split('\n');
  const rows = lines.filter((_, i) => keep(i));
  const random = createSeededRandom(2012);
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [rows[i], rows[j]] = [rows[j] as string, rows[i] as string];
  }
  const path = join(work, name);
  writeFileSync(path, `${[header, ...rows].join('\n')}\n`);
  return { path, rows: rows.length };
}

async function profile(): Promise<void> {
  const csv = readFileSync(`${dir}test.csv`, 'utf8');
  const res = await fetch(`${s.url}/api/v1/models/bike-sharing/versions/1/profile?target=cnt&source=test.csv`, { method: 'PUT', headers: adminHeaders({ 'content-type': 'text/csv' }), body: csv });
  assert.equal(res.status, 200, await res.text());
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'slipway-bike-drift-'));
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      notifications.push(JSON.parse(body) as (typeof notifications)[number]);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const address = receiver.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  s = await startTestServer({
    examples: true,
    overrides: {
      'monitoring.drift.checkIntervalSeconds': 1,
      'monitoring.alerts.evaluationIntervalSeconds': 1,
      'monitoring.alerts.webhooks': [{ name: 'test', url: `http://127.0.0.1:${port}/hook` }],
      'monitoring.alerts.rules': [{ name: 'bike-drift', metric: 'slipway_drift_detected', labels: { endpoint: 'bike-sharing' }, op: '==', threshold: 1, severity: 'warning' }],
    },
  });
  await s.settled;
  await profile();
});
after(async () => {
  await s.stop();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
  await rm(work, { recursive: true, force: true });
});

describe('bike sharing: trained on 2011, served 2012', () => {
  test('2011 rows like the reference raise no drift verdict and no alert', async () => {
    const data = shuffled('reference.csv', '2011.csv');
    const cli = await runCli(['--server', s.url, 'predict', 'bike-sharing', '--data', data.path, '--target', 'cnt', '--feedback', '--concurrency', '8'], { env: ADMIN_ENV });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /^500 rows sent one per request to bike-sharing: 500 answered, 0 failed; 500 labels sent as feedback/m);
    const report = await until('labels in the window', drift, (r) => r.performance?.labels === 500);
    assert.equal(report.window.rows, 500);
    assert.equal(report.status, 'no_drift', JSON.stringify(report.dataset));
    assert.equal(report.dataset.drifted, false);
    assert.equal(report.performance?.metric, 'mae');
    assert.equal(report.performance?.degraded, false, 'the training rows are predicted better than the held-out reference');
    // the business report's error figures: the same 500 labels against the same predictions, joined in the prediction store
    const business = await s.call('GET', '/api/v1/endpoints/bike-sharing/business?since=1h');
    assert.equal(business.status, 200, JSON.stringify(business.json));
    const row = (business.json as unknown as { variants: { versions: { accuracy: { labels: number }; error: { labels: number; mae: number; rmse: number } }[] }[] }).variants[0]?.versions[0];
    assert.equal(row?.error.labels, 500);
    const mae = report.performance?.value ?? NaN;
    assert.ok(Math.abs((row?.error.mae ?? NaN) - mae) <= 1e-9 * mae, `business MAE ${row?.error.mae} against the drift window's ${mae}`);
    assert.ok((row?.error.rmse ?? 0) >= mae, 'an RMSE is at least the MAE');
    // the periodic check has run (the gauge is there) and the rule has looked at it: nothing fires
    await until('the drift gauge', () => s.call('GET', '/metrics').then(() => fetch(`${s.url}/metrics`, { headers: adminHeaders() }).then((r) => r.text())), (t) => /^slipway_drift_detected\{endpoint="bike-sharing",model="bike-sharing",version="1"\} 0$/m.test(t));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const alerts = await s.call('GET', '/api/v1/alerts');
    assert.equal(alerts.status, 200);
    assert.deepEqual(alerts.json.alerts, [], JSON.stringify(alerts.json));
    assert.equal(notifications.length, 0);
  });

  test('2012 rows drift: the error triples against the profile\'s, humidity moves, and the alert names endpoint, version and evidence', async () => {
    await profile(); // a new profile starts the windows afresh
    // every third 2012 hour, for time
    const { path, rows } = shuffled('drift.csv', '2012.csv', (i) => i % 3 === 0);
    const cli = await runCli(['--server', s.url, 'predict', 'bike-sharing', '--data', path, '--target', 'cnt', '--feedback', '--concurrency', '8'], { env: ADMIN_ENV });
    assert.equal(cli.code, 0, cli.stderr);
    const report = await until('2012 labels in the window', drift, (r) => r.performance?.labels === rows);
    assert.equal(report.window.rows, rows);
    assert.equal(report.status, 'drift');
    assert.ok(report.dataset.driftedFeatures.includes('hum'), `humidity drifts: ${report.dataset.driftedFeatures.join(', ')}`);
    assert.equal(report.dataset.drifted, false, 'the inputs alone barely move: it is the relation to rentals that changed');
    const p = report.performance!;
    assert.equal(p.degraded, true);
    assert.ok(p.value > 2 * p.reference, `MAE ${p.value} against ${p.reference}`);
    assert.ok(p.pValue < 1e-6);

    // the periodic check may have run before the labels arrived: wait for one that has them
    const metrics = await until('the performance gauge at 1', () => fetch(`${s.url}/metrics`, { headers: adminHeaders() }).then((r) => r.text()), (t) =>
      /^slipway_drift_performance_degraded\{endpoint="bike-sharing",model="bike-sharing",version="1",metric="mae"\} 1$/m.test(t),
    );
    assert.match(metrics, /^slipway_drift_detected\{endpoint="bike-sharing",model="bike-sharing",version="1"\} 1$/m);
    assert.match(metrics, /^slipway_drift_feature_drifted\{endpoint="bike-sharing",model="bike-sharing",version="1",feature="hum"\} 1$/m);

    const firing = await until('a firing notification', async () => notifications.find((n) => n.status === 'firing'), (n) => n !== undefined);
    const alert = firing!.alerts[0]!;
    assert.equal(alert.labels.alertname, 'bike-drift');
    assert.equal(alert.labels.endpoint, 'bike-sharing');
    assert.equal(alert.labels.version, '1');
    const evidence = JSON.stringify(firing!.slipway);
    // it fired at the first check that saw drift, which may be before the labels arrived: the evidence is of that moment
    assert.match(evidence, /"driftedFeatures":\[[^\]]*"hum"/);
    assert.match(evidence, /"performance":\{"metric":"mae"/);

    const html = await fetch(`${s.url}/api/v1/endpoints/bike-sharing/drift/report.html`, { headers: adminHeaders() });
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
    const page = await html.text();
    assert.equal(page.match(/<svg /g)?.length, 12, 'a chart per feature and one for the predictions');
    assert.match(page, /degraded/);
  });
});
