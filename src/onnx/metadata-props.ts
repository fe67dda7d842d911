/**
 * A model's `metadata_props` (key → value), read without loading the model: only the top-level
 * fields of the ModelProto are walked, and every one but `metadata_props` is skipped by its length,
 * so a model of every size costs a few small reads. Reference profiles read `feature_names` from it;
 * the runtime reads `slipway.quantization` to set the session options a model needs.
 */
import { open } from 'node:fs/promises';
import { onnx } from './generated/onnx.js';

/** ModelProto field numbers and protobuf wire types. */
const METADATA_PROPS = 14;
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;
/** A metadata entry larger than this is not read (nobody writes megabytes of feature names). */
const MAX_ENTRY_BYTES = 4 * 1024 * 1024;
/** Top-level fields walked at most (a ModelProto has a dozen kinds; repeated ones add a few). */
const MAX_FIELDS = 100_000;

/** Random access to the model's bytes: a file on disk, or a buffer (an artifact decrypted in memory). */
interface ByteSource {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

/** A buffer as a {@link ByteSource}. */
function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    async read(buffer, offset, length, position) {
      const part = bytes.subarray(position, Math.min(bytes.length, position + length));
      buffer.set(part, offset);
      return { bytesRead: part.length };
    },
  };
}

/** Reads a varint at `pos`; returns it with the position after it, or undefined past the end. */
async function varint(file: ByteSource, pos: number, size: number): Promise<{ value: number; next: number } | undefined> {
  const buf = Buffer.alloc(10);
  const { bytesRead } = await file.read(buf, 0, Math.min(10, size - pos), pos);
  let value = 0;
  let scale = 1;
  for (let i = 0; i < bytesRead; i++) {
    const b = buf[i] as number;
    value += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) return { value, next: pos + i + 1 };
  }
  return undefined;
}

/** The `key → value` metadata of the ONNX file at `path`; empty when it has none or is not readable as ONNX. */
export async function readOnnxMetadata(path: string): Promise<Record<string, string>> {
  const file = await open(path, 'r');
  try {
    return await metadataOf(file, (await file.stat()).size);
  } finally {
    await file.close();
  }
}

/** The same from the model's bytes in memory (an artifact stored encrypted, decrypted by the blob store). */
export async function readOnnxMetadataFromBytes(bytes: Uint8Array): Promise<Record<string, string>> {
  return metadataOf(bufferSource(bytes), bytes.length);
}

async function metadataOf(file: ByteSource, size: number): Promise<Record<string, string>> {
  const metadata: Record<string, string> = {};
  try {
    let pos = 0;
    for (let fields = 0; pos < size && fields < MAX_FIELDS; fields++) {
      const tag = await varint(file, pos, size);
      if (tag === undefined) break;
      const field = Math.floor(tag.value / 8);
      const wire = tag.value % 8;
      pos = tag.next;
      if (wire === VARINT) {
        const v = await varint(file, pos, size);
        if (v === undefined) break;
        pos = v.next;
      } else if (wire === FIXED64) pos += 8;
      else if (wire === FIXED32) pos += 4;
      else if (wire === LENGTH_DELIMITED) {
        const length = await varint(file, pos, size);
        if (length === undefined || length.next + length.value > size) break;
        pos = length.next;
        if (field === METADATA_PROPS && length.value <= MAX_ENTRY_BYTES) {
          const bytes = Buffer.alloc(length.value);
          await file.read(bytes, 0, length.value, pos);
          const entry = onnx.StringStringEntryProto.decode(bytes);
          if (typeof entry.key === 'string') metadata[entry.key] = typeof entry.value === 'string' ? entry.value : '';
        }
        pos += length.value;
      } else break;
    }
  } catch {
    // not protobuf where expected: no metadata (the model itself was checked at registration)
  }
  return metadata;
}

