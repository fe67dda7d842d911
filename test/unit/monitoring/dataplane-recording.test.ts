/**
 * The data plane reports every inference to the prediction sink: answers with their version,
 * variant and outputs, failures with the status they are answered with, shadow copies as variant
 * `shadow` under the primary's request id — and a sink that misbehaves never fails a request.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFakeClock, PlatformError, type ModelSignature, type Tensor } from '../../../src/core/index.js';
import type { PredictionInput, PredictionSink } from '../../../src/monitoring/index.js';
import type { Registry } from '../../../src/registry/index.js';
import type { LoadedModel } from '../../../src/runtime/index.js';
import { createDataPlane, ServingErrors, type DeploymentManager, type Lease } from '../../../src/serving/index.js';

const signature: ModelSignature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }] };
const answer = (k: number): Tensor[] => [{ name: 'y', datatype: 'FP32', shape: [1], data: new Float32Array([k]) }];
const request = { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1], data: new Float32Array([1]) }] };

interface Behaviour {
  /** What acquire does: a lease for `version` (as `variant`, mirroring to `mirror`), or a thrown error. */
  acquire?: () => { version: number; variant?: string; mirror?: number } | Error;
  /** What a run of version v does. */
  run?: (version: number, signal: AbortSignal | undefined) => Promise<Tensor[]>;
}

function setup(behaviour: Behaviour = {}, sinkOverride?: PredictionSink) {
  const clock = createFakeClock(0);
  const recorded: PredictionInput[] = [];
  const sink: PredictionSink = sinkOverride ?? {
    recordPrediction(input) {
      recorded.push(input);
      return true;
    },
  };
  const model = (version: number): LoadedModel => ({
    label: `m:${version}`,
    signature,
    infer: (_inputs, _outputs, signal) => behaviour.run?.(version, signal) ?? Promise.resolve(answer(version)),
    stats: () => [],
    unload: async () => undefined,
  });
  let first = true;
  const deployments = {
    acquire: async (_endpoint: string, version: number | undefined): Promise<Lease> => {
      // the mirror asks for its version explicitly; the primary's acquire follows the behaviour
      const chosen = version !== undefined && !first ? { version } : (behaviour.acquire?.() ?? { version: 1 });
      first = false;
      if (chosen instanceof Error) throw chosen;
      return {
        endpoint: 'ep',
        model: 'm',
        version: chosen.version,
        signature,
        loaded: model(chosen.version),
        variant: 'variant' in chosen && chosen.variant !== undefined ? chosen.variant : 'stable',
        mirrorVersion: 'mirror' in chosen ? chosen.mirror : undefined,
        release: () => undefined,
      };
    },
  } as unknown as DeploymentManager;
  const plane = createDataPlane({ registry: {} as Registry, deployments, clock, inferTimeoutMs: 1000, predictions: sink });
  const ctx = (requestId: string, controller = new AbortController()) => ({ requestId, signal: controller.signal, abort: (why: unknown) => controller.abort(why) });
  return { clock, plane, recorded, ctx };
}

const ticks = async (n = 10): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('data plane prediction recording', () => {
  test('an answer is recorded once with its request id, model, version, variant, status 200 and outputs', async () => {
    const { plane, recorded, ctx } = setup({ acquire: () => ({ version: 2, variant: 'candidate' }) });
    const result = await plane.infer('ep', undefined, () => request, ctx('req-0000000000000001'));
    assert.equal(result.version, 2);
    assert.equal(recorded.length, 1);
    const r = recorded[0]!;
    assert.deepEqual([r.requestId, r.endpoint, r.model, r.version, r.variant, r.status], ['req-0000000000000001', 'ep', 'm', 2, 'candidate', 200]);
    assert.equal(r.outputs, result.outputs, 'the outputs answered, handed over as they are');
    assert.ok(r.latencyMs >= 0);
  });

  test('the latency recorded is the time the client waited, from arrival to answer', async () => {
    let finish = (): void => undefined;
    const { clock, plane, recorded, ctx } = setup({
      run: () =>
        new Promise<Tensor[]>((resolve) => {
          finish = () => resolve(answer(1));
        }),
    });
    const pending = plane.infer('ep', undefined, () => request, ctx('req-0000000000000002'));
    await ticks();
    await clock.advance(25);
    finish();
    await pending;
    assert.equal(recorded[0]?.latencyMs, 25);
  });

  test('a request refused after a version was chosen is recorded with that version and the status it is answered with', async () => {
    const { plane, recorded, ctx } = setup();
    await assert.rejects(
      plane.infer(
        'ep',
        undefined,
        () => {
          throw ServingErrors.SERVING_INVALID_REQUEST('input x: wrong shape');
        },
        ctx('req-0000000000000003'),
      ),
    );
    assert.deepEqual(
      recorded.map((r) => [r.version, r.variant, r.status, r.outputs]),
      [[1, 'stable', 400, undefined]],
    );
  });

  test('a request refused before routing is recorded as unrouted without a version; a name that is no endpoint is not recorded', async () => {
    const notDeployed = setup({ acquire: () => ServingErrors.SERVING_VERSION_NOT_DEPLOYED('version 9 is not deployed') });
    await assert.rejects(notDeployed.plane.infer('ep', 9, () => request, notDeployed.ctx('req-0000000000000004')));
    assert.deepEqual(
      notDeployed.recorded.map((r) => [r.endpoint, r.model, r.version, r.variant, r.status]),
      [['ep', null, null, 'unrouted', 404]],
    );

    const loading = setup({ acquire: () => ServingErrors.SERVING_ENDPOINT_UNAVAILABLE('still loading') });
    await assert.rejects(loading.plane.infer('ep', undefined, () => request, loading.ctx('req-0000000000000005')));
    assert.deepEqual(
      loading.recorded.map((r) => [r.variant, r.status]),
      [['unrouted', 503]],
    );

    const nowhere = setup({ acquire: () => ServingErrors.SERVING_ENDPOINT_NOT_FOUND("endpoint 'x' does not exist") });
    await assert.rejects(nowhere.plane.infer('x', undefined, () => request, nowhere.ctx('req-0000000000000006')));
    assert.equal(nowhere.recorded.length, 0);
  });

  test('a timed-out inference is recorded as 504, and one the client walked away from as 499', async () => {
    const hang = (): Promise<Tensor[]> => new Promise<Tensor[]>(() => undefined);
    const timed = setup({ run: hang });
    const pending = timed.plane.infer('ep', undefined, () => request, timed.ctx('req-0000000000000007'));
    const rejected = assert.rejects(pending, (e: unknown) => e instanceof PlatformError && e.code === 'SERVING_TIMEOUT');
    await ticks();
    await timed.clock.advance(1000);
    await rejected;
    assert.deepEqual(
      timed.recorded.map((r) => [r.version, r.status]),
      [[1, 504]],
    );

    const gone = setup({ run: hang });
    const client = new AbortController();
    const left = gone.plane.infer('ep', undefined, () => request, gone.ctx('req-0000000000000008', client));
    await ticks();
    client.abort(new Error('socket closed'));
    await assert.rejects(left);
    assert.deepEqual(
      gone.recorded.map((r) => [r.version, r.status]),
      [[1, 499]],
    );
  });

  test('a sink that throws never fails the request', async () => {
    const { plane, ctx } = setup({}, {
      recordPrediction() {
        throw new Error('broken sink');
      },
    });
    const result = await plane.infer('ep', undefined, () => request, ctx('req-0000000000000009'));
    assert.equal(result.version, 1);
  });

  test("a mirrored copy is recorded as variant shadow under the primary's request id, after the primary", async () => {
    const { plane, recorded, ctx } = setup({ acquire: () => ({ version: 1, mirror: 2 }) });
    await plane.infer('ep', undefined, () => request, ctx('req-0000000000000010'));
    assert.equal(recorded.length, 1, 'the primary is recorded before its answer returns; the shadow has not run yet');
    await ticks();
    assert.deepEqual(
      recorded.map((r) => [r.requestId, r.model, r.version, r.variant, r.status]),
      [
        ['req-0000000000000010', 'm', 1, 'stable', 200],
        ['req-0000000000000010', 'm', 2, 'shadow', 200],
      ],
    );
    assert.deepEqual(recorded[1]?.outputs, answer(2));
  });

  test('a failing shadow copy is recorded with its status, one the mirror timed out as 504, and one abandoned because the mirror closes not at all', async () => {
    const failing = setup({
      acquire: () => ({ version: 1, mirror: 2 }),
      run: (version) => (version === 2 ? Promise.reject(ServingErrors.SERVING_INVALID_REQUEST('shape')) : Promise.resolve(answer(1))),
    });
    await failing.plane.infer('ep', undefined, () => request, failing.ctx('req-0000000000000011'));
    await ticks();
    assert.deepEqual(
      failing.recorded.map((r) => [r.variant, r.status]),
      [
        ['stable', 200],
        ['shadow', 400],
      ],
    );

    let answerLate = (): void => undefined;
    const slow = setup({
      acquire: () => ({ version: 1, mirror: 2 }),
      run: (version) =>
        version === 2
          ? new Promise<Tensor[]>((resolve) => {
              answerLate = () => resolve(answer(2));
            })
          : Promise.resolve(answer(1)),
    });
    await slow.plane.infer('ep', undefined, () => request, slow.ctx('req-0000000000000013'));
    await ticks();
    await slow.clock.advance(10_000); // the mirror's timeout: it gives up on the copy
    answerLate(); // the shadow answers anyway, too late to count
    await ticks();
    assert.deepEqual(
      slow.recorded.map((r) => [r.variant, r.status, r.outputs]),
      [
        ['stable', 200, answer(1)],
        ['shadow', 504, undefined],
      ],
    );

    const closing = setup({
      acquire: () => ({ version: 1, mirror: 2 }),
      run: (version, signal) =>
        version === 2
          ? new Promise<Tensor[]>((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true }))
          : Promise.resolve(answer(1)),
    });
    await closing.plane.infer('ep', undefined, () => request, closing.ctx('req-0000000000000012'));
    await ticks();
    await closing.plane.close();
    await ticks();
    assert.deepEqual(
      closing.recorded.map((r) => r.variant),
      ['stable'],
    );
  });
});
