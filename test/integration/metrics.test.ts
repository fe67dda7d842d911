/**
 * `/metrics` through the real server: Prometheus text with slipway_* names, request counts and
 * latency histograms by endpoint, version, variant and status, errors by code, and the gauges the
 * scrape reads from the deployments and rollouts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addModel } from '../support/models.js';
import { addRequest, startTestServer, type TestServer, adminHeaders } from '../support/server.js';

let s: TestServer;
before(async () => {
  s = await startTestServer({ overrides: { 'rollouts.tickMs': 100 } });
  await s.push('m', addModel(1));
  await s.push('m', addModel(2));
  await s.deploy('metered', 'm', 1);
});
after(async () => {
  await s.stop();
});

async function scrape(): Promise<{ type: string | null; text: string }> {
  const res = await fetch(`${s.url}/metrics`, { headers: adminHeaders() });
  assert.equal(res.status, 200);
  return { type: res.headers.get('content-type'), text: await res.text() };
}

/** The value of the sample `name{labels}` (labels in any order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    const have = Object.fromEntries([...body.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('/metrics', () => {
  test('counts requests and their latency by endpoint, version, variant and status, and errors by code', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await s.call('POST', '/v2/models/metered/infer', addRequest([[1, 2, 3, 4]]))).status, 200);
    const bad = await s.call('POST', '/v2/models/metered/infer', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1] }] });
    assert.equal(bad.status, 400);
    const { type, text } = await scrape();
    assert.match(type ?? '', /^text\/plain/);
    assert.equal(sample(text, 'slipway_requests_total', { endpoint: 'metered', version: '1', variant: 'stable', status: '200' }), 5);
    assert.equal(sample(text, 'slipway_requests_total', { endpoint: 'metered', version: '1', variant: 'stable', status: '400' }), 1);
    assert.equal(sample(text, 'slipway_request_duration_seconds_count', { endpoint: 'metered', version: '1', variant: 'stable' }), 6);
    assert.equal(sample(text, 'slipway_request_duration_seconds_bucket', { endpoint: 'metered', version: '1', variant: 'stable', le: '+Inf' }), 6);
    assert.ok(sample(text, 'slipway_request_duration_seconds_bucket', { endpoint: 'metered', version: '1', variant: 'stable', le: '0.0001' }) !== undefined, 'sub-millisecond buckets');
    // the batch scheduler's view of the same requests: waits, runs and rows per run (the 400 never reached it)
    const version = { endpoint: 'metered', model: 'm', version: '1' };
    assert.equal(sample(text, 'slipway_queue_duration_seconds_count', version), 5);
    assert.ok((sample(text, 'slipway_inference_duration_seconds_count', version) ?? 0) >= 1);
    assert.equal(sample(text, 'slipway_batch_size_sum', version), 5, 'five one-row requests');
        const codes = [...text.matchAll(/^slipway_errors_total\{endpoint="metered",code="([A-Z_]+)"\} 1$/gm)].map((m) => m[1]);
    assert.equal(codes.length, 1, text.split('\n').filter((l) => l.startsWith('slipway_errors_total')).join('\n'));
    assert.equal(codes[0], 'SERVING_DATA_LENGTH_MISMATCH');
  });

  test('reads replicas, in-flight requests, readiness, load time and a running rollout at scrape time; process metrics are prefixed', async () => {
    const apply = await s.call('POST', '/api/v1/apply', {
      apiVersion: 'slipway.dev/v1',
      kind: 'Endpoint',
      metadata: { name: 'metered' },
      spec: { model: 'm', version: 2, strategy: { canary: { steps: [{ setWeight: 25 }, { pause: {} }] } } },
    });
    assert.equal(apply.status, 200, JSON.stringify(apply.json));
    const deadline = Date.now() + 20_000;
    let text = '';
    while (Date.now() < deadline) {
      text = (await scrape()).text;
      if (sample(text, 'slipway_rollout_candidate_weight_percent', { endpoint: 'metered', strategy: 'canary', phase: 'Paused' }) === 25) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(sample(text, 'slipway_rollout_candidate_weight_percent', { endpoint: 'metered', strategy: 'canary', phase: 'Paused' }), 25);
    assert.equal(sample(text, 'slipway_endpoint_ready', { endpoint: 'metered' }), 1);
    assert.ok((sample(text, 'slipway_replicas', { endpoint: 'metered', version: '1', role: 'stable', state: 'ready' }) ?? 0) >= 1);
    assert.ok((sample(text, 'slipway_replicas', { endpoint: 'metered', version: '2', role: 'candidate', state: 'ready' }) ?? 0) >= 1);
    assert.equal(sample(text, 'slipway_in_flight_requests', { endpoint: 'metered', version: '1', role: 'stable' }), 0);
    assert.ok((sample(text, 'slipway_model_load_seconds', { endpoint: 'metered', version: '2', role: 'candidate' }) ?? 0) > 0);
    assert.match(text, /^slipway_process_cpu_seconds_total /m);
    assert.match(text, /^slipway_nodejs_eventloop_lag_seconds /m);
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      assert.match(line, /^slipway_/, `every metric is named slipway_*: ${line}`);
    }
    await s.call('POST', '/api/v1/endpoints/metered/rollout/abort', {});
  });
});
