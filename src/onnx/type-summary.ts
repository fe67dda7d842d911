/**
 * Plain descriptions of ONNX value types (TypeProto): tensors with their element type and dims,
 * and the non-tensor types classical-ML exporters produce (sequences, maps, optionals, sparse
 * tensors, opaque types), recursively, each with its ONNX type string (`seq(map(int64,tensor(float)))`).
 */
import type { Datatype } from '../core/index.js';
import { elemTypeInfo, elemTypeName, elemTypeText } from './elem-types.js';
import type { onnx } from './generated/onnx.js';
import { longToNumber } from './int64.js';

/** One dimension: a number is fixed, a string symbolic (`batch`), null unknown. */
export type Dim = number | string | null;

interface TensorLike {
  /** The TensorProto.DataType name, e.g. `FLOAT` (`UNDEFINED`, or `DATATYPE_<n>` for a code the schema does not know). */
  readonly elemType: string;
  /** The Open Inference Protocol datatype, or null when the element type has no OIP form. */
  readonly datatype: Datatype | null;
  /** The dims, or null when the type declares no shape at all (rank unknown). */
  readonly dims: readonly Dim[] | null;
  /** The ONNX type string, e.g. `tensor(float)` (shapes are not part of it). */
  readonly text: string;
}

/** A dense tensor: `tensor(float)`. */
export interface TensorTypeSummary extends TensorLike {
  readonly kind: 'tensor';
}
/** A sparse tensor: `sparse_tensor(float)`. */
export interface SparseTensorTypeSummary extends TensorLike {
  readonly kind: 'sparse_tensor';
}
/** A sequence of values of one type: `seq(tensor(float))`. */
export interface SequenceTypeSummary {
  readonly kind: 'sequence';
  readonly elem: TypeSummary;
  readonly text: string;
}
/** A map from a scalar key type to values of one type: `map(int64,tensor(float))`. */
export interface MapTypeSummary {
  readonly kind: 'map';
  /** The key's TensorProto.DataType name, e.g. `INT64`. */
  readonly keyType: string;
  readonly value: TypeSummary;
  readonly text: string;
}
/** A value that may be absent: `optional(tensor(float))`. */
export interface OptionalTypeSummary {
  readonly kind: 'optional';
  readonly elem: TypeSummary;
  readonly text: string;
}
/** An ONNX-ML opaque type, known only by domain and name: `opaque(com.example,Image)`. */
export interface OpaqueTypeSummary {
  readonly kind: 'opaque';
  readonly domain: string;
  readonly name: string;
  readonly text: string;
}
/** A value whose type is missing, or set to nothing the schema knows. */
export interface UndefinedTypeSummary {
  readonly kind: 'undefined';
  readonly text: 'undefined';
}

/** What a value's TypeProto says, as plain data. */
export type TypeSummary =
  | TensorTypeSummary
  | SparseTensorTypeSummary
  | SequenceTypeSummary
  | MapTypeSummary
  | OptionalTypeSummary
  | OpaqueTypeSummary
  | UndefinedTypeSummary;

const UNDEFINED: UndefinedTypeSummary = Object.freeze({ kind: 'undefined', text: 'undefined' });

function dimsOf(shape: onnx.ITensorShapeProto | null | undefined, where: string): Dim[] | null {
  if (shape === null || shape === undefined) return null;
  return (shape.dim ?? []).map((d, i): Dim => {
    if (d.dimValue !== null && d.dimValue !== undefined) {
      const n = longToNumber(d.dimValue, `dimension ${i} of ${where}`);
      // Some exporters write -1 for "dynamic"; the IR says a dimension is ≥ 0, so treat it as unknown.
      return n >= 0 ? n : null;
    }
    if (typeof d.dimParam === 'string' && d.dimParam !== '') return d.dimParam;
    return null;
  });
}

/**
 * Describes a TypeProto. `where` names the value in errors (a dimension beyond 2^53 throws
 * ONNX_INT64_OUT_OF_RANGE).
 */
export function summarizeType(type: onnx.ITypeProto | null | undefined, where = 'a value'): TypeSummary {
  if (type === null || type === undefined) return UNDEFINED;
  if (type.tensorType) {
    const t = type.tensorType;
    return {
      kind: 'tensor',
      elemType: elemTypeName(t.elemType),
      datatype: elemTypeInfo(t.elemType)?.datatype ?? null,
      dims: dimsOf(t.shape, where),
      text: `tensor(${elemTypeText(t.elemType)})`,
    };
  }
  if (type.sparseTensorType) {
    const t = type.sparseTensorType;
    return {
      kind: 'sparse_tensor',
      elemType: elemTypeName(t.elemType),
      datatype: elemTypeInfo(t.elemType)?.datatype ?? null,
      dims: dimsOf(t.shape, where),
      text: `sparse_tensor(${elemTypeText(t.elemType)})`,
    };
  }
  if (type.sequenceType) {
    const elem = summarizeType(type.sequenceType.elemType, where);
    return { kind: 'sequence', elem, text: `seq(${elem.text})` };
  }
  if (type.mapType) {
    const value = summarizeType(type.mapType.valueType, where);
    const keyType = type.mapType.keyType;
    return { kind: 'map', keyType: elemTypeName(keyType), value, text: `map(${elemTypeText(keyType)},${value.text})` };
  }
  if (type.optionalType) {
    const elem = summarizeType(type.optionalType.elemType, where);
    return { kind: 'optional', elem, text: `optional(${elem.text})` };
  }
  if (type.opaqueType) {
    const domain = type.opaqueType.domain ?? '';
    const name = type.opaqueType.name ?? '';
    return { kind: 'opaque', domain, name, text: `opaque(${domain},${name})` };
  }
  return UNDEFINED;
}

/** Formats dims for people: `[batch, 3, ?]`, or `[…]` when the rank is unknown. */
export function formatDims(dims: readonly Dim[] | null): string {
  if (dims === null) return '[…]';
  return `[${dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}
