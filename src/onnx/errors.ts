/**
 * The ONNX toolkit's error table. Every error the toolkit throws on purpose is built from it.
 */
import { defineErrors } from '../core/index.js';

/** Factories for every ONNX_* error code. */
export const OnnxErrors = defineErrors({
  ONNX_INVALID_MODEL: {
    kind: 'invalid',
    help: 'The bytes are not an ONNX model (not a protobuf ModelProto, or one without ir_version, graph or opset_import); upload the binary .onnx file your exporter wrote.',
  },
  ONNX_EXTERNAL_DATA_UNSUPPORTED: {
    kind: 'invalid',
    help: 'The model keeps tensor data in separate files; save it as one self-contained .onnx (onnx.save_model(model, path, save_as_external_data=False)) and upload that.',
  },
  ONNX_UNSUPPORTED_SIGNATURE: {
    kind: 'invalid',
    help: 'An input or output is not a tensor of a datatype the Open Inference Protocol carries (or has no known rank); the message names each one and how to re-export the model.',
  },
  ONNX_INVALID_TENSOR: {
    kind: 'invalid',
    help: 'A tensor in the model has an unknown element type or data whose length does not match its dims; re-export the model or fix the tensor.',
  },
  ONNX_INT64_OUT_OF_RANGE: {
    kind: 'invalid',
    help: 'A 64-bit integer in the model (a dimension, a version, a count) is beyond what a JavaScript number holds exactly (2^53 - 1); such a model cannot be handled here.',
  },
  ONNX_UNKNOWN_FIELDS: {
    kind: 'invalid',
    help: 'The model carries protobuf fields that Slipway\'s ONNX schema does not know (a newer ONNX IR?); the operation refuses rather than risk dropping them — upgrade Slipway or re-export with an older IR.',
  },
});
