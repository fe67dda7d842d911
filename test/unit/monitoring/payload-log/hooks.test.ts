/**
 * The hooks on a real Fastify server (the app's own HTTP server, the real OIP routes and content
 * parser) over a stub data plane, called over HTTP on 127.0.0.1; then the export and stats routes,
 * their client and the CLI against the same server.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createHttpServer } from '../../../../src/app/http-server.js';
import { main } from '../../../../src/cli/main.js';
import { createFakeClock, CoreErrors, type ModelSignature } from '../../../../src/core/index.js';
import { createPayloadLogClient } from '../../../../src/monitoring/payload-log/client.js';
import { openPayloadLog, payloadLogApi, payloadLogHooks, type PayloadEntry, type PayloadLog } from '../../../../src/monitoring/payload-log/index.js';
import { inferenceRouteOf, oipRestRoutes, ServingErrors, type DataPlane } from '../../../../src/serving/index.js';
import { config, output as captured, tempDir } from './helpers.js';

const signature: ModelSignature = {
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }],
};

/** Endpoint `fraud` answers; `broken` fails inside the model (500); anything else is no endpoint (404). */
function stubDataPlane(): DataPlane {
  const unused = (): never => {
    throw new Error('not used by these tests');
  };
  return {
    serverName: 'slipway',
    serverVersion: 'test',
    extensions: [],
    modelMetadata: unused,
    modelReady: unused,
    async infer(endpoint, version, decode, ctx) {
      if (endpoint !== 'fraud' && endpoint !== 'broken') throw ServingErrors.SERVING_ENDPOINT_NOT_FOUND(`no endpoint ${endpoint}`);
      const v = version ?? 3;
      // as the real data plane does once it has chosen a version
      ctx.routed = { model: `${endpoint}-model`, version: v, variant: 'candidate' };
      const request = decode(signature);
      if (endpoint === 'broken') throw CoreErrors.CORE_INTERNAL('the model crashed');
      return { endpoint, model: `${endpoint}-model`, version: v, variant: 'candidate', outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: new Float32Array([0.5]) }], request };
    },
    trafficFigures: unused,
    resetTrafficFigures: unused,
    takeTrafficFigures: unused,
    setPreview: unused,
    close: async () => undefined,
  };
}

describe('payload log over HTTP', () => {
  let app: FastifyInstance;
  let url: string;
  let log: PayloadLog;
  let cleanup: () => Promise<void>;
  let dir: string;
  const clock = createFakeClock(Date.UTC(2026, 0, 1, 10));

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    log = await openPayloadLog({ dir, config: config({ bodies: { sampleRate: 0, errorSampleRate: 1 }, redact: [{ path: 'inputs[name=x].data', action: 'mask', in: 'request' }] }), clock });
    app = createHttpServer({ bodyLimitBytes: 1024 * 1024, logLevel: 'silent', lifecycle: () => 'ready' });
    await app.register(payloadLogHooks({ log, routeOf: (req) => inferenceRouteOf(req) }));
    await app.register(oipRestRoutes({ dataPlane: stubDataPlane(), serverReady: () => true }));
    await app.register(payloadLogApi({ log, clock }), { prefix: '/api/v1' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    assert.ok(typeof address === 'object' && address !== null);
    url = `http://127.0.0.1:${address.port}`;

    const infer = (path: string, body: string, requestId: string) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': requestId }, body });
    const good = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] });
    const answers = await Promise.all([
      infer('/v2/models/fraud/infer', good, 'req-ok-0000000000001'),
      infer('/v2/models/fraud/versions/4/infer', '{"inputs": [', 'req-badjson-00000001'),
      infer('/v2/models/fraud/infer', JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] }), 'req-shape-0000000001'),
      infer('/v2/models/broken/infer', good, 'req-broken-000000001'),
      infer('/v2/models/nowhere/infer', good, 'req-nowhere-00000001'),
    ]);
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 400, 400, 500, 404],
    );
    await Promise.all(answers.map((a) => a.arrayBuffer()));
    // not an inference route: not recorded
    await (await fetch(`${url}/api/v1/payloads/stats`)).arrayBuffer();
    await log.flush();
  });

  after(async () => {
    await app.close();
    await log.close();
    await cleanup();
  });

  const all = async (): Promise<Map<string, PayloadEntry>> => {
    const out = new Map<string, PayloadEntry>();
    for await (const e of log.entries()) out.set(e.requestId, e);
    return out;
  };

  test('records every inference request whatever its status, and nothing else', async () => {
    const entries = await all();
    assert.deepEqual([...entries.keys()].sort(), ['req-badjson-00000001', 'req-broken-000000001', 'req-nowhere-00000001', 'req-ok-0000000000001', 'req-shape-0000000001']);
    const ok = entries.get('req-ok-0000000000001');
    assert.equal(ok?.status, 200);
    assert.equal(ok?.endpoint, 'fraud');
    assert.equal(ok?.model, 'fraud-model');
    assert.equal(ok?.version, 3);
    assert.equal(ok?.variant, 'candidate');
    assert.equal(ok?.method, 'POST');
    assert.equal(ok?.path, '/v2/models/fraud/infer');
    assert.ok((ok?.latencyMs ?? -1) >= 0);
    // success bodies are sampled at 0 here
    assert.equal(ok?.request, undefined);
  });

  test('keeps the raw text of an invalid JSON body that never reached a handler', async () => {
    const bad = (await all()).get('req-badjson-00000001');
    assert.equal(bad?.status, 400);
    assert.equal(bad?.path, '/v2/models/fraud/versions/4/infer');
    assert.equal(bad?.model, null);
    // the rules cannot apply to text that is not JSON, so it is withheld rather than kept
    assert.equal(typeof bad?.request, 'string');
    assert.match(bad?.request as string, /WITHHELD/);
    assert.equal((bad?.response as { code?: string } | undefined)?.code, 'HTTP_INVALID_JSON');
  });

  test('keeps redacted request bodies and the error responses of 4xx and 5xx', async () => {
    const entries = await all();
    const shape = entries.get('req-shape-0000000001');
    assert.deepEqual((shape?.request as { inputs: { data: unknown }[] }).inputs[0]?.data, '[REDACTED]');
    assert.equal((shape?.response as { code?: string }).code, 'SERVING_SHAPE_MISMATCH');
    const broken = entries.get('req-broken-000000001');
    assert.equal(broken?.status, 500);
    assert.deepEqual(broken?.response, { error: 'internal error', code: 'CORE_INTERNAL' });
    assert.equal(broken?.model, 'broken-model');
    const nowhere = entries.get('req-nowhere-00000001');
    assert.equal(nowhere?.status, 404);
    assert.equal(nowhere?.model, null);
  });

  test('GET /api/v1/payloads streams matching entries as NDJSON', async () => {
    const res = await fetch(`${url}/api/v1/payloads?status=4xx,5xx&endpoint=fraud`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    const text = await res.text();
    assert.ok(text.endsWith('\n'));
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as PayloadEntry);
    assert.deepEqual(lines.map((e) => e.requestId).sort(), ['req-badjson-00000001', 'req-shape-0000000001']);
    const limited = await (await fetch(`${url}/api/v1/payloads?limit=1&since=1h`)).text();
    assert.equal(limited.trimEnd().split('\n').length, 1);
  });

  test('a bad query is a 400 naming each parameter', async () => {
    const res = await fetch(`${url}/api/v1/payloads?status=5yy&since=yesterday&limit=0&colour=red`);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { code: string; error: string; details: { problems: { param: string }[] } };
    assert.equal(body.code, 'PAYLOAD_LOG_INVALID_QUERY');
    assert.deepEqual(body.details.problems.map((p) => p.param).sort(), ['colour', 'limit', 'since', 'status']);
    assert.match(body.error, /status: "5yy" is not a status filter/);
  });

  test('GET /api/v1/payloads/stats reports the counters', async () => {
    const { stats } = await createPayloadLogClient({ baseUrl: url }).stats();
    assert.equal(stats.recorded, 5);
    assert.equal(stats.written, 5);
    assert.equal(stats.bodiesSampled, 4);
    assert.equal(stats.segments, 1);
    assert.ok(stats.bytesOnDisk > 0);
    assert.equal(stats.dropped.buffer_full, 0);
    assert.equal(stats.webhook, null);
  });

  test('slipway payloads export writes JSONL to a file or stdout; a bad flag is a usage error', async () => {
    const out = join(dir, '..', `export-${process.pid}.jsonl`);
    const stdout = captured();
    const stderr = captured();
    const code = await main(['--server', url, 'payloads', 'export', '--status', '5xx', '-o', out], { env: {}, stdout, stderr });
    assert.equal(code, 0, stderr.text);
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as PayloadEntry).requestId),
      ['req-broken-000000001'],
    );
    assert.match(stderr.text, /Exported 1 payload entry/);

    const piped = captured();
    assert.equal(await main(['--server', url, 'payloads', 'export', '--request-id', 'req-nowhere-00000001'], { env: {}, stdout: piped, stderr: captured() }), 0);
    assert.equal((JSON.parse(piped.text) as PayloadEntry).status, 404);

    const usage = captured();
    assert.notEqual(await main(['--server', url, 'payloads', 'export', '--since', 'last tuesday'], { env: {}, stdout: captured(), stderr: usage }), 0);
    assert.match(usage.text, /--since/);
  });

  test('slipway payloads stats prints the counters', async () => {
    const stdout = captured();
    assert.equal(await main(['--server', url, 'payloads', 'stats'], { env: {}, stdout, stderr: captured() }), 0);
    assert.match(stdout.text, /Recorded\s+5/);
    assert.match(stdout.text, /Webhook\s+none/);
  });
});

describe('payload log hooks registration', () => {
  test('registered after the routes they record, they refuse to start instead of recording nothing', async () => {
    const { dir, cleanup } = await tempDir();
    const log = await openPayloadLog({ dir, config: config({}), clock: createFakeClock(0) });
    const app = createHttpServer({ bodyLimitBytes: 1024, logLevel: 'silent', lifecycle: () => 'ready' });
    try {
      await app.register(oipRestRoutes({ dataPlane: stubDataPlane(), serverReady: () => true }));
      await app.register(payloadLogHooks({ log }));
      await assert.rejects(async () => {
        await app.ready();
      }, /joined none of the routes \/v2\/models\/:name\/infer, .*register them before those routes/);
    } finally {
      await app.close().catch(() => undefined);
      await log.close();
      await cleanup();
    }
  });
});
