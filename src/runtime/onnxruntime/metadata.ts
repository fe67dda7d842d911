/**
 * The mapping between Open Inference Protocol datatypes and onnxruntime-node's tensor type names,
 * and the translation of a session's value metadata (as onnxruntime reports it) into a
 * {@link ModelSignature}. Imports onnxruntime-node for types only, so the main thread never loads
 * the native binding just to read a signature.
 */
import type { Tensor as OrtTensor } from 'onnxruntime-node';
import type { Datatype, ModelSignature, TensorSpec } from '../../core/index.js';
import { RuntimeErrors } from '../errors.js';

/** onnxruntime-node's tensor element type names (`ort.Tensor.Type`). */
export type OrtType = OrtTensor.Type;

/** The onnxruntime type that carries each protocol datatype. */
export const ORT_TYPE_BY_DATATYPE: Readonly<Record<Datatype, OrtType>> = {
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

const DATATYPE_BY_ORT_TYPE: ReadonlyMap<string, Datatype> = new Map(
  Object.entries(ORT_TYPE_BY_DATATYPE).map(([datatype, ortType]) => [ortType, datatype as Datatype]),
);

/** The protocol datatype for an onnxruntime type name, or undefined (int4, uint4 have none). */
export function datatypeOfOrtType(type: string): Datatype | undefined {
  return DATATYPE_BY_ORT_TYPE.get(type);
}

/**
 * One input or output as onnxruntime reports it (`session.inputMetadata`), reduced to plain data
 * that survives structured clone. Symbolic dimensions are their names; an unnamed dynamic
 * dimension is the empty string.
 */
export type OrtValueInfo =
  | { readonly name: string; readonly isTensor: true; readonly type: string; readonly shape: readonly (number | string)[] }
  | { readonly name: string; readonly isTensor: false };

/** What a replica reports after creating its session. */
export interface OrtModelInfo {
  readonly inputs: readonly OrtValueInfo[];
  readonly outputs: readonly OrtValueInfo[];
}

function tensorSpec(info: OrtValueInfo, role: 'input' | 'output', label: string): TensorSpec {
  if (!info.isTensor) {
    throw RuntimeErrors.RUNTIME_UNSUPPORTED_MODEL(
      `${label}: ${role} "${info.name}" is not a tensor (onnxruntime reports a map or sequence value, as a ZipMap produces); ` +
        'only tensor inputs and outputs can be served over the Open Inference Protocol',
      { details: { [role]: info.name, reason: 'non-tensor' } },
    );
  }
  const datatype = datatypeOfOrtType(info.type);
  if (datatype === undefined) {
    throw RuntimeErrors.RUNTIME_UNSUPPORTED_MODEL(
      `${label}: ${role} "${info.name}" has element type ${info.type}, which no Open Inference Protocol datatype carries`,
      { details: { [role]: info.name, reason: 'element-type', elementType: info.type } },
    );
  }
  const shape = info.shape.map((d) => (typeof d === 'number' ? d : -1));
  const symbolic = info.shape.some((d) => typeof d !== 'number');
  return {
    name: info.name,
    datatype,
    shape,
    ...(symbolic ? { dimNames: info.shape.map((d) => (typeof d === 'string' && d !== '' ? d : null)) } : {}),
  };
}

/**
 * Builds the signature a model has as onnxruntime sees it. Throws RUNTIME_UNSUPPORTED_MODEL naming
 * the first input or output that is not a tensor or has no protocol datatype.
 */
export function signatureFromOrt(info: OrtModelInfo, label: string): ModelSignature {
  return {
    inputs: info.inputs.map((i) => tensorSpec(i, 'input', label)),
    outputs: info.outputs.map((o) => tensorSpec(o, 'output', label)),
  };
}
