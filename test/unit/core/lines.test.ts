import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { completeLines, decodeUtf8 } from '../../../src/core/index.js';

async function* from<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function collect(chunks: readonly string[]): Promise<{ lines: string[]; rest: string | undefined }> {
  const lines: string[] = [];
  let rest: string | undefined;
  for await (const line of completeLines(from(chunks), (r) => (rest = r))) lines.push(line);
  return { lines, rest };
}

describe('completeLines', () => {
  test('joins lines split across chunks, skips empty lines, and hands over the text after the last newline', async () => {
    assert.deepEqual(await collect(['{"a":', '1}\n\n{"b"', ':2}\n{"c"']), { lines: ['{"a":1}', '{"b":2}'], rest: '{"c"' });
    assert.deepEqual(await collect(['x\n', 'y\n']), { lines: ['x', 'y'], rest: '' });
    assert.deepEqual(await collect([]), { lines: [], rest: '' });
  });

  test('a stream that fails passes its error on and reports no rest', async () => {
    async function* failing(): AsyncGenerator<string> {
      yield 'a\nb';
      throw new Error('connection reset');
    }
    const lines: string[] = [];
    let rest: string | undefined;
    await assert.rejects(
      (async () => {
        for await (const line of completeLines(failing(), (r) => (rest = r))) lines.push(line);
      })(),
      /connection reset/,
    );
    assert.deepEqual(lines, ['a']);
    assert.equal(rest, undefined);
  });
});

describe('decodeUtf8', () => {
  test('keeps a character whole when its bytes are split across chunks', async () => {
    const bytes = new TextEncoder().encode('ünï ✓\n');
    const parts = [bytes.subarray(0, 1), bytes.subarray(1, 5), bytes.subarray(5)];
    let text = '';
    for await (const s of decodeUtf8(from(parts))) text += s;
    assert.equal(text, 'ünï ✓\n');
  });
});
