/**
 * The built `slipway` binary (bin/slipway.js → dist/) against the real server: push, deploy,
 * predict, history, inspect — with its output and exit codes. `npm test` builds dist/ first.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { addModel } from '../support/models.js';
import { startTestServer, TEST_ADMIN_KEY, type TestServer } from '../support/server.js';

const bin = fileURLToPath(new URL('../../bin/slipway.js', import.meta.url));
let s: TestServer;
let dir: string;

function slipway(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, '--server', s.url, '--api-key', TEST_ADMIN_KEY, ...args], { cwd: dir, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

before(async () => {
  assert.ok(existsSync(fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))), 'dist/ must be built (npm test builds it)');
  s = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'slipway-cli-'));
  writeFileSync(join(dir, 'adder-v1.onnx'), addModel(1));
  writeFileSync(join(dir, 'adder-v2.onnx'), addModel(2));
  writeFileSync(join(dir, 'rows.csv'), 'a,b,c,d,label\n1,2,3,4,10\n0,0,0,0,0\n');
});
after(async () => {
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('pushes a model, deploys it through an alias and predicts from a CSV', async () => {
  const push = await slipway(['models', 'push', 'adder-v1.onnx', '--name', 'adder', '--tag', 'team=core']);
  assert.equal(push.code, 0, push.stderr);
  assert.match(push.stdout, /Registered adder version 1/);
  assert.equal((await slipway(['alias', 'set', 'adder', 'production', '1', '--reason', 'first'])).code, 0);
  const deploy = await slipway(['deploy', 'adder', '--model', 'adder@production']);
  assert.equal(deploy.code, 0, deploy.stderr);
  const predict = await slipway(['predict', 'adder', '--data', 'rows.csv', '--target', 'label']);
  assert.equal(predict.code, 0, predict.stderr);
  assert.match(predict.stdout, /adder version 1/);
  assert.match(predict.stdout, /\b14\b/, 'sum of (1,2,3,4)+1 each is 14');
});

test('moving the alias moves the endpoint, and both histories say who, from, to and why', async () => {
  assert.equal((await slipway(['models', 'push', 'adder-v2.onnx', '--name', 'adder'])).code, 0);
  const moved = await slipway(['alias', 'set', 'adder', 'production', '2', '--reason', 'better']);
  assert.equal(moved.code, 0, moved.stderr);
  await s.waitForVersion('adder', 2);
  const json = await slipway(['--json', 'predict', 'adder', '--data', '[[0,0,0,0]]']);
  assert.equal(json.code, 0, json.stderr);
  assert.equal((JSON.parse(json.stdout) as { model_version: string }).model_version, '2');
  const aliasHistory = await slipway(['alias', 'history', 'adder', 'production']);
  assert.match(aliasHistory.stdout, /1\s+2\s+better/);
  const endpointHistory = await slipway(['--json', 'endpoints', 'history', 'adder']);
  const events = (JSON.parse(endpointHistory.stdout) as { history: { reason: string; to: { version: number } }[] }).history;
  assert.equal(events.at(-1)?.to.version, 2);
  assert.match(events.at(-1)?.reason ?? '', /alias production moved 1 → 2: better/);
});

test('endpoints scaling shows the autoscaler of the stable version', async () => {
  const r = await slipway(['endpoints', 'scaling', 'adder']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Endpoint adder · adder:2 · mode stable/);
  assert.match(r.stdout, /Replicas: desired \d+, applied \d+/);
  const json = await slipway(['--json', 'endpoints', 'scaling', 'adder']);
  const body = JSON.parse(json.stdout) as { scaling: { status: { endpoint: string } } };
  assert.equal(body.scaling.status.endpoint, 'adder');
});

test('exit codes: 3 for an unknown endpoint, 5 for a file that is not ONNX, 6 when no server answers', async () => {
  const unknown = await slipway(['predict', 'nope', '--data', '[[1,2,3,4]]']);
  assert.equal(unknown.code, 3);
  assert.match(unknown.stderr, /SERVING_ENDPOINT_NOT_FOUND/);
  writeFileSync(join(dir, 'notes.onnx'), 'this is not a model');
  const bad = await slipway(['models', 'push', 'notes.onnx', '--name', 'notes']);
  assert.equal(bad.code, 5);
  assert.match(bad.stderr, /ONNX_INVALID_MODEL/);
  // a port that was free a moment ago: nothing listens there
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const down = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(process.execPath, [bin, '--server', `http://127.0.0.1:${port}`, 'models', 'list'], { timeout: 30_000 }, (error, _out, stderr) =>
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stderr }),
    );
  });
  assert.equal(down.code, 6);
  assert.match(down.stderr, /cannot reach Slipway/);
});

test('inspect reads an ONNX file without a server', async () => {
  const r = await new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(process.execPath, [bin, 'inspect', join(dir, 'adder-v1.onnx')], { timeout: 30_000 }, (error, stdout) => resolve({ code: error === null ? 0 : 1, stdout }));
  });
  assert.equal(r.code, 0);
  assert.match(r.stdout, /x\s+tensor\(float\)\s+FP32 \[batch, 4\]/);
});

test('output piped into a reader that closes early (slipway … | head) ends quietly with exit 0', async () => {
  const { spawn } = await import('node:child_process');
  // a table far longer than a pipe's buffer (64 KiB), so the CLI is still writing when the reader goes
  const rows = Array.from({ length: 5000 }, (_, i) => `${i},${i + 1},${i + 2},${i + 3}`);
  writeFileSync(join(dir, 'many-rows.csv'), `a,b,c,d\n${rows.join('\n')}\n`);
  const child = spawn(process.execPath, [bin, '--server', s.url, '--api-key', TEST_ADMIN_KEY, 'predict', 'adder', '--data', 'many-rows.csv'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  // read the first chunk, then close our end of the pipe, as `head -1` does
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
});
