/** `slipway rollback ENDPOINT` against the real server: one step back through the endpoint's history, at once. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EndpointHistoryResponse, RollbackResponse } from '../../../src/control/index.js';
import { addModel } from '../../support/models.js';
import { addRequest, startTestServer, type TestServer, TEST_ADMIN_KEY } from '../../support/server.js';
import { runCli, type RunResult } from './cli-harness.js';

let s: TestServer;
before(async () => {
  s = await startTestServer({ overrides: { 'rollouts.tickMs': 100 } });
  await s.push('adder', addModel(1));
  await s.push('adder', addModel(2));
});
after(async () => {
  await s.stop();
});

const cli = (argv: readonly string[]): Promise<RunResult> => runCli(argv, { env: { SLIPWAY_SERVER: s.url, SLIPWAY_API_KEY: TEST_ADMIN_KEY } });

async function served(endpoint: string): Promise<number> {
  const r = await s.call('POST', `/v2/models/${endpoint}/infer`, addRequest([[0, 0, 0, 0]]));
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return Number((r.json.outputs as { data: number[] }[])[0]?.data[0]);
}

void describe('slipway rollback', () => {
  void test('goes back to the previous version and records the message in the endpoint history', async () => {
    await s.deploy('rb', 'adder', 1);
    await s.deploy('rb', 'adder', 2);
    const r = await cli(['rollback', 'rb', '-m', 'v2 misbehaves']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Endpoint "rb" rolled back from version 2 to 1\n');
    await s.waitForVersion('rb', 1);
    assert.equal(await served('rb'), 1);
    const history = (await s.call('GET', '/api/v1/endpoints/rb/history')).json as unknown as EndpointHistoryResponse;
    assert.match(history.history.at(-1)?.reason ?? '', /rollback from version 2 to 1 — v2 misbehaves/);
  });

  void test('aborts a running rollout first and names it', async () => {
    await s.deploy('rb-canary', 'adder', 1);
    await s.deploy('rb-canary', 'adder', 2);
    const applied = await s.call('POST', '/api/v1/apply', {
      apiVersion: 'slipway.dev/v1',
      kind: 'Endpoint',
      metadata: { name: 'rb-canary' },
      spec: { model: 'adder', version: 1, strategy: { canary: { steps: [{ setWeight: 20 }, { pause: {} }] } } },
    });
    assert.equal(applied.status, 200, JSON.stringify(applied.json));
    const rollout = (applied.json.results as { rollout: { id: string } | null }[])[0]?.rollout;
    assert.ok(rollout);
    const r = await cli(['rollback', 'rb-canary', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout) as RollbackResponse;
    assert.deepEqual([body.rollback.fromVersion, body.rollback.toVersion, body.rollback.aborted?.id], [2, 1, rollout.id]);
    await s.waitForVersion('rb-canary', 1);
    assert.equal(await served('rb-canary'), 1);

    // the readable form of the same outcome, on a second endpoint
    await s.deploy('rb-canary-2', 'adder', 1);
    await s.deploy('rb-canary-2', 'adder', 2);
    const second = await s.call('POST', '/api/v1/apply', {
      apiVersion: 'slipway.dev/v1',
      kind: 'Endpoint',
      metadata: { name: 'rb-canary-2' },
      spec: { model: 'adder', version: 1, strategy: { canary: { steps: [{ setWeight: 20 }, { pause: {} }] } } },
    });
    const id = (second.json.results as { rollout: { id: string } }[])[0]?.rollout.id ?? '';
    const text = await cli(['rollback', 'rb-canary-2']);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout, `Endpoint "rb-canary-2" rolled back from version 2 to 1\nAborted rollout ${id} (canary, 2 → 1) first.\n`);
  });

  void test('says so when the endpoint followed an alias and is now pinned', async () => {
    assert.equal((await s.call('PUT', '/api/v1/models/adder/aliases/prod', { version: 1 })).status, 200);
    const created = await s.call('POST', '/api/v1/endpoints', { name: 'rb-alias', model: 'adder', alias: 'prod' });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    await s.waitForVersion('rb-alias', 1);
    assert.equal((await s.call('PUT', '/api/v1/models/adder/aliases/prod', { version: 2 })).status, 200);
    await s.waitForVersion('rb-alias', 2);
    const r = await cli(['rollback', 'rb-alias']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Endpoint "rb-alias" rolled back from version 2 to 1 \(it followed alias "prod" and is now pinned; apply a spec to follow it again\)\n$/);
  });

  void test('exit codes: 4 without an earlier version, 3 for an unknown version or endpoint, 2 for a --to-version that is not a number', async () => {
    await s.deploy('rb-once', 'adder', 1);
    const none = await cli(['rollback', 'rb-once']);
    assert.equal(none.code, 4);
    assert.match(none.stderr, /has served only version 1: there is no earlier stable version in its history \[ROLLOUT_NO_PREVIOUS_VERSION\]/);
    const unknownVersion = await cli(['rollback', 'rb-once', '--to-version', '9']);
    assert.equal(unknownVersion.code, 3);
    assert.match(unknownVersion.stderr, /\[REGISTRY_VERSION_NOT_FOUND\]/);
    const unknownEndpoint = await cli(['rollback', 'rb-nowhere']);
    assert.equal(unknownEndpoint.code, 3);
    const bad = await cli(['rollback', 'rb-once', '--to-version', 'two']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /option '--to-version <n>' argument 'two' is invalid/);
  });
});
