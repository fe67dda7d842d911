import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { createFakeClock, systemClock } from '../../../../src/core/index.js';
import { parseRetryAfter } from '../../../../src/core/index.js';
import { compilePayloadLogOptions, createWebhookSink, openPayloadLog, type PayloadEntry, type WebhookConfig } from '../../../../src/monitoring/payload-log/index.js';
import { buildEntry } from '../../../../src/monitoring/payload-log/entry.js';
import { createRedactor } from '../../../../src/monitoring/payload-log/redact.js';
import { capture, collect, instantSleepClock, tempDir } from './helpers.js';

type Answer = { status: number; headers?: Record<string, string> } | 'hang';

/** A receiver on 127.0.0.1 that answers from a script (then 200) and keeps every batch it got. */
async function receiver(script: Answer[] = []) {
  const batches: PayloadEntry[][] = [];
  const headers: IncomingMessage['headers'][] = [];
  const hanging: ServerResponse[] = [];
  let calls = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = script[calls++] ?? { status: 200 };
      if (answer === 'hang') {
        hanging.push(res);
        return;
      }
      if (answer.status < 300) {
        batches.push((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { entries: PayloadEntry[] }).entries);
        headers.push(req.headers);
      }
      res.writeHead(answer.status, answer.headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    batches,
    headers,
    calls: () => calls,
    async close() {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function webhookConfig(url: string, over: Partial<WebhookConfig> = {}): WebhookConfig {
  const c = compilePayloadLogOptions({ webhook: { url, flushIntervalMs: 10, retryBaseMs: 100, retryMaxMs: 1000, ...over } }).webhook;
  assert.ok(c !== null);
  return c;
}

const entry = (i: number): PayloadEntry => buildEntry(capture({ requestId: `hook-${String(i).padStart(11, '0')}` }), 1, false, createRedactor([]), 1024);

describe('payload webhook', () => {
  test('retries network-side failures with growing jittered backoff, then delivers', async () => {
    const r = await receiver([{ status: 503 }, { status: 500 }]);
    const sleeps: number[] = [];
    const sink = createWebhookSink({ config: webhookConfig(r.url, { batchSize: 10, headers: { authorization: 'Bearer t' } }), clock: instantSleepClock(sleeps), random: () => 0.999 });
    try {
      for (let i = 0; i < 3; i++) assert.equal(sink.offer(entry(i)), true);
      await sink.close();
      assert.equal(r.calls(), 3);
      assert.deepEqual(
        r.batches.map((b) => b.map((e) => e.requestId)),
        [['hook-00000000000', 'hook-00000000001', 'hook-00000000002']],
      );
      assert.equal(r.headers[0]?.authorization, 'Bearer t');
      const s = sink.stats();
      assert.equal(s.sent, 3);
      assert.equal(s.failedAttempts, 2);
      assert.equal(s.retries, 2);
      // full jitter under a ceiling that doubles: 100, then 200
      assert.deepEqual(sleeps, [99, 199]);
    } finally {
      await r.close();
    }
  });

  test('honours Retry-After on a 429', async () => {
    const r = await receiver([{ status: 429, headers: { 'retry-after': '7' } }]);
    const sleeps: number[] = [];
    const sink = createWebhookSink({ config: webhookConfig(r.url), clock: instantSleepClock(sleeps), random: () => 0 });
    try {
      sink.offer(entry(1));
      await sink.close();
      assert.deepEqual(sleeps, [7000]);
      assert.equal(sink.stats().sent, 1);
    } finally {
      await r.close();
    }
  });

  test('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter(new Date(now + 5000).toUTCString(), now), 5000);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
  });

  test('counts entries dropped when its buffer is full', async () => {
    const r = await receiver();
    const sink = createWebhookSink({ config: webhookConfig(r.url, { batchSize: 5, maxBuffer: 5 }), clock: systemClock });
    try {
      const accepted = Array.from({ length: 8 }, (_, i) => sink.offer(entry(i))).filter(Boolean).length;
      assert.equal(accepted, 5);
      assert.equal(sink.stats().dropped.buffer_full, 3);
      await sink.close();
      assert.equal(sink.stats().sent, 5);
    } finally {
      await r.close();
    }
  });

  test('drops a batch after maxRetries when the receiver is down, and counts it', async () => {
    const r = await receiver();
    const url = r.url;
    await r.close(); // nothing listens there now: connection refused
    const sleeps: number[] = [];
    const sink = createWebhookSink({ config: webhookConfig(url, { maxRetries: 2 }), clock: instantSleepClock(sleeps) });
    sink.offer(entry(1));
    sink.offer(entry(2));
    await sink.close();
    const s = sink.stats();
    assert.equal(s.sent, 0);
    assert.equal(s.failedAttempts, 3);
    assert.equal(s.retries, 2);
    assert.equal(s.dropped.retries_exhausted, 2);
  });

  test('drops a batch the receiver refuses with a 4xx, without retrying', async () => {
    const r = await receiver([{ status: 400 }]);
    const sink = createWebhookSink({ config: webhookConfig(r.url), clock: instantSleepClock([]) });
    try {
      sink.offer(entry(1));
      await sink.close();
      assert.equal(r.calls(), 1);
      assert.equal(sink.stats().dropped.rejected, 1);
      assert.equal(sink.stats().retries, 0);
    } finally {
      await r.close();
    }
  });

  test('a POST that takes longer than timeoutMs fails and is retried', async () => {
    const r = await receiver(['hang']);
    const sink = createWebhookSink({ config: webhookConfig(r.url, { timeoutMs: 50 }), clock: instantSleepClock([]) });
    try {
      sink.offer(entry(1));
      await sink.close();
      assert.equal(sink.stats().failedAttempts, 1);
      assert.equal(sink.stats().sent, 1);
    } finally {
      await r.close();
    }
  });

  test('close sends full and partial batches in order, and gives up at its deadline counting what is left', async () => {
    const r = await receiver();
    const sink = createWebhookSink({ config: webhookConfig(r.url, { batchSize: 2, flushIntervalMs: 3_600_000 }), clock: systemClock });
    try {
      for (let i = 0; i < 5; i++) sink.offer(entry(i));
      await sink.close();
      assert.deepEqual(
        r.batches.map((b) => b.length),
        [2, 2, 1],
      );
      assert.equal(sink.offer(entry(9)), false);
    } finally {
      await r.close();
    }
    const stuck = await receiver(['hang', 'hang', 'hang']);
    const late = createWebhookSink({ config: webhookConfig(stuck.url, { batchSize: 1, timeoutMs: 60_000, closeTimeoutMs: 100 }), clock: systemClock });
    try {
      for (let i = 0; i < 3; i++) late.offer(entry(i));
      await late.close();
      assert.equal(late.stats().dropped.closed, 3);
      assert.equal(late.stats().buffered, 0);
    } finally {
      await stuck.close();
    }
  });

  test('the payload log sends what it wrote, redacted, to the webhook', async () => {
    const r = await receiver();
    const { dir, cleanup } = await tempDir();
    const log = await openPayloadLog({
      dir,
      config: compilePayloadLogOptions({ bodies: { sampleRate: 1 }, redact: ['parameters.user_id'], webhook: { url: r.url, batchSize: 10 } }),
      clock: createFakeClock(),
    });
    try {
      log.record(capture({ requestBody: '{"parameters":{"user_id":"u-1"}}', requestId: 'webhook-entry-01' }));
      await log.close();
      assert.equal(r.batches.length, 1);
      assert.deepEqual(r.batches[0]?.[0]?.request, { parameters: { user_id: '[REDACTED]' } });
      assert.deepEqual(r.batches[0], await collect(log.entries()));
      assert.equal(log.stats().webhook?.sent, 1);
    } finally {
      await r.close();
      await cleanup();
    }
  });
});
