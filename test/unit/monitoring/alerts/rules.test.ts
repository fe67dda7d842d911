import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlatformError } from '../../../../src/core/index.js';
import { ALERTS_DEFAULTS, compileAlertRule, compileAlertsOptions, formatAlertDuration, matchesLabels, parseAlertDuration } from '../../../../src/monitoring/alerts/index.js';

function problemsOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof PlatformError, String(error));
    return (error.details?.problems ?? []) as { path: string; message: string }[];
  }
  assert.fail('expected an error');
}

describe('alert rules', () => {
  test('compiles a minimal rule with its defaults written back in canonical form', () => {
    const rule = compileAlertRule({ name: 'high-latency', metric: 'slipway_request_duration_seconds', reduce: 'p99', window: 300, op: '>', threshold: 0.5, for: '2m' });
    assert.equal(rule.windowSeconds, 300);
    assert.equal(rule.forSeconds, 120);
    assert.equal(rule.severity, 'warning');
    assert.equal(rule.action, 'none');
    assert.deepEqual(rule.spec, { name: 'high-latency', metric: 'slipway_request_duration_seconds', reduce: 'p99', window: '5m', op: '>', threshold: 0.5, for: '2m', severity: 'warning', action: 'none' });
    // the canonical form compiles to the same rule
    assert.deepEqual(compileAlertRule(rule.spec).spec, rule.spec);
  });

  test('reports every bad field of a rule at once, each by its path', () => {
    const problems = problemsOf(() =>
      compileAlertRule({ name: '9lives', metric: 'bad name', reduce: 'median', window: '5 minutes', op: '=>', threshold: 'high', severity: 'page', action: 'restart', colour: 'red' }),
    );
    const paths = problems.map((p) => p.path).sort();
    assert.deepEqual(paths, ['action', 'colour', 'metric', 'name', 'op', 'reduce', 'severity', 'threshold', 'window']);
    assert.match(problems.find((p) => p.path === 'window')?.message ?? '', /duration such as '30s'/);
  });

  test('names the missing required fields', () => {
    const problems = problemsOf(() => compileAlertRule({}));
    assert.deepEqual(problems.map((p) => p.path).sort(), ['metric', 'name', 'op', 'threshold']);
  });

  test('requires a denominator for ratio and refuses it elsewhere, and minSamples on a gauge value', () => {
    assert.deepEqual(
      problemsOf(() => compileAlertRule({ name: 'r', metric: 'slipway_errors_total', reduce: 'ratio', op: '>', threshold: 0.1 })).map((p) => p.path),
      ['denominator'],
    );
    assert.deepEqual(
      problemsOf(() => compileAlertRule({ name: 'r', metric: 'slipway_drift_share', denominator: 'x', minSamples: 10, op: '>', threshold: 0.5 })).map((p) => p.path),
      ['denominator', 'minSamples'],
    );
  });

  test('checks label matchers: names, operators and regular expressions', () => {
    const problems = problemsOf(() =>
      compileAlertRule({ name: 'r', metric: 'm', op: '>', threshold: 1, labels: { '0bad': 'x', status: { op: '=~', value: '(' }, code: { op: '~', value: 'x' }, list: ['a'] } }),
    );
    assert.deepEqual(problems.map((p) => p.path).sort(), ['labels.0bad', 'labels.code.op', 'labels.list', 'labels.status.value']);
  });

  test('matches labels as Prometheus does: exact, negated, anchored regex, missing label as empty', () => {
    const rule = compileAlertRule({ name: 'r', metric: 'm', op: '>', threshold: 1, labels: { endpoint: 'shop', status: { op: '=~', value: '5..' }, variant: { op: '!=', value: 'shadow' } } });
    assert.equal(matchesLabels(rule.matchers, { endpoint: 'shop', status: '503', variant: 'stable' }), true);
    assert.equal(matchesLabels(rule.matchers, { endpoint: 'shop', status: '1503', variant: 'stable' }), false);
    assert.equal(matchesLabels(rule.matchers, { endpoint: 'shop', status: '500', variant: 'shadow' }), false);
    assert.equal(matchesLabels(rule.matchers, { endpoint: 'shop', status: '500' }), true);
    assert.equal(matchesLabels(rule.matchers, { endpoint: 'bank', status: '500' }), false);
  });

  test('reads durations in seconds, minutes, hours and days and writes them back', () => {
    assert.equal(parseAlertDuration('30s'), 30);
    assert.equal(parseAlertDuration('1h30m'), 5400);
    assert.equal(parseAlertDuration('1d'), 86_400);
    assert.equal(parseAlertDuration(45), 45);
    assert.equal(parseAlertDuration('5'), undefined);
    assert.equal(parseAlertDuration('1.5m'), undefined);
    assert.equal(formatAlertDuration(5400), '1h30m');
    assert.equal(formatAlertDuration(0), '0s');
  });
});

describe('alerts options', () => {
  test('fills the defaults: evaluation on, actions off, no rules and no webhooks', () => {
    const config = compileAlertsOptions(undefined);
    assert.equal(config.enabled, true);
    assert.equal(config.evaluationIntervalSeconds, 15);
    assert.equal(config.repeatIntervalMinutes, 240);
    assert.equal(config.actions.enabled, false);
    assert.deepEqual(config.rules, []);
    assert.deepEqual(config.webhooks, []);
    assert.equal(config.history.maxEvents, ALERTS_DEFAULTS.history.maxEvents);
    assert.ok(Object.isFrozen(config.notifier));
  });

  test('reports problems of webhooks and rules by their full path', () => {
    const problems = problemsOf(() =>
      compileAlertsOptions(
        {
          evaluationIntervalSeconds: 0,
          actions: { enabled: 'yes' },
          webhooks: [{ name: 'ops', url: 'ftp://x' }, { name: 'ops', url: 'http://127.0.0.1:1/' , severities: ['loud'] }],
          rules: [{ name: 'a', metric: 'm', op: '>', threshold: 1 }, { name: 'a', metric: 'm', op: '>', threshold: 2 }, { name: 'b', metric: 'm', op: '>' }],
        },
        { path: 'monitoring.alerts', what: 'monitoring.alerts' },
      ),
    );
    assert.deepEqual(problems.map((p) => p.path).sort(), [
      'monitoring.alerts.actions.enabled',
      'monitoring.alerts.evaluationIntervalSeconds',
      'monitoring.alerts.rules[1].name',
      'monitoring.alerts.rules[2].threshold',
      'monitoring.alerts.webhooks[0].url',
      'monitoring.alerts.webhooks[1].severities[0]',
    ]);
  });

  test('compiles webhooks with lower-cased headers and a severity filter', () => {
    const config = compileAlertsOptions({ webhooks: [{ name: 'pager', url: 'https://example.invalid/hook', headers: { Authorization: 'Bearer t' }, severities: ['critical'], timeoutMs: '2000' }] });
    assert.deepEqual(config.webhooks, [{ name: 'pager', url: 'https://example.invalid/hook', headers: { authorization: 'Bearer t' }, severities: ['critical'], timeoutMs: 2000 }]);
  });
});
