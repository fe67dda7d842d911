import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlatformError } from '../../../../src/core/index.js';
import { BUSINESS_DEFAULTS, BUSINESS_OPTION_KEYS, compileBusinessOptions, economicsFor, type BusinessOptions } from '../../../../src/monitoring/business/index.js';

function problemsOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof PlatformError);
    assert.equal(error.code, 'CORE_INVALID_CONFIG');
    return error.details?.problems as { path: string; message: string }[];
  }
  assert.fail('expected CORE_INVALID_CONFIG');
}

describe('business options', () => {
  test('applies the documented defaults', () => {
    const c = compileBusinessOptions(undefined);
    assert.deepEqual(c, BUSINESS_DEFAULTS);
    assert.equal(c.conversionEvent, 'conversion');
    assert.equal(c.revenueEvent, 'purchase');
    assert.equal(c.currency, 'USD');
    assert.equal(c.pricePerCoreHour, 0);
    assert.equal(c.sampleIntervalSeconds, 10);
    assert.equal(c.historyHours, 168);
    assert.equal(c.refreshIntervalSeconds, 30);
    assert.equal(c.metricsWindowHours, 24);
    assert.ok(Object.isFrozen(c));
  });

  test('reads numbers given as strings, as environment variables give them', () => {
    const c = compileBusinessOptions({ pricePerCoreHour: '0.048', sampleIntervalSeconds: '5', enabled: 'false' });
    assert.equal(c.pricePerCoreHour, 0.048);
    assert.equal(c.sampleIntervalSeconds, 5);
    assert.equal(c.enabled, false);
  });

  test('reports every bad value by its full path at once', () => {
    const problems = problemsOf(() =>
      compileBusinessOptions(
        {
          pricePerCoreHour: -1,
          currency: 'usd',
          conversionEvent: 'not an event',
          sampleIntervalSeconds: 0,
          outcomeValues: { conversion: 'lots', _bad: 1 },
          endpoints: { Shop: {}, fraud: { pricePerCoreHour: 'x', color: 'red' } },
          extra: true,
        },
        { path: 'monitoring.business', what: 'monitoring' },
      ),
    );
    const paths = problems.map((p) => p.path).sort();
    assert.deepEqual(paths, [
      'monitoring.business.conversionEvent',
      'monitoring.business.currency',
      'monitoring.business.endpoints.Shop',
      'monitoring.business.endpoints.fraud.color',
      'monitoring.business.endpoints.fraud.pricePerCoreHour',
      'monitoring.business.extra',
      'monitoring.business.outcomeValues._bad',
      'monitoring.business.outcomeValues.conversion',
      'monitoring.business.pricePerCoreHour',
      'monitoring.business.sampleIntervalSeconds',
    ]);
    assert.match(problems.find((p) => p.path === 'monitoring.business.pricePerCoreHour')?.message ?? '', /≥ 0/);
    assert.match(problems.find((p) => p.path === 'monitoring.business.currency')?.message ?? '', /ISO 4217/);
  });

  test('names the section in the error message', () => {
    assert.throws(() => compileBusinessOptions({ historyHours: 0 }, { path: 'monitoring.business', what: 'monitoring' }), /invalid monitoring \(1 problem\):\n {2}monitoring\.business\.historyHours: must be ≥ 1/);
  });

  test('completes each endpoint\'s economics from the section, and replaces outcomeValues rather than merging them', () => {
    const c = compileBusinessOptions({
      pricePerCoreHour: 0.05,
      currency: 'EUR',
      outcomeValues: { conversion: 2, click: 0.1 },
      endpoints: { shop: { revenueEvent: 'order', outcomeValues: { conversion: 5 } } },
    });
    const shop = economicsFor(c, 'shop');
    assert.deepEqual(shop, { conversionEvent: 'conversion', revenueEvent: 'order', currency: 'EUR', pricePerCoreHour: 0.05, outcomeValues: { conversion: 5 } });
    const other = economicsFor(c, 'fraud');
    assert.equal(other.revenueEvent, 'purchase');
    assert.deepEqual(other.outcomeValues, { conversion: 2, click: 0.1 });
  });

  test('compiles a compiled config to an equal one', () => {
    const c = compileBusinessOptions({ pricePerCoreHour: 1, endpoints: { shop: { currency: 'GBP' } } });
    // a compiled config is also valid input, so a larger config can embed and recompile it
    const asInput: BusinessOptions = c;
    assert.deepEqual(compileBusinessOptions(asInput), c);
  });

  test('lists the scalar keys the environment can set, not the mappings', () => {
    assert.ok(BUSINESS_OPTION_KEYS.includes('pricePerCoreHour'));
    assert.ok(BUSINESS_OPTION_KEYS.includes('metricsWindowHours'));
    assert.ok(!BUSINESS_OPTION_KEYS.includes('endpoints'));
    assert.ok(!BUSINESS_OPTION_KEYS.includes('outcomeValues'));
    for (const key of BUSINESS_OPTION_KEYS) assert.ok(key in BUSINESS_DEFAULTS, key);
  });
});
