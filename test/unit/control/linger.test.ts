import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { createFakeClock, type FakeClock } from '../../../src/core/index.js';
import { lingerOnClose } from '../../../src/control/linger.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  if (server !== undefined) await new Promise<void>((resolve) => server?.close(() => resolve()));
  server = undefined;
});

interface Setup {
  readonly clock: FakeClock;
  readonly client: Socket;
  /** The server side of the connection, once the request arrived. */
  readonly serverSocket: Promise<IncomingMessage['socket']>;
  /** Everything the client received so far. */
  readonly received: () => string;
}

/**
 * A server that answers 413 with Connection: close without reading the body (as the upload route
 * does), with a lingering close armed; and a raw client that declares a large body and sends a part.
 */
async function setup(lingerMs: number): Promise<Setup> {
  const clock = createFakeClock();
  let resolveSocket: (s: IncomingMessage['socket']) => void = () => undefined;
  const serverSocket = new Promise<IncomingMessage['socket']>((resolve) => (resolveSocket = resolve));
  server = createServer((req, res) => {
    resolveSocket(req.socket);
    lingerOnClose(req, clock, lingerMs);
    res.writeHead(413, { connection: 'close', 'content-type': 'application/json' });
    res.end('{"code":"TOO_LARGE"}');
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const client = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  client.on('error', () => undefined); // a reset shows up in the assertions instead
  await once(client, 'connect');
  let text = '';
  client.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  client.write(`POST /up HTTP/1.1\r\nhost: x\r\ncontent-length: ${100 * 1024 * 1024}\r\n\r\n`);
  client.write(Buffer.alloc(256 * 1024));
  return { clock, client, serverSocket, received: () => text };
}

void describe('lingering close', () => {
  void test('answers, half-closes, keeps reading what the client still sends, and cuts it after lingerMs', async () => {
    const { clock, client, serverSocket, received } = await setup(1000);
    await once(client, 'end'); // the FIN right after the answer
    assert.match(received(), /^HTTP\/1\.1 413 .*\r\nconnection: close\r\n[\s\S]*\{"code":"TOO_LARGE"\}/);
    const socket = await serverSocket;
    assert.equal(socket.destroyed, false, 'still lingering after the answer');
    // the client can keep writing: the server still reads, so the client's buffer drains
    client.write(Buffer.alloc(4 * 1024 * 1024));
    for (let i = 0; i < 200 && client.writableLength > 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(client.writableLength, 0, 'the server kept reading');
    assert.equal(socket.destroyed, false, 'still lingering');
    await clock.advance(999);
    assert.equal(socket.destroyed, false);
    await clock.advance(1);
    assert.equal(socket.destroyed, true);
    client.destroy();
  });

  void test('closes as soon as the client closes its side, cancelling the timer', async () => {
    const { clock, client, serverSocket } = await setup(60_000);
    await once(client, 'end');
    const socket = await serverSocket;
    assert.equal(socket.destroyed, false, 'still lingering after the answer');
    // (not events.once: the server's parser reports the short body as an error on the socket)
    const closed = new Promise<void>((resolve) => {
      socket.on('close', () => resolve());
    });
    client.end();
    await closed;
    assert.equal(clock.pendingTimers(), 0);
    client.destroy();
  });
});
