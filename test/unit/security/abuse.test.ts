import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { createFakeClock, type Tensor } from '../../../src/core/index.js';
import {
  ABUSE_DEFAULTS,
  abuseCallerOf,
  compileAbuseOptions,
  createExtractionDetector,
  createPradaStream,
  queryLayout,
  type AbuseConfig,
  type AbuseFlagEvent,
  type ExtractionDetector,
  type ProfileScale,
} from '../../../src/security/abuse/index.js';
import { compileAlertRule } from '../../../src/monitoring/alerts/rules.js';
import { createRequestLimiter } from '../../../src/security/limits/index.js';
import { createSeededRandom, type SeededRandom } from '../../../src/stats/index.js';
import { problemsOf } from '../../support/config.js';

/** Rows of a breast-cancer CSV (30 features, then the target). */
function breastCancer(file: string): number[][] {
  const text = readFileSync(new URL(`../../../examples/models/breast-cancer/${file}`, import.meta.url), 'utf8');
  return text
    .trim()
    .split(/\r?\n/)
    .slice(1)
    .map((line) => line.split(',').slice(0, 30).map(Number));
}

const reference = breastCancer('reference.csv');
const natural = breastCancer('test.csv');

/** A profile as src/monitoring/profiles computes it, reduced to what the detector reads: the reference data's mean and sample std per feature. */
const profile: ProfileScale = {
  features: Array.from({ length: 30 }, (_, j) => {
    const values = reference.map((r) => r[j] as number);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1));
    return { kind: 'numeric', input: 'input', column: j, mean, std };
  }),
};
const stds = profile.features.map((f) => f.std as number);

function tensor(rows: readonly (readonly number[])[], name = 'input'): Tensor[] {
  return [{ name, datatype: 'FP32', shape: [rows.length, (rows[0] as readonly number[]).length], data: Float32Array.from(rows.flat()) }];
}

function gaussianRows(r: SeededRandom, n: number, dims: number): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: dims }, () => r.normal()));
}

/**
 * A synthetic extraction stream in the style of the paper's attacks (Papernot et al.'s Jacobian-based
 * augmentation, and PRADA's own T-RND): a few natural seeds, then each query a copy of an earlier
 * one with one feature moved by ±`step` of its standard deviation.
 */
function axisAttack(r: SeededRandom, seeds: readonly (readonly number[])[], n: number, step: number, scale: readonly number[]): number[][] {
  const out = seeds.map((s) => [...s]);
  while (out.length < n) {
    const next = [...(out[r.int(out.length)] as number[])];
    const k = r.int(next.length);
    next[k] = (next[k] as number) + (r.bernoulli(0.5) ? 1 : -1) * step * (scale[k] as number);
    out.push(next);
  }
  return out;
}

interface Run {
  readonly detector: ExtractionDetector;
  /** W after each request (null before the test runs). */
  readonly ws: (number | null)[];
  readonly flags: AbuseFlagEvent[];
}

function feed(rows: readonly (readonly number[])[], options: { profile?: ProfileScale; config?: Partial<AbuseConfig>; batch?: number; caller?: string } = {}): Run {
  const flags: AbuseFlagEvent[] = [];
  const detector = createExtractionDetector({
    config: { ...ABUSE_DEFAULTS, ...options.config },
    clock: createFakeClock(),
    onFlagged: (e) => flags.push(e),
    ...(options.profile === undefined ? {} : { profile: () => options.profile }),
  });
  const batch = options.batch ?? 1;
  const ws: (number | null)[] = [];
  for (let i = 0; i < rows.length; i += batch) {
    detector.observe({ caller: options.caller ?? 'key:a', endpoint: 'bc', model: 'm', version: 1, inputs: tensor(rows.slice(i, i + batch)) });
    ws.push(detector.list()[0]?.w ?? null);
  }
  return { detector, ws, flags };
}

const minW = (ws: readonly (number | null)[]): number => Math.min(...ws.filter((w): w is number => w !== null));

describe('abuse options', () => {
  test('defaults, and every bad value reported by its path', () => {
    assert.deepEqual(compileAbuseOptions(undefined), ABUSE_DEFAULTS);
    assert.equal(compileAbuseOptions({ threshold: '0.9', throttle: 'true', throttleRatePerSecond: '0.5' }).threshold, 0.9);
    const problems = problemsOf(() =>
      compileAbuseOptions({ threshold: 1.5, minQueries: 2, maxQueriesPerKey: 6000, maxKeys: 0, throttleRatePerSecond: 0, extra: true }),
    );
    const byPath = new Map(problems.map((p) => [p.path, p.message]));
    assert.match(byPath.get('security.abuse.threshold') ?? '', /≤ 1, got 1.5/);
    assert.match(byPath.get('security.abuse.minQueries') ?? '', /≥ 10/);
    assert.match(byPath.get('security.abuse.maxQueriesPerKey') ?? '', /≤ 5000, got 6000/);
    assert.match(byPath.get('security.abuse.maxKeys') ?? '', /≥ 1/);
    assert.match(byPath.get('security.abuse.throttleRatePerSecond') ?? '', /above 0/);
    assert.match(byPath.get('security.abuse.extra') ?? '', /unknown key/);
    const order = problemsOf(() => compileAbuseOptions({ minQueries: 500, maxQueriesPerKey: 400 }));
    assert.match(order.find((p) => p.path === 'security.abuse.maxQueriesPerKey')?.message ?? '', /larger than minQueries \(500\)/);
  });
});

describe('PRADA stream', () => {
  test('the growing set takes a query only beyond the threshold T = max(T, mean − std of its distances), which never falls', () => {
    const s = createPradaStream({ dims: 1, capacity: 100, minQueries: 10 });
    const one = new Float64Array([1]);
    assert.equal(s.add(new Float64Array([0]), one), 'first');
    // D_G = {0}: T stays 0 after the first member, so the next distinct query joins
    assert.equal(s.add(new Float64Array([4]), one), 'grown');
    // D_G = {0, 4}: mean 2, std 2, T = 0; then 1 is 1 from 0: joins, D_G = {0, 4, 1}: T = 5/3 − 1.70 < 0 → 0
    assert.equal(s.add(new Float64Array([1]), one), 'grown');
    assert.equal(s.growingSet(), 3);
    // an exact repeat reveals nothing: skipped, D unchanged
    assert.equal(s.add(new Float64Array([4]), one), 'repeat');
    assert.equal(s.repeats(), 1);
    assert.equal(s.distances(), 2);
    for (const x of [10, 20, 30, 40]) s.add(new Float64Array([x]), one);
    const t = s.threshold();
    assert.ok(t > 0, `T rose to ${t}`);
    // a query nearer than T to a member is kept out of G but its distance joins D
    const before = s.growingSet();
    assert.equal(s.add(new Float64Array([40 + t / 2]), one), 'kept');
    assert.equal(s.growingSet(), before);
    assert.ok(s.threshold() >= t, 'T never decreases');
    // weights standardise: with weight 1/σ² = 1/100 a step of 10 is a distance of 1
    const w = createPradaStream({ dims: 1, capacity: 10, minQueries: 5 });
    w.add(new Float64Array([0]), new Float64Array([0.01]));
    w.add(new Float64Array([10]), new Float64Array([0.01]));
    assert.equal(w.growingSet(), 2);
  });

  test('no test until D holds more than minQueries distances', () => {
    const r = createSeededRandom(1);
    const s = createPradaStream({ dims: 2, capacity: 1000, minQueries: 20 });
    const scratch = new Float64Array(1000);
    const w = new Float64Array([1, 1]);
    for (let i = 0; i < 21; i++) s.add(new Float64Array([r.normal(), r.normal()]), w);
    assert.equal(s.distances(), 20);
    assert.equal(s.test(scratch), undefined);
    s.add(new Float64Array([r.normal(), r.normal()]), w);
    const result = s.test(scratch);
    assert.ok(result !== undefined && result.n <= 21 && result.w > 0 && result.w <= 1);
  });

  test('memory caps hold: at most `capacity` members and distances however many queries come', () => {
    const r = createSeededRandom(2);
    const s = createPradaStream({ dims: 8, capacity: 50, minQueries: 10 });
    const w = new Float64Array(8).fill(1);
    for (let i = 0; i < 5000; i++) s.add(Float64Array.from({ length: 8 }, () => r.normal() * (1 + i)), w);
    assert.equal(s.growingSet(), 50);
    assert.equal(s.distances(), 50);
    // 50 members of 8 float32s, 50 member distances and 50 distances: no more than a few hundred bytes over
    assert.ok(s.bytes() <= 50 * 8 * 4 + 50 * 8 * 2 + 8 * 8, `bytes ${s.bytes()}`);
  });

  test('a lattice sweep, where every distance is the same, has W = 0 (undefined, reported as the least normal)', () => {
    const s = createPradaStream({ dims: 1, capacity: 1000, minQueries: 20 });
    for (let i = 0; i < 40; i++) s.add(new Float64Array([i]), new Float64Array([1]));
    assert.deepEqual(s.test(new Float64Array(1000)), { n: 39, w: 0, pValue: 0 });
  });
});

describe('extraction detector', () => {
  test('natural queries stay unflagged: breast-cancer test rows (profile or running scale, one by one or in batches) and Gaussian samples', () => {
    for (const run of [feed(natural, { profile }), feed(natural), feed(natural, { profile, batch: 10 })]) {
      const t = run.detector.list()[0];
      assert.ok(t !== undefined && t.w !== null, 'tested: more than 100 distances');
      assert.equal(t.n, natural.length - 1);
      assert.ok(minW(run.ws) >= ABUSE_DEFAULTS.threshold, `W fell to ${minW(run.ws)}`);
      assert.equal(t.flagged, false);
      assert.equal(t.firstFlaggedAt, null);
      assert.deepEqual(run.flags, []);
    }
    assert.equal(feed(natural, { profile }).detector.list()[0]?.scale, 'profile');
    assert.equal(feed(natural).detector.list()[0]?.scale, 'running');
    for (const [seed, dims] of [
      [11, 4],
      [12, 4],
      [13, 30],
    ] as const) {
      const run = feed(gaussianRows(createSeededRandom(seed), 400, dims));
      assert.ok(minW(run.ws) >= ABUSE_DEFAULTS.threshold, `Gaussian ${dims}-d seed ${seed}: W fell to ${minW(run.ws)}`);
      assert.deepEqual(run.flags, []);
    }
  });

  test('a synthetic extraction stream is flagged once the test runs, and reported once', () => {
    const r = createSeededRandom(5);
    const attack = axisAttack(r, natural.slice(0, 10), 300, 0.1, stds);
    for (const run of [feed(attack, { profile }), feed(attack)]) {
      // no verdict before more than minQueries distances
      assert.ok(run.ws.slice(0, ABUSE_DEFAULTS.minQueries).every((w) => w === null));
      // the first test comes with the query that makes |D| = minQueries + 1 (exact repeats add no distance)
      const firstTested = run.ws.findIndex((w) => w !== null);
      const repeats = run.detector.list()[0]?.repeats ?? 0;
      assert.ok(firstTested >= ABUSE_DEFAULTS.minQueries + 1 && firstTested <= ABUSE_DEFAULTS.minQueries + 1 + repeats, `first test at query ${firstTested + 1}`);
      assert.ok((run.ws[firstTested] as number) < ABUSE_DEFAULTS.threshold, `W at the first test: ${run.ws[firstTested]}`);
      assert.equal(run.flags.length, 1, 'onFlagged once');
      const e = run.flags[0] as AbuseFlagEvent;
      assert.equal(e.caller, 'key:a');
      assert.equal(e.endpoint, 'bc');
      assert.ok(e.w < e.threshold && e.n > 3 && e.n <= ABUSE_DEFAULTS.minQueries + 1 && e.queries === firstTested + 1, JSON.stringify(e));
      assert.ok(run.detector.list()[0]?.firstFlaggedAt !== null);
    }
    // with the profile's scale it stays far below δ
    assert.ok(Math.max(...feed(attack, { profile }).ws.filter((w): w is number => w !== null)) < 0.5);
  });

  test('a uniform grid sweep of the input space is flagged', () => {
    const g = [-2, -1, 0, 1, 2];
    const grid: number[][] = [];
    for (const a of g) for (const b of g) for (const c of g) for (const d of g) grid.push([a, b, c, d]);
    const run = feed(grid, { batch: 25 });
    const t = run.detector.list()[0];
    assert.ok(t?.flagged === true && (t.w as number) < 0.5, `W ${t?.w}`);
  });

  test('only the attacker is flagged when a benign key and an attacker share an endpoint; throttleFor names it only with throttling on', () => {
    const r = createSeededRandom(8);
    for (const throttle of [false, true]) {
      const detector = createExtractionDetector({ config: { ...ABUSE_DEFAULTS, throttle, throttleRatePerSecond: 2 }, profile: () => profile });
      const benign = natural;
      const attack = axisAttack(r, reference.slice(0, 10), 200, 0.1, stds);
      for (let i = 0; i < 200; i++) {
        if (i < benign.length) detector.observe({ caller: 'key:app', endpoint: 'bc', model: 'm', version: 1, inputs: tensor([benign[i] as number[]]) });
        detector.observe({ caller: 'key:thief', endpoint: 'bc', model: 'm', version: 1, inputs: tensor([attack[i] as number[]]) });
      }
      const [first, second] = detector.list();
      assert.equal(first?.key, 'key:thief');
      assert.equal(first.flagged, true);
      assert.equal(first.throttled, throttle);
      assert.equal(second?.key, 'key:app');
      assert.equal(second.flagged, false);
      assert.equal(detector.throttleFor('key:app', 'bc'), undefined);
      assert.equal(detector.throttleFor('key:thief', 'other'), undefined);
      assert.deepEqual(detector.throttleFor('key:thief', 'bc'), throttle ? { caller: 'key:thief', endpoint: 'bc', ratePerSecond: 2, reason: 'extraction' } : undefined);
      assert.equal(detector.stats().flagged, 1);
    }
  });

  test('at most maxKeys streams: the least recently seen goes, an unflagged one before a flagged one', () => {
    const r = createSeededRandom(9);
    // a fixed scale (a profile), so that a sweep along one axis puts every new query the same distance from the last
    const unit: ProfileScale = { features: [0, 1, 2, 3].map((column) => ({ kind: 'numeric', input: 'input', column, mean: 0, std: 1 })) };
    const detector = createExtractionDetector({ config: { ...ABUSE_DEFAULTS, maxKeys: 3, maxQueriesPerKey: 200 }, profile: () => unit });
    for (let i = 0; i < 150; i++) detector.observe({ caller: 'key:thief', endpoint: 'e', model: 'm', version: 1, inputs: tensor([[i / 10, 0, 0, 0]]) });
    assert.equal(detector.list()[0]?.flagged, true);
    for (let k = 0; k < 10; k++) {
      for (const row of gaussianRows(r, 3, 4)) detector.observe({ caller: `key:k${k}`, endpoint: 'e', model: 'm', version: 1, inputs: tensor([row]) });
    }
    const keys = detector.list().map((t) => t.key);
    assert.equal(keys.length, 3);
    assert.ok(keys.includes('key:thief'), `the flagged stream stays: ${keys.join(', ')}`);
    assert.deepEqual(keys.slice(1).sort(), ['key:k8', 'key:k9']);
    assert.equal(detector.stats().evicted, 8);
    assert.equal(detector.stats().tracked, 3);
    // every stream within its caps
    for (const t of detector.list()) assert.ok(t.growingSet <= 200 && t.n <= 200);
  });

  test('inputs: wide ones are averaged down to maxFeatures, text inputs left out, a changed layout starts afresh, unreadable requests skipped', () => {
    const wide: Tensor = { name: 'img', datatype: 'FP32', shape: [2, 8, 8], data: Float32Array.from({ length: 128 }, (_, i) => i) };
    const text: Tensor = { name: 'note', datatype: 'BYTES', shape: [2], data: ['a', 'b'] };
    const layout = queryLayout([text, wide], undefined, 16);
    assert.ok(layout !== undefined);
    assert.equal(layout.dims, 16);
    assert.equal(layout.rows, 2);
    const out = new Float64Array(16);
    assert.equal(layout.read(1, out), true);
    // row 1 holds 64…127; block b averages 4 of them: 64 + 4b + 1.5
    assert.deepEqual([...out.subarray(0, 3)], [65.5, 69.5, 73.5]);
    // a profile whose features fit: read by input and column, scaled by its std
    const p: ProfileScale = { features: [{ kind: 'numeric', input: 'x', column: 1, mean: 0, std: 2 }, { kind: 'categorical', input: 'c', column: null }] };
    const x: Tensor = { name: 'x', datatype: 'FP64', shape: [1, 3], data: Float64Array.from([7, 8, 9]) };
    const byProfile = queryLayout([x], p, 16);
    assert.equal(byProfile?.source, 'profile');
    assert.deepEqual([...(byProfile?.weights ?? [])], [0.25]);
    const one = new Float64Array(1);
    byProfile?.read(0, one);
    assert.deepEqual([...one], [8]);
    // non-finite values are skipped row by row; inputs without numbers are skipped whole
    const detector = createExtractionDetector({});
    detector.observe({ caller: 'key:a', endpoint: 'e', model: 'm', version: 1, inputs: [text] });
    assert.equal(detector.stats().skipped, 1);
    detector.observe({ caller: 'key:a', endpoint: 'e', model: 'm', version: 1, inputs: tensor([[1, Number.NaN], [1, 2]]) });
    assert.equal(detector.list()[0]?.queries, 1);
    detector.observe({ caller: 'key:a', endpoint: 'e', model: 'm', version: 2, inputs: tensor([[1, 2, 3]]) });
    assert.equal(detector.list()[0]?.queries, 2);
    assert.equal(detector.list()[0]?.growingSet, 1, 'another layout: a new growing set');
    assert.equal(detector.list()[0]?.version, 2);
  });

  test('switched off, it observes nothing; anonymous callers are told apart by address', () => {
    const off = createExtractionDetector({ config: { ...ABUSE_DEFAULTS, enabled: false, throttle: true } });
    off.observe({ caller: 'key:a', endpoint: 'e', model: 'm', version: 1, inputs: tensor([[1, 2]]) });
    assert.deepEqual(off.list(), []);
    assert.equal(off.throttleFor('key:a', 'e'), undefined);
    assert.equal(abuseCallerOf('anonymous', '10.0.0.7'), 'ip:10.0.0.7');
    assert.equal(abuseCallerOf('key:app', '10.0.0.7'), 'key:app');
    assert.equal(abuseCallerOf('jwt:alice', undefined), 'jwt:alice');
  });
});

describe('throttle in the request limiter', () => {
  test('a flagged caller gets SECURITY_LIMIT_EXTRACTION with Retry-After; the refusal spends nothing else', async () => {
    const clock = createFakeClock();
    const limiter = createRequestLimiter({ clock, config: { keys: { ratePerSecond: 100, burst: 100 } } });
    const throttle = { caller: 'key:thief', endpoint: 'bc', ratePerSecond: 0.5, reason: 'extraction' as const };
    assert.equal(limiter.check({ principal: 'thief', endpoint: 'bc', throttle }), undefined, 'the first passes (burst 1)');
    const refused = limiter.check({ principal: 'thief', endpoint: 'bc', throttle });
    assert.equal(refused?.code, 'SECURITY_LIMIT_EXTRACTION');
    assert.equal(refused.retryAfterSeconds, 2);
    assert.match(refused.message, /"key:thief" is throttled to 0.5 requests\/s on endpoint "bc": its queries look like a model-extraction attack/);
    assert.deepEqual(refused.details, { scope: 'key', name: 'key:thief', endpoint: 'bc', limit: 'extraction', reason: 'extraction', ratePerSecond: 0.5, burst: 1 });
    const snap = limiter.snapshot();
    assert.equal(snap.throttled, 1);
    assert.deepEqual(snap.refused, { key: { rate: 0, quota: 0 }, endpoint: { rate: 0, quota: 0 } });
    // the same key elsewhere, and without the throttle, is not limited by it
    assert.equal(limiter.check({ principal: 'thief', endpoint: 'other', throttle: { ...throttle, endpoint: 'other' } }), undefined);
    assert.equal(limiter.check({ principal: 'thief', endpoint: 'bc' }), undefined);
    await clock.advance(2000);
    assert.equal(limiter.check({ principal: 'thief', endpoint: 'bc', throttle }), undefined, 'a token again after 2 s');
    assert.equal(limiter.snapshot().allowed, 4);
  });
});

describe('example alert rules', () => {
  test('examples/alerts/extraction.yaml compiles and reads the abuse gauges', () => {
    const doc = parse(readFileSync(new URL('../../../examples/alerts/extraction.yaml', import.meta.url), 'utf8')) as { rules: unknown[] };
    const rules = doc.rules.map((r) => compileAlertRule(r));
    assert.deepEqual(
      rules.map((r) => [r.name, r.metric]),
      [
        ['model-extraction-suspected', 'slipway_extraction_suspected'],
        ['extraction-w-low', 'slipway_extraction_w'],
      ],
    );
  });
});
