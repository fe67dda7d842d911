import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PlatformError, SLIPWAY_VERSION } from '../../../src/core/index.js';
import { runCli, startCliHarness, type CliHarness } from './cli-harness.js';

/** A port nothing listens on: bind one, then release it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A fetch that records requests and answers every one with `body`. */
function recordingFetch(body: unknown = { models: [] }): { fetch: typeof fetch; calls: { url: string; auth: string | null }[] } {
  const calls: { url: string; auth: string | null }[] = [];
  return {
    calls,
    fetch: (url, init) => {
      calls.push({ url: url instanceof Request ? url.url : url.toString(), auth: new Headers(init?.headers).get('authorization') });
      return Promise.resolve(new Response(JSON.stringify(body), { status: 200 }));
    },
  };
}

void describe('slipway CLI: usage', () => {
  void test('prints the version for --version and -V and exits 0', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `${SLIPWAY_VERSION}\n`);
    }
  });

  void test('prints help for --help on stdout and exits 0', async () => {
    const r = await runCli(['models', 'push', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: slipway models push \[options\] <file>/);
    assert.match(r.stdout, /--tag <key=value>/);
  });

  void test('shows help on stderr and exits 2 without a command', async () => {
    const r = await runCli([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^Usage: slipway \[options\] \[command\]/);
    assert.equal(r.stdout, '');
  });

  void test('exits 2 for an unknown command, a missing option and a malformed argument', async () => {
    const unknown = await runCli(['bogus']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^error: unknown command 'bogus'/);
    const missing = await runCli(['models', 'push', 'm.onnx']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^error: required option '--name <name>' not specified/);
    const malformed = await runCli(['alias', 'set', 'm', 'prod', 'two']);
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /command-argument value 'two' is invalid for argument 'version'\. must be a positive whole number/);
  });

  void test('reports a server that is not running with exit code 6 and a hint', async () => {
    const port = await closedPort();
    const r = await runCli(['models', 'list', '--server', `http://127.0.0.1:${port}`]);
    assert.equal(r.code, 6);
    assert.equal(r.stderr, `slipway: cannot reach Slipway at http://127.0.0.1:${port} — is \`slipway serve\` running? [CONTROL_CLIENT_UNREACHABLE]\n`);
  });

  void test('uses --server, else $SLIPWAY_SERVER, else http://127.0.0.1:8080', async () => {
    const flag = recordingFetch();
    await runCli(['models', 'list', '--server', 'http://flag.test:1'], { env: { SLIPWAY_SERVER: 'http://env.test:2' }, fetch: flag.fetch });
    const env = recordingFetch();
    await runCli(['models', 'list'], { env: { SLIPWAY_SERVER: 'http://env.test:2' }, fetch: env.fetch });
    const fallback = recordingFetch();
    await runCli(['models', 'list'], { env: {}, cwd: '/nonexistent', fetch: fallback.fetch });
    assert.deepEqual(
      [flag.calls[0]?.url, env.calls[0]?.url, fallback.calls[0]?.url],
      ['http://flag.test:1/api/v1/models', 'http://env.test:2/api/v1/models', 'http://127.0.0.1:8080/api/v1/models'],
    );
  });

  void test('sends --api-key, else $SLIPWAY_API_KEY, else the local admin.key only to the default server', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const cwd = mkdtempSync(join(tmpdir(), 'slipway-cli-'));
    mkdirSync(join(cwd, '.slipway'));
    writeFileSync(join(cwd, '.slipway', 'admin.key'), 'local-admin-key\n');
    const cases: [string[], Record<string, string>, string | null][] = [
      [['--api-key', 'flag-key'], { SLIPWAY_API_KEY: 'env-key' }, 'Bearer flag-key'],
      [[], { SLIPWAY_API_KEY: 'env-key' }, 'Bearer env-key'],
      [[], {}, 'Bearer local-admin-key'],
      [['--server', 'http://elsewhere.test'], {}, null],
    ];
    for (const [flags, env, expected] of cases) {
      const rec = recordingFetch();
      const r = await runCli(['models', 'list', ...flags], { env, cwd, fetch: rec.fetch });
      assert.equal(r.code, 0);
      assert.equal(rec.calls[0]?.auth, expected, JSON.stringify(flags));
    }
  });
});

void describe('slipway CLI: models, aliases and endpoints', () => {
  let h: CliHarness;
  before(async () => {
    h = await startCliHarness({ principal: 'erin' });
    h.modelFile(1, 'm1.onnx');
    h.modelFile(2, 'm2.onnx');
  });
  after(() => h.close());

  void test('says there are no models yet', async () => {
    const r = await h.run(['models', 'list']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'No models yet. Register one with `slipway models push FILE --name NAME`.\n');
  });

  void test('pushes a file and says which version it became', async () => {
    const r = await h.run(['models', 'push', 'm1.onnx', '--name', 'adder', '--tag', 'team=risk', '--metric', 'rmse=0.4', '--description', 'first']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Registered adder version 1 \(sha256:[0-9a-f]{64}, \d+ B\)\n {2}inputs: {2}x FP32 \[batch, 4\]\n {2}outputs: y FP32 \[batch, 4\], sum FP32 \[batch, 1\]\n$/);
    const again = await h.run(['models', 'push', 'm1.onnx', '--name', 'adder']);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /^adder version 1 already holds these bytes \(sha256:[0-9a-f]{64}\); nothing new was registered\n/);
  });

  void test('prints the raw API result with --json', async () => {
    const r = await h.run(['--json', 'models', 'push', 'm2.onnx', '--name', 'adder', '--parent', '1']);
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout) as { created: boolean; version: { version: number; lineage: object; createdBy: string } };
    assert.equal(body.created, true);
    assert.equal(body.version.version, 2);
    assert.deepEqual(body.version.lineage, { parentVersion: 1 });
    assert.equal(body.version.createdBy, 'erin');
  });

  void test('refuses a --tag without "=" with exit code 2', async () => {
    const r = await h.run(['models', 'push', 'm1.onnx', '--name', 'adder', '--tag', 'oops']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'slipway: --tag must be key=value, got "oops" [CLI_USAGE]\n');
  });

  void test('exits 3 for a file that does not exist and 5 for one that is not ONNX', async () => {
    const missing = await h.run(['models', 'push', 'nope.onnx', '--name', 'adder']);
    assert.equal(missing.code, 3);
    assert.equal(missing.stderr, `slipway: cannot upload ${join(h.dir, 'nope.onnx')}: no such file [CONTROL_CLIENT_FILE_NOT_FOUND]\n`);
    writeFileSync(join(h.dir, 'junk.onnx'), 'not a model');
    const junk = await h.run(['models', 'push', 'junk.onnx', '--name', 'adder']);
    assert.equal(junk.code, 5);
    assert.match(junk.stderr, /^slipway: .+ \[ONNX_[A-Z_]+\]\n$/);
  });

  void test('shows upload progress on a terminal for files over 1 MiB, and nothing otherwise', async () => {
    writeFileSync(join(h.dir, 'big.onnx'), Buffer.alloc(3 * 1024 * 1024, 1));
    const tty = await h.run(['models', 'push', 'big.onnx', '--name', 'big'], { ttyStderr: true });
    assert.match(tty.stderr, /Uploading big\.onnx {2}100% {2}3\.0 MiB \/ 3\.0 MiB/);
    assert.ok(tty.stderr.includes('\r\x1b[K'));
    const piped = await h.run(['models', 'push', 'big.onnx', '--name', 'big']);
    assert.doesNotMatch(piped.stderr, /Uploading/);
    const small = await h.run(['models', 'push', 'm1.onnx', '--name', 'adder'], { ttyStderr: true });
    assert.equal(small.stderr, '');
  });

  void test('lists models as a table', async () => {
    const r = await h.run(['models', 'list']);
    assert.equal(r.code, 0);
    const [header, row, extra] = r.stdout.split('\n');
    assert.match(header ?? '', /^NAME {3}LATEST {2}CREATED {15}BY {4}DESCRIPTION$/);
    assert.match(row ?? '', /^adder {2}2 {7}2026-03-01 09:00:00Z {2}erin$/);
    assert.equal(extra, '');
  });

  void test('shows a model, a version by number and a version by alias', async () => {
    const model = await h.run(['models', 'show', 'adder']);
    assert.equal(model.code, 0);
    assert.match(model.stdout, /^Model {4}adder\nOwner {4}erin\n/);
    assert.match(model.stdout, /\n1 {8}sha256:[0-9a-f]{12}… {2}\d+ B {2}2026-03-01 09:00:00Z {2}erin {2}team=risk {2}first\n/);

    const version = await h.run(['models', 'show', 'adder:2']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^Model {5}adder\nVersion {3}2\nDigest {4}sha256:/);
    assert.match(version.stdout, /\nParent {4}1\n/);
    assert.match(version.stdout, /\nINPUT {2}DATATYPE {2}SHAPE\nx {6}FP32 {6}\[batch, 4\]\n/);

    await h.run(['alias', 'set', 'adder', 'staging', '2']);
    const byAlias = await h.run(['--json', 'models', 'show', 'adder@staging']);
    assert.equal((JSON.parse(byAlias.stdout) as { version: { version: number } }).version.version, 2);
  });

  void test('exits 2 for a malformed model reference and 3 for an unknown model', async () => {
    const bad = await h.run(['models', 'show', 'adder:two']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'slipway: model: version "two" must be a positive whole number [CLI_USAGE]\n');
    const unknown = await h.run(['models', 'show', 'nope']);
    assert.equal(unknown.code, 3);
    assert.equal(unknown.stderr, 'slipway: model "nope" does not exist [REGISTRY_MODEL_NOT_FOUND]\n');
  });

  void test('prints errors as JSON on stderr with --json', async () => {
    const r = await h.run(['models', 'show', 'nope', '--json']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, '');
    assert.deepEqual(JSON.parse(r.stderr), { error: 'model "nope" does not exist', code: 'REGISTRY_MODEL_NOT_FOUND', details: { model: 'nope' } });
  });

  void test('moves an alias and shows its history with who and why', async () => {
    const set = await h.run(['alias', 'set', 'adder', 'production', '1', '--reason', 'launch']);
    assert.equal(set.code, 0);
    assert.equal(set.stdout, 'adder@production → version 1\n');
    await h.run(['alias', 'set', 'adder', 'production', '2', '--reason', 'better rmse']);
    const history = await h.run(['alias', 'history', 'adder', 'production']);
    const [header, first, second, end] = history.stdout.split('\n');
    assert.equal(header, 'SEQ  AT                    BY    FROM  TO  REASON');
    assert.match(first ?? '', /^\d+ {4}2026-03-01 09:00:00Z {2}erin {2}- {5}1 {3}launch$/);
    assert.match(second ?? '', /^\d+ {4}2026-03-01 09:00:00Z {2}erin {2}1 {5}2 {3}better rmse$/);
    assert.equal(end, '');
    const list = await h.run(['alias', 'list', 'adder']);
    assert.match(list.stdout, /^ALIAS {7}VERSION {2}UPDATED {15}BY\nproduction {2}2 {8}/);
  });

  void test('exits 3 when an alias names a version that does not exist', async () => {
    const r = await h.run(['alias', 'set', 'adder', 'production', '9']);
    assert.equal(r.code, 3);
    assert.equal(r.stderr, 'slipway: model "adder" has no version 9 (its latest version is 2) [REGISTRY_VERSION_NOT_FOUND]\n');
  });

  void test('deploys an endpoint, then re-points it, recording both in its history', async () => {
    const created = await h.run(['deploy', 'scorer', '--model', 'adder@production', '--reason', 'launch']);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout, `Created endpoint scorer: serves adder:2 (follows adder@production)\n  call it: POST ${h.url}/v2/models/scorer/infer\n`);
    const updated = await h.run(['deploy', 'scorer', '--model', 'adder:1', '--reason', 'rollback']);
    assert.equal(updated.code, 0);
    assert.match(updated.stdout, /^Updated endpoint scorer: serves adder:1 \(pinned\)\n/);
    const history = await h.run(['endpoints', 'history', 'scorer']);
    assert.equal(
      history.stdout,
      [
        'SEQ  AT                    BY    FROM                   TO                     REASON',
        '1    2026-03-01 09:00:00Z  erin  -                      adder:2 (@production)  launch',
        '2    2026-03-01 09:00:00Z  erin  adder:2 (@production)  adder:1                rollback',
        '',
      ].join('\n'),
    );
  });

  void test('deploys the latest version when --model names no version', async () => {
    const r = await h.run(['--json', 'deploy', 'latest', '--model', 'adder']);
    assert.equal(r.code, 0);
    assert.deepEqual((JSON.parse(r.stdout) as { endpoint: { target: unknown } }).endpoint.target, { kind: 'version', model: 'adder', version: 2 });
  });

  void test('exits 2 for a malformed --model', async () => {
    const r = await h.run(['deploy', 'scorer', '--model', 'adder:1@x']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'slipway: --model must be NAME, NAME:VERSION or NAME@ALIAS, got "adder:1@x" [CLI_USAGE]\n');
  });

  void test('exits 4 when an alias that endpoints follow is deleted', async () => {
    await h.run(['deploy', 'follower', '--model', 'adder@staging']);
    const r = await h.run(['alias', 'delete', 'adder', 'staging']);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /^slipway: alias "staging" of model "adder" cannot be deleted: endpoint "follower" follows it; .* \[REGISTRY_ALIAS_IN_USE\]\n$/);
  });

  void test('lists and shows endpoints with their live state', async () => {
    h.deployments.set('scorer', {
      endpoint: 'scorer',
      ready: true,
      versions: [{ model: 'adder', version: 1, role: 'stable', state: 'ready', replicas: [{ id: 'r1', state: 'ready', inFlight: 0, served: 42, failed: 0, busyMs: 1, loadMs: 1, heapBytes: 1 }] }],
    });
    const list = await h.run(['endpoints', 'list']);
    assert.equal(list.code, 0);
    const lines = list.stdout.split('\n');
    assert.match(lines[0] ?? '', /^NAME {6}TARGET {9}VERSION {2}STATE {9}UPDATED$/);
    assert.ok(lines.some((l) => /^scorer {4}adder:1 {8}1 {8}ready {9}2026/.test(l)), list.stdout);
    assert.ok(lines.some((l) => /^follower {2}adder@staging {2}2 {8}not deployed/.test(l)), list.stdout);

    const show = await h.run(['endpoints', 'show', 'scorer']);
    assert.match(show.stdout, /^Endpoint {2}scorer\nServes {4}adder:1 \(pinned\)\nState {5}ready\n/);
    assert.match(show.stdout, /\nVERSION {2}ROLE {4}STATE {2}PLACEMENT {2}REPLICAS {2}SERVED {2}ERROR\nadder:1 {2}stable {2}ready {2}- {10}1 {9}42\n/);
  });

  void test('deletes an endpoint and exits 3 for one that does not exist', async () => {
    const del = await h.run(['endpoints', 'delete', 'latest', '--reason', 'cleanup']);
    assert.equal(del.code, 0);
    assert.equal(del.stdout, 'Deleted endpoint latest (was serving adder:2)\n');
    const again = await h.run(['endpoints', 'delete', 'latest']);
    assert.equal(again.code, 3);
    assert.equal(again.stderr, 'slipway: endpoint "latest" does not exist [REGISTRY_ENDPOINT_NOT_FOUND]\n');
  });
});

void describe('slipway CLI: predict', () => {
  let h: CliHarness;
  before(async () => {
    h = await startCliHarness();
    h.modelFile(1, 'm1.onnx');
    await h.run(['models', 'push', 'm1.onnx', '--name', 'adder']);
    await h.run(['deploy', 'adder', '--model', 'adder:1']);
  });
  after(() => h.close());

  void test('sends a JSON list of rows as one input named and typed after the model, and prints a table', async () => {
    const r = await h.run(['predict', 'adder', '--data', '[[1,2,3,4],[5,6,7,8.5]]']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(h.inferRequests.at(-1), {
      path: '/v2/models/adder/infer',
      body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 4], data: [1, 2, 3, 4, 5, 6, 7, 8.5] }] },
    });
    assert.equal(
      r.stdout,
      ['adder version 1 · request req-0001', 'ROW  y[0]  y[1]  y[2]  y[3]  sum', '1    2     3     4     5     14', '2    6     7     8     9.5   30.5', ''].join('\n'),
    );
  });

  void test('reads a CSV file with a header, leaving out the --target column and showing it beside the outputs', async () => {
    writeFileSync(join(h.dir, 'rows.csv'), 'a,b,label,c,d\r\n1,2,yes,3,4\r\n"5",6,no,7,8\r\n');
    const r = await h.run(['predict', 'adder', '--data', 'rows.csv', '--target', 'label']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(h.inferRequests.at(-1)?.body.inputs[0]?.data, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.match(r.stdout, /\nROW {2}y\[0\] {2}y\[1\] {2}y\[2\] {2}y\[3\] {2}sum {2}TARGET\n1 {4}2 {5}3 {5}4 {5}5 {5}14 {3}yes\n/);
  });

  void test('reads rows of named values from @file.json and calls the version given', async () => {
    writeFileSync(join(h.dir, 'rows.json'), JSON.stringify([{ a: 1, b: 2, c: 3, d: 4 }]));
    const r = await h.run(['predict', 'adder', '--data', '@rows.json', '--version', '1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(h.inferRequests.at(-1)?.path, '/v2/models/adder/versions/1/infer');
    assert.equal((JSON.parse(r.stdout) as { model_name: string }).model_name, 'adder');
  });

  void test('sends a full request body unchanged', async () => {
    const body = { id: 'mine', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [0, 0, 0, 0] }], outputs: [{ name: 'sum' }] };
    const r = await h.run(['predict', 'adder', '--data', JSON.stringify(body)]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(h.inferRequests.at(-1)?.body, body);
  });

  void test('names the row and column of a value that is not a number', async () => {
    writeFileSync(join(h.dir, 'bad.csv'), 'a,b,c,d\n1,2,3,4\n5,six,7,8\n');
    const r = await h.run(['predict', 'adder', '--data', 'bad.csv']);
    assert.equal(r.code, 5);
    assert.equal(r.stderr, 'slipway: row 2, column b: "six" is not a number [CLI_INVALID_DATA]\n');
  });

  void test('says when the rows have more columns than the model takes, hinting at --target', async () => {
    writeFileSync(join(h.dir, 'wide.csv'), 'a,b,c,d,label\n1,2,3,4,0\n');
    const r = await h.run(['predict', 'adder', '--data', 'wide.csv']);
    assert.equal(r.code, 5);
    assert.equal(r.stderr, 'slipway: input x takes 4 values per row; the data has 5 columns — is one of them the label? drop it with --target COLUMN [CLI_INVALID_DATA]\n');
  });

  void test('reads a request body from a plain .json path, as from @file', async () => {
    const body = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] };
    writeFileSync(join(h.dir, 'request.json'), JSON.stringify(body));
    const r = await h.run(['predict', 'adder', '--data', 'request.json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(h.inferRequests.at(-1)?.body, body);
  });

  void test('exits 2 for --data that is neither JSON nor a file, and 3 for a missing file', async () => {
    const garbage = await h.run(['predict', 'adder', '--data', 'hello']);
    assert.equal(garbage.code, 2);
    assert.match(garbage.stderr, /^slipway: --data must be inline JSON/);
    const missing = await h.run(['predict', 'adder', '--data', '@nope.json']);
    assert.equal(missing.code, 3);
    assert.equal(missing.stderr, 'slipway: cannot read nope.json: no such file [CONTROL_CLIENT_FILE_NOT_FOUND]\n');
  });

  void test('exits 3 for an endpoint that does not exist', async () => {
    const r = await h.run(['predict', 'ghost', '--data', '[[1,2,3,4]]']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /\[REGISTRY_ENDPOINT_NOT_FOUND\]\n$/);
  });
});

void describe('slipway CLI: inspect and serve', () => {
  let h: CliHarness;
  before(async () => {
    h = await startCliHarness();
  });
  after(() => h.close());

  void test('inspects a local ONNX file without a server', async () => {
    h.modelFile(1, 'm1.onnx');
    const r = await runCli(['inspect', join(h.dir, 'm1.onnx')], { env: { SLIPWAY_SERVER: 'http://127.0.0.1:1' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\nOpsets {8}ai\.onnx 13\n/);
    assert.match(r.stdout, /\nServing {7}servable over the Open Inference Protocol\n/);
    assert.match(r.stdout, /\nINPUT {2}ONNX TYPE {6}SERVED AS {8}DIMS\nx {6}tensor\(float\) {2}FP32 \[batch, 4\] {2}\[batch, 4\]\n/);
    const json = await runCli(['inspect', join(h.dir, 'm1.onnx'), '--json']);
    const parsed = JSON.parse(json.stdout) as { inspection: { nodeCount: number }; signature: { inputs: unknown[] }; refusal: unknown };
    assert.deepEqual([parsed.inspection.nodeCount, parsed.signature.inputs.length, parsed.refusal], [2, 1, null]);
  });

  void test('exits 5 for a file that is not ONNX and 3 for one that does not exist', async () => {
    writeFileSync(join(h.dir, 'junk.onnx'), 'junk');
    const junk = await runCli(['inspect', join(h.dir, 'junk.onnx')]);
    assert.equal(junk.code, 5);
    assert.match(junk.stderr, /\[ONNX_[A-Z_]+\]\n$/);
    const missing = await runCli(['inspect', 'missing.onnx'], { cwd: h.dir });
    assert.equal(missing.code, 3);
    assert.equal(missing.stderr, 'slipway: cannot inspect missing.onnx: no such file [CONTROL_CLIENT_FILE_NOT_FOUND]\n');
  });

  void test('serve starts the server with the flags, runs until a stop signal, then closes it', async () => {
    const calls: unknown[] = [];
    let closed = false;
    let stop: (signal: string) => void = () => undefined;
    const stopped = new Promise<string>((resolve) => (stop = resolve));
    const run = runCli(['serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', 'data', '--config', 'slipway.yaml', '--examples'], {
      cwd: '/srv/slipway',
      env: { SLIPWAY_LOG: 'x' },
      startServer: (options) => {
        calls.push(options);
        return Promise.resolve({ url: 'http://127.0.0.1:43210', close: () => Promise.resolve(void (closed = true)) });
      },
      waitForStop: () => stopped,
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closed, false);
    stop('SIGTERM');
    const r = await run;
    assert.equal(r.code, 0);
    assert.equal(closed, true);
    assert.deepEqual(calls, [
      { host: '127.0.0.1', port: 0, dataDir: '/srv/slipway/data', configFile: '/srv/slipway/slipway.yaml', examples: true, env: { SLIPWAY_LOG: 'x' } },
    ]);
    assert.equal(r.stdout, 'Slipway is listening on http://127.0.0.1:43210 (stop with Ctrl-C)\n');
    assert.equal(r.stderr, 'SIGTERM: finishing in-flight requests, then stopping\nstopped\n');
  });

  void test('serve exits with the code of the error that stopped it from starting', async () => {
    const r = await runCli(['serve'], {
      startServer: () => Promise.reject(new PlatformError('STORAGE_DATA_DIR_LOCKED', 'conflict', 'the data directory .slipway is in use by another Slipway')),
      waitForStop: () => new Promise(() => undefined),
    });
    assert.equal(r.code, 4);
    assert.equal(r.stderr, 'slipway: the data directory .slipway is in use by another Slipway [STORAGE_DATA_DIR_LOCKED]\n');
  });

  void test('serve refuses a port that is not a number with exit code 2', async () => {
    const r = await runCli(['serve', '--port', 'eighty'], { startServer: () => Promise.reject(new Error('must not start')) });
    assert.equal(r.code, 2);
  });
});
