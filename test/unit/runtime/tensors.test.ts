import assert from 'node:assert/strict';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { DATATYPES, PlatformError, type Datatype, type Tensor } from '../../../src/core/index.js';
import { forTransfer } from '../../../src/runtime/onnxruntime/protocol.js';
import { checkTensor, fromOrtTensor, toOrtTensor, zeroInputs } from '../../../src/runtime/onnxruntime/tensors.js';
import { buildModel, type OnnxElemType } from '../../../src/onnx/index.js';

/** One tensor of every datatype, with edge values, in core form. */
const SAMPLES: Record<Datatype, Tensor> = {
  BOOL: { name: 'b', datatype: 'BOOL', shape: [2, 2], data: new Uint8Array([1, 0, 0, 1]) },
  UINT8: { name: 'u8', datatype: 'UINT8', shape: [3], data: new Uint8Array([0, 128, 255]) },
  UINT16: { name: 'u16', datatype: 'UINT16', shape: [3], data: new Uint16Array([0, 1, 65535]) },
  UINT32: { name: 'u32', datatype: 'UINT32', shape: [3], data: new Uint32Array([0, 1, 4294967295]) },
  UINT64: { name: 'u64', datatype: 'UINT64', shape: [3], data: new BigUint64Array([0n, 2n ** 53n + 1n, 2n ** 64n - 1n]) },
  INT8: { name: 'i8', datatype: 'INT8', shape: [3], data: new Int8Array([-128, 0, 127]) },
  INT16: { name: 'i16', datatype: 'INT16', shape: [3], data: new Int16Array([-32768, 0, 32767]) },
  INT32: { name: 'i32', datatype: 'INT32', shape: [3], data: new Int32Array([-2147483648, 0, 2147483647]) },
  INT64: { name: 'i64', datatype: 'INT64', shape: [3], data: new BigInt64Array([-(2n ** 63n), 0n, 2n ** 63n - 1n]) },
  FP16: { name: 'f16', datatype: 'FP16', shape: [4], data: new Uint16Array([0x0000, 0x3c00, 0xc100, 0x7bff]) },
  FP32: { name: 'f32', datatype: 'FP32', shape: [1, 3], data: new Float32Array([0.1, -3.5, 3.4028234663852886e38]) },
  FP64: { name: 'f64', datatype: 'FP64', shape: [3], data: new Float64Array([0.1, -1e300, 5e-324]) },
  BYTES: { name: 's', datatype: 'BYTES', shape: [3], data: ['', 'héllo', '🚀'] },
};

const ORT_TYPE: Record<Datatype, string> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

const ELEM: Record<Datatype, OnnxElemType> = {
  BOOL: 'BOOL',
  UINT8: 'UINT8',
  UINT16: 'UINT16',
  UINT32: 'UINT32',
  UINT64: 'UINT64',
  INT8: 'INT8',
  INT16: 'INT16',
  INT32: 'INT32',
  INT64: 'INT64',
  FP16: 'FLOAT16',
  FP32: 'FLOAT',
  FP64: 'DOUBLE',
  BYTES: 'STRING',
};

function assertSameTensor(actual: Tensor, expected: Tensor): void {
  assert.equal(actual.name, expected.name);
  assert.equal(actual.datatype, expected.datatype);
  assert.deepEqual([...actual.shape], [...expected.shape]);
  assert.equal(actual.data.constructor, expected.data.constructor);
  assert.deepEqual(Array.from(actual.data as ArrayLike<unknown>), Array.from(expected.data as ArrayLike<unknown>));
}

function isCode(code: string) {
  return (e: unknown): boolean => e instanceof PlatformError && e.code === code;
}

describe('tensor conversion', () => {
  for (const datatype of DATATYPES) {
    test(`round-trips ${datatype} through an onnxruntime tensor unchanged`, () => {
      const sample = SAMPLES[datatype];
      const o = toOrtTensor(sample);
      assert.equal(o.type, ORT_TYPE[datatype]);
      assert.deepEqual([...o.dims], [...sample.shape]);
      assertSameTensor(fromOrtTensor(sample.name, o), sample);
    });
  }

  test('every datatype survives a real onnxruntime Identity session unchanged', async () => {
    for (const datatype of DATATYPES) {
      const sample = SAMPLES[datatype];
      const shape = sample.shape.map((_, i) => `d${i}`);
      const bytes = buildModel({
        graph: {
          inputs: [{ name: 'x', elemType: ELEM[datatype], shape }],
          outputs: [{ name: 'y', elemType: ELEM[datatype], shape }],
          nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
        },
      });
      const session = await ort.InferenceSession.create(bytes);
      const out = await session.run({ x: toOrtTensor({ ...sample, name: 'x' }) });
      assert.ok(out.y instanceof ort.Tensor);
      assertSameTensor(fromOrtTensor(sample.name, out.y), sample);
      await session.release();
    }
  });

  test('normalises BOOL inputs to 0 and 1 without touching the caller’s array', () => {
    const data = new Uint8Array([0, 2, 255, 1]);
    const o = toOrtTensor({ name: 'b', datatype: 'BOOL', shape: [4], data });
    assert.deepEqual(Array.from(o.data as Uint8Array), [0, 1, 1, 1]);
    assert.deepEqual(Array.from(data), [0, 2, 255, 1]);
  });

  test('reads float16 outputs given as another 16-bit array (as a Float16Array would be) as bit patterns', () => {
    const bits = new Int16Array([0x3c00, -0x4000]);
    const fake = { type: 'float16', dims: [2], data: bits } as unknown as ort.Tensor;
    const t = fromOrtTensor('h', fake);
    assert.ok(t.data instanceof Uint16Array);
    assert.deepEqual(Array.from(t.data), [0x3c00, 0xc000]);
  });

  test('refuses data of the wrong array type for its datatype', () => {
    assert.throws(() => toOrtTensor({ name: 'x', datatype: 'FP32', shape: [2], data: new Float64Array(2) }), (e: unknown) => {
      assert.ok(isCode('RUNTIME_TENSOR_INVALID')(e));
      assert.match((e as Error).message, /"x".*FP32 needs Float32Array data, got Float64Array/);
      return true;
    });
    assert.throws(() => checkTensor({ name: 'i', datatype: 'INT64', shape: [1], data: new Int32Array(1) }), isCode('RUNTIME_TENSOR_INVALID'));
    assert.throws(() => checkTensor({ name: 's', datatype: 'BYTES', shape: [1], data: new Uint8Array(1) }), isCode('RUNTIME_TENSOR_INVALID'));
  });

  test('refuses an element count that does not fill the shape', () => {
    assert.throws(() => checkTensor({ name: 'x', datatype: 'FP32', shape: [2, 3], data: new Float32Array(5) }), (e: unknown) => {
      assert.ok(isCode('RUNTIME_TENSOR_INVALID')(e));
      assert.match((e as Error).message, /5 elements do not fill shape \[2, 3\] \(6 expected\)/);
      return true;
    });
    assert.throws(() => checkTensor({ name: 'x', datatype: 'FP32', shape: [-1], data: new Float32Array(1) }), isCode('RUNTIME_TENSOR_INVALID'));
  });

  test('builds zero-filled warm-up inputs with every dynamic dimension set to 1', () => {
    const zeros = zeroInputs([
      { name: 'x', isTensor: true, type: 'float32', shape: ['batch', 3] },
      { name: 's', isTensor: true, type: 'string', shape: ['', 2] },
      { name: 'b', isTensor: true, type: 'bool', shape: [2] },
      { name: 'i', isTensor: true, type: 'int64', shape: [] },
    ]);
    assert.deepEqual(
      zeros.map((t) => [t.name, t.datatype, t.shape, Array.from(t.data as ArrayLike<unknown>)]),
      [
        ['x', 'FP32', [1, 3], [0, 0, 0]],
        ['s', 'BYTES', [1, 2], ['', '']],
        ['b', 'BOOL', [2], [0, 0]],
        ['i', 'INT64', [], [0n]],
      ],
    );
  });
});

describe('moving tensors across threads', () => {
  function post(tensors: Tensor[], transfer: ArrayBuffer[]): Tensor[] {
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(tensors, transfer);
    const received = receiveMessageOnPort(port2)?.message as Tensor[];
    port1.close();
    return received;
  }

  test('copies the caller’s inputs before moving them, so the caller keeps its arrays', () => {
    const data = new Float32Array([1, 2, 3]);
    const { tensors, transfer } = forTransfer([{ name: 'x', datatype: 'FP32', shape: [3], data }], true);
    assert.equal(transfer.length, 1);
    const received = post(tensors, transfer);
    assert.deepEqual(Array.from(data), [1, 2, 3]);
    assert.deepEqual(Array.from(received[0]?.data as Float32Array), [1, 2, 3]);
  });

  test('moves arrays that own their buffer and copies views into a larger one', () => {
    const owned = new Int32Array([1, 2]);
    const slab = new ArrayBuffer(64);
    const view = new Uint8Array(slab, 8, 4).fill(7);
    const strings = ['a', 'b'];
    const { tensors, transfer } = forTransfer(
      [
        { name: 'owned', datatype: 'INT32', shape: [2], data: owned },
        { name: 'view', datatype: 'UINT8', shape: [4], data: view },
        { name: 's', datatype: 'BYTES', shape: [2], data: strings },
      ],
      false,
    );
    assert.equal(transfer.length, 2);
    const received = post(tensors, transfer);
    assert.equal(owned.byteLength, 0, 'an owned buffer is moved, not copied');
    assert.equal(slab.byteLength, 64, 'a shared slab is left alone');
    assert.deepEqual(Array.from(received[1]?.data as Uint8Array), [7, 7, 7, 7]);
    assert.deepEqual(received[2]?.data, ['a', 'b']);
    assert.deepEqual(Array.from(received[0]?.data as Int32Array), [1, 2]);
  });
});
