import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { PlatformError } from '../../../src/core/errors.js';
import {
  HEAVY_CONV_CLASSES,
  SYNTHETIC_EXAMPLE_FILES,
  SYNTHETIC_EXAMPLE_NAMES,
  buildHeavyConv,
  buildSyntheticExamples,
  ensureSyntheticExamples,
} from '../../../src/examples/index.js';
import { onnx } from '../../../src/onnx/index.js';

async function run(bytes: Uint8Array, data: number[], rows: number): Promise<{ label: bigint[]; probabilities: number[] }> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(data), [rows, 1, 32, 32]) });
    return { label: Array.from(out.label!.data as BigInt64Array), probabilities: Array.from(out.probabilities!.data as Float32Array) };
  } finally {
    await session.release();
  }
}

void describe('heavy-conv synthetic example', () => {
  void test('the same seed gives byte-identical models and requests; another seed gives other weights', () => {
    const a = buildHeavyConv();
    const b = buildHeavyConv();
    assert.deepEqual(Buffer.from(a.modelBytes), Buffer.from(b.modelBytes));
    assert.deepEqual(a.request(3), b.request(3));
    assert.notDeepEqual(Buffer.from(buildHeavyConv(7).modelBytes), Buffer.from(a.modelBytes));
  });

  void test('declares a [batch, 1, 32, 32] FP32 input and label and probabilities outputs at opset 17', () => {
    const model = onnx.ModelProto.decode(buildHeavyConv().modelBytes);
    assert.deepEqual(model.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', 17]]);
    const input = model.graph!.input![0]!;
    assert.equal(input.name, 'input');
    const dims = input.type!.tensorType!.shape!.dim!;
    assert.equal(dims[0]!.dimParam, 'batch');
    assert.deepEqual(dims.slice(1).map((d) => Number(d.dimValue)), [1, 32, 32]);
    assert.deepEqual(model.graph!.output!.map((o) => o.name), ['label', 'probabilities']);
    assert.equal(model.graph!.node!.filter((n) => n.opType === 'Conv').length, 5);
  });

  void test('onnxruntime answers every row with a softmax over 10 classes whose argmax is the label', async () => {
    const example = buildHeavyConv();
    const request = example.request(3);
    const input = request.inputs[0]!;
    assert.deepEqual(input.shape, [3, 1, 32, 32]);
    const out = await run(example.modelBytes, input.data, 3);
    assert.equal(out.label.length, 3);
    assert.equal(out.probabilities.length, 3 * HEAVY_CONV_CLASSES);
    for (let r = 0; r < 3; r++) {
      const p = out.probabilities.slice(r * HEAVY_CONV_CLASSES, (r + 1) * HEAVY_CONV_CLASSES);
      assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-5);
      assert.ok(p.every((v) => Number.isFinite(v) && v >= 0));
      assert.equal(Number(out.label[r]), p.indexOf(Math.max(...p)));
    }
  });

  void test('gives identical outputs for the same input, and a row does not depend on its batch-mates', async () => {
    const example = buildHeavyConv();
    const data = example.request(2).inputs[0]!.data;
    const first = await run(example.modelBytes, data, 2);
    const again = await run(example.modelBytes, data, 2);
    assert.deepEqual(again, first);
    const alone = await run(example.modelBytes, data.slice(1024), 1);
    alone.probabilities.forEach((v, i) => assert.ok(Math.abs(v - first.probabilities[HEAVY_CONV_CLASSES + i]!) < 1e-5));
  });

  void test('buildSyntheticExamples writes the documented files; ensure builds only what is missing', async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'slipway-heavy-conv-'));
    try {
      assert.deepEqual(await ensureSyntheticExamples(outDir), [...SYNTHETIC_EXAMPLE_NAMES]);
      assert.deepEqual((await readdir(join(outDir, 'heavy-conv'))).sort(), [...SYNTHETIC_EXAMPLE_FILES].sort());
      const bytes = await readFile(join(outDir, 'heavy-conv', 'model.onnx'));
      assert.deepEqual(bytes, Buffer.from(buildHeavyConv().modelBytes));
      const metrics = JSON.parse(await readFile(join(outDir, 'heavy-conv', 'metrics.json'), 'utf8')) as { synthetic: boolean; model: { bytes: number } };
      assert.equal(metrics.synthetic, true);
      assert.equal(metrics.model.bytes, bytes.length);
      const request = JSON.parse(await readFile(join(outDir, 'heavy-conv', 'request.json'), 'utf8')) as unknown;
      assert.deepEqual(request, buildHeavyConv().request(2));
      assert.deepEqual(await ensureSyntheticExamples(outDir), []);
      const again = await buildSyntheticExamples({ outDir });
      assert.deepEqual(again.map((r) => r.name), ['heavy-conv']);
      assert.deepEqual(await readdir(outDir), ['heavy-conv']);
      assert.deepEqual(await readFile(join(outDir, 'heavy-conv', 'model.onnx')), bytes);
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  });

  void test('rejects an unknown synthetic example name with the list of names', async () => {
    await assert.rejects(buildSyntheticExamples({ outDir: tmpdir(), only: ['resnet'] }), (error: unknown) => {
      assert.ok(error instanceof PlatformError);
      assert.equal(error.code, 'EXAMPLES_UNKNOWN_MODEL');
      assert.match(error.message, /"resnet".*heavy-conv/);
      return true;
    });
  });
});
