/**
 * Splitting a stream of text into lines, for the JSONL that Slipway streams from files and over
 * HTTP (the payload log's segments and its export).
 */

/**
 * The complete lines of `chunks` (without their newline; empty lines skipped), as they arrive.
 * Text after the last newline is no complete line: it is handed to `onRest` at the end (never
 * when the stream fails), for the caller to ignore or refuse.
 */
export async function* completeLines(chunks: AsyncIterable<string>, onRest?: (rest: string) => void): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of chunks) {
    const text = rest + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      if (nl > start) yield text.slice(start, nl);
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  onRest?.(rest);
}

/** UTF-8 bytes as text, a character split across chunks kept whole. */
export async function* decodeUtf8(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  for await (const chunk of chunks) yield decoder.decode(chunk, { stream: true });
  const tail = decoder.decode();
  if (tail !== '') yield tail;
}
