/**
 * A replica (worker thread) killed under load while the server keeps answering: 8 clients send
 * 400 requests through real HTTP, one of the two replicas dies mid-way, and every request is
 * answered 200 with its own result — the requests caught in the crash run once more on the other
 * replica (inference is side-effect free), and the pool starts a replacement.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOnnxRuntime, type ModelRuntime, type OnnxLoadedModel, type WorkerReplica } from '../../src/runtime/index.js';
import { addModel } from '../support/models.js';
import { addRequest, startTestServer } from '../support/server.js';

test('a replica killed under load: the server keeps answering every request, and a replacement starts', async () => {
  const base = createOnnxRuntime({ testHooks: true });
  const loaded: OnnxLoadedModel[] = [];
  const runtime: ModelRuntime = {
    load: async (options) => {
      const model = await base.load(options);
      loaded.push(model);
      return model;
    },
    probe: (path) => base.probe(path),
    close: () => base.close(),
  };
  const s = await startTestServer({ runtime, overrides: { 'serving.replicas': 2, 'serving.placement': 'worker', 'serving.autoscaling.enabled': false } });
  try {
    const v = await s.push('sturdy', addModel(1));
    await s.deploy('sturdy', 'sturdy', v);
    const model = loaded.at(-1);
    assert.ok(model);
    assert.equal(model.pool.replicas().length, 2);

    const TOTAL = 400;
    let sent = 0;
    let killed = false;
    const results: { status: number; ok: boolean }[] = [];
    const client = async (): Promise<void> => {
      while (sent < TOTAL) {
        const i = sent++;
        if (i === 100 && !killed) {
          killed = true;
          // the worker thread exits as if it had crashed
          (model.pool.replicas()[0] as WorkerReplica).test({ hook: 'exit', exitCode: 9 });
        }
        const x = i % 10;
        const r = await s.call('POST', '/v2/models/sturdy/infer', addRequest([[x, x, x, x]]));
        const y = (r.json.outputs as { data: number[] }[] | undefined)?.[0]?.data;
        results.push({ status: r.status, ok: y?.[0] === x + 1 });
      }
    };
    await Promise.all(Array.from({ length: 8 }, client));

    assert.equal(results.length, TOTAL);
    const bad = results.filter((r) => r.status !== 200 || !r.ok);
    assert.deepEqual(bad, [], 'every request is answered 200 with its own result');
    assert.equal(model.pool.counters().crashed, 1);
    // the pool replaced the dead replica
    for (let i = 0; i < 100 && model.pool.replicas().length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(model.pool.replicas().length, 2);
  } finally {
    await s.stop();
  }
});
