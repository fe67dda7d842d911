import { ALERTS_OPTION_KEYS } from '../../../src/monitoring/alerts/index.js';
import { BUSINESS_OPTION_KEYS } from '../../../src/monitoring/business/index.js';
import { PAYLOAD_LOG_OPTION_KEYS } from '../../../src/monitoring/payload-log/index.js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFakeClock, PlatformError } from '../../../src/core/index.js';
import {
  compileMonitoringOptions,
  createMonitoring,
  MONITORING_DEFAULTS,
  MONITORING_OPTION_KEYS,
  type Monitoring,
  type PredictionInput,
} from '../../../src/monitoring/index.js';
import { analyse, checkArm } from '../../../src/rollout/analysis/index.js';
import { createMemoryMonitoringStore } from '../../../src/storage/index.js';
import { MINUTE, probabilities, rid, T0 } from './fixtures.js';

const DAY = 24 * 3600 * 1000;

const input = (n: number, overrides: Partial<PredictionInput> = {}): PredictionInput => ({
  requestId: rid(n),
  endpoint: 'shop',
  model: 'recommender',
  version: 1,
  variant: 'stable',
  latencyMs: 2,
  status: 200,
  outputs: [probabilities([1])],
  ...overrides,
});

function setup(options: Parameters<typeof createMonitoring>[0]['options'] = {}) {
  const clock = createFakeClock(T0);
  const store = createMemoryMonitoringStore();
  const monitoring = createMonitoring({ store, clock, options });
  return { clock, store, monitoring };
}

async function refusal(promise: Promise<unknown>, code: string): Promise<PlatformError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PlatformError, `expected ${code}, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}, but the call succeeded`);
}

describe('monitoring service: feedback', () => {
  test('joins feedback to a prediction that is still waiting in the buffer', async () => {
    const { monitoring, store } = setup();
    monitoring.recordPrediction(input(1));
    assert.equal((await store.size()).predictions, 0, 'not yet written');
    assert.deepEqual(await monitoring.submitFeedback([{ requestId: rid(1), label: 1, event: 'click' }]), { accepted: 1, unknownRequestIds: [] });
    const found = await monitoring.getPrediction(rid(1));
    assert.equal(found.prediction.requestId, rid(1));
    assert.deepEqual(found.feedback, { label: { value: 1, at: T0 }, outcomes: [{ event: 'click', value: null, at: T0 }] });
    await monitoring.close();
  });

  test('refuses feedback for an unknown request id with a 404-kind error naming it, and writes nothing', async () => {
    const { monitoring, store } = setup();
    monitoring.recordPrediction(input(1));
    const error = await refusal(
      monitoring.submitFeedback([
        { requestId: rid(1), label: 1 },
        { requestId: rid(404), label: 1 },
      ]),
      'MONITORING_PREDICTION_NOT_FOUND',
    );
    assert.equal(error.kind, 'not_found');
    assert.match(error.message, new RegExp(`request id "${rid(404)}"`));
    assert.match(error.message, /pruned/);
    assert.deepEqual(error.details, { requestIds: [rid(404)] });
    assert.deepEqual((await store.size()).labels, 0);
    await monitoring.close();
  });

  test('names the first unknown ids and counts the rest', async () => {
    const { monitoring } = setup();
    const error = await refusal(monitoring.submitFeedback([1, 2, 3, 4, 5, 6, 7].map((n) => ({ requestId: rid(n), event: 'x' }))), 'MONITORING_PREDICTION_NOT_FOUND');
    assert.match(error.message, /and 2 more/);
    assert.equal((error.details?.requestIds as string[]).length, 7);
    await monitoring.close();
  });

  test('with skipUnknown writes the known items and reports the unknown ids', async () => {
    const { monitoring } = setup();
    monitoring.recordPrediction(input(1));
    const receipt = await monitoring.submitFeedback(
      [
        { requestId: rid(1), value: 3 },
        { requestId: rid(2), value: 4 },
      ],
      { skipUnknown: true },
    );
    assert.deepEqual(receipt, { accepted: 1, unknownRequestIds: [rid(2)] });
    await monitoring.close();
  });

  test('refuses malformed items listing every problem with its path', async () => {
    const { monitoring } = setup();
    const error = await refusal(
      monitoring.submitFeedback([
        { requestId: 'short' },
        { requestId: rid(1), label: '', value: Number.NaN, event: 'no spaces' },
      ] as never),
      'MONITORING_INVALID_FEEDBACK',
    );
    assert.deepEqual(
      (error.details?.problems as { path: string }[]).map((p) => p.path),
      ['[0].requestId', '[0]', '[1].label', '[1].value', '[1].event'],
    );
    await monitoring.close();
  });

  test('refuses more items than monitoring.feedback.maxItems', async () => {
    const { monitoring } = setup({ feedback: { maxItems: 2 } });
    const error = await refusal(monitoring.submitFeedback([1, 2, 3].map((n) => ({ requestId: rid(n), event: 'x' }))), 'MONITORING_TOO_MANY_FEEDBACK_ITEMS');
    assert.equal(error.kind, 'too_large');
    await monitoring.close();
  });

  test('shows the shadow’s answer beside the primary one', async () => {
    const { monitoring } = setup();
    monitoring.recordPrediction(input(1, { variant: 'shadow', version: 2, outputs: [probabilities([2])] }));
    monitoring.recordPrediction(input(1));
    const found = await monitoring.getPrediction(rid(1));
    assert.equal(found.prediction.variant, 'stable');
    assert.equal(found.shadow?.variant, 'shadow');
    assert.equal(found.shadow?.outputs.predicted?.value, 2);
    await refusal(monitoring.getPrediction(rid(2)), 'MONITORING_PREDICTION_NOT_FOUND');
    await monitoring.close();
  });
});

describe('monitoring service: outcomes', () => {
  /** 10 stable (3 conversions), 10 candidate (6 conversions), 5 shadow copies, 2 stable errors. */
  async function experiment(monitoring: Monitoring): Promise<void> {
    for (let i = 0; i < 10; i++) monitoring.recordPrediction(input(i, { variant: 'stable', version: 1 }));
    for (let i = 10; i < 20; i++) monitoring.recordPrediction(input(i, { variant: 'candidate', version: 2, outputs: [probabilities([0])] }));
    for (let i = 0; i < 5; i++) monitoring.recordPrediction(input(i, { variant: 'shadow', version: 2, outputs: [probabilities([0])] }));
    monitoring.recordPrediction(input(100, { status: 500, version: null, model: null, outputs: undefined }));
    monitoring.recordPrediction(input(101, { status: 429, version: null, model: null, outputs: undefined }));
    const conversions = [0, 1, 2, 10, 11, 12, 13, 14, 15];
    await monitoring.submitFeedback(conversions.map((n) => ({ requestId: rid(n), event: 'conversion', value: n })));
    // labels: class 1 is right for 0–4 and 10–14
    await monitoring.submitFeedback([0, 1, 2, 3, 4, 10, 11, 12, 13, 14].map((n) => ({ requestId: rid(n), label: 1 })));
  }

  test('reports a rate arm per variant, pooled over versions, with prediction counts for sample-ratio checks', async () => {
    const { monitoring } = setup();
    await experiment(monitoring);
    const report = await monitoring.outcomes('shop', { metric: { kind: 'rate', event: 'conversion' }, since: T0 });
    assert.deepEqual(report.metric, { kind: 'rate', event: 'conversion' });
    assert.deepEqual(
      report.variants.map((v) => ({ variant: v.variant, predictions: v.predictions, answered: v.answered, arm: v.arm, versions: v.versions.map((x) => x.version) })),
      [
        { variant: 'candidate', predictions: 10, answered: 10, arm: { kind: 'rate', n: 10, successes: 6 }, versions: [2] },
        { variant: 'stable', predictions: 12, answered: 10, arm: { kind: 'rate', n: 10, successes: 3 }, versions: [null, 1] },
      ],
    );
    for (const v of report.variants) checkArm(v.arm, 'rate', v.variant);
    await monitoring.close();
  });

  test('includes the shadow for accuracy, comparing labels with what each version predicted', async () => {
    const { monitoring } = setup();
    await experiment(monitoring);
    const report = await monitoring.outcomes('shop', { metric: { kind: 'accuracy' }, since: T0 });
    assert.deepEqual(
      report.variants.map((v) => [v.variant, v.arm]),
      [
        ['candidate', { kind: 'rate', n: 5, successes: 0 }],
        ['shadow', { kind: 'rate', n: 5, successes: 0 }],
        ['stable', { kind: 'rate', n: 5, successes: 5 }],
      ],
    );
    await monitoring.close();
  });

  test('reports a continuous arm for mean, and an empty arm for a variant without values', async () => {
    const { monitoring } = setup();
    monitoring.recordPrediction(input(1, { variant: 'a' }));
    monitoring.recordPrediction(input(2, { variant: 'a' }));
    monitoring.recordPrediction(input(3, { variant: 'b', version: 2 }));
    await monitoring.submitFeedback([
      { requestId: rid(1), event: 'revenue', value: 10 },
      { requestId: rid(2), event: 'revenue', value: 30 },
    ]);
    const report = await monitoring.outcomes('shop', { metric: { kind: 'mean', event: 'revenue' }, since: 0 });
    assert.deepEqual(
      report.variants.map((v) => [v.variant, v.arm]),
      [
        ['a', { kind: 'continuous', n: 2, mean: 20, m2: 200 }],
        ['b', { kind: 'continuous', n: 0, mean: 0, m2: 0 }],
      ],
    );
    await monitoring.close();
  });

  test('pools a variant’s versions as one sample (rate sums, mean and M2 merge)', async () => {
    const { monitoring } = setup();
    monitoring.recordPrediction(input(1, { version: 1 }));
    monitoring.recordPrediction(input(2, { version: 1 }));
    monitoring.recordPrediction(input(3, { version: 2 }));
    await monitoring.submitFeedback([
      { requestId: rid(1), value: 1 },
      { requestId: rid(2), value: 3 },
      { requestId: rid(3), value: 8 },
    ]);
    const [stable] = (await monitoring.outcomes('shop', { metric: { kind: 'mean' }, since: 0 })).variants;
    // 1, 3, 8: mean 4, M2 9 + 1 + 16 = 26
    assert.deepEqual(stable?.arm, { kind: 'continuous', n: 3, mean: 4, m2: 26 });
    assert.deepEqual(
      stable?.versions.map((v) => [v.version, v.arm]),
      [
        [1, { kind: 'continuous', n: 2, mean: 2, m2: 2 }],
        [2, { kind: 'continuous', n: 1, mean: 8, m2: 0 }],
      ],
    );
    await monitoring.close();
  });

  test('gives arms the rollout analysis takes as they are', async () => {
    const { monitoring } = setup();
    for (let i = 0; i < 400; i++) monitoring.recordPrediction(input(i, { variant: i % 2 === 0 ? 'stable' : 'candidate', version: i % 2 === 0 ? 1 : 2 }));
    // stable converts 10 %, candidate 30 %
    const converted = Array.from({ length: 400 }, (_, i) => i).filter((i) => (i % 2 === 0 ? i % 20 === 0 : [1, 3, 5].includes(i % 20)));
    await monitoring.submitFeedback(converted.map((i) => ({ requestId: rid(i), event: 'conversion' })));
    const report = await monitoring.outcomes('shop', { metric: { kind: 'rate', event: 'conversion' }, since: 0 });
    const arm = (name: string) => report.variants.find((v) => v.variant === name)?.arm ?? null;
    const counts = await monitoring.predictionCounts('shop', { since: 0 });
    const result = analyse([{ metric: 'conversion', kind: 'rate', direction: 'higher-is-better', minimumSample: 50, minimumDetectableEffect: 0.05 }], {
      metrics: { conversion: { baseline: arm('stable'), candidate: arm('candidate') } },
      traffic: { arms: ['stable', 'candidate'], counts: ['stable', 'candidate'].map((v) => counts.variants.find((c) => c.variant === v)?.predictions ?? 0), weights: [50, 50] },
    });
    assert.equal(result.checks[0]?.evidence.nBaseline, 200);
    assert.equal(result.checks[0]?.evidence.nCandidate, 200);
    assert.notEqual(result.verdict, 'InsufficientData');
    assert.equal(result.sampleRatio?.flagged, false);
    assert.deepEqual(result.sampleRatio?.observed, [200, 200]);
    assert.equal(result.checks[0]?.evidence.estimates.baseline, 0.1);
    assert.equal(result.checks[0]?.evidence.estimates.candidate, 0.3);
    await monitoring.close();
  });

  test('counts predictions per variant in a window', async () => {
    const { monitoring, clock } = setup();
    monitoring.recordPrediction(input(1));
    await clock.advance(MINUTE);
    monitoring.recordPrediction(input(2, { variant: 'candidate', version: 2 }));
    monitoring.recordPrediction(input(3, { variant: 'candidate', version: 2, status: 504 }));
    const counts = await monitoring.predictionCounts('shop', { since: T0 + MINUTE });
    assert.deepEqual(counts, {
      endpoint: 'shop',
      since: T0 + MINUTE,
      until: null,
      variants: [{ variant: 'candidate', predictions: 2, answered: 1, versions: [{ variant: 'candidate', version: 2, predictions: 2, answered: 1 }] }],
    });
    await monitoring.close();
  });

  test('refuses a malformed metric or window, listing every problem', async () => {
    const { monitoring } = setup();
    const error = await refusal(monitoring.outcomes('shop', { metric: { kind: 'rate' } as never, since: 10, until: 5 }), 'MONITORING_INVALID_OUTCOME_QUERY');
    assert.deepEqual((error.details?.problems as { path: string }[]).map((p) => p.path), ['event']);
    const window = await refusal(monitoring.outcomes('shop', { metric: { kind: 'accuracy' }, since: 10, until: 5 }), 'MONITORING_INVALID_OUTCOME_QUERY');
    assert.match(window.message, /until: must be after since/);
    const extra = await refusal(monitoring.outcomes('shop', { metric: { kind: 'accuracy', event: 'x' } as never, since: 0 }), 'MONITORING_INVALID_OUTCOME_QUERY');
    assert.match(extra.message, /event: does not apply to metric accuracy/);
    await monitoring.close();
  });
});

describe('monitoring service: retention and lifecycle', () => {
  test('prunes records older than retentionDays on its timer, after which their feedback is refused', async () => {
    const { monitoring, clock, store } = setup({ predictions: { retentionDays: 2, pruneIntervalSeconds: 3600 } });
    monitoring.recordPrediction(input(1));
    await monitoring.flush();
    await clock.advance(2 * DAY - 3600_000);
    monitoring.recordPrediction(input(2));
    await monitoring.flush();
    assert.equal((await store.size()).predictions, 2, 'nothing is due yet');
    await clock.advance(3600_000 + 1);
    await clock.advance(3600_000);
    assert.equal((await store.size()).predictions, 1);
    await refusal(monitoring.submitFeedback([{ requestId: rid(1), label: 1 }]), 'MONITORING_PREDICTION_NOT_FOUND');
    assert.equal((await monitoring.submitFeedback([{ requestId: rid(2), label: 1 }])).accepted, 1);
    assert.equal(monitoring.stats().pruned, 1);
    assert.notEqual(monitoring.stats().lastPruneAt, null);
    await monitoring.close();
  });

  test('keeps at most maxRecords, the newest', async () => {
    const { monitoring, store } = setup({ predictions: { maxRecords: 3 } });
    for (let n = 1; n <= 5; n++) monitoring.recordPrediction(input(n));
    await monitoring.flush();
    assert.equal(await monitoring.prune(), 2);
    assert.deepEqual(await store.getPredictions(rid(2)), []);
    assert.equal((await store.getPredictions(rid(3))).length, 1);
    await monitoring.close();
  });

  test('writes the buffer on close, leaves no timer, and refuses later calls', async () => {
    const { monitoring, store, clock } = setup();
    monitoring.recordPrediction(input(1));
    await Promise.all([monitoring.close(), monitoring.close()]);
    assert.equal((await store.size()).predictions, 1);
    assert.equal(clock.pendingTimers(), 0);
    assert.equal(monitoring.recordPrediction(input(2)), false);
    const error = await refusal(monitoring.submitFeedback([{ requestId: rid(1), label: 1 }]), 'MONITORING_CLOSED');
    assert.equal(error.kind, 'unavailable');
  });
});

describe('monitoring options', () => {
  test('applies the defaults and freezes the result', () => {
    const config = compileMonitoringOptions(undefined);
    assert.deepEqual(config, MONITORING_DEFAULTS);
    assert.ok(Object.isFrozen(config.predictions));
    assert.deepEqual(compileMonitoringOptions(config), config);
  });

  test('reads numeric strings from the environment', () => {
    const config = compileMonitoringOptions({ predictions: { bufferSize: '500', enabled: 'false' } });
    assert.equal(config.predictions.bufferSize, 500);
    assert.equal(config.predictions.enabled, false);
  });

  test('reports every problem with its path at once', () => {
    assert.throws(
      () => compileMonitoringOptions({ predictions: { bufferSize: 0, retentionDays: 'forever', colour: 'red' }, feedback: { maxItems: -1 } }, { path: 'monitoring' }),
      (error: unknown) => {
        assert.ok(error instanceof PlatformError);
        assert.equal(error.code, 'CORE_INVALID_CONFIG');
        assert.deepEqual(
          (error.details?.problems as { path: string }[]).map((p) => p.path).sort(),
          ['monitoring.feedback.maxItems', 'monitoring.predictions.bufferSize', 'monitoring.predictions.colour', 'monitoring.predictions.retentionDays'],
        );
        return true;
      },
    );
  });

  test('lists every key under its dotted path', () => {
    assert.deepEqual(MONITORING_OPTION_KEYS, [
      'predictions.enabled',
      'predictions.bufferSize',
      'predictions.flushIntervalMs',
      'predictions.flushBatchSize',
      'predictions.summaryRows',
      'predictions.retentionDays',
      'predictions.maxRecords',
      'predictions.pruneIntervalSeconds',
      'feedback.maxItems',
      'drift.windowRows',
      'drift.windowMinutes',
      'drift.checkIntervalSeconds',
      'drift.keepResults',
      'drift.alpha',
      'drift.driftShare',
      'drift.performanceRelativeTolerance',
      ...PAYLOAD_LOG_OPTION_KEYS.map((k) => `payloadLog.${k}`),
      ...ALERTS_OPTION_KEYS.map((k) => `alerts.${k}`),
      ...BUSINESS_OPTION_KEYS.map((k) => `business.${k}`),
    ]);
  });
});
