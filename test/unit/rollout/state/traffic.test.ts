import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { transition, trafficPolicyOf, type Rollout } from '../../../../src/rollout/state/index.js';
import { createRouter } from '../../../../src/serving/routing/index.js';
import { start, T0 } from './fixtures.js';

const ready = (r: Rollout): Rollout => transition(r, { type: 'candidateReady' }, T0 + 1, 'controller').rollout;

describe('trafficPolicyOf', () => {
  test('routes only to stable until the candidate is ready', () => {
    assert.deepEqual(trafficPolicyOf(start('CANARY').rollout), { stable: 2 });
  });

  test('gives a running canary its weight, sticky key with the rollout salt, header route and mirror', () => {
    const r = ready(start('CANARY', { id: 'ROLLOUT1' }).rollout);
    assert.deepEqual(trafficPolicyOf(r), {
      stable: 2,
      candidate: { version: 3, weight: 10 },
      stickiness: { kind: 'header', name: 'x-user-id', salt: 'ROLLOUT1' },
      headerRoutes: [{ header: 'x-slipway-variant', value: 'canary', variant: 'candidate' }],
      mirror: { version: 3, percent: 5 },
    });
  });

  test('sends everything to the promoted version while Promoting and to stable while Aborting', () => {
    const r = ready(start('CANARY').rollout);
    assert.deepEqual(trafficPolicyOf(transition(r, { type: 'promote', full: true }, T0 + 2, 'bob').rollout), { stable: 3 });
    assert.deepEqual(trafficPolicyOf(transition(r, { type: 'abort' }, T0 + 2, 'bob').rollout), { stable: 2 });
  });

  test('splits an experiment between its variants with cookie stickiness', () => {
    const r = ready(start('EXPERIMENT', { stickySalt: 'exp-salt' }).rollout);
    assert.deepEqual(trafficPolicyOf(r), {
      stable: 2,
      variants: [
        { name: 'control', version: 2, weight: 50 },
        { name: 'treatment', version: 3, weight: 50 },
      ],
      stickiness: { kind: 'cookie', name: 'uid', salt: 'exp-salt' },
    });
  });

  test('mirrors to a shadow and keeps blue-green on blue until the switch', () => {
    assert.deepEqual(trafficPolicyOf(ready(start('SHADOW').rollout)), { stable: 2, mirror: { version: 3, percent: 50 } });
    assert.deepEqual(trafficPolicyOf(ready(start('BLUE_GREEN_MANUAL').rollout)), { stable: 2 });
  });

  test('puts a sticky user on the same side for a rollout read back from its JSON', () => {
    const before = ready(start('CANARY').rollout);
    const after = JSON.parse(JSON.stringify(before)) as Rollout;
    const a = createRouter(trafficPolicyOf(before));
    const b = createRouter(trafficPolicyOf(after));
    let onCandidate = 0;
    for (let i = 0; i < 500; i++) {
      const headers = { 'x-user-id': `user-${i}` };
      const first = a.route(headers);
      assert.equal(b.route(headers).variant, first.variant, `user-${i}`);
      if (first.variant === 'candidate') onCandidate++;
    }
    assert.ok(onCandidate > 0 && onCandidate < 500, 'both sides are in use');
  });
});
