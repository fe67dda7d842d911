import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlatformError } from '../../../src/core/index.js';
import { MultipartParser, multipartBoundary, parseDisposition, type MultipartEvent } from '../../../src/control/multipart.js';

const BOUNDARY = '----slipway42';

function body(parts: { headers: string[]; content: string | Buffer }[], options: { preamble?: string; epilogue?: string } = {}): Buffer {
  const chunks: Buffer[] = [Buffer.from(options.preamble ?? '')];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${BOUNDARY}\r\n${p.headers.join('\r\n')}\r\n\r\n`));
    chunks.push(Buffer.isBuffer(p.content) ? p.content : Buffer.from(p.content));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--${options.epilogue ?? '\r\n'}`));
  return Buffer.concat(chunks);
}

interface Part {
  name: string;
  filename: string | undefined;
  contentType: string | undefined;
  content: Buffer;
}

/** Feeds the body in pieces of `size` bytes and collects the parts. */
function parse(bytes: Buffer, size: number, boundary = BOUNDARY): Part[] {
  const parser = new MultipartParser(boundary);
  const parts: Part[] = [];
  let current: { name: string; filename: string | undefined; contentType: string | undefined; chunks: Buffer[] } | undefined;
  let ended = false;
  const handle = (e: MultipartEvent): void => {
    if (e.type === 'part') current = { name: e.name, filename: e.filename, contentType: e.contentType, chunks: [] };
    else if (e.type === 'data') current?.chunks.push(Buffer.from(e.data));
    else if (e.type === 'part-end' && current !== undefined) {
      parts.push({ name: current.name, filename: current.filename, contentType: current.contentType, content: Buffer.concat(current.chunks) });
      current = undefined;
    } else if (e.type === 'end') ended = true;
  };
  for (let i = 0; i < bytes.length; i += size) for (const e of parser.push(bytes.subarray(i, i + size))) handle(e);
  parser.finish();
  assert.ok(ended);
  return parts;
}

function expectMultipartError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof PlatformError);
    assert.equal(error.code, 'CONTROL_INVALID_MULTIPART');
    assert.match(error.message, message);
    return true;
  });
}

void describe('multipart parser', () => {
  // binary content that contains CR, LF, dashes and a near-miss of the delimiter
  const binary = Buffer.concat([Buffer.from([0, 13, 10, 45, 45, 255]), Buffer.from(`\r\n--${BOUNDARY.slice(0, -1)}x`), Buffer.alloc(300, 7)]);
  const sample = body(
    [
      { headers: ['Content-Disposition: form-data; name="description"'], content: 'hello, world' },
      { headers: ['Content-Disposition: form-data; name="file"; filename="m.onnx"', 'Content-Type: application/octet-stream'], content: binary },
      { headers: ['content-disposition: form-data; name=tag'], content: '' },
    ],
    { preamble: 'ignored preamble\r\n', epilogue: '\r\nignored epilogue' },
  );

  void test('yields the same parts whatever the chunk boundaries', () => {
    const expected = parse(sample, sample.length);
    assert.deepEqual(
      expected.map((p) => [p.name, p.filename, p.contentType, p.content.length]),
      [
        ['description', undefined, undefined, 12],
        ['file', 'm.onnx', 'application/octet-stream', binary.length],
        ['tag', undefined, undefined, 0],
      ],
    );
    assert.deepEqual(expected[1]?.content, binary);
    for (const size of [1, 2, 3, 5, 7, 16, 41, 64, 100]) assert.deepEqual(parse(sample, size), expected, `chunks of ${size}`);
  });

  void test('never holds back more than a delimiter of file bytes', () => {
    const parser = new MultipartParser(BOUNDARY);
    const head = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"\r\n\r\n`);
    parser.push(head);
    const events = parser.push(Buffer.alloc(10_000, 1));
    const data = events.filter((e) => e.type === 'data').reduce((n, e) => n + (e.type === 'data' ? e.data.length : 0), 0);
    assert.ok(data >= 10_000 - (BOUNDARY.length + 4), `emitted ${data} bytes`);
  });

  void test('accepts transport padding after a boundary', () => {
    const padded = Buffer.from(`--${BOUNDARY}  \t\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--${BOUNDARY}--`);
    assert.deepEqual(parse(padded, 4).map((p) => p.content.toString()), ['x']);
  });

  void test('refuses a body that ends before its closing boundary', () => {
    const cut = sample.subarray(0, sample.length - 30);
    expectMultipartError(() => parse(cut, 50), /ended before its closing boundary/);
  });

  void test('refuses a part without Content-Disposition', () => {
    const bad = Buffer.from(`--${BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--${BOUNDARY}--`);
    expectMultipartError(() => parse(bad, 8), /part 1 has no Content-Disposition header/);
    const empty = Buffer.from(`--${BOUNDARY}\r\n\r\nx\r\n--${BOUNDARY}--`);
    expectMultipartError(() => parse(empty, 8), /part 1 has no Content-Disposition header/);
  });

  void test('refuses a part without a name', () => {
    const bad = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; filename="a"\r\n\r\nx\r\n--${BOUNDARY}--`);
    expectMultipartError(() => parse(bad, 8), /needs Content-Disposition: form-data; name=/);
  });

  void test('refuses garbage after a boundary and oversized headers', () => {
    const bad = Buffer.from(`--${BOUNDARY}oops\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--${BOUNDARY}--`);
    expectMultipartError(() => parse(bad, 8), /unexpected bytes after a boundary/);
    const parser = new MultipartParser(BOUNDARY, { maxHeaderBytes: 100 });
    expectMultipartError(() => parser.push(Buffer.from(`--${BOUNDARY}\r\nX-Long: ${'a'.repeat(200)}`)), /headers of part 1 exceed 100 bytes/);
  });

  void test('refuses more parts than its limit', () => {
    const many = body(Array.from({ length: 4 }, (_, i) => ({ headers: [`Content-Disposition: form-data; name="f${i}"`], content: 'x' })));
    const parser = new MultipartParser(BOUNDARY, { maxParts: 3 });
    expectMultipartError(() => parser.push(many), /more than 3 parts/);
  });

  void test('reads the boundary from a Content-Type, quoted or not', () => {
    assert.equal(multipartBoundary('multipart/form-data; boundary=abc123'), 'abc123');
    assert.equal(multipartBoundary('multipart/form-data; charset=utf-8; boundary="a b:c"'), 'a b:c');
    expectMultipartError(() => multipartBoundary('multipart/form-data'), /no valid boundary parameter/);
  });

  void test('reads Content-Disposition parameters with quoted and escaped values', () => {
    assert.deepEqual(parseDisposition('form-data; name="file"; filename="my \\"best\\" model.onnx"'), {
      type: 'form-data',
      params: { name: 'file', filename: 'my "best" model.onnx' },
    });
    assert.deepEqual(parseDisposition('Form-Data; NAME=tag'), { type: 'form-data', params: { name: 'tag' } });
  });
});
