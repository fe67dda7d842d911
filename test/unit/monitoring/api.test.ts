import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PlatformError } from '../../../src/core/index.js';
import { monitoringApi } from '../../../src/monitoring/api.js';
import { createMonitoringClient } from '../../../src/monitoring/client.js';
import { createMonitoring, type OutcomesResponse, type PredictionResponse } from '../../../src/monitoring/index.js';
import { createMemoryMonitoringStore } from '../../../src/storage/index.js';
import { startControlHarness } from '../control/harness.js';
import { rid, T0 } from './fixtures.js';
import { request, startMonitoringHarness, type MonitoringHarness } from './harness.js';

describe('monitoring API over HTTP', () => {
  let h: MonitoringHarness;
  before(async () => {
    h = await startMonitoringHarness({ options: { feedback: { maxItems: 3 } }, maxBodyBytes: 4096 });
  });
  after(async () => {
    await h.close();
  });

  test('declares a permission on every route', () => {
    const mine = h.routes.filter((r) => r.url.startsWith('/api/v1')).map((r) => [r.method, r.url, r.permission]);
    assert.deepEqual(mine, [
      ['POST', '/api/v1/feedback', 'feedback:write'],
      ['GET', '/api/v1/predictions/:requestId', 'payloads:read'],
      ['HEAD', '/api/v1/predictions/:requestId', 'payloads:read'],
      ['GET', '/api/v1/endpoints/:name/outcomes', 'models:read'],
      ['HEAD', '/api/v1/endpoints/:name/outcomes', 'models:read'],
    ]);
  });

  test('joins feedback to the request id an inference answered with, and shows both', async () => {
    const id = await h.infer('shop', 2);
    const sent = await request(h.url, 'POST', '/api/v1/feedback', { json: { requestId: id, label: 2, event: 'purchase', value: 19.5 } });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    assert.deepEqual(sent.body, { accepted: 1, unknownRequestIds: [] });

    const got = await request(h.url, 'GET', `/api/v1/predictions/${id}`);
    assert.equal(got.status, 200);
    const body = got.body as unknown as PredictionResponse;
    assert.equal(body.prediction.requestId, id);
    assert.equal(body.prediction.endpoint, 'shop');
    assert.equal(body.prediction.variant, 'stable');
    assert.equal(body.prediction.at, new Date(T0).toISOString());
    assert.deepEqual(body.prediction.outputs.predicted, { output: 'probabilities', kind: 'scores', value: 2 });
    assert.equal(body.shadow, null);
    assert.deepEqual(body.feedback, {
      label: { value: 2, at: new Date(T0).toISOString() },
      outcomes: [{ event: 'purchase', value: 19.5, at: new Date(T0).toISOString() }],
    });
  });

  test('takes a batch, and a curl -d body sent as a form', async () => {
    const a = await h.infer('shop', 0);
    const b = await h.infer('shop', 1);
    const batch = await request(h.url, 'POST', '/api/v1/feedback', {
      body: JSON.stringify({ items: [{ requestId: a, event: 'click' }, { requestId: b, label: 'cat' }] }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(batch.status, 200, JSON.stringify(batch.body));
    assert.deepEqual(batch.body, { accepted: 2, unknownRequestIds: [] });
  });

  test('answers 404 naming an unknown request id', async () => {
    const res = await request(h.url, 'POST', '/api/v1/feedback', { json: { requestId: rid('nobody'), label: 1 } });
    assert.equal(res.status, 404);
    assert.equal(res.body.code, 'MONITORING_PREDICTION_NOT_FOUND');
    assert.match(String(res.body.error), new RegExp(rid('nobody')));
    assert.deepEqual(res.body.details, { requestIds: [rid('nobody')] });
    const lookup = await request(h.url, 'GET', `/api/v1/predictions/${rid('nobody')}`);
    assert.equal(lookup.status, 404);
    assert.equal(lookup.body.code, 'MONITORING_PREDICTION_NOT_FOUND');
  });

  test('with skipUnknown accepts the known items of a batch and lists the rest', async () => {
    const id = await h.infer('shop', 0);
    const res = await request(h.url, 'POST', '/api/v1/feedback', { json: { items: [{ requestId: id, event: 'click' }, { requestId: rid('gone'), event: 'click' }], skipUnknown: true } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { accepted: 1, unknownRequestIds: [rid('gone')] });
  });

  test('refuses a malformed body with 400, naming every field and what was expected', async () => {
    const res = await request(h.url, 'POST', '/api/v1/feedback', {
      json: { items: [{ requestId: 'abc', label: true }, { requestId: rid(1) }, { requestId: rid(2), event: 'a b', value: '3', colour: 'red' }], skipUnknown: 'yes' },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'MONITORING_INVALID_FEEDBACK');
    const problems = (res.body.details as { problems: { path: string; message: string }[] }).problems;
    assert.deepEqual(
      problems.map((p) => p.path),
      ['skipUnknown', 'items[0].requestId', 'items[0].label', 'items[1]', 'items[2].colour', 'items[2].value', 'items[2].event'],
    );
    assert.match(problems[1]?.message ?? '', /x-request-id/);
    assert.match(problems[3]?.message ?? '', /at least one of label, value or event/);
  });

  test('refuses an empty body, a list, and a body that is not JSON', async () => {
    const empty = await request(h.url, 'POST', '/api/v1/feedback', { body: '', headers: { 'content-type': 'application/json' } });
    assert.equal(empty.status, 400);
    assert.equal(empty.body.code, 'MONITORING_INVALID_FEEDBACK');
    assert.match(String(empty.body.error), /got an empty body/);
    const list = await request(h.url, 'POST', '/api/v1/feedback', { json: [{ requestId: rid(1), label: 1 }] });
    assert.equal(list.status, 400);
    assert.match(String(list.body.error), /\{items: \[\.\.\.\], skipUnknown\?\}/);
    const broken = await request(h.url, 'POST', '/api/v1/feedback', { body: '{"requestId": ', headers: { 'content-type': 'application/json' } });
    assert.equal(broken.status, 400);
    assert.equal(broken.body.code, 'HTTP_INVALID_JSON');
  });

  test('answers 413 for more items than the limit, and for a body over the byte limit', async () => {
    const items = [1, 2, 3, 4].map((n) => ({ requestId: rid(n), event: 'x' }));
    const many = await request(h.url, 'POST', '/api/v1/feedback', { json: { items } });
    assert.equal(many.status, 413);
    assert.equal(many.body.code, 'MONITORING_TOO_MANY_FEEDBACK_ITEMS');
    const big = await request(h.url, 'POST', '/api/v1/feedback', { json: { requestId: rid(1), event: 'x', padding: 'x'.repeat(5000) } });
    assert.equal(big.status, 413);
    assert.equal(big.body.code, 'HTTP_BODY_TOO_LARGE');
  });

  test('refuses malformed path parameters with 400 naming them', async () => {
    const id = await request(h.url, 'GET', '/api/v1/predictions/short');
    assert.equal(id.status, 400);
    assert.equal(id.body.code, 'MONITORING_INVALID_PARAM');
    assert.match(String(id.body.error), /"requestId"/);
    const endpoint = await request(h.url, 'GET', '/api/v1/endpoints/Shop_1/outcomes?metric=accuracy');
    assert.equal(endpoint.status, 400);
    assert.equal(endpoint.body.code, 'MONITORING_INVALID_PARAM');
    assert.match(String(endpoint.body.error), /"endpoint"/);
  });
});

describe('outcomes over HTTP', () => {
  let h: MonitoringHarness;
  before(async () => {
    h = await startMonitoringHarness();
    const stable = await Promise.all([0, 1, 2, 3].map(() => h.infer('cart', 1, 'stable', 1)));
    const candidate = await Promise.all([0, 1, 2, 3].map(() => h.infer('cart', 0, 'candidate', 2)));
    await request(h.url, 'POST', '/api/v1/feedback', {
      json: {
        items: [
          { requestId: stable[0], event: 'conversion', value: 10 },
          { requestId: candidate[0], event: 'conversion', value: 20 },
          { requestId: candidate[1], event: 'conversion', value: 40 },
          { requestId: stable[1], label: 1 },
          { requestId: candidate[1], label: 1 },
        ],
      },
    });
  });
  after(async () => {
    await h.close();
  });

  test('reports a rate arm per variant in the analysis engine’s shape', async () => {
    const res = await request(h.url, 'GET', '/api/v1/endpoints/cart/outcomes?metric=rate&event=conversion');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const body = res.body as unknown as OutcomesResponse;
    assert.equal(body.since, new Date(0).toISOString());
    assert.equal(body.until, null);
    assert.deepEqual(
      body.variants.map((v) => [v.variant, v.predictions, v.arm]),
      [
        ['candidate', 4, { kind: 'rate', n: 4, successes: 2 }],
        ['stable', 4, { kind: 'rate', n: 4, successes: 1 }],
      ],
    );
  });

  test('reports mean and accuracy arms, and honours since and until', async () => {
    const mean = await request(h.url, 'GET', '/api/v1/endpoints/cart/outcomes?metric=mean&event=conversion&missing=zero');
    const candidate = (mean.body as unknown as OutcomesResponse).variants.find((v) => v.variant === 'candidate');
    assert.deepEqual(candidate?.arm, { kind: 'continuous', n: 4, mean: 15, m2: 25 + 625 + 225 + 225 });
    const accuracy = await request(h.url, 'GET', '/api/v1/endpoints/cart/outcomes?metric=accuracy');
    assert.deepEqual(
      (accuracy.body as unknown as OutcomesResponse).variants.map((v) => [v.variant, v.arm]),
      [
        ['candidate', { kind: 'rate', n: 1, successes: 0 }],
        ['stable', { kind: 'rate', n: 1, successes: 1 }],
      ],
    );
    const later = await request(h.url, 'GET', `/api/v1/endpoints/cart/outcomes?metric=accuracy&since=${new Date(T0 + 1).toISOString()}`);
    assert.deepEqual((later.body as unknown as OutcomesResponse).variants, []);
    const epoch = await request(h.url, 'GET', `/api/v1/endpoints/cart/outcomes?metric=accuracy&since=${T0}&until=${T0 + 1}`);
    assert.equal((epoch.body as unknown as OutcomesResponse).variants.length, 2);
    assert.equal((epoch.body as unknown as OutcomesResponse).until, new Date(T0 + 1).toISOString());
  });

  test('refuses a malformed query with 400, listing every problem', async () => {
    const res = await request(h.url, 'GET', '/api/v1/endpoints/cart/outcomes?metric=rate&missing=zero&since=yesterday&colour=red');
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'MONITORING_INVALID_OUTCOME_QUERY');
    assert.deepEqual(
      (res.body.details as { problems: { path: string }[] }).problems.map((p) => p.path),
      ['colour', 'missing', 'event', 'since'],
    );
    const twice = await request(h.url, 'GET', '/api/v1/endpoints/cart/outcomes?metric=rate&metric=mean');
    assert.equal(twice.status, 400);
    assert.match(String(twice.body.error), /metric: is given 2 times/);
    const none = await request(h.url, 'GET', '/api/v1/endpoints/cart/outcomes');
    assert.match(String(none.body.error), /metric: is required/);
  });
});

describe('monitoring client', () => {
  let h: MonitoringHarness;
  before(async () => {
    h = await startMonitoringHarness();
  });
  after(async () => {
    await h.close();
  });

  test('sends feedback, reads a prediction and its outcomes', async () => {
    const client = createMonitoringClient({ baseUrl: h.url });
    const a = await h.infer('shop', 1);
    const b = await h.infer('shop', 1, 'candidate', 2);
    assert.deepEqual(await client.sendFeedback({ requestId: a, label: 1 }), { accepted: 1, unknownRequestIds: [] });
    assert.deepEqual(
      await client.sendFeedback(
        [
          { requestId: b, event: 'conversion' },
          { requestId: rid('unknown'), event: 'conversion' },
        ],
        { skipUnknown: true },
      ),
      { accepted: 1, unknownRequestIds: [rid('unknown')] },
    );
    const found = await client.getPrediction(a);
    assert.equal(found.feedback.label?.value, 1);
    const outcomes = await client.outcomes('shop', { metric: { kind: 'rate', event: 'conversion' }, since: new Date(T0), until: T0 + 1 });
    assert.deepEqual(
      outcomes.variants.map((v) => [v.variant, v.arm]),
      [
        ['candidate', { kind: 'rate', n: 1, successes: 1 }],
        ['stable', { kind: 'rate', n: 1, successes: 0 }],
      ],
    );
  });

  test('turns the server’s errors into PlatformErrors with their code and kind', async () => {
    const client = createMonitoringClient({ baseUrl: h.url });
    await assert.rejects(client.sendFeedback({ requestId: rid('missing'), label: 1 }), (error: unknown) => {
      assert.ok(error instanceof PlatformError);
      assert.equal(error.code, 'MONITORING_PREDICTION_NOT_FOUND');
      assert.equal(error.kind, 'not_found');
      assert.deepEqual(error.details, { requestIds: [rid('missing')] });
      return true;
    });
  });

  test('reports a server that is not there as CONTROL_CLIENT_UNREACHABLE', async () => {
    const closed = await startMonitoringHarness();
    const url = closed.url;
    await closed.close();
    const client = createMonitoringClient({ baseUrl: url });
    await assert.rejects(client.getPrediction(rid(1)), (error: unknown) => error instanceof PlatformError && error.code === 'CONTROL_CLIENT_UNREACHABLE');
  });
});

describe('monitoring beside the control API', () => {
  test('shares /api/v1 with the control routes without taking over their bodies or paths', async () => {
    const monitoring = createMonitoring({ store: createMemoryMonitoringStore() });
    const control = await startControlHarness({
      extraRoutes: (app) => {
        void app.register(monitoringApi({ monitoring }), { prefix: '/api/v1' });
      },
    });
    try {
      const outcomes = await request(control.url, 'GET', '/api/v1/endpoints/shop/outcomes?metric=accuracy');
      assert.equal(outcomes.status, 200, JSON.stringify(outcomes.body));
      assert.deepEqual(outcomes.body.variants, []);
      const endpoint = await request(control.url, 'GET', '/api/v1/endpoints/shop');
      assert.equal(endpoint.status, 404);
      assert.equal(endpoint.body.code, 'REGISTRY_ENDPOINT_NOT_FOUND');
      const created = await request(control.url, 'POST', '/api/v1/endpoints', { json: { name: 'shop', model: 'nothing-here' } });
      assert.equal(created.body.code, 'REGISTRY_MODEL_NOT_FOUND', 'the control API still parses its own JSON bodies');
    } finally {
      await control.close();
      await monitoring.close();
    }
  });
});
