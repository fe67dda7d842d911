import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { createBusinessMetrics, type BusinessOutcomeSource } from '../../../../src/monitoring/business/index.js';
import { BUSINESS_METRIC_NAMES, registerBusinessMetrics } from '../../../../src/monitoring/business/metrics.js';
import { fixedUsage, HOUR, seedShop, seededMonitoring, T0 } from './fixtures.js';

const CPU = [
  { endpoint: 'shop', model: 'shop-model', version: 1, cpuSeconds: 36 },
  { endpoint: 'shop', model: 'shop-model', version: 2, cpuSeconds: 72 },
  { endpoint: 'shop', model: 'shop-model', version: 3, cpuSeconds: 18 },
];

async function setup(options: { pricePerCoreHour?: number; endpoints?: () => Promise<readonly string[]>; autoRefresh?: boolean } = {}) {
  const s = seededMonitoring();
  await seedShop(s);
  const queries = { count: 0 };
  // counts every store-backed query, so a test can tell that a scrape makes none
  const counted: BusinessOutcomeSource = {
    outcomeReports: (endpoint, query) => {
      queries.count++;
      return s.monitoring.outcomeReports(endpoint, query);
    },
  };
  const usage = fixedUsage(CPU, { measuredSince: T0, measuredUntil: T0 + HOUR });
  const business = createBusinessMetrics({
    monitoring: counted,
    usage,
    options: { pricePerCoreHour: options.pricePerCoreHour ?? 0.5, outcomeValues: { conversion: 3, click: 0.5 }, metricsWindowHours: 2 },
    clock: s.clock,
  });
  const registry = new Registry();
  const gauges = registerBusinessMetrics(registry, {
    business,
    endpoints: options.endpoints ?? (async () => ['shop']),
    usage,
    clock: s.clock,
    autoRefresh: options.autoRefresh ?? false,
  });
  return { s, registry, gauges, queries };
}

/** Lets pending I/O callbacks run until `done` holds (a bounded number of turns). */
async function settled(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** The sample lines of one metric in the exposition. */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe('business gauges', () => {
  test('registers every documented metric with its help', async () => {
    const { registry, gauges, s } = await setup();
    const text = await registry.metrics();
    for (const name of BUSINESS_METRIC_NAMES) assert.match(text, new RegExp(`^# HELP ${name} `, 'm'), name);
    assert.match(text, /^# TYPE slipway_cpu_seconds_total counter$/m);
    assert.match(text, /^# TYPE slipway_business_conversion_rate gauge$/m);
    await gauges.close();
    await s.monitoring.close();
  });

  test('labels each version\'s figures by endpoint, model, version and variant, money by currency too', async () => {
    const { registry, gauges, s } = await setup();
    await gauges.refresh();
    const text = await registry.metrics();
    const stable = 'endpoint="shop",model="shop-model",version="1",variant="stable"';
    assert.deepEqual(samples(text, 'slipway_business_conversion_rate').sort(), [
      `slipway_business_conversion_rate{${stable}} 0.25`,
      'slipway_business_conversion_rate{endpoint="shop",model="shop-model",version="2",variant="candidate"} 0.5',
    ]);
    assert.ok(samples(text, 'slipway_business_predictions').includes(`slipway_business_predictions{${stable}} 10`));
    assert.ok(samples(text, 'slipway_business_revenue_sum').includes(`slipway_business_revenue_sum{${stable}} 30`));
    assert.ok(samples(text, 'slipway_business_revenue_mean').includes(`slipway_business_revenue_mean{${stable}} 3.75`));
    assert.ok(samples(text, 'slipway_business_revenue_mean_earning').includes(`slipway_business_revenue_mean_earning{${stable}} 15`));
    assert.ok(samples(text, 'slipway_business_label_accuracy').includes(`slipway_business_label_accuracy{${stable}} 0.75`));
    assert.ok(samples(text, 'slipway_business_label_accuracy').includes('slipway_business_label_accuracy{endpoint="shop",model="shop-model",version="3",variant="shadow"} 0'));
    assert.ok(samples(text, 'slipway_business_labels').includes(`slipway_business_labels{${stable}} 4`));
    // classes 1, 1, 1, 0 against a predicted 1: off by 1 once
    assert.ok(samples(text, 'slipway_business_label_mae').includes(`slipway_business_label_mae{${stable}} 0.25`));
    assert.ok(samples(text, 'slipway_business_label_rmse').includes(`slipway_business_label_rmse{${stable}} 0.5`));
    assert.ok(samples(text, 'slipway_business_numeric_labels').includes(`slipway_business_numeric_labels{${stable}} 4`));
    assert.ok(samples(text, 'slipway_business_cpu_seconds').includes(`slipway_business_cpu_seconds{${stable}} 36`));
    assert.ok(samples(text, 'slipway_business_cost_per_1k_predictions').includes(`slipway_business_cost_per_1k_predictions{${stable},currency="USD"} 0.5`));
    assert.ok(samples(text, 'slipway_business_value_per_1k_predictions').includes(`slipway_business_value_per_1k_predictions{${stable},currency="USD"} 800`));
    assert.ok(samples(text, 'slipway_business_net_value_per_1k_predictions').includes(`slipway_business_net_value_per_1k_predictions{${stable},currency="USD"} 799.5`));
    assert.deepEqual(samples(text, 'slipway_business_report_timestamp_seconds'), [`slipway_business_report_timestamp_seconds{endpoint="shop"} ${(T0 + HOUR) / 1000}`]);
    assert.deepEqual(samples(text, 'slipway_cpu_seconds_total').sort(), [
      'slipway_cpu_seconds_total{endpoint="shop",model="shop-model",version="1"} 36',
      'slipway_cpu_seconds_total{endpoint="shop",model="shop-model",version="2"} 72',
      'slipway_cpu_seconds_total{endpoint="shop",model="shop-model",version="3"} 18',
    ]);
    assert.deepEqual(samples(text, 'slipway_cpu_unattributed_seconds_total'), ['slipway_cpu_unattributed_seconds_total 7']);
    await gauges.close();
    await s.monitoring.close();
  });

  test('leaves a series out rather than showing a fake 0: no conversion for the shadow, no cost without a price', async () => {
    const { registry, gauges, s } = await setup({ pricePerCoreHour: 0 });
    await gauges.refresh();
    const text = await registry.metrics();
    assert.ok(!samples(text, 'slipway_business_conversion_rate').some((l) => l.includes('variant="shadow"')));
    assert.deepEqual(samples(text, 'slipway_business_cost_per_1k_predictions'), []);
    assert.deepEqual(samples(text, 'slipway_business_net_value_per_1k_predictions'), []);
    assert.equal(samples(text, 'slipway_business_cpu_seconds').length, 3);
    await gauges.close();
    await s.monitoring.close();
  });

  test('never queries the store during a scrape: the figures come from the last refresh', async () => {
    const { registry, gauges, s, queries } = await setup();
    await registry.metrics();
    assert.equal(queries.count, 0);
    await gauges.refresh();
    const afterRefresh = queries.count;
    assert.ok(afterRefresh > 0);
    await registry.metrics();
    await registry.metrics();
    assert.equal(queries.count, afterRefresh);
    await gauges.close();
    await s.monitoring.close();
  });

  test('refreshes on its interval over the listed endpoints, and drops an endpoint no longer listed', async () => {
    let names: readonly string[] = ['shop'];
    const { registry, gauges, s } = await setup({ endpoints: async () => names, autoRefresh: true });
    // the first refresh starts at once
    await settled(() => gauges.stats().refreshes >= 1);
    assert.equal(gauges.stats().refreshes, 1);
    assert.ok(gauges.cached('shop') !== undefined);
    assert.equal(gauges.cached('shop')?.since, T0 + HOUR - 2 * HOUR, 'the window is the last metricsWindowHours');
    names = [];
    await s.clock.advance(30_000);
    await settled(() => gauges.stats().refreshes >= 2);
    assert.equal(gauges.stats().refreshes, 2);
    assert.equal(gauges.cached('shop'), undefined);
    assert.deepEqual(samples(await registry.metrics(), 'slipway_business_predictions'), []);
    await gauges.close();
    await s.clock.advance(60_000);
    assert.equal(gauges.stats().refreshes, 2, 'no refresh after close');
    await s.monitoring.close();
  });

  test('after a slow refresh waits long enough that refreshing takes at most 2 % of the request thread', async () => {
    let slowMs = 0;
    const holder: { clock?: { advance(ms: number): Promise<void> } } = {};
    // the store's queries run on the request thread: a refresh taking slowMs is one that held it that long
    const { gauges, s } = await setup({
      autoRefresh: true,
      endpoints: async () => {
        if (slowMs > 0) await holder.clock?.advance(slowMs);
        return ['shop'];
      },
    });
    holder.clock = s.clock;
    await settled(() => gauges.stats().refreshes >= 1);
    assert.equal(gauges.stats().nextRefreshAfterMs, 30_000, 'a quick refresh: the interval');
    slowMs = 2000;
    await s.clock.advance(30_000);
    await settled(() => gauges.stats().refreshes >= 2);
    assert.equal(gauges.stats().lastRefreshMs, 2000);
    assert.equal(gauges.stats().nextRefreshAfterMs, 98_000, '2 s at 2 % of the thread: the next one 49 × 2 s later');
    slowMs = 0;
    await s.clock.advance(97_000);
    await settled(() => false);
    assert.equal(gauges.stats().refreshes, 2, 'not at the 30 s interval');
    await s.clock.advance(1000);
    await settled(() => gauges.stats().refreshes >= 3);
    assert.equal(gauges.stats().refreshes, 3);
    assert.equal(gauges.stats().nextRefreshAfterMs, 30_000, 'back to the interval once refreshes are quick again');
    await gauges.close();
    await s.monitoring.close();
  });

  test('keeps an endpoint\'s previous figures when its report fails, and counts the failure', async () => {
    const { gauges, s } = await setup();
    await gauges.refresh();
    const before = gauges.cached('shop');
    await s.monitoring.close();
    await gauges.refresh();
    assert.equal(gauges.stats().failures, 1);
    assert.equal(gauges.cached('shop'), before);
    await gauges.close();
  });
});
