/** The `monitoring` section of Slipway's configuration: defaults, environment variables, and every bad value named by its key. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONFIG_KEYS, compileConfig, loadConfig } from '../../../src/app/config.js';
import { PlatformError } from '../../../src/core/index.js';
import { MONITORING_DEFAULTS, MONITORING_OPTION_KEYS } from '../../../src/monitoring/index.js';

test('the monitoring section defaults to the monitoring defaults, frozen', () => {
  const c = compileConfig({});
  assert.deepEqual(c.monitoring, MONITORING_DEFAULTS);
  assert.ok(Object.isFrozen(c.monitoring.predictions));
});

test('every monitoring option is a config key under monitoring.', () => {
  const paths = CONFIG_KEYS.map((k) => k.path);
  for (const key of MONITORING_OPTION_KEYS) assert.ok(paths.includes(`monitoring.${key}`), `monitoring.${key} is missing from CONFIG_KEYS`);
});

test('monitoring keys are read from the file shape and from SLIPWAY_MONITORING_* variables', () => {
  const c = loadConfig({
    env: { SLIPWAY_MONITORING_PREDICTIONS_RETENTION_DAYS: '7', SLIPWAY_MONITORING_PREDICTIONS_ENABLED: 'false' },
    overrides: { 'monitoring.feedback.maxItems': 50 },
  });
  assert.equal(c.monitoring.predictions.retentionDays, 7);
  assert.equal(c.monitoring.predictions.enabled, false);
  assert.equal(c.monitoring.feedback.maxItems, 50);
  assert.equal(c.monitoring.predictions.bufferSize, MONITORING_DEFAULTS.predictions.bufferSize);
});

test('a bad monitoring value is reported with its full key, together with the problems of other sections', () => {
  try {
    compileConfig({ server: { port: -1 }, monitoring: { predictions: { bufferSize: 0, flushIntervalMs: 'soon' }, feedback: { maxItems: 'many' }, surprise: {} } });
    assert.fail('expected an error');
  } catch (error) {
    assert.ok(error instanceof PlatformError);
    assert.equal(error.code, 'CORE_INVALID_CONFIG');
    const paths = (error.details?.problems as { path: string }[]).map((p) => p.path).sort();
    assert.deepEqual(paths, ['monitoring.feedback.maxItems', 'monitoring.predictions.bufferSize', 'monitoring.predictions.flushIntervalMs', 'monitoring.surprise', 'server.port']);
    assert.match(error.message, /monitoring\.predictions\.bufferSize: must be/);
  }
});

test('a monitoring section that is not a mapping is refused naming it', () => {
  assert.throws(() => compileConfig({ monitoring: 'on' }), (e: unknown) => e instanceof PlatformError && /monitoring: /.test(e.message));
});
