/**
 * Pointing an endpoint at another version under load drops no request: 16 concurrent clients send
 * 2,000 requests in all across the switch; every one is answered 200, and none sent after the
 * switch completed is answered by the old version.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addModel } from '../support/models.js';
import { addRequest, startTestServer, type TestServer, adminHeaders } from '../support/server.js';

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(async () => s.stop());

test('a version switch under 16 concurrent clients drops no request and old answers stop once it completes', async () => {
  const v1 = await s.push('switcher', addModel(1));
  const v2 = await s.push('switcher', addModel(2));
  await s.deploy('switcher', 'switcher', v1);

  const TOTAL = 2000;
  const CLIENTS = 16;
  let sent = 0;
  let switchDoneAt = Infinity;
  const results: { startedAt: number; status: number; version: string | undefined; y0: number | undefined }[] = [];
  const body = JSON.stringify(addRequest([[0, 0, 0, 0]]));

  const client = async (): Promise<void> => {
    while (sent < TOTAL) {
      sent++;
      const startedAt = performance.now();
      const res = await fetch(`${s.url}/v2/models/switcher/infer`, { method: 'POST', headers: adminHeaders({ 'content-type': 'application/json' }), body });
      const json = (await res.json()) as { model_version?: string; outputs?: { data: number[] }[] };
      results.push({ startedAt, status: res.status, version: json.model_version, y0: json.outputs?.[0]?.data[0] });
    }
  };

  const switcher = (async () => {
    while (sent < TOTAL / 4) await new Promise((r) => setTimeout(r, 5));
    const put = await s.call('PUT', '/api/v1/endpoints/switcher', { model: 'switcher', version: v2, reason: 'switch under load' });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    await s.waitForVersion('switcher', v2, 30_000);
    switchDoneAt = performance.now();
  })();

  await Promise.all([...Array.from({ length: CLIENTS }, client), switcher]);

  assert.equal(results.length, TOTAL);
  const failed = results.filter((r) => r.status !== 200);
  assert.equal(failed.length, 0, `non-200 answers: ${JSON.stringify(failed.slice(0, 5))}`);
  // each answer's version agrees with what the model computed (x + k)
  for (const r of results) assert.equal(r.y0, Number(r.version), 'model_version must name the version that answered');
  const afterSwitch = results.filter((r) => r.startedAt > switchDoneAt);
  assert.ok(afterSwitch.length > 0, 'some requests must be sent after the switch completed');
  assert.deepEqual(
    afterSwitch.filter((r) => r.version !== String(v2)),
    [],
    'no request sent after the switch may be answered by the old version',
  );
  assert.ok(results.some((r) => r.version === String(v1)), 'the old version answered before the switch');

  const history = await s.call('GET', '/api/v1/endpoints/switcher/history');
  assert.equal(history.status, 200);
  const events = history.json.history as { from: { version: number } | null; to: { version: number } | null; reason: string }[];
  assert.deepEqual(events.map((e) => [e.from?.version ?? null, e.to?.version ?? null]), [[null, 1], [1, 2]]);
  assert.equal(events[1]!.reason, 'switch under load');
});
