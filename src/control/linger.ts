/**
 * Lingering close, for answers sent before the request body was read (a 413 in the middle of an
 * upload, metadata refused up front). Node closes a `Connection: close` response's socket as soon
 * as the answer is written; a client still sending its body then gets a reset (EPIPE, ECONNRESET)
 * and, racing it, often never reads the answer. Like Apache's lingering close, the socket instead
 * half-closes (FIN after the answer), keeps reading and dropping what still arrives, and closes when
 * the client does or after `lingerMs`.
 */
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../core/index.js';

/** How long a connection may keep sending after its early answer before it is cut. */
export const DEFAULT_LINGER_MS = 5000;

/**
 * Makes the HTTP server's close of the connection that carries `req` a lingering one: the rest of
 * the request body is read and dropped until the client closes or `lingerMs` passes. Relies on
 * Node's HTTP server closing `Connection: close` responses through `socket.destroySoon()` (true on
 * Node 20 and 22); elsewhere the connection simply closes at once.
 */
export function lingerOnClose(req: IncomingMessage, clock: Clock, lingerMs = DEFAULT_LINGER_MS): void {
  const socket = req.socket as IncomingMessage['socket'] & { destroySoon?: () => void };
  if (typeof socket.destroySoon !== 'function' || socket.destroyed) return;
  socket.destroySoon = () => {
    const timer = clock.setTimeout(() => socket.destroy(), lingerMs);
    socket.once('close', () => timer.cancel());
    // the client closing its side (after reading the answer) ends the linger at once
    socket.once('end', () => socket.destroy());
    if (socket.writable) socket.end();
    // keep the bytes flowing (and dropped): a paused request would stop the socket reading, and a
    // client blocked on a full window never gets to close
    req.resume();
    socket.resume();
  };
}

/**
 * For a route that refuses a request before reading its whole body (a 413 mid-stream, metadata
 * refused up front): answer with `Connection: close` and drop the rest of the body as it arrives
 * (a reset would make the client miss the answer). Does nothing once the body was read.
 */
export function closeAfterEarlyAnswer(req: IncomingMessage, reply: { header(name: string, value: string): unknown }, clock: Clock): void {
  if (req.complete) return;
  void reply.header('connection', 'close');
  lingerOnClose(req, clock);
}
