/**
 * Autoscaling through the real server: an idle version scales to zero, the next request is held
 * while a replica starts (no 4xx/5xx), and both decisions are visible, with their inputs, at
 * GET /api/v1/endpoints/{name}/scaling.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addModel } from '../support/models.js';
import { addRequest, startTestServer } from '../support/server.js';

interface ScalingBody {
  scaling: {
    status: { appliedReplicas: number; desiredReplicas: number; mode: string };
    events: { reason: string; currentReplicas: number; desiredReplicas: number; idleMs: number; message: string }[];
  } | null;
}

test('an idle version scales to zero and the next request is held until a replica is back', async () => {
  const s = await startTestServer({
    overrides: {
      'serving.autoscaling.minReplicas': 0,
      'serving.autoscaling.maxReplicas': 2,
      'serving.autoscaling.stableWindowSeconds': 6,
      'serving.autoscaling.panicWindowSeconds': 1,
      'serving.autoscaling.tickIntervalMs': 200,
      'serving.autoscaling.scaleToZeroGracePeriodSeconds': 3,
    },
  });
  try {
    const v = await s.push('sleepy', addModel(3));
    await s.deploy('sleepy', 'sleepy', v);
    const warm = await s.call('POST', '/v2/models/sleepy/infer', addRequest([[1, 1, 1, 1]]));
    assert.equal(warm.status, 200);

    // idle for a stable window (6 s) → the autoscaler takes the last replica away
    let scaling: ScalingBody['scaling'] = null;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = await s.call('GET', '/api/v1/endpoints/sleepy/scaling');
      assert.equal(r.status, 200);
      scaling = (r.json as unknown as ScalingBody).scaling;
      const endpoint = await s.call('GET', '/api/v1/endpoints/sleepy');
      const replicas = (endpoint.json.endpoint as { deployment: { versions: { replicas: unknown[] }[] } }).deployment.versions[0]?.replicas ?? [];
      if (scaling?.status.appliedReplicas === 0 && replicas.length === 0) break;
      assert.ok(Date.now() < deadline, `did not scale to zero: ${JSON.stringify(scaling?.status)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const toZero = scaling?.events.find((e) => e.reason === 'ScaleToZero');
    assert.ok(toZero, `a ScaleToZero decision is recorded: ${JSON.stringify(scaling?.events.map((e) => e.reason))}`);
    assert.equal(toZero.desiredReplicas, 0);
    assert.ok(toZero.idleMs >= 3000, 'it waited at least the grace period');

    // the next request is held while a replica loads, then answered
    const started = performance.now();
    const held = await s.call('POST', '/v2/models/sleepy/infer', addRequest([[1, 2, 3, 4]]));
    const heldMs = performance.now() - started;
    assert.equal(held.status, 200, JSON.stringify(held.json));
    assert.deepEqual((held.json.outputs as { data: number[] }[])[0]?.data, [4, 5, 6, 7]);
    const after = (await s.call('GET', '/api/v1/endpoints/sleepy/scaling')).json as unknown as ScalingBody;
    assert.ok(after.scaling?.events.some((e) => e.reason === 'ActivateFromZero'), 'the activation is recorded');
    assert.ok(heldMs < 30_000, `held ${heldMs.toFixed(0)} ms, within holdTimeoutMs`);
  } finally {
    await s.stop();
  }
});

test('the scaling route is 404 for an unknown endpoint and null when autoscaling is off', async () => {
  const s = await startTestServer({ overrides: { 'serving.autoscaling.enabled': false } });
  try {
    const unknown = await s.call('GET', '/api/v1/endpoints/nope/scaling');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.code, 'REGISTRY_ENDPOINT_NOT_FOUND');
    const v = await s.push('fixed', addModel(1));
    await s.deploy('fixed', 'fixed', v);
    const off = await s.call('GET', '/api/v1/endpoints/fixed/scaling');
    assert.equal(off.status, 200);
    assert.deepEqual(off.json, { scaling: null, settings: null });
    const put = await s.call('PUT', '/api/v1/endpoints/fixed/scaling', { maxReplicas: 1 });
    assert.equal(put.status, 409, 'no autoscaler to configure');
    assert.equal(put.json.code, 'SERVING_AUTOSCALING_OFF');
  } finally {
    await s.stop();
  }
});
