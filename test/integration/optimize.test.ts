/**
 * Optimisation on the real server: `slipway optimize` quantises the digits example into a new
 * version whose lineage names its parent, validates it against the parent on the held-out rows and
 * moves the alias only when the gates pass; a version that fails its gates moves nothing; a Conv
 * model is quantised and compared on synthetic inputs; bad options are refused by field.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildHeavyConv } from '../../src/examples/heavy-conv.js';
import type { Optimization } from '../../src/optimize/index.js';
import type { ValidationReport } from '../../src/validate/index.js';
import { runCli } from '../unit/cli/cli-harness.js';
import { ADMIN_ENV, startTestServer, type TestServer } from '../support/server.js';

const examplesDir = fileURLToPath(new URL('../../examples/models/', import.meta.url));
const digitsCsv = `${examplesDir}digits/test.csv`;

let s: TestServer;
let dir: string;
before(async () => {
  s = await startTestServer({ examples: true });
  dir = await mkdtemp(join(tmpdir(), 'slipway-optimize-'));
});
after(async () => {
  await s.stop();
  await rm(dir, { recursive: true, force: true });
});

void test('slipway optimize --quantize weight-int8: a new version with lineage, smaller, as accurate, alias moved', async () => {
  // the default policy also has a batch-1 latency gate; digits runs in about 0.1 ms, where the
  // thread hop's jitter decides it, so this test judges accuracy and edge cases only
  const gates = join(dir, 'accuracy.yaml');
  await writeFile(gates, 'gates:\n  - accuracy >= baseline - 0.01\n  - edge_cases.failed == 0\n');
  const r = await runCli(['--server', s.url, '--json', 'optimize', 'digits:1', '--quantize', 'weight-int8', '--data', digitsCsv, '--target', 'target', '--gates', gates, '--alias', 'staging'], { env: ADMIN_ENV });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const { optimization: o, report } = JSON.parse(r.stdout) as { optimization: Optimization; report: ValidationReport };
  assert.equal(o.parent, 1);
  assert.equal(o.version.lineage.parentVersion, 1);
  assert.equal(o.version.tags.optimized, 'weight-int8');
  assert.equal(o.quantize?.mode, 'weight-int8');
  assert.equal(o.quantize?.rewritten.Gemm, 2);
  assert.equal(o.alias?.status, 'moved');
  assert.equal(report.baseline?.version, 1);
  assert.ok(report.passed);
  // int8 weights: the file shrinks, the predictions barely move
  assert.ok((report.candidate.figures.size_bytes as number) < 0.6 * (report.baseline?.figures.size_bytes as number));
  assert.ok(Math.abs((report.candidate.figures.accuracy as number) - (report.baseline?.figures.accuracy as number)) <= 0.01);
  assert.ok((report.comparison?.agreement ?? 0) >= 0.98);
  const alias = await s.call('GET', '/api/v1/models/digits/aliases/staging');
  assert.equal((alias.json.alias as { version: number }).version, o.version.version);
  assert.match(r.stderr, /optimize: registered digits:2/);
});

void test('a version that fails its gates is registered but moves no alias: exit 11', async () => {
  const gates = join(dir, 'tiny.yaml');
  // structured pruning of half the hidden units cannot keep the file under a tenth of its parent's size
  await writeFile(gates, 'gates:\n  - size_bytes <= baseline * 0.1\n');
  const r = await runCli(['--server', s.url, 'optimize', 'digits:1', '--prune', '0.5', '--structured', '--gates', gates, '--alias', 'production'], { env: ADMIN_ENV });
  assert.equal(r.code, 11, r.stderr + r.stdout);
  assert.match(r.stdout, /shrunk/);
  assert.match(r.stdout, /Alias production NOT moved/);
  assert.match(r.stderr, /failed its gates .*size_bytes <= baseline \* 0\.1; alias production not moved \[CLI_CHECK_FAILED\]/);
  const alias = await s.call('GET', '/api/v1/models/digits/aliases/production');
  assert.equal((alias.json.alias as { version: number }).version, 1);
});

void test('a Conv model quantised dynamically, compared with its parent on synthetic inputs (no data)', async () => {
  const conv = await s.push('conv', buildHeavyConv().modelBytes);
  const started = await s.call('POST', `/api/v1/models/conv/versions/${conv}/optimize`, { quantize: 'dynamic', settings: { batchSizes: [1, 2], latencyRuns: 20, latencyBudgetMs: 50 } });
  assert.equal(started.status, 202, JSON.stringify(started.json));
  const o = started.json.optimization as Optimization;
  assert.ok((o.quantize?.rewritten.Conv ?? 0) >= 5);
  assert.match(o.gates, /baseline\.agreement >= 0\.99/);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const j = await s.call('GET', `/api/v1/optimizations/${o.id}`);
    if ((j.json.optimization as Optimization).validation.status !== 'running') break;
    assert.ok(Date.now() < deadline, 'the validation did not finish');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const report = (await s.call('GET', `/api/v1/validations/${o.id}/report`)).json.report as ValidationReport;
  assert.equal(report.data, null);
  assert.ok(report.comparison !== null);
  assert.ok((report.comparison.maxAbsDiff ?? 1) < 0.05, `largest probability difference ${report.comparison.maxAbsDiff}`);
  assert.ok(report.candidate.figures['baseline.agreement'] !== undefined);
});

void test('bad options are refused by field, and nothing is registered', async () => {
  const before = ((await s.call('GET', '/api/v1/models/digits/versions')).json.versions as unknown[]).length;
  const none = await s.call('POST', '/api/v1/models/digits/versions/1/optimize', {});
  assert.equal(none.status, 400);
  assert.equal(none.json.code, 'OPTIMIZE_INVALID_OPTIONS');
  assert.match(String(none.json.error), /quantize or prune/);
  const mode = await s.call('POST', '/api/v1/models/digits/versions/1/optimize', { quantize: 'int4' });
  assert.equal(mode.status, 400);
  assert.match(String(mode.json.error), /quantize: expected dynamic or weight-int8/);
  const sparsity = await s.call('POST', '/api/v1/models/digits/versions/1/optimize', { prune: 1.5 });
  assert.equal(sparsity.status, 400);
  assert.match(String(sparsity.json.error), /prune: expected a sparsity/);
  const field = await s.call('POST', '/api/v1/models/digits/versions/1/optimize', { quantise: 'dynamic' });
  assert.equal(field.status, 400);
  assert.match(String(field.json.error), /^quantise: unknown field/);
  const gates = await s.call('POST', '/api/v1/models/digits/versions/1/optimize', { quantize: 'dynamic', gates: 'gates: []\n' });
  assert.equal(gates.status, 400);
  assert.equal(gates.json.code, 'VALIDATE_INVALID_GATES');
  const after = ((await s.call('GET', '/api/v1/models/digits/versions')).json.versions as unknown[]).length;
  assert.equal(after, before);
  const cli = await runCli(['--server', s.url, 'optimize', 'digits:1'], { env: ADMIN_ENV });
  assert.equal(cli.code, 2);
  assert.match(cli.stderr, /give --quantize/);
});
