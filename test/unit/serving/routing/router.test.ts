import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, test } from 'node:test';
import { PlatformError } from '../../../../src/core/index.js';
import { createRouter, stickyBucket, type RouteDecision, type TrafficPolicy } from '../../../../src/serving/routing/index.js';
import { chiSquareGoodnessOfFit, chiSquareSurvival, seeded } from './chi-square.js';

const ALPHA = 0.001;
const N = 10_000;

function tally(names: readonly string[], decisions: Iterable<RouteDecision>): number[] {
  const counts = names.map(() => 0);
  for (const d of decisions) {
    const i = names.indexOf(d.variant);
    assert.ok(i >= 0, `unexpected variant ${d.variant}`);
    counts[i]!++;
  }
  return counts;
}

function* times<T>(n: number, fn: (i: number) => T): Generator<T> {
  for (let i = 0; i < n; i++) yield fn(i);
}

describe('chi-square helper', () => {
  test('matches tabulated critical values', () => {
    const table: [number, number, number][] = [
      [3.841, 1, 0.05],
      [10.828, 1, 0.001],
      [13.816, 2, 0.001],
      [9.488, 4, 0.05],
      [27.877, 9, 0.001],
      [16.919, 9, 0.05],
    ];
    for (const [x, df, p] of table) assert.ok(Math.abs(chiSquareSurvival(x, df) - p) < 2e-5 * Math.max(1, p * 100), `Q(${x}; ${df}) = ${chiSquareSurvival(x, df)}, want ${p}`);
    assert.equal(chiSquareSurvival(0, 3), 1);
  });

  test('rejects a split far from the expected shares', () => {
    assert.ok(chiSquareGoodnessOfFit([1100, 8900], [10, 90]).p < ALPHA);
    assert.ok(chiSquareGoodnessOfFit([1000, 9000], [10, 90]).p > 0.5);
  });
});

describe('createRouter: weighted split', () => {
  test('sends a canary its weight of 10,000 requests without a sticky key, within a chi-square test at α = 0.001', () => {
    for (const weight of [10, 2.5, 50]) {
      const router = createRouter({ stable: 3, candidate: { version: 4, weight } }, { random: seeded(42) });
      const counts = tally(['candidate', 'stable'], times(N, () => router.route({})));
      const fit = chiSquareGoodnessOfFit(counts, [weight, 100 - weight]);
      assert.ok(fit.p > ALPHA, `weight ${weight}: observed ${counts.join('/')} (X² ${fit.statistic.toFixed(2)}, p ${fit.p})`);
    }
  });

  test('splits A/B variants by their relative weights', () => {
    const router = createRouter(
      { stable: 3, variants: [{ name: 'control', version: 3, weight: 5 }, { name: 'treatment', version: 4, weight: 3 }, { name: 'other', version: 5, weight: 2 }] },
      { random: seeded(7) },
    );
    const counts = tally(['control', 'treatment', 'other'], times(N, () => router.route({})));
    const fit = chiSquareGoodnessOfFit(counts, [5, 3, 2]);
    assert.ok(fit.p > ALPHA, `observed ${counts.join('/')} (p ${fit.p})`);
    const d = router.route({});
    assert.equal(d.reason, 'weighted');
    assert.equal(d.sticky, false);
  });

  test('never picks a variant of weight 0', () => {
    const router = createRouter({ stable: 1, variants: [{ name: 'a', version: 1, weight: 0 }, { name: 'b', version: 2, weight: 1 }] }, { random: seeded(1) });
    for (const d of times(1000, () => router.route({}))) assert.equal(d.variant, 'b');
  });

  test('splits sticky users by weight too: 10,000 distinct user ids land in the candidate at its weight', () => {
    const router = createRouter({ stable: 3, candidate: { version: 4, weight: 10 }, stickiness: { kind: 'header', name: 'x-user-id', salt: 'rollout-1' } });
    const counts = tally(['candidate', 'stable'], times(N, (i) => router.route({ 'x-user-id': `user-${i}` })));
    const fit = chiSquareGoodnessOfFit(counts, [10, 90]);
    assert.ok(fit.p > ALPHA, `observed ${counts.join('/')} (p ${fit.p})`);
  });

  test('hashes sequential keys uniformly over ten buckets', () => {
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < N; i++) counts[Math.floor(stickyBucket('salt', String(i)) * 10)]!++;
    const fit = chiSquareGoodnessOfFit(counts, new Array<number>(10).fill(1));
    assert.ok(fit.p > ALPHA, `observed ${counts.join('/')} (p ${fit.p})`);
  });
});

describe('createRouter: stickiness', () => {
  const policy = (weight: number, salt = 'rollout-1'): TrafficPolicy => ({ stable: 3, candidate: { version: 4, weight }, stickiness: { kind: 'header', name: 'X-User-Id', salt } });

  test('sends the same key to the same variant on every one of 1,000 calls, whatever the random draws', () => {
    const router = createRouter(policy(50), { random: seeded(3) });
    for (const user of ['alice', 'bob', 'carol', 'dave']) {
      const first = router.route({ 'x-user-id': user });
      assert.equal(first.reason, 'sticky');
      assert.equal(first.sticky, true);
      for (const d of times(1000, () => router.route({ 'x-user-id': user }))) assert.equal(d.variant, first.variant);
    }
  });

  test('assigns independently under different salts', () => {
    const a = createRouter(policy(50, 'rollout-a'));
    const b = createRouter(policy(50, 'rollout-b'));
    // a 2×2 contingency table of (variant under salt a, variant under salt b); independence means each cell ≈ N/4
    const cells = [0, 0, 0, 0];
    for (let i = 0; i < N; i++) {
      const h = { 'x-user-id': `user-${i}` };
      cells[(a.route(h).variant === 'candidate' ? 2 : 0) + (b.route(h).variant === 'candidate' ? 1 : 0)]!++;
    }
    const fit = chiSquareGoodnessOfFit(cells, [1, 1, 1, 1]);
    assert.ok(fit.p > ALPHA, `cells ${cells.join('/')} (p ${fit.p})`);
  });

  test('keeps everyone who was in the candidate there when the weight grows from 10 to 20', () => {
    const at10 = createRouter(policy(10));
    const at20 = createRouter(policy(20));
    let in10 = 0;
    let in20 = 0;
    for (let i = 0; i < N; i++) {
      const h = { 'x-user-id': `user-${i}` };
      const was = at10.route(h).variant === 'candidate';
      const is = at20.route(h).variant === 'candidate';
      if (was) {
        in10++;
        assert.ok(is, `user-${i} left the candidate when its weight grew`);
      }
      if (is) in20++;
    }
    assert.ok(in20 > in10 && in10 > 0);
  });

  test('reads the key from a cookie, quoted or not, and ignores cookies with a longer name', () => {
    const router = createRouter({ stable: 3, candidate: { version: 4, weight: 50 }, stickiness: { kind: 'cookie', name: 'uid', salt: 's' } }, { random: () => 0.99 });
    // find a key that the hash puts in the candidate, so that falling back to the draw (0.99 → stable) shows
    let key = '';
    for (let i = 0; i < 100 && key === ''; i++) if (stickyBucket('s', `k${i}`) < 0.5) key = `k${i}`;
    assert.notEqual(key, '');
    for (const cookie of [`uid=${key}`, `a=1; uid=${key}; b=2`, `a=1;uid="${key}"  `, `uid2=zzz; uid=${key}`]) {
      const d = router.route({ cookie });
      assert.equal(d.variant, 'candidate', cookie);
      assert.equal(d.reason, 'sticky', cookie);
    }
    for (const cookie of [`uid2=${key}`, 'uid=', 'other=1']) {
      const d = router.route({ cookie });
      assert.equal(d.reason, 'weighted', cookie);
      assert.equal(d.variant, 'stable', cookie);
    }
    assert.equal(router.route({}).reason, 'weighted');
  });

  test('falls back to the weighted draw for an empty sticky header and uses the first of repeated ones', () => {
    const router = createRouter(policy(50), { random: seeded(5) });
    assert.equal(router.route({ 'x-user-id': '' }).reason, 'weighted');
    const headers: IncomingHttpHeaders = { 'x-user-id': 'alice' };
    const single = router.route(headers);
    const repeated = router.route({ 'x-user-id': ['alice', 'bob'] });
    assert.equal(repeated.variant, single.variant);
    assert.equal(repeated.reason, 'sticky');
  });
});

describe('createRouter: header routes, stable and mirror', () => {
  test('a header route wins over the sticky key and the weights, even at weight 0', () => {
    const router = createRouter({
      stable: 3,
      candidate: { version: 4, weight: 0 },
      stickiness: { kind: 'header', name: 'x-user-id', salt: 's' },
      headerRoutes: [{ header: 'X-Slipway-Variant', value: 'canary', variant: 'candidate' }],
    });
    const forced = router.route({ 'x-slipway-variant': 'canary', 'x-user-id': 'alice' });
    assert.deepEqual({ ...forced }, { variant: 'candidate', version: 4, sticky: false, reason: 'header', mirror: false, mirrorVersion: undefined });
    assert.equal(router.route({ 'x-slipway-variant': ['x', 'canary'] }).variant, 'candidate');
    const other = router.route({ 'x-slipway-variant': 'Canary', 'x-user-id': 'alice' });
    assert.equal(other.variant, 'stable');
    assert.equal(other.reason, 'stable');
  });

  test('a header route beats a sticky assignment to the other variant', () => {
    const policy: TrafficPolicy = {
      stable: 3,
      candidate: { version: 4, weight: 100 },
      stickiness: { kind: 'header', name: 'x-user-id', salt: 's' },
      headerRoutes: [{ header: 'x-force', value: 'old', variant: 'stable' }],
    };
    const router = createRouter(policy);
    assert.equal(router.route({ 'x-user-id': 'alice' }).variant, 'candidate');
    const d = router.route({ 'x-user-id': 'alice', 'x-force': 'old' });
    assert.equal(d.variant, 'stable');
    assert.equal(d.reason, 'header');
  });

  test('answers stable with reason stable when the policy has no split', () => {
    const router = createRouter({ stable: 7 }, { random: () => assert.fail('no draw without a split or mirror') });
    const d = router.route({ 'x-user-id': 'alice' });
    assert.deepEqual({ ...d }, { variant: 'stable', version: 7, sticky: false, reason: 'stable', mirror: false, mirrorVersion: undefined });
    assert.equal(router.policy.mode, 'stable');
  });

  test('returns shared frozen decisions rather than allocating one per request', () => {
    const router = createRouter({ stable: 3, candidate: { version: 4, weight: 50 } }, { random: () => 0.1 });
    const a = router.route({});
    assert.equal(router.route({}), a);
    assert.ok(Object.isFrozen(a));
    assert.ok(Object.isFrozen(router.policy));
  });

  test('mirrors its share of requests to the shadow, and never a request already routed to the shadow version', () => {
    const all = createRouter({ stable: 3, mirror: { version: 4, percent: 100 } }, { random: () => assert.fail('100 % needs no draw') });
    assert.deepEqual({ ...all.route({}) }, { variant: 'stable', version: 3, sticky: false, reason: 'stable', mirror: true, mirrorVersion: 4 });

    const quarter = createRouter({ stable: 3, mirror: { version: 4, percent: 25 } }, { random: seeded(11) });
    let mirrored = 0;
    for (const d of times(N, () => quarter.route({}))) if (d.mirror) mirrored++;
    const fit = chiSquareGoodnessOfFit([mirrored, N - mirrored], [25, 75]);
    assert.ok(fit.p > ALPHA, `mirrored ${mirrored} of ${N} (p ${fit.p})`);

    const self = createRouter({ stable: 3, candidate: { version: 4, weight: 100 }, mirror: { version: 4, percent: 100 } });
    assert.equal(self.route({}).mirror, false);
    assert.equal(createRouter({ stable: 3, mirror: { version: 4, percent: 0 } }).route({}).mirror, false);
  });
});

describe('compileTrafficPolicy via createRouter', () => {
  test('refuses an inconsistent policy with every problem listed by path', () => {
    const bad: TrafficPolicy = {
      stable: 0,
      candidate: { version: 4, weight: 120 },
      stickiness: { kind: 'header', name: 'bad header', salt: 's' },
      headerRoutes: [{ header: 'x-v', value: '', variant: 'nope' }],
      mirror: { version: 2.5, percent: -1 },
    };
    try {
      createRouter(bad);
      assert.fail('expected ROUTING_POLICY_INVALID');
    } catch (error) {
      assert.ok(error instanceof PlatformError);
      assert.equal(error.code, 'ROUTING_POLICY_INVALID');
      assert.equal(error.kind, 'invalid');
      for (const path of ['stable', 'candidate.weight', 'stickiness.name', 'headerRoutes[0].value', 'headerRoutes[0].variant', 'mirror.version', 'mirror.percent']) {
        assert.match(error.message, new RegExp(`\\b${path.replace(/[[\].]/g, '\\$&')}: `), `missing ${path} in\n${error.message}`);
      }
    }
  });

  test('refuses experiments with one variant, duplicate or reserved names, negative weights or no weight at all, and candidate plus variants', () => {
    const cases: [TrafficPolicy, RegExp][] = [
      [{ stable: 1, variants: [{ name: 'a', version: 1, weight: 1 }] }, /variants: an experiment needs at least 2 variants/],
      [{ stable: 1, variants: [{ name: 'a', version: 1, weight: 1 }, { name: 'a', version: 2, weight: 1 }] }, /variants\[1\]\.name: duplicates/],
      [{ stable: 1, variants: [{ name: 'stable', version: 1, weight: 1 }, { name: 'b', version: 2, weight: 1 }] }, /variants\[0\]\.name: "stable" is reserved/],
      [{ stable: 1, variants: [{ name: 'a', version: 1, weight: -1 }, { name: 'b', version: 2, weight: 1 }] }, /variants\[0\]\.weight: must be a number ≥ 0/],
      [{ stable: 1, variants: [{ name: 'a', version: 1, weight: 0 }, { name: 'b', version: 2, weight: 0 }] }, /add up to more than 0/],
      [{ stable: 1, candidate: { version: 2, weight: 1 }, variants: [{ name: 'a', version: 1, weight: 1 }, { name: 'b', version: 2, weight: 1 }] }, /not both/],
    ];
    for (const [policy, message] of cases) assert.throws(() => createRouter(policy), (e: unknown) => e instanceof PlatformError && message.test(e.message));
  });
});
