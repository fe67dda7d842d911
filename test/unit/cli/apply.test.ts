/**
 * `slipway apply -f FILE.yaml` against the real server (rollout controller ticking every 100 ms):
 * the file is checked locally, sent as plain JSON documents, and each document's outcome printed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { specDocumentsToSend } from '../../../src/cli/commands/apply.js';
import type { ApplyResponse } from '../../../src/control/index.js';
import { addModel } from '../../support/models.js';
import { startTestServer, type TestServer, TEST_ADMIN_KEY } from '../../support/server.js';
import { runCli, type RunResult } from './cli-harness.js';

let s: TestServer;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'slipway-cli-apply-'));
  s = await startTestServer({ overrides: { 'rollouts.tickMs': 100 } });
  await s.push('adder', addModel(1));
  await s.push('adder', addModel(2));
});
after(async () => {
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI against the server from a scratch directory, recording every request it sends. */
async function cli(argv: readonly string[]): Promise<RunResult & { requests: string[] }> {
  const requests: string[] = [];
  const recording: typeof fetch = (input, init) => {
    requests.push(`${init?.method ?? 'GET'} ${input instanceof Request ? input.url : input.toString()}`);
    return fetch(input, init);
  };
  const r = await runCli(argv, { cwd: dir, env: { SLIPWAY_SERVER: s.url, SLIPWAY_API_KEY: TEST_ADMIN_KEY }, fetch: recording });
  return { ...r, requests };
}

function write(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

const endpointDoc = (name: string, spec: string): string => `apiVersion: slipway.dev/v1\nkind: Endpoint\nmetadata:\n  name: ${name}\nspec:\n  model: adder\n${spec}`;

const canary = (name: string): string => endpointDoc(name, '  version: 2\n  strategy:\n    canary:\n      steps:\n        - setWeight: 30\n        - pause: {}\n');

async function endpointVersion(name: string): Promise<number | undefined> {
  const r = await s.call('GET', `/api/v1/endpoints/${name}`);
  return (r.json.endpoint as { version: number } | undefined)?.version;
}

void describe('slipway apply', () => {
  void test('creates endpoints and starts a canary, one line per document with its action, versions and rollout', async () => {
    await s.deploy('apply-canary', 'adder', 1);
    const file = write('two.yaml', `${endpointDoc('apply-new', '  version: 1\n')}---\n${canary('apply-canary')}`);
    const r = await cli(['apply', '-f', file]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3, r.stdout);
    assert.match(lines[0] ?? '', /^ENDPOINT +ACTION +TARGET +STABLE +ROLLOUT +MESSAGE$/);
    assert.match(lines[1] ?? '', /^apply-new +created +v1 +v1 +- +endpoint "apply-new" created on version 1$/);
    const started = /^apply-canary +configured +v2 +v1 +(\S+) \(canary\) +canary rollout (\S+) started on endpoint "apply-canary"$/.exec(lines[2] ?? '');
    assert.ok(started, lines[2]);
    assert.equal(started[1], started[2]);
    const status = await s.call('GET', '/api/v1/endpoints/apply-canary/rollout');
    assert.equal((status.json.status as { rollout: { id: string } }).rollout.id, started[1]);
    assert.deepEqual(r.requests, [`POST ${s.url}/api/v1/apply`]);
  });

  void test('refuses an invalid file naming it and every problem by path, sends nothing, and exits 5', async () => {
    await s.deploy('apply-bad', 'adder', 1);
    const file = write('bad.yaml', endpointDoc('apply-bad', '  version: 0\n  strategy:\n    canary:\n      steps:\n        - setWeight: 120\n        - pause: { duration: 5 minutes }\n'));
    const r = await cli(['apply', '-f', file]);
    assert.equal(r.code, 5);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^slipway: invalid endpoint spec in bad\.yaml \(3 problems\):\n/);
    assert.match(r.stderr, /^ {2}spec\.version: must be a version number/m);
    assert.match(r.stderr, /^ {2}spec\.strategy\.canary\.steps\[0\]\.setWeight: must be ≥ 0 and ≤ 100, got 120$/m);
    assert.match(r.stderr, /^ {2}spec\.strategy\.canary\.steps\[1\]\.pause\.duration: /m);
    assert.match(r.stderr, /\[ROLLOUT_SPEC_INVALID\]\n$/);
    assert.deepEqual(r.requests, [], 'nothing reached the server');
    assert.equal(await endpointVersion('apply-bad'), 1);

    const json = await cli(['apply', '-f', file, '--json']);
    assert.equal(json.code, 5);
    const body = JSON.parse(json.stderr) as { code: string; details: { problems: { path: string }[] } };
    assert.equal(body.code, 'ROLLOUT_SPEC_INVALID');
    assert.deepEqual(
      body.details.problems.map((p) => p.path),
      ['spec.version', 'spec.strategy.canary.steps[0].setWeight', 'spec.strategy.canary.steps[1].pause.duration'],
    );
  });

  void test('reports YAML syntax errors by document, and a missing file with exit code 3', async () => {
    const file = write('broken.yaml', `${endpointDoc('apply-x', '  version: 1\n')}---\nkind: [Endpoint\n`);
    const r = await cli(['apply', '-f', file]);
    assert.equal(r.code, 5);
    assert.match(r.stderr, /^ {2}documents\[1\]: YAML syntax error: /m);
    assert.deepEqual(r.requests, []);
    const missing = await cli(['apply', '-f', 'nowhere.yaml']);
    assert.equal(missing.code, 3);
    assert.equal(missing.stderr, 'slipway: cannot read nowhere.yaml: no such file [CONTROL_CLIENT_FILE_NOT_FOUND]\n');
  });

  void test('--dry-run has the server check the documents and applies nothing', async () => {
    await s.deploy('apply-dry', 'adder', 1);
    const file = write('dry.yaml', canary('apply-dry'));
    const r = await cli(['apply', '-f', file, '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Dry run: the server accepts 1 document; nothing was applied.\nENDPOINT   MODEL  STRATEGY\napply-dry  adder  canary\n');
    assert.deepEqual(r.requests, [`POST ${s.url}/api/v1/apply?dryRun=true`]);
    assert.equal(await endpointVersion('apply-dry'), 1);
    const status = await s.call('GET', '/api/v1/endpoints/apply-dry/rollout');
    assert.equal((status.json.status as { rollout: unknown }).rollout, null, 'no rollout started');

    const json = await cli(['apply', '-f', file, '--dry-run', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), { dryRun: true, endpoints: [{ endpoint: 'apply-dry', model: 'adder', strategy: 'canary' }] });
  });

  void test('--json prints the API body, and applying the same file again reports it unchanged', async () => {
    const file = write('plain.yaml', endpointDoc('apply-json', '  version: 2\n  description: json test\n'));
    const first = await cli(['--json', 'apply', '-f', file]);
    assert.equal(first.code, 0, first.stderr);
    const body = JSON.parse(first.stdout) as ApplyResponse;
    assert.ok(!body.dryRun);
    assert.deepEqual(
      body.results.map((x) => [x.endpoint, x.action, x.targetVersion, x.rollout]),
      [['apply-json', 'created', 2, null]],
    );
    await s.waitForVersion('apply-json', 2);
    const again = await cli(['apply', '-f', file]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^apply-json +unchanged +v2 +v2 +- +endpoint "apply-json" unchanged$/m);
  });

  void test('a document the registry refuses stops the whole apply with its code, before any document changed anything', async () => {
    const file = write('partial.yaml', `${endpointDoc('apply-first', '  version: 1\n')}---\n${endpointDoc('apply-second', '  version: 9\n')}`);
    const r = await cli(['apply', '-f', file]);
    assert.equal(r.code, 3);
    assert.doesNotMatch(r.stderr, /may have been applied/);
    assert.match(r.stderr, /has no version 9 .*\[REGISTRY_VERSION_NOT_FOUND\]/);
    assert.equal(await endpointVersion('apply-first'), undefined);
    assert.equal(await endpointVersion('apply-second'), undefined);
  });

  void test('-f - reads the spec from standard input', async () => {
    await s.deploy('apply-stdin', 'adder', 1);
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const script = "import { main } from './src/cli/main.ts'; process.exitCode = await main(process.argv.slice(1));";
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script, '--', '--server', s.url, '--api-key', TEST_ADMIN_KEY, 'apply', '-f', '-'],
        { cwd: root, timeout: 30_000 },
        (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr }),
      );
      child.stdin?.end(canary('apply-stdin'));
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^apply-stdin +configured +v2 +v1 +\S+ \(canary\) /m);

    const bad = await new Promise<{ code: number; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, '--', '--server', s.url, '--api-key', TEST_ADMIN_KEY, 'apply', '-f', '-'], { cwd: root, timeout: 30_000 }, (error, _out, stderr) =>
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stderr }),
      );
      child.stdin?.end('kind: Endpoint\n');
    });
    assert.equal(bad.code, 5);
    assert.match(bad.stderr, /^slipway: invalid endpoint spec in stdin \(3 problems\):/);
  });
});

void describe('specDocumentsToSend', () => {
  void test('returns the YAML documents as plain JSON values, as written and without empty documents', () => {
    const text = `---\n${endpointDoc('a', '  alias: production\n  strategy:\n    canary:\n      steps: [ { setWeight: 10 }, { pause: { duration: 1m } } ]\n')}---\n---\n${endpointDoc('b', '  version: 3\n')}`;
    assert.deepEqual(specDocumentsToSend(text, 'x.yaml'), [
      {
        apiVersion: 'slipway.dev/v1',
        kind: 'Endpoint',
        metadata: { name: 'a' },
        spec: { model: 'adder', alias: 'production', strategy: { canary: { steps: [{ setWeight: 10 }, { pause: { duration: '1m' } }] } } },
      },
      { apiVersion: 'slipway.dev/v1', kind: 'Endpoint', metadata: { name: 'b' }, spec: { model: 'adder', version: 3 } },
    ]);
  });

  void test('throws ROLLOUT_SPEC_INVALID naming the source for a repeated key', () => {
    assert.throws(() => specDocumentsToSend(`${endpointDoc('a', '  version: 1\n  version: 2\n')}`, 'dup.yaml'), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ROLLOUT_SPEC_INVALID');
      assert.match(error.message, /^invalid endpoint spec in dup\.yaml/);
      return true;
    });
  });
});
