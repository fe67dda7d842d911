/**
 * The ONNX toolkit: read, write, inspect and build ONNX models (docs/onnx.md).
 */
export * from './builder.js';
export { onnx } from './generated/onnx.js';
export { OnnxErrors } from './errors.js';
export { decodeModel, readModel, writeModel, assertSelfContained } from './model-io.js';
export {
  inspectModel,
  normalizeDomain,
  type FunctionSummary,
  type InitializerTally,
  type ModelInspection,
  type OpTypeCount,
  type OpsetSummary,
  type OutputSummary,
  type ValueSummary,
} from './inspect.js';
export { toSignature, type SignatureProblem } from './signature.js';
export {
  summarizeType,
  formatDims,
  type Dim,
  type TypeSummary,
  type TensorTypeSummary,
  type SparseTensorTypeSummary,
  type SequenceTypeSummary,
  type MapTypeSummary,
  type OptionalTypeSummary,
  type OpaqueTypeSummary,
  type UndefinedTypeSummary,
} from './type-summary.js';
export { elemTypeInfo, elemTypeInfos, elemTypeName, elemTypeText, type ElemTypeInfo, type TypedField } from './elem-types.js';
export { longToNumber, int64ToBigInt, type Int64Value, type LongLike } from './int64.js';
export {
  readTensorData,
  tensorByteSize,
  tensorDims,
  tensorElementCount,
  hasExternalData,
  type OnnxTensorValues,
} from './tensor-data.js';
export { findUnknownFields, assertNoUnknownFields, type UnknownField } from './unknown-fields.js';
export { walkModel, type ModelVisitor, type WalkContext } from './walk.js';
export { readOnnxMetadata, readOnnxMetadataFromBytes } from './metadata-props.js';
