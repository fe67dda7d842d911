import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { PlatformError } from '../../../src/core/index.js';
import { buildHeavyConv, rmse, type ExampleName, type TrainedExample } from '../../../src/examples/index.js';
import { buildModelProto, findUnknownFields, inspectModel, onnx, readModel, writeModel, type InitializerSpec, type NodeSpec } from '../../../src/onnx/index.js';
import {
  OPTIMIZE_METADATA_KEY,
  QUANTIZATION_METADATA_KEY,
  needsQdqDisable,
  pruneModel,
  quantizeModel,
  quantizeSymmetric,
  sessionConfigFor,
  type QuantizeMode,
} from '../../../src/optimize/index.js';
import {
  argmaxAgreement,
  argmaxRows,
  dimsOf,
  example,
  heldOutInput,
  maxAbsDiff,
  meanAbsDiff,
  metadata,
  opTypes,
  relativeRmse,
  runModel,
  seeded,
  valuesOf,
} from './helpers.js';

const QDQ_OFF = { disable_quant_qdq: '1' };

function expectCode(code: string, field?: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof PlatformError, `expected a PlatformError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (field !== undefined) assert.match(error.message, new RegExp(`\\b${field}\\b`));
    return true;
  };
}

/** Integers in [lo, hi] with both ends present, so DynamicQuantizeLinear's grid is exactly the integers. */
function integerGrid(n: number, lo: number, hi: number, random: () => number): Float32Array {
  const v = Float32Array.from({ length: n }, () => lo + Math.floor(random() * (hi - lo + 1)));
  v[0] = lo;
  v[n - 1] = hi;
  return v;
}

/**
 * A weight whose every output channel lies on its own symmetric int8 grid: integers in ±127 times
 * a power of two per channel, with ±127 present, so per-channel int8 quantisation is exact.
 */
function channelGridWeight(dims: readonly number[], axis: number, scales: readonly number[], random: () => number): Float32Array {
  const n = dims.reduce((a, b) => a * b, 1);
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channels = dims[axis] ?? 1;
  const out = new Float32Array(n);
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const c = Math.floor(i / inner) % channels;
    const s = scales[c] ?? 1;
    // the first value of each channel is the extreme, the rest random integers
    out[i] = (seen.has(c) ? Math.round((random() * 2 - 1) * 127) : random() < 0.5 ? -127 : 127) * s;
    seen.add(c);
  }
  return out;
}

function float(name: string, dims: number[], values: ArrayLike<number>): InitializerSpec {
  return { name, elemType: 'FLOAT', dims, values };
}

/** A MatMul and a Gemm (transB = 1, alpha 0.5, beta 2) reading the same input, on exact grids. */
function gridDenseModel(random: () => number): onnx.ModelProto {
  const k = 6;
  return buildModelProto({
    graph: {
      inputs: [{ name: 'x', elemType: 'FLOAT', shape: ['batch', k] }],
      outputs: [
        { name: 'mm', elemType: 'FLOAT', shape: ['batch', 4] },
        { name: 'gemm', elemType: 'FLOAT', shape: ['batch', 3] },
      ],
      nodes: [
        { name: 'matmul', opType: 'MatMul', inputs: ['x', 'W'], outputs: ['mm'] },
        { name: 'gemm', opType: 'Gemm', inputs: ['x', 'B', 'C'], outputs: ['gemm'], attributes: { transB: { i: 1 }, alpha: { f: 0.5 }, beta: { f: 2 } } },
      ],
      initializers: [
        // MatMul W [K, N]: output channels are columns (axis 1)
        float('W', [k, 4], channelGridWeight([k, 4], 1, [1, 0.5, 0.25, 2], random)),
        // Gemm B with transB = 1 is [N, K]: output channels are rows (axis 0)
        float('B', [3, k], channelGridWeight([3, k], 0, [0.25, 1, 0.5], random)),
        float('C', [3], [0.3, -1.7, 2.9]),
      ],
    },
    opsets: [{ domain: '', version: 13 }],
  });
}

/** Two convolutions (3×3 pads 1, then 3×3 stride 2) with biases, on exact grids. */
function gridConvModel(random: () => number): onnx.ModelProto {
  return buildModelProto({
    graph: {
      inputs: [{ name: 'x', elemType: 'FLOAT', shape: ['batch', 2, 6, 6] }],
      outputs: [
        { name: 'y1', elemType: 'FLOAT', shape: ['batch', 3, 6, 6] },
        { name: 'y2', elemType: 'FLOAT', shape: ['batch', 2, 2, 2] },
        { name: 'y3', elemType: 'FLOAT', shape: ['batch', 4, 6, 6] },
      ],
      nodes: [
        { name: 'conv_a', opType: 'Conv', inputs: ['x', 'Wa', 'ba'], outputs: ['y1'], attributes: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } } },
        { name: 'conv_b', opType: 'Conv', inputs: ['x', 'Wb'], outputs: ['y2'], attributes: { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] } } },
        // grouped (depthwise with multiplier 2): each input channel has its own two filters
        { name: 'conv_c', opType: 'Conv', inputs: ['x', 'Wc'], outputs: ['y3'], attributes: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] }, group: { i: 2 } } },
      ],
      initializers: [
        float('Wa', [3, 2, 3, 3], channelGridWeight([3, 2, 3, 3], 0, [1, 0.5, 0.25], random)),
        float('ba', [3], [0.5, -0.25, 1.5]),
        float('Wb', [2, 2, 3, 3], channelGridWeight([2, 2, 3, 3], 0, [0.5, 0.5], random)),
        float('Wc', [4, 1, 3, 3], channelGridWeight([4, 1, 3, 3], 0, [1, 0.25, 0.5, 2], random)),
      ],
    },
    opsets: [{ domain: '', version: 13 }],
  });
}

void describe('quantizeSymmetric', () => {
  void test('gives each channel scale max|w| / 127 and rounds every value to within half a step', () => {
    const values = Float32Array.from([0.6, -1, 0.25, 0, 0.1, -0.25, 127, 0.5, -2.5]);
    const { q, scales } = quantizeSymmetric(values, [3, 3], 0);
    assert.deepEqual(Array.from(scales), [1 / 127, 0.25 / 127, 1].map(Math.fround));
    // hand-computed: 0.6 · 127 = 76.2 → 76; 0.25 · 127 = 31.75 → 32; 0.1 / (0.25 / 127) = 50.8 → 51
    assert.deepEqual(Array.from(q.subarray(0, 3)), [76, -127, 32]);
    assert.deepEqual(Array.from(q.subarray(3, 6)), [0, 51, -127]);
    // scale 1 exactly: halves round away from zero
    assert.deepEqual(Array.from(q.subarray(6)), [127, 1, -3]);
    for (let i = 0; i < values.length; i++) {
      const s = scales[Math.floor(i / 3)]!;
      assert.ok(Math.abs(q[i]! * s - values[i]!) <= s / 2 + 1e-9, `value ${i} is within half a step`);
    }
  });

  void test('per tensor uses one scale, and an all-zero tensor gets scale 1 and zeros', () => {
    const { q, scales } = quantizeSymmetric(Float32Array.from([1, -2, 4, 0]), [2, 2], null);
    assert.deepEqual(Array.from(scales), [Math.fround(4 / 127)]);
    assert.deepEqual(Array.from(q), [32, -64, 127, 0]);
    const zero = quantizeSymmetric(new Float32Array(4), [4], null);
    assert.deepEqual(Array.from(zero.scales), [1]);
    assert.deepEqual(Array.from(zero.q), [0, 0, 0, 0]);
  });
});

void describe('dynamic quantization on exact grids', () => {
  // With inputs that are integers in [−128, 127] (both present), DynamicQuantizeLinear picks scale
  // 1 and zero point 128, and weights that are integers × a power of two per channel quantise
  // without error: the integer graph must then reproduce the float graph to rounding, which checks
  // the rewrite's algebra (transB, alpha, beta, bias, per-channel scales, padding with the zero point).
  void test('MatMul and Gemm (transB = 1, alpha 0.5, beta 2, bias) match the float model', async () => {
    const random = seeded(11);
    const model = gridDenseModel(random);
    const { model: q, report } = quantizeModel(model, { mode: 'dynamic' });
    assert.deepEqual(report.rewritten, { MatMul: 1, Gemm: 1 });
    assert.equal(opTypes(q).filter((o) => o === 'DynamicQuantizeLinear').length, 1, 'the shared input is quantised once');
    assert.equal(opTypes(q).filter((o) => o === 'MatMulInteger').length, 2);
    assert.ok(!opTypes(q).includes('Gemm') && !opTypes(q).includes('MatMul'), `float layers left: ${opTypes(q).join(', ')}`);
    // the transposed Gemm weight is stored [K, N] for MatMulInteger
    assert.deepEqual(dimsOf(q, 'B_quantized'), [6, 3]);

    const x = new ort.Tensor('float32', integerGrid(5 * 6, -128, 127, random), [5, 6]);
    const expected = await runModel(writeModel(model), { x });
    const got = await runModel(writeModel(q), { x });
    // reference by hand in float64: gemm = 0.5 · x·Bᵀ + 2 · C
    const xs = x.data;
    const b = valuesOf(model, 'B');
    const c = [0.3, -1.7, 2.9];
    for (let r = 0; r < 5; r++) {
      for (let n = 0; n < 3; n++) {
        let dot = 0;
        for (let k = 0; k < 6; k++) dot += xs[r * 6 + k]! * b[n * 6 + k]!;
        assert.ok(Math.abs(got.gemm!.data[r * 3 + n]! - (0.5 * dot + 2 * c[n]!)) <= 1e-3, `gemm[${r}, ${n}] = ${got.gemm!.data[r * 3 + n]}, expected ${0.5 * dot + 2 * c[n]!}`);
      }
    }
    assert.ok(maxAbsDiff(got.mm!.data, expected.mm!.data) <= 1e-3, `MatMul differs by ${maxAbsDiff(got.mm!.data, expected.mm!.data)}`);
    assert.ok(maxAbsDiff(got.gemm!.data, expected.gemm!.data) <= 1e-3, `Gemm differs by ${maxAbsDiff(got.gemm!.data, expected.gemm!.data)}`);
  });

  void test('Conv with padding, stride, groups and bias matches the float model (padding takes the zero point)', async () => {
    const random = seeded(12);
    const model = gridConvModel(random);
    const { model: q, report } = quantizeModel(model, { mode: 'dynamic' });
    assert.deepEqual(report.rewritten, { Conv: 3 });
    assert.equal(opTypes(q).filter((o) => o === 'ConvInteger').length, 3);
    // kernels stored as uint8 around zero point 128 (the faster ConvInteger kernel)
    const wq = (q.graph!.initializer ?? []).find((t) => t.name === 'Wa_quantized')!;
    assert.equal(wq.dataType, onnx.TensorProto.DataType.UINT8);
    assert.deepEqual(Array.from(valuesOf(q, 'Wa_zero_point')), [128]);
    assert.deepEqual(dimsOf(q, 'Wa_scale'), [1, 3, 1, 1]);

    const x = new ort.Tensor('float32', integerGrid(2 * 2 * 6 * 6, -128, 127, random), [2, 2, 6, 6]);
    const expected = await runModel(writeModel(model), { x });
    const got = await runModel(writeModel(q), { x });
    assert.deepEqual(got.y1!.dims, [2, 3, 6, 6]);
    assert.ok(maxAbsDiff(got.y1!.data, expected.y1!.data) <= 1e-3, `y1 differs by ${maxAbsDiff(got.y1!.data, expected.y1!.data)}`);
    assert.ok(maxAbsDiff(got.y2!.data, expected.y2!.data) <= 1e-3, `y2 differs by ${maxAbsDiff(got.y2!.data, expected.y2!.data)}`);
    assert.ok(maxAbsDiff(got.y3!.data, expected.y3!.data) <= 1e-3, `y3 differs by ${maxAbsDiff(got.y3!.data, expected.y3!.data)}`);
  });

  void test('per-tensor scales are exact too when every channel shares the grid, and inexact when they do not', async () => {
    const random = seeded(13);
    const model = gridDenseModel(random);
    const x = new ort.Tensor('float32', integerGrid(4 * 6, -128, 127, random), [4, 6]);
    const expected = await runModel(writeModel(model), { x });
    const got = await runModel(writeModel(quantizeModel(model, { mode: 'dynamic', perChannel: false }).model), { x });
    // W's columns have scales 1, 0.5, 0.25, 2: one shared scale (2) rounds the finer columns
    assert.ok(maxAbsDiff(got.mm!.data, expected.mm!.data) > 1, `per-tensor MatMul differs by only ${maxAbsDiff(got.mm!.data, expected.mm!.data)}`);
    const perChannel = await runModel(writeModel(quantizeModel(model, { mode: 'dynamic', perChannel: true }).model), { x });
    assert.ok(maxAbsDiff(perChannel.mm!.data, expected.mm!.data) <= 1e-3, `per-channel MatMul differs by ${maxAbsDiff(perChannel.mm!.data, expected.mm!.data)}`);
  });
});

void describe('weight-int8 quantization', () => {
  void test('keeps the graph and rebuilds each weight under its name with DequantizeLinear, per output channel', async () => {
    const random = seeded(21);
    const model = gridDenseModel(random);
    const { model: q, report } = quantizeModel(model, { mode: 'weight-int8' });
    assert.deepEqual(opTypes(q), ['DequantizeLinear', 'DequantizeLinear', 'MatMul', 'Gemm']);
    const dq = q.graph!.node!.filter((n) => n.opType === 'DequantizeLinear');
    assert.deepEqual(dq.map((n) => n.output?.[0]), ['W', 'B']);
    // axis: MatMul W [K, N] → 1; Gemm B with transB = 1 → 0
    assert.deepEqual(dq.map((n) => Number(n.attribute?.find((a) => a.name === 'axis')?.i)), [1, 0]);
    assert.deepEqual(report.weights.map((w) => [w.name, w.axis]), [['W', 1], ['B', 0]]);
    assert.ok(!(q.graph!.initializer ?? []).some((t) => t.name === 'W' || t.name === 'B'), 'the float weights are gone');
    const x = new ort.Tensor('float32', integerGrid(3 * 6, -128, 127, random), [3, 6]);
    const expected = await runModel(writeModel(model), { x });
    // with disable_quant_qdq the dequantised weights are used as floats: exact on this grid
    const exact = await runModel(writeModel(q), { x }, QDQ_OFF);
    assert.ok(maxAbsDiff(exact.mm!.data, expected.mm!.data) <= 1e-3, `MatMul differs by ${maxAbsDiff(exact.mm!.data, expected.mm!.data)}`);
    assert.ok(maxAbsDiff(exact.gemm!.data, expected.gemm!.data) <= 1e-3, `Gemm differs by ${maxAbsDiff(exact.gemm!.data, expected.gemm!.data)}`);
    // without it onnxruntime fuses DequantizeLinear → MatMul into an integer kernel that quantises
    // the activations as well, so the result is close but no longer exact
    const fused = await runModel(writeModel(q), { x });
    assert.ok(relativeRmse(fused.mm!.data, expected.mm!.data) <= 0.01, `fused MatMul relative RMSE ${relativeRmse(fused.mm!.data, expected.mm!.data)}`);
    assert.ok(relativeRmse(fused.gemm!.data, expected.gemm!.data) <= 0.01, `fused Gemm relative RMSE ${relativeRmse(fused.gemm!.data, expected.gemm!.data)}`);
  });

  void test('stores int8 values within half a step of every original weight, scale max|w| / 127 per channel', async () => {
    const e = await example('digits');
    const original = readModel(e.modelBytes);
    const { model: q } = quantizeModel(original, { mode: 'weight-int8' });
    for (const name of ['layer0.weight', 'layer1.weight']) {
      const w = valuesOf(original, name);
      const [rows, cols] = dimsOf(original, name) as [number, number];
      const values = valuesOf(q, `${name}_quantized`);
      const scales = valuesOf(q, `${name}_scale`);
      assert.equal(scales.length, cols, 'Gemm transB = 0: one scale per column');
      for (let c = 0; c < cols; c++) {
        let max = 0;
        for (let r = 0; r < rows; r++) max = Math.max(max, Math.abs(w[r * cols + c]!));
        assert.equal(scales[c], Math.fround(max / 127));
      }
      for (let i = 0; i < w.length; i++) {
        const s = scales[i % cols]!;
        assert.ok(Number.isInteger(values[i]) && Math.abs(values[i]!) <= 127, `${name} quantized[${i}] = ${values[i]}`);
        assert.ok(Math.abs(values[i]! * s - w[i]!) <= s / 2 + 1e-7, `${name}[${i}]`);
      }
    }
  });
});

interface Measured {
  readonly name: string;
  readonly mode: QuantizeMode;
  readonly maxAbs: number;
  readonly meanAbs: number;
  readonly agreement: number;
  readonly accuracy?: readonly [number, number];
  readonly relRmse?: number;
  readonly rmse?: readonly [number, number];
  /** File bytes before and after. */
  readonly bytes: readonly [number, number];
}

void describe('quantized examples stay within the error budget', () => {
  const trained = new Map<ExampleName, TrainedExample>();
  before(async () => {
    for (const name of ['breast-cancer', 'digits', 'bike-sharing'] as const) trained.set(name, await example(name));
  });

  /** Runs the original and the quantised model on the held-out rows (weight-int8 with the QDQ fusion off, as the runtime will). */
  async function measure(name: ExampleName, mode: QuantizeMode): Promise<Measured> {
    const e = trained.get(name)!;
    const input = heldOutInput(e);
    const { model } = quantizeModel(readModel(e.modelBytes), { mode });
    const written = writeModel(model);
    const bytes = [e.modelBytes.length, written.length] as const;
    const base = await runModel(e.modelBytes, { input });
    const got = await runModel(written, { input }, mode === 'weight-int8' ? QDQ_OFF : undefined);
    if (name === 'bike-sharing') {
      const a = got.prediction!.data;
      const b = base.prediction!.data;
      return { name, mode, maxAbs: maxAbsDiff(a, b), meanAbs: meanAbsDiff(a, b), agreement: 1, relRmse: relativeRmse(a, b), rmse: [rmse(e.yTest, b), rmse(e.yTest, a)], bytes };
    }
    const a = got.probabilities!.data;
    const b = base.probabilities!.data;
    const cols = name === 'digits' ? 10 : 2;
    const hits = (p: Float32Array): number => argmaxRows(p, cols).filter((v, i) => v === e.yTest[i]).length / e.yTest.length;
    assert.deepEqual(Array.from(got.label!.data), argmaxRows(a, cols), 'label is the argmax of the probabilities');
    return { name, mode, maxAbs: maxAbsDiff(a, b), meanAbs: meanAbsDiff(a, b), agreement: argmaxAgreement(a, b, cols), accuracy: [hits(b), hits(a)], bytes };
  }

  // Bounds, from runs on these held-out rows with margin (measured values are printed as diagnostics):
  // classifiers: the same argmax on ≥ 99 % of rows, held-out accuracy within 1 point, mean |Δp| ≤ 0.01,
  // max |Δp| ≤ 0.02 (weight-int8) or ≤ 0.15 (dynamic: the activations are quantised too, per tensor);
  // bike-sharing: prediction relative RMSE ≤ 0.03 against the original, held-out RMSE within 3 %.
  for (const mode of ['dynamic', 'weight-int8'] as const) {
    for (const name of ['breast-cancer', 'digits'] as const) {
      void test(`${name}, ${mode}: same label on ≥ 99 % of held-out rows, probabilities close, accuracy within 1 point`, async (t) => {
        const m = await measure(name, mode);
        t.diagnostic(JSON.stringify(m));
        assert.ok(m.agreement >= 0.99, `argmax agreement ${m.agreement}`);
        assert.ok(m.meanAbs <= 0.01, `mean |Δp| ${m.meanAbs}`);
        assert.ok(m.maxAbs <= (mode === 'dynamic' ? 0.15 : 0.02), `max |Δp| ${m.maxAbs}`);
        const [acc0, acc1] = m.accuracy!;
        assert.ok(Math.abs(acc1 - acc0) <= 0.01, `accuracy ${acc0} → ${acc1}`);
      });
    }
    void test(`bike-sharing, ${mode}: predictions within 3 % relative RMSE, held-out RMSE within 3 %`, async (t) => {
      const m = await measure('bike-sharing', mode);
      t.diagnostic(JSON.stringify(m));
      assert.ok(m.relRmse! <= 0.03, `relative RMSE ${m.relRmse}`);
      const [r0, r1] = m.rmse!;
      assert.ok(Math.abs(r1 - r0) / r0 <= 0.03, `held-out RMSE ${r0} → ${r1}`);
    });
  }

  void test('per-channel scales beat per-tensor ones on digits and bike-sharing (weight-int8; dynamic printed)', async (t) => {
    for (const name of ['digits', 'bike-sharing'] as const) {
      const e = trained.get(name)!;
      const input = heldOutInput(e);
      const out = name === 'digits' ? 'probabilities' : 'prediction';
      const base = (await runModel(e.modelBytes, { input }))[out]!.data;
      const errors: Record<string, number> = {};
      for (const mode of ['weight-int8', 'dynamic'] as const) {
        for (const perChannel of [false, true]) {
          const { model } = quantizeModel(readModel(e.modelBytes), { mode, perChannel });
          const got = (await runModel(writeModel(model), { input }, mode === 'weight-int8' ? QDQ_OFF : undefined))[out]!.data;
          errors[`${mode} ${perChannel ? 'per-channel' : 'per-tensor'}`] = relativeRmse(got, base);
        }
      }
      t.diagnostic(`${name} relative RMSE of the outputs: ${JSON.stringify(errors)}`);
      // weight-int8 with the QDQ fusion off is float arithmetic on the dequantised weights: only
      // the weight rounding differs, and per-channel rounding is finer in every channel
      assert.ok(errors['weight-int8 per-channel']! < errors['weight-int8 per-tensor']!, `${name}: ${JSON.stringify(errors)}`);
    }
  });

  void test('digits weight-int8: the weights are ≥ 60 % smaller, in the report and in the written file', async (t) => {
    const e = trained.get('digits')!;
    const { model, report } = quantizeModel(readModel(e.modelBytes), { mode: 'weight-int8' });
    assert.deepEqual(report.rewritten, { Gemm: 2 });
    assert.equal(report.weightBytes.before, (64 * 64 + 64 * 10) * 4);
    // int8 values plus one float scale per column: 4736 + 4 · (64 + 10)
    assert.equal(report.weightBytes.after, 64 * 64 + 64 * 10 + 4 * (64 + 10));
    assert.ok(report.weightBytes.after <= 0.4 * report.weightBytes.before, `${report.weightBytes.before} → ${report.weightBytes.after} bytes`);
    const bytes = writeModel(model);
    const before = inspectModel(e.modelBytes).initializers.bytes;
    const after = inspectModel(bytes).initializers.bytes;
    assert.equal(before - after, report.initializerBytes.before - report.initializerBytes.after);
    t.diagnostic(`weights ${report.weightBytes.before} → ${report.weightBytes.after} bytes, file ${e.modelBytes.length} → ${bytes.length} bytes`);
    assert.ok(bytes.length < 0.5 * e.modelBytes.length, `${e.modelBytes.length} → ${bytes.length} bytes`);
  });
});

void describe('heavy-conv (Conv ×5, Gemm)', () => {
  const heavy = buildHeavyConv();
  const request = heavy.request(16).inputs[0]!;
  const input = new ort.Tensor('float32', Float32Array.from(request.data), request.shape);
  let base: Awaited<ReturnType<typeof runModel>>;
  before(async () => {
    base = await runModel(heavy.modelBytes, { input });
  });

  for (const mode of ['dynamic', 'weight-int8'] as const) {
    void test(`${mode}: rewrites every layer, keeps the label on every row and the probabilities within 0.02`, async (t) => {
      const { model, report } = quantizeModel(readModel(heavy.modelBytes), { mode });
      assert.deepEqual(report.rewritten, { Conv: 5, Gemm: 1 });
      assert.deepEqual(report.skipped, []);
      const configs = mode === 'weight-int8' ? [QDQ_OFF, undefined] : [undefined];
      for (const config of configs) {
        const got = await runModel(writeModel(model), { input }, config);
        const maxAbs = maxAbsDiff(got.probabilities!.data, base.probabilities!.data);
        t.diagnostic(`${mode} ${config ? 'disable_quant_qdq' : 'default'}: max |Δp| ${maxAbs}, relative RMSE ${relativeRmse(got.probabilities!.data, base.probabilities!.data)}`);
        assert.deepEqual(Array.from(got.label!.data), Array.from(base.label!.data));
        assert.ok(maxAbs <= 0.02, `max |Δp| ${maxAbs}`);
      }
      assert.ok(report.weightBytes.after <= 0.4 * report.weightBytes.before, `${report.weightBytes.before} → ${report.weightBytes.after}`);
      const size = writeModel(model).length;
      t.diagnostic(`${mode}: weights ${report.weightBytes.before} → ${report.weightBytes.after} bytes, file ${heavy.modelBytes.length} → ${size} bytes`);
      assert.ok(size < 0.3 * heavy.modelBytes.length, `${heavy.modelBytes.length} → ${size} bytes`);
    });
  }
});

void describe('what is skipped, refused and recorded', () => {
  /** A graph with one layer of each kind the rewrite must leave alone, and one it can rewrite. */
  function mixedModel(): onnx.ModelProto {
    const random = seeded(31);
    const nodes: NodeSpec[] = [
      { name: 'computed_weight', opType: 'Transpose', inputs: ['Wt'], outputs: ['W_from_graph'] },
      { name: 'mm_computed', opType: 'MatMul', inputs: ['x', 'W_from_graph'], outputs: ['a'] },
      { name: 'gemm_transA', opType: 'Gemm', inputs: ['xt', 'G'], outputs: ['b'], attributes: { transA: { i: 1 } } },
      { name: 'mm_tiny', opType: 'MatMul', inputs: ['x', 'tiny'], outputs: ['c'] },
      { name: 'mm_ok', opType: 'MatMul', inputs: ['x', 'W'], outputs: ['d'] },
    ];
    const values = (n: number): Float32Array => Float32Array.from({ length: n }, () => random() - 0.5);
    return buildModelProto({
      graph: {
        inputs: [
          { name: 'x', elemType: 'FLOAT', shape: ['batch', 8] },
          { name: 'xt', elemType: 'FLOAT', shape: [8, 'batch'] },
        ],
        outputs: ['a', 'b', 'c', 'd'].map((name) => ({ name, elemType: 'FLOAT' as const, shape: ['batch', null] })),
        nodes,
        initializers: [float('Wt', [8, 8], values(64)), float('G', [8, 8], values(64)), float('tiny', [8, 1], values(8)), float('W', [8, 8], values(64))],
      },
      opsets: [{ domain: '', version: 17 }],
    });
  }

  void test('reports each layer left alone with its reason and rewrites the rest', async () => {
    const model = mixedModel();
    const { model: q, report } = quantizeModel(model, { mode: 'dynamic' });
    assert.deepEqual(report.rewritten, { MatMul: 1 });
    assert.deepEqual(report.nodes.map((n) => n.node), ['mm_ok']);
    const reasons = Object.fromEntries(report.skipped.map((s) => [s.node, s.reason]));
    assert.match(reasons.mm_computed!, /computed in the graph/);
    assert.match(reasons.gemm_transA!, /transA = 1/);
    assert.match(reasons.mm_tiny!, /8 values, fewer than minElements \(16\)/);
    const feeds = { x: new ort.Tensor('float32', Float32Array.from({ length: 16 }, (_, i) => i / 8 - 1), [2, 8]), xt: new ort.Tensor('float32', new Float32Array(16).fill(0.5), [8, 2]) };
    const expected = await runModel(writeModel(model), feeds);
    const got = await runModel(writeModel(q), feeds);
    for (const name of ['a', 'b', 'c']) assert.deepEqual(got[name]!.data, expected[name]!.data, `${name} is untouched`);
    assert.ok(maxAbsDiff(got.d!.data, expected.d!.data) <= 0.02, `d differs by ${maxAbsDiff(got.d!.data, expected.d!.data)}`);
    // minElements lowers the bar for the tiny weight
    assert.deepEqual(quantizeModel(model, { mode: 'dynamic', minElements: 8 }).report.rewritten, { MatMul: 2 });
  });

  void test('a model without quantizable weights is OPTIMIZE_NOTHING_TO_DO, with the reasons in details', () => {
    const plain = buildModelProto({
      graph: { inputs: [{ name: 'x', elemType: 'FLOAT', shape: [2] }], outputs: [{ name: 'y', elemType: 'FLOAT', shape: [2] }], nodes: [{ opType: 'Relu', inputs: ['x'], outputs: ['y'] }] },
    });
    assert.throws(() => quantizeModel(plain, { mode: 'dynamic' }), expectCode('OPTIMIZE_NOTHING_TO_DO'));
    // quantising twice: the second pass finds only computed (dequantised) weights
    const once = quantizeModel(gridDenseModel(seeded(32)), { mode: 'weight-int8' }).model;
    assert.throws(
      () => quantizeModel(once, { mode: 'dynamic' }),
      (error: unknown) => {
        assert.ok(error instanceof PlatformError && error.code === 'OPTIMIZE_NOTHING_TO_DO');
        const skipped = error.details?.skipped as { node: string; reason: string }[];
        assert.deepEqual(skipped.map((s) => s.node), ['matmul', 'gemm']);
        assert.ok(skipped.every((s) => /computed in the graph/.test(s.reason)), JSON.stringify(skipped));
        return true;
      },
    );
  });

  void test('invalid options are OPTIMIZE_INVALID_OPTIONS naming each field', () => {
    const model = gridDenseModel(seeded(33));
    assert.throws(() => quantizeModel(model, { mode: 'x' as QuantizeMode }), expectCode('OPTIMIZE_INVALID_OPTIONS', 'mode'));
    assert.throws(() => quantizeModel(model, { mode: 'dynamic', minElements: 0 }), expectCode('OPTIMIZE_INVALID_OPTIONS', 'minElements'));
    assert.throws(() => quantizeModel(model, { mode: 'dynamic', perChannel: 'yes' as unknown as boolean }), expectCode('OPTIMIZE_INVALID_OPTIONS', 'perChannel'));
    assert.throws(
      () => quantizeModel(model, { mode: 'int4', bits: 4 } as unknown as { mode: QuantizeMode }),
      (error: unknown) => {
        assert.ok(error instanceof PlatformError && error.code === 'OPTIMIZE_INVALID_OPTIONS');
        assert.deepEqual((error.details?.problems as { field: string }[]).map((p) => p.field), ['bits', 'mode']);
        return true;
      },
    );
  });

  void test('does not modify the input model and keeps fields the schema does not know', () => {
    const model = gridDenseModel(seeded(34));
    // an unknown field (number 99, varint 1) appended to the ModelProto bytes
    const bytes = new Uint8Array([...writeModel(model), 0x98, 0x06, 0x01]);
    const decoded = readModel(bytes);
    const snapshot = writeModel(decoded);
    for (const mode of ['dynamic', 'weight-int8'] as const) {
      const { model: q } = quantizeModel(decoded, { mode });
      assert.deepEqual(writeModel(decoded), snapshot, 'input unchanged');
      assert.deepEqual(findUnknownFields(writeModel(q)).map((f) => f.fieldNumber), [99]);
    }
    pruneModel(decoded, { sparsity: 0.5 });
    assert.deepEqual(writeModel(decoded), snapshot);
  });

  void test('records the mode in metadata_props and appends to the optimisation history', () => {
    const model = gridDenseModel(seeded(35));
    const pruned = pruneModel(model, { sparsity: 0.25 }).model;
    const { model: q } = quantizeModel(pruned, { mode: 'weight-int8' });
    assert.equal(metadata(q, QUANTIZATION_METADATA_KEY), 'weight-int8');
    const steps = JSON.parse(metadata(q, OPTIMIZE_METADATA_KEY)!) as { step: string; mode?: string; rewritten?: Record<string, number> }[];
    assert.deepEqual(steps.map((s) => s.step), ['prune', 'quantize']);
    assert.equal(steps[1]!.mode, 'weight-int8');
    assert.deepEqual(steps[1]!.rewritten, { MatMul: 1, Gemm: 1 });
    assert.equal((q.metadataProps ?? []).filter((p) => p.key === OPTIMIZE_METADATA_KEY).length, 1);
  });

  void test('needsQdqDisable and sessionConfigFor say which models need disable_quant_qdq', () => {
    const model = gridDenseModel(seeded(36));
    const weightOnly = quantizeModel(model, { mode: 'weight-int8' }).model;
    const dynamic = quantizeModel(model, { mode: 'dynamic' }).model;
    assert.equal(needsQdqDisable(weightOnly.metadataProps), true);
    assert.equal(needsQdqDisable(dynamic.metadataProps), false);
    assert.equal(needsQdqDisable(model.metadataProps), false);
    assert.equal(needsQdqDisable(inspectModel(writeModel(weightOnly)).metadata), true);
    assert.equal(needsQdqDisable(undefined), false);
    assert.deepEqual(sessionConfigFor(weightOnly.metadataProps), QDQ_OFF);
    assert.deepEqual(sessionConfigFor(dynamic.metadataProps), {});
  });
});

void describe('opset', () => {
  /** Gemm → Relu → Gemm → Softmax at a chosen opset (Softmax changed meaning at 13). */
  function oldModel(opset: number, irVersion: number): onnx.ModelProto {
    const random = seeded(41);
    const values = (n: number): Float32Array => Float32Array.from({ length: n }, () => random() - 0.5);
    return buildModelProto({
      irVersion,
      opsets: [{ domain: '', version: opset }],
      graph: {
        inputs: [{ name: 'x', elemType: 'FLOAT', shape: ['batch', 8] }],
        outputs: [{ name: 'p', elemType: 'FLOAT', shape: ['batch', 4] }],
        nodes: [
          { opType: 'Gemm', inputs: ['x', 'W1', 'b1'], outputs: ['h'] },
          { opType: 'Relu', inputs: ['h'], outputs: ['r'] },
          { opType: 'Gemm', inputs: ['r', 'W2', 'b2'], outputs: ['z'] },
          { opType: 'Softmax', inputs: ['z'], outputs: ['p'], attributes: { axis: { i: 1 } } },
        ],
        initializers: [float('W1', [8, 16], values(128)), float('b1', [16], values(16)), float('W2', [16, 4], values(64)), float('b2', [4], values(4))],
      },
    });
  }

  void test('dynamic raises opset 9 to 11 (and IR 4 to 6) when no operator changed meaning in between', async () => {
    const model = oldModel(9, 4);
    const { model: q, report } = quantizeModel(model, { mode: 'dynamic' });
    assert.deepEqual(report.opset, { from: 9, to: 11 });
    assert.deepEqual(q.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', 11]]);
    assert.equal(Number(q.irVersion), 6);
    const x = new ort.Tensor('float32', Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), [3, 8]);
    const expected = await runModel(writeModel(model), { x });
    const got = await runModel(writeModel(q), { x });
    assert.ok(maxAbsDiff(got.p!.data, expected.p!.data) <= 0.02, `p differs by ${maxAbsDiff(got.p!.data, expected.p!.data)}`);
  });

  void test('weight-int8 falls back to per-tensor scales below opset 13 when Softmax blocks the bump, and refuses an explicit perChannel', async () => {
    const model = oldModel(9, 4);
    const { model: q, report } = quantizeModel(model, { mode: 'weight-int8' });
    assert.equal(report.perChannel, false);
    assert.deepEqual(report.opset, { from: 9, to: 10 });
    assert.match(report.notes.join(' '), /per-tensor/);
    assert.ok(q.graph!.node!.filter((n) => n.opType === 'DequantizeLinear').every((n) => (n.attribute ?? []).length === 0), 'no axis attribute: per-tensor');
    const x = new ort.Tensor('float32', Float32Array.from({ length: 16 }, (_, i) => Math.cos(i)), [2, 8]);
    const expected = await runModel(writeModel(model), { x });
    const got = await runModel(writeModel(q), { x }, QDQ_OFF);
    assert.ok(maxAbsDiff(got.p!.data, expected.p!.data) <= 0.02, `p differs by ${maxAbsDiff(got.p!.data, expected.p!.data)}`);
    assert.throws(
      () => quantizeModel(model, { mode: 'weight-int8', perChannel: true }),
      (error: unknown) => {
        assert.ok(error instanceof PlatformError && error.code === 'OPTIMIZE_UNSUPPORTED');
        assert.match(error.message, /opset 13/);
        assert.deepEqual(error.details?.blockingOperators, ['Softmax']);
        return true;
      },
    );
    // at opset 13 nothing needs raising
    assert.deepEqual(quantizeModel(oldModel(13, 7), { mode: 'weight-int8' }).report.opset, { from: 13, to: 13 });
  });
});
