/**
 * Abuse detection over HTTP (docs/security.md#abuse-detection): two predictor keys call one
 * endpoint, one with natural queries and one with a synthetic extraction stream; only the attacker
 * is flagged, in `GET /api/v1/abuse`, `slipway abuse list`, the gauges and the audit log, and with
 * throttling on only the attacker gets 429.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createSeededRandom } from '../../src/stats/index.js';
import { addModel } from '../support/models.js';
import { addRequest, ADMIN_ENV, adminHeaders, startTestServer, type TestServer } from '../support/server.js';
import { runCli } from '../unit/cli/cli-harness.js';

interface Tracked {
  key: string;
  endpoint: string;
  queries: number;
  n: number;
  w: number | null;
  pValue: number | null;
  flagged: boolean;
  flaggedSince: string | null;
  throttled: boolean;
}

describe('abuse detection', () => {
  let s: TestServer;
  const tokens = { app: '', thief: '' };
  const infer = (token: string, rows: number[][]) => s.callAs(token, 'POST', '/v2/models/shop/infer', addRequest(rows));
  const tracked = async (): Promise<Tracked[]> => {
    const r = await s.call('GET', '/api/v1/abuse');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json.keys as Tracked[];
  };

  before(async () => {
    // throttled to one request per 1000 s: a flagged key gets its one token, then 429 (no timing in the test)
    s = await startTestServer({ overrides: { 'security.abuse.throttle': true, 'security.abuse.throttleRatePerSecond': 0.001 } });
    await s.push('shop-model', addModel(1));
    await s.deploy('shop', 'shop-model', 1);
    for (const name of ['app', 'thief'] as const) {
      const r = await s.call('POST', '/api/v1/keys', { name, roles: ['predictor'] });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      tokens[name] = r.json.token as string;
    }
  });
  after(() => s.stop());

  test('the attacker is flagged and throttled; the benign key is not', async () => {
    const r = createSeededRandom(3);
    const gaussianRow = (): number[] => [r.normal(), r.normal(), r.normal(), r.normal()];
    // the application: natural (Gaussian) rows, ten per request
    for (let i = 0; i < 15; i++) assert.equal((await infer(tokens.app, Array.from({ length: 10 }, gaussianRow))).status, 200);
    // the attacker: Papernot-style synthetic data augmentation, as in the PRADA paper: ten natural
    // seeds, then rounds in which every query so far gets a copy moved by ±0.1 in every feature
    let set = Array.from({ length: 10 }, gaussianRow);
    const stream = [...set];
    while (stream.length < 160) {
      const children = set.map((x) => x.map((v) => v + (r.bernoulli(0.5) ? 0.1 : -0.1)));
      stream.push(...children);
      set = [...set, ...children];
    }
    // answered until flagged (after the paper's minimum of 100 distances), then throttled: its one token, then 429
    let answered = 0;
    let refused: Awaited<ReturnType<typeof infer>> | undefined;
    for (const row of stream) {
      const res = await infer(tokens.thief, [row]);
      if (res.status === 429) {
        refused = res;
        break;
      }
      assert.equal(res.status, 200);
      answered++;
    }
    assert.ok(answered > 100 && answered < 120, `the attacker was answered ${answered} times before 429`);
    assert.equal(refused?.json.code, 'SECURITY_LIMIT_EXTRACTION');
    assert.match(String(refused?.json.error), /"key:thief" is throttled to 0\.001 requests\/s on endpoint "shop": its queries look like a model-extraction attack/);
    assert.equal(refused?.headers.get('retry-after'), '1000');

    // the last answer's observation runs once it is sent: wait (bounded) until the API shows it
    let keys: Tracked[] = [];
    for (let i = 0; i < 200; i++) {
      keys = await tracked();
      if (keys.find((k) => k.key === 'key:thief')?.queries === answered) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const thief = keys.find((k) => k.key === 'key:thief');
    const app = keys.find((k) => k.key === 'key:app');
    assert.ok(thief !== undefined && app !== undefined, JSON.stringify(keys));
    assert.equal(thief.endpoint, 'shop');
    assert.equal(thief.queries, answered);
    assert.equal(thief.flagged, true, `attacker W ${thief.w}`);
    assert.ok(thief.w !== null && thief.w < 0.85 && thief.pValue !== null && thief.pValue < 1e-3);
    assert.ok(thief.flaggedSince !== null);
    assert.equal(thief.throttled, true);
    assert.equal(app.queries, 150);
    assert.equal(app.flagged, false, `benign W ${app.w}`);
    assert.ok(app.w !== null && app.w >= 0.85);
    assert.equal(keys[0]?.key, 'key:thief', 'flagged first');

    // filters, and a bad one named
    const flaggedOnly = await s.call('GET', '/api/v1/abuse?flagged=true');
    assert.deepEqual((flaggedOnly.json.keys as Tracked[]).map((k) => k.key), ['key:thief']);
    assert.equal(flaggedOnly.json.flagged, 1);
    assert.equal(flaggedOnly.json.tracked, 2);
    const bad = await s.call('GET', '/api/v1/abuse?flagged=maybe&colour=red');
    assert.equal(bad.status, 400);
    assert.match(String(bad.json.error), /flagged: expected true or false.*|unknown parameter "colour"/);
    assert.equal((await s.callAs(tokens.app, 'GET', '/api/v1/abuse')).status, 403, 'admin only');

    // the gauges alert rules read
    const metrics = String((await s.call('GET', '/metrics')).json.raw);
    assert.match(metrics, /^slipway_extraction_suspected\{key="key:thief",endpoint="shop"\} 1$/m);
    assert.match(metrics, /^slipway_extraction_suspected\{key="key:app",endpoint="shop"\} 0$/m);
    const w = /^slipway_extraction_w\{key="key:thief",endpoint="shop"\} (\S+)$/m.exec(metrics);
    assert.ok(w !== null && Math.abs(Number(w[1]) - thief.w) < 1e-9);

    // still throttled; the benign key is untouched, on the same endpoint at the same time
    for (let i = 0; i < 2; i++) assert.equal((await infer(tokens.thief, [gaussianRow()])).status, 429);
    for (let i = 0; i < 3; i++) assert.equal((await infer(tokens.app, [gaussianRow()])).status, 200);
    assert.match(String((await s.call('GET', '/metrics')).json.raw), /^slipway_rate_limited_total\{scope="key",limit="extraction"\} 3$/m);

    // one audit entry, when the key was first flagged, with the key as the actor
    const audit = await fetch(`${s.url}/api/v1/audit?action=abuse.suspected`, { headers: adminHeaders() });
    assert.equal(audit.status, 200);
    const entries = (await audit.text())
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { actor: string; target: string; outcome: string; details: { endpoint: string; w: number; threshold: number } });
    assert.equal(entries.length, 1, JSON.stringify(entries));
    assert.equal(entries[0]?.actor, 'key:thief');
    assert.equal(entries[0]?.target, 'endpoint/shop');
    assert.equal(entries[0]?.details.endpoint, 'shop');
    assert.ok((entries[0]?.details.w ?? 1) < (entries[0]?.details.threshold ?? 0));

    // the CLI
    const list = await runCli(['--server', s.url, 'abuse', 'list'], { env: ADMIN_ENV });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /key:thief\s+shop\s+1\d\d\s+\d+\s+0\.\d{4}\s+\S+\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+yes/);
    assert.match(list.stdout, /key:app\s+shop\s+15\d\s+\d+\s+0\.\d{4}\s+\S+\s+-\s+no/);
    assert.match(list.stderr, /1 of 2 tracked flagged: W < 0\.85/);
    const json = await runCli(['--server', s.url, '--json', 'abuse', 'list', '--flagged'], { env: ADMIN_ENV });
    assert.deepEqual((JSON.parse(json.stdout) as { keys: Tracked[] }).keys.map((k) => k.key), ['key:thief']);
  });
});

describe('abuse detection on an open data plane', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ overrides: { 'security.auth.dataPlane': 'open' } });
    await s.push('shop-model', addModel(1));
    await s.deploy('shop', 'shop-model', 1);
  });
  after(() => s.stop());

  test('anonymous callers are tracked, flagged and audited by their address', async () => {
    const r = createSeededRandom(4);
    const gaussianRow = (): number[] => [r.normal(), r.normal(), r.normal(), r.normal()];
    let set = Array.from({ length: 10 }, gaussianRow);
    const stream = [...set];
    while (stream.length < 120) {
      const children = set.map((x) => x.map((v) => v + (r.bernoulli(0.5) ? 0.1 : -0.1)));
      stream.push(...children);
      set = [...set, ...children];
    }
    // ten rows per request, without credentials
    for (let i = 0; i < 120; i += 10) assert.equal((await s.callAs(undefined, 'POST', '/v2/models/shop/infer', addRequest(stream.slice(i, i + 10)))).status, 200);
    let caller: Tracked | undefined;
    for (let i = 0; i < 200; i++) {
      caller = ((await s.call('GET', '/api/v1/abuse')).json.keys as Tracked[]).find((k) => k.key === 'ip:127.0.0.1');
      if (caller?.queries === 120) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(caller?.queries, 120, JSON.stringify(caller));
    assert.equal(caller.flagged, true, `W ${caller.w}`);
    assert.equal(caller.throttled, false, 'throttling is off by default');
    const audit = await fetch(`${s.url}/api/v1/audit?action=abuse.suspected`, { headers: adminHeaders() });
    const entries = (await audit.text())
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { actor: string; ip: string; details: { caller: string } });
    assert.deepEqual(
      entries.map((e) => [e.actor, e.ip, e.details.caller]),
      [['anonymous', '127.0.0.1', 'ip:127.0.0.1']],
    );
    // not throttled: the open data plane keeps answering
    assert.equal((await s.callAs(undefined, 'POST', '/v2/models/shop/infer', addRequest([gaussianRow()]))).status, 200);
  });
});
