/**
 * The README tour's rollout, end to end on the real server started with the example models (what
 * `npm start` runs): push the breast-cancer candidate as version 2, apply
 * examples/rollouts/breast-cancer-canary.yaml, watch the canary pause at 20 %, send the example
 * request, promote, and roll back — the same calls the CLI verbs make through /api/v1.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { startTestServer, type TestServer } from '../support/server.js';

const examplesDir = fileURLToPath(new URL('../../examples/', import.meta.url));
const modelDir = `${examplesDir}models/breast-cancer/`;
const specPath = `${examplesDir}rollouts/breast-cancer-canary.yaml`;

interface RolloutView {
  id: string;
  phase: string;
  currentWeight: number;
  stableVersion: number;
  candidateVersion: number | null;
  pauseReason: string | null;
}

let s: TestServer;
before(async () => {
  // examples: true builds any missing example folder (the candidate included) into examples/models
  s = await startTestServer({ examples: true, overrides: { 'rollouts.tickMs': 100 } });
});
after(async () => {
  await s.stop();
});

async function rollout(): Promise<RolloutView | null> {
  const r = await s.call('GET', '/api/v1/endpoints/breast-cancer/rollout');
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return (r.json.status as { rollout: RolloutView | null }).rollout;
}

/** Polls the breast-cancer rollout until `check` holds (bounded). */
async function until(check: (r: RolloutView) => boolean, what: string, timeoutMs = 20_000): Promise<RolloutView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await rollout();
    if (r !== null && check(r)) return r;
    if (Date.now() > deadline) throw new Error(`the breast-cancer rollout never reached: ${what}; last: ${JSON.stringify(r)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Sends examples/models/breast-cancer/request.json; returns the serving version and the probabilities. */
async function infer(body: unknown): Promise<{ version: string; probabilities: string }> {
  const r = await s.call('POST', '/v2/models/breast-cancer/infer', body);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const outputs = r.json.outputs as { name: string; data: number[] }[];
  return { version: String(r.json.model_version), probabilities: JSON.stringify(outputs.find((o) => o.name === 'probabilities')?.data) };
}

void test('the tour: push the candidate, canary it at 20 %, promote to version 2, roll back to version 1', async () => {
  assert.ok(s.examples.includes('breast-cancer'), `deployed examples: ${s.examples.join(', ')}`);
  await s.waitForVersion('breast-cancer', 1);

  // model.onnx again is the same bytes, so the same version; candidate.onnx is a new one
  assert.equal(await s.push('breast-cancer', await readFile(`${modelDir}model.onnx`)), 1);
  assert.equal(await s.push('breast-cancer', await readFile(`${modelDir}candidate.onnx`)), 2);

  const documents = parseAllDocuments(await readFile(specPath, 'utf8')).map((d) => d.toJS() as unknown);
  const applied = await s.call('POST', '/api/v1/apply', documents);
  assert.equal(applied.status, 200, JSON.stringify(applied.json));
  const paused = await until((r) => r.phase === 'Paused' && r.currentWeight === 20, 'paused at 20 %');
  assert.equal(paused.pauseReason, 'PausedByStep');
  assert.equal(paused.stableVersion, 1);
  assert.equal(paused.candidateVersion, 2);

  const request = JSON.parse(await readFile(`${modelDir}request.json`, 'utf8')) as unknown;
  const answers = new Map<string, Set<string>>();
  for (let i = 0; i < 100; i++) {
    const a = await infer(request);
    answers.set(a.version, (answers.get(a.version) ?? new Set()).add(a.probabilities));
  }
  // at 20 % both versions serve (all 100 on version 1 has probability 0.8^100 ≈ 2e-10), each
  // always with the same answer, and the two answers differ: a genuinely different model
  assert.deepEqual([...answers.keys()].sort(), ['1', '2']);
  assert.equal(answers.get('1')?.size, 1);
  assert.equal(answers.get('2')?.size, 1);
  assert.notDeepEqual([...(answers.get('1') ?? [])], [...(answers.get('2') ?? [])]);

  const promoted = await s.call('POST', '/api/v1/endpoints/breast-cancer/rollout/promote', { message: 'tour' });
  assert.equal(promoted.status, 200, JSON.stringify(promoted.json));
  await until((r) => r.phase === 'Promoted', 'promoted');
  await s.waitForVersion('breast-cancer', 2);
  assert.equal((await infer(request)).version, '2');

  const back = await s.call('POST', '/api/v1/endpoints/breast-cancer/rollback', { message: 'tour' });
  assert.equal(back.status, 200, JSON.stringify(back.json));
  const rollback = back.json.rollback as { fromVersion: number; toVersion: number };
  assert.deepEqual({ from: rollback.fromVersion, to: rollback.toVersion }, { from: 2, to: 1 });
  await s.waitForVersion('breast-cancer', 1);
  for (let i = 0; i < 10; i++) assert.equal((await infer(request)).version, '1');
});
