/**
 * Reading and writing ONNX model files. Reading refuses, with ONNX_INVALID_MODEL, bytes that are
 * not a plausible ModelProto, and with ONNX_EXTERNAL_DATA_UNSUPPORTED models whose tensors live in
 * side files. Fields the schema does not know are kept (see unknown-fields.ts), so a model that is
 * read, changed and written loses nothing.
 */
import protobuf from 'protobufjs/minimal.js';
import { OnnxErrors } from './errors.js';
import { onnx } from './generated/onnx.js';
import { int64ToBigInt } from './int64.js';
import { hasExternalData } from './tensor-data.js';
import { walkModel } from './walk.js';

/** IR versions above this are treated as implausible (IR 12 is current; new ones come about yearly). */
const MAX_PLAUSIBLE_IR_VERSION = 100n;

/**
 * Decodes ModelProto bytes with no plausibility checks, keeping unknown fields on each message
 * (protobufjs's `$unknowns`) so that encoding the result writes them back. The decoded message
 * shares memory with `bytes` (raw_data, unknown fields): do not modify `bytes` afterwards.
 * Throws ONNX_INVALID_MODEL when the bytes are not protobuf.
 */
export function decodeModel(bytes: Uint8Array): onnx.ModelProto {
  const reader = protobuf.Reader.create(bytes);
  reader.discardUnknown = false;
  try {
    return onnx.ModelProto.decode(reader);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const hint = looksLikeText(bytes)
      ? ' — the file looks like text; an .onnx model is binary protobuf'
      : /index out of range/.test(reason)
        ? ' — the data ends in the middle of a field (a truncated file?)'
        : '';
    throw OnnxErrors.ONNX_INVALID_MODEL(`not an ONNX model: the bytes are not a protobuf ModelProto (decoding failed: ${reason})${hint}`, {
      cause,
      details: { sizeBytes: bytes.length, reason },
    });
  }
}

/**
 * Reads an `.onnx` file's bytes into a ModelProto. Throws ONNX_INVALID_MODEL when the bytes are
 * empty, not protobuf, or decode to something that is not a model (ir_version missing or 0, no
 * graph, no opset_import), and ONNX_EXTERNAL_DATA_UNSUPPORTED when a tensor keeps its data in an
 * external file. Unknown fields are kept (see {@link decodeModel}).
 */
export function readModel(bytes: Uint8Array): onnx.ModelProto {
  if (!(bytes instanceof Uint8Array)) {
    throw OnnxErrors.ONNX_INVALID_MODEL('not an ONNX model: expected the bytes of an .onnx file');
  }
  if (bytes.length === 0) {
    throw OnnxErrors.ONNX_INVALID_MODEL('not an ONNX model: the file is empty', { details: { sizeBytes: 0 } });
  }
  const model = decodeModel(bytes);
  const problems = plausibilityProblems(model);
  if (problems.length > 0) {
    const hint = looksLikeText(bytes) ? ' (the file looks like text; an .onnx model is binary protobuf)' : '';
    throw OnnxErrors.ONNX_INVALID_MODEL(`not an ONNX model: ${problems.join('; ')}${hint}`, {
      details: { sizeBytes: bytes.length, problems },
    });
  }
  assertSelfContained(model);
  return model;
}

function plausibilityProblems(model: onnx.ModelProto): string[] {
  const problems: string[] = [];
  const ir = Object.prototype.hasOwnProperty.call(model, 'irVersion') ? int64ToBigInt(model.irVersion) : 0n;
  if (ir === 0n) problems.push('ir_version is missing or 0');
  else if (ir < 0n || ir > MAX_PLAUSIBLE_IR_VERSION) problems.push(`ir_version ${ir} is not an ONNX IR version`);
  if (!model.graph) problems.push('it has no graph');
  if (model.opsetImport.length === 0) problems.push('it has no opset_import');
  return problems;
}

/** Throws ONNX_EXTERNAL_DATA_UNSUPPORTED naming every tensor whose data lives in an external file. */
export function assertSelfContained(model: onnx.IModelProto): void {
  const external: { tensor: string; path: string; location: string }[] = [];
  walkModel(model, {
    tensor(t, ctx) {
      if (!hasExternalData(t)) return;
      const location = (t.externalData ?? []).find((e) => e.key === 'location')?.value ?? '';
      external.push({ tensor: t.name ?? '', path: ctx.path, location });
    },
  });
  if (external.length === 0) return;
  const first = external[0];
  const names = external.slice(0, 5).map((e) => `'${e.tensor}'`).join(', ') + (external.length > 5 ? ` and ${external.length - 5} more` : '');
  const where = first && first.location ? ` (e.g. in '${first.location}')` : '';
  throw OnnxErrors.ONNX_EXTERNAL_DATA_UNSUPPORTED(
    `the model keeps the data of ${external.length} tensor(s) in external files${where}: ${names}; register a single self-contained .onnx — re-save it with onnx.save_model(model, path, save_as_external_data=False)`,
    { details: { tensors: external } },
  );
}

/**
 * Encodes a model to `.onnx` bytes. Unknown fields kept by {@link readModel} are written back.
 * Throws ONNX_INVALID_MODEL when the message does not fit the schema (a field of the wrong type).
 */
export function writeModel(model: onnx.IModelProto): Uint8Array {
  // a shallow copy: verify() takes a plain indexable object, and only reads fields
  const problem = onnx.ModelProto.verify({ ...model });
  if (problem !== null) {
    throw OnnxErrors.ONNX_INVALID_MODEL(`cannot write the model: ${problem}`, { details: { problem } });
  }
  return onnx.ModelProto.encode(model).finish();
}

/** True when the first bytes are printable text (an ONNX file starts with binary tags). */
function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 256);
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const b = bytes[i] ?? 0;
    const printable = b === 9 || b === 10 || b === 13 || (b >= 32 && b !== 127);
    if (!printable) return false;
  }
  return true;
}
