/**
 * From an inspection to the serving signature: the tensors a model takes and returns, in the Open
 * Inference Protocol's datatypes. Anything the protocol cannot carry is refused here, at
 * registration, with the input or output named and a way out — not at the first request.
 */
import type { ModelSignature, TensorSpec } from '../core/index.js';
import { OnnxErrors } from './errors.js';
import type { ModelInspection, OutputSummary, ValueSummary } from './inspect.js';
import type { TypeSummary } from './type-summary.js';

/** One input or output the signature cannot express. */
export interface SignatureProblem {
  readonly role: 'input' | 'output';
  readonly name: string;
  /** The ONNX type string, e.g. `seq(map(int64,tensor(float)))`. */
  readonly type: string;
  /** The full sentence: which value, what it is, and how to fix it. */
  readonly message: string;
}

const ZIPMAP_FIX = "re-export without ZipMap (skl2onnx: options={'zipmap': False})";

/** Why a tensor element type has no protocol form, and what to do about it. */
function elemTypeAdvice(elemType: string): string {
  if (elemType === 'BFLOAT16') return 'the Open Inference Protocol has no bfloat16 — add a Cast to FLOAT or FLOAT16 at the graph boundary';
  if (elemType.startsWith('FLOAT8') || elemType === 'FLOAT4E2M1') {
    return `the Open Inference Protocol has no ${elemType.toLowerCase()} — keep low-precision types inside the graph and Cast to FLOAT16 or FLOAT at its boundary`;
  }
  if (elemType.startsWith('COMPLEX')) return 'the Open Inference Protocol has no complex numbers — return the real and imaginary parts as two tensors';
  if (/^U?INT[24]$/.test(elemType)) return `the Open Inference Protocol has no ${elemType.toLowerCase()} — Cast to INT8 or UINT8 at the graph boundary`;
  if (elemType === 'UNDEFINED') return 'the model does not declare its element type — re-export it with a typed input/output';
  return 'Slipway does not know this element type — re-export with a standard one';
}

function nonTensorAdvice(value: ValueSummary | OutputSummary, type: TypeSummary): string {
  const zipmap = 'producer' in value && value.producer?.opType === 'ZipMap';
  if (zipmap || (type.kind === 'sequence' && type.elem.kind === 'map')) {
    return ` (a ZipMap): Slipway serves tensors only — ${ZIPMAP_FIX}`;
  }
  switch (type.kind) {
    case 'sequence':
      return ': Slipway serves tensors only — end the graph with ConcatFromSequence (or SequenceAt) so it returns a tensor';
    case 'map':
      return ': Slipway serves tensors only — return the keys and values as two tensors instead of a map';
    case 'optional':
      return ': Slipway serves tensors only — make it a plain tensor (an Optional cannot travel over the Open Inference Protocol)';
    case 'sparse_tensor':
      return ': Slipway serves dense tensors only — densify it in the graph or export a dense tensor';
    case 'opaque':
      return ': Slipway serves tensors only — an opaque type cannot travel over the Open Inference Protocol';
    default:
      return ': it declares no type — re-export the model with a typed input/output';
  }
}

function toSpec(value: ValueSummary, role: 'input' | 'output', problems: SignatureProblem[]): TensorSpec | undefined {
  const { type, name } = value;
  const problem = (message: string): undefined => {
    problems.push({ role, name, type: type.text, message });
    return undefined;
  };
  if (type.kind !== 'tensor') return problem(`${role} '${name}' is ${type.text}${nonTensorAdvice(value, type)}`);
  if (type.datatype === null) return problem(`${role} '${name}' is ${type.text}: ${elemTypeAdvice(type.elemType)}`);
  if (type.dims === null) {
    return problem(
      `${role} '${name}' is ${type.text} without a shape (rank unknown): Slipway checks requests against each tensor's rank — re-export with a shape (symbolic dimensions such as 'batch' are fine)`,
    );
  }
  const shape = type.dims.map((d) => (typeof d === 'number' ? d : -1));
  const symbolic = type.dims.some((d) => typeof d === 'string');
  return {
    name,
    datatype: type.datatype,
    shape,
    ...(symbolic ? { dimNames: type.dims.map((d) => (typeof d === 'string' ? d : null)) } : {}),
  };
}

/**
 * Turns an inspection into the tensors the model serves. ONNX element types map to protocol
 * datatypes (FLOAT→FP32, DOUBLE→FP64, FLOAT16→FP16, STRING→BYTES, BOOL and the integer types by
 * name); dimensions that are symbolic or unknown become -1, and `dimNames` keeps the symbolic names.
 * Throws ONNX_UNSUPPORTED_SIGNATURE listing every input and output that is not a tensor of such a
 * datatype with a known rank (details.problems holds one entry each).
 */
export function toSignature(inspection: Pick<ModelInspection, 'inputs' | 'outputs'>): ModelSignature {
  const problems: SignatureProblem[] = [];
  const inputs = inspection.inputs.map((v) => toSpec(v, 'input', problems));
  const outputs = inspection.outputs.map((v) => toSpec(v, 'output', problems));
  if (problems.length > 0) {
    const message =
      problems.length === 1
        ? (problems[0]?.message ?? '')
        : `${problems.length} inputs/outputs cannot be served: ${problems.map((p, i) => `(${i + 1}) ${p.message}`).join('; ')}`;
    throw OnnxErrors.ONNX_UNSUPPORTED_SIGNATURE(message, { details: { problems } });
  }
  return {
    inputs: inputs.filter((s): s is TensorSpec => s !== undefined),
    outputs: outputs.filter((s): s is TensorSpec => s !== undefined),
  };
}
