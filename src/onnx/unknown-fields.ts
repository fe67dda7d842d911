/**
 * Finding protobuf fields that Slipway's ONNX schema does not know. protobufjs's static decoders
 * drop such fields by default; ours keep them (readModel decodes with `discardUnknown = false`, so
 * each message carries its unknown fields in a hidden `$unknowns` list that encoding writes back).
 * This module reports them, so that a caller can warn, or refuse a rewrite it cannot vouch for.
 */
import { OnnxErrors } from './errors.js';
import type { onnx } from './generated/onnx.js';
import { decodeModel } from './model-io.js';

/** One field the schema could not place. */
export interface UnknownField {
  /** Property path of the message that holds it, e.g. `graph.initializer[1]` (`` for the model itself). */
  readonly path: string;
  /** The message type, e.g. `onnx.TensorProto`. */
  readonly messageType: string;
  readonly fieldNumber: number;
  /** Protobuf wire type: 0 varint, 1 fixed64, 2 length-delimited, 3/4 group, 5 fixed32. */
  readonly wireType: number;
  /** Bytes the field takes on the wire, tag included. */
  readonly byteLength: number;
}

interface MessageLike {
  readonly $unknowns?: readonly Uint8Array[];
}

function messageTypeOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const ctor = (value as { constructor?: { getTypeUrl?: unknown } }).constructor;
  if (!ctor || typeof ctor.getTypeUrl !== 'function') return undefined;
  const url = (ctor.getTypeUrl as (prefix: string) => string)('');
  return url.startsWith('/') ? url.slice(1) : url;
}

function readTag(chunk: Uint8Array): number {
  let tag = 0;
  for (let i = 0, shift = 0; i < chunk.length && i < 5; i++, shift += 7) {
    const b = chunk[i] ?? 0;
    tag += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  return tag;
}

/**
 * Lists every field of a model that the schema does not know: fields with numbers it does not
 * define, and values it cannot hold in a known field (an enum value it does not list, or a wire
 * type that does not match the field). Accepts the `.onnx` bytes, or a model decoded by
 * {@link readModel}/{@link decodeModel} (a model built in code has none). Empty when nothing is unknown.
 */
export function findUnknownFields(input: Uint8Array | onnx.ModelProto): UnknownField[] {
  const model = input instanceof Uint8Array ? decodeModel(input) : input;
  const found: UnknownField[] = [];
  const visit = (message: object, messageType: string, path: string): void => {
    for (const chunk of (message as MessageLike).$unknowns ?? []) {
      const tag = readTag(chunk);
      found.push({ path, messageType, fieldNumber: Math.floor(tag / 8), wireType: tag % 8, byteLength: chunk.length });
    }
    for (const [key, value] of Object.entries(message)) {
      const base = path === '' ? key : `${path}.${key}`;
      if (Array.isArray(value)) {
        // Repeated fields hold one kind of value: skip lists of numbers or bytes (float_data can be huge).
        if (value.length === 0 || messageTypeOf(value[0]) === undefined) continue;
        value.forEach((item: unknown, i) => {
          const type = messageTypeOf(item);
          if (type !== undefined) visit(item as object, type, `${base}[${i}]`);
        });
      } else {
        const type = messageTypeOf(value);
        if (type !== undefined) visit(value as object, type, base);
      }
    }
  };
  visit(model, messageTypeOf(model) ?? 'onnx.ModelProto', '');
  return found;
}

/**
 * Throws ONNX_UNKNOWN_FIELDS when the model carries fields the schema does not know. For
 * operations that must vouch for every byte they write (e.g. a rewrite that rebuilds messages
 * instead of editing them in place, which would drop the hidden unknown fields).
 */
export function assertNoUnknownFields(input: Uint8Array | onnx.ModelProto, operation = 'this operation'): void {
  const unknown = findUnknownFields(input);
  if (unknown.length === 0) return;
  const listed = unknown
    .slice(0, 5)
    .map((u) => `field ${u.fieldNumber} of ${u.messageType} at ${u.path === '' ? 'the model' : u.path}`)
    .join(', ');
  const more = unknown.length > 5 ? ` and ${unknown.length - 5} more` : '';
  throw OnnxErrors.ONNX_UNKNOWN_FIELDS(
    `the model carries ${unknown.length} protobuf field(s) that Slipway's ONNX schema does not know (${listed}${more}); ${operation} refuses rather than risk dropping them`,
    { details: { unknownFields: unknown } },
  );
}
