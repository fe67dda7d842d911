import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PlatformError } from '../../../src/core/index.js';
import { createControlClient, type ControlClient } from '../../../src/control/index.js';
import { startControlHarness, type ControlHarness } from './harness.js';

async function rejection(promise: Promise<unknown>): Promise<PlatformError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PlatformError, `expected a PlatformError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

/** A port nothing listens on: bind one, then release it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

void describe('control client against the control API', () => {
  let h: ControlHarness;
  let client: ControlClient;
  before(async () => {
    h = await startControlHarness({ maxUploadBytes: 64 * 1024, principal: 'dana' });
    client = createControlClient({ baseUrl: `${h.url}/` });
  });
  after(() => h.close());

  void test('streams a file as a new version, reporting progress up to the file size', async () => {
    const file = h.modelFile(1);
    const progress: [number, number][] = [];
    const result = await client.pushVersion('adder', file, { description: 'one', tags: { team: 'risk' }, metrics: { rmse: 0.5 }, dataDigest: 'sha256:d' }, (sent, total) =>
      progress.push([sent, total]),
    );
    assert.equal(result.created, true);
    assert.equal(result.version.version, 1);
    assert.equal(result.version.description, 'one');
    assert.deepEqual(result.version.tags, { team: 'risk' });
    assert.deepEqual(result.version.lineage, { dataDigest: 'sha256:d', metrics: { rmse: 0.5 } });
    const last = progress.at(-1);
    assert.ok(last !== undefined);
    assert.equal(last[0], last[1]);
    assert.equal(last[1], result.version.sizeBytes);
    const again = await client.pushVersion('adder', file);
    assert.equal(again.created, false);
  });

  void test('records the parent version given in the metadata', async () => {
    const result = await client.pushVersion('adder', h.modelFile(2), { parentVersion: 1, modelDescription: 'ignored: model exists' });
    assert.deepEqual(result.version.lineage, { parentVersion: 1 });
  });

  void test('offers one method per route for models, versions, aliases and endpoints', async () => {
    assert.deepEqual((await client.listModels()).models.map((m) => m.name), ['adder']);
    assert.equal((await client.getModel('adder')).versions.length, 2);
    assert.equal((await client.listVersions('adder')).versions.length, 2);
    assert.equal((await client.getVersion('adder', 2)).version.version, 2);

    assert.equal((await client.setAlias('adder', 'production', 1, 'go')).alias.version, 1);
    assert.equal((await client.getAlias('adder', 'production')).alias.updatedBy, 'dana');
    assert.equal((await client.aliasAt('adder', 'production', new Date(h.clock.now() + 1000).toISOString())).version, 1);
    assert.deepEqual((await client.listAliases('adder')).aliases.map((a) => a.alias), ['production']);

    const created = await client.createEndpoint({ name: 'adder', model: 'adder', alias: 'production', reason: 'launch' });
    assert.deepEqual(created.endpoint.target, { kind: 'alias', model: 'adder', alias: 'production' });
    assert.equal((await client.getEndpoint('adder')).endpoint.version, 1);
    assert.equal((await client.updateEndpoint('adder', { model: 'adder', version: 2, reason: 'pin' })).endpoint.version, 2);
    assert.deepEqual((await client.listEndpoints()).endpoints.map((e) => e.name), ['adder']);
    assert.deepEqual((await client.endpointHistory('adder')).history.map((e) => e.reason), ['launch', 'pin']);
    assert.equal((await client.deleteEndpoint('adder', 'done')).deleted, true);

    assert.equal((await client.deleteAlias('adder', 'production', 'retire')).alias.alias, 'production');
    assert.deepEqual((await client.aliasHistory('adder', 'production')).history.map((e) => e.reason), ['go', 'retire']);
  });

  void test('rebuilds a server error as a PlatformError with its code, kind and message', async () => {
    const error = await rejection(client.getModel('nope'));
    assert.equal(error.code, 'REGISTRY_MODEL_NOT_FOUND');
    assert.equal(error.kind, 'not_found');
    assert.equal(error.message, 'model "nope" does not exist');
  });

  void test('keeps the problems of a refused body in the error details', async () => {
    const error = await rejection(client.createEndpoint({ name: 'Bad', model: 'adder', version: 1, alias: 'production' }));
    assert.equal(error.code, 'CONTROL_INVALID_BODY');
    assert.equal(error.kind, 'invalid');
    assert.deepEqual(
      (error.details?.problems as { path: string }[]).map((p) => p.path),
      ['name', 'alias'],
    );
  });

  void test('receives the 413 for an oversized file while it is still sending it, every time', async () => {
    const big = join(h.dir, 'big.onnx');
    writeFileSync(big, Buffer.alloc(64 * 1024 * 1024, 1));
    // without a lingering close most of these races end in EPIPE instead of the answer
    for (let attempt = 0; attempt < 10; attempt++) {
      let sent = 0;
      const error = await rejection(client.pushVersion('big', big, {}, (n) => (sent = n)));
      assert.equal(error.code, 'CONTROL_UPLOAD_TOO_LARGE', `attempt ${attempt}: ${error.message}`);
      assert.equal(error.kind, 'too_large');
      assert.match(error.message, /^the upload declares 64\.0 MiB \(67108864 bytes\), more than the server accepts: 64\.0 KiB/);
      assert.ok(sent < 64 * 1024 * 1024, 'the client did not have to send the whole file');
    }
    assert.deepEqual(h.leftoverUploads(), []);
  });

  void test('refuses to upload a file that does not exist', async () => {
    const error = await rejection(client.pushVersion('adder', join(h.dir, 'missing.onnx')));
    assert.equal(error.code, 'CONTROL_CLIENT_FILE_NOT_FOUND');
    assert.equal(error.message, `cannot upload ${join(h.dir, 'missing.onnx')}: no such file`);
  });

  void test('refuses to upload a directory', async () => {
    const error = await rejection(client.pushVersion('adder', h.dir));
    assert.equal(error.code, 'CONTROL_CLIENT_FILE_UNREADABLE');
  });
});

void describe('control client failures', () => {
  void test('reports a server that cannot be reached with the address and a hint', async () => {
    const port = await closedPort();
    const client = createControlClient({ baseUrl: `http://127.0.0.1:${port}` });
    const error = await rejection(client.listModels());
    assert.equal(error.code, 'CONTROL_CLIENT_UNREACHABLE');
    assert.equal(error.kind, 'unavailable');
    assert.equal(error.message, `cannot reach Slipway at http://127.0.0.1:${port} — is \`slipway serve\` running?`);
  });

  void test('reports an answer that is not a Slipway response', async () => {
    const client = createControlClient({
      baseUrl: 'http://proxy.test',
      fetch: () => Promise.resolve(new Response('<html>Bad Gateway</html>', { status: 502, statusText: 'Bad Gateway' })),
    });
    const error = await rejection(client.listEndpoints());
    assert.equal(error.code, 'CONTROL_CLIENT_BAD_RESPONSE');
    assert.match(error.message, /^GET http:\/\/proxy\.test\/api\/v1\/endpoints answered 502 Bad Gateway without a Slipway error body/);
  });

  void test('keeps Retry-After of an unavailable answer', async () => {
    const client = createControlClient({
      baseUrl: 'http://slipway.test',
      fetch: () =>
        Promise.resolve(
          new Response(JSON.stringify({ error: 'endpoint "a" is loading', code: 'SERVING_ENDPOINT_UNAVAILABLE' }), { status: 503, headers: { 'retry-after': '3' } }),
        ),
    });
    const error = await rejection(client.infer('a', { inputs: [] }));
    assert.deepEqual([error.code, error.kind, error.retryAfterSeconds], ['SERVING_ENDPOINT_UNAVAILABLE', 'unavailable', 3]);
  });

  void test('refuses a server address that is not an http URL', () => {
    assert.throws(() => createControlClient({ baseUrl: 'localhost:8080' }), (error: unknown) => error instanceof PlatformError && error.code === 'CONTROL_CLIENT_INVALID_URL');
    assert.throws(() => createControlClient({ baseUrl: 'not a url' }), (error: unknown) => error instanceof PlatformError && error.code === 'CONTROL_CLIENT_INVALID_URL');
  });

  void test('sends the API key as a bearer token, keeps a path prefix and calls the inference routes', async () => {
    const calls: { url: string; method: string; auth: string | null; body: string | null }[] = [];
    const client = createControlClient({
      baseUrl: 'http://gateway.test/slipway/',
      apiKey: 'sk-123',
      fetch: async (url, init) => {
        const headers = new Headers(init?.headers);
        calls.push({ url: url instanceof Request ? url.url : url.toString(), method: init?.method ?? 'GET', auth: headers.get('authorization'), body: typeof init?.body === 'string' ? init.body : null });
        return Promise.resolve(new Response(JSON.stringify({ ok: true }), { status: 200 }));
      },
    });
    await client.modelMetadata('fraud', 3);
    await client.infer('fraud', { inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [1] }] });
    assert.deepEqual(calls, [
      { url: 'http://gateway.test/slipway/v2/models/fraud/versions/3', method: 'GET', auth: 'Bearer sk-123', body: null },
      {
        url: 'http://gateway.test/slipway/v2/models/fraud/infer',
        method: 'POST',
        auth: 'Bearer sk-123',
        body: '{"inputs":[{"name":"x","shape":[1,1],"datatype":"FP32","data":[1]}]}',
      },
    ]);
  });
});
