/**
 * A small streaming multipart/form-data parser (RFC 7578) for model uploads. It holds at most one
 * delimiter's worth of bytes between chunks, so a file part streams straight to disk whatever its
 * size. It understands what browsers, curl and HTTP libraries send: parts with a
 * Content-Disposition `name` (and `filename` for files), and a preamble or epilogue; it does not
 * support the obsolete nested multipart/mixed or Content-Transfer-Encoding (RFC 7578 forbids both).
 */
import type { PlatformError } from '../core/index.js';
import { ControlErrors } from './errors.js';

/** What the parser found, in order. `data` buffers may be views of the pushed chunk. */
export type MultipartEvent =
  | { readonly type: 'part'; readonly name: string; readonly filename: string | undefined; readonly contentType: string | undefined }
  | { readonly type: 'data'; readonly data: Buffer }
  | { readonly type: 'part-end' }
  | { readonly type: 'end' };

export interface MultipartLimits {
  /** Largest header block of one part. */
  readonly maxHeaderBytes: number;
  /** Most parts in one body. */
  readonly maxParts: number;
}

const DEFAULT_LIMITS: MultipartLimits = { maxHeaderBytes: 16 * 1024, maxParts: 64 };

function malformed(message: string): PlatformError {
  return ControlErrors.CONTROL_INVALID_MULTIPART(`malformed multipart/form-data body: ${message}`);
}

/** Reads the boundary from a `multipart/form-data; boundary=…` Content-Type, or throws. */
export function multipartBoundary(contentType: string): string {
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (boundary === undefined) {
    throw ControlErrors.CONTROL_INVALID_MULTIPART('Content-Type multipart/form-data has no valid boundary parameter (1–70 characters)');
  }
  return boundary;
}

/** Parses `form-data; name="file"; filename="m.onnx"` into its parameters (names lower-cased). */
export function parseDisposition(value: string): { type: string; params: Record<string, string> } {
  const semi = value.indexOf(';');
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  const params: Record<string, string> = {};
  const re = /;\s*([^=\s;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  const rest = semi < 0 ? '' : value.slice(semi);
  for (let m = re.exec(rest); m !== null; m = re.exec(rest)) {
    const key = (m[1] ?? '').toLowerCase();
    const quoted = m[2];
    params[key] = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : (m[3] ?? '').trim();
  }
  return { type, params };
}

type State = 'preamble' | 'boundary-line' | 'headers' | 'body' | 'done';

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * Incremental parser: {@link MultipartParser.push} each chunk as it arrives and act on the events
 * it returns; call {@link MultipartParser.finish} when the body ends. Throws CONTROL_INVALID_MULTIPART.
 */
export class MultipartParser {
  private readonly delimiter: Buffer;
  private readonly limits: MultipartLimits;
  private state: State = 'preamble';
  // The body's first boundary may open the body without a preceding CRLF; pretending one was
  // received lets a single delimiter (CRLF "--" boundary) match every boundary.
  private pending: Buffer = Buffer.from(CRLF);
  private parts = 0;

  constructor(boundary: string, limits: Partial<MultipartLimits> = {}) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Whether the closing boundary has been seen (later bytes are the epilogue, ignored). */
  get done(): boolean {
    return this.state === 'done';
  }

  push(chunk: Buffer): MultipartEvent[] {
    const events: MultipartEvent[] = [];
    if (this.state === 'done') return events;
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const keep = this.delimiter.length - 1;
    for (;;) {
      if (this.state === 'preamble') {
        const at = buf.indexOf(this.delimiter);
        if (at < 0) {
          buf = buf.subarray(Math.max(0, buf.length - keep));
          break;
        }
        buf = buf.subarray(at + this.delimiter.length);
        this.state = 'boundary-line';
      } else if (this.state === 'boundary-line') {
        if (buf.length < 2) break;
        if (buf[0] === 0x2d && buf[1] === 0x2d) {
          events.push({ type: 'end' });
          this.state = 'done';
          buf = Buffer.alloc(0);
          break;
        }
        const eol = buf.indexOf(CRLF);
        if (eol < 0) {
          if (buf.length > 256) throw malformed('a boundary line does not end');
          break;
        }
        // RFC 2046 allows transport padding (spaces, tabs) after the boundary
        for (let i = 0; i < eol; i++) {
          if (buf[i] !== 0x20 && buf[i] !== 0x09) throw malformed('unexpected bytes after a boundary');
        }
        buf = buf.subarray(eol + 2);
        if (++this.parts > this.limits.maxParts) throw malformed(`more than ${this.limits.maxParts} parts`);
        this.state = 'headers';
      } else if (this.state === 'headers') {
        if (buf.length >= 2 && buf[0] === 0x0d && buf[1] === 0x0a) throw malformed(`part ${this.parts} has no Content-Disposition header`);
        const end = buf.indexOf(HEADER_END);
        if (end < 0) {
          if (buf.length > this.limits.maxHeaderBytes) throw malformed(`the headers of part ${this.parts} exceed ${this.limits.maxHeaderBytes} bytes`);
          break;
        }
        events.push(this.readHeaders(buf.subarray(0, end).toString('utf8')));
        buf = buf.subarray(end + 4);
        this.state = 'body';
      } else if (this.state === 'body') {
        const at = buf.indexOf(this.delimiter);
        if (at < 0) {
          // keep a possible partial delimiter at the end for the next chunk
          if (buf.length > keep) {
            events.push({ type: 'data', data: buf.subarray(0, buf.length - keep) });
            buf = buf.subarray(buf.length - keep);
          }
          break;
        }
        if (at > 0) events.push({ type: 'data', data: buf.subarray(0, at) });
        events.push({ type: 'part-end' });
        buf = buf.subarray(at + this.delimiter.length);
        this.state = 'boundary-line';
      } else {
        break;
      }
    }
    // copy the small remainder so it does not pin the whole chunk in memory
    this.pending = Buffer.from(buf);
    return events;
  }

  /** Checks that the body ended at its closing boundary. */
  finish(): void {
    if (this.state !== 'done') throw malformed('the body ended before its closing boundary');
  }

  private readHeaders(block: string): MultipartEvent {
    let disposition: string | undefined;
    let contentType: string | undefined;
    for (const line of block.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw malformed(`part ${this.parts} has a malformed header line`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-disposition') disposition = value;
      else if (name === 'content-type') contentType = value;
    }
    if (disposition === undefined) throw malformed(`part ${this.parts} has no Content-Disposition header`);
    const { type, params } = parseDisposition(disposition);
    const name = params.name;
    if (type !== 'form-data' || name === undefined || name === '') {
      throw malformed(`part ${this.parts} needs Content-Disposition: form-data; name="…"`);
    }
    return { type: 'part', name, filename: params.filename, contentType };
  }
}
