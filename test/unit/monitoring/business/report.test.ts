import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlatformError } from '../../../../src/core/index.js';
import {
  businessFigures,
  createBusinessMetrics,
  NO_PRICE_REASON,
  NO_USAGE_REASON,
  NO_VALUES_REASON,
  type BusinessReport,
  type VariantBusiness,
  type VersionBusiness,
} from '../../../../src/monitoring/business/index.js';
import { rid } from '../fixtures.js';
import { fixedUsage, HOUR, seedShop, seededMonitoring, T0 } from './fixtures.js';

const close = (actual: number | null | undefined, expected: number, what: string, tolerance = 1e-9): void => {
  assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) <= tolerance, `${what}: expected ${expected}, got ${String(actual)}`);
};

function variant(report: BusinessReport, name: string): VariantBusiness {
  const v = report.variants.find((x) => x.variant === name);
  assert.ok(v !== undefined, `no variant ${name} in ${report.variants.map((x) => x.variant).join(', ')}`);
  return v;
}

function version(report: BusinessReport, name: string, n: number): VersionBusiness {
  const v = variant(report, name).versions.find((x) => x.version === n);
  assert.ok(v !== undefined, `no version ${n} in variant ${name}`);
  return v;
}

const ECONOMICS = { conversionEvent: 'conversion', revenueEvent: 'purchase', currency: 'USD', pricePerCoreHour: 0.5, outcomeValues: { conversion: 3, click: 0.5 } };
const CPU = [
  { endpoint: 'shop', model: 'shop-model', version: 1, cpuSeconds: 36 },
  { endpoint: 'shop', model: 'shop-model', version: 2, cpuSeconds: 72 },
  { endpoint: 'shop', model: 'shop-model', version: 3, cpuSeconds: 18 },
  { endpoint: 'other', model: 'x', version: 1, cpuSeconds: 1000 },
];
const WINDOW = { since: T0, until: T0 + HOUR };

describe('business figures arithmetic', () => {
  const arms = (conversions: number, answered: number) => ({
    conversion: { kind: 'rate' as const, n: answered, successes: conversions },
    revenuePerPrediction: { kind: 'continuous' as const, n: answered, mean: 2, m2: 0 },
    revenuePerEarning: { kind: 'continuous' as const, n: 4, mean: 250, m2: 0 },
    accuracy: { kind: 'rate' as const, n: 50, successes: 45 },
    // absolute errors 1 and 3
    error: { kind: 'continuous' as const, n: 2, mean: 2, m2: 2 },
    valued: new Map([['conversion', { kind: 'rate' as const, n: answered, successes: conversions }]]),
  });

  test('costs CPU-seconds / 3600 × the price per core-hour, per 1,000 predictions', () => {
    const f = businessFigures({ variant: 'stable', predictions: 500, answered: 500, arms: arms(40, 500), cpuSeconds: 7200, costPredictions: 400 }, { ...ECONOMICS, pricePerCoreHour: 0.04, outcomeValues: { conversion: 1.25 } }, { pricePerCoreHour: 0.04 });
    // 7200 s = 2 core-hours × 0.04 = 0.08, over 400 predictions = 0.2 per 1,000
    close(f.cost, 0.08, 'cost');
    close(f.costPer1kPredictions, 0.2, 'cost per 1k');
    // 40 conversions × 1.25 = 50 over 500 predictions = 100 per 1,000
    close(f.value, 50, 'value');
    close(f.valuePer1kPredictions, 100, 'value per 1k');
    close(f.netValuePer1kPredictions, 99.8, 'net per 1k');
    close(f.revenue?.sum, 1000, 'revenue sum is Σ over earning predictions');
    close(f.revenue?.meanPerPrediction, 2, 'revenue per prediction');
    close(f.revenue?.meanPerEarning, 250, 'revenue per earning prediction');
    close(f.conversion?.rate, 0.08, 'conversion rate');
    close(f.accuracy.accuracy, 0.9, 'accuracy');
    assert.equal(f.error.labels, 2);
    close(f.error.mae, 2, 'MAE: the mean absolute error');
    close(f.error.rmse, Math.sqrt((1 + 9) / 2), 'RMSE: √(m2/n + mean²), the root of the mean square');
  });

  test('gives null error figures, not a fake 0, without numeric labels', () => {
    const f = businessFigures({ variant: 'stable', predictions: 5, answered: 5, arms: { ...arms(1, 5), error: { kind: 'continuous', n: 0, mean: 0, m2: 0 } }, cpuSeconds: null, costPredictions: 0 }, ECONOMICS, { pricePerCoreHour: null });
    assert.deepEqual(f.error, { labels: 0, mae: null, rmse: null });
    assert.deepEqual(businessFigures({ variant: 'stable', predictions: 5, answered: 5, arms: { ...arms(1, 5), error: undefined }, cpuSeconds: null, costPredictions: 0 }, ECONOMICS, { pricePerCoreHour: null }).error, { labels: 0, mae: null, rmse: null });
  });

  test('shows a null cost, not a fake 0, without a price', () => {
    const f = businessFigures({ variant: 'stable', predictions: 500, answered: 500, arms: arms(40, 500), cpuSeconds: 7200, costPredictions: 500 }, ECONOMICS, { pricePerCoreHour: null });
    assert.equal(f.cost, null);
    assert.equal(f.costPer1kPredictions, null);
    assert.equal(f.netValuePer1kPredictions, null);
    assert.equal(f.cpuSeconds, 7200);
    close(f.valuePer1kPredictions, 240, 'value per 1k still shown');
  });

  test('gives null per-1,000 figures for no predictions instead of dividing by zero', () => {
    const f = businessFigures({ variant: 'stable', predictions: 0, answered: 0, arms: arms(0, 0), cpuSeconds: 3, costPredictions: 0 }, ECONOMICS, { pricePerCoreHour: 1 });
    assert.equal(f.costPer1kPredictions, null);
    assert.equal(f.valuePer1kPredictions, null);
    assert.equal(f.conversion?.rate, null);
    assert.equal(f.conversion?.interval, null);
  });
});

describe('business report over the monitoring store', () => {
  async function shopReport(options: Parameters<typeof createBusinessMetrics>[0]['options'] = ECONOMICS, withUsage = true) {
    const s = seededMonitoring();
    await seedShop(s);
    const usage = fixedUsage(CPU);
    const business = createBusinessMetrics({ monitoring: s.monitoring, ...(withUsage ? { usage } : {}), options, clock: s.clock });
    return { report: await business.report('shop', WINDOW), usage, s };
  }

  test('gives each variant and version its predictions, conversion rate with its Wilson interval, revenue and accuracy', async () => {
    const { report } = await shopReport();
    assert.deepEqual(
      report.variants.map((v) => [v.variant, v.versions.map((x) => x.version)]),
      [
        ['candidate', [2]],
        ['shadow', [3]],
        ['stable', [1]],
      ],
    );
    const stable = version(report, 'stable', 1);
    assert.equal(stable.model, 'shop-model');
    assert.equal(stable.predictions, 10);
    assert.equal(stable.answered, 8);
    assert.deepEqual({ ...stable.conversion, interval: undefined }, { event: 'conversion', conversions: 2, answered: 8, rate: 0.25, interval: undefined });
    // Wilson 95 % for 2 of 8: [0.0715, 0.5907]
    close(stable.conversion?.interval?.lower, 0.0715, 'lower', 5e-5);
    close(stable.conversion?.interval?.upper, 0.5907, 'upper', 5e-5);
    close(stable.revenue?.sum, 30, 'revenue sum');
    close(stable.revenue?.meanPerPrediction, 3.75, 'revenue per answered prediction, missing as 0');
    assert.equal(stable.revenue?.earning, 2);
    close(stable.revenue?.meanPerEarning, 15, 'revenue per purchase');
    assert.equal(stable.accuracy.labels, 4);
    assert.equal(stable.accuracy.correct, 3);
    assert.equal(stable.accuracy.accuracy, 0.75);

    const candidate = version(report, 'candidate', 2);
    assert.equal(candidate.conversion?.rate, 0.5);
    close(candidate.revenue?.sum, 50, 'candidate revenue');
    assert.equal(candidate.accuracy.accuracy, 1);
  });

  test('costs each version\'s measured CPU at the configured price, per 1,000 predictions', async () => {
    const { report } = await shopReport();
    assert.equal(report.costReason, null);
    assert.equal(report.pricePerCoreHour, 0.5);
    assert.equal(report.currency, 'USD');
    const stable = version(report, 'stable', 1);
    assert.equal(stable.cpuSeconds, 36);
    assert.equal(stable.costPredictions, 10);
    close(stable.cost, 0.005, 'stable cost');
    close(stable.costPer1kPredictions, 0.5, 'stable cost per 1k');
    const candidate = version(report, 'candidate', 2);
    close(candidate.costPer1kPredictions, 1, 'candidate cost per 1k');
    const shadow = version(report, 'shadow', 3);
    close(shadow.costPer1kPredictions, 0.625, 'the shadow costs too');
    // another endpoint's CPU is not this one's
    close(report.usage?.processCpuSeconds, 7 + 36 + 72 + 18 + 1000, 'process CPU');
    assert.deepEqual(report.usage?.unmatched, []);
  });

  test('values configured outcomes per 1,000 predictions and nets the cost off', async () => {
    const { report } = await shopReport();
    const stable = version(report, 'stable', 1);
    assert.deepEqual(stable.valuedEvents, { conversion: 2, click: 4 });
    close(stable.value, 8, 'stable value: 2 × 3 + 4 × 0.5');
    close(stable.valuePer1kPredictions, 800, 'stable value per 1k');
    close(stable.netValuePer1kPredictions, 799.5, 'stable net per 1k');
    const candidate = version(report, 'candidate', 2);
    close(candidate.valuePer1kPredictions, 1500, 'candidate value per 1k');
    close(candidate.netValuePer1kPredictions, 1499, 'candidate net per 1k');
  });

  test('gives the shadow accuracy and cost but no conversions, revenue or value: nobody saw its answers', async () => {
    const { report } = await shopReport();
    const shadow = version(report, 'shadow', 3);
    assert.equal(shadow.predictions, 4);
    assert.equal(shadow.conversion, null);
    assert.equal(shadow.revenue, null);
    assert.equal(shadow.value, null);
    assert.equal(shadow.netValuePer1kPredictions, null);
    assert.equal(shadow.accuracy.labels, 4);
    assert.equal(shadow.accuracy.accuracy, 0);
    // its class 2 against labels 1, 1, 1, 0
    assert.equal(shadow.error.labels, 4);
    close(shadow.error.mae, 1.25, 'shadow MAE');
    close(shadow.error.rmse, Math.sqrt(7 / 4), 'shadow RMSE');
  });

  test('gives a regression its MAE and RMSE per version and pooled per variant, where exact-match accuracy says little', async () => {
    const s = seededMonitoring();
    const predict = (n: number, version: number, value: number): void => {
      s.monitoring.recordPrediction({ requestId: rid(`r${n}`), endpoint: 'rides', model: 'rides-model', version, variant: 'stable', latencyMs: 1, status: 200, outputs: [{ name: 'count', datatype: 'FP32', shape: [1, 1], data: Float32Array.from([value]) }], at: T0 + 60_000 });
    };
    // version 1 is off by 2 and 4, version 2 by 1 (and by 0 on an unlabelled one)
    predict(1, 1, 100);
    predict(2, 1, 50);
    predict(3, 2, 10);
    predict(4, 2, 20);
    await s.feedback([
      { requestId: rid('r1'), label: 102 },
      { requestId: rid('r2'), label: 46 },
      { requestId: rid('r3'), label: 11 },
    ]);
    const report = await createBusinessMetrics({ monitoring: s.monitoring, options: ECONOMICS, clock: s.clock }).report('rides', WINDOW);
    const v1 = version(report, 'stable', 1);
    assert.deepEqual([v1.accuracy.labels, v1.accuracy.correct], [2, 0], 'no prediction equals its label exactly');
    assert.equal(v1.error.labels, 2);
    close(v1.error.mae, 3, 'v1 MAE');
    close(v1.error.rmse, Math.sqrt((4 + 16) / 2), 'v1 RMSE');
    const v2 = version(report, 'stable', 2);
    assert.deepEqual([v2.error.labels, v2.error.mae, v2.error.rmse], [1, 1, 1]);
    const pooled = variant(report, 'stable');
    assert.equal(pooled.error.labels, 3);
    close(pooled.error.mae, 7 / 3, 'pooled MAE');
    close(pooled.error.rmse, Math.sqrt((4 + 16 + 1) / 3), 'pooled RMSE');
  });

  test('shows costs as null with the reason when no price is configured', async () => {
    const { report } = await shopReport({ ...ECONOMICS, pricePerCoreHour: 0 });
    assert.equal(report.pricePerCoreHour, null);
    assert.equal(report.costReason, NO_PRICE_REASON);
    const stable = version(report, 'stable', 1);
    assert.equal(stable.cpuSeconds, 36);
    assert.equal(stable.cost, null);
    assert.equal(stable.costPer1kPredictions, null);
    assert.equal(stable.netValuePer1kPredictions, null);
  });

  test('shows CPU and cost as null when usage is not measured, and values as null when none are configured', async () => {
    const { report } = await shopReport({ pricePerCoreHour: 1 }, false);
    assert.equal(report.costReason, NO_USAGE_REASON);
    assert.equal(report.valueReason, NO_VALUES_REASON);
    assert.equal(report.usage, null);
    const stable = version(report, 'stable', 1);
    assert.equal(stable.cpuSeconds, null);
    assert.equal(stable.cost, null);
    assert.equal(stable.value, null);
    assert.equal(stable.model, null);
  });

  test('applies an endpoint\'s own economics', async () => {
    const { report } = await shopReport({ ...ECONOMICS, endpoints: { shop: { conversionEvent: 'click', pricePerCoreHour: 1, currency: 'EUR' } } });
    assert.equal(report.conversionEvent, 'click');
    assert.equal(report.currency, 'EUR');
    assert.equal(version(report, 'stable', 1).conversion?.rate, 0.5);
    close(version(report, 'stable', 1).costPer1kPredictions, 1, 'cost per 1k at 1 EUR per core-hour');
  });

  test('pools a variant over its versions, and splits a version\'s CPU among the variants it served by predictions', async () => {
    const s = seededMonitoring();
    // version 2 served 10 predictions as the candidate, then 30 as stable once promoted; stable v1 served 10 before
    for (let i = 0; i < 10; i++) s.predict(`c${i}`, { variant: 'candidate', version: 2 });
    for (let i = 0; i < 30; i++) s.predict(`p${i}`, { variant: 'stable', version: 2, at: T0 + 30 * 60_000 });
    for (let i = 0; i < 10; i++) s.predict(`s${i}`, { variant: 'stable', version: 1 });
    await s.feedback([0, 1, 2].map((i) => ({ requestId: rid(`p${i}`), event: 'conversion' })));
    await s.feedback([{ requestId: rid('s0'), event: 'conversion' }]);
    const usage = fixedUsage([
      { endpoint: 'shop', model: 'shop-model', version: 1, cpuSeconds: 9 },
      { endpoint: 'shop', model: 'shop-model', version: 2, cpuSeconds: 40 },
      { endpoint: 'shop', model: 'shop-model', version: 4, cpuSeconds: 5 },
    ]);
    const business = createBusinessMetrics({ monitoring: s.monitoring, usage, options: { pricePerCoreHour: 3.6 }, clock: s.clock });
    const report = await business.report('shop', WINDOW);
    assert.equal(version(report, 'candidate', 2).cpuSeconds, 10);
    assert.equal(version(report, 'stable', 2).cpuSeconds, 30);
    const stable = variant(report, 'stable');
    assert.equal(stable.predictions, 40);
    assert.equal(stable.cpuSeconds, 39);
    close(stable.cost, 0.039, 'pooled cost');
    close(stable.costPer1kPredictions, 0.975, 'pooled cost per 1k');
    assert.equal(stable.conversion?.conversions, 4);
    assert.equal(stable.conversion?.rate, 0.1);
    // a version that used CPU but predicted nothing in the window is shown, not dropped
    assert.deepEqual(report.usage?.unmatched, [{ endpoint: 'shop', model: 'shop-model', version: 4, cpuSeconds: 5 }]);
  });

  test('divides cost by the predictions of the span the CPU was measured over', async () => {
    const s = seededMonitoring();
    for (let i = 0; i < 4; i++) s.predict(`a${i}`, { at: T0 + 10 * 60_000 });
    for (let i = 0; i < 6; i++) s.predict(`b${i}`, { at: T0 + 40 * 60_000 });
    // the meter started half-way through the window
    const usage = fixedUsage([{ endpoint: 'shop', model: 'shop-model', version: 1, cpuSeconds: 36 }], { measuredSince: T0 + 30 * 60_000, complete: false });
    const business = createBusinessMetrics({ monitoring: s.monitoring, usage, options: { pricePerCoreHour: 1 }, clock: s.clock });
    const report = await business.report('shop', WINDOW);
    const stable = version(report, 'stable', 1);
    assert.equal(stable.predictions, 10);
    assert.equal(stable.costPredictions, 6);
    close(stable.costPer1kPredictions, (36 / 3600 / 6) * 1000, 'cost per 1k over the measured span');
    assert.equal(report.usage?.complete, false);
  });

  test('keeps requests refused before routing out of every row, and counts them', async () => {
    const s = seededMonitoring();
    s.predict('s0', {});
    s.monitoring.recordPrediction({ requestId: rid('u0'), endpoint: 'shop', variant: 'unrouted', latencyMs: 1, status: 404, at: T0 + 60_000 });
    const business = createBusinessMetrics({ monitoring: s.monitoring, clock: s.clock });
    const report = await business.report('shop', WINDOW);
    assert.equal(report.unroutedPredictions, 1);
    assert.deepEqual(report.variants.map((v) => v.variant), ['stable']);
  });

  test('reports the last defaultWindowHours up to now when no window is given', async () => {
    const s = seededMonitoring();
    const usage = fixedUsage([]);
    const business = createBusinessMetrics({ monitoring: s.monitoring, usage, options: { defaultWindowHours: 6 }, clock: s.clock });
    const report = await business.report('shop');
    assert.equal(report.since, T0 + HOUR - 6 * HOUR);
    assert.equal(report.until, null);
    assert.equal(report.generatedAt, T0 + HOUR);
    assert.deepEqual(usage.calls, [{ since: T0 - 5 * HOUR }]);
    assert.deepEqual(report.variants, []);
  });

  test('refuses a window whose end is not after its start', async () => {
    const s = seededMonitoring();
    const business = createBusinessMetrics({ monitoring: s.monitoring, clock: s.clock });
    await assert.rejects(
      () => business.report('shop', { since: T0, until: T0 }),
      (e: unknown) => e instanceof PlatformError && e.code === 'BUSINESS_INVALID_QUERY' && /until: must be after since/.test(e.message),
    );
  });
});
