import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { PlatformError } from '../../../src/core/index.js';
import { buildHeavyConv, rmse, type TrainedExample } from '../../../src/examples/index.js';
import { buildModelProto, readModel, writeModel, type InitializerSpec, type onnx } from '../../../src/onnx/index.js';
import {
  OPTIMIZE_METADATA_KEY,
  PRUNING_METADATA_KEY,
  pruneModel,
  quantizeModel,
  sliceAxis,
  zeroSmallest,
  type PruneOptions,
  type PruneReport,
} from '../../../src/optimize/index.js';
import { argmaxAgreement, argmaxRows, dimsOf, example, heldOutInput, initializer, maxAbsDiff, metadata, runModel, seeded, valuesOf } from './helpers.js';

function expectCode(code: string, field?: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof PlatformError, `expected a PlatformError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (field !== undefined) assert.match(error.message, new RegExp(`\\b${field}\\b`), error.message);
    return true;
  };
}

function float(name: string, dims: number[], random: () => number, scale = 1): InitializerSpec {
  const n = dims.reduce((a, b) => a * b, 1);
  return { name, elemType: 'FLOAT', dims, values: Float32Array.from({ length: n }, () => (random() * 2 - 1) * scale) };
}

/** L2 norm of each index along `axis` of a row-major tensor, computed directly. */
function norms(values: Float32Array, dims: readonly number[], axis: number): number[] {
  const out = new Array<number>(dims[axis]!).fill(0);
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  values.forEach((v, i) => (out[Math.floor(i / inner) % dims[axis]!]! += v * v));
  return out.map(Math.sqrt);
}

/**
 * The reference for structured pruning: the ORIGINAL model with the removed units' inputs to the
 * next layer set to zero. A removed unit reaches the output only through those weights, so the
 * pruned (smaller) model must compute the same outputs, up to float summation order.
 */
function zeroedReference(model: onnx.IModelProto, cuts: readonly { weight: string; axis: number; removed: readonly number[] }[]): Uint8Array {
  const copy = readModel(writeModel(model));
  for (const cut of cuts) {
    const t = initializer(copy, cut.weight);
    const dims = dimsOf(copy, cut.weight);
    const values = valuesOf(copy, cut.weight);
    const inner = dims.slice(cut.axis + 1).reduce((a, b) => a * b, 1);
    const removed = new Set(cut.removed);
    values.forEach((_, i) => {
      if (removed.has(Math.floor(i / inner) % dims[cut.axis]!)) values[i] = 0;
    });
    t.rawData = new Uint8Array(values.buffer);
    t.floatData = [];
  }
  return writeModel(copy);
}

function layer(report: PruneReport, node: string): PruneReport['layers'][number] {
  const l = report.layers.find((x) => x.node === node);
  assert.ok(l, `layer ${node} was pruned (pruned: ${report.layers.map((x) => x.node).join(', ')}; skipped: ${JSON.stringify(report.skipped)})`);
  return l;
}

void describe('zeroSmallest and sliceAxis', () => {
  void test('zeroSmallest zeroes exactly k values, the smallest in magnitude, ties in index order', () => {
    const values = Float32Array.from([0.5, -0.1, 0.3, -0.3, 0.2, 0, 0.9]);
    // |w| sorted: 0, 0.1, 0.2, 0.3, 0.3, 0.5, 0.9 → k = 4 reaches the first 0.3 (index 2)
    assert.deepEqual(Array.from(zeroSmallest(values, 4)), [0.5, 0, 0, -0.3, 0, 0, 0.9].map(Math.fround));
    assert.deepEqual(Array.from(zeroSmallest(values, 1)), Array.from(values), 'the existing zero is the smallest');
    assert.deepEqual(Array.from(zeroSmallest(values, 0)), Array.from(values));
    assert.deepEqual(Array.from(values), [0.5, -0.1, 0.3, -0.3, 0.2, 0, 0.9].map(Math.fround), 'input untouched');
  });

  void test('sliceAxis keeps the listed indices of one axis', () => {
    // [2, 3, 2]: element (a, b, c) = 100a + 10b + c
    const values = Float32Array.from([0, 1, 10, 11, 20, 21, 100, 101, 110, 111, 120, 121]);
    assert.deepEqual(sliceAxis(values, [2, 3, 2], 1, [0, 2]), { values: Float32Array.from([0, 1, 20, 21, 100, 101, 120, 121]), dims: [2, 2, 2] });
    assert.deepEqual(sliceAxis(values, [2, 3, 2], 2, [1]), { values: Float32Array.from([1, 11, 21, 101, 111, 121]), dims: [2, 3, 1] });
    assert.deepEqual(sliceAxis(values, [2, 3, 2], 0, [1]).values, values.subarray(6));
  });
});

void describe('unstructured magnitude pruning', () => {
  let digits: TrainedExample;
  before(async () => {
    digits = await example('digits');
  });

  void test('digits at 0.3 and 0.5: each weight reaches the sparsity within 1 %, only the smallest values go, biases stay', async (t) => {
    const original = readModel(digits.modelBytes);
    const input = heldOutInput(digits);
    const base = await runModel(digits.modelBytes, { input });
    for (const sparsity of [0.3, 0.5]) {
      const { model, report } = pruneModel(original, { sparsity });
      assert.deepEqual(report.tensors.map((x) => x.name), ['layer0.weight', 'layer1.weight']);
      for (const name of ['layer0.weight', 'layer1.weight']) {
        const before = valuesOf(original, name);
        const after = valuesOf(model, name);
        const zeros = after.filter((v) => v === 0).length;
        const reported = report.tensors.find((x) => x.name === name)!;
        assert.equal(reported.zeros, zeros);
        assert.ok(Math.abs(zeros / after.length - sparsity) <= 0.01, `${name}: ${zeros / after.length} for ${sparsity}`);
        // every removed magnitude ≤ every kept one; kept values unchanged
        let removedMax = 0;
        let keptMin = Infinity;
        before.forEach((v, i) => {
          if (after[i] === 0) removedMax = Math.max(removedMax, Math.abs(v));
          else {
            keptMin = Math.min(keptMin, Math.abs(v));
            assert.equal(after[i], v);
          }
        });
        assert.ok(removedMax <= keptMin, `${name}: removed up to ${removedMax}, kept from ${keptMin}`);
        assert.deepEqual(dimsOf(model, name), dimsOf(original, name));
      }
      for (const bias of ['layer0.bias', 'layer1.bias']) assert.deepEqual(valuesOf(model, bias), valuesOf(original, bias));
      const got = await runModel(writeModel(model), { input });
      assert.deepEqual(got.probabilities!.dims, base.probabilities!.dims);
      const agreement = argmaxAgreement(got.probabilities!.data, base.probabilities!.data, 10);
      t.diagnostic(`sparsity ${sparsity}: argmax agreement ${agreement}, accuracy ${accuracyOf(got.probabilities!.data, digits)} (original ${accuracyOf(base.probabilities!.data, digits)})`);
      // measured 0.992 at 0.25 and 0.969 at 0.5 on these rows
      assert.ok(agreement >= (sparsity <= 0.3 ? 0.97 : 0.93), `argmax agreement ${agreement} at ${sparsity}`);
    }
  });

  void test('heavy-conv at 0.5: every kernel half zero, the file gzips ≥ 25 % smaller, the model still runs', async (t) => {
    const heavy = buildHeavyConv();
    const { model, report } = pruneModel(readModel(heavy.modelBytes), { sparsity: 0.5 });
    assert.equal(report.tensors.length, 6);
    for (const x of report.tensors) assert.ok(Math.abs(x.sparsity - 0.5) <= 0.01, `${x.name}: ${x.sparsity}`);
    assert.equal(report.nonzeroWeights.after, report.nonzeroWeights.before - report.tensors.reduce((a, x) => a + Math.round(0.5 * x.elements), 0));
    const bytes = writeModel(model);
    // the raw size changes only by the metadata recorded: zeros take as many bytes as other floats
    assert.ok(Math.abs(bytes.length - heavy.modelBytes.length) < 1000, `${heavy.modelBytes.length} → ${bytes.length}`);
    const gz = [gzipSync(heavy.modelBytes).length, gzipSync(bytes).length] as const;
    t.diagnostic(`file ${heavy.modelBytes.length} → ${bytes.length} bytes, gzip ${gz[0]} → ${gz[1]} bytes`);
    assert.ok(gz[1] <= 0.75 * gz[0], `gzip ${gz[0]} → ${gz[1]}`);
    const request = heavy.request(2).inputs[0]!;
    const got = await runModel(bytes, { input: new ort.Tensor('float32', Float32Array.from(request.data), request.shape) });
    assert.deepEqual(got.probabilities!.dims, [2, 10]);
  });

  void test('reports the sparsity a weight has afterwards, counting zeros it already had (breast-cancer)', async () => {
    const e = await example('breast-cancer');
    const original = readModel(e.modelBytes);
    const name = 'layer0.weight';
    const zerosBefore = valuesOf(original, name).filter((v) => v === 0).length;
    const { model, report } = pruneModel(original, { sparsity: 0.1 });
    const zeros = valuesOf(model, name).filter((v) => v === 0).length;
    const n = valuesOf(model, name).length;
    assert.equal(report.tensors[0]!.zeros, zeros);
    assert.equal(zeros, Math.max(zerosBefore, Math.round(0.1 * n)));
    assert.equal(report.tensors[0]!.sparsity, zeros / n);
  });
});

function accuracyOf(probabilities: Float32Array, e: TrainedExample): number {
  return argmaxRows(probabilities, 10).filter((v, i) => v === e.yTest[i]).length / e.yTest.length;
}

void describe('structured pruning of the examples', () => {
  void test('digits at 0.5: the hidden layer shrinks 64 → 32, the weakest columns go, outputs match the zeroed reference', async (t) => {
    const e = await example('digits');
    const original = readModel(e.modelBytes);
    const { model, report } = pruneModel(original, { sparsity: 0.5, structured: true });
    const l = layer(report, 'layer0.gemm');
    assert.deepEqual(l.units, { before: 64, after: 32 });
    assert.deepEqual(l.through, ['Relu']);
    assert.equal(l.next, 'layer1.gemm');
    assert.deepEqual(dimsOf(model, 'layer0.weight'), [64, 32]);
    assert.deepEqual(dimsOf(model, 'layer0.bias'), [32]);
    assert.deepEqual(dimsOf(model, 'layer1.weight'), [32, 10]);
    // the removed columns are the 32 of smallest L2 norm (Gemm transB = 0: columns are units)
    const n = norms(valuesOf(original, 'layer0.weight'), [64, 64], 1);
    const weakest = [...n.keys()].sort((a, b) => n[a]! - n[b]!).slice(0, 32).sort((a, b) => a - b);
    assert.deepEqual(l.removed, weakest);
    assert.match(report.skipped.find((s) => s.node === 'layer1.gemm')!.reason, /Softmax/);

    const input = heldOutInput(e);
    const got = await runModel(writeModel(model), { input });
    const reference = await runModel(zeroedReference(original, [{ weight: 'layer1.weight', axis: 0, removed: l.removed }]), { input });
    assert.deepEqual(got.probabilities!.dims, [e.xTest.rows, 10]);
    assert.ok(maxAbsDiff(got.probabilities!.data, reference.probabilities!.data) <= 1e-5, `differs from the reference by ${maxAbsDiff(got.probabilities!.data, reference.probabilities!.data)}`);
    const base = await runModel(e.modelBytes, { input });
    t.diagnostic(`accuracy ${accuracyOf(base.probabilities!.data, e)} → ${accuracyOf(got.probabilities!.data, e)}, argmax agreement ${argmaxAgreement(got.probabilities!.data, base.probabilities!.data, 10)}`);
  });

  void test('bike-sharing at 0.25: 32 → 24 and 16 → 12, the output layer is reported as skipped', async (t) => {
    const e = await example('bike-sharing');
    const original = readModel(e.modelBytes);
    const { model, report } = pruneModel(original, { sparsity: 0.25, structured: true });
    assert.deepEqual(layer(report, 'layer0.gemm').units, { before: 32, after: 24 });
    assert.deepEqual(layer(report, 'layer1.gemm').units, { before: 16, after: 12 });
    assert.deepEqual(dimsOf(model, 'layer0.weight'), [35, 24]);
    assert.deepEqual(dimsOf(model, 'layer1.weight'), [24, 12]);
    assert.deepEqual(dimsOf(model, 'layer2.weight'), [12, 1]);
    assert.match(report.skipped.find((s) => s.node === 'layer2.gemm')!.reason, /goes to Exp/);
    assert.equal(report.nonzeroWeights.after, 35 * 24 + 24 * 12 + 12);

    const input = heldOutInput(e);
    const got = await runModel(writeModel(model), { input });
    const reference = await runModel(
      zeroedReference(original, [
        { weight: 'layer1.weight', axis: 0, removed: layer(report, 'layer0.gemm').removed },
        { weight: 'layer2.weight', axis: 0, removed: layer(report, 'layer1.gemm').removed },
      ]),
      { input },
    );
    assert.deepEqual(got.prediction!.dims, [e.xTest.rows, 1]);
    const worst = maxAbsDiff(got.prediction!.data, reference.prediction!.data);
    assert.ok(worst <= 1e-3 * Math.max(...reference.prediction!.data), `differs from the reference by ${worst}`);
    const base = await runModel(e.modelBytes, { input });
    t.diagnostic(`held-out RMSE ${rmse(e.yTest, base.prediction!.data)} → ${rmse(e.yTest, got.prediction!.data)}`);
  });

  void test('heavy-conv at 0.5: every convolution halves, through Relu, MaxPool, GlobalAveragePool and Flatten', async () => {
    const heavy = buildHeavyConv();
    const original = readModel(heavy.modelBytes);
    const { model, report } = pruneModel(original, { sparsity: 0.5, structured: true });
    assert.deepEqual(
      report.layers.map((l) => [l.node, l.units.after, l.through.join(' ')]),
      [
        ['conv0', 16, 'Relu'],
        ['conv1', 32, 'Relu'],
        ['conv2', 32, 'Relu MaxPool'],
        ['conv3', 64, 'Relu MaxPool'],
        ['conv4', 64, 'Relu GlobalAveragePool Flatten'],
      ],
    );
    assert.deepEqual(dimsOf(model, 'conv0.weight'), [16, 1, 3, 3]);
    assert.deepEqual(dimsOf(model, 'conv1.weight'), [32, 16, 3, 3]);
    assert.deepEqual(dimsOf(model, 'conv4.weight'), [64, 64, 3, 3]);
    assert.deepEqual(dimsOf(model, 'conv4.bias'), [64]);
    assert.deepEqual(dimsOf(model, 'fc.weight'), [10, 64]);
    assert.match(report.skipped.find((s) => s.node === 'fc')!.reason, /Softmax/);

    const request = heavy.request(4).inputs[0]!;
    const input = new ort.Tensor('float32', Float32Array.from(request.data), request.shape);
    const got = await runModel(writeModel(model), { input });
    const next = { conv0: 'conv1.weight', conv1: 'conv2.weight', conv2: 'conv3.weight', conv3: 'conv4.weight' } as Record<string, string>;
    const cuts = report.layers.map((l) => ({ weight: next[l.node] ?? 'fc.weight', axis: 1, removed: l.removed }));
    const reference = await runModel(zeroedReference(original, cuts), { input });
    assert.deepEqual(got.probabilities!.dims, [4, 10]);
    assert.ok(maxAbsDiff(got.probabilities!.data, reference.probabilities!.data) <= 1e-5, `differs from the reference by ${maxAbsDiff(got.probabilities!.data, reference.probabilities!.data)}`);
  });

  void test('breast-cancer has no layer feeding another: OPTIMIZE_NOTHING_TO_DO naming the reason', async () => {
    const e = await example('breast-cancer');
    assert.throws(
      () => pruneModel(readModel(e.modelBytes), { sparsity: 0.5, structured: true }),
      (error: unknown) => {
        assert.ok(error instanceof PlatformError && error.code === 'OPTIMIZE_NOTHING_TO_DO', String(error));
        assert.match(error.message, /layer0\.gemm \(Gemm\): its output goes to Softmax/);
        return true;
      },
    );
  });
});

void describe('structured pruning through other operators', () => {
  /** Conv → BatchNormalization → Relu → MaxPool → Mul(per-channel constant) → Conv → Relu → GlobalAveragePool → Flatten → Gemm (transB). */
  function convNet(): onnx.ModelProto {
    const r = seeded(51);
    const model = buildModelProto({
      graph: {
        inputs: [{ name: 'x', elemType: 'FLOAT', shape: ['batch', 2, 8, 8] }],
        outputs: [{ name: 'y', elemType: 'FLOAT', shape: ['batch', 4] }],
        nodes: [
          { name: 'conv_a', opType: 'Conv', inputs: ['x', 'Wa', 'ba'], outputs: ['a'], attributes: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } } },
          { name: 'bn', opType: 'BatchNormalization', inputs: ['a', 'gamma', 'beta', 'mean', 'var'], outputs: ['a_bn'] },
          { name: 'relu_a', opType: 'Relu', inputs: ['a_bn'], outputs: ['a_r'] },
          { name: 'pool', opType: 'MaxPool', inputs: ['a_r'], outputs: ['a_p'], attributes: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } } },
          { name: 'scale', opType: 'Mul', inputs: ['a_p', 'channel_scale'], outputs: ['a_s'] },
          { name: 'conv_b', opType: 'Conv', inputs: ['a_s', 'Wb', 'bb'], outputs: ['b'], attributes: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } } },
          { name: 'relu_b', opType: 'Relu', inputs: ['b'], outputs: ['b_r'] },
          { name: 'gap', opType: 'GlobalAveragePool', inputs: ['b_r'], outputs: ['g'] },
          { name: 'flat', opType: 'Flatten', inputs: ['g'], outputs: ['f'] },
          { name: 'fc', opType: 'Gemm', inputs: ['f', 'Wf', 'bf'], outputs: ['y'], attributes: { transB: { i: 1 } } },
        ],
        initializers: [
          float('Wa', [8, 2, 3, 3], r, 0.5),
          float('ba', [8], r, 0.1),
          float('gamma', [8], r),
          float('beta', [8], r),
          float('mean', [8], r, 0.1),
          { name: 'var', elemType: 'FLOAT', dims: [8], values: Float32Array.from({ length: 8 }, () => 0.5 + r()) },
          float('channel_scale', [1, 8, 1, 1], r),
          float('Wb', [6, 8, 3, 3], r, 0.3),
          float('bb', [6], r, 0.1),
          float('Wf', [4, 6], r),
          float('bf', [4], r),
        ],
      },
    });
    const vi = (name: string, dims: (number | string)[]): onnx.IValueInfoProto => ({
      name,
      type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
    });
    model.graph!.valueInfo = [vi('a', ['batch', 8, 8, 8]), vi('a_p', ['batch', 8, 4, 4]), vi('b', ['batch', 6, 4, 4]), vi('f', ['batch', 6]), vi('unrelated', [3])];
    return model;
  }

  void test('slices BatchNormalization and per-channel constants, updates value_info, matches the zeroed reference', async () => {
    const original = convNet();
    const { model, report } = pruneModel(original, { sparsity: 0.5, structured: true });
    assert.deepEqual(layer(report, 'conv_a').through, ['BatchNormalization', 'Relu', 'MaxPool', 'Mul']);
    assert.deepEqual(layer(report, 'conv_b').through, ['Relu', 'GlobalAveragePool', 'Flatten']);
    assert.deepEqual(layer(report, 'conv_b').units, { before: 6, after: 3 });
    for (const p of ['gamma', 'beta', 'mean', 'var', 'ba']) assert.deepEqual(dimsOf(model, p), [4]);
    assert.deepEqual(dimsOf(model, 'channel_scale'), [1, 4, 1, 1]);
    assert.deepEqual(dimsOf(model, 'Wb'), [3, 4, 3, 3]);
    assert.deepEqual(dimsOf(model, 'Wf'), [4, 3]);
    // the kept BatchNormalization entries are the original ones at the kept indices
    const removed = new Set(layer(report, 'conv_a').removed);
    const kept = [...Array(8).keys()].filter((i) => !removed.has(i));
    assert.deepEqual(Array.from(valuesOf(model, 'gamma')), kept.map((i) => valuesOf(original, 'gamma')[i]));
    const shapes = Object.fromEntries((model.graph!.valueInfo ?? []).map((v) => [v.name, v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))]));
    assert.deepEqual(shapes, { a: ['batch', 4, 8, 8], a_p: ['batch', 4, 4, 4], b: ['batch', 3, 4, 4], f: ['batch', 3], unrelated: [3] });

    const random = seeded(52);
    const x = new ort.Tensor('float32', Float32Array.from({ length: 3 * 2 * 64 }, () => random() * 2 - 1), [3, 2, 8, 8]);
    const got = await runModel(writeModel(model), { x });
    const reference = await runModel(
      zeroedReference(original, [
        { weight: 'Wb', axis: 1, removed: layer(report, 'conv_a').removed },
        { weight: 'Wf', axis: 1, removed: layer(report, 'conv_b').removed },
      ]),
      { x },
    );
    assert.ok(maxAbsDiff(got.y!.data, reference.y!.data) <= 1e-5, `differs from the reference by ${maxAbsDiff(got.y!.data, reference.y!.data)}`);
  });

  void test('MatMul layers with a bias Add (either operand order) and Tanh shrink and match the zeroed reference', async () => {
    const r = seeded(53);
    const original = buildModelProto({
      graph: {
        inputs: [{ name: 'x', elemType: 'FLOAT', shape: ['batch', 10] }],
        outputs: [{ name: 'y', elemType: 'FLOAT', shape: ['batch', 3] }],
        nodes: [
          { name: 'mm1', opType: 'MatMul', inputs: ['x', 'W1'], outputs: ['h'] },
          { name: 'add1', opType: 'Add', inputs: ['h', 'b1'], outputs: ['hb'] },
          { name: 'relu', opType: 'Relu', inputs: ['hb'], outputs: ['hr'] },
          { name: 'mm2', opType: 'MatMul', inputs: ['hr', 'W2'], outputs: ['h2'] },
          { name: 'add2', opType: 'Add', inputs: ['b2', 'h2'], outputs: ['h2b'] },
          { name: 'tanh', opType: 'Tanh', inputs: ['h2b'], outputs: ['h2t'] },
          { name: 'mm3', opType: 'MatMul', inputs: ['h2t', 'W3'], outputs: ['y'] },
        ],
        initializers: [float('W1', [10, 16], r), float('b1', [16], r), float('W2', [16, 8], r), float('b2', [8], r), float('W3', [8, 3], r)],
      },
    });
    const { model, report } = pruneModel(original, { sparsity: 0.25, structured: true });
    assert.deepEqual(report.layers.map((l) => [l.node, l.units.after, l.through.join(' ')]), [
      ['mm1', 12, 'Add Relu'],
      ['mm2', 6, 'Add Tanh'],
    ]);
    assert.deepEqual([dimsOf(model, 'W1'), dimsOf(model, 'b1'), dimsOf(model, 'W2'), dimsOf(model, 'b2'), dimsOf(model, 'W3')], [[10, 12], [12], [12, 6], [6], [6, 3]]);
    assert.match(report.skipped.find((s) => s.node === 'mm3')!.reason, /graph output 'y'/);
    const x = new ort.Tensor('float32', Float32Array.from({ length: 50 }, () => r() * 2 - 1), [5, 10]);
    const got = await runModel(writeModel(model), { x });
    const reference = await runModel(
      zeroedReference(original, [
        { weight: 'W2', axis: 0, removed: layer(report, 'mm1').removed },
        { weight: 'W3', axis: 0, removed: layer(report, 'mm2').removed },
      ]),
      { x },
    );
    assert.ok(maxAbsDiff(got.y!.data, reference.y!.data) <= 1e-5, `differs from the reference by ${maxAbsDiff(got.y!.data, reference.y!.data)}`);
  });

  void test('refuses to follow branches, Concat, Reshape, a second input, spatial Flatten and shared weights, and says so', () => {
    const r = seeded(54);
    const model = buildModelProto({
      graph: {
        inputs: [
          { name: 'x', elemType: 'FLOAT', shape: ['batch', 8] },
          { name: 'x2', elemType: 'FLOAT', shape: ['batch', 16] },
          { name: 'z', elemType: 'FLOAT', shape: ['batch', 1, 4, 4] },
        ],
        outputs: ['y', 'yz', 'o1', 'o2'].map((name) => ({ name, elemType: 'FLOAT' as const, shape: ['batch', null] })),
        nodes: [
          { name: 'g1', opType: 'Gemm', inputs: ['x', 'W1'], outputs: ['h1'] },
          { name: 'relu1', opType: 'Relu', inputs: ['h1'], outputs: ['r1'] },
          { name: 'sig1', opType: 'Sigmoid', inputs: ['h1'], outputs: ['s1'] },
          { name: 'g2', opType: 'Gemm', inputs: ['r1', 'W2'], outputs: ['h2'] },
          { name: 'cat', opType: 'Concat', inputs: ['h2', 's1'], outputs: ['cat'], attributes: { axis: { i: 1 } } },
          { name: 'g3', opType: 'Gemm', inputs: ['cat', 'W3'], outputs: ['h3'] },
          { name: 'add', opType: 'Add', inputs: ['h3', 'x2'], outputs: ['sum'] },
          { name: 'g4', opType: 'Gemm', inputs: ['sum', 'W4'], outputs: ['h4'] },
          { name: 'reshape', opType: 'Reshape', inputs: ['h4', 'shape'], outputs: ['rs'] },
          { name: 'g5', opType: 'Gemm', inputs: ['rs', 'W5'], outputs: ['y'] },
          { name: 'conv', opType: 'Conv', inputs: ['z', 'Wc'], outputs: ['c'], attributes: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } } },
          { name: 'flat', opType: 'Flatten', inputs: ['c'], outputs: ['fz'] },
          { name: 'gz', opType: 'Gemm', inputs: ['fz', 'Wz'], outputs: ['yz'] },
          { name: 'shared_a', opType: 'MatMul', inputs: ['x', 'Ws'], outputs: ['o1'] },
          { name: 'shared_b', opType: 'MatMul', inputs: ['x', 'Ws'], outputs: ['o2'] },
        ],
        initializers: [
          float('W1', [8, 16], r),
          float('W2', [16, 16], r),
          float('W3', [32, 16], r),
          float('W4', [16, 16], r),
          { name: 'shape', elemType: 'INT64', dims: [2], values: [-1, 16] },
          float('W5', [16, 4], r),
          float('Wc', [4, 1, 3, 3], r),
          float('Wz', [64, 2], r),
          float('Ws', [8, 4], r),
        ],
      },
    });
    assert.throws(
      () => pruneModel(model, { sparsity: 0.5, structured: true }),
      (error: unknown) => {
        assert.ok(error instanceof PlatformError && error.code === 'OPTIMIZE_NOTHING_TO_DO', String(error));
        const reasons = Object.fromEntries((error.details?.skipped as { node: string; reason: string }[]).map((s) => [s.node, s.reason]));
        assert.match(reasons.g1!, /feeds 2 nodes \(Relu, Sigmoid\)/);
        assert.match(reasons.g2!, /goes to Concat 'cat'/);
        assert.match(reasons.g3!, /another branch/);
        assert.match(reasons.g4!, /goes to Reshape 'reshape'/);
        assert.match(reasons.g5!, /graph output 'y'/);
        assert.match(reasons.conv!, /Flatten.*mix units with spatial positions/);
        assert.match(reasons.gz!, /graph output 'yz'/);
        assert.match(reasons.shared_a!, /shared/);
        assert.match(reasons.shared_b!, /shared/);
        assert.equal(Object.keys(reasons).length, 9);
        return true;
      },
    );
  });
});

void describe('options, records and composition', () => {
  const small = (): onnx.ModelProto => {
    const r = seeded(61);
    return buildModelProto({
      graph: {
        inputs: [{ name: 'x', elemType: 'FLOAT', shape: ['batch', 8] }],
        outputs: [{ name: 'y', elemType: 'FLOAT', shape: ['batch', 4] }],
        nodes: [
          { name: 'g1', opType: 'Gemm', inputs: ['x', 'W1', 'b1'], outputs: ['h'] },
          { name: 'relu', opType: 'Relu', inputs: ['h'], outputs: ['hr'] },
          { name: 'g2', opType: 'Gemm', inputs: ['hr', 'W2', 'b2'], outputs: ['y'] },
        ],
        initializers: [float('W1', [8, 32], r), float('b1', [32], r), float('W2', [32, 4], r), float('b2', [4], r)],
      },
    });
  };

  void test('invalid options are OPTIMIZE_INVALID_OPTIONS naming the field', () => {
    const model = small();
    for (const sparsity of [1.5, 0, 1, -0.2, Number.NaN]) assert.throws(() => pruneModel(model, { sparsity }), expectCode('OPTIMIZE_INVALID_OPTIONS', 'sparsity'));
    assert.throws(() => pruneModel(model, { sparsity: '0.5' as unknown as number }), expectCode('OPTIMIZE_INVALID_OPTIONS', 'sparsity'));
    assert.throws(() => pruneModel(model, { sparsity: 0.5, structured: 'yes' as unknown as boolean }), expectCode('OPTIMIZE_INVALID_OPTIONS', 'structured'));
    assert.throws(() => pruneModel(model, { sparsity: 0.5, minElements: 2.5 }), expectCode('OPTIMIZE_INVALID_OPTIONS', 'minElements'));
    assert.throws(() => pruneModel(model, { sparsity: 0.5, amount: 3 } as unknown as PruneOptions), expectCode('OPTIMIZE_INVALID_OPTIONS', 'amount'));
    assert.throws(() => pruneModel(model, undefined as unknown as PruneOptions), expectCode('OPTIMIZE_INVALID_OPTIONS', 'options'));
  });

  void test('a model without Gemm, MatMul or Conv weights is OPTIMIZE_NOTHING_TO_DO', () => {
    const plain = buildModelProto({
      graph: { inputs: [{ name: 'x', elemType: 'FLOAT', shape: [2] }], outputs: [{ name: 'y', elemType: 'FLOAT', shape: [2] }], nodes: [{ opType: 'Relu', inputs: ['x'], outputs: ['y'] }] },
    });
    assert.throws(() => pruneModel(plain, { sparsity: 0.5 }), expectCode('OPTIMIZE_NOTHING_TO_DO'));
    assert.throws(() => pruneModel(plain, { sparsity: 0.5, structured: true }), expectCode('OPTIMIZE_NOTHING_TO_DO'));
  });

  void test('records the pruning in metadata_props and leaves the input model as it was', () => {
    const model = small();
    const snapshot = writeModel(model);
    const { model: pruned } = pruneModel(model, { sparsity: 0.5, structured: true });
    assert.deepEqual(writeModel(model), snapshot);
    assert.equal(metadata(pruned, PRUNING_METADATA_KEY), 'structured');
    const steps = JSON.parse(metadata(pruned, OPTIMIZE_METADATA_KEY)!) as { step: string; method: string; sparsity: number; layers: { node: string; units: unknown }[] }[];
    assert.deepEqual(steps, [
      {
        step: 'prune',
        method: 'structured-l2',
        sparsity: 0.5,
        layers: [{ node: 'g1', units: { before: 32, after: 16 } }],
        skipped: 1,
        nonzeroWeights: { before: 8 * 32 + 32 * 4, after: 8 * 16 + 16 * 4 },
      },
    ]);
    assert.equal(metadata(pruneModel(model, { sparsity: 0.5 }).model, PRUNING_METADATA_KEY), 'unstructured');
  });

  void test('a structurally pruned model quantizes and runs, with both steps recorded', async () => {
    const model = small();
    const pruned = pruneModel(model, { sparsity: 0.5, structured: true }).model;
    const { model: q, report } = quantizeModel(pruned, { mode: 'dynamic' });
    assert.deepEqual(report.rewritten, { Gemm: 2 });
    assert.deepEqual((JSON.parse(metadata(q, OPTIMIZE_METADATA_KEY)!) as { step: string }[]).map((s) => s.step), ['prune', 'quantize']);
    const r = seeded(62);
    const x = new ort.Tensor('float32', Float32Array.from({ length: 32 }, () => r() * 2 - 1), [4, 8]);
    const expected = await runModel(writeModel(pruned), { x });
    const got = await runModel(writeModel(q), { x });
    assert.deepEqual(got.y!.dims, [4, 4]);
    assert.ok(maxAbsDiff(got.y!.data, expected.y!.data) <= 0.05 * Math.max(...expected.y!.data.map(Math.abs)), `differs by ${maxAbsDiff(got.y!.data, expected.y!.data)}`);
  });
});
