import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigReader, createFakeClock, PlatformError } from '../../../src/core/index.js';
import {
  compileLimitOptions,
  createQuotas,
  createRequestLimiter,
  createTokenBuckets,
  LIMIT_OPTION_KEYS,
  LIMITS_DEFAULTS,
  parseLimitSpec,
  UNLIMITED_LIMITS,
  type LimitOptions,
} from '../../../src/security/limits/index.js';
import { problemsOf } from '../../support/config.js';


function takeN(n: number, take: () => { allowed: boolean }): number {
  let passed = 0;
  for (let i = 0; i < n; i++) if (take().allowed) passed++;
  return passed;
}

describe('token buckets', () => {
  test('rate 10/s burst 20: 20 pass at once, the 21st waits 1 s, 500 ms later 5 more pass', async () => {
    const clock = createFakeClock();
    const buckets = createTokenBuckets({ clock });
    const spec = { ratePerSecond: 10, burst: 20 };
    for (let i = 0; i < 20; i++) {
      const r = buckets.take('a', spec);
      assert.equal(r.allowed, true, `take ${i + 1}`);
      assert.equal(r.remaining, 19 - i);
      assert.equal(r.retryAfterSeconds, 0);
    }
    const refused = buckets.take('a', spec);
    assert.deepEqual(refused, { allowed: false, remaining: 0, retryAfterSeconds: 1 });
    await clock.advance(500);
    assert.equal(takeN(5, () => buckets.take('a', spec)), 5);
    assert.equal(buckets.take('a', spec).allowed, false);
    // other keys have buckets of their own
    assert.equal(buckets.take('b', spec).allowed, true);
  });

  test('retryAfterSeconds is the time until cost tokens are there, rounded up', async () => {
    const clock = createFakeClock();
    const buckets = createTokenBuckets({ clock });
    const spec = { ratePerSecond: 0.5, burst: 1 };
    assert.equal(buckets.take('slow', spec).allowed, true);
    assert.equal(buckets.take('slow', spec).retryAfterSeconds, 2);
    await clock.advance(1500);
    assert.equal(buckets.take('slow', spec).retryAfterSeconds, 1);
    await clock.advance(500);
    assert.equal(buckets.take('slow', spec).allowed, true);
    // a cost of 3 at 10/s with 1 token left waits 0.2 s → 1 s
    const fast = { ratePerSecond: 10, burst: 5 };
    assert.equal(buckets.take('fast', fast, 4).allowed, true);
    const r = buckets.take('fast', fast, 3);
    assert.equal(r.allowed, false);
    assert.equal(r.retryAfterSeconds, 1);
    assert.equal(r.remaining, 1);
  });

  test('a refused take spends nothing, and peek neither spends nor stores', async () => {
    const clock = createFakeClock();
    const buckets = createTokenBuckets({ clock });
    const spec = { ratePerSecond: 1, burst: 2 };
    assert.equal(buckets.peek('p', spec).allowed, true);
    assert.equal(buckets.size(), 0);
    buckets.take('p', spec, 2);
    assert.equal(buckets.take('p', spec).allowed, false);
    assert.equal(buckets.take('p', spec).allowed, false);
    await clock.advance(1000);
    assert.equal(buckets.peek('p', spec).allowed, true);
    assert.equal(buckets.take('p', spec).allowed, true);
  });

  test('a cost above the burst never passes and says so with an infinite retryAfterSeconds', async () => {
    const clock = createFakeClock();
    const buckets = createTokenBuckets({ clock });
    const r = buckets.take('big', { ratePerSecond: 10, burst: 5 }, 6);
    assert.equal(r.allowed, false);
    assert.equal(r.retryAfterSeconds, Number.POSITIVE_INFINITY);
    assert.equal(buckets.size(), 0, 'a refused new key stores nothing');
    await clock.advance(60_000);
    assert.equal(buckets.take('big', { ratePerSecond: 10, burst: 5 }, 6).allowed, false);
    assert.equal(buckets.take('big', { ratePerSecond: 10, burst: 5 }, 5).allowed, true);
  });

  test('burst 0 is the rate rounded up, at least 1; rate 0 is unlimited and stores nothing', () => {
    const clock = createFakeClock();
    const buckets = createTokenBuckets({ clock });
    assert.equal(takeN(10, () => buckets.take('r', { ratePerSecond: 2.5, burst: 0 })), 3);
    assert.equal(takeN(10, () => buckets.take('s', { ratePerSecond: 0.1, burst: 0 })), 1);
    assert.equal(takeN(1000, () => buckets.take('u', { ratePerSecond: 0, burst: 0 })), 1000);
    assert.equal(buckets.size(), 2);
  });

  test('a smaller burst takes effect at once', () => {
    const clock = createFakeClock();
    const buckets = createTokenBuckets({ clock });
    buckets.take('k', { ratePerSecond: 1, burst: 100 });
    assert.equal(takeN(10, () => buckets.take('k', { ratePerSecond: 1, burst: 3 })), 3);
  });

  test('eviction keeps size ≤ maxBuckets, dropping a full bucket before older drained ones', async () => {
    const clock = createFakeClock();
    const buckets = createTokenBuckets({ clock, maxBuckets: 3 });
    const slow = { ratePerSecond: 1, burst: 5 };
    const quick = { ratePerSecond: 100, burst: 1 };
    assert.equal(takeN(5, () => buckets.take('drained-old', slow)), 5);
    buckets.take('refills', quick);
    assert.equal(takeN(5, () => buckets.take('drained-new', slow)), 5);
    await clock.advance(100); // 'refills' is full again; the others hold 0.1 token
    buckets.take('newcomer', slow);
    assert.equal(buckets.size(), 3);
    // the oldest, drained bucket was kept (a new one would let a request through)…
    assert.equal(buckets.take('drained-old', slow).allowed, false);
    assert.equal(buckets.take('drained-new', slow).allowed, false);
    // …and without a full bucket the least recently used goes: now 'newcomer'
    buckets.take('another', slow);
    assert.equal(buckets.size(), 3);
    assert.equal(buckets.peek('newcomer', slow).remaining, 4, 'newcomer was evicted: a new bucket of 5 would keep 4 after the take');
    assert.equal(buckets.take('drained-old', slow).allowed, false);
  });

  test('many distinct keys never grow the map past maxBuckets', () => {
    const clock = createFakeClock();
    const buckets = createTokenBuckets({ clock, maxBuckets: 100 });
    for (let i = 0; i < 1000; i++) buckets.take(`k${i}`, { ratePerSecond: 1, burst: 1 });
    assert.equal(buckets.size(), 100);
    // the most recent keys survived
    assert.equal(buckets.take('k999', { ratePerSecond: 1, burst: 1 }).allowed, false);
  });
});

describe('quotas', () => {
  test('a minute quota resets at the next UTC minute with the right resetsAt', async () => {
    const clock = createFakeClock(Date.UTC(2026, 2, 3, 12, 30, 40));
    const quotas = createQuotas({ clock });
    const spec = { limit: 3, period: 'minute' } as const;
    const minuteEnd = Date.UTC(2026, 2, 3, 12, 31, 0);
    assert.deepEqual(quotas.take('k', spec), { allowed: true, used: 1, limit: 3, resetsAt: minuteEnd, retryAfterSeconds: 0 });
    quotas.take('k', spec);
    assert.equal(quotas.take('k', spec).used, 3);
    assert.deepEqual(quotas.take('k', spec), { allowed: false, used: 3, limit: 3, resetsAt: minuteEnd, retryAfterSeconds: 20 });
    await clock.advance(19_999);
    assert.equal(quotas.take('k', spec).retryAfterSeconds, 1);
    await clock.advance(1);
    const after = quotas.take('k', spec);
    assert.equal(after.allowed, true);
    assert.equal(after.used, 1);
    assert.equal(after.resetsAt, Date.UTC(2026, 2, 3, 12, 32, 0));
  });

  test('hour and day quotas reset at the UTC hour and midnight', async () => {
    const clock = createFakeClock(Date.UTC(2026, 2, 3, 23, 59, 30));
    const quotas = createQuotas({ clock });
    const hour = { limit: 1, period: 'hour' } as const;
    const day = { limit: 1, period: 'day' } as const;
    assert.equal(quotas.take('h', hour).resetsAt, Date.UTC(2026, 2, 4, 0, 0, 0));
    assert.equal(quotas.take('d', day).resetsAt, Date.UTC(2026, 2, 4));
    const refusedDay = quotas.take('d', day);
    assert.equal(refusedDay.allowed, false);
    assert.equal(refusedDay.retryAfterSeconds, 30);
    await clock.advance(30_000); // midnight UTC
    assert.equal(quotas.take('h', hour).allowed, true);
    const next = quotas.take('d', day);
    assert.equal(next.allowed, true);
    assert.equal(next.resetsAt, Date.UTC(2026, 2, 5));
    // an hour quota in the middle of a day resets at the next whole hour, not an hour from now
    await clock.advance(90 * 60_000); // 01:30
    const h = quotas.take('h2', hour);
    assert.equal(h.resetsAt, Date.UTC(2026, 2, 4, 2, 0, 0));
    assert.equal(quotas.take('h2', hour).retryAfterSeconds, 1800);
  });

  test('a refused take counts nothing; a cost above the limit never passes', () => {
    const clock = createFakeClock();
    const quotas = createQuotas({ clock });
    const spec = { limit: 5, period: 'day' } as const;
    assert.equal(quotas.take('k', spec, 4).used, 4);
    assert.equal(quotas.take('k', spec, 2).allowed, false);
    assert.equal(quotas.take('k', spec, 1).allowed, true);
    const never = quotas.take('other', spec, 6);
    assert.equal(never.allowed, false);
    assert.equal(never.retryAfterSeconds, Number.POSITIVE_INFINITY);
    assert.equal(quotas.take('free', { limit: 0, period: 'day' }).allowed, true);
    assert.equal(quotas.size(), 1);
  });

  test('eviction keeps size ≤ maxCounters, dropping an ended window first', async () => {
    const clock = createFakeClock(Date.UTC(2026, 0, 1, 10, 0, 0));
    const quotas = createQuotas({ clock, maxCounters: 2 });
    quotas.take('day-key', { limit: 1, period: 'day' });
    quotas.take('minute-key', { limit: 1, period: 'minute' });
    await clock.advance(60_000); // the minute window has ended
    quotas.take('third', { limit: 1, period: 'day' });
    assert.equal(quotas.size(), 2);
    assert.equal(quotas.take('day-key', { limit: 1, period: 'day' }).allowed, false, 'the older, live counter was kept');
  });
});

describe('request limiter', () => {
  const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

  test('unlimited by default', () => {
    const limiter = createRequestLimiter({ clock: createFakeClock(T0) });
    for (let i = 0; i < 1000; i++) assert.equal(limiter.check({ principal: 'k', endpoint: 'e' }), undefined);
    assert.equal(limiter.snapshot().allowed, 1000);
    assert.equal(limiter.snapshot().buckets, 0);
  });

  test('a key over its rate limit is refused with an error naming the key', () => {
    const clock = createFakeClock(T0);
    const limiter = createRequestLimiter({ clock, config: { keys: { ratePerSecond: 50, burst: 100 } } });
    for (let i = 0; i < 100; i++) assert.equal(limiter.check({ principal: 'ci-bot', endpoint: 'fraud' }), undefined);
    const error = limiter.check({ principal: 'ci-bot', endpoint: 'fraud' });
    assert.ok(error instanceof PlatformError);
    assert.equal(error.code, 'SECURITY_LIMIT_RATE');
    assert.equal(error.kind, 'limited');
    assert.equal(error.retryAfterSeconds, 1);
    assert.equal(error.message, 'key "ci-bot" is over its rate limit of 50 requests/s (burst 100); retry in 1 s');
    assert.deepEqual(error.details, { scope: 'key', name: 'ci-bot', limit: 'rate', ratePerSecond: 50, burst: 100 });
    // another key is not affected
    assert.equal(limiter.check({ principal: 'other', endpoint: 'fraud' }), undefined);
    assert.deepEqual(limiter.snapshot().refused, { key: { rate: 1, quota: 0 }, endpoint: { rate: 0, quota: 0 } });
  });

  test('an endpoint over its quota is refused with an error naming the endpoint', () => {
    const clock = createFakeClock(T0);
    const limiter = createRequestLimiter({ clock, config: { endpoints: { quota: { limit: 2, period: 'hour' } } } });
    assert.equal(limiter.check({ principal: 'a', endpoint: 'fraud' }), undefined);
    assert.equal(limiter.check({ principal: 'b', endpoint: 'fraud' }), undefined);
    const error = limiter.check({ principal: 'c', endpoint: 'fraud' });
    assert.ok(error instanceof PlatformError);
    assert.equal(error.code, 'SECURITY_LIMIT_QUOTA');
    assert.equal(error.kind, 'limited');
    assert.equal(error.retryAfterSeconds, 3600);
    assert.match(error.message, /^endpoint "fraud" is over its quota of 2 requests per hour .*resets at 2026-01-01T13:00:00.000Z.*; retry in 3600 s$/);
    assert.deepEqual(error.details, { scope: 'endpoint', name: 'fraud', limit: 'quota', quota: 2, period: 'hour', used: 2, resetsAt: '2026-01-01T13:00:00.000Z' });
    assert.equal(limiter.check({ principal: 'c', endpoint: 'other' }), undefined);
    assert.deepEqual(limiter.snapshot().refused, { key: { rate: 0, quota: 0 }, endpoint: { rate: 0, quota: 1 } });
  });

  test('a request refused by one limit spends nothing from the others', async () => {
    const clock = createFakeClock(T0);
    const limiter = createRequestLimiter({
      clock,
      config: { keys: { ratePerSecond: 1, burst: 2, quota: { limit: 10, period: 'day' } }, endpoints: { ratePerSecond: 1, burst: 3 } },
    });
    // the key 'a' drains its own bucket (2) and leaves 1 in the endpoint's
    assert.equal(limiter.check({ principal: 'a', endpoint: 'e' }), undefined);
    assert.equal(limiter.check({ principal: 'a', endpoint: 'e' }), undefined);
    // refused by the key's bucket: the endpoint's last token must stay
    for (let i = 0; i < 5; i++) assert.equal(limiter.check({ principal: 'a', endpoint: 'e' })?.code, 'SECURITY_LIMIT_RATE');
    assert.equal(limiter.check({ principal: 'b', endpoint: 'e' }), undefined, 'the endpoint still had its token');
    // now the endpoint refuses: 'c' must keep its key bucket and quota untouched
    const e = limiter.check({ principal: 'c', endpoint: 'e' });
    assert.equal((e?.details as { scope?: string } | undefined)?.scope, 'endpoint');
    assert.equal(e?.message, 'endpoint "e" is over its rate limit of 1 request/s (burst 3); retry in 1 s');
    for (let i = 0; i < 3; i++) limiter.check({ principal: 'c', endpoint: 'e' });
    assert.equal(limiter.check({ principal: 'c', endpoint: null }), undefined);
    assert.equal(limiter.check({ principal: 'c', endpoint: null }), undefined, 'c still had both tokens');
    assert.equal(limiter.check({ principal: 'c', endpoint: null })?.code, 'SECURITY_LIMIT_RATE');
    // the quota counted only the requests that passed: a 2, b 1, c 2
    const snap = limiter.snapshot();
    assert.equal(snap.allowed, 5);
    assert.deepEqual(snap.refused, { key: { rate: 6, quota: 0 }, endpoint: { rate: 4, quota: 0 } });
    await clock.advance(1000);
    assert.equal(limiter.check({ principal: 'c', endpoint: 'e' }), undefined);
  });

  test('requests refused by an endpoint do not count against the key quota', async () => {
    const clock = createFakeClock(T0);
    const limiter = createRequestLimiter({ clock, config: { keys: { quota: { limit: 2, period: 'day' } }, endpoints: { ratePerSecond: 1, burst: 1 } } });
    assert.equal(limiter.check({ principal: 'k', endpoint: 'e' }), undefined);
    for (let i = 0; i < 5; i++) assert.equal(limiter.check({ principal: 'k', endpoint: 'e' })?.code, 'SECURITY_LIMIT_RATE');
    await clock.advance(1000);
    assert.equal(limiter.check({ principal: 'k', endpoint: 'e' }), undefined, 'the key had used 1 of 2');
    await clock.advance(1000);
    const e = limiter.check({ principal: 'k', endpoint: 'e' });
    assert.equal(e?.code, 'SECURITY_LIMIT_QUOTA');
    assert.deepEqual(e?.details, { scope: 'key', name: 'k', limit: 'quota', quota: 2, period: 'day', used: 2, resetsAt: '2026-01-02T00:00:00.000Z' });
  });

  test('a per-endpoint override beats the endpoint default, field by field', () => {
    const clock = createFakeClock(T0);
    const limiter = createRequestLimiter({
      clock,
      config: { endpoints: { ratePerSecond: 1, burst: 1, quota: { limit: 100, period: 'day' } }, perEndpoint: { fraud: { ratePerSecond: 100, burst: 200 } } },
    });
    assert.equal(takeN(300, () => ({ allowed: limiter.check({ principal: null, endpoint: 'fraud' }) === undefined })), 100, 'the default quota still applies');
    assert.equal(limiter.check({ principal: null, endpoint: 'fraud' })?.code, 'SECURITY_LIMIT_QUOTA');
    assert.equal(limiter.check({ principal: null, endpoint: 'other' }), undefined);
    assert.equal(limiter.check({ principal: null, endpoint: 'other' })?.code, 'SECURITY_LIMIT_RATE');
  });

  test("a key's own limits override the key default; null principal and endpoint skip their limits", () => {
    const clock = createFakeClock(T0);
    const limiter = createRequestLimiter({ clock, config: { keys: { ratePerSecond: 1, burst: 1 } } });
    const keyLimits = parseLimitSpec({ ratePerSecond: 5 }, 'limits');
    assert.equal(takeN(10, () => ({ allowed: limiter.check({ principal: 'vip', endpoint: null, keyLimits }) === undefined })), 5);
    assert.equal(takeN(10, () => ({ allowed: limiter.check({ principal: 'plain', endpoint: null }) === undefined })), 1);
    assert.equal(takeN(10, () => ({ allowed: limiter.check({ principal: null, endpoint: null }) === undefined })), 10);
  });

  test('when several limits refuse, the error names the one that frees up last', () => {
    const clock = createFakeClock(T0);
    const limiter = createRequestLimiter({ clock, config: { keys: { ratePerSecond: 1, burst: 1 }, endpoints: { quota: { limit: 1, period: 'minute' } } } });
    assert.equal(limiter.check({ principal: 'k', endpoint: 'e' }), undefined);
    const e = limiter.check({ principal: 'k', endpoint: 'e' });
    assert.equal(e?.code, 'SECURITY_LIMIT_QUOTA');
    assert.equal(e?.retryAfterSeconds, 60);
  });
});

describe('limit options', () => {
  test('no options compile to everything unlimited, frozen', () => {
    const config = compileLimitOptions(undefined);
    assert.deepEqual(config, LIMITS_DEFAULTS);
    assert.deepEqual(config.keys, UNLIMITED_LIMITS);
    assert.deepEqual(config.keys, { ratePerSecond: 0, burst: 0, quota: { limit: 0, period: 'day' } });
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.endpoints.quota));
    assert.deepEqual(compileLimitOptions({}), LIMITS_DEFAULTS);
  });

  test('values are read, bursts resolved, overrides merged over the endpoint default; recompiling is stable', () => {
    const input: LimitOptions = {
      keys: { ratePerSecond: '2.5', quota: { limit: '1000' } },
      endpoints: { ratePerSecond: 10, burst: 20, quota: { limit: 5000, period: 'hour' } },
      perEndpoint: { fraud: { ratePerSecond: 100, burst: 200 }, slow: { ratePerSecond: 3 }, capped: { quota: { limit: 7, period: 'minute' } } },
    };
    const config = compileLimitOptions(input);
    assert.deepEqual(config.keys, { ratePerSecond: 2.5, burst: 3, quota: { limit: 1000, period: 'day' } });
    assert.deepEqual(config.endpoints, { ratePerSecond: 10, burst: 20, quota: { limit: 5000, period: 'hour' } });
    assert.deepEqual(config.perEndpoint, {
      fraud: { ratePerSecond: 100, burst: 200, quota: { limit: 5000, period: 'hour' } },
      slow: { ratePerSecond: 3, burst: 3, quota: { limit: 5000, period: 'hour' } },
      capped: { ratePerSecond: 10, burst: 20, quota: { limit: 7, period: 'minute' } },
    });
    assert.deepEqual(compileLimitOptions(config), config);
  });

  test('every bad value is reported with its path and what was expected', () => {
    const problems = problemsOf(() =>
      compileLimitOptions(
        {
          keys: { ratePerSecond: -1, burst: 'lots', quota: { limit: 10, period: 'week' } },
          endpoints: { ratePerSecond: 1, burst: 1.5, quota: { limit: -3 }, rate: 5 },
          perEndpoint: { Bad_Name: { ratePerSecond: 1 }, fraud: { ratePerSecond: 'fast', quota: 'lots' } },
          global: {},
        },
        { path: 'security.limits', what: 'security.limits' },
      ),
    );
    const byPath = new Map(problems.map((p) => [p.path, p.message]));
    assert.match(byPath.get('security.limits.keys.ratePerSecond') ?? '', /must be ≥ 0 and ≤ 1000000, got -1/);
    assert.match(byPath.get('security.limits.keys.burst') ?? '', /must be a whole number, got "lots"/);
    assert.match(byPath.get('security.limits.keys.quota.period') ?? '', /must be one of minute, hour, day, got "week"/);
    assert.match(byPath.get('security.limits.endpoints.burst') ?? '', /must be a whole number/);
    assert.match(byPath.get('security.limits.endpoints.quota.limit') ?? '', /must be ≥ 0 and ≤ \d+, got -3/);
    assert.match(byPath.get('security.limits.endpoints.rate') ?? '', /unknown key \(known: ratePerSecond, burst, quota\)/);
    assert.match(byPath.get('security.limits.perEndpoint.Bad_Name') ?? '', /must be an endpoint name/);
    assert.match(byPath.get('security.limits.perEndpoint.fraud.ratePerSecond') ?? '', /must be a number, got "fast"/);
    assert.match(byPath.get('security.limits.perEndpoint.fraud.quota') ?? '', /must be a mapping/);
    assert.match(byPath.get('security.limits.global') ?? '', /unknown key \(known: keys, endpoints, perEndpoint\)/);
    assert.equal(problems.length, 10);
  });

  test('a burst without a rate is reported', () => {
    const problems = problemsOf(() => compileLimitOptions({ keys: { burst: 10 }, perEndpoint: { fraud: { burst: 5 } } }));
    assert.deepEqual(
      problems.map((p) => p.path),
      ['keys.burst', 'perEndpoint.fraud.burst'],
    );
    assert.match(problems[0]?.message ?? '', /no effect while ratePerSecond is 0/);
  });

  test('LIMIT_OPTION_KEYS lists the settable scalar keys, not perEndpoint', () => {
    assert.deepEqual([...LIMIT_OPTION_KEYS], [
      'keys.ratePerSecond',
      'keys.burst',
      'keys.quota.limit',
      'keys.quota.period',
      'endpoints.ratePerSecond',
      'endpoints.burst',
      'endpoints.quota.limit',
      'endpoints.quota.period',
    ]);
  });

  test('parseLimitSpec keeps only the fields given, and reports problems by path', () => {
    assert.deepEqual(parseLimitSpec(undefined, 'limits'), {});
    assert.deepEqual(parseLimitSpec(null, 'limits'), {});
    assert.deepEqual(parseLimitSpec({ ratePerSecond: 5, quota: { limit: 100, period: 'hour' } }, 'limits'), { ratePerSecond: 5, quota: { limit: 100, period: 'hour' } });
    const problems = problemsOf(() => parseLimitSpec({ ratePerSecond: -2, burst: 3, quota: { period: 'year' }, extra: 1 }, 'key.limits'));
    assert.deepEqual(problems.map((p) => p.path).sort(), ['key.limits.extra', 'key.limits.quota.period', 'key.limits.ratePerSecond']);
    // with a reader of its own, the caller collects the problems and gets only the good fields
    const reader = new ConfigReader();
    assert.deepEqual(parseLimitSpec({ ratePerSecond: 'x', burst: 4 }, 'limits', reader), { burst: 4 });
    assert.deepEqual(reader.problems.map((p) => p.path), ['limits.ratePerSecond']);
  });
});
