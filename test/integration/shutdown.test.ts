/**
 * Graceful shutdown: requests in flight when the server is asked to stop are answered; requests
 * after that are refused (503 or a closed connection), and the data directory is released.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer } from '../../src/app/index.js';
import { slowModel } from '../support/models.js';
import { startTestServer, adminHeaders } from '../support/server.js';

test('finishes in-flight requests, refuses new ones, then releases the data directory', async () => {
  const s = await startTestServer({ overrides: { 'serving.replicas': 2 } });
  // stopped however the test ends: a failed assertion must fail the file, not leave a server holding it open
  try {
    const n = 512;
    // slow enough (about a second a request here) that the last of six uploads arrives before the first answer
    const v = await s.push('slow', slowModel(n, 1200));
    await s.deploy('slow', 'slow', v);
    const row = Array.from({ length: n }, (_, i) => (i % 7) / 7);
    const body = JSON.stringify({ inputs: [{ name: 'x', shape: [64, n], datatype: 'FP32', data: Array.from({ length: 64 }, () => row).flat() }] });

    const inFlight = Array.from({ length: 6 }, () =>
      fetch(`${s.url}/v2/models/slow/infer`, { method: 'POST', headers: adminHeaders({ 'content-type': 'application/json' }), body }).then(async (r) => ({
        status: r.status,
        json: (await r.json()) as { outputs?: { data: number[] }[] },
      })),
    );
    // stop only once all six requests have reached the server (bounded: 10 s)
    for (const deadline = Date.now() + 10_000; Date.now() < deadline && s.inFlight() < 6; ) await new Promise((r) => setTimeout(r, 2));
    assert.equal(s.inFlight(), 6, 'all six requests are in flight when shutdown begins');
    const closing = s.close();
    await new Promise((r) => setTimeout(r, 5));
    const late = await fetch(`${s.url}/v2/models/slow/infer`, { method: 'POST', headers: adminHeaders({ 'content-type': 'application/json' }), body }).then(
      (r) => r.status,
      () => 'refused',
    );
    const answers = await Promise.all(inFlight);
    await closing;

    for (const a of answers) {
      assert.equal(a.status, 200);
      assert.ok(Math.abs((a.json.outputs?.[0]?.data[1] ?? NaN) - row[1]!) < 1e-5, 'the identity model answers its input');
    }
    assert.ok(late === 503 || late === 'refused', `a request after shutdown began must be refused, got ${String(late)}`);

    // the lock is released: another server can open the same directory
    const again = await startServer({ host: '127.0.0.1', port: 0, dataDir: s.dataDir, env: {}, overrides: { 'log.level': 'silent' } });
    await again.close();
  } finally {
    await s.stop();
  }
});

test('a second server on the same data directory refuses to start', async () => {
  const s = await startTestServer();
  try {
    await assert.rejects(
      startServer({ host: '127.0.0.1', port: 0, dataDir: s.dataDir, env: {}, overrides: { 'log.level': 'silent' } }),
      (e: unknown) => e instanceof Error && /lock|in use|locked/i.test(e.message),
    );
  } finally {
    await s.stop();
  }
});
