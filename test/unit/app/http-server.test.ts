/**
 * The shared HTTP server's answers to requests the router refuses before hooks or handlers run
 * (found by test/integration/fuzz.test.ts): they keep the `{error, code}` shape.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { maxHeaderSize } from 'node:http';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createHttpServer, MAX_PATH_PARAM_LENGTH } from '../../../src/app/http-server.js';

/** Writes raw bytes to the server and reads until it closes the connection. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (e) => (chunks.length > 0 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(e)));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.write(request);
  });
}

function parseRaw(text: string): { status: number; headers: string; body: { error: string; code: string; details?: unknown } } {
  const [head = '', body = ''] = text.split('\r\n\r\n', 2);
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), headers: head.toLowerCase(), body: JSON.parse(body) as { error: string; code: string; details?: unknown } };
}

describe('router errors', () => {
  let app: FastifyInstance;
  before(async () => {
    app = createHttpServer({ bodyLimitBytes: 1024, logLevel: 'silent', lifecycle: () => 'ready' });
    app.get<{ Params: { id: string } }>('/things/:id', { config: { permission: 'models:read' } }, async (req) => ({ id: req.params.id }));
    app.post('/things', { config: { permission: 'models:write' } }, async (req) => ({ got: req.body }));
    await app.ready();
  });
  after(() => app.close());

  test('a malformed percent-encoding in the path is a 400 HTTP_BAD_REQUEST naming the path, not Fastify FST_ERR_BAD_URL', async () => {
    const r = await app.inject({ method: 'GET', url: '/things/%C0%AF' });
    assert.equal(r.statusCode, 400);
    assert.match(String(r.headers['content-type']), /^application\/json/);
    const body = r.json<{ error: string; code: string; details: unknown }>();
    assert.equal(body.code, 'HTTP_BAD_REQUEST');
    assert.match(body.error, /path "\/things\/%C0%AF" is not valid: a percent-encoding/);
    assert.deepEqual(body.details, { field: 'path' });
    assert.ok(typeof r.headers['x-request-id'] === 'string' && r.headers['x-request-id'] !== '');
  });

  test('a 128-character client request id fits in a path parameter (Fastify refused more than 100 with a 414)', async () => {
    const id = 'a'.repeat(128);
    const r = await app.inject({ method: 'GET', url: `/things/${id}` });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json(), { id });
  });

  test('a path parameter longer than MAX_PATH_PARAM_LENGTH is a 400 HTTP_BAD_REQUEST with a short message, not a 414 FST_ERR_MAX_PARAM_LENGTH', async () => {
    const r = await app.inject({ method: 'GET', url: `/things/${'b'.repeat(MAX_PATH_PARAM_LENGTH + 1)}` });
    assert.equal(r.statusCode, 400);
    const body = r.json<{ error: string; code: string }>();
    assert.equal(body.code, 'HTTP_BAD_REQUEST');
    assert.match(body.error, new RegExp(`segment longer than ${MAX_PATH_PARAM_LENGTH} characters`));
    assert.ok(body.error.length < 300, 'the path is quoted cut short');
  });

  test('a Content-Type no parser reads is a 400 HTTP_UNSUPPORTED_MEDIA_TYPE naming the value sent and what the route takes', async () => {
    const r = await app.inject({ method: 'POST', url: '/things', headers: { 'content-type': 'a b' }, payload: '{}' });
    assert.equal(r.statusCode, 400);
    const body = r.json<{ error: string; code: string; details: unknown }>();
    assert.equal(body.code, 'HTTP_UNSUPPORTED_MEDIA_TYPE');
    assert.match(body.error, /^Content-Type "a b" is not accepted on this route: JSON routes take application\/json/);
    assert.deepEqual(body.details, { field: 'content-type' });
    assert.equal((await app.inject({ method: 'POST', url: '/things', headers: { 'content-type': 'application/json' }, payload: '{"a":1}' })).statusCode, 200);
  });
});

describe('requests node refuses before Fastify sees them', () => {
  let app: FastifyInstance;
  let port: number;
  before(async () => {
    app = createHttpServer({ bodyLimitBytes: 1024, logLevel: 'silent', lifecycle: () => 'ready' });
    app.get('/ok', { config: { permission: 'health:read' } }, async () => ({ ok: true }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  after(() => app.close());

  test('headers over the limit are a 400 HTTP_BAD_REQUEST naming the limit, not a 431 without a code', async () => {
    const r = parseRaw(await rawExchange(port, `GET /ok HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'A'.repeat(maxHeaderSize + 10)}\r\n\r\n`));
    assert.equal(r.status, 400);
    assert.match(r.headers, /content-type: application\/json/);
    assert.equal(r.body.code, 'HTTP_BAD_REQUEST');
    assert.match(r.body.error, new RegExp(`request headers are larger than ${maxHeaderSize} bytes`));
    assert.deepEqual(r.body.details, { field: 'headers' });
  });

  test('a malformed request line is a 400 HTTP_BAD_REQUEST in the same shape', async () => {
    const r = parseRaw(await rawExchange(port, 'NOT HTTP AT ALL\r\n\r\n'));
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'HTTP_BAD_REQUEST');
    assert.match(r.body.error, /not valid HTTP\/1\.1/);
  });
});
