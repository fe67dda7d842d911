/**
 * Property-based fuzzing of the HTTP API with fast-check (docs/security.md, "Testing"): malformed
 * inference bodies and Content-Types on the OIP infer routes, random methods, path parameters,
 * bodies and headers on every registered route, and random Authorization values. Every answer must
 * be below 500, every 4xx a JSON `{error, code}` with a documented code, no body may carry a stack
 * trace, and after each property the server must still be ready and answer a valid inference.
 *
 * The runs are bounded (SLIPWAY_FUZZ_RUNS per property, 400 by default, and a wall-clock limit
 * after which a property stops early and passes with the runs it made). The seed is fixed, so a
 * failure replays: the message names SLIPWAY_FUZZ_SEED and fast-check's seed and path.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { registeredErrorCodes } from '../../src/core/index.js';
import { loadAllErrorTables } from '../support/error-docs.js';
import { addModel } from '../support/models.js';
import { addRequest, startTestServer, TEST_ADMIN_KEY, type TestServer } from '../support/server.js';

const BASE_SEED = Number(process.env.SLIPWAY_FUZZ_SEED ?? 0x5119a7);
const RUNS = Number(process.env.SLIPWAY_FUZZ_RUNS ?? 400);
/** Each property stops starting new runs after this long (it passes with the runs it made). */
const TIME_LIMIT_MS = Number(process.env.SLIPWAY_FUZZ_TIME_LIMIT_MS ?? 12_000);

const ENDPOINT = 'fuzz';
const MODEL = 'fuzz-model';
const K = 3;
const DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'] as const;

let s: TestServer;
let documented: Set<string>;
const keys: { viewer: string; predictor: string; revoked: string; victimId: string; adminId: string } = { viewer: '', predictor: '', revoked: '', victimId: '', adminId: '' };

// ---------------------------------------------------------------------------------------------
// Sending requests and checking every answer

interface Sent {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string | Uint8Array;
}

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly contentType: string;
}

async function send(req: Sent): Promise<Answer> {
  const withBody = req.body !== undefined && req.method !== 'GET' && req.method !== 'HEAD';
  const res = await fetch(s.url + req.path, { method: req.method, headers: req.headers, ...(withBody ? { body: req.body } : {}) });
  return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') ?? '' };
}

function describeSent(req: Sent): string {
  const body = req.body === undefined ? '' : typeof req.body === 'string' ? req.body.slice(0, 400) : `<${req.body.length} bytes>`;
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, k === 'authorization' && v.includes(TEST_ADMIN_KEY) ? '<admin>' : v.slice(0, 120)]));
  return `${req.method} ${req.path.slice(0, 300)} ${JSON.stringify(headers)} ${body}`;
}

const STACK = [/\bat \S+ \((?:file:\/\/|node:|\/)[^)]*:\d+:\d+\)/, /\.[cm]?[jt]s:\d+:\d+/, /node_modules/, /\bnode:internal\b/];

/** The rules every answer obeys, whatever was sent. */
function checkAnswer(req: Sent, res: Answer): void {
  const where = () => `${describeSent(req)}\n→ ${res.status} ${res.text.slice(0, 600)}`;
  assert.ok(res.status < 500, `5xx: ${where()}`);
  for (const pattern of STACK) assert.doesNotMatch(res.text, pattern, `a stack trace or internal path in the body: ${where()}`);
  if (res.status < 400 || req.method === 'HEAD') return;
  assert.match(res.contentType, /^application\/json/, `a 4xx answer must be JSON: ${where()}`);
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    assert.fail(`a 4xx body that is not JSON: ${where()}`);
  }
  assert.ok(typeof body === 'object' && body !== null && !Array.isArray(body), `a 4xx body must be an object: ${where()}`);
  const { error, code } = body as { error?: unknown; code?: unknown };
  assert.ok(typeof error === 'string' && error.length > 0, `a 4xx body needs "error": ${where()}`);
  assert.ok(typeof code === 'string', `a 4xx body needs "code": ${where()}`);
  assert.ok(registeredErrorCodes().has(code), `code ${code} is in no error table: ${where()}`);
  assert.ok(documented.has(code), `code ${code} is not in docs/errors.md: ${where()}`);
}

/** After each property: the server is ready and still answers a valid inference correctly. */
async function assertHealthy(): Promise<void> {
  const ready = await fetch(`${s.url}/v2/health/ready`);
  assert.equal(ready.status, 200, 'the server is no longer ready');
  assert.deepEqual(await ready.json(), { ready: true });
  const r = await s.call('POST', `/v2/models/${ENDPOINT}/infer`, addRequest([[1, 2, 3, 4], [-1, 0, 0.5, 9]]));
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const y = (r.json.outputs as { name: string; data: number[] }[]).find((o) => o.name === 'y');
  assert.deepEqual(y?.data, [1 + K, 2 + K, 3 + K, 4 + K, -1 + K, 0 + K, 0.5 + K, 9 + K]);
}

/** What a property sent and got back: its run count and how often each status and code came. */
interface Tally {
  runs: number;
  readonly answers: Map<string, number>;
}

function summary(t: Tally): string {
  const top = [...t.answers].sort((a, b) => b[1] - a[1]).slice(0, 12);
  return `${t.runs} runs; answers: ${top.map(([k, n]) => `${k} ×${n}`).join(', ')}`;
}

async function runProperty<T>(name: string, offset: number, arb: fc.Arbitrary<T>, toRequest: (v: T) => Sent, extra?: (req: Sent, res: Answer) => void): Promise<Tally> {
  const seed = BASE_SEED + offset;
  const tally: Tally = { runs: 0, answers: new Map() };
  const property = fc.asyncProperty(arb, async (v) => {
    tally.runs++;
    const req = toRequest(v);
    const res = await send(req);
    checkAnswer(req, res);
    extra?.(req, res);
    const code = res.status >= 400 && req.method !== 'HEAD' ? ` ${String((JSON.parse(res.text) as { code: unknown }).code)}` : '';
    const key = `${res.status}${code}`;
    tally.answers.set(key, (tally.answers.get(key) ?? 0) + 1);
  });
  try {
    await fc.assert(property, { seed, numRuns: RUNS, plugins: [fc.interruptAfterTimeLimit(TIME_LIMIT_MS)] });
  } catch (error) {
    const cause = (error as Error).cause;
    const why = cause instanceof Error ? `\n${cause.message}` : '';
    throw new Error(`fuzz property "${name}" failed; replay with SLIPWAY_FUZZ_SEED=${BASE_SEED} (fast-check seed ${seed}):\n${(error as Error).message.slice(0, 4000)}${why}`, { cause: error });
  }
  return tally;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** Characters a header value may carry over HTTP/1.1 (tab, visible ASCII, obs-text), leading and trailing spaces aside. */
const headerValue = (maxLength: number): fc.Arbitrary<string> =>
  fc
    .array(fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(0x09)), { maxLength })
    .map((codes) => String.fromCharCode(...codes).trim());

const oddStrings = fc.constantFrom(
  '',
  ' ',
  '.',
  '..',
  '../..',
  '/',
  'a/b',
  '%2e%2e',
  '%2F',
  '%00',
  '%',
  '%zz',
  '%E2%82',
  '%C0%AF',
  'null',
  '__proto__',
  'constructor',
  'toString',
  '0',
  '-1',
  '1',
  '2',
  '01',
  '1.5',
  '1e3',
  '999999999999999999999',
  'NaN',
  'Infinity',
  'latest',
  '*',
  '?x=1',
  '#',
  ';',
  '\u0000',
  '\u202e',
  'é',
  '😀',
  '\ud800',
  'x'.repeat(300),
  'y'.repeat(3000),
);

const fuzzString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: oddStrings },
  { weight: 2, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 16 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
);

/** A path parameter: a fuzzed string, either percent-encoded or written raw into the path. */
function pathParam(fixtures: readonly string[]): fc.Arbitrary<string> {
  return fc.tuple(fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...fixtures) }, { weight: 5, arbitrary: fuzzString }), fc.boolean()).map(([v, encode]) => {
    if (!encode) return v;
    try {
      return encodeURIComponent(v);
    } catch {
      return v; // a lone surrogate cannot be encoded; the URL parser replaces it
    }
  });
}

const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -1, 1e308, -1e308, 2 ** 53 + 1, 5e-324, 1.5),
  fuzzString,
  fc.jsonValue({ maxDepth: 2, stringUnit: 'grapheme' }),
);

const dimension: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -2, max: 6 }) },
  { weight: 2, arbitrary: fc.constantFrom(1e6, 1e9, 2 ** 31, 2 ** 32, 2 ** 53, 1e300, 1.5, -0.5, -1e9) },
  { weight: 1, arbitrary: junk },
);

const datatype: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constant('FP32') },
  { weight: 3, arbitrary: fc.constantFrom(...DATATYPES) },
  { weight: 1, arbitrary: fc.constantFrom('fp32', 'FLOAT', 'float32', '', 'FP8', 'BF16') },
  { weight: 1, arbitrary: junk },
);

const element: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.constantFrom(1e308, -1e308, 3.4e38, 1e39, 65504, 65520, 2 ** 63, -(2 ** 63), 2 ** 64, true, false, '1', '-9', '') },
  { weight: 1, arbitrary: junk },
);

const data: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.array(element, { maxLength: 16 }) },
  { weight: 2, arbitrary: fc.array(fc.array(element, { maxLength: 5 }), { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.array(fc.oneof(element, fc.array(fc.array(element, { maxLength: 3 }), { maxLength: 3 })), { maxLength: 6 }) },
  { weight: 1, arbitrary: junk },
);

const parameters: fc.Arbitrary<unknown> = fc.oneof(
  fc.dictionary(fuzzString, junk, { maxKeys: 3 }),
  fc.constantFrom({ binary_data_output: true }, { binary_data_size: 16 }, { binary_data: true }, { content_type: 'str' }),
  junk,
);

/** An input tensor around the OIP shape: every field may be missing, wrong or odd. */
const looseInput = fc.record(
  {
    name: fc.oneof({ weight: 4, arbitrary: fc.constant('x') }, { weight: 1, arbitrary: fc.constantFrom('y', 'X', 'sum') }, { weight: 1, arbitrary: fuzzString }, { weight: 1, arbitrary: junk }),
    shape: fc.oneof({ weight: 4, arbitrary: fc.array(dimension, { maxLength: 4 }) }, { weight: 1, arbitrary: junk }),
    datatype,
    data,
    parameters,
    extra: junk,
  },
  { requiredKeys: [] },
);

/** An input that agrees with the model (x: FP32 [batch, 4]) except maybe in its values: it reaches the model. */
const fittingInput = fc.integer({ min: 0, max: 6 }).chain((rows) =>
  fc.record({
    name: fc.constant('x'),
    datatype: fc.constant('FP32'),
    shape: fc.constant([rows, 4]),
    data: fc.oneof(
      fc.array(fc.oneof({ weight: 6, arbitrary: fc.float({ noNaN: true, noDefaultInfinity: true }) }, { weight: 1, arbitrary: fc.double() }), { minLength: rows * 4, maxLength: rows * 4 }),
      fc.array(fc.array(fc.float({ noNaN: true }), { minLength: 4, maxLength: 4 }), { minLength: rows, maxLength: rows }),
    ),
  }),
);

/** An input named and typed like the model's, whose shape and data are fuzzed: it gets past the first checks. */
const nearInput = fc.record({
  name: fc.constant('x'),
  datatype: fc.oneof({ weight: 4, arbitrary: fc.constant('FP32') }, { weight: 1, arbitrary: datatype }),
  shape: fc.oneof(fc.tuple(dimension, fc.oneof({ weight: 3, arbitrary: fc.constant(4) }, { weight: 1, arbitrary: dimension })), fc.array(dimension, { maxLength: 3 })),
  data,
});

const outputs: fc.Arbitrary<unknown> = fc.oneof(
  fc.array(fc.record({ name: fc.oneof(fc.constantFrom('y', 'sum', 'x'), fuzzString, junk), parameters }, { requiredKeys: [] }), { maxLength: 3 }),
  junk,
);

const inferBody = fc.record(
  {
    id: fc.oneof(fuzzString, junk),
    parameters,
    inputs: fc.oneof(
      { weight: 6, arbitrary: fc.array(fc.oneof({ weight: 3, arbitrary: looseInput }, { weight: 2, arbitrary: nearInput }, { weight: 2, arbitrary: fittingInput }, { weight: 1, arbitrary: junk }), { maxLength: 3 }) },
      { weight: 1, arbitrary: junk },
    ),
    outputs,
    model_name: junk,
    extra: junk,
  },
  { requiredKeys: ['inputs'] },
);

/** A request the model can answer, but for its values (NaN, ±Infinity, huge numbers) and optional fields. */
const answerableBody = fc.record(
  {
    id: fc.string({ unit: 'grapheme', maxLength: 20 }),
    parameters: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean()), { maxKeys: 3 }),
    inputs: fittingInput.map((input) => [input]),
    outputs: fc.subarray([{ name: 'y' }, { name: 'sum' }]),
  },
  { requiredKeys: ['inputs'] },
);

/** Deeply nested text, built as text: the client's JSON.stringify would itself overflow its stack. */
const deepText = fc.tuple(fc.constantFrom(10, 100, 20_000, 200_000), fc.constantFrom('data', 'data', 'shape', 'inputs', 'parameters', 'body')).map(([depth, where]) => {
  const deep = `${'['.repeat(depth)}1${']'.repeat(depth)}`;
  const deepObject = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  switch (where) {
    case 'data':
      return `{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":${deep}}]}`;
    case 'shape':
      return `{"inputs":[{"name":"x","shape":${deep},"datatype":"FP32","data":[1,2,3,4]}]}`;
    case 'inputs':
      return `{"inputs":${deep}}`;
    case 'parameters':
      return `{"parameters":${deepObject},"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}`;
    default:
      return deep;
  }
});

/** A body that is not JSON, or barely JSON. */
const rawBody: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.constantFrom('', ' ', 'null', '[]', '{}', '"x"', '1', 'true', '{"inputs":', '{"inputs":[}', '\ufeff{}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', 'NaN', '{"a":1,"a":2}'),
  deepText,
);

const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      undefined,
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'APPLICATION/JSON',
      'application/json;;;',
      'application/json; charset=',
      'text/plain',
      'text/plain; charset=utf-8',
      'application/octet-stream',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'multipart/form-data',
      'application/x-ndjson',
      '*/*',
      '',
    ),
  },
  { weight: 1, arbitrary: headerValue(40) },
);

function bodyText(v: unknown): string | Uint8Array {
  return typeof v === 'string' || v instanceof Uint8Array ? v : JSON.stringify(v) ?? 'null';
}

/** Request headers besides Authorization: a Content-Type, odd request ids, the extensions' headers. */
const extraHeaders = fc.record(
  {
    'content-type': contentType,
    'x-request-id': fc.oneof(fc.constantFrom('', 'a', 'req-1', '../../etc/passwd', 'x'.repeat(2000), '0'), headerValue(64)),
    'x-slipway-variant': fc.oneof(fc.constantFrom('canary', 'stable'), headerValue(20)),
    // the binary extension's header is refused: sent rarely, so most bodies are read
    'inference-header-content-length': fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('0', '-1', 'x', '99999999') }),
    accept: fc.oneof(fc.constantFrom('application/json', 'text/html', '*/*', ''), headerValue(20)),
    'x-slipway-description': headerValue(60),
    'x-slipway-metrics': fc.oneof(fc.constantFrom('{"acc":0.9}', '{', 'acc=1', 'null'), headerValue(40)),
    'x-slipway-tag': headerValue(40),
  },
  { requiredKeys: [] },
);

function headersOf(extra: Record<string, string | undefined>, authorization: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) out[k] = v;
  if (authorization !== undefined) out.authorization = authorization;
  return out;
}

/** Authorization values that carry no valid credentials (or carry valid ones in a form that must not count). */
function badAuthorization(): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    fc.constantFrom(
      undefined,
      '',
      'Bearer',
      'Bearer ',
      'Bearer  ',
      'bearer',
      'Basic',
      `Basic ${Buffer.from(`admin:${TEST_ADMIN_KEY}`).toString('base64')}`,
      `Basic ${TEST_ADMIN_KEY}`,
      `Token ${TEST_ADMIN_KEY}`,
      TEST_ADMIN_KEY,
      `Bearer${TEST_ADMIN_KEY}`,
      `Bearer ${TEST_ADMIN_KEY}x`,
      `Bearer ${TEST_ADMIN_KEY.slice(0, -1)}`,
      `Bearer ${TEST_ADMIN_KEY} extra`,
      `Bearer ${TEST_ADMIN_KEY}, Bearer ${TEST_ADMIN_KEY}`,
      `Bearer\u00a0${TEST_ADMIN_KEY}`,
      `Bearer ${TEST_ADMIN_KEY.toUpperCase()}`,
      'Bearer slw_',
      'Bearer slw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      'Bearer eyJhbGciOiJub25lIn0.eyJyb2xlcyI6WyJhZG1pbiJdfQ.',
      'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4Iiwicm9sZXMiOiJhZG1pbiJ9.c2lnbmF0dXJl',
      'Bearer a.b.c',
      `Bearer ${'A'.repeat(8000)}`,
      `Bearer ${'A'.repeat(12_000)}`,
      `Bearer ${'A'.repeat(20_000)}`, // over node's 16 KiB of headers: refused by its parser, still as {error, code}
      `${'B'.repeat(4000)} ${'C'.repeat(4000)}`,
    ),
    headerValue(80),
    headerValue(30).map((v) => `Bearer ${v}`),
    fc.constant('revoked').map(() => `Bearer ${keys.revoked}`),
  );
}

// ---------------------------------------------------------------------------------------------

before(async () => {
  await loadAllErrorTables();
  documented = new Set([...readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8').matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1] ?? ''));
  s = await startTestServer();
  const v = await s.push(MODEL, addModel(K));
  await s.deploy(ENDPOINT, MODEL, v);
  await s.settled;
  const create = async (name: string, roles: string[]): Promise<{ id: string; token: string }> => {
    const r = await s.call('POST', '/api/v1/keys', { name, roles });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return { id: (r.json.key as { id: string }).id, token: r.json.token as string };
  };
  keys.viewer = (await create('fuzz-viewer', ['viewer'])).token;
  keys.predictor = (await create('fuzz-predictor', ['predictor'])).token;
  keys.victimId = (await create('fuzz-victim', ['deployer'])).id;
  const revoked = await create('fuzz-revoked', ['admin']);
  assert.equal((await s.call('DELETE', `/api/v1/keys/${revoked.id}`)).status, 200);
  keys.revoked = revoked.token;
  const list = await s.call('GET', '/api/v1/keys');
  keys.adminId = (list.json.keys as { id: string; name: string }[]).find((k) => k.name === 'admin')?.id ?? '';
  assert.notEqual(keys.adminId, '');
  await assertHealthy();
});

after(async () => {
  await s?.stop();
});

describe('fuzz (fast-check)', () => {
  test('the checks themselves: docs/errors.md lists codes, and a 5xx or a body without a code fails', () => {
    assert.ok(documented.size > 50 && documented.has('SERVING_INVALID_REQUEST'));
    const req: Sent = { method: 'GET', path: '/x', headers: {} };
    assert.throws(() => checkAnswer(req, { status: 500, text: '{"error":"boom","code":"CORE_INTERNAL"}', contentType: 'application/json' }), /5xx/);
    assert.throws(() => checkAnswer(req, { status: 400, text: '{"error":"bad"}', contentType: 'application/json' }), /code/);
    assert.throws(() => checkAnswer(req, { status: 400, text: '{"error":"bad","code":"NOT_A_CODE"}', contentType: 'application/json' }), /no error table/);
    assert.throws(() => checkAnswer(req, { status: 404, text: 'Not Found', contentType: 'text/plain' }), /JSON/);
    const stack = JSON.stringify({ error: 'x\n    at handler (/work/main/src/app/server.ts:10:5)', code: 'CORE_INTERNAL' });
    assert.throws(() => checkAnswer(req, { status: 400, text: stack, contentType: 'application/json' }), /stack trace/);
    checkAnswer(req, { status: 400, text: '{"error":"bad","code":"HTTP_INVALID_JSON"}', contentType: 'application/json; charset=utf-8' });
  });

  test('infer: malformed OIP bodies, non-JSON bytes and odd Content-Types on both infer routes', async (t) => {
    const name = fc.oneof({ weight: 5, arbitrary: fc.constant(ENDPOINT) }, { weight: 2, arbitrary: pathParam([ENDPOINT, MODEL]) });
    const version = fc.oneof(
      { weight: 5, arbitrary: fc.constant(undefined) },
      { weight: 2, arbitrary: fc.constantFrom('1', '1', '1', '2', '0', '01', '-1', '1.0', '9999999999') },
      { weight: 1, arbitrary: pathParam(['1']) },
    );
    const body = fc.oneof(
      { weight: 6, arbitrary: inferBody },
      { weight: 4, arbitrary: answerableBody },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3, stringUnit: 'grapheme' }) },
      { weight: 2, arbitrary: rawBody },
      { weight: 1, arbitrary: deepText },
    );
    const auth = fc.constantFrom(`Bearer ${TEST_ADMIN_KEY}`, `Bearer ${TEST_ADMIN_KEY}`, 'predictor').map((a) => (a === 'predictor' ? `Bearer ${keys.predictor}` : a));
    let ok = 0;
    const tally = await runProperty(
      'infer',
      1,
      fc.record({ name, version, body, headers: extraHeaders, auth }),
      (v) => ({
        method: 'POST',
        path: v.version === undefined ? `/v2/models/${v.name}/infer` : `/v2/models/${v.name}/versions/${v.version}/infer`,
        headers: headersOf(v.headers, v.auth),
        body: bodyText(v.body),
      }),
      (req, res) => {
        // a path the URL parser folds onto no route (`versions/./infer`) is a 404 for an admin, 403 for a predictor
        const routed = matches('/v2/models/:name/infer', pathOf(req.path)) || matches('/v2/models/:name/versions/:version/infer', pathOf(req.path));
        if (routed) assert.ok(res.status !== 401 && res.status !== 403, `a valid key was refused: ${res.text}`);
        if (res.status === 200) {
          ok++;
          const answer = JSON.parse(res.text) as { model_name?: unknown; outputs?: unknown };
          assert.equal(answer.model_name, ENDPOINT);
          assert.ok(Array.isArray(answer.outputs));
        }
      },
    );
    t.diagnostic(summary(tally));
    assert.ok(tally.runs > 0, 'the property never ran');
    assert.ok(ok > 0, 'no generated request reached the model and was answered');
    await assertHealthy();
  });

  test('control: random methods, path parameters, bodies and headers on every registered route, as admin', async (t) => {
    const routes = s.routes().filter((r) => !r.url.includes('/infer'));
    assert.ok(routes.length > 40);
    const fixtures = [ENDPOINT, MODEL, '1', keys.victimId, 'stable'];
    const plausible = fc.record(
      {
        name: fc.oneof(fc.constantFrom(ENDPOINT, MODEL, 'fuzz-new'), fuzzString, junk),
        model: fc.oneof(fc.constantFrom(MODEL, 'nope'), fuzzString, junk),
        version: fc.oneof(fc.constantFrom(1, 2, 0, -1, 1.5, 1e12), junk),
        roles: fc.oneof(fc.array(fc.oneof(fc.constantFrom('admin', 'viewer', 'root'), fuzzString), { maxLength: 3 }), junk),
        scope: junk,
        expiresInSeconds: junk,
        expiresAt: junk,
        graceSeconds: fc.oneof(fc.constantFrom(-1, 1e12, 0.5), junk),
        limits: junk,
        stable: junk,
        candidate: junk,
        weights: junk,
        policy: junk,
        minReplicas: fc.oneof(fc.constantFrom(-1, 1e9, 0.5), junk),
        maxReplicas: fc.oneof(fc.constantFrom(-1, 1e9, 0.5), junk),
        spec: junk,
        rule: junk,
        target: junk,
        requestId: junk,
        outcome: junk,
        label: junk,
        kind: junk,
        expr: junk,
        for: junk,
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 3, arbitrary: plausible },
      { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3, stringUnit: 'grapheme' }) },
      { weight: 2, arbitrary: rawBody },
    );
    const query = fc.oneof(
      fc.constant(''),
      fc
        .array(fc.tuple(fc.constantFrom('since', 'until', 'limit', 'action', 'actor', 'endpoint', 'model', 'version', 'rule', 'format', 'cursor', 'window', 'from'), pathParam(['1', '24h', ENDPOINT, '-1', '1e9'])), { maxLength: 3 })
        .map((pairs) => (pairs.length === 0 ? '' : '?' + pairs.map(([k, v]) => `${k}=${v}`).join('&'))),
    );
    const auth = fc.oneof({ weight: 5, arbitrary: fc.constant(`Bearer ${TEST_ADMIN_KEY}`) }, { weight: 1, arbitrary: badAuthorization() });
    const arb = fc.record({
      route: fc.constantFrom(...routes),
      method: fc.oneof({ weight: 3, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }),
      params: fc.array(pathParam(fixtures), { minLength: 4, maxLength: 4 }),
      query,
      body,
      headers: extraHeaders,
      auth,
    });
    let handled = 0;
    const tally = await runProperty(
      'control',
      2,
      arb,
      (v) => {
        const method = v.method === '' ? v.route.method : v.method;
        let i = 0;
        const path = v.route.url.replace(/:\w+/g, () => v.params[i++] ?? 'x');
        const decoded = safeDecode(path);
        // what would legitimately destroy the fixture: deleting its endpoint, revoking the admin key
        const destroys = method === 'DELETE' && (decoded === `/api/v1/endpoints/${ENDPOINT}` || decoded.startsWith(`/api/v1/keys/${keys.adminId}`));
        const rotatesAdmin = decoded.startsWith(`/api/v1/keys/${keys.adminId}`);
        const safePath = destroys || rotatesAdmin ? path.replace(/\/(?:fuzz|key_\w+)(?=\/|$)/g, '/not-the-fixture') : path;
        return { method, path: safePath + v.query, headers: headersOf(v.headers, v.auth), ...(v.body === undefined ? {} : { body: bodyText(v.body) }) };
      },
      (req, res) => {
        if (req.headers.authorization === `Bearer ${TEST_ADMIN_KEY}`) {
          assert.ok(res.status !== 401 && res.status !== 403, `the admin key was refused: ${describeSent(req)} → ${res.status} ${res.text.slice(0, 300)}`);
          if (res.status !== 404) handled++;
        }
      },
    );
    t.diagnostic(summary(tally));
    assert.ok(tally.runs > 0, 'the property never ran');
    assert.ok(handled > 0, 'no request reached a handler');
    // state-changing requests with random bodies are refused; put back what a valid one may have changed
    await s.call('DELETE', `/api/v1/endpoints/${ENDPOINT}/traffic`);
    await s.call('DELETE', `/api/v1/endpoints/${ENDPOINT}/scaling`);
    await s.waitForVersion(ENDPOINT, 1);
    await assertHealthy();
    const admin = await s.call('GET', '/api/v1/keys');
    assert.equal(admin.status, 200, 'the admin key still works');
  });

  test('headers: random Authorization values never give a 5xx, and never let a request through a protected route', async (t) => {
    const routes = s.routes();
    const arb = fc.record({
      route: fc.constantFrom(...routes),
      auth: fc.oneof({ weight: 5, arbitrary: badAuthorization() }, { weight: 1, arbitrary: fc.constant('viewer') }),
      headers: extraHeaders,
      params: fc.array(pathParam([ENDPOINT, MODEL, '1']), { minLength: 4, maxLength: 4 }),
    });
    const tally = await runProperty(
      'headers',
      3,
      arb,
      (v) => {
        let i = 0;
        const path = v.route.url.replace(/:\w+/g, () => v.params[i++] ?? 'x');
        const authorization = v.auth === 'viewer' ? `Bearer ${keys.viewer}` : v.auth;
        const body = v.route.method === 'POST' || v.route.method === 'PUT' ? '{}' : undefined;
        return { method: v.route.method, path, headers: headersOf({ ...v.headers, 'content-type': v.headers['content-type'] ?? 'application/json' }, authorization), ...(body === undefined ? {} : { body }) };
      },
      (req, res) => {
        const route = routes.find((r) => r.method === req.method && matches(r.url, pathOf(req.path)));
        if (route === undefined || route.permission === 'health:read') return;
        const viewerMayPass = req.headers.authorization === `Bearer ${keys.viewer}` && (route.permission === 'models:read' || route.permission === 'metrics:read');
        if (viewerMayPass) return;
        // a path the router cannot decode is refused (400) before authentication, as is an unknown one (404)
        assert.ok([400, 401, 403, 404].includes(res.status), `a protected route let it through: ${describeSent(req)} → ${res.status} ${res.text.slice(0, 300)}`);
        if (req.method !== 'HEAD' && res.status !== 404) assert.match(res.text, res.status === 400 ? /"code":"HTTP_BAD_REQUEST"/ : /"code":"SECURITY_(UNAUTHENTICATED|FORBIDDEN)"/);
      },
    );
    t.diagnostic(summary(tally));
    assert.ok(tally.runs > 0, 'the property never ran');
    await assertHealthy();
  });
});

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** The path the server sees once the client's URL parser has resolved `.` and `..` segments. */
function pathOf(path: string): string {
  return new URL(path, 'http://127.0.0.1').pathname;
}

/** Whether a concrete path could be the route pattern (each `:param` one segment). */
function matches(pattern: string, path: string): boolean {
  const p = pattern.split('/');
  const q = path.split('?', 1)[0]?.split('/') ?? [];
  return p.length === q.length && p.every((seg, i) => seg.startsWith(':') || seg === q[i]);
}
