/**
 * Facts about every ONNX element type (TensorProto.DataType): its name, its spelling in ONNX type
 * strings, its width, where typed (non-raw) tensor data keeps it, and its Open Inference Protocol
 * datatype when it has one.
 */
import type { Datatype } from '../core/index.js';
import { onnx } from './generated/onnx.js';

/** Which TensorProto field holds a type's values when raw_data is not used. */
export type TypedField = 'floatData' | 'doubleData' | 'int32Data' | 'int64Data' | 'uint64Data' | 'stringData';

/** What the toolkit knows about one ONNX element type. */
export interface ElemTypeInfo {
  /** The TensorProto.DataType name, e.g. `FLOAT`. */
  readonly name: string;
  readonly code: number;
  /** The spelling in ONNX type strings, e.g. `float` in `tensor(float)`. */
  readonly text: string;
  /** Bits per element; 0 for STRING (variable length). Complex types count both parts. */
  readonly bits: number;
  /** The field that holds the values when raw_data is absent. */
  readonly typedField: TypedField;
  /** The Open Inference Protocol datatype, or null when the protocol has no form for it. */
  readonly datatype: Datatype | null;
}

const D = onnx.TensorProto.DataType;

const INFOS: readonly ElemTypeInfo[] = [
  info('FLOAT', 32, 'floatData', 'FP32'),
  info('UINT8', 8, 'int32Data', 'UINT8'),
  info('INT8', 8, 'int32Data', 'INT8'),
  info('UINT16', 16, 'int32Data', 'UINT16'),
  info('INT16', 16, 'int32Data', 'INT16'),
  info('INT32', 32, 'int32Data', 'INT32'),
  info('INT64', 64, 'int64Data', 'INT64'),
  info('STRING', 0, 'stringData', 'BYTES'),
  info('BOOL', 8, 'int32Data', 'BOOL'),
  info('FLOAT16', 16, 'int32Data', 'FP16'),
  info('DOUBLE', 64, 'doubleData', 'FP64'),
  info('UINT32', 32, 'uint64Data', 'UINT32'),
  info('UINT64', 64, 'uint64Data', 'UINT64'),
  info('COMPLEX64', 64, 'floatData', null),
  info('COMPLEX128', 128, 'doubleData', null),
  info('BFLOAT16', 16, 'int32Data', null),
  info('FLOAT8E4M3FN', 8, 'int32Data', null),
  info('FLOAT8E4M3FNUZ', 8, 'int32Data', null),
  info('FLOAT8E5M2', 8, 'int32Data', null),
  info('FLOAT8E5M2FNUZ', 8, 'int32Data', null),
  info('UINT4', 4, 'int32Data', null),
  info('INT4', 4, 'int32Data', null),
  info('FLOAT4E2M1', 4, 'int32Data', null),
  info('FLOAT8E8M0', 8, 'int32Data', null),
  info('UINT2', 2, 'int32Data', null),
  info('INT2', 2, 'int32Data', null),
];

function info(name: keyof typeof D, bits: number, typedField: TypedField, datatype: Datatype | null): ElemTypeInfo {
  return Object.freeze({ name, code: D[name], text: name.toLowerCase(), bits, typedField, datatype });
}

const BY_CODE = new Map<number, ElemTypeInfo>(INFOS.map((i) => [i.code, i]));

/** The facts for an element type code, or undefined for UNDEFINED (0) and codes this schema does not know. */
export function elemTypeInfo(code: number | null | undefined): ElemTypeInfo | undefined {
  return code === null || code === undefined ? undefined : BY_CODE.get(code);
}

/** Every known element type, in code order. */
export function elemTypeInfos(): readonly ElemTypeInfo[] {
  return INFOS;
}

/** The TensorProto.DataType name of a code (`FLOAT`), `UNDEFINED` for 0, `DATATYPE_<n>` for unknown codes. */
export function elemTypeName(code: number | null | undefined): string {
  if (code === null || code === undefined || code === 0) return 'UNDEFINED';
  return BY_CODE.get(code)?.name ?? `DATATYPE_${code}`;
}

/** The spelling of a code in ONNX type strings (`float`), `undefined` for 0, `unknown(<n>)` for unknown codes. */
export function elemTypeText(code: number | null | undefined): string {
  if (code === null || code === undefined || code === 0) return 'undefined';
  return BY_CODE.get(code)?.text ?? `unknown(${code})`;
}
