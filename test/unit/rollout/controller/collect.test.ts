import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLatencyArm, createRateArm } from '../../../../src/rollout/analysis/index.js';
import type { AnalysisTemplate } from '../../../../src/rollout/spec/index.js';
import { addFigures, emptyPending, lookInput, predictionHistograms, withCounts } from '../../../../src/rollout/controller/collect.js';
import type { VariantFigures } from '../../../../src/serving/dataplane.js';

function figures(variant: string, version: number, requests: number, failures: number, latencyMs: number): VariantFigures {
  const errors = createRateArm();
  errors.addCounts(requests, failures);
  const latency = createLatencyArm({ sketch: false });
  for (let i = 0; i < requests - failures; i++) latency.add(latencyMs);
  return { variant, version, requests, errors: errors.summary(), latency: latency.summary() };
}

const template = (metrics: string[]): AnalysisTemplate => ({
  intervalSeconds: 30,
  minimumSamplePerArm: 10,
  deadlineSeconds: 600,
  alpha: 0.05,
  checks: metrics.map((metric) => ({ metric: metric as never, tolerance: 0, relative: false, minimumDetectableEffect: 0.02, direction: 'lower-is-better', feedback: undefined })),
});

describe('collecting a look', () => {
  test('figures taken at different weights add up to the expected counts of each weight', () => {
    const pending = emptyPending();
    addFigures(pending, [figures('stable', 1, 90, 1, 5), figures('candidate', 2, 10, 0, 5)], 0.1);
    addFigures(pending, [figures('stable', 1, 50, 0, 5), figures('candidate', 2, 50, 2, 5), figures('shadow', 3, 100, 0, 5)], 0.5);
    assert.deepEqual(pending.counts, [140, 60]);
    assert.deepEqual(pending.expected, [90 + 50, 10 + 50]);
    assert.deepEqual(pending.errors.baseline, { kind: 'rate', n: 140, successes: 1 });
    assert.deepEqual(pending.errors.candidate, { kind: 'rate', n: 60, successes: 2 });
    assert.equal(pending.latency.candidate?.n, 58);
  });

  test('a look adds what came since to the last look, and tests the split only when asked', async () => {
    const first = emptyPending();
    addFigures(first, [figures('stable', 1, 80, 0, 4), figures('candidate', 2, 20, 1, 4)], 0.2);
    const t = template(['error-rate', 'latency-mean-log']);
    const one = await lookInput({ template: t, previous: null, pending: first, disagreement: null, outcomes: undefined, since: 0, splitTest: true });
    assert.deepEqual(one.traffic, { arms: ['stable', 'candidate'], counts: [80, 20], weights: [80, 20] });
    const second = emptyPending();
    addFigures(second, [figures('stable', 1, 40, 0, 4), figures('candidate', 2, 10, 0, 4)], 0.2);
    const two = await lookInput({ template: t, previous: one, pending: second, disagreement: null, outcomes: undefined, since: 0, splitTest: false });
    assert.equal(two.traffic, null, 'no split test with stickiness or header routes');
    assert.deepEqual(two.metrics['error-rate']?.candidate, { kind: 'rate', n: 30, successes: 1 });
    assert.equal((two.metrics['latency-mean-log']?.baseline as { n: number }).n, 120);
    // the counts are kept for later looks all the same
    assert.deepEqual(withCounts(two, second, one).traffic?.counts, [120, 30]);
  });

  test('outcome metrics are read afresh and prediction histograms come from the records', async () => {
    const t: AnalysisTemplate = {
      ...template(['prediction-js']),
      checks: [
        { metric: 'feedback:converted', tolerance: 0, relative: false, minimumDetectableEffect: 0.02, direction: 'higher-is-better', feedback: { name: 'converted', kind: 'rate', event: 'converted' } },
        { metric: 'prediction-js', tolerance: 0.1, relative: false, minimumDetectableEffect: undefined, direction: 'lower-is-better', feedback: undefined },
      ],
    };
    const asked: number[] = [];
    const input = await lookInput({
      template: t,
      previous: null,
      pending: emptyPending(),
      disagreement: null,
      outcomes: async (metric, since) => {
        asked.push(since);
        assert.equal(metric.name, 'converted');
        return new Map([
          ['stable', { kind: 'rate', n: 100, successes: 10 }],
          ['candidate', { kind: 'rate', n: 50, successes: 3 }],
        ]);
      },
      predictions: async () => [
        { variant: 'stable', predicted: '1', count: 7 },
        { variant: 'candidate', predicted: '0', count: 2 },
        { variant: 'stable', predicted: '0', count: 3 },
      ],
      since: 1234,
      splitTest: false,
    });
    assert.deepEqual(asked, [1234]);
    assert.deepEqual(input.metrics['feedback:converted']?.candidate, { kind: 'rate', n: 50, successes: 3 });
    assert.deepEqual(input.metrics['prediction-js'], { baseline: { kind: 'histogram', counts: [3, 7] }, candidate: { kind: 'histogram', counts: [2, 0] } });
  });

  test('many distinct numeric predictions are binned over the pooled range; labels stay categories', () => {
    const rows = Array.from({ length: 100 }, (_, i) => ({ variant: i % 2 === 0 ? 'stable' : 'candidate', predicted: String(i / 10), count: 1 }));
    const pair = predictionHistograms(rows, 'stable', 'candidate');
    const b = pair.baseline as { counts: readonly number[] };
    const c = pair.candidate as { counts: readonly number[] };
    assert.equal(b.counts.length, 20);
    assert.equal(b.counts.reduce((x, y) => x + y, 0), 50);
    assert.equal(c.counts.reduce((x, y) => x + y, 0), 50);
    const labels = predictionHistograms(
      [
        { variant: 'stable', predicted: 'cat', count: 4 },
        { variant: 'candidate', predicted: 'dog', count: 1 },
      ],
      'stable',
      'candidate',
    );
    assert.deepEqual(labels, { baseline: { kind: 'histogram', counts: [4, 0] }, candidate: { kind: 'histogram', counts: [0, 1] } });
    assert.deepEqual(predictionHistograms([], 'stable', 'candidate'), {});
  });
});
