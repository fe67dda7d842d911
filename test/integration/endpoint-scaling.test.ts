/**
 * Per-endpoint autoscaler options through the real server: an endpoint that allows scale to zero
 * while the server's default keeps one replica does scale to zero (the running autoscaler took the
 * options), bad options are refused with every problem named, the options survive a restart, the
 * CLI changes one option and keeps the others, and deleting the endpoint forgets them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { addModel } from '../support/models.js';
import { addRequest, startTestServer, ADMIN_ENV } from '../support/server.js';
import { runCli } from '../unit/cli/cli-harness.js';

interface ScalingBody {
  scaling: { status: { appliedReplicas: number }; events: { reason: string }[] } | null;
  settings: { overrides: Record<string, number>; effective: { minReplicas: number; maxReplicas: number; targetConcurrency: number }; updatedBy: string | null } | null;
}

test('an endpoint that allows scale to zero scales to zero under a server that keeps one replica', async () => {
  const s = await startTestServer();
  try {
    const v = await s.push('lazy', addModel(5));
    await s.deploy('lazy', 'lazy', v);
    const before = (await s.call('GET', '/api/v1/endpoints/lazy/scaling')).json as unknown as ScalingBody;
    assert.equal(before.settings?.effective.minReplicas, 1, "the server's default");
    assert.deepEqual(before.settings?.overrides, {});

    const put = await s.call('PUT', '/api/v1/endpoints/lazy/scaling', {
      minReplicas: 0,
      stableWindowSeconds: 6,
      panicWindowSeconds: 1,
      tickIntervalMs: 200,
      scaleToZeroGracePeriodSeconds: 3,
    });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    const body = put.json as unknown as ScalingBody;
    assert.equal(body.settings?.effective.minReplicas, 0);
    assert.equal(body.settings?.updatedBy, 'key:admin');

    let scaling: ScalingBody['scaling'] = null;
    const deadline = Date.now() + 20_000;
    for (;;) {
      scaling = ((await s.call('GET', '/api/v1/endpoints/lazy/scaling')).json as unknown as ScalingBody).scaling;
      if (scaling?.status.appliedReplicas === 0) break;
      assert.ok(Date.now() < deadline, `did not scale to zero: ${JSON.stringify(scaling)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(scaling?.events.some((e) => e.reason === 'ScaleToZero'));
    const held = await s.call('POST', '/v2/models/lazy/infer', addRequest([[1, 1, 1, 1]]));
    assert.equal(held.status, 200, 'the next request is held while a replica starts, then answered');
  } finally {
    await s.stop();
  }
});

test('bad options are refused with every problem named, and nothing changes', async () => {
  const s = await startTestServer();
  try {
    const v = await s.push('picky', addModel(1));
    await s.deploy('picky', 'picky', v);
    const bad = await s.call('PUT', '/api/v1/endpoints/picky/scaling', { minReplicas: 3, maxReplicas: 2, bogus: 1, targetConcurrency: 'lots' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'CORE_INVALID_CONFIG');
    for (const path of ['bogus', 'targetConcurrency']) assert.match(String(bad.json.error), new RegExp(path));
    const cross = await s.call('PUT', '/api/v1/endpoints/picky/scaling', { minReplicas: 3, maxReplicas: 2 });
    assert.equal(cross.status, 400);
    assert.match(String(cross.json.error), /minReplicas: must be ≤ maxReplicas \(2\), got 3/);
    const after = (await s.call('GET', '/api/v1/endpoints/picky/scaling')).json as unknown as ScalingBody;
    assert.deepEqual(after.settings?.overrides, {});
    assert.equal((await s.call('PUT', '/api/v1/endpoints/nobody/scaling', { maxReplicas: 1 })).status, 404);
  } finally {
    await s.stop();
  }
});

test('options survive a restart, the CLI changes one and keeps the others, and deleting the endpoint forgets them', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-scaling-'));
  try {
    const first = await startTestServer({ dataDir });
    try {
      const v = await first.push('kept', addModel(2));
      await first.deploy('kept', 'kept', v);
      const set = await runCli(['endpoints', 'scaling', 'kept', '--max-replicas', '1', '--server', first.url], { env: ADMIN_ENV });
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stdout, /endpoint sets maxReplicas 1/);
      const more = await runCli(['endpoints', 'scaling', 'kept', '--target-concurrency', '3', '--server', first.url], { env: ADMIN_ENV });
      assert.equal(more.code, 0, more.stderr);
      assert.match(more.stdout, /endpoint sets maxReplicas 1, targetConcurrency 3/);
    } finally {
      await first.stop();
    }
    const second = await startTestServer({ dataDir });
    try {
      await second.waitForVersion('kept', 1);
      const view = (await second.call('GET', '/api/v1/endpoints/kept/scaling')).json as unknown as ScalingBody;
      assert.deepEqual(view.settings?.overrides, { maxReplicas: 1, targetConcurrency: 3 });
      assert.equal(view.settings?.effective.maxReplicas, 1);
      const reset = await runCli(['endpoints', 'scaling', 'kept', '--reset', '--server', second.url], { env: ADMIN_ENV });
      assert.equal(reset.code, 0, reset.stderr);
      assert.match(reset.stdout, /the server's/);
      await second.call('PUT', '/api/v1/endpoints/kept/scaling', { maxReplicas: 1 });
      assert.equal((await second.call('DELETE', '/api/v1/endpoints/kept')).status, 200);
      await second.call('POST', '/api/v1/endpoints', { name: 'kept', model: 'kept', version: 1 });
      await second.waitForVersion('kept', 1);
      const fresh = (await second.call('GET', '/api/v1/endpoints/kept/scaling')).json as unknown as ScalingBody;
      assert.deepEqual(fresh.settings?.overrides, {}, 'a new endpoint of the same name starts from the server options');
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
