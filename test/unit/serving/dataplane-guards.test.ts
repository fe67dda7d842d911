/**
 * The data plane's use of the guards port: decoding options from the endpoint's guards, the check
 * before the model runs (a refusal never reaches the model), the guards' parameters and rounding in
 * the result, and hardened outputs for the client while drift and prediction records keep the
 * model's own.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFakeClock, PlatformError, type ModelSignature, type Tensor } from '../../../src/core/index.js';
import type { PredictionSink } from '../../../src/monitoring/index.js';
import type { Registry } from '../../../src/registry/index.js';
import type { LoadedModel } from '../../../src/runtime/index.js';
import { createDataPlane, type DecodeOptions, type DeploymentManager, type EndpointGuards, type InferenceGuards, type Lease } from '../../../src/serving/index.js';
import { topKOutputs } from '../../../src/security/index.js';

const signature: ModelSignature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }], outputs: [{ name: 'scores', datatype: 'FP32', shape: [-1, 3] }] };
const scores: Tensor = { name: 'scores', datatype: 'FP32', shape: [1, 3], data: Float32Array.from([0.2, 0.5, 0.3]) };
const request = { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1, 2], data: Float32Array.from([1, 2]) }] };

function setup(guard: EndpointGuards) {
  let runs = 0;
  const loaded: LoadedModel = {
    label: 'm:1',
    signature,
    infer: async () => {
      runs++;
      return [scores];
    },
    stats: () => [],
    unload: async () => undefined,
  };
  const deployments = {
    acquire: async (): Promise<Lease> => ({ endpoint: 'ep', model: 'm', version: 1, signature, loaded, variant: 'stable', mirrorVersion: undefined, release: () => undefined }),
  } as unknown as DeploymentManager;
  const observed: (readonly Tensor[])[] = [];
  const recorded: (readonly Tensor[] | undefined)[] = [];
  const predictions = { recordPrediction: (p: { outputs: readonly Tensor[] | undefined }) => void recorded.push(p.outputs) } as unknown as PredictionSink;
  const guards: InferenceGuards = { forEndpoint: () => guard };
  const plane = createDataPlane({
    registry: {} as Registry,
    deployments,
    clock: createFakeClock(0),
    inferTimeoutMs: 0,
    guards,
    predictions,
    drift: { observe: (_e, _m, _v, _inputs, outputs) => void observed.push(outputs) },
  });
  const ctl = new AbortController();
  const ctx = { requestId: 'r', signal: ctl.signal, abort: (why: unknown) => ctl.abort(why) };
  return { plane, ctx, observed, recorded, runs: () => runs };
}

test('the client gets the hardened outputs, the guards parameters and rounding; drift and records keep the model outputs', async () => {
  let decoding: DecodeOptions | undefined;
  const { plane, ctx, observed, recorded } = setup({
    acceptNonFinite: true,
    checksInputs: true,
    check: () => ({ outlier_score: 1.5 }),
    roundDigits: 2,
    harden: (outputs) => topKOutputs(outputs, 1),
  });
  const result = await plane.infer(
    'ep',
    undefined,
    (_signature, options) => {
      decoding = options;
      return request;
    },
    ctx,
  );
  assert.deepEqual(decoding, { acceptNonFinite: true });
  assert.deepEqual(result.parameters, { outlier_score: 1.5 });
  assert.equal(result.roundDigits, 2);
  assert.deepEqual(result.outputs.map((t) => [t.name, t.shape]), [['scores', [1, 1]], ['scores_indices', [1, 1]]]);
  assert.deepEqual(observed, [[scores]]);
  assert.deepEqual(recorded, [[scores]]);
});

test('a refusal by the check never reaches the model and is recorded with its status', async () => {
  const { plane, ctx, recorded, runs } = setup({
    acceptNonFinite: false,
    checksInputs: true,
    check: () => {
      throw new PlatformError('SECURITY_INPUT_OUTLIER', 'invalid', 'too far');
    },
    roundDigits: 0,
  });
  await assert.rejects(plane.infer('ep', undefined, () => request, ctx), /too far/);
  assert.equal(runs(), 0);
  assert.deepEqual(recorded, [undefined]);
});

test('guards with nothing to check are not called, and the result carries no parameters or rounding', async () => {
  const { plane, ctx } = setup({
    acceptNonFinite: false,
    checksInputs: false,
    check: () => assert.fail('not called'),
    roundDigits: 0,
  });
  const result = await plane.infer('ep', undefined, () => request, ctx);
  assert.equal(result.parameters, undefined);
  assert.equal(result.roundDigits, undefined);
  assert.deepEqual(result.outputs, [scores]);
});
