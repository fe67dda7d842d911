import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { controlApi } from '../../../src/control/index.js';
import type { Registry } from '../../../src/registry/index.js';
import { request, startControlHarness, type ControlHarness } from './harness.js';

interface Problem {
  path: string;
  message: string;
}

function problemsOf(body: Record<string, unknown>): Problem[] {
  return ((body.details as { problems?: Problem[] } | undefined)?.problems ?? []).slice();
}

async function push(h: ControlHarness, model: string, bytes: Uint8Array, query = ''): Promise<{ status: number; body: Record<string, unknown> }> {
  return request(h.url, 'POST', `/api/v1/models/${model}/versions${query}`, {
    body: bytes,
    headers: { 'content-type': 'application/octet-stream' },
  });
}

function bytesOf(h: ControlHarness, k: number): Uint8Array {
  return readFileSync(h.modelFile(k));
}

void describe('control API: models and versions', () => {
  let h: ControlHarness;
  before(async () => {
    h = await startControlHarness({ maxUploadBytes: 256 * 1024, principal: 'alice' });
  });
  after(() => h.close());

  void test('lists no models on an empty registry', async () => {
    const r = await request(h.url, 'GET', '/api/v1/models');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { models: [] });
  });

  void test('registers a raw upload as version 1 with 201, reading metadata from the query string', async () => {
    const metrics = encodeURIComponent(JSON.stringify({ accuracy: 0.97 }));
    const r = await push(h, 'adder', bytesOf(h, 1), `?description=first%20cut&tag=team=risk&tag=stage=dev&dataDigest=sha256:abc&metrics=${metrics}`);
    assert.equal(r.status, 201);
    assert.equal(r.body.created, true);
    const v = r.body.version as Record<string, unknown>;
    assert.equal(v.model, 'adder');
    assert.equal(v.version, 1);
    assert.equal(v.description, 'first cut');
    assert.deepEqual(v.tags, { team: 'risk', stage: 'dev' });
    assert.deepEqual(v.lineage, { dataDigest: 'sha256:abc', metrics: { accuracy: 0.97 } });
    assert.equal(v.createdBy, 'alice');
    assert.deepEqual((v.signature as { inputs: { name: string }[] }).inputs.map((i) => i.name), ['x']);
    assert.deepEqual(h.leftoverUploads(), []);
  });

  void test('returns the existing version with 200 and created false when the same bytes are pushed again', async () => {
    const r = await push(h, 'adder', bytesOf(h, 1));
    assert.equal(r.status, 200);
    assert.equal(r.body.created, false);
    assert.equal((r.body.version as { version: number }).version, 1);
  });

  void test('reads metadata from X-Slipway-* headers, the query string winning over a header', async () => {
    const r = await request(h.url, 'POST', '/api/v1/models/adder/versions?description=from%20query', {
      body: bytesOf(h, 2),
      headers: {
        'content-type': 'application/octet-stream',
        'x-slipway-description': 'from header',
        'x-slipway-parent': '1',
        'x-slipway-tag': 'source=header',
      },
    });
    assert.equal(r.status, 201);
    const v = r.body.version as { version: number; description: string; tags: object; lineage: object };
    assert.equal(v.version, 2);
    assert.equal(v.description, 'from query');
    assert.deepEqual(v.tags, { source: 'header' });
    assert.deepEqual(v.lineage, { parentVersion: 1 });
  });

  void test('accepts a multipart/form-data upload with a file part and metadata fields', async () => {
    const form = new FormData();
    form.append('description', 'multipart');
    form.append('file', new Blob([bytesOf(h, 3)]), 'model.onnx');
    form.append('tag', 'a=1');
    form.append('tag', 'b=2');
    form.append('parent', '2');
    const res = await fetch(`${h.url}/api/v1/models/adder/versions`, { method: 'POST', body: form });
    const body = (await res.json()) as { version: { version: number; description: string; tags: object; lineage: object } };
    assert.equal(res.status, 201);
    assert.equal(body.version.version, 3);
    assert.equal(body.version.description, 'multipart');
    assert.deepEqual(body.version.tags, { a: '1', b: '2' });
    assert.deepEqual(body.version.lineage, { parentVersion: 2 });
    assert.deepEqual(h.leftoverUploads(), []);
  });

  void test('refuses a multipart body without a file part', async () => {
    const form = new FormData();
    form.append('description', 'no file');
    const res = await fetch(`${h.url}/api/v1/models/adder/versions`, { method: 'POST', body: form });
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 400);
    assert.equal(body.code, 'CONTROL_INVALID_MULTIPART');
    assert.match(body.error as string, /no part named "file"/);
  });

  void test('refuses a multipart field it does not know, naming it', async () => {
    const form = new FormData();
    form.append('file', new Blob([bytesOf(h, 4)]), 'model.onnx');
    form.append('colour', 'blue');
    const res = await fetch(`${h.url}/api/v1/models/adder/versions`, { method: 'POST', body: form });
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 400);
    assert.equal(body.code, 'CONTROL_INVALID_METADATA');
    assert.deepEqual(problemsOf(body).map((p) => p.path), ['colour']);
  });

  void test('refuses an empty upload', async () => {
    const r = await push(h, 'adder', new Uint8Array(0));
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'CONTROL_UPLOAD_EMPTY');
    assert.match(r.body.error as string, /request body is empty/);
  });

  void test('refuses bytes that are not ONNX with the toolkit error and leaves no temporary file', async () => {
    const r = await push(h, 'adder', new TextEncoder().encode('definitely not a protobuf model'));
    assert.equal(r.status, 400);
    assert.match(r.body.code as string, /^ONNX_/);
    assert.deepEqual(h.leftoverUploads(), []);
  });

  void test('lists every metadata problem at once before reading the body', async () => {
    const r = await push(h, 'adder', bytesOf(h, 5), '?tag=novalue&tag=k=1&tag=k=2&parent=abc&metrics=%7Bbad&dataDigest=&colour=blue&description=a&description=b');
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'CONTROL_INVALID_METADATA');
    const paths = problemsOf(r.body).map((p) => p.path).sort();
    assert.deepEqual(paths, ['colour', 'dataDigest', 'description', 'metrics', 'parent', 'tag[0]', 'tag[2]']);
    assert.match(r.body.error as string, /^invalid upload metadata \(7 problems\): /);
    assert.match(r.body.error as string, /parent: must be a positive whole number/);
  });

  void test('refuses metrics that are not numbers, naming each one', async () => {
    const metrics = encodeURIComponent(JSON.stringify({ accuracy: 'high', f1: 0.9, auc: null }));
    const r = await push(h, 'adder', bytesOf(h, 5), `?metrics=${metrics}`);
    assert.equal(r.status, 400);
    assert.deepEqual(problemsOf(r.body).map((p) => p.path).sort(), ['metrics.accuracy', 'metrics.auc']);
  });

  void test('answers 413 to a client still streaming an oversized upload, then closes the connection and removes the file', async () => {
    let sent = 0;
    const chunk = new Uint8Array(64 * 1024);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 64 * 1024 * 1024) {
          controller.close();
          return;
        }
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(`${h.url}/api/v1/models/big/versions`, {
      method: 'POST',
      body,
      duplex: 'half',
      headers: { 'content-type': 'application/octet-stream' },
    });
    const json = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 413);
    assert.equal(json.code, 'CONTROL_UPLOAD_TOO_LARGE');
    assert.equal(json.error, 'the uploaded model is larger than the server accepts: 256.0 KiB (262144 bytes)');
    assert.equal(res.headers.get('connection'), 'close');
    assert.ok(sent < 64 * 1024 * 1024, 'the server answered before the whole body was sent');
    assert.deepEqual(h.leftoverUploads(), []);
    const models = await request(h.url, 'GET', '/api/v1/models');
    assert.ok(!(models.body.models as { name: string }[]).some((m) => m.name === 'big'));
  });

  void test('answers 413 at once when Content-Length declares more than the limit', async () => {
    const r = await push(h, 'big', new Uint8Array(300 * 1024));
    assert.equal(r.status, 413);
    assert.equal(r.body.code, 'CONTROL_UPLOAD_TOO_LARGE');
    assert.equal(r.body.error, 'the upload declares 300.0 KiB (307200 bytes), more than the server accepts: 256.0 KiB (262144 bytes)');
  });

  void test('shows a model with its versions and aliases', async () => {
    await request(h.url, 'PUT', '/api/v1/models/adder/aliases/production', { json: { version: 2 } });
    const r = await request(h.url, 'GET', '/api/v1/models/adder');
    assert.equal(r.status, 200);
    assert.equal((r.body.model as { name: string; latestVersion: number }).latestVersion, 3);
    assert.deepEqual((r.body.versions as { version: number }[]).map((v) => v.version), [1, 2, 3]);
    assert.deepEqual((r.body.aliases as { alias: string; version: number }[]).map((a) => [a.alias, a.version]), [['production', 2]]);
  });

  void test('lists the versions of a model and shows one version', async () => {
    const list = await request(h.url, 'GET', '/api/v1/models/adder/versions');
    assert.equal(list.status, 200);
    assert.equal((list.body.versions as unknown[]).length, 3);
    const one = await request(h.url, 'GET', '/api/v1/models/adder/versions/2');
    assert.equal(one.status, 200);
    assert.equal((one.body.version as { version: number }).version, 2);
  });

  void test('refuses malformed names and version numbers with a 400 naming the path parameter', async () => {
    const cases: [string, string, RegExp][] = [
      ['GET', '/api/v1/models/Bad_Name', /^path parameter "model": "Bad_Name" is not a valid model name; expected a DNS label/],
      ['GET', '/api/v1/models/adder/versions/0', /^path parameter "version": "0" is not a version number; expected a positive whole number/],
      ['GET', '/api/v1/models/adder/versions/two', /^path parameter "version": "two" is not a version number/],
      ['GET', '/api/v1/models/adder/aliases/-prod', /^path parameter "alias": "-prod" is not a valid alias name/],
      ['GET', '/api/v1/endpoints/UPPER', /^path parameter "endpoint": "UPPER" is not a valid endpoint name/],
      ['DELETE', '/api/v1/endpoints/a.b', /^path parameter "endpoint": "a.b" is not a valid endpoint name/],
    ];
    for (const [method, path, message] of cases) {
      const r = await request(h.url, method, path);
      assert.equal(r.status, 400, path);
      assert.equal(r.body.code, 'CONTROL_INVALID_PARAM', path);
      assert.match(r.body.error as string, message, path);
    }
  });

  void test('refuses an upload to a malformed model name before reading the body', async () => {
    const r = await push(h, 'Not_Valid', bytesOf(h, 6));
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'CONTROL_INVALID_PARAM');
    assert.deepEqual(h.leftoverUploads(), []);
  });

  void test('answers 404 with the registry code and message for an unknown model, version, alias and endpoint', async () => {
    const cases: [string, string, string][] = [
      ['/api/v1/models/nope', 'REGISTRY_MODEL_NOT_FOUND', 'model "nope" does not exist'],
      ['/api/v1/models/nope/versions', 'REGISTRY_MODEL_NOT_FOUND', 'model "nope" does not exist'],
      ['/api/v1/models/adder/versions/9', 'REGISTRY_VERSION_NOT_FOUND', 'model "adder" has no version 9 (its latest version is 3)'],
      ['/api/v1/models/adder/aliases/staging', 'REGISTRY_ALIAS_NOT_FOUND', 'model "adder" has no alias "staging"'],
      ['/api/v1/endpoints/ghost', 'REGISTRY_ENDPOINT_NOT_FOUND', 'endpoint "ghost" does not exist'],
    ];
    for (const [path, code, message] of cases) {
      const r = await request(h.url, 'GET', path);
      assert.equal(r.status, 404, path);
      assert.deepEqual({ code: r.body.code, error: r.body.error }, { code, error: message }, path);
    }
  });
});

void describe('control API: aliases', () => {
  let h: ControlHarness;
  before(async () => {
    h = await startControlHarness({ principal: 'bob' });
    for (const k of [1, 2, 3]) await push(h, 'scorer', bytesOf(h, k));
  });
  after(() => h.close());

  void test('sets, lists, shows and deletes an alias, keeping every move with who and why', async () => {
    const set = await request(h.url, 'PUT', '/api/v1/models/scorer/aliases/production', { json: { version: 1, reason: 'first release' } });
    assert.equal(set.status, 200);
    assert.deepEqual(
      { ...(set.body.alias as object), updatedAt: undefined },
      { model: 'scorer', alias: 'production', version: 1, updatedAt: undefined, updatedBy: 'bob' },
    );
    await request(h.url, 'PUT', '/api/v1/models/scorer/aliases/production', { json: { version: 2 } });
    const list = await request(h.url, 'GET', '/api/v1/models/scorer/aliases');
    assert.deepEqual((list.body.aliases as { alias: string; version: number }[]).map((a) => [a.alias, a.version]), [['production', 2]]);
    const show = await request(h.url, 'GET', '/api/v1/models/scorer/aliases/production');
    assert.equal((show.body.alias as { version: number }).version, 2);

    const del = await request(h.url, 'DELETE', '/api/v1/models/scorer/aliases/production?reason=retired');
    assert.equal(del.status, 200);
    assert.equal(del.body.deleted, true);
    assert.equal((del.body.alias as { version: number }).version, 2);
    const gone = await request(h.url, 'GET', '/api/v1/models/scorer/aliases/production');
    assert.equal(gone.status, 404);

    const history = await request(h.url, 'GET', '/api/v1/models/scorer/aliases/production/history');
    assert.equal(history.status, 200);
    const events = history.body.history as { from: number | null; to: number | null; by: string; reason: string }[];
    assert.deepEqual(
      events.map((e) => [e.from, e.to, e.by, e.reason]),
      [
        [null, 1, 'bob', 'first release'],
        [1, 2, 'bob', ''],
        [2, null, 'bob', 'retired'],
      ],
    );
  });

  void test('answers which version an alias pointed to at a given time', async () => {
    const t0 = h.clock.now();
    await request(h.url, 'PUT', '/api/v1/models/scorer/aliases/staging', { json: { version: 1 } });
    await h.clock.advance(60 * 60 * 1000);
    await request(h.url, 'PUT', '/api/v1/models/scorer/aliases/staging', { json: { version: 3 } });
    const at = async (ms: number): Promise<Record<string, unknown>> => {
      const r = await request(h.url, 'GET', `/api/v1/models/scorer/aliases/staging?at=${new Date(ms).toISOString()}`);
      assert.equal(r.status, 200);
      return r.body;
    };
    assert.deepEqual(await at(t0 + 30 * 60 * 1000), { model: 'scorer', alias: 'staging', at: new Date(t0 + 30 * 60 * 1000).toISOString(), version: 1 });
    assert.equal((await at(t0 + 2 * 60 * 60 * 1000)).version, 3);
    assert.equal((await at(t0 - 1000)).version, null);
  });

  void test('refuses an at parameter that is not an ISO-8601 time', async () => {
    const r = await request(h.url, 'GET', '/api/v1/models/scorer/aliases/staging?at=yesterday');
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'CONTROL_INVALID_QUERY');
    assert.equal(r.body.error, 'query parameter "at": "yesterday" is not an ISO-8601 time; expected e.g. 2026-03-03T12:00:00Z or 2026-03-03');
  });

  void test('refuses an alias body listing every problem at once', async () => {
    const r = await request(h.url, 'PUT', '/api/v1/models/scorer/aliases/canary', { json: { version: 'two', reason: 5, colour: 'red' } });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'CONTROL_INVALID_BODY');
    assert.deepEqual(problemsOf(r.body), [
      { path: 'colour', message: 'unknown key (known: version, reason)' },
      { path: 'version', message: 'must be a whole number, got "two"' },
      { path: 'reason', message: 'must be a string, got number 5' },
    ]);
    assert.match(r.body.error as string, /^invalid request body \(3 problems\): colour: unknown key/);
  });

  void test('refuses an alias without a version, naming the field', async () => {
    const r = await request(h.url, 'PUT', '/api/v1/models/scorer/aliases/canary', { json: {} });
    assert.equal(r.status, 400);
    assert.deepEqual(problemsOf(r.body), [{ path: 'version', message: 'is required (a positive whole number)' }]);
  });

  void test('refuses an alias to a version that does not exist', async () => {
    const r = await request(h.url, 'PUT', '/api/v1/models/scorer/aliases/canary', { json: { version: 7 } });
    assert.equal(r.status, 404);
    assert.equal(r.body.code, 'REGISTRY_VERSION_NOT_FOUND');
    assert.equal(r.body.error, 'model "scorer" has no version 7 (its latest version is 3)');
  });
});

void describe('control API: endpoints', () => {
  let h: ControlHarness;
  before(async () => {
    h = await startControlHarness({ principal: 'carol', maxJsonBodyBytes: 4096 });
    for (const k of [1, 2]) await push(h, 'scorer', bytesOf(h, k));
    await request(h.url, 'PUT', '/api/v1/models/scorer/aliases/production', { json: { version: 1 } });
  });
  after(() => h.close());

  void test('creates an endpoint pinned to a version with 201 and shows its live deployment', async () => {
    const r = await request(h.url, 'POST', '/api/v1/endpoints', { json: { name: 'pinned', model: 'scorer', version: 1, description: 'fixed', reason: 'launch' } });
    assert.equal(r.status, 201);
    const e = r.body.endpoint as Record<string, unknown>;
    assert.deepEqual([e.name, e.model, e.version, e.description, e.deployment], ['pinned', 'scorer', 1, 'fixed', null]);
    assert.deepEqual(e.target, { kind: 'version', model: 'scorer', version: 1 });

    h.deployments.set('pinned', { endpoint: 'pinned', ready: true, versions: [{ model: 'scorer', version: 1, role: 'stable', state: 'ready', replicas: [] }] });
    const shown = await request(h.url, 'GET', '/api/v1/endpoints/pinned');
    assert.equal(shown.status, 200);
    assert.deepEqual((shown.body.endpoint as { deployment: unknown }).deployment, h.deployments.get('pinned'));
    const list = await request(h.url, 'GET', '/api/v1/endpoints');
    const listed = (list.body.endpoints as { name: string; deployment: { ready: boolean } | null }[]).find((x) => x.name === 'pinned');
    assert.equal(listed?.deployment?.ready, true);
  });

  void test('creates an endpoint on the latest version when neither version nor alias is given', async () => {
    const r = await request(h.url, 'POST', '/api/v1/endpoints', { json: { name: 'latest', model: 'scorer' } });
    assert.equal(r.status, 201);
    assert.deepEqual((r.body.endpoint as { target: unknown }).target, { kind: 'version', model: 'scorer', version: 2 });
  });

  void test('creates an endpoint that follows an alias and moves when the alias moves', async () => {
    const r = await request(h.url, 'POST', '/api/v1/endpoints', { json: { name: 'follower', model: 'scorer', alias: 'production' } });
    assert.equal(r.status, 201);
    assert.equal((r.body.endpoint as { version: number }).version, 1);
    await request(h.url, 'PUT', '/api/v1/models/scorer/aliases/production', { json: { version: 2, reason: 'better' } });
    const after = await request(h.url, 'GET', '/api/v1/endpoints/follower');
    assert.equal((after.body.endpoint as { version: number }).version, 2);
  });

  void test('refuses a second endpoint with the same name with 409', async () => {
    const r = await request(h.url, 'POST', '/api/v1/endpoints', { json: { name: 'pinned', model: 'scorer', version: 2 } });
    assert.equal(r.status, 409);
    assert.equal(r.body.code, 'REGISTRY_ENDPOINT_EXISTS');
    assert.equal(r.body.error, 'endpoint "pinned" already exists; update it instead');
  });

  void test('refuses an endpoint for an unknown model with 404', async () => {
    const r = await request(h.url, 'POST', '/api/v1/endpoints', { json: { name: 'lost', model: 'nope' } });
    assert.equal(r.status, 404);
    assert.equal(r.body.code, 'REGISTRY_MODEL_NOT_FOUND');
  });

  void test('refuses an endpoint body listing every problem at once', async () => {
    const r = await request(h.url, 'POST', '/api/v1/endpoints', {
      json: { name: 'Bad Name', model: 3, version: 0, alias: 'prod', colour: 'red', description: ['x'] },
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'CONTROL_INVALID_BODY');
    assert.deepEqual(problemsOf(r.body), [
      { path: 'colour', message: 'unknown key (known: name, model, version, alias, description, reason)' },
      { path: 'name', message: '"Bad Name" is not a DNS label: 1–63 lowercase letters, digits or "-", starting and ending with a letter or digit' },
      { path: 'model', message: 'must be a string, got number 3' },
      { path: 'version', message: 'must be ≥ 1, got 0' },
      { path: 'alias', message: 'give either version or alias, not both' },
      { path: 'description', message: 'must be a string, got a list' },
    ]);
  });

  void test('refuses an empty body naming the required fields', async () => {
    const r = await request(h.url, 'POST', '/api/v1/endpoints');
    assert.equal(r.status, 400);
    assert.deepEqual(problemsOf(r.body).map((p) => p.path), ['name', 'model']);
    assert.match(problemsOf(r.body)[0]?.message ?? '', /^is required/);
  });

  void test('refuses a body that is not a JSON object', async () => {
    const r = await request(h.url, 'POST', '/api/v1/endpoints', { json: ['scorer'] });
    assert.equal(r.status, 400);
    assert.deepEqual(problemsOf(r.body)[0], { path: 'body', message: 'must be a JSON object, got a list' });
  });

  void test('refuses malformed JSON', async () => {
    const r = await request(h.url, 'POST', '/api/v1/endpoints', { body: '{"name": ', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'HTTP_INVALID_JSON');
    assert.match(r.body.error as string, /^the request body is not valid JSON: /);
  });

  void test('refuses a JSON body over the limit', async () => {
    const r = await request(h.url, 'POST', '/api/v1/endpoints', { json: { name: 'x', model: 'scorer', description: 'y'.repeat(5000) } });
    assert.equal(r.status, 413);
    assert.equal(r.body.code, 'HTTP_BODY_TOO_LARGE');
    assert.equal(r.body.error, 'the request body is larger than 4.0 KiB (4096 bytes), the limit for control API bodies');
  });

  void test('answers 413 to a client still sending an oversized JSON body, every time', async () => {
    const total = 8 * 1024 * 1024;
    for (let attempt = 0; attempt < 20; attempt++) {
      // even attempts declare their length (answered before a byte is read), odd ones stream chunked
      let sent = 0;
      const chunk = new Uint8Array(64 * 1024).fill(0x20);
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= total) {
            controller.close();
            return;
          }
          sent += chunk.length;
          controller.enqueue(chunk);
        },
      });
      const headers: Record<string, string> = { 'content-type': 'application/json', ...(attempt % 2 === 0 ? { 'content-length': String(total) } : {}) };
      const res = await fetch(`${h.url}/api/v1/endpoints`, { method: 'POST', body, duplex: 'half', headers });
      const json = (await res.json()) as Record<string, unknown>;
      assert.equal(res.status, 413, `attempt ${attempt}`);
      assert.equal(json.code, 'HTTP_BODY_TOO_LARGE');
    }
  });

  void test('refuses a file upload sent to a JSON route', async () => {
    const r = await request(h.url, 'POST', '/api/v1/endpoints', { body: 'abc', headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'HTTP_UNSUPPORTED_MEDIA_TYPE');
    assert.match(r.body.error as string, /takes a JSON body/);
  });

  void test('reads a JSON body sent with the Content-Type curl -d uses', async () => {
    const r = await request(h.url, 'POST', '/api/v1/endpoints', {
      body: JSON.stringify({ name: 'curled', model: 'scorer', version: 1 }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(r.status, 201);
  });

  void test('re-points an endpoint and records the change in its history with who and why', async () => {
    const r = await request(h.url, 'PUT', '/api/v1/endpoints/pinned', { json: { model: 'scorer', version: 2, reason: 'upgrade' } });
    assert.equal(r.status, 200);
    assert.equal((r.body.endpoint as { version: number }).version, 2);
    const history = await request(h.url, 'GET', '/api/v1/endpoints/pinned/history');
    const events = history.body.history as { from: { version: number } | null; to: { version: number } | null; by: string; reason: string }[];
    assert.deepEqual(
      events.map((e) => [e.from?.version ?? null, e.to?.version ?? null, e.by, e.reason]),
      [
        [null, 1, 'carol', 'launch'],
        [1, 2, 'carol', 'upgrade'],
      ],
    );
  });

  void test('refuses to re-point an unknown endpoint with 404', async () => {
    const r = await request(h.url, 'PUT', '/api/v1/endpoints/ghost', { json: { model: 'scorer', version: 1 } });
    assert.equal(r.status, 404);
    assert.equal(r.body.code, 'REGISTRY_ENDPOINT_NOT_FOUND');
  });

  void test('deletes an endpoint, answers 404 for it afterwards and keeps its history', async () => {
    const del = await request(h.url, 'DELETE', '/api/v1/endpoints/latest?reason=cleanup');
    assert.equal(del.status, 200);
    assert.equal(del.body.deleted, true);
    assert.equal((del.body.endpoint as { name: string }).name, 'latest');
    assert.equal((await request(h.url, 'GET', '/api/v1/endpoints/latest')).status, 404);
    const again = await request(h.url, 'DELETE', '/api/v1/endpoints/latest');
    assert.equal(again.status, 404);
    assert.equal(again.body.code, 'REGISTRY_ENDPOINT_NOT_FOUND');
    const history = await request(h.url, 'GET', '/api/v1/endpoints/latest/history');
    const events = history.body.history as { to: unknown; reason: string }[];
    assert.deepEqual(events.at(-1)?.to, null);
    assert.equal(events.at(-1)?.reason, 'cleanup');
  });
});

void describe('control API: route table', () => {
  void test('declares the permission of every route', async () => {
    const app = Fastify();
    const seen: string[] = [];
    app.addHook('onRoute', (route) => {
      if (route.method === 'HEAD') return;
      seen.push(`${String(route.method)} ${route.url} ${(route.config as { permission?: string } | undefined)?.permission ?? 'NONE'}`);
    });
    await app.register(
      controlApi({ registry: {} as Registry, deployments: { deployment: () => undefined }, uploadDir: '/nonexistent', maxUploadBytes: 1 }),
      { prefix: '/api/v1' },
    );
    await app.ready();
    assert.deepEqual(seen.sort(), [
      'DELETE /api/v1/endpoints/:name endpoints:write',
      'DELETE /api/v1/endpoints/:name/scaling endpoints:write',
      'DELETE /api/v1/endpoints/:name/traffic endpoints:write',
      'DELETE /api/v1/models/:model/aliases/:alias aliases:write',
      'GET /api/v1/endpoints models:read',
      'GET /api/v1/endpoints/:name models:read',
      'GET /api/v1/endpoints/:name/history models:read',
      'GET /api/v1/endpoints/:name/rollout models:read',
      'GET /api/v1/endpoints/:name/rollouts models:read',
      'GET /api/v1/endpoints/:name/scaling models:read',
      'GET /api/v1/endpoints/:name/traffic models:read',
      'GET /api/v1/models models:read',
      'GET /api/v1/models/:model models:read',
      'GET /api/v1/models/:model/aliases models:read',
      'GET /api/v1/models/:model/aliases/:alias models:read',
      'GET /api/v1/models/:model/aliases/:alias/history models:read',
      'GET /api/v1/models/:model/versions models:read',
      'GET /api/v1/models/:model/versions/:version models:read',
      'GET /api/v1/rollouts/:id models:read',
      'GET /api/v1/rollouts/:id/events models:read',
      'POST /api/v1/apply endpoints:write',
      'POST /api/v1/endpoints endpoints:write',
      'POST /api/v1/endpoints/:name/rollback endpoints:write',
      'POST /api/v1/endpoints/:name/rollout/abort endpoints:write',
      'POST /api/v1/endpoints/:name/rollout/pause endpoints:write',
      'POST /api/v1/endpoints/:name/rollout/promote endpoints:write',
      'POST /api/v1/endpoints/:name/rollout/resume endpoints:write',
      'POST /api/v1/endpoints/:name/rollout/retry endpoints:write',
      'POST /api/v1/models/:model/versions models:write',
      'POST /api/v1/models/:model/versions/:version/signature models:write',
      'PUT /api/v1/endpoints/:name endpoints:write',
      'PUT /api/v1/endpoints/:name/scaling endpoints:write',
      'PUT /api/v1/endpoints/:name/traffic endpoints:write',
      'PUT /api/v1/models/:model/aliases/:alias aliases:write',
    ]);
    await app.close();
  });
});
