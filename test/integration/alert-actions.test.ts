/**
 * An alert that acts, end to end on the real server: breast-cancer's retrained candidate (version 2)
 * is canaried at 20 % with a reference profile of its own; the traffic then shifts (every feature
 * scaled by 1.5), the candidate's drift window says so, and a rule on slipway_drift_detected for
 * version 2 with `action: rollback` (actions switched on) aborts the rollout — all traffic back on
 * version 1 — and records what it did in the alert history. The same rule with actions switched off
 * records `disabled` and leaves the rollout alone (the unit tests cover that lock; here the real
 * controller is driven).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { startTestServer, type TestServer, adminHeaders } from '../support/server.js';

const examplesDir = fileURLToPath(new URL('../../examples/', import.meta.url));
const modelDir = `${examplesDir}models/breast-cancer/`;

let s: TestServer;
before(async () => {
  s = await startTestServer({
    examples: true,
    overrides: {
      'rollouts.tickMs': 100,
      'monitoring.drift.checkIntervalSeconds': 1,
      'monitoring.alerts.evaluationIntervalSeconds': 1,
      'monitoring.alerts.actions.enabled': true,
      'monitoring.alerts.rules': [
        { name: 'candidate-drift', metric: 'slipway_drift_detected', labels: { endpoint: 'breast-cancer', version: '2' }, op: '==', threshold: 1, severity: 'critical', action: 'rollback' },
      ],
    },
  });
});
after(async () => {
  await s.stop();
});

interface RolloutView {
  id: string;
  phase: string;
  currentWeight: number;
}

async function rollout(): Promise<RolloutView | null> {
  const r = await s.call('GET', '/api/v1/endpoints/breast-cancer/rollout');
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return (r.json.status as { rollout: RolloutView | null }).rollout;
}

async function until<T>(what: string, read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`never reached: ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('a drift alert on the canary\'s version aborts its rollout and says so in the alert history', async () => {
  await s.waitForVersion('breast-cancer', 1);
  assert.equal(await s.push('breast-cancer', await readFile(`${modelDir}candidate.onnx`)), 2);
  const csv = await readFile(`${modelDir}reference.csv`, 'utf8');
  const profiled = await fetch(`${s.url}/api/v1/models/breast-cancer/versions/2/profile?target=target&source=reference.csv`, { method: 'PUT', headers: adminHeaders({ 'content-type': 'text/csv' }), body: csv });
  assert.equal(profiled.status, 200, await profiled.text());

  const documents = parseAllDocuments(await readFile(`${examplesDir}rollouts/breast-cancer-canary.yaml`, 'utf8')).map((d) => d.toJS() as unknown);
  const applied = await s.call('POST', '/api/v1/apply', documents);
  assert.equal(applied.status, 200, JSON.stringify(applied.json));
  const paused = await until('paused at 20 %', rollout, (r) => r?.phase === 'Paused' && r.currentWeight === 20);

  // held-out rows with every feature scaled by 1.5, one per request: about a fifth reach version 2
  const rows = (await readFile(`${modelDir}test.csv`, 'utf8'))
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',').slice(0, 30).map((v) => Number(v) * 1.5));
  let toCandidate = 0;
  for (let i = 0; i < 900 && toCandidate < 150; i++) {
    const row = rows[i % rows.length] as number[];
    const r = await s.call('POST', '/v2/models/breast-cancer/infer', { inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: row }] });
    // the rollback may land while this loop runs; every answer is still a 200
    assert.equal(r.status, 200, JSON.stringify(r.json));
    if (r.json.model_version === '2') toCandidate++;
  }
  assert.ok(toCandidate >= 100, `version 2 answered ${toCandidate} requests`);

  const aborted = await until('the rollout aborted by the alert', rollout, (r) => r?.phase === 'Aborted');
  assert.equal(aborted?.id, paused?.id);
  const history = await until(
    'an action event',
    async () => ((await s.call('GET', '/api/v1/alerts/history')).json.events as { type: string; rule: string; alert: { version: string | null; action: { kind: string; status: string; message: string } | null } }[]),
    (events) => events.some((e) => e.type === 'action'),
  );
  // the alert may fire again once the rollout is aborted; that later action finds nothing to roll back
  const actions = history.filter((e) => e.type === 'action');
  const action = actions.find((e) => /aborted/.test(e.alert.action?.message ?? '')) ?? actions[0];
  for (const later of actions.filter((e) => e !== action)) assert.match(later.alert.action?.message ?? '', /not rolled back/, JSON.stringify(actions));
  assert.equal(action?.rule, 'candidate-drift');
  assert.equal(action?.alert.version, '2');
  assert.equal(action?.alert.action?.kind, 'rollback');
  assert.equal(action?.alert.action?.status, 'ok', JSON.stringify(action?.alert.action));
  assert.match(action?.alert.action?.message ?? '', /aborted: traffic returns to version 1/);

  // the controller's own record names the alert as the actor's reason
  const events = await s.call('GET', `/api/v1/rollouts/${aborted?.id ?? ''}/events`);
  assert.match(JSON.stringify(events.json), /alert candidate-drift/);
  for (let i = 0; i < 10; i++) {
    const r = await s.call('POST', '/v2/models/breast-cancer/infer', { inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: rows[i] }] });
    assert.equal(r.json.model_version, '1');
  }
});
