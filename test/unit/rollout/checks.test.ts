import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileChecks } from '../../../src/rollout/analysis/index.js';
import { engineChecksOf } from '../../../src/rollout/checks.js';
import { parseEndpointSpecs, type CanaryStrategy } from '../../../src/rollout/spec/index.js';
import { ERROR_RATE_CHECK, LATENCY_CHECK } from '../../../bench/rollout/scenarios.js';

const templateOf = (analysis: string) => {
  const text = ['apiVersion: slipway.dev/v1', 'kind: Endpoint', 'metadata: { name: ep }', 'spec:', '  model: m', '  version: 2', '  strategy:', '    canary:', '      steps: [ { setWeight: 10 } ]', '      mirrorPercent: 10', `      analysis: ${analysis}`].join('\n');
  const strategy = parseEndpointSpecs(text)[0]?.spec.strategy as CanaryStrategy;
  assert.ok(strategy.analysis !== undefined);
  return strategy.analysis;
};

test('the default template maps to the checks the rollout simulator measured', () => {
  const checks = engineChecksOf(templateOf('{}'));
  const strip = (c: object) => ({ ...c, name: undefined, metric: undefined });
  assert.deepEqual(checks.map(strip), [ERROR_RATE_CHECK, LATENCY_CHECK].map(strip));
  assert.deepEqual(checks.map((c) => c.metric), ['error-rate', 'latency-mean-log']);
});

test('every built-in and feedback metric maps to a definition the engine accepts', () => {
  const template = templateOf(
    '{ alpha: 0.01, minimumSamplePerArm: 50, checks: [ {metric: error-rate}, {metric: latency-p99}, {metric: latency-mean-log}, {metric: prediction-js}, {metric: shadow-disagreement}, ' +
      '{metric: "feedback:converted", direction: higher-is-better, tolerance: 0, minimumDetectableEffect: 0.02}, {metric: "feedback:revenue", kind: mean, direction: higher-is-better, tolerance: 0.1, relative: true} ] }',
  );
  const checks = engineChecksOf(template);
  const compiled = compileChecks(checks);
  assert.deepEqual(
    compiled.map((c) => [c.metric, c.kind, c.direction, c.alpha, c.minimumSample]),
    [
      ['error-rate', 'rate', 'lower-is-better', 0.01, 50],
      ['latency-p99', 'latency', 'lower-is-better', 0.01, 50],
      ['latency-mean-log', 'latency', 'lower-is-better', 0.01, 50],
      ['prediction-js', 'distribution', 'lower-is-better', 0.01, 50],
      ['shadow-disagreement', 'disagreement', 'lower-is-better', 0.01, 50],
      ['feedback:converted', 'rate', 'higher-is-better', 0.01, 50],
      ['feedback:revenue', 'continuous', 'higher-is-better', 0.01, 50],
    ],
  );
  // a relative p99 tolerance of 20 % is a log-ratio of ln 1.2 on the mean of log latency
  assert.ok(Math.abs((checks[1]?.tolerance ?? NaN) - Math.log(1.2)) < 1e-12);
});
