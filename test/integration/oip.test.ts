/**
 * The Open Inference Protocol REST API end to end: every route, and every error case on status,
 * code and message, against the real server on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addModel, fixedBatchModel } from '../support/models.js';
import { addRequest, startTestServer, type TestServer, adminHeaders } from '../support/server.js';

let s: TestServer;

before(async () => {
  s = await startTestServer();
  const v1 = await s.push('adder', addModel(1));
  await s.deploy('adder', 'adder', v1);
  const fixed = await s.push('fixed', fixedBatchModel());
  await s.deploy('fixed', 'fixed', fixed);
});
after(async () => s.stop());

function assertError(r: { status: number; json: Record<string, unknown> }, status: number, code: string, message: RegExp): void {
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.equal(r.json.code, code, JSON.stringify(r.json));
  assert.equal(typeof r.json.error, 'string');
  assert.match(r.json.error as string, message);
}

describe('health and metadata', () => {
  test('GET /v2/health/live and /v2/health/ready answer true', async () => {
    assert.deepEqual((await s.call('GET', '/v2/health/live')).json, { live: true });
    await s.settled;
    const ready = await s.call('GET', '/v2/health/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.json, { ready: true });
  });

  test('GET /v2 returns name, version and extensions', async () => {
    const r = await s.call('GET', '/v2');
    assert.equal(r.status, 200);
    assert.equal(r.json.name, 'slipway');
    assert.equal(typeof r.json.version, 'string');
    assert.ok(Array.isArray(r.json.extensions));
  });

  test('GET /v2/models/{name} describes the endpoint with its deployed versions and tensors', async () => {
    const r = await s.call('GET', '/v2/models/adder');
    assert.equal(r.status, 200);
    assert.equal(r.json.name, 'adder');
    assert.deepEqual(r.json.versions, ['1']);
    assert.equal(r.json.platform, 'onnx_onnxv1');
    assert.deepEqual(r.json.inputs, [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }]);
    assert.deepEqual(r.json.outputs, [
      { name: 'y', datatype: 'FP32', shape: [-1, 4] },
      { name: 'sum', datatype: 'FP32', shape: [-1, 1] },
    ]);
    const v = await s.call('GET', '/v2/models/adder/versions/1');
    assert.equal(v.status, 200);
    assert.deepEqual(v.json.inputs, r.json.inputs);
  });

  test('GET …/ready answers per endpoint and per deployed version', async () => {
    assert.deepEqual((await s.call('GET', '/v2/models/adder/ready')).json, { name: 'adder', ready: true });
    assert.deepEqual((await s.call('GET', '/v2/models/adder/versions/1/ready')).json, { name: 'adder', ready: true });
  });

  test('an unknown endpoint is 404 SERVING_ENDPOINT_NOT_FOUND on every model route', async () => {
    for (const [method, path] of [
      ['GET', '/v2/models/nope'],
      ['GET', '/v2/models/nope/ready'],
      ['POST', '/v2/models/nope/infer'],
    ] as const) {
      assertError(await s.call(method, path, method === 'POST' ? addRequest([[1, 2, 3, 4]]) : undefined), 404, 'SERVING_ENDPOINT_NOT_FOUND', /endpoint 'nope' does not exist/);
    }
  });

  test('a version that is not deployed is 404 naming the deployed versions', async () => {
    for (const [method, path] of [
      ['GET', '/v2/models/adder/versions/9'],
      ['GET', '/v2/models/adder/versions/9/ready'],
      ['POST', '/v2/models/adder/versions/9/infer'],
    ] as const) {
      assertError(await s.call(method, path, method === 'POST' ? addRequest([[1, 2, 3, 4]]) : undefined), 404, 'SERVING_VERSION_NOT_DEPLOYED', /version 9 .*deployed: 1/);
    }
    assertError(await s.call('GET', '/v2/models/adder/versions/latest'), 404, 'SERVING_VERSION_NOT_DEPLOYED', /positive whole numbers/);
  });

  test('an unknown route is 404 HTTP_ROUTE_NOT_FOUND in the error shape', async () => {
    assertError(await s.call('GET', '/v2/nothing/here'), 404, 'HTTP_ROUTE_NOT_FOUND', /GET \/v2\/nothing\/here/);
  });
});

describe('inference', () => {
  test('answers with every output, model_name, model_version, the id echoed and the request id', async () => {
    const r = await s.call('POST', '/v2/models/adder/infer', addRequest([[1, 2, 3, 4], [0, 0, 0, 0]], { id: 'my-id-1' }));
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.model_name, 'adder');
    assert.equal(r.json.model_version, '1');
    assert.equal(r.json.id, 'my-id-1');
    const requestId = r.headers.get('x-request-id');
    assert.ok(requestId !== null && requestId.length >= 16);
    assert.deepEqual(r.json.parameters, { request_id: requestId });
    assert.deepEqual(r.json.outputs, [
      { name: 'y', datatype: 'FP32', shape: [2, 4], data: [2, 3, 4, 5, 1, 1, 1, 1] },
      { name: 'sum', datatype: 'FP32', shape: [2, 1], data: [14, 4] },
    ]);
  });

  test('returns only the outputs asked for, and accepts nested data and /versions/N', async () => {
    const r = await s.call('POST', '/v2/models/adder/versions/1/infer', {
      inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [[1, 1, 1, 1]] }],
      outputs: [{ name: 'sum' }],
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json.outputs, [{ name: 'sum', datatype: 'FP32', shape: [1, 1], data: [8] }]);
  });

  test('keeps a unique-looking client x-request-id and replaces a weak one', async () => {
    const strong = '0f8fad5b-d9cb-469f-a165-70867728950e';
    const kept = await s.call('POST', '/v2/models/adder/infer', addRequest([[1, 1, 1, 1]]), { 'x-request-id': strong });
    assert.equal(kept.headers.get('x-request-id'), strong);
    assert.deepEqual(kept.json.parameters, { request_id: strong });
    const weak = await s.call('POST', '/v2/models/adder/infer', addRequest([[1, 1, 1, 1]]), { 'x-request-id': '1' });
    assert.notEqual(weak.headers.get('x-request-id'), '1');
  });

  test('accepts JSON sent without a JSON content type (curl -d)', async () => {
    const res = await fetch(`${s.url}/v2/models/adder/infer`, { method: 'POST', headers: adminHeaders({ 'content-type': 'application/x-www-form-urlencoded' }), body: JSON.stringify(addRequest([[0, 0, 0, 0]])) });
    assert.equal(res.status, 200);
  });

  test('malformed JSON is 400 HTTP_INVALID_JSON', async () => {
    assertError(await s.call('POST', '/v2/models/adder/infer', '{"inputs": [ '), 400, 'HTTP_INVALID_JSON', /not valid JSON/);
    assertError(await s.call('POST', '/v2/models/adder/infer', ' '), 400, 'HTTP_INVALID_JSON', /empty/);
  });

  test('a wrong datatype is 400 naming the field and both types', async () => {
    const body = addRequest([[1, 2, 3, 4]]);
    (body.inputs as { datatype: string }[])[0]!.datatype = 'INT32';
    assertError(await s.call('POST', '/v2/models/adder/infer', body), 400, 'SERVING_DATATYPE_MISMATCH', /inputs\[0\]\.datatype: input 'x' is FP32 in the model, got INT32/);
  });

  test('a wrong shape is 400 naming the dimension', async () => {
    const body = { inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] };
    assertError(await s.call('POST', '/v2/models/adder/infer', body), 400, 'SERVING_SHAPE_MISMATCH', /inputs\[0\]\.shape\[1\]: input 'x' fixes dimension 1 at 4/);
  });

  test('data whose length does not match the shape is 400', async () => {
    const body = { inputs: [{ name: 'x', shape: [2, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] };
    assertError(await s.call('POST', '/v2/models/adder/infer', body), 400, 'SERVING_DATA_LENGTH_MISMATCH', /shape \[2, 4\] needs 8 elements, got 4/);
  });

  test('a missing input, an unknown input and an unknown output are 400 naming them', async () => {
    assertError(await s.call('POST', '/v2/models/adder/infer', { inputs: [{ name: 'z', shape: [1], datatype: 'FP32', data: [1] }] }), 400, 'SERVING_UNKNOWN_INPUT', /no input 'z' \(inputs: x\)/);
    assertError(await s.call('POST', '/v2/models/adder/infer', { inputs: 'x' }), 400, 'SERVING_INVALID_REQUEST', /inputs: expected a non-empty list/);
    assertError(
      await s.call('POST', '/v2/models/adder/infer', addRequest([[1, 2, 3, 4]], { outputs: [{ name: 'mean' }] })),
      400,
      'SERVING_UNKNOWN_OUTPUT',
      /no output 'mean' \(outputs: y, sum\)/,
    );
  });

  test('a batch of 2 sent to a model whose batch dimension is fixed at 1 is 400 saying why', async () => {
    const r = await s.call('POST', '/v2/models/fixed/infer', { inputs: [{ name: 'x', shape: [2, 2], datatype: 'FP32', data: [1, 2, 3, 4] }] });
    assertError(r, 400, 'SERVING_SHAPE_MISMATCH', /fixes its batch dimension at 1/);
    const one = await s.call('POST', '/v2/models/fixed/infer', { inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2] }] });
    assert.equal(one.status, 200);
    assert.deepEqual((one.json.outputs as { data: number[] }[])[0]!.data, [2, 4]);
  });

  test('a body over the limit is 413 and the client receives it', async () => {
    const big = await startTestServer({ overrides: { 'server.bodyLimitBytes': 64 * 1024 } });
    try {
      const payload = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: Array.from({ length: 40_000 }, () => 1.2345) }] });
      const r = await big.call('POST', '/v2/models/adder/infer', payload);
      assertError(r, 413, 'HTTP_BODY_TOO_LARGE', /larger than the limit/);
    } finally {
      await big.stop();
    }
  });
});
