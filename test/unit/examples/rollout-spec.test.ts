/**
 * The tour's rollout spec, examples/rollouts/breast-cancer-canary.yaml, read by the real spec
 * parser: it must stay valid as the spec rules evolve, and say what the tour says it does.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ANALYSIS_DEFAULTS, DEFAULT_CHECKS, parseEndpointSpecs } from '../../../src/rollout/spec/index.js';

const specPath = fileURLToPath(new URL('../../../examples/rollouts/breast-cancer-canary.yaml', import.meta.url));

void test('breast-cancer-canary.yaml is a valid canary of breast-cancer version 2 that pauses at 20 % for promote', async () => {
  const docs = parseEndpointSpecs(await readFile(specPath, 'utf8'), { source: 'breast-cancer-canary.yaml' });
  assert.equal(docs.length, 1);
  const doc = docs[0]!;
  assert.equal(doc.kind, 'Endpoint');
  assert.equal(doc.metadata.name, 'breast-cancer');
  assert.equal(doc.spec.model, 'breast-cancer');
  assert.deepEqual(doc.spec.target, { kind: 'version', model: 'breast-cancer', version: 2 });
  const strategy = doc.spec.strategy;
  assert.equal(strategy?.kind, 'canary');
  assert.deepEqual(strategy.steps, [
    { kind: 'setWeight', weight: 20 },
    { kind: 'pause', durationSeconds: undefined },
  ]);
  assert.equal(strategy.analysis?.intervalSeconds, 5);
  assert.deepEqual(strategy.analysis?.checks.map((c) => c.metric), [...DEFAULT_CHECKS]);
  assert.equal(strategy.analysis?.minimumSamplePerArm, ANALYSIS_DEFAULTS.minimumSamplePerArm);
  assert.equal(strategy.stickiness, undefined);
  assert.equal(strategy.mirrorPercent, 0);
});
