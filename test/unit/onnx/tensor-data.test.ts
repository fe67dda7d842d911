import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Long from 'long';
import { PlatformError } from '../../../src/core/index.js';
import {
  buildModel,
  int64ToBigInt,
  longToNumber,
  onnx,
  readModel,
  readTensorData,
  tensorByteSize,
  tensorDims,
  tensorElementCount,
  tensorProto,
} from '../../../src/onnx/index.js';

const D = onnx.TensorProto.DataType;

/** Little-endian bytes written with a DataView, independent of the code under test. */
function le(width: number, values: readonly (number | bigint)[], write: (v: DataView, o: number, x: never) => void): Uint8Array {
  const buf = new ArrayBuffer(values.length * width);
  const view = new DataView(buf);
  values.forEach((x, i) => write(view, i * width, x as never));
  return new Uint8Array(buf);
}

/** The same tensor decoded from the wire, as readModel would hand it out (Long int64s, Buffer views). */
function viaWire(t: onnx.ITensorProto): onnx.TensorProto {
  return onnx.TensorProto.decode(onnx.TensorProto.encode(t).finish());
}

function assertCode(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof PlatformError && e.code === code && pattern.test(e.message));
}

void describe('readTensorData from raw_data', () => {
  const cases: [string, number, Uint8Array, unknown[]][] = [
    ['FLOAT', D.FLOAT, le(4, [1.5, -2, 3.25], (v, o, x) => v.setFloat32(o, x, true)), [1.5, -2, 3.25]],
    ['DOUBLE', D.DOUBLE, le(8, [Math.PI, -1e300, 0], (v, o, x) => v.setFloat64(o, x, true)), [Math.PI, -1e300, 0]],
    ['INT8', D.INT8, Uint8Array.from([0xff, 0x7f, 0x80]), [-1, 127, -128]],
    ['UINT8', D.UINT8, Uint8Array.from([0, 200, 255]), [0, 200, 255]],
    ['INT16', D.INT16, le(2, [-300, 32767, -32768], (v, o, x) => v.setInt16(o, x, true)), [-300, 32767, -32768]],
    ['UINT16', D.UINT16, le(2, [1, 65535, 300], (v, o, x) => v.setUint16(o, x, true)), [1, 65535, 300]],
    ['INT32', D.INT32, le(4, [-5, 2 ** 31 - 1, -(2 ** 31)], (v, o, x) => v.setInt32(o, x, true)), [-5, 2 ** 31 - 1, -(2 ** 31)]],
    ['UINT32', D.UINT32, le(4, [0, 2 ** 32 - 1, 7], (v, o, x) => v.setUint32(o, x, true)), [0, 2 ** 32 - 1, 7]],
    ['INT64', D.INT64, le(8, [-1n, 2n ** 62n, -(2n ** 63n)], (v, o, x) => v.setBigInt64(o, x, true)), [-1n, 2n ** 62n, -(2n ** 63n)]],
    ['UINT64', D.UINT64, le(8, [0n, 2n ** 64n - 1n, 5n], (v, o, x) => v.setBigUint64(o, x, true)), [0n, 2n ** 64n - 1n, 5n]],
    ['FLOAT16', D.FLOAT16, le(2, [0x3c00, 0xc000, 0x7c00], (v, o, x) => v.setUint16(o, x, true)), [0x3c00, 0xc000, 0x7c00]],
    ['BFLOAT16', D.BFLOAT16, le(2, [0x3f80, 0xbf80, 0], (v, o, x) => v.setUint16(o, x, true)), [0x3f80, 0xbf80, 0]],
    ['BOOL', D.BOOL, Uint8Array.from([1, 0, 2]), [1, 0, 1]],
    ['FLOAT8E4M3FN', D.FLOAT8E4M3FN, Uint8Array.from([0x38, 0xb8, 0x7e]), [0x38, 0xb8, 0x7e]],
    ['FLOAT8E5M2', D.FLOAT8E5M2, Uint8Array.from([0x3c, 0, 1]), [0x3c, 0, 1]],
    ['FLOAT8E8M0', D.FLOAT8E8M0, Uint8Array.from([127, 128, 0]), [127, 128, 0]],
  ];
  for (const [name, dataType, raw, expected] of cases) {
    void test(`reads ${name}`, () => {
      const values = readTensorData(viaWire({ name: 't', dataType, dims: [3], rawData: raw }));
      assert.deepEqual(Array.from(values as ArrayLike<unknown>), expected);
    });
  }

  void test('reads COMPLEX64 and COMPLEX128 as interleaved real and imaginary parts', () => {
    const c64 = readTensorData({ dataType: D.COMPLEX64, dims: [2], rawData: le(4, [1, 2, 3, 4], (v, o, x) => v.setFloat32(o, x, true)) });
    assert.ok(c64 instanceof Float32Array);
    assert.deepEqual(Array.from(c64), [1, 2, 3, 4]);
    const c128 = readTensorData({ dataType: D.COMPLEX128, dims: [1], rawData: le(8, [0.1, -0.2], (v, o, x) => v.setFloat64(o, x, true)) });
    assert.ok(c128 instanceof Float64Array);
    assert.deepEqual(Array.from(c128), [0.1, -0.2]);
  });

  void test('unpacks 4-bit and 2-bit types, low bits first, sign-extending the signed ones', () => {
    // INT4: 1, -1 | -8, 7 | 3 (odd count: the last high nibble is padding)
    assert.deepEqual(Array.from(readTensorData({ dataType: D.INT4, dims: [5], rawData: Uint8Array.from([0xf1, 0x78, 0x03]) }) as Int8Array), [1, -1, -8, 7, 3]);
    assert.deepEqual(Array.from(readTensorData({ dataType: D.UINT4, dims: [3], rawData: Uint8Array.from([0xf1, 0x0a]) }) as Uint8Array), [1, 15, 10]);
    assert.deepEqual(Array.from(readTensorData({ dataType: D.FLOAT4E2M1, dims: [2], rawData: Uint8Array.from([0x9a]) }) as Uint8Array), [0xa, 0x9]);
    // INT2: 1, -1, -2, 0 | 1
    assert.deepEqual(Array.from(readTensorData({ dataType: D.INT2, dims: [5], rawData: Uint8Array.from([0b00101101, 0b01]) }) as Int8Array), [1, -1, -2, 0, 1]);
    assert.deepEqual(Array.from(readTensorData({ dataType: D.UINT2, dims: [4], rawData: Uint8Array.from([0b11100100]) }) as Uint8Array), [0, 1, 2, 3]);
  });

  void test('copies raw_data that sits at an unaligned offset, and never aliases the model bytes', () => {
    const backing = new Uint8Array(1 + 8);
    backing.set(le(4, [1.25, -7], (v, o, x) => v.setFloat32(o, x, true)), 1);
    const raw = backing.subarray(1); // offset 1: no Float32Array view can sit there
    const values = readTensorData({ dataType: D.FLOAT, dims: [2], rawData: raw }) as Float32Array;
    assert.deepEqual(Array.from(values), [1.25, -7]);
    backing.fill(0);
    assert.deepEqual(Array.from(values), [1.25, -7], 'the values are a copy');
  });

  void test('reads the initializers the builder writes, for every type it supports', () => {
    const inits = [
      { name: 'f', elemType: 'FLOAT', dims: [2, 2], values: [1, 2, 3, 4.5] },
      { name: 'd', elemType: 'DOUBLE', dims: [1], values: [Math.E] },
      { name: 'i64', elemType: 'INT64', dims: [2], values: [-(2n ** 40n), 3n] },
      { name: 'u64', elemType: 'UINT64', dims: [1], values: [2n ** 63n] },
      { name: 'i32', elemType: 'INT32', dims: [2], values: [-1, 1] },
      { name: 'u8', elemType: 'UINT8', dims: [2], values: [0, 255] },
      { name: 'b', elemType: 'BOOL', dims: [2], values: [1, 0] },
      { name: 's', elemType: 'STRING', dims: [2], values: ['héllo', ''] },
    ] as const;
    const model = readModel(
      buildModel({
        graph: { inputs: [], outputs: [{ name: 'f', elemType: 'FLOAT', shape: [2, 2] }], nodes: [], initializers: inits },
      }),
    );
    const got = Object.fromEntries(model.graph!.initializer!.map((t) => [t.name, Array.from(readTensorData(t) as ArrayLike<unknown>)]));
    assert.deepEqual(got, Object.fromEntries(inits.map((i) => [i.name, [...i.values]])));
  });
});

void describe('readTensorData from typed fields', () => {
  void test('reads float_data, double_data, int32_data, int64_data, uint64_data and string_data', () => {
    const r = (t: onnx.ITensorProto) => Array.from(readTensorData(viaWire(t)) as ArrayLike<unknown>);
    assert.deepEqual(r({ dataType: D.FLOAT, dims: [2], floatData: [0.5, -1] }), [0.5, -1]);
    assert.deepEqual(r({ dataType: D.COMPLEX64, dims: [1], floatData: [0.5, -1] }), [0.5, -1]);
    assert.deepEqual(r({ dataType: D.DOUBLE, dims: [1], doubleData: [Math.PI] }), [Math.PI]);
    assert.deepEqual(r({ dataType: D.INT32, dims: [2], int32Data: [-7, 7] }), [-7, 7]);
    assert.deepEqual(r({ dataType: D.INT8, dims: [2], int32Data: [-128, 127] }), [-128, 127]);
    assert.deepEqual(r({ dataType: D.UINT8, dims: [1], int32Data: [255] }), [255]);
    assert.deepEqual(r({ dataType: D.INT16, dims: [1], int32Data: [-32768] }), [-32768]);
    assert.deepEqual(r({ dataType: D.UINT16, dims: [1], int32Data: [65535] }), [65535]);
    assert.deepEqual(r({ dataType: D.FLOAT16, dims: [1], int32Data: [0x3c00] }), [0x3c00]);
    assert.deepEqual(r({ dataType: D.BOOL, dims: [3], int32Data: [1, 0, 5] }), [1, 0, 1]);
    assert.deepEqual(r({ dataType: D.INT4, dims: [3], int32Data: [0xf1, 0x07] }), [1, -1, 7]);
    assert.deepEqual(r({ dataType: D.INT64, dims: [2], int64Data: [Long.fromString('-9223372036854775808'), 5] }), [-(2n ** 63n), 5n]);
    assert.deepEqual(r({ dataType: D.UINT64, dims: [1], uint64Data: [Long.fromString('18446744073709551615', true)] }), [2n ** 64n - 1n]);
    assert.deepEqual(r({ dataType: D.UINT32, dims: [1], uint64Data: [4294967295] }), [4294967295]);
    assert.deepEqual(r({ dataType: D.STRING, dims: [2], stringData: [Buffer.from('a'), Buffer.from('ü')] }), ['a', 'ü']);
  });

  void test('reads a scalar (empty dims) and an empty tensor', () => {
    assert.deepEqual(Array.from(readTensorData({ dataType: D.FLOAT, dims: [], floatData: [3] }) as Float32Array), [3]);
    const empty = readTensorData({ dataType: D.FLOAT, dims: [0, 4] });
    assert.ok(empty instanceof Float32Array);
    assert.equal(empty.length, 0);
  });
});

void describe('readTensorData refusals', () => {
  void test('refuses raw_data whose length does not match the dims', () => {
    assertCode(
      () => readTensorData({ name: 'w', dataType: D.FLOAT, dims: [3, 4], rawData: new Uint8Array(10) }),
      'ONNX_INVALID_TENSOR',
      /tensor 'w' \(FLOAT, dims \[3, 4\]\) holds 10 bytes of raw_data; 48 expected/,
    );
  });

  void test('refuses typed data whose count does not match the dims, or no data at all', () => {
    assertCode(() => readTensorData({ name: 'w', dataType: D.INT32, dims: [3], int32Data: [1] }), 'ONNX_INVALID_TENSOR', /holds 1 values in int32_data; 3 expected/);
    assertCode(() => readTensorData({ name: 'w', dataType: D.FLOAT, dims: [2] }), 'ONNX_INVALID_TENSOR', /holds no data/);
    assertCode(() => readTensorData({ name: 's', dataType: D.STRING, dims: [2], stringData: [] }), 'ONNX_INVALID_TENSOR', /holds 0 strings; 2 expected/);
  });

  void test('refuses an undefined or unknown element type', () => {
    assertCode(() => readTensorData({ name: 'u', dims: [1] }), 'ONNX_INVALID_TENSOR', /element type UNDEFINED/);
    assertCode(() => readTensorData({ name: 'u', dataType: 99, dims: [1] }), 'ONNX_INVALID_TENSOR', /element type DATATYPE_99/);
  });

  void test('refuses external data', () => {
    assertCode(
      () => readTensorData({ name: 'x', dataType: D.FLOAT, dims: [1], dataLocation: onnx.TensorProto.DataLocation.EXTERNAL }),
      'ONNX_EXTERNAL_DATA_UNSUPPORTED',
      /tensor 'x' keeps its data in an external file/,
    );
  });
});

void describe('tensor sizes', () => {
  void test('counts raw_data bytes, typed values at their element width, and string bytes', () => {
    assert.equal(tensorByteSize(tensorProto({ name: 'f', elemType: 'FLOAT', dims: [2, 3], values: [1, 2, 3, 4, 5, 6] })), 24);
    assert.equal(tensorByteSize({ dataType: D.FLOAT16, int32Data: [1, 2, 3] }), 6);
    assert.equal(tensorByteSize({ dataType: D.INT8, int32Data: [1, 2, 3] }), 3);
    assert.equal(tensorByteSize({ dataType: D.INT4, int32Data: [0x11, 0x22] }), 2);
    assert.equal(tensorByteSize({ dataType: D.UINT32, uint64Data: [1, 2] }), 8);
    assert.equal(tensorByteSize({ dataType: D.UINT64, uint64Data: [1, 2] }), 16);
    assert.equal(tensorByteSize({ dataType: D.INT64, int64Data: [1] }), 8);
    assert.equal(tensorByteSize({ dataType: D.DOUBLE, doubleData: [1, 2] }), 16);
    assert.equal(tensorByteSize({ dataType: D.STRING, stringData: [Buffer.from('ab'), Buffer.from('ü')] }), 4);
    assert.equal(tensorByteSize({ dataType: D.FLOAT }), 0);
  });

  void test('takes the declared length of external data', () => {
    const ext = (value: string): onnx.ITensorProto => ({
      dataType: D.FLOAT,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [{ key: 'location', value: 'w.bin' }, { key: 'length', value }],
    });
    assert.equal(tensorByteSize(ext('4096')), 4096);
    assert.equal(tensorByteSize(ext('not a number')), 0);
  });

  void test('reads dims and element counts', () => {
    const t = viaWire({ dims: [2, 3, 4] });
    assert.deepEqual(tensorDims(t), [2, 3, 4]);
    assert.equal(tensorElementCount(t), 24);
    assert.equal(tensorElementCount({ dims: [] }), 1);
  });
});

void describe('64-bit integers', () => {
  void test('longToNumber converts numbers, Longs and absent values', () => {
    assert.equal(longToNumber(5), 5);
    assert.equal(longToNumber(null), 0);
    assert.equal(longToNumber(undefined), 0);
    assert.equal(longToNumber(Long.fromNumber(2 ** 40)), 2 ** 40);
    assert.equal(longToNumber(Long.fromNumber(-(2 ** 40))), -(2 ** 40));
    assert.equal(longToNumber(Long.fromNumber(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER);
    assert.equal(longToNumber(Long.fromString('4294967295', true)), 4294967295);
  });

  void test('longToNumber refuses values beyond the safe integer range instead of rounding them', () => {
    assertCode(() => longToNumber(Long.fromString('9007199254740993'), 'dimension 0'), 'ONNX_INT64_OUT_OF_RANGE', /dimension 0 is 9007199254740993, beyond the safe integer range/);
    assertCode(() => longToNumber(Long.fromString('18446744073709551615', true)), 'ONNX_INT64_OUT_OF_RANGE', /18446744073709551615/);
    assertCode(() => longToNumber(Long.fromString('-9223372036854775808')), 'ONNX_INT64_OUT_OF_RANGE', /-9223372036854775808/);
  });

  void test('int64ToBigInt is exact for signed and unsigned Longs', () => {
    assert.equal(int64ToBigInt(Long.fromString('-9223372036854775808')), -(2n ** 63n));
    assert.equal(int64ToBigInt(Long.fromString('18446744073709551615', true)), 2n ** 64n - 1n);
    assert.equal(int64ToBigInt(-3), -3n);
    assert.equal(int64ToBigInt(undefined), 0n);
  });
});
