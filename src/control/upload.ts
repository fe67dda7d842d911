/**
 * Receives a model upload: streams the request body (raw bytes, or the `file` part of a
 * multipart/form-data body) to a file, enforcing the size limit while the bytes arrive, and reads
 * the upload's metadata. Nothing is ever held in memory beyond one chunk; the caller owns the file
 * and removes it whatever happens.
 */
import { createWriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { ConfigProblem, PlatformError } from '../core/index.js';
import { bodyChunks } from './body.js';
import { formatBytes } from './bytes.js';
import { ControlErrors } from './errors.js';
import { MultipartParser, multipartBoundary } from './multipart.js';
import type { UploadMetadata } from './types.js';
import {
  finishMetadata,
  metadataFromHeaders,
  metadataFromQuery,
  readUploadMetadata,
  UPLOAD_FIELDS,
  type RawMetadata,
  type UploadField,
} from './validate.js';

export interface ReceiveUploadOptions {
  /** Largest model file accepted, in bytes. */
  readonly maxUploadBytes: number;
  /** Largest total of the multipart metadata fields (everything but the file), in bytes. Default 1 MiB. */
  readonly maxFieldBytes?: number;
}

export interface ReceivedUpload {
  readonly sizeBytes: number;
  readonly metadata: UploadMetadata;
}

const DEFAULT_MAX_FIELD_BYTES = 1024 * 1024;
const FIELD_NAMES = Object.keys(UPLOAD_FIELDS) as UploadField[];

function tooLarge(limit: number, declared?: number): PlatformError {
  const what = declared === undefined ? 'the uploaded model is larger than' : `the upload declares ${formatBytes(declared)} (${declared} bytes), more than`;
  return ControlErrors.CONTROL_UPLOAD_TOO_LARGE(`${what} the server accepts: ${formatBytes(limit)} (${limit} bytes)`, {
    details: { limitBytes: limit, ...(declared === undefined ? {} : { declaredBytes: declared }) },
  });
}

function incomplete(cause?: unknown): PlatformError {
  return ControlErrors.CONTROL_UPLOAD_INCOMPLETE('the upload ended before its body was complete (the connection closed); nothing was registered', {
    ...(cause === undefined ? {} : { cause }),
  });
}

const uploadChunks = (req: IncomingMessage): AsyncGenerator<Buffer> => bodyChunks(req, incomplete);

async function* rawFile(req: IncomingMessage, limit: number): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of uploadChunks(req)) {
    total += chunk.length;
    if (total > limit) throw tooLarge(limit);
    yield chunk;
  }
}

interface MultipartState {
  fileSeen: boolean;
  readonly fields: RawMetadata;
  readonly problems: ConfigProblem[];
}

async function* multipartFile(req: IncomingMessage, boundary: string, limit: number, maxFieldBytes: number, state: MultipartState): AsyncGenerator<Buffer> {
  const parser = new MultipartParser(boundary);
  let current: 'file' | UploadField | 'ignored' = 'ignored';
  let fileBytes = 0;
  let otherBytes = 0;
  let field: Buffer[] = [];
  for await (const chunk of uploadChunks(req)) {
    for (const event of parser.push(chunk)) {
      if (event.type === 'part') {
        if (event.name === 'file') {
          if (state.fileSeen) throw ControlErrors.CONTROL_INVALID_MULTIPART('the body has more than one part named "file"; send one model file per upload');
          state.fileSeen = true;
          current = 'file';
        } else if ((FIELD_NAMES as string[]).includes(event.name)) {
          current = event.name as UploadField;
          field = [];
        } else if (event.filename !== undefined) {
          throw ControlErrors.CONTROL_INVALID_MULTIPART(`unexpected file part "${event.name}": the model file goes in the part named "file"`);
        } else {
          state.problems.push({ path: event.name, message: `unknown field (known: file, ${FIELD_NAMES.join(', ')})` });
          current = 'ignored';
        }
      } else if (event.type === 'data') {
        if (current === 'file') {
          fileBytes += event.data.length;
          if (fileBytes > limit) throw tooLarge(limit);
          yield event.data;
        } else {
          otherBytes += event.data.length;
          if (otherBytes > maxFieldBytes) {
            throw ControlErrors.CONTROL_INVALID_MULTIPART(`the metadata fields exceed ${formatBytes(maxFieldBytes)}; only the "file" part may be large`);
          }
          if (current !== 'ignored') field.push(event.data);
        }
      } else if (event.type === 'part-end') {
        if (current !== 'file' && current !== 'ignored') (state.fields[current] ??= []).push(Buffer.concat(field).toString('utf8'));
        current = 'ignored';
      }
    }
    if (parser.done) {
      // the epilogue after the closing boundary is read and dropped, within the same bound
      otherBytes += chunk.length;
      if (otherBytes > maxFieldBytes) throw ControlErrors.CONTROL_INVALID_MULTIPART('too many bytes after the closing boundary');
    }
  }
  parser.finish();
}

async function writeFile(source: AsyncGenerator<Buffer>, destination: string): Promise<number> {
  let size = 0;
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      size += chunk.length;
      yield chunk;
    }
  }
  // 'wx': the destination is a fresh temporary name; never follow or reuse an existing file
  await pipeline(counted(), createWriteStream(destination, { flags: 'wx', mode: 0o600 }));
  return size;
}

function isMultipart(contentType: string): boolean {
  return /^multipart\/form-data\s*(;|$)/i.test(contentType);
}

/**
 * Streams an upload into `destination` (which must not exist) and returns its size and metadata.
 * A raw body (any Content-Type but multipart/form-data) is the file itself, with metadata in the
 * query string or X-Slipway-* headers, which are checked before a byte is read. A multipart body
 * carries the file in its `file` part and metadata in fields (fields win over query and headers).
 * Throws CONTROL_UPLOAD_TOO_LARGE as soon as the limit is passed, without reading the rest.
 */
export async function receiveUpload(req: IncomingMessage, query: unknown, destination: string, options: ReceiveUploadOptions): Promise<ReceivedUpload> {
  const limit = options.maxUploadBytes;
  const maxFieldBytes = options.maxFieldBytes ?? DEFAULT_MAX_FIELD_BYTES;
  const problems: ConfigProblem[] = [];
  const fromQuery = metadataFromQuery(query, problems);
  const fromHeaders = metadataFromHeaders(req.headersDistinct, problems);
  const contentType = req.headers['content-type'] ?? '';
  const lengthHeader = req.headers['content-length'];
  const declared = lengthHeader === undefined ? undefined : Number(lengthHeader);

  if (!isMultipart(contentType)) {
    const metadata = readUploadMetadata([fromQuery, fromHeaders], problems);
    finishMetadata(problems);
    if (declared !== undefined && declared > limit) throw tooLarge(limit, declared);
    const sizeBytes = await writeFile(rawFile(req, limit), destination);
    if (sizeBytes === 0) throw ControlErrors.CONTROL_UPLOAD_EMPTY('the request body is empty: send the ONNX file as the body (Content-Type: application/octet-stream)');
    return { sizeBytes, metadata };
  }

  finishMetadata(problems);
  const boundary = multipartBoundary(contentType);
  // a multipart body is the file plus at most maxFieldBytes of fields, plus the framing
  if (declared !== undefined && declared > limit + maxFieldBytes + 64 * 1024) throw tooLarge(limit, declared);
  const state: MultipartState = { fileSeen: false, fields: {}, problems };
  const sizeBytes = await writeFile(multipartFile(req, boundary, limit, maxFieldBytes, state), destination);
  if (!state.fileSeen) {
    throw ControlErrors.CONTROL_INVALID_MULTIPART('the multipart body has no part named "file": put the ONNX bytes in a part named "file" (curl -F file=@model.onnx)');
  }
  const metadata = readUploadMetadata([{ label: 'field', values: state.fields }, fromQuery, fromHeaders], problems);
  finishMetadata(problems);
  if (sizeBytes === 0) throw ControlErrors.CONTROL_UPLOAD_EMPTY('the "file" part is empty: it must hold the ONNX file');
  return { sizeBytes, metadata };
}
