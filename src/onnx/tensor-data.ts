/**
 * Reading the values out of a TensorProto (initializers, Constant attributes), for the rewrites
 * that need them (quantization, pruning), and measuring how many bytes a tensor's data takes.
 */
import { OnnxErrors } from './errors.js';
import { elemTypeInfo, elemTypeName, type ElemTypeInfo } from './elem-types.js';
import { onnx } from './generated/onnx.js';
import { int64ToBigInt, longToNumber } from './int64.js';

/**
 * A tensor's values, row-major and flat:
 * FLOAT → Float32Array; DOUBLE → Float64Array; COMPLEX64/COMPLEX128 → Float32Array/Float64Array of
 * interleaved (real, imaginary) pairs (2 entries per element); FLOAT16 and BFLOAT16 → Uint16Array
 * of bit patterns; INT8/INT16/INT32 → Int8/16/32Array; UINT8/UINT16/UINT32 → Uint8/16/32Array;
 * BOOL → Uint8Array of 0/1; INT64 → BigInt64Array; UINT64 → BigUint64Array; the FLOAT8 types and
 * FLOAT8E8M0 → Uint8Array of bit patterns; INT4/INT2 → Int8Array and UINT4/UINT2 → Uint8Array, one
 * entry per element (unpacked, sign-extended); FLOAT4E2M1 → Uint8Array of 4-bit codes, one per
 * element; STRING → an array of strings (UTF-8 decoded).
 */
export type OnnxTensorValues =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | string[];

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextDecoder('utf-8');

function tensorLabel(t: onnx.ITensorProto): string {
  return t.name ? `tensor '${t.name}'` : 'an unnamed tensor';
}

/** A tensor's dims as numbers (throws ONNX_INT64_OUT_OF_RANGE for a dimension beyond 2^53). */
export function tensorDims(t: onnx.ITensorProto): number[] {
  return (t.dims ?? []).map((d, i) => longToNumber(d, `dimension ${i} of ${tensorLabel(t)}`));
}

/** How many elements a tensor's dims describe (1 for a scalar, whose dims are empty). */
export function tensorElementCount(t: onnx.ITensorProto): number {
  let n = 1;
  for (const d of tensorDims(t)) n *= d;
  return n;
}

/** True when the tensor says its data lives in an external file. */
export function hasExternalData(t: onnx.ITensorProto): boolean {
  return t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL;
}

/**
 * The bytes a tensor's data takes in its natural form: the raw_data length when raw_data is used,
 * the UTF-8 bytes of every string for STRING, otherwise the typed values at their element width
 * (sub-byte types count one byte per packed entry). For external data, the declared `length`, or 0.
 */
export function tensorByteSize(t: onnx.ITensorProto): number {
  if (hasExternalData(t)) {
    const length = (t.externalData ?? []).find((e) => e.key === 'length')?.value;
    const n = length === undefined || length === null ? NaN : Number(length);
    return Number.isSafeInteger(n) && n >= 0 ? n : 0;
  }
  const info = elemTypeInfo(t.dataType);
  let bytes = t.rawData?.length ?? 0;
  for (const s of t.stringData ?? []) bytes += s.length;
  bytes += (t.floatData?.length ?? 0) * 4;
  bytes += (t.doubleData?.length ?? 0) * 8;
  bytes += (t.int64Data?.length ?? 0) * 8;
  bytes += (t.uint64Data?.length ?? 0) * (info?.name === 'UINT32' ? 4 : 8);
  bytes += (t.int32Data?.length ?? 0) * (info === undefined ? 4 : Math.max(1, info.bits / 8));
  return bytes;
}

function invalid(t: onnx.ITensorProto, info: ElemTypeInfo, dims: readonly number[], problem: string): never {
  throw OnnxErrors.ONNX_INVALID_TENSOR(`${tensorLabel(t)} (${info.name}, dims [${dims.join(', ')}]) ${problem}`, {
    details: { tensor: t.name ?? '', elemType: info.name, dims },
  });
}

/**
 * Reads a tensor's values from raw_data (little-endian, copied into a fresh aligned buffer, so the
 * result never aliases the model's bytes) or from its typed field. See {@link OnnxTensorValues} for
 * the form of each element type. Throws ONNX_INVALID_TENSOR for an unknown element type or data
 * whose length does not match the dims, ONNX_EXTERNAL_DATA_UNSUPPORTED for external data.
 */
export function readTensorData(t: onnx.ITensorProto): OnnxTensorValues {
  const info = elemTypeInfo(t.dataType);
  if (info === undefined) {
    throw OnnxErrors.ONNX_INVALID_TENSOR(`${tensorLabel(t)} has element type ${elemTypeName(t.dataType)}, which has no defined data layout`, {
      details: { tensor: t.name ?? '', dataType: t.dataType ?? 0 },
    });
  }
  if (hasExternalData(t)) {
    throw OnnxErrors.ONNX_EXTERNAL_DATA_UNSUPPORTED(`${tensorLabel(t)} keeps its data in an external file; only self-contained models are supported`, {
      details: { tensor: t.name ?? '' },
    });
  }
  const dims = tensorDims(t);
  const n = dims.reduce((a, b) => a * b, 1);

  if (info.name === 'STRING') {
    const strings = t.stringData ?? [];
    if (strings.length !== n) invalid(t, info, dims, `holds ${strings.length} strings; ${n} expected`);
    return strings.map((s) => utf8.decode(s));
  }

  const raw = t.rawData;
  if (raw !== null && raw !== undefined && raw.length > 0) {
    const expected = Math.ceil((n * info.bits) / 8);
    if (raw.length !== expected) invalid(t, info, dims, `holds ${raw.length} bytes of raw_data; ${expected} expected`);
    return fromRawBytes(info, raw, n);
  }
  return fromTypedField(t, info, dims, n);
}

/** Component width in bytes (a complex number has two components). */
function componentBytes(info: ElemTypeInfo): number {
  return info.name === 'COMPLEX64' || info.name === 'COMPLEX128' ? info.bits / 16 : info.bits / 8;
}

function fromRawBytes(info: ElemTypeInfo, raw: Uint8Array, n: number): OnnxTensorValues {
  if (info.bits < 8) return unpackSubByte(info, raw, n);
  // A fresh copy: aligned for the typed-array view below, and independent of the model's buffer.
  const bytes = new Uint8Array(raw);
  const width = componentBytes(info);
  if (!HOST_LITTLE_ENDIAN && width > 1) swapBytes(bytes, width);
  const buf = bytes.buffer;
  switch (info.name) {
    case 'FLOAT':
    case 'COMPLEX64':
      return new Float32Array(buf);
    case 'DOUBLE':
    case 'COMPLEX128':
      return new Float64Array(buf);
    case 'INT8':
      return new Int8Array(buf);
    case 'INT16':
      return new Int16Array(buf);
    case 'UINT16':
    case 'FLOAT16':
    case 'BFLOAT16':
      return new Uint16Array(buf);
    case 'INT32':
      return new Int32Array(buf);
    case 'UINT32':
      return new Uint32Array(buf);
    case 'INT64':
      return new BigInt64Array(buf);
    case 'UINT64':
      return new BigUint64Array(buf);
    case 'BOOL':
      for (let i = 0; i < bytes.length; i++) bytes[i] = bytes[i] === 0 ? 0 : 1;
      return bytes;
    default:
      return bytes; // UINT8 and the 8-bit float formats: one byte per element, as stored
  }
}

function swapBytes(bytes: Uint8Array, width: number): void {
  for (let o = 0; o + width <= bytes.length; o += width) {
    for (let a = o, b = o + width - 1; a < b; a++, b--) {
      const x = bytes[a] ?? 0;
      bytes[a] = bytes[b] ?? 0;
      bytes[b] = x;
    }
  }
}

/** Unpacks 4-bit (two per byte) or 2-bit (four per byte) elements, low bits first. */
function unpackSubByte(info: ElemTypeInfo, packed: ArrayLike<number>, n: number): Int8Array | Uint8Array {
  const bits = info.bits;
  const perByte = 8 / bits;
  const mask = (1 << bits) - 1;
  const signed = info.name === 'INT4' || info.name === 'INT2';
  const out = signed ? new Int8Array(n) : new Uint8Array(n);
  const shiftBack = 32 - bits;
  for (let i = 0; i < n; i++) {
    const byte = (packed[Math.floor(i / perByte)] ?? 0) & 0xff;
    const v = (byte >>> ((i % perByte) * bits)) & mask;
    out[i] = signed ? (v << shiftBack) >> shiftBack : v;
  }
  return out;
}

function fromTypedField(t: onnx.ITensorProto, info: ElemTypeInfo, dims: readonly number[], n: number): OnnxTensorValues {
  const complex = info.name === 'COMPLEX64' || info.name === 'COMPLEX128';
  const expected = info.bits < 8 ? Math.ceil((n * info.bits) / 8) : complex ? 2 * n : n;
  const values = t[info.typedField] ?? [];
  if (values.length !== expected) {
    const what = values.length === 0 ? 'holds no data' : `holds ${values.length} values in ${snake(info.typedField)}; ${expected} expected`;
    invalid(t, info, dims, what);
  }
  switch (info.typedField) {
    case 'floatData':
      return Float32Array.from(t.floatData ?? []);
    case 'doubleData':
      return Float64Array.from(t.doubleData ?? []);
    case 'int64Data':
      return BigInt64Array.from(t.int64Data ?? [], (v) => BigInt.asIntN(64, int64ToBigInt(v)));
    case 'uint64Data': {
      const big = (t.uint64Data ?? []).map((v) => BigInt.asUintN(64, int64ToBigInt(v)));
      return info.name === 'UINT32' ? Uint32Array.from(big, (v) => Number(BigInt.asUintN(32, v))) : BigUint64Array.from(big);
    }
    case 'stringData':
      return (t.stringData ?? []).map((s) => utf8.decode(s));
    case 'int32Data': {
      const ints = t.int32Data ?? [];
      if (info.bits < 8) return unpackSubByte(info, ints, n);
      switch (info.name) {
        case 'INT8':
          return Int8Array.from(ints);
        case 'INT16':
          return Int16Array.from(ints);
        case 'UINT16':
        case 'FLOAT16':
        case 'BFLOAT16':
          return Uint16Array.from(ints);
        case 'INT32':
          return Int32Array.from(ints);
        case 'BOOL':
          return Uint8Array.from(ints, (v) => (v === 0 ? 0 : 1));
        default:
          return Uint8Array.from(ints); // UINT8 and the 8-bit float formats
      }
    }
  }
}

function snake(field: string): string {
  return field.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);
}
