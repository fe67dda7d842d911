import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFakeClock, PlatformError, type ModelSignature, type Tensor } from '../../../src/core/index.js';
import type { Registry } from '../../../src/registry/index.js';
import type { LoadedModel } from '../../../src/runtime/index.js';
import { createDataPlane, type DeploymentManager, type Lease } from '../../../src/serving/index.js';

const signature: ModelSignature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }] };

/** A data plane over one version whose runs never finish on their own; records the signal each run got. */
function setup(inferTimeoutMs: number) {
  const clock = createFakeClock(0);
  const signals: AbortSignal[] = [];
  let released = 0;
  const loaded: LoadedModel = {
    label: 'm:1',
    signature,
    infer: (_inputs, _outputs, signal) => {
      if (signal) signals.push(signal);
      return new Promise<Tensor[]>(() => undefined);
    },
    stats: () => [],
    unload: async () => undefined,
  };
  const deployments = {
    acquire: async (): Promise<Lease> => ({ endpoint: 'ep', model: 'm', version: 1, signature, loaded, variant: 'stable', mirrorVersion: undefined, release: () => void released++ }),
  } as unknown as DeploymentManager;
  const plane = createDataPlane({ registry: {} as Registry, deployments, clock, inferTimeoutMs });
  const request = { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1], data: new Float32Array([1]) }] };
  return { clock, signals, plane, request, released: () => released };
}

const tick = () => new Promise((r) => setImmediate(r));

test('a timed-out inference answers SERVING_TIMEOUT and aborts its run so a queued request never runs', async () => {
  const { clock, signals, plane, request, released } = setup(100);
  const ctl = new AbortController();
  const answer = plane.infer('ep', undefined, () => request, { requestId: 'r', signal: ctl.signal, abort: (why) => ctl.abort(why) });
  await tick();
  assert.equal(signals.length, 1);
  assert.equal(signals[0]!.aborted, false);
  const rejected = assert.rejects(answer, (e: unknown) => e instanceof PlatformError && e.code === 'SERVING_TIMEOUT');
  await clock.advance(100);
  await rejected;
  assert.equal(signals[0]!.aborted, true, 'the run is told to give up');
  assert.equal(released(), 1, 'the lease is released');
});

test('a client that goes away aborts its run and answers SERVING_CLIENT_GONE', async () => {
  const { signals, plane, request, released } = setup(60_000);
  const client = new AbortController();
  const answer = plane.infer('ep', undefined, () => request, { requestId: 'r', signal: client.signal, abort: (why) => client.abort(why) });
  await tick();
  client.abort(new Error('gone'));
  await assert.rejects(answer, (e: unknown) => e instanceof PlatformError && e.code === 'SERVING_CLIENT_GONE');
  assert.equal(signals[0]!.aborted, true);
  assert.equal(released(), 1);
});
