/**
 * Validation on the real server: `slipway validate` of the breast-cancer example against its
 * candidate on the held-out rows, with gates (passing and failing, exit 0 and 11), the report
 * stored with the version and rendered as HTML; bad requests refused by field before a run starts;
 * and `validation.requiredForAliases` refusing to move `production` to an unvalidated version.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ValidationReport } from '../../src/validate/index.js';
import { runCli } from '../unit/cli/cli-harness.js';
import { ADMIN_ENV, adminHeaders, startTestServer, type TestServer } from '../support/server.js';

const examplesDir = fileURLToPath(new URL('../../examples/models/', import.meta.url));
const testCsv = `${examplesDir}breast-cancer/test.csv`;
/** Small settings: the checks all run, on fewer rows and calls, so the file stays quick. */
const QUICK = { batchSizes: [1, 8], latencyRuns: 30, latencyBudgetMs: 100, robustnessRows: 113, perturbationRows: 40, perturbationTrials: 8 };

async function putDataset(s: TestServer, text: string, name = 'test.csv'): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${s.url}/api/v1/datasets?name=${name}`, { method: 'PUT', headers: adminHeaders({ 'content-type': 'text/csv' }), body: text });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function waitDone(s: TestServer, id: string): Promise<ValidationReport> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await s.call('GET', `/api/v1/validations/${id}`);
    const v = r.json.validation as { status: string };
    if (v.status !== 'running') break;
    if (Date.now() > deadline) throw new Error(`validation ${id} did not finish`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const report = await s.call('GET', `/api/v1/validations/${id}/report`);
  assert.equal(report.status, 200, JSON.stringify(report.json));
  return report.json.report as ValidationReport;
}

describe('validation with the example models', () => {
  let s: TestServer;
  let dir: string;
  let candidate: number;
  before(async () => {
    s = await startTestServer({ examples: true });
    dir = await mkdtemp(join(tmpdir(), 'slipway-validate-'));
    candidate = await s.push('breast-cancer', await readFile(`${examplesDir}breast-cancer/candidate.onnx`));
  });
  after(async () => {
    await s.stop();
    await rm(dir, { recursive: true, force: true });
  });

  void test('slipway validate with a baseline and passing gates: exit 0, the report stored with the version, HTML written', async () => {
    const gates = join(dir, 'gates.yaml');
    await writeFile(gates, 'gates:\n  - accuracy >= baseline - 0.01\n  - latency.p99_ms <= 5000\n  - name: noise\n    check: robustness.noise_0.1.accuracy_drop <= 0.1\n  - edge_cases.failed == 0\n');
    const html = join(dir, 'report.html');
    const r = await runCli(
      ['--server', s.url, '--json', 'validate', `breast-cancer:${candidate}`, '--data', testCsv, '--target', 'target', '--baseline', 'breast-cancer:1', '--gates', gates, '--batch-sizes', '1,4', '--html', html],
      { env: ADMIN_ENV },
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const report = (JSON.parse(r.stdout) as { report: ValidationReport }).report;
    assert.equal(report.passed, true);
    assert.equal(report.data?.rows, 113);
    assert.equal(report.data?.features, 30);
    // the held-out accuracy npm run examples measured for each version, recomputed by the server
    const metrics = JSON.parse(await readFile(`${examplesDir}breast-cancer/metrics.json`, 'utf8')) as { heldOut: { accuracy: number } };
    const candidateMetrics = JSON.parse(await readFile(`${examplesDir}breast-cancer/candidate-metrics.json`, 'utf8')) as { heldOut: { accuracy: number } };
    assert.ok(Math.abs((report.baseline?.figures.accuracy ?? NaN) - metrics.heldOut.accuracy) < 1e-12);
    assert.ok(Math.abs((report.candidate.figures.accuracy ?? NaN) - candidateMetrics.heldOut.accuracy) < 1e-12);
    assert.equal(report.candidate.accuracy?.task, 'classification');
    assert.equal(report.candidate.accuracy?.classification?.confusionMatrix.flat().reduce((a, b) => a + b, 0), 113);
    assert.ok((report.candidate.figures.roc_auc ?? 0) > 0.95);
    assert.deepEqual(report.candidate.performance.latency.map((l) => l.batchSize), [1, 4]);
    assert.ok(report.candidate.performance.latency.every((l) => l.runs >= 20 && l.p50Ms > 0 && l.p50Ms <= l.p99Ms));
    assert.equal(report.gates?.results.length, 4);
    assert.ok(report.gates?.results.every((g) => g.passed));
    assert.equal(report.candidate.edgeCases.find((e) => e.name === 'string_value')?.code, 'SERVING_INVALID_DATA');
    assert.ok(report.candidate.edgeCases.every((e) => e.passed));
    assert.equal(report.candidate.stability.repeatMaxAbsDiff, 0);
    assert.ok(report.comparison?.agreement !== null && (report.comparison?.agreement ?? 0) > 0.95);
    assert.ok((report.candidate.robustness?.noise.length ?? 0) === 4);

    const latest = await s.call('GET', `/api/v1/models/breast-cancer/versions/${candidate}/validations/latest`);
    assert.equal((latest.json.report as ValidationReport).id, report.id);
    const listed = await s.call('GET', `/api/v1/models/breast-cancer/versions/${candidate}/validations`);
    assert.ok((listed.json.validations as { id: string; gated: boolean }[]).some((v) => v.id === report.id && v.gated));
    const page = await readFile(html, 'utf8');
    assert.match(page, new RegExp(`Validation of breast-cancer:${candidate}`));
    assert.match(page, /<svg/);
    assert.match(page, /PASSED/);
  });

  void test('a failing gate: exit 11 (CLI_CHECK_FAILED) naming it, the report says why', async () => {
    const gates = join(dir, 'strict.yaml');
    await writeFile(gates, 'gates:\n  - accuracy >= 0.999\n  - latency.p99_ms <= 5000\n');
    const r = await runCli(['--server', s.url, 'validate', 'breast-cancer:1', '--data', testCsv, '--target', 'target', '--gates', gates, '--batch-sizes', '1'], { env: ADMIN_ENV });
    assert.equal(r.code, 11, r.stderr);
    assert.match(r.stderr, /failed: accuracy >= 0\.999 \[CLI_CHECK_FAILED\]/);
    assert.match(r.stdout, /FAIL/);
    assert.match(r.stdout, /FAILED/);
  });

  void test('without data: performance, stability and edge cases only, through the API', async () => {
    const started = await s.call('POST', '/api/v1/models/digits/versions/1/validations', { settings: QUICK });
    assert.equal(started.status, 202, JSON.stringify(started.json));
    const report = await waitDone(s, (started.json.validation as { id: string }).id);
    assert.equal(report.data, null);
    assert.equal(report.candidate.accuracy, null);
    assert.equal(report.candidate.robustness, null);
    assert.ok(report.candidate.figures['latency.p99_ms'] !== undefined);
    assert.ok(report.candidate.edgeCases.length >= 10);
    assert.equal(report.passed, true);
  });

  void test('bad requests are refused by field before a run starts', async () => {
    const dataset = await putDataset(s, await readFile(testCsv, 'utf8'));
    assert.equal(dataset.status, 201, JSON.stringify(dataset.json));
    const digest = (dataset.json.dataset as { digest: string }).digest;
    const post = (body: unknown, path = '/api/v1/models/breast-cancer/versions/1/validations') => s.call('POST', path, body);

    const noColumn = await post({ data: digest, target: 'diagnosis' });
    assert.equal(noColumn.status, 400);
    assert.equal(noColumn.json.code, 'VALIDATE_INVALID_DATA');
    assert.match(String(noColumn.json.error), /target "diagnosis" is not a column/);

    const gates = await post({ data: digest, target: 'target', gates: 'gates:\n  - accuracy >=\n' });
    assert.equal(gates.status, 400);
    assert.equal(gates.json.code, 'VALIDATE_INVALID_GATES');
    assert.match(String(gates.json.error), /gates\[0\]/);

    const unknownData = await post({ data: `sha256:${'0'.repeat(64)}`, target: 'target' });
    assert.equal(unknownData.status, 404);
    assert.equal(unknownData.json.code, 'VALIDATE_DATASET_NOT_FOUND');

    const setting = await post({ settings: { batchSizes: [0] } });
    assert.equal(setting.status, 400);
    assert.equal(setting.json.code, 'VALIDATE_INVALID_REQUEST');
    assert.match(String(setting.json.error), /settings\.batchSizes/);

    const unknownField = await post({ dataset: digest });
    assert.equal(unknownField.status, 400);
    assert.match(String(unknownField.json.error), /^dataset: unknown field/);

    const noVersion = await post({}, '/api/v1/models/breast-cancer/versions/99/validations');
    assert.equal(noVersion.status, 404);

    const baseline = await post({ baseline: { model: 'breast-cancer', version: 'one' } });
    assert.equal(baseline.status, 400);
    assert.match(String(baseline.json.error), /baseline\.version/);

    const badCsv = await putDataset(s, '');
    assert.equal(badCsv.status, 400);
    const json = await fetch(`${s.url}/api/v1/datasets`, { method: 'PUT', headers: adminHeaders({ 'content-type': 'application/json' }), body: '{}' });
    assert.equal(json.status, 400);
    assert.equal(((await json.json()) as { code: string }).code, 'HTTP_UNSUPPORTED_MEDIA_TYPE');

    const ragged = await putDataset(s, 'a,b\n1,2\n3\n', 'ragged.csv');
    const raggedRun = await post({ data: (ragged.json.dataset as { digest: string }).digest, target: 'b' });
    assert.equal(raggedRun.status, 400);
    assert.equal(raggedRun.json.code, 'VALIDATE_INVALID_DATA');

    const missing = await s.call('GET', '/api/v1/validations/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.code, 'VALIDATE_NOT_FOUND');
  });
});

describe('slipway ci', () => {
  let s: TestServer;
  let dir: string;
  before(async () => {
    s = await startTestServer({ examples: true });
    dir = await mkdtemp(join(tmpdir(), 'slipway-ci-'));
  });
  after(async () => {
    await s.stop();
    await rm(dir, { recursive: true, force: true });
  });

  void test('a failing gate stops the release: exit 11, nothing rolled out, the alias unmoved', async () => {
    const gates = join(dir, 'strict.yaml');
    await writeFile(gates, 'gates:\n  - accuracy >= 0.9999\n');
    const r = await runCli(
      ['--server', s.url, 'ci', '--model', `${examplesDir}breast-cancer/candidate.onnx`, '--name', 'breast-cancer', '--data', testCsv, '--target', 'target', '--gates', gates, '--endpoint', 'breast-cancer', '--alias', 'production'],
      { env: ADMIN_ENV },
    );
    assert.equal(r.code, 11, r.stderr);
    assert.match(r.stderr, /ci: pushed breast-cancer:2/);
    assert.match(r.stderr, /baseline: breast-cancer:1 \(production\)/);
    assert.match(r.stderr, /failed validation .*accuracy >= 0\.9999; nothing was rolled out \[CLI_CHECK_FAILED\]/);
    const alias = await s.call('GET', '/api/v1/models/breast-cancer/aliases/production');
    assert.equal((alias.json.alias as { version: number }).version, 1);
    const endpoint = await s.call('GET', '/api/v1/endpoints/breast-cancer');
    assert.equal((endpoint.json.endpoint as { version: number }).version, 1);
  });

  void test('gates pass: blue-green rollout promoted, the endpoint serves the new version, the alias moved', async () => {
    const gates = join(dir, 'gates.yaml');
    await writeFile(gates, 'gates:\n  - accuracy >= baseline - 0.01\n  - edge_cases.failed == 0\n');
    const r = await runCli(
      [
        '--server', s.url, '--json', 'ci', '--model', `${examplesDir}breast-cancer/candidate.onnx`, '--name', 'breast-cancer', '--data', testCsv, '--target', 'target',
        '--gates', gates, '--endpoint', 'breast-cancer', '--strategy', 'blue-green', '--alias', 'production', '--timeout', '60s',
      ],
      { env: ADMIN_ENV },
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = JSON.parse(r.stdout) as { version: number; baseline: number; passed: boolean; rollout: { phase: string }; alias: string };
    assert.equal(out.version, 2);
    assert.equal(out.baseline, 1);
    assert.equal(out.passed, true);
    assert.equal(out.rollout.phase, 'Promoted');
    assert.equal(out.alias, 'production');
    await s.waitForVersion('breast-cancer', 2);
    const alias = await s.call('GET', '/api/v1/models/breast-cancer/aliases/production');
    assert.equal((alias.json.alias as { version: number }).version, 2);
    const infer = await s.call('POST', '/v2/models/breast-cancer/infer', JSON.parse(await readFile(`${examplesDir}breast-cancer/request.json`, 'utf8')));
    assert.equal(infer.json.model_version, '2');
  });

  void test('usage mistakes are refused before anything is pushed', async () => {
    const r = await runCli(['--server', s.url, 'ci', '--model', `${examplesDir}digits/model.onnx`, '--name', 'digits', '--data', testCsv], { env: ADMIN_ENV });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--data and --target go together/);
    const strategy = await runCli(['--server', s.url, 'ci', '--model', `${examplesDir}digits/model.onnx`, '--name', 'digits', '--endpoint', 'digits', '--strategy', 'nope.yaml'], { env: ADMIN_ENV });
    assert.equal(strategy.code, 2);
    assert.match(strategy.stderr, /--strategy must be blue-green or canary/);
    const versions = await s.call('GET', '/api/v1/models/digits/versions');
    assert.equal((versions.json.versions as unknown[]).length, 1);
  });
});

describe('validation.requiredForAliases', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ overrides: { 'validation.requiredForAliases': 'production' } });
  });
  after(async () => {
    await s.stop();
  });

  void test('production moves only to a version whose latest gated report passed', async () => {
    const version = await s.push('bc', await readFile(`${examplesDir}breast-cancer/model.onnx`));
    const refused = await s.call('PUT', `/api/v1/models/bc/aliases/production`, { version });
    assert.equal(refused.status, 409);
    assert.equal(refused.json.code, 'REGISTRY_VALIDATION_REQUIRED');
    assert.match(String(refused.json.error), /has no validation report/);
    // other aliases are free
    assert.equal((await s.call('PUT', `/api/v1/models/bc/aliases/staging`, { version })).status, 200);

    const dataset = await putDataset(s, await readFile(testCsv, 'utf8'));
    const digest = (dataset.json.dataset as { digest: string }).digest;
    const failing = await s.call('POST', `/api/v1/models/bc/versions/${version}/validations`, { data: digest, target: 'target', gates: 'gates:\n  - accuracy >= 0.9999\n', settings: QUICK });
    assert.equal(failing.status, 202);
    const failed = await waitDone(s, (failing.json.validation as { id: string }).id);
    assert.equal(failed.passed, false);
    const stillRefused = await s.call('PUT', `/api/v1/models/bc/aliases/production`, { version });
    assert.equal(stillRefused.status, 409);
    assert.match(String(stillRefused.json.error), /failed: accuracy >= 0\.9999/);

    const passing = await s.call('POST', `/api/v1/models/bc/versions/${version}/validations`, { data: digest, target: 'target', gates: 'gates:\n  - accuracy >= 0.95\n', settings: QUICK });
    await waitDone(s, (passing.json.validation as { id: string }).id);
    const moved = await s.call('PUT', `/api/v1/models/bc/aliases/production`, { version });
    assert.equal(moved.status, 200, JSON.stringify(moved.json));
  });
});
