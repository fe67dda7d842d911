import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EMPTY_ANALYSIS_STATE, type ArmSummary } from '../../../../src/rollout/analysis/index.js';
import { lookAtExperiment } from '../../../../src/rollout/controller/index.js';
import type { ExperimentStrategy } from '../../../../src/rollout/spec/index.js';

const strategy = (over: Partial<ExperimentStrategy> = {}): ExperimentStrategy => ({
  kind: 'experiment',
  variants: [
    { name: 'control', target: { kind: 'version', model: 'm', version: 1 }, weight: 50 },
    { name: 'treatment', target: { kind: 'version', model: 'm', version: 2 }, weight: 50 },
  ],
  stickiness: undefined,
  metrics: [{ name: 'converted', kind: 'rate', event: 'converted', direction: 'higher-is-better' }],
  stoppingRule: { maxDurationSeconds: undefined, maxSamplesPerVariant: undefined, stopOnSignificance: true },
  alpha: 0.05,
  ...over,
});
const variants = [
  { name: 'control', version: 1, weight: 50 },
  { name: 'treatment', version: 2, weight: 50 },
];
const rate = (n: number, successes: number): ArmSummary => ({ kind: 'rate', n, successes });
const look = (arms: Record<string, ArmSummary>, predictions: Record<string, number>, over: Partial<ExperimentStrategy> = {}, elapsedMs = 1000) =>
  lookAtExperiment({ strategy: strategy(over), variants, arms: new Map(Object.entries(arms)), predictions: new Map(Object.entries(predictions)), state: EMPTY_ANALYSIS_STATE, elapsedMs });

describe('experiment looks', () => {
  test('a variant whose always-valid interval of lift lies above zero is declared the winner', () => {
    const l = look({ control: rate(2000, 200), treatment: rate(2000, 400) }, { control: 2000, treatment: 2000 });
    assert.equal(l.conclusion?.winner, 'treatment');
    const check = l.result.checks[0];
    assert.ok((check?.evidence.interval?.lower ?? 0) > 0, JSON.stringify(check?.evidence.interval));
  });

  test('the control wins when the other variant is worse on evidence; lower-is-better reads the other way', () => {
    assert.equal(look({ control: rate(2000, 400), treatment: rate(2000, 200) }, { control: 2000, treatment: 2000 }).conclusion?.winner, 'control');
    const lower = look({ control: rate(2000, 400), treatment: rate(2000, 200) }, { control: 2000, treatment: 2000 }, { metrics: [{ name: 'churn', kind: 'rate', event: 'churn', direction: 'lower-is-better' }] });
    assert.equal(lower.conclusion?.winner, 'treatment');
  });

  test('equal outcomes declare nothing; the sample cap and the duration end the experiment without a winner', () => {
    assert.equal(look({ control: rate(2000, 200), treatment: rate(2000, 201) }, { control: 2000, treatment: 2000 }).conclusion, undefined);
    const capped = look({ control: rate(2000, 200), treatment: rate(2000, 201) }, { control: 2000, treatment: 2000 }, { stoppingRule: { maxSamplesPerVariant: 1500, maxDurationSeconds: undefined, stopOnSignificance: true } });
    assert.equal(capped.conclusion?.winner, null);
    assert.match(capped.conclusion?.message ?? '', /1500 predictions/);
    const timed = look({ control: rate(10, 1), treatment: rate(10, 1) }, { control: 10, treatment: 10 }, { stoppingRule: { maxSamplesPerVariant: undefined, maxDurationSeconds: 60, stopOnSignificance: true } }, 61_000);
    assert.equal(timed.conclusion?.winner, null);
    assert.equal(timed.result.verdict, 'InsufficientData', 'under the minimum sample nothing is judged');
  });

  test('a lopsided split is a sample-ratio mismatch and ends nothing; with stickiness the split is not tested', () => {
    const skewed = look({ control: rate(3000, 300), treatment: rate(1000, 300) }, { control: 3000, treatment: 1000 });
    assert.equal(skewed.result.verdict, 'SampleRatioMismatch');
    assert.equal(skewed.conclusion, undefined);
    const sticky = look({ control: rate(3000, 300), treatment: rate(1000, 300) }, { control: 3000, treatment: 1000 }, { stickiness: { kind: 'header', name: 'x-user' } });
    assert.equal(sticky.result.sampleRatio, null);
    assert.equal(sticky.conclusion?.winner, 'treatment');
  });
});
