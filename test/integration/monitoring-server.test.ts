/**
 * The payload log and the business metrics on the real server, over HTTP: every inference request
 * is in the payload log whatever its status — an answer, a body that is not JSON, a wrong shape, an
 * unknown endpoint — with who answered and, for errors, both bodies (redacted where a rule says so);
 * conversions and revenue sent as feedback, and CPU measured while the model ran, come back per
 * variant and version with a cost per 1,000 predictions at the configured price; the metrics carry
 * the payload log's and the business figures' names.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer, adminHeaders } from '../support/server.js';

let s: TestServer;
before(async () => {
  s = await startTestServer({
    examples: true,
    overrides: {
      'monitoring.payloadLog.bodies.sampleRate': 0,
      'monitoring.payloadLog.flushIntervalMs': 50,
      'monitoring.payloadLog.redact': [{ path: 'inputs[name=input].data', action: 'mask', in: 'request' }],
      'monitoring.business.sampleIntervalSeconds': 1,
      'monitoring.business.pricePerCoreHour': 0.36,
      'monitoring.business.outcomeValues': { conversion: 2.5 },
    },
  });
  await s.settled;
});
after(async () => {
  await s.stop();
});

interface Entry {
  requestId: string;
  endpoint: string;
  model: string | null;
  version: number | null;
  variant: string | null;
  status: number;
  request?: unknown;
  response?: unknown;
}

/** The payload log's entries (NDJSON), polled until `count` match (bounded). */
async function entries(query: string, count: number): Promise<Entry[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await fetch(`${s.url}/api/v1/payloads?${query}`, { headers: adminHeaders() });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /ndjson/);
    const lines = (await r.text()).split('\n').filter((l) => l !== '');
    const parsed = lines.map((l) => JSON.parse(l) as Entry);
    if (parsed.length >= count || Date.now() > deadline) return parsed;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const row = Array.from({ length: 30 }, (_, i) => i / 10);

describe('monitoring on the real server', () => {
  test('the payload log keeps every inference request, errors with both bodies, redacted', async () => {
    const ok = await s.call('POST', '/v2/models/breast-cancer/infer', { inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: row }] });
    assert.equal(ok.status, 200);
    const badJson = await fetch(`${s.url}/v2/models/breast-cancer/infer`, { method: 'POST', headers: adminHeaders({ 'content-type': 'application/json' }), body: '{not json' });
    assert.equal(badJson.status, 400);
    const badShape = await s.call('POST', '/v2/models/breast-cancer/infer', { inputs: [{ name: 'input', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] });
    assert.equal(badShape.status, 400);
    const unknown = await s.call('POST', '/v2/models/no-such-endpoint/infer', { inputs: [] });
    assert.equal(unknown.status, 404);

    const all = await entries('endpoint=breast-cancer', 3);
    const byId = new Map(all.map((e) => [e.requestId, e]));
    const answered = byId.get(ok.headers.get('x-request-id') ?? '');
    assert.deepEqual([answered?.status, answered?.model, answered?.version, answered?.variant], [200, 'breast-cancer', 1, 'stable']);
    assert.equal(answered?.request, undefined, 'bodies of answers are sampled at 0 here');
    const shape = byId.get(badShape.headers.get('x-request-id') ?? '');
    assert.equal(shape?.status, 400);
    assert.deepEqual((shape?.request as { inputs: { data: unknown }[] }).inputs[0]?.data, '[REDACTED]');
    assert.equal((shape?.response as { code: string }).code, 'SERVING_SHAPE_MISMATCH');
    const notJson = byId.get(badJson.headers.get('x-request-id') ?? '');
    assert.equal(notJson?.status, 400);
    assert.equal(notJson?.model, null, 'refused before a version was chosen');
    const missing = await entries('status=404', 1);
    assert.equal(missing[0]?.endpoint, 'no-such-endpoint');

    const stats = await s.call('GET', '/api/v1/payloads/stats');
    assert.ok((stats.json.stats as { recorded: number }).recorded >= 4);
    const metrics = await (await fetch(`${s.url}/metrics`, { headers: adminHeaders() })).text();
    assert.match(metrics, /^slipway_payload_log_entries_total \d+$/m);
    assert.match(metrics, /^slipway_payload_log_dropped_total\{reason="buffer_full"\} 0$/m);
  });

  test('conversions, revenue and measured CPU come back per version with a cost per 1,000 predictions', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await s.call('POST', '/v2/models/breast-cancer/infer', { inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: row }] });
      ids.push(r.headers.get('x-request-id') ?? '');
    }
    // 10 of 40 convert, 4 of those buy for 20
    const items = [...ids.slice(0, 10).map((requestId) => ({ requestId, event: 'conversion' })), ...ids.slice(0, 4).map((requestId) => ({ requestId, event: 'purchase', value: 20 }))];
    const fed = await s.call('POST', '/api/v1/feedback', { items });
    assert.equal(fed.status, 200, JSON.stringify(fed.json));

    interface Figures { predictions: number; conversion: { conversions: number } | null; revenue: { sum: number } | null; cpuSeconds: number | null; costPer1kPredictions: number | null; valuePer1kPredictions: number | null }
    const report = async () => (await s.call('GET', '/api/v1/endpoints/breast-cancer/business?since=1h')).json as unknown as { variants: { variant: string; versions: ({ version: number } & Figures)[] }[]; pricePerCoreHour: number };
    // the CPU meter samples every second: wait (bounded) until it has attributed some to version 1
    const deadline = Date.now() + 15_000;
    let r = await report();
    while (!((r.variants[0]?.versions[0]?.cpuSeconds ?? 0) > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      r = await report();
    }
    assert.equal(r.pricePerCoreHour, 0.36);
    const v1 = r.variants.find((v) => v.variant === 'stable')?.versions.find((v) => v.version === 1);
    assert.ok(v1 !== undefined, JSON.stringify(r));
    assert.ok(v1.predictions >= 41, `predictions ${v1.predictions}`);
    assert.equal(v1.conversion?.conversions, 10);
    assert.equal(v1.revenue?.sum, 80);
    assert.ok((v1.cpuSeconds ?? 0) > 0, `cpu ${v1.cpuSeconds}`);
    assert.ok((v1.costPer1kPredictions ?? 0) > 0);
    // value: 10 conversions × 2.5 over the predictions in the window
    assert.ok(Math.abs((v1.valuePer1kPredictions ?? 0) - (25 / v1.predictions) * 1000) < 1e-9, `value ${v1.valuePer1kPredictions}`);

    const cli = await fetch(`${s.url}/api/v1/endpoints/breast-cancer/business?since=yesterday`, { headers: adminHeaders() });
    assert.equal(cli.status, 400);
    assert.equal(((await cli.json()) as { code: string }).code, 'BUSINESS_INVALID_QUERY');
  });
});
