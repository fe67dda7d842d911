/**
 * Conversion between Slipway's {@link Tensor} and onnxruntime-node's `ort.Tensor`. Runs inside the
 * replica worker (and in tests); the main thread never needs it.
 *
 * What onnxruntime-node 1.30 accepts and returns, checked against the library:
 * - `bool` tensors take and give a Uint8Array; we normalise inputs to 0/1.
 * - `float16` tensors take a Uint16Array of bit patterns. On runtimes that have a global
 *   `Float16Array`, outputs come back as one; we reinterpret its bytes as Uint16Array bits.
 * - `int64`/`uint64` take and give BigInt64Array/BigUint64Array; `string` takes and gives string[].
 */
import * as ort from 'onnxruntime-node';
import { elementCount, type Datatype, type Tensor, type TensorData } from '../../core/index.js';
import { RuntimeErrors } from '../errors.js';
import { datatypeOfOrtType, ORT_TYPE_BY_DATATYPE, type OrtValueInfo } from './metadata.js';

type TypedArrayConstructor =
  | Uint8ArrayConstructor
  | Int8ArrayConstructor
  | Uint16ArrayConstructor
  | Int16ArrayConstructor
  | Uint32ArrayConstructor
  | Int32ArrayConstructor
  | BigUint64ArrayConstructor
  | BigInt64ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor;

/** The array type core tensors use for each datatype (BYTES uses string[]). */
const ARRAY_TYPE: Readonly<Record<Exclude<Datatype, 'BYTES'>, TypedArrayConstructor>> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

/**
 * Checks that a tensor's data has the array type of its datatype and as many elements as its
 * shape says. Throws RUNTIME_TENSOR_INVALID naming the tensor otherwise.
 */
export function checkTensor(tensor: Tensor): void {
  const { name, datatype, shape, data } = tensor;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw RuntimeErrors.RUNTIME_TENSOR_INVALID(`tensor "${name}": shape [${shape.join(', ')}] must hold non-negative integers`);
    }
  }
  if (datatype === 'BYTES') {
    if (!Array.isArray(data) || !data.every((s) => typeof s === 'string')) {
      throw RuntimeErrors.RUNTIME_TENSOR_INVALID(`tensor "${name}": datatype BYTES needs an array of strings`);
    }
  } else {
    const expected = ARRAY_TYPE[datatype];
    if (!(data instanceof expected)) {
      throw RuntimeErrors.RUNTIME_TENSOR_INVALID(
        `tensor "${name}": datatype ${datatype} needs ${expected.name} data, got ${Array.isArray(data) ? 'Array' : data.constructor.name}`,
      );
    }
  }
  const count = elementCount(shape);
  if (data.length !== count) {
    throw RuntimeErrors.RUNTIME_TENSOR_INVALID(
      `tensor "${name}": ${data.length} elements do not fill shape [${shape.join(', ')}] (${count} expected)`,
    );
  }
}

/** Maps every non-zero byte to 1, copying only when some value is neither 0 nor 1. */
function normaliseBool(data: Uint8Array): Uint8Array {
  for (let i = 0; i < data.length; i++) {
    if ((data[i] ?? 0) > 1) return data.map((v) => (v === 0 ? 0 : 1));
  }
  return data;
}

/** Converts a core tensor to an onnxruntime tensor, sharing its buffer where the types allow. */
export function toOrtTensor(tensor: Tensor): ort.Tensor {
  checkTensor(tensor);
  const dims = [...tensor.shape];
  const type = ORT_TYPE_BY_DATATYPE[tensor.datatype];
  switch (tensor.datatype) {
    case 'BYTES':
      return new ort.Tensor('string', tensor.data as string[], dims);
    case 'BOOL':
      return new ort.Tensor('bool', normaliseBool(tensor.data as Uint8Array), dims);
    default:
      // the constructor overloads are keyed by type; the check above made data match `type`
      return new ort.Tensor(type, tensor.data as Exclude<TensorData, string[]> as Float32Array, dims);
  }
}

/** Reinterprets a half-precision array (a Uint16Array, or a Float16Array where one exists) as bits. */
function float16Bits(data: unknown): Uint16Array {
  if (data instanceof Uint16Array) return data;
  if (ArrayBuffer.isView(data) && data.byteLength % 2 === 0) return new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
  throw RuntimeErrors.RUNTIME_INFERENCE_FAILED('onnxruntime returned float16 data in an unexpected form');
}

/**
 * Converts an onnxruntime output to a core tensor named `name`. Throws RUNTIME_UNSUPPORTED_MODEL
 * for an element type without a protocol datatype (int4, uint4).
 */
export function fromOrtTensor(name: string, value: ort.Tensor): Tensor {
  const datatype = datatypeOfOrtType(value.type);
  if (datatype === undefined) {
    throw RuntimeErrors.RUNTIME_UNSUPPORTED_MODEL(`output "${name}" has element type ${value.type}, which no Open Inference Protocol datatype carries`);
  }
  const shape = value.dims.map((d) => Number(d));
  const raw: unknown = value.data;
  let data: TensorData;
  if (datatype === 'FP16') data = float16Bits(raw);
  else if (datatype === 'BYTES') data = Array.isArray(raw) ? raw.map(String) : [];
  else data = raw as TensorData;
  const tensor: Tensor = { name, datatype, shape, data };
  checkTensor(tensor);
  return tensor;
}

/**
 * Zero-filled tensors for a model's inputs, used for warm-up: a dynamic first dimension becomes
 * `batch`, other dynamic and symbolic dimensions 1; numbers 0, BOOL false and BYTES the empty string.
 */
export function zeroInputs(inputs: readonly OrtValueInfo[], batch = 1): Tensor[] {
  const out: Tensor[] = [];
  for (const info of inputs) {
    if (!info.isTensor) continue;
    const datatype = datatypeOfOrtType(info.type);
    if (datatype === undefined) continue;
    const shape = info.shape.map((d, i) => (typeof d === 'number' && d >= 0 ? d : i === 0 ? batch : 1));
    const n = elementCount(shape);
    const data: TensorData = datatype === 'BYTES' ? new Array<string>(n).fill('') : new ARRAY_TYPE[datatype](n);
    out.push({ name: info.name, datatype, shape, data });
  }
  return out;
}
