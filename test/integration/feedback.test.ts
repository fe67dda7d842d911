/**
 * Prediction records and feedback through the real server: every inference is recorded under its
 * x-request-id (failures with their status, shadow copies beside the primary), feedback joins it
 * over /api/v1, outcomes come per variant of a traffic split, and records survive a restart.
 * The add models answer y = x + k, so the answer tells which version served.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addModel, slowModel } from '../support/models.js';
import { addRequest, startTestServer, type TestServer, TEST_ADMIN_KEY } from '../support/server.js';
import { runCli } from '../unit/cli/cli-harness.js';

interface RecordView {
  requestId: string;
  at: string;
  endpoint: string;
  model: string | null;
  version: number | null;
  variant: string;
  latencyMs: number;
  status: number;
  outputs: { rows: number | null; predicted: { output: string; kind: string; value: number | string } | null; tensors: { name: string; kind: string; values?: unknown[] }[] };
}
interface PredictionBody {
  prediction: RecordView;
  shadow: RecordView | null;
  feedback: { label: { value: string | number; at: string } | null; outcomes: { event: string | null; value: number | null; at: string }[] };
}

let s: TestServer;
before(async () => {
  s = await startTestServer();
  await s.push('fb', addModel(1)); // v1: y = x + 1
  await s.push('fb', addModel(2)); // v2: y = x + 2
  await s.push('fb', slowModel(8, 1)); // v3: another signature ([batch, 8]): every mirrored copy fails
  await s.deploy('fb', 'fb', 1);
});
after(async () => {
  await s.stop();
});

/** One inference on `endpoint`; returns the answer with its request id and variant. */
async function predict(endpoint: string, headers: Record<string, string> = {}) {
  const r = await s.call('POST', `/v2/models/${endpoint}/infer`, addRequest([[0, 1, 2, 3]]), headers);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const requestId = r.headers.get('x-request-id') ?? '';
  assert.equal((r.json.parameters as { request_id: string }).request_id, requestId);
  return { requestId, variant: r.headers.get('x-slipway-variant'), y: (r.json.outputs as { name: string; data: number[] }[])[0]?.data[0] };
}

async function prediction(requestId: string): Promise<{ status: number; body: PredictionBody; json: Record<string, unknown> }> {
  const r = await s.call('GET', `/api/v1/predictions/${requestId}`);
  return { status: r.status, body: r.json as unknown as PredictionBody, json: r.json };
}

describe('feedback API', () => {
  test('an inference is recorded under its x-request-id, and feedback sent for it is joined to the record', async () => {
    const { requestId } = await predict('fb');
    const label = await s.call('POST', '/api/v1/feedback', { requestId, label: 3 });
    assert.equal(label.status, 200, JSON.stringify(label.json));
    assert.deepEqual(label.json, { accepted: 1, unknownRequestIds: [] });
    const purchase = await s.call('POST', '/api/v1/feedback', { requestId, event: 'purchase', value: 19.5 });
    assert.equal(purchase.status, 200, JSON.stringify(purchase.json));

    const { status, body } = await prediction(requestId);
    assert.equal(status, 200, JSON.stringify(body));
    const p = body.prediction;
    assert.deepEqual([p.requestId, p.endpoint, p.model, p.version, p.variant, p.status], [requestId, 'fb', 'fb', 1, 'stable', 200]);
    assert.ok(p.latencyMs >= 0);
    assert.ok(!Number.isNaN(Date.parse(p.at)));
    // y = [1, 2, 3, 4] (scores, argmax 3) and sum = [10] (a value)
    assert.deepEqual(
      p.outputs.tensors.map((t) => [t.name, t.kind, t.values]),
      [
        ['y', 'scores', [3]],
        ['sum', 'value', [10]],
      ],
    );
    assert.deepEqual(p.outputs.predicted, { output: 'y', kind: 'scores', value: 3 });
    assert.equal(body.shadow, null);
    assert.equal(body.feedback.label?.value, 3);
    assert.deepEqual(
      body.feedback.outcomes.map((o) => [o.event, o.value]),
      [['purchase', 19.5]],
    );
  });

  test("a client's own unique-looking x-request-id is the join key", async () => {
    const own = 'client-req-000000000000000001';
    const { requestId } = await predict('fb', { 'x-request-id': own });
    assert.equal(requestId, own);
    const r = await s.call('POST', '/api/v1/feedback', { requestId: own, event: 'click' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal((await prediction(own)).body.prediction.endpoint, 'fb');
  });

  test('feedback for a request id Slipway never answered is refused naming it, and nothing is written', async () => {
    const { requestId } = await predict('fb');
    const unknown = 'never-answered-0000000000000000';
    const r = await s.call('POST', '/api/v1/feedback', { items: [{ requestId, label: 1 }, { requestId: unknown, label: 1 }] });
    assert.equal(r.status, 404, JSON.stringify(r.json));
    assert.equal(r.json.code, 'MONITORING_PREDICTION_NOT_FOUND');
    assert.match(String(r.json.error), new RegExp(unknown));
    assert.deepEqual((r.json.details as { requestIds: string[] }).requestIds, [unknown]);
    assert.equal((await prediction(requestId)).body.feedback.label, null, 'the known item was not written either');

    const skipped = await s.call('POST', '/api/v1/feedback', { items: [{ requestId, label: 1 }, { requestId: unknown, label: 1 }], skipUnknown: true });
    assert.deepEqual(skipped.json, { accepted: 1, unknownRequestIds: [unknown] });
  });

  test('a malformed feedback body is refused naming each bad field', async () => {
    const { requestId } = await predict('fb');
    const r = await s.call('POST', '/api/v1/feedback', { items: [{ requestId: 'abc', label: 1 }, { requestId }, { requestId, label: { x: 1 } }] });
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.equal(r.json.code, 'MONITORING_INVALID_FEEDBACK');
    const paths = (r.json.details as { problems: { path: string }[] }).problems.map((p) => p.path);
    assert.deepEqual(paths, ['items[0].requestId', 'items[1]', 'items[2].label']);
    assert.match(String(r.json.error), /items\[0\]\.requestId: .*got "abc"/);

    const single = await s.call('POST', '/api/v1/feedback', { requestId, event: 'not an event!' });
    assert.equal(single.status, 400);
    assert.match(String(single.json.error), /^invalid feedback \(1 problem\): event: /);
    const notJson = await s.call('POST', '/api/v1/feedback', '{"requestId": ');
    assert.equal(notJson.status, 400);
    assert.equal(notJson.json.code, 'HTTP_INVALID_JSON');
  });

  test('failed inferences are recorded with their status: a bad input with its version, a version not deployed as unrouted', async () => {
    const bad = await s.call('POST', '/v2/models/fb/infer', { inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] });
    assert.equal(bad.status, 400, JSON.stringify(bad.json));
    const badRecord = await prediction(bad.headers.get('x-request-id') ?? '');
    assert.equal(badRecord.status, 200, JSON.stringify(badRecord.json));
    const b = badRecord.body.prediction;
    assert.deepEqual([b.endpoint, b.version, b.variant, b.status, b.outputs.tensors.length], ['fb', 1, 'stable', 400, 0]);

    const missing = await s.call('POST', '/v2/models/fb/versions/9/infer', addRequest([[0, 0, 0, 0]]));
    assert.equal(missing.status, 404);
    const m = (await prediction(missing.headers.get('x-request-id') ?? '')).body.prediction;
    assert.deepEqual([m.endpoint, m.model, m.version, m.variant, m.status], ['fb', null, null, 'unrouted', 404]);

    // a name that is no endpoint leaves no record: nothing could ever join to it
    const nowhere = await s.call('POST', '/v2/models/no-such-endpoint/infer', addRequest([[0, 0, 0, 0]]));
    assert.equal(nowhere.status, 404);
    const none = await prediction(nowhere.headers.get('x-request-id') ?? '');
    assert.equal(none.status, 404);
    assert.equal(none.json.code, 'MONITORING_PREDICTION_NOT_FOUND');
  });

  test('outcomes come per variant of a traffic split, each with its own version and arm', async () => {
    await s.deploy('ab', 'fb', 1);
    const put = await s.call('PUT', '/api/v1/endpoints/ab/traffic', { candidate: { version: 2, weight: 50 } });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    const answers: { requestId: string; variant: string | null }[] = [];
    for (let i = 0; i < 40; i++) answers.push(await predict('ab'));
    const candidate = answers.filter((a) => a.variant === 'candidate');
    const stable = answers.filter((a) => a.variant === 'stable');
    assert.equal(candidate.length + stable.length, 40);
    assert.ok(candidate.length > 0 && stable.length > 0, `both variants answered (${candidate.length} / ${stable.length})`);
    // every candidate answer converts, every other stable one
    const converted = [...candidate, ...stable.filter((_, i) => i % 2 === 0)];
    const sent = await s.call('POST', '/api/v1/feedback', { items: converted.map((a) => ({ requestId: a.requestId, event: 'conversion' })) });
    assert.deepEqual(sent.json, { accepted: converted.length, unknownRequestIds: [] });

    const r = await s.call('GET', '/api/v1/endpoints/ab/outcomes?metric=rate&event=conversion');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json.metric, { kind: 'rate', event: 'conversion' });
    const variants = r.json.variants as { variant: string; predictions: number; answered: number; arm: unknown; versions: { version: number | null }[] }[];
    const by = Object.fromEntries(variants.map((v) => [v.variant, v]));
    assert.deepEqual(Object.keys(by).sort(), ['candidate', 'stable']);
    assert.deepEqual(by.candidate?.arm, { kind: 'rate', n: candidate.length, successes: candidate.length });
    assert.deepEqual(by.stable?.arm, { kind: 'rate', n: stable.length, successes: Math.ceil(stable.length / 2) });
    assert.equal(by.candidate?.predictions, candidate.length);
    assert.deepEqual(by.candidate?.versions.map((v) => v.version), [2]);
    assert.deepEqual(by.stable?.versions.map((v) => v.version), [1]);

    const bad = await s.call('GET', '/api/v1/endpoints/ab/outcomes?metric=rate');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'MONITORING_INVALID_OUTCOME_QUERY');
  });

  test("a mirrored copy is recorded as variant shadow under the primary's request id; a failing shadow with its status", async () => {
    await s.deploy('mirrored', 'fb', 1);
    const put = await s.call('PUT', '/api/v1/endpoints/mirrored/traffic', { mirror: { version: 2, percent: 100 } });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    const { requestId, y } = await predict('mirrored');
    assert.equal(y, 1, 'the primary (v1) answers');
    let body: PredictionBody | undefined;
    for (let i = 0; i < 250 && body?.shadow == null; i++) {
      body = (await prediction(requestId)).body;
      if (body.shadow === null) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(body?.shadow, `the shadow's record arrived: ${JSON.stringify(body)}`);
    assert.deepEqual([body.prediction.variant, body.prediction.version], ['stable', 1]);
    assert.deepEqual([body.shadow.requestId, body.shadow.variant, body.shadow.version, body.shadow.model, body.shadow.status], [requestId, 'shadow', 2, 'fb', 200]);
    assert.deepEqual(body.shadow.outputs.predicted, { output: 'y', kind: 'scores', value: 3 });

    // v3 takes [batch, 8]: the mirrored copy fails, and its record says so (the primary is unaffected)
    const failing = await s.call('PUT', '/api/v1/endpoints/mirrored/traffic', { mirror: { version: 3, percent: 100 } });
    assert.equal(failing.status, 200, JSON.stringify(failing.json));
    const second = await predict('mirrored');
    assert.equal(second.y, 1);
    let shadow: RecordView | null = null;
    for (let i = 0; i < 250 && shadow === null; i++) {
      shadow = (await prediction(second.requestId)).body.shadow;
      if (shadow === null) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(shadow !== null);
    assert.equal(shadow.version, 3);
    // the copy's [1, 4] input does not fit v3's [batch, 8]: refused as invalid input
    assert.deepEqual([shadow.variant, shadow.status, shadow.outputs.tensors.length], ['shadow', 400, 0]);
  });

  test('slipway feedback and slipway predictions show work against the server', async () => {
    const { requestId } = await predict('fb');
    const env = { SLIPWAY_SERVER: s.url, SLIPWAY_API_KEY: TEST_ADMIN_KEY };
    const sent = await runCli(['feedback', requestId, '--event', 'conversion', '--value', '12.5'], { env });
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, new RegExp(`Feedback recorded for ${requestId}`));
    const shown = await runCli(['predictions', 'show', requestId], { env });
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /Endpoint +fb/);
    assert.match(shown.stdout, /conversion +12\.5/);
    const refused = await runCli(['feedback', 'never-answered-0000000000000000', '--label', '1'], { env });
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /never-answered-0000000000000000.*\[MONITORING_PREDICTION_NOT_FOUND\]/);
  });
});

describe('prediction records across a restart', () => {
  test('records and their feedback survive a server restart on the same data directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'slipway-feedback-'));
    try {
      const first = await startTestServer({ dataDir });
      let requestId: string;
      try {
        await first.push('keep', addModel(1));
        await first.deploy('keep', 'keep', 1);
        const r = await first.call('POST', '/v2/models/keep/infer', addRequest([[1, 1, 1, 1]]));
        assert.equal(r.status, 200);
        requestId = r.headers.get('x-request-id') ?? '';
        const label = await first.call('POST', '/api/v1/feedback', { requestId, label: 'yes' });
        assert.equal(label.status, 200, JSON.stringify(label.json));
      } finally {
        await first.stop();
      }
      // a prediction answered just before the stop is written by the stop, not lost with the buffer
      const second = await startTestServer({ dataDir });
      try {
        const r = await second.call('GET', `/api/v1/predictions/${requestId}`);
        assert.equal(r.status, 200, JSON.stringify(r.json));
        const body = r.json as unknown as PredictionBody;
        assert.deepEqual([body.prediction.endpoint, body.prediction.version, body.prediction.status], ['keep', 1, 200]);
        assert.equal(body.feedback.label?.value, 'yes');
        const more = await second.call('POST', '/api/v1/feedback', { requestId, event: 'conversion' });
        assert.equal(more.status, 200, JSON.stringify(more.json));
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('an unbuffered stop: a prediction never queried before the stop is still on record after it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'slipway-feedback-'));
    try {
      // a long flush interval: only the stop can have written the record
      const overrides = { 'monitoring.predictions.flushIntervalMs': 60_000 };
      const first = await startTestServer({ dataDir, overrides });
      let requestId: string;
      try {
        await first.push('keep', addModel(1));
        await first.deploy('keep', 'keep', 1);
        const r = await first.call('POST', '/v2/models/keep/infer', addRequest([[1, 1, 1, 1]]));
        requestId = r.headers.get('x-request-id') ?? '';
      } finally {
        await first.stop();
      }
      const second = await startTestServer({ dataDir, overrides });
      try {
        const r = await second.call('GET', `/api/v1/predictions/${requestId}`);
        assert.equal(r.status, 200, JSON.stringify(r.json));
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('monitoring configuration', () => {
  test('predictions switched off: nothing is recorded and feedback is refused as unknown', async () => {
    const off = await startTestServer({ overrides: { 'monitoring.predictions.enabled': false } });
    try {
      await off.push('m', addModel(1));
      await off.deploy('m', 'm', 1);
      const r = await off.call('POST', '/v2/models/m/infer', addRequest([[0, 0, 0, 0]]));
      assert.equal(r.status, 200);
      const requestId = r.headers.get('x-request-id') ?? '';
      const fb = await off.call('POST', '/api/v1/feedback', { requestId, label: 1 });
      assert.equal(fb.status, 404);
      assert.equal(fb.json.code, 'MONITORING_PREDICTION_NOT_FOUND');
    } finally {
      await off.stop();
    }
  });
});
