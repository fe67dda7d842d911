/** Reading request bodies chunk by chunk, in a way that leaves the request drainable afterwards. */
import type { IncomingMessage } from 'node:http';

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
