import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PlatformError } from '../../../src/core/errors.js';
import { CANDIDATE_FILES, EXAMPLE_FILES, EXAMPLE_NAMES, buildExamples, formatExamplesTable, hasCandidate, missingExamples } from '../../../src/examples/index.js';

const dataDir = fileURLToPath(new URL('../../../examples/data/', import.meta.url));

async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const name of EXAMPLE_NAMES) {
    const names = hasCandidate(name) ? [...EXAMPLE_FILES, ...CANDIDATE_FILES] : EXAMPLE_FILES;
    for (const file of names) files.set(`${name}/${file}`, await readFile(join(dir, name, file)));
  }
  return files;
}

void describe('buildExamples', () => {
  let outDir = '';
  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'slipway-examples-build-'));
  });
  after(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  void test('building twice gives byte-identical files, replacing the folders in place', async () => {
    assert.deepEqual(await missingExamples(outDir), [...EXAMPLE_NAMES]);
    const first = await buildExamples({ outDir, dataDir });
    assert.deepEqual(first.map((r) => r.name), [...EXAMPLE_NAMES]);
    assert.ok(first.every((r) => r.passed));
    const before = await snapshot(outDir);
    const second = await buildExamples({ outDir, dataDir });
    const again = await snapshot(outDir);
    const candidates = EXAMPLE_NAMES.filter(hasCandidate).length;
    assert.equal(candidates, 1);
    assert.equal(again.size, EXAMPLE_NAMES.length * EXAMPLE_FILES.length + candidates * CANDIDATE_FILES.length);
    for (const [file, bytes] of before) assert.ok(bytes.equals(again.get(file)!), `${file} changed between builds`);
    assert.deepEqual(second.map((r) => r.modelSha256), first.map((r) => r.modelSha256));
    assert.deepEqual((await readdir(outDir)).sort(), [...EXAMPLE_NAMES].sort());
    assert.deepEqual(await missingExamples(outDir), []);
    const table = formatExamplesTable(first).split('\n');
    assert.equal(table.length, 2 + EXAMPLE_NAMES.length + candidates);
    for (const name of EXAMPLE_NAMES) assert.match(table.find((l) => l.startsWith(`| ${name} |`)) ?? '', /\| yes \|$/);
    assert.match(table.find((l) => l.startsWith('| breast-cancer (candidate) |')) ?? '', /accuracy 0\.9\d+.*\| yes \|$/);
    assert.ok(first.find((r) => r.name === 'breast-cancer')?.candidate?.passed);
  });

  void test('builds only the examples named in `only`', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slipway-examples-only-'));
    try {
      const results = await buildExamples({ outDir: dir, dataDir, only: ['breast-cancer'] });
      assert.deepEqual(results.map((r) => r.name), ['breast-cancer']);
      assert.deepEqual(await readdir(dir), ['breast-cancer']);
      assert.deepEqual(await missingExamples(dir), ['digits', 'bike-sharing']);
      assert.deepEqual(await missingExamples(dir, ['breast-cancer']), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  void test('a breast-cancer folder without candidate.onnx counts as missing, so `npm start` rebuilds it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slipway-examples-candidate-'));
    try {
      const [built] = await buildExamples({ outDir: dir, dataDir, only: ['breast-cancer'] });
      assert.deepEqual(await missingExamples(dir, ['breast-cancer']), []);
      // a folder built before candidates existed
      await unlink(join(dir, 'breast-cancer', 'candidate.onnx'));
      assert.deepEqual(await missingExamples(dir, ['breast-cancer']), ['breast-cancer']);
      const [rebuilt] = await buildExamples({ outDir: dir, dataDir, only: await missingExamples(dir, ['breast-cancer']) });
      assert.equal(rebuilt?.candidate?.modelSha256, built?.candidate?.modelSha256);
      assert.deepEqual(await missingExamples(dir, ['breast-cancer']), []);
      await unlink(join(dir, 'breast-cancer', 'candidate-metrics.json'));
      assert.deepEqual(await missingExamples(dir, ['breast-cancer']), ['breast-cancer']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  void test('rejects an unknown example name before training anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slipway-examples-unknown-'));
    try {
      await assert.rejects(buildExamples({ outDir: dir, dataDir, only: ['digits', 'iris'] }), (error: unknown) => {
        assert.ok(error instanceof PlatformError);
        assert.equal(error.code, 'EXAMPLES_UNKNOWN_MODEL');
        assert.match(error.message, /"iris".*breast-cancer, digits, bike-sharing/);
        return true;
      });
      assert.deepEqual(await readdir(dir), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  void test('reports a missing dataset file with its path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slipway-examples-nodata-'));
    try {
      await assert.rejects(buildExamples({ outDir: join(dir, 'out'), dataDir: dir, only: ['digits'] }), (error: unknown) => {
        assert.ok(error instanceof PlatformError);
        assert.equal(error.code, 'EXAMPLES_DATA_NOT_FOUND');
        assert.ok(error.message.includes(join(dir, 'digits.csv')));
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
