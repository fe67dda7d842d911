/** Reading request bodies chunk by chunk, in a way that leaves the request drainable afterwards. */
import { createWriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';

/**
 * The request body's chunks, one at a time with backpressure. Built on 'data' events rather than
 * the stream's async iterator: the iterator leaves the request in a state where a later resume()
 * does not restart the socket, and the rest of an oversized upload must still be drained.
 * Never destroys the request, so an error can still be answered on it. A broken connection is
 * thrown as `incomplete(cause)`.
 */
export async function* bodyChunks(req: IncomingMessage, incomplete: (cause?: unknown) => Error): AsyncGenerator<Buffer> {
  const queue: Buffer[] = [];
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const onData = (chunk: Buffer): void => {
    queue.push(chunk);
    req.pause();
    wake?.();
  };
  const onEnd = (): void => {
    ended = true;
    wake?.();
  };
  const onError = (error: unknown): void => {
    failure ??= error;
    wake?.();
  };
  const onClose = (): void => {
    if (!req.complete) failure ??= new Error('the connection closed before the body was complete');
    wake?.();
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
  req.on('close', onClose);
  try {
    for (;;) {
      const chunk = queue.shift();
      if (chunk !== undefined) {
        yield chunk;
        continue;
      }
      if (failure !== undefined) throw incomplete(failure);
      if (ended) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        req.resume();
      });
      wake = undefined;
    }
  } finally {
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
    req.off('close', onClose);
    req.pause();
  }
  if (!req.complete) throw incomplete();
}

/**
 * Streams a request body into `destination` (which must not exist: a fresh temporary name, opened
 * with 'wx' and mode 0600), refusing it past `limit` bytes — at once when Content-Length declares
 * more, else as soon as the bytes pass it. Resolves with the size.
 */
export async function receiveBodyToFile(
  req: IncomingMessage,
  destination: string,
  limit: number,
  errors: { readonly tooLarge: (declared?: number) => Error; readonly incomplete: (cause?: unknown) => Error },
): Promise<number> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw errors.tooLarge(declared);
  let size = 0;
  async function* capped(): AsyncGenerator<Buffer> {
    for await (const chunk of bodyChunks(req, errors.incomplete)) {
      size += chunk.length;
      if (size > limit) throw errors.tooLarge();
      yield chunk;
    }
  }
  await pipeline(capped(), createWriteStream(destination, { flags: 'wx', mode: 0o600 }));
  return size;
}
