import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PlatformError, type Tensor } from '../../../src/core/index.js';
import { createOnnxRuntime, type OnnxModelRuntime } from '../../../src/runtime/index.js';
import { compareOutputs, ensureFixtures, fixture, fixturePath, toTensor, type FixtureManifest } from '../../fixtures/corpus.js';
import { fp16BitsOf, fp16ValueOf, roundToFp16 } from '../../fixtures/fp16.js';
import { buildCorpus } from '../../fixtures/generate.js';

let manifest: FixtureManifest;
let runtime: OnnxModelRuntime;

before(async () => {
  manifest = await ensureFixtures();
  runtime = createOnnxRuntime();
});
after(() => runtime.close());

function assertCode(error: unknown, code: string): PlatformError {
  assert.ok(error instanceof PlatformError, `expected a PlatformError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  return error;
}

describe('fixture corpus', () => {
  test('generates the same bytes on every run', () => {
    const a = buildCorpus();
    const b = buildCorpus();
    assert.deepEqual([...a.files.keys()], [...b.files.keys()]);
    for (const [name, bytes] of a.files) assert.deepEqual(b.files.get(name), bytes, name);
    assert.deepEqual(a.manifest, b.manifest);
  });

  test('covers every datatype, opsets 13 to 21, the ml domain, fixed, dynamic and sequence dimensions', () => {
    const tags = new Set(manifest.fixtures.flatMap((f) => f.tags));
    for (const t of ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES']) {
      assert.ok(manifest.fixtures.some((f) => f.name === `identity-${t.toLowerCase()}` && f.kind === 'runnable'), `identity ${t}`);
      assert.ok(tags.has(t), t);
    }
    for (const t of ['arith', 'multi-io', 'fixed', 'dynamic', 'fixed-batch-1', 'sequence', 'ml', 'heavy']) assert.ok(tags.has(t), t);
    const opsets = new Set(manifest.fixtures.flatMap((f) => f.opsets.filter((o) => o.domain === '').map((o) => o.version)));
    assert.deepEqual([...opsets].sort((x, y) => x - y), [13, 15, 17, 19, 21]);
    assert.ok(manifest.fixtures.some((f) => f.opsets.some((o) => o.domain === 'ai.onnx.ml') && f.kind === 'runnable'));
    assert.deepEqual(
      manifest.fixtures.filter((f) => f.kind !== 'runnable').map((f) => [f.name, f.kind]),
      [
        ['ml-zipmap', 'non-tensor-output'],
        ['unknown-op', 'unloadable'],
        ['not-onnx', 'not-onnx'],
      ],
    );
  });

  test('computes half-precision expectations with its own rounding', () => {
    assert.equal(roundToFp16(0.1), 0.0999755859375);
    assert.equal(roundToFp16(65504), 65504);
    assert.equal(roundToFp16(65519), 65504);
    assert.equal(roundToFp16(65520), Infinity);
    assert.equal(roundToFp16(2 ** -25), 0); // exactly half the smallest subnormal: ties to even (0)
    assert.equal(roundToFp16(3 * 2 ** -25), 2 ** -23); // 1.5 ulps: ties to even (2 ulps)
    assert.equal(roundToFp16(1 + 2 ** -11), 1); // halfway between 1 and the next half: even
    assert.equal(roundToFp16(1 + 3 * 2 ** -11), 1 + 2 ** -9);
    for (const v of [0, 1, -2.5, 65504, 2 ** -14, 2 ** -24, roundToFp16(-1 / 3)]) assert.equal(fp16ValueOf(fp16BitsOf(v)), v);
    assert.equal(fp16BitsOf(1), 0x3c00);
    assert.equal(fp16BitsOf(-2), 0xc000);
    assert.equal(fp16BitsOf(2 ** -24), 0x0001);
    assert.equal(fp16BitsOf(65504), 0x7bff);
  });
});

describe('every runnable fixture through the runtime', () => {
  test('reproduces the independently computed outputs and the declared signature', async () => {
    const runnable = manifest.fixtures.filter((f) => f.kind === 'runnable');
    assert.ok(runnable.length >= 30);
    const failures: string[] = [];
    // a few at a time: each load starts a worker
    for (let i = 0; i < runnable.length; i += 4) {
      await Promise.all(
        runnable.slice(i, i + 4).map(async (entry) => {
          const model = await runtime.load({ label: entry.name, artifactPath: fixturePath(entry), replicas: 1, intraOpThreads: 1 }).catch((e: unknown) => {
            failures.push(`${entry.name}: load failed: ${(e as Error).message}`);
          });
          if (model === undefined) return;
          try {
            assert.deepEqual(model.signature, entry.signature, `${entry.name}: signature`);
            if (model.warmupFailures().length > 0) failures.push(`${entry.name}: warm-up failed: ${model.warmupFailures()[0]?.message}`);
            for (const c of entry.cases) {
              const outputs = await model.infer(c.inputs.map(toTensor), undefined);
              for (const p of compareOutputs(outputs, c)) failures.push(`${entry.name}/${c.name}: ${p}`);
            }
          } finally {
            await model.unload();
          }
        }),
      );
    }
    assert.deepEqual(failures, []);
  });

  test('returns only the outputs asked for, in the order asked', async () => {
    const entry = fixture(manifest, 'mixed-types');
    const model = await runtime.load({ label: entry.name, artifactPath: fixturePath(entry), replicas: 1 });
    try {
      const c = entry.cases[0];
      assert.ok(c);
      const outputs = await model.infer(c.inputs.map(toTensor), ['next_ids', 'masked']);
      assert.deepEqual(outputs.map((o: Tensor) => o.name), ['next_ids', 'masked']);
      assert.deepEqual(Array.from(outputs[0]?.data as BigInt64Array), [42n, -6n]);
    } finally {
      await model.unload();
    }
  });

  test('answers a batch of 2 sent to a fixed batch of 1 with onnxruntime’s reason', async () => {
    const entry = fixture(manifest, 'fixed-batch-1');
    const model = await runtime.load({ label: entry.name, artifactPath: fixturePath(entry), replicas: 1 });
    try {
      const x: Tensor = { name: 'x', datatype: 'FP32', shape: [2, 4], data: new Float32Array(8) };
      const error = assertCode(await model.infer([x], undefined).catch((e: unknown) => e), 'RUNTIME_INFERENCE_FAILED');
      assert.equal(error.kind, 'invalid');
      assert.match(error.message, /Got invalid dimensions for input: x/);
      assert.match(error.message, /Got: 2 Expected: 1/);
    } finally {
      await model.unload();
    }
  });
});

describe('fixtures that must be refused', () => {
  test('refuses the ZipMap model at probe and at load, naming the non-tensor output', async () => {
    const entry = fixture(manifest, 'ml-zipmap');
    for (const attempt of [() => runtime.probe(fixturePath(entry)), () => runtime.load({ label: 'zip', artifactPath: fixturePath(entry), replicas: 1 })]) {
      const error = assertCode(await attempt().catch((e: unknown) => e), 'RUNTIME_UNSUPPORTED_MODEL');
      assert.match(error.message, /output "output_probability" is not a tensor/);
      assert.equal(error.details?.output, entry.refusal?.output);
    }
  });

  test('refuses files onnxruntime cannot load, with its reason', async () => {
    const unknown = assertCode(await runtime.probe(fixturePath(fixture(manifest, 'unknown-op'))).catch((e: unknown) => e), 'RUNTIME_LOAD_FAILED');
    assert.match(unknown.message, /No Op registered for NoSuchOp/);
    const text = assertCode(await runtime.probe(fixturePath(fixture(manifest, 'not-onnx'))).catch((e: unknown) => e), 'RUNTIME_LOAD_FAILED');
    assert.match(text.message, /[Pp]rotobuf parsing failed/);
    const missing = assertCode(await runtime.probe('/nonexistent/model.onnx').catch((e: unknown) => e), 'RUNTIME_LOAD_FAILED');
    assert.match(missing.message, /nonexistent\/model\.onnx/);
  });

  test('accepts a good model at probe and reports its signature as onnxruntime sees it', async () => {
    const entry = fixture(manifest, 'multi-io');
    await runtime.probe(fixturePath(entry));
    assert.deepEqual(await runtime.probeSignature(fixturePath(entry)), entry.signature);
  });
});
