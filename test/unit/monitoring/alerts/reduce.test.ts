import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  bucketQuantile,
  compileAlertRule,
  createRegistrySignalSource,
  createSeriesHistory,
  evaluateRule,
  historyNames,
  indexSamples,
  MAX_POINTS_PER_SERIES,
  type AlertRuleInput,
  type InstanceResult,
  type RuleResult,
} from '../../../../src/monitoring/alerts/index.js';

const T0 = Date.UTC(2026, 0, 1);

/** Samples the registry at `now` (ms after T0), records what the rule needs and evaluates it, as the evaluator does. */
function harness(registry: Registry, input: AlertRuleInput) {
  const rule = compileAlertRule(input);
  const source = createRegistrySignalSource(registry);
  const history = createSeriesHistory(1000);
  const horizons = new Map(historyNames(rule).map((n) => [n, rule.windowSeconds * 1000]));
  return {
    history,
    async at(seconds: number): Promise<RuleResult> {
      const now = T0 + seconds * 1000;
      const index = indexSamples(await source.samples());
      history.record(now, index, horizons);
      return evaluateRule(rule, index, history, now);
    },
  };
}

function byLabel(result: RuleResult, label: string): Map<string, InstanceResult> {
  return new Map(result.instances.map((i) => [i.labels[label] ?? '', i]));
}

describe('reducing metrics to alert values', () => {
  test('a long window keeps at most MAX_POINTS_PER_SERIES points per series, and its increase stays exact across a reset', async () => {
    const registry = new Registry();
    const c = new Counter({ name: 'c_total', help: 'c', registers: [registry] });
    const h = harness(registry, { name: 'long', metric: 'c_total', reduce: 'increase', window: '1d', op: '>', threshold: 0 });
    let expected = 0;
    let result: RuleResult | undefined;
    for (let i = 0; i < 3000; i++) {
      if (i === 1500) c.reset(); // a restart: counted from zero again, as Prometheus does
      c.inc(2);
      if (i > 0) expected += 2;
      result = await h.at(i * 15);
    }
    assert.ok(h.history.stats().points <= MAX_POINTS_PER_SERIES, `points ${h.history.stats().points}`);
    // 3000 evaluations × 15 s is under a day: the window covers them all, so the increase is every increment since the first point
    assert.equal(result?.instances[0]?.value, expected);
  });


  test('value reads each gauge series as its own instance', async () => {
    const registry = new Registry();
    const share = new Gauge({ name: 'slipway_drift_share', help: 'h', labelNames: ['endpoint', 'model', 'version'] as const, registers: [registry] });
    share.set({ endpoint: 'shop', model: 'shop', version: '2' }, 0.6);
    share.set({ endpoint: 'bank', model: 'bank', version: '1' }, 0.2);
    const h = harness(registry, { name: 'drift', metric: 'slipway_drift_share', op: '>', threshold: 0.5 });
    const result = await h.at(0);
    const got = byLabel(result, 'endpoint');
    assert.equal(got.get('shop')?.value, 0.6);
    assert.deepEqual(got.get('shop')?.labels, { endpoint: 'shop', model: 'shop', version: '2' });
    assert.equal(got.get('bank')?.value, 0.2);
    // the same rule with a matcher sees one series
    const only = harness(registry, { name: 'drift', metric: 'slipway_drift_share', labels: { endpoint: 'bank' }, op: '>', threshold: 0.5 });
    assert.deepEqual((await only.at(0)).instances.map((i) => i.value), [0.2]);
  });

  test('rate is the per-second increase over the window, counting a counter reset as Prometheus does', async () => {
    const registry = new Registry();
    const requests = new Counter({ name: 'slipway_requests_total', help: 'h', labelNames: ['endpoint'] as const, registers: [registry] });
    const h = harness(registry, { name: 'traffic', metric: 'slipway_requests_total', reduce: 'rate', window: '2m', op: '<', threshold: 1 });
    requests.inc({ endpoint: 'shop' }, 100);
    const first = await h.at(0);
    // one point is no rate yet: present, but not judged
    assert.equal(first.instances[0]?.value, null);
    requests.inc({ endpoint: 'shop' }, 60);
    await h.at(60);
    requests.reset(); // a restart: the counter starts again from zero
    requests.inc({ endpoint: 'shop' }, 30);
    const result = await h.at(120);
    const shop = result.instances[0];
    // 100 → 160 is +60, 160 → 30 is a reset counted as +30: 90 over 120 s
    assert.equal(shop?.figures.increase, 90);
    assert.equal(shop?.figures.coveredSeconds, 120);
    assert.equal(shop?.value, 0.75);
  });

  test('increase counts a series that appears between evaluations from zero', async () => {
    const registry = new Registry();
    const errors = new Counter({ name: 'slipway_errors_total', help: 'h', labelNames: ['endpoint'] as const, registers: [registry] });
    const h = harness(registry, { name: 'errors', metric: 'slipway_errors_total', reduce: 'increase', window: '5m', op: '>', threshold: 0 });
    await h.at(0);
    errors.inc({ endpoint: 'shop' }, 6);
    const result = await h.at(60);
    assert.equal(result.instances[0]?.value, 6);
  });

  test('ratio divides increases per by-group and withholds a judgement below minSamples', async () => {
    const registry = new Registry();
    const requests = new Counter({ name: 'slipway_requests_total', help: 'h', labelNames: ['endpoint', 'status'] as const, registers: [registry] });
    const errors = new Counter({ name: 'slipway_errors_total', help: 'h', labelNames: ['endpoint', 'code'] as const, registers: [registry] });
    const h = harness(registry, {
      name: 'error-ratio',
      metric: 'slipway_errors_total',
      reduce: 'ratio',
      denominator: 'slipway_requests_total',
      by: ['endpoint'],
      window: '5m',
      op: '>',
      threshold: 0.05,
      minSamples: 50,
    });
    requests.inc({ endpoint: 'shop', status: '200' }, 10);
    requests.inc({ endpoint: 'bank', status: '200' }, 10);
    await h.at(0);
    requests.inc({ endpoint: 'shop', status: '200' }, 90);
    requests.inc({ endpoint: 'shop', status: '500' }, 10);
    errors.inc({ endpoint: 'shop', code: 'RUNTIME_FAILED' }, 10);
    requests.inc({ endpoint: 'bank', status: '200' }, 1);
    requests.inc({ endpoint: 'bank', status: '500' }, 2);
    errors.inc({ endpoint: 'bank', code: 'RUNTIME_FAILED' }, 2);
    const got = byLabel(await h.at(60), 'endpoint');
    assert.deepEqual(got.get('shop')?.labels, { endpoint: 'shop' });
    assert.equal(got.get('shop')?.value, 0.1);
    assert.equal(got.get('shop')?.figures.denominatorIncrease, 100);
    assert.equal(got.get('shop')?.figures.increase, 10);
    // 2 of 3 requests failed, but 3 requests are fewer than minSamples 50
    assert.equal(got.get('bank')?.value, null);
    assert.equal(got.get('bank')?.figures.samples, 3);
  });

  test('p99, p50 and mean come from the buckets\' increase over the window, not their totals', async () => {
    const registry = new Registry();
    const latency = new Histogram({ name: 'slipway_request_duration_seconds', help: 'h', labelNames: ['endpoint'] as const, buckets: [0.1, 0.5, 1, 5], registers: [registry] });
    const p99 = harness(registry, { name: 'p99', metric: 'slipway_request_duration_seconds', reduce: 'p99', window: '5m', op: '>', threshold: 1 });
    const p50 = harness(registry, { name: 'p50', metric: 'slipway_request_duration_seconds', reduce: 'p50', window: '5m', op: '>', threshold: 1 });
    const mean = harness(registry, { name: 'mean', metric: 'slipway_request_duration_seconds', reduce: 'mean', window: '5m', op: '>', threshold: 1 });
    // before the window: 1000 slow requests that must not count
    for (let i = 0; i < 1000; i++) latency.observe({ endpoint: 'shop' }, 4);
    await Promise.all([p99.at(0), p50.at(0), mean.at(0)]);
    for (let i = 0; i < 80; i++) latency.observe({ endpoint: 'shop' }, 0.05);
    for (let i = 0; i < 15; i++) latency.observe({ endpoint: 'shop' }, 0.3);
    for (let i = 0; i < 5; i++) latency.observe({ endpoint: 'shop' }, 3);
    const [r99, r50, rMean] = await Promise.all([p99.at(60), p50.at(60), mean.at(60)]);
    // by hand: cumulative deltas 80, 95, 95, 100 (+Inf 100). p99: rank 99 falls in (1, 5] holding 5,
    // 4 of them below the rank → 1 + 4 × 4/5 = 4.2. p50: rank 50 in (0, 0.1] of 80 → 0.1 × 50/80.
    assert.equal(r99.instances[0]?.value, 4.2);
    assert.equal(r50.instances[0]?.value, 0.0625);
    assert.deepEqual(r99.instances[0]?.labels, { endpoint: 'shop' });
    assert.equal(r99.instances[0]?.figures.count, 100);
    // mean: (80 × 0.05 + 15 × 0.3 + 5 × 3) / 100
    assert.ok(Math.abs((rMean.instances[0]?.value ?? NaN) - 0.235) < 1e-12);
  });

  test('a histogram reduce on a counter is a rule error, and a rate on a histogram family too', async () => {
    const registry = new Registry();
    new Counter({ name: 'slipway_requests_total', help: 'h', registers: [registry] }).inc();
    new Histogram({ name: 'slipway_batch_size', help: 'h', buckets: [1, 2], registers: [registry] }).observe(1);
    assert.match((await harness(registry, { name: 'x', metric: 'slipway_requests_total', reduce: 'p99', op: '>', threshold: 1 }).at(0)).error ?? '', /is a counter, not a histogram/);
    assert.match((await harness(registry, { name: 'x', metric: 'slipway_batch_size', reduce: 'rate', op: '>', threshold: 1 }).at(0)).error ?? '', /is a histogram/);
    // its _count series is an ordinary counter
    assert.equal((await harness(registry, { name: 'x', metric: 'slipway_batch_size_count', op: '>', threshold: 1 }).at(0)).instances[0]?.value, 1);
  });

  test('bucketQuantile matches histogram_quantile at the edges', () => {
    const inf = Number.POSITIVE_INFINITY;
    assert.equal(bucketQuantile(0.5, [{ upperBound: 1, count: 0 }, { upperBound: inf, count: 0 }]), NaN);
    // all observations above the highest finite bound: that bound
    assert.equal(bucketQuantile(0.9, [{ upperBound: 1, count: 0 }, { upperBound: 2, count: 0 }, { upperBound: inf, count: 10 }]), 2);
    assert.equal(bucketQuantile(0.5, [{ upperBound: 1, count: 4 }]), NaN);
  });

  test('keeps history bounded by maxSeries and by the window', async () => {
    const registry = new Registry();
    const c = new Counter({ name: 'c_total', help: 'h', labelNames: ['i'] as const, registers: [registry] });
    for (let i = 0; i < 5; i++) c.inc({ i: String(i) });
    const rule = compileAlertRule({ name: 'x', metric: 'c_total', reduce: 'rate', window: '1m', op: '>', threshold: 1 });
    const history = createSeriesHistory(3);
    const source = createRegistrySignalSource(registry);
    for (let s = 0; s <= 600; s += 15) history.record(T0 + s * 1000, indexSamples(await source.samples()), new Map([['c_total', rule.windowSeconds * 1000]]));
    const stats = history.stats();
    assert.equal(stats.series, 3);
    assert.ok(stats.refusedSeries > 0);
    // 1 min at 15 s: the points inside the window plus the one baseline before it
    assert.equal(stats.points, 3 * 5);
  });
});
