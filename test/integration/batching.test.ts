/**
 * Dynamic batching seen by clients: many concurrent clients over real HTTP each get their own rows
 * back, concurrent requests really are merged, and a full queue or a long wait answers 429 with
 * Retry-After — against the real server on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addModel, slowModel } from '../support/models.js';
import { startTestServer, type TestServer, adminHeaders } from '../support/server.js';

interface InferAnswer {
  status: number;
  retryAfter: string | null;
  json: { code?: string; error?: string; outputs?: { name: string; shape: number[]; data: number[] }[] };
}

async function infer(s: TestServer, endpoint: string, body: unknown): Promise<InferAnswer> {
  const res = await fetch(`${s.url}/v2/models/${endpoint}/infer`, { method: 'POST', headers: adminHeaders({ 'content-type': 'application/json' }), body: JSON.stringify(body) });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), json: (await res.json()) as InferAnswer['json'] };
}

interface BatchingView {
  batches: number;
  requests: number;
  rows: number;
  rejected: number;
  timedOut: number;
  queueDepth: number;
  merging: boolean;
}

async function batchingOf(s: TestServer, endpoint: string): Promise<BatchingView | undefined> {
  const r = await s.call('GET', `/api/v1/endpoints/${endpoint}`);
  const versions = (r.json.endpoint as { deployment: { versions: { role: string; batching?: BatchingView }[] } }).deployment.versions;
  return versions.find((v) => v.role === 'stable')?.batching;
}

/** Runs `count` jobs with at most `concurrency` at a time. */
async function pool<T>(count: number, concurrency: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await job(i);
      }
    }),
  );
  return results;
}

function closeTo(actual: readonly number[] | undefined, expected: readonly number[], what: string): void {
  assert.ok(actual !== undefined, `${what}: no data`);
  assert.equal(actual.length, expected.length, `${what}: length`);
  expected.forEach((e, i) => assert.ok(Math.abs((actual[i] ?? NaN) - e) < 1e-3, `${what}[${i}]: expected ${e}, got ${actual[i]}`));
}

describe('with default batching', () => {
  let s: TestServer;
  const N = 512;

  before(async () => {
    s = await startTestServer();
    await s.deploy('adder', 'adder', await s.push('adder', addModel(5)));
    await s.deploy('slow', 'slow', await s.push('slow', slowModel(N, 200)));
  });
  after(async () => s.stop());

  test('many concurrent clients each get y = x + k for exactly their own rows (mixed row counts and outputs)', async () => {
    const requests = 400;
    const answers = await pool(requests, 64, async (i) => {
      const rows = 1 + (i % 4);
      const x = Array.from({ length: rows * 4 }, (_, j) => i * 10 + j / 8);
      // every fifth client asks for `sum` only, so requests with different outputs meet in the queue
      const onlySum = i % 5 === 0;
      const body = { id: `c${i}`, inputs: [{ name: 'x', shape: [rows, 4], datatype: 'FP32', data: x }], ...(onlySum ? { outputs: [{ name: 'sum' }] } : {}) };
      return { i, rows, x, onlySum, answer: await infer(s, 'adder', body) };
    });
    for (const { i, rows, x, onlySum, answer } of answers) {
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      const y = x.map((v) => Math.fround(v) + 5);
      const sums = Array.from({ length: rows }, (_, r) => y.slice(r * 4, r * 4 + 4).reduce((a, b) => a + b, 0));
      const byName = new Map((answer.json.outputs ?? []).map((o) => [o.name, o]));
      if (!onlySum) {
        assert.deepEqual(byName.get('y')?.shape, [rows, 4]);
        closeTo(byName.get('y')?.data, y, `client ${i} y`);
      } else assert.equal(byName.has('y'), false);
      assert.deepEqual(byName.get('sum')?.shape, [rows, 1]);
      closeTo(byName.get('sum')?.data, sums, `client ${i} sum`);
    }
    const stats = await batchingOf(s, 'adder');
    assert.ok(stats, 'the deployment view shows the batch scheduler');
    assert.equal(stats.requests, requests);
    assert.equal(stats.rows, answers.reduce((n, a) => n + a.rows, 0));
    assert.equal(stats.queueDepth, 0);
  });

  test('requests that arrive while the replica is busy are merged into one run, and each still gets its own rows', async () => {
    const clients = 16;
    const rowOf = (i: number): number[] => Array.from({ length: N }, (_, j) => ((i * 31 + j) % 17) / 4);
    const answers = await Promise.all(Array.from({ length: clients }, (_, i) => infer(s, 'slow', { inputs: [{ name: 'x', shape: [1, N], datatype: 'FP32', data: rowOf(i) }] })));
    answers.forEach((a, i) => {
      assert.equal(a.status, 200, JSON.stringify(a.json));
      closeTo(a.json.outputs?.[0]?.data, rowOf(i), `client ${i}`); // the slow model is the identity
    });
    const stats = await batchingOf(s, 'slow');
    assert.ok(stats);
    assert.equal(stats.requests, clients);
    assert.ok(stats.batches < clients, `expected merged runs, got ${stats.batches} runs for ${clients} requests`);
    assert.equal(stats.merging, true);
  });
});

test('a full queue answers 429 SERVING_QUEUE_FULL with Retry-After while the answered requests stay correct', async () => {
  const s = await startTestServer({ overrides: { 'serving.batching.maxQueueSize': 2 } });
  try {
    const n = 512;
    await s.deploy('slow', 'slow', await s.push('slow', slowModel(n, 200)));
    const dataOf = (i: number): number[] => Array.from({ length: 4 * n }, (_, j) => ((i + j) % 11) / 2);
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => infer(s, 'slow', { inputs: [{ name: 'x', shape: [4, n], datatype: 'FP32', data: dataOf(i) }] })));
    const refused = answers.filter((a) => a.status === 429);
    assert.ok(refused.length > 0, `expected some 429s, got statuses ${answers.map((a) => a.status).join(',')}`);
    for (const r of refused) {
      assert.equal(r.json.code, 'SERVING_QUEUE_FULL');
      assert.match(r.json.error ?? '', /queued/);
      assert.ok(Number(r.retryAfter) >= 1, `Retry-After: ${r.retryAfter}`);
    }
    answers.forEach((a, i) => {
      if (a.status === 429) return;
      assert.equal(a.status, 200, JSON.stringify(a.json));
      closeTo(a.json.outputs?.[0]?.data, dataOf(i), `client ${i}`);
    });
    const stats = await batchingOf(s, 'slow');
    assert.equal(stats?.rejected, refused.length);
  } finally {
    await s.stop();
  }
});

test('a request that waits longer than queueTimeoutMs answers 429 SERVING_QUEUE_TIMEOUT with Retry-After', async () => {
  const s = await startTestServer({ overrides: { 'serving.batching.queueTimeoutMs': 1 } });
  try {
    const n = 512;
    await s.deploy('slow', 'slow', await s.push('slow', slowModel(n, 800)));
    const body = { inputs: [{ name: 'x', shape: [4, n], datatype: 'FP32', data: new Array<number>(4 * n).fill(1) }] };
    // one request occupies the replica first; the five sent while it runs wait in the queue far
    // longer than 1 ms (had all six arrived in one tick, they could have left as one batch)
    const first = infer(s, 'slow', body);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const rest = Promise.all(Array.from({ length: 5 }, () => infer(s, 'slow', body)));
    const answers = [await first, ...(await rest)];
    const timedOut = answers.filter((a) => a.status === 429);
    assert.ok(timedOut.length > 0, `expected some 429s, got statuses ${answers.map((a) => a.status).join(',')}`);
    for (const r of timedOut) {
      assert.equal(r.json.code, 'SERVING_QUEUE_TIMEOUT');
      assert.ok(Number(r.retryAfter) >= 1);
    }
    assert.ok(answers.every((a) => a.status === 200 || a.status === 429));
    assert.equal((await batchingOf(s, 'slow'))?.timedOut, timedOut.length);
  } finally {
    await s.stop();
  }
});

test('with serving.batching.enabled false, requests go straight to the replicas and no scheduler is shown', async () => {
  const s = await startTestServer({ overrides: { 'serving.batching.enabled': false } });
  try {
    await s.deploy('adder', 'adder', await s.push('adder', addModel(2)));
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => infer(s, 'adder', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [i, i, i, i] }] })));
    answers.forEach((a, i) => closeTo(a.json.outputs?.find((o) => o.name === 'y')?.data, [i + 2, i + 2, i + 2, i + 2], `client ${i}`));
    assert.equal(await batchingOf(s, 'adder'), undefined);
  } finally {
    await s.stop();
  }
});
