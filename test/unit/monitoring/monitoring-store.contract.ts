/**
 * The MonitoringStore contract suite (see src/monitoring/ports.ts). Every adapter runs it through
 * `monitoringStoreContract(name, factory)` in its own test file.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import {
  EMPTY_OUTPUTS_SUMMARY,
  summarizeOutputs,
  type ArmRow,
  type FeedbackWrite,
  type MonitoringStore,
  type OutcomeMetric,
  type PredictionCountRow,
} from '../../../src/monitoring/index.js';
import { labels, MINUTE, probabilities, record, rid, T0 } from './fixtures.js';

export interface StoreUnderTest {
  readonly store: MonitoringStore;
  /** Releases the store (closes databases, removes temp files). */
  cleanup(): Promise<void> | void;
}

export type StoreFactory = () => Promise<StoreUnderTest> | StoreUnderTest;

const fb = (n: number | string, item: Omit<FeedbackWrite, 'requestId' | 'at'>, at = T0 + MINUTE): FeedbackWrite => ({ requestId: rid(n), at, ...item });

const byArm = (a: { variant: string; version: number | null }, b: { variant: string; version: number | null }): number =>
  a.variant < b.variant ? -1 : a.variant > b.variant ? 1 : (a.version ?? -1) - (b.version ?? -1);

function sorted<T extends { variant: string; version: number | null }>(rows: readonly T[]): T[] {
  return [...rows].sort(byArm).map((r) => ({ ...r }));
}

function assertContinuous(actual: ArmRow['arm'] | undefined, expected: { n: number; mean: number; m2: number }): void {
  assert.ok(actual !== undefined && actual.kind === 'continuous', `expected a continuous arm, got ${JSON.stringify(actual)}`);
  const arm = actual as { n: number; mean: number; m2: number };
  assert.equal(arm.n, expected.n);
  assert.ok(Math.abs(arm.mean - expected.mean) < 1e-9, `mean ${arm.mean} ≠ ${expected.mean}`);
  assert.ok(Math.abs(arm.m2 - expected.m2) < 1e-6, `m2 ${arm.m2} ≠ ${expected.m2}`);
}

/** Registers the contract's tests for one adapter. */
export function monitoringStoreContract(adapter: string, factory: StoreFactory): void {
  describe(`MonitoringStore contract: ${adapter}`, () => {
    let handle: StoreUnderTest;
    let store: MonitoringStore;

    beforeEach(async () => {
      handle = await factory();
      store = handle.store;
    });
    afterEach(async () => {
      await handle.cleanup();
    });

    const arms = async (metric: OutcomeMetric, window: { since: number; until?: number } = { since: 0 }, endpoint = 'fraud'): Promise<ArmRow[]> =>
      sorted((await store.outcomeSnapshot(endpoint, window, [metric])).arms[0] ?? []);

    describe('prediction records', () => {
      test('stores a record and reads it back unchanged, summary included', async () => {
        const r = record(1, {
          outputs: summarizeOutputs([labels([2]), probabilities([2])]),
          latencyMs: 12.25,
          model: 'm',
          version: 7,
          variant: 'candidate',
        });
        assert.deepEqual(await store.insertPredictions([r]), { inserted: 1, duplicates: 0 });
        assert.deepEqual(await store.getPredictions(rid(1)), [r]);
      });

      test('keeps a record of a failed request with no model, version or outputs', async () => {
        const r = record(1, { model: null, version: null, status: 400, outputs: EMPTY_OUTPUTS_SUMMARY });
        await store.insertPredictions([r]);
        assert.deepEqual(await store.getPredictions(rid(1)), [r]);
      });

      test('ignores a second record with the same request id and keeps the first', async () => {
        await store.insertPredictions([record(1, { latencyMs: 1 })]);
        assert.deepEqual(await store.insertPredictions([record(1, { latencyMs: 2 }), record(2)]), { inserted: 1, duplicates: 1 });
        const [kept] = await store.getPredictions(rid(1));
        assert.equal(kept?.latencyMs, 1);
      });

      test('a large batch with repeats inside it and of earlier records stores each request id once, the first answer', async () => {
        await store.insertPredictions([record(5, { latencyMs: 1 })]);
        // 130 records: ids 0…119, then 0…9 again; id 5 was stored before
        const batch = [...Array.from({ length: 120 }, (_, i) => record(i, { latencyMs: 2 })), ...Array.from({ length: 10 }, (_, i) => record(i, { latencyMs: 3 }))];
        assert.deepEqual(await store.insertPredictions(batch), { inserted: 119, duplicates: 11 });
        assert.equal((await store.getPredictions(rid(5)))[0]?.latencyMs, 1);
        assert.equal((await store.getPredictions(rid(7)))[0]?.latencyMs, 2);
        assert.equal((await store.getPredictions(rid(119)))[0]?.latencyMs, 2);
        assert.equal((await store.size()).predictions, 120);
      });

      test('keeps the shadow answer beside the primary under one request id, primary first', async () => {
        await store.insertPredictions([record(1, { variant: 'shadow', version: 2 }), record(1, { variant: 'stable', version: 1 })]);
        const found = await store.getPredictions(rid(1));
        assert.deepEqual(
          found.map((r) => [r.variant, r.version]),
          [
            ['stable', 1],
            ['shadow', 2],
          ],
        );
      });

      test('reads an unknown request id as no records and empty feedback', async () => {
        assert.deepEqual(await store.getPredictions(rid(9)), []);
        assert.deepEqual(await store.getFeedback(rid(9)), { label: null, outcomes: [] });
      });

      test('hands back records the caller cannot use to change what is stored', async () => {
        const r = record(1);
        await store.insertPredictions([r]);
        const [first] = await store.getPredictions(rid(1));
        try {
          (first as { latencyMs: number }).latencyMs = 999;
        } catch {
          // frozen copies are fine too
        }
        const [again] = await store.getPredictions(rid(1));
        assert.equal(again?.latencyMs, r.latencyMs);
      });
    });

    describe('feedback', () => {
      beforeEach(async () => {
        await store.insertPredictions([record(1), record(2), record(3)]);
      });

      test('keeps the last label, and each event once with its last value and time', async () => {
        const result = await store.addFeedback(
          [
            fb(1, { label: 'cat' }, T0 + 1),
            fb(1, { event: 'click' }, T0 + 2),
            fb(1, { event: 'purchase', value: 10 }, T0 + 3),
            fb(1, { label: 2 }, T0 + 4),
            fb(1, { event: 'click' }, T0 + 5),
            fb(1, { event: 'purchase', value: 12.5 }, T0 + 6),
          ],
          { skipUnknown: false },
        );
        assert.deepEqual(result, { applied: 6, unknownRequestIds: [] });
        assert.deepEqual(await store.getFeedback(rid(1)), {
          label: { value: 2, at: T0 + 4 },
          outcomes: [
            { event: 'click', value: null, at: T0 + 5 },
            { event: 'purchase', value: 12.5, at: T0 + 6 },
          ],
        });
      });

      test('keeps a stored value when the same event comes again without one', async () => {
        await store.addFeedback([fb(1, { event: 'purchase', value: 10 }, T0 + 1), fb(1, { event: 'purchase' }, T0 + 2)], { skipUnknown: false });
        assert.deepEqual((await store.getFeedback(rid(1))).outcomes, [{ event: 'purchase', value: 10, at: T0 + 2 }]);
      });

      test('files a value without an event under event null, listed first', async () => {
        await store.addFeedback([fb(1, { event: 'a-event', value: 1 }), fb(1, { value: 4 }), fb(1, { label: 'x', value: 5 })], { skipUnknown: false });
        const feedback = await store.getFeedback(rid(1));
        assert.deepEqual(
          feedback.outcomes.map((o) => [o.event, o.value]),
          [
            [null, 5],
            ['a-event', 1],
          ],
        );
        assert.equal(feedback.label?.value, 'x');
      });

      test('keeps string and number labels apart: "1" stays a string, 1 a number', async () => {
        await store.addFeedback([fb(1, { label: '1' }), fb(2, { label: 1 }), fb(3, { label: 0.25 })], { skipUnknown: false });
        assert.equal((await store.getFeedback(rid(1))).label?.value, '1');
        assert.equal((await store.getFeedback(rid(2))).label?.value, 1);
        assert.equal((await store.getFeedback(rid(3))).label?.value, 0.25);
      });

      test('writes nothing when any item names an unknown request id, and lists each unknown id once', async () => {
        const result = await store.addFeedback([fb(1, { label: 'a' }), fb(8, { label: 'b' }), fb(9, { event: 'x' }), fb(8, { event: 'y' })], { skipUnknown: false });
        assert.deepEqual(result, { applied: 0, unknownRequestIds: [rid(8), rid(9)] });
        assert.deepEqual(await store.getFeedback(rid(1)), { label: null, outcomes: [] });
        assert.deepEqual(await store.size(), { predictions: 3, labels: 0, outcomes: 0 });
      });

      test('with skipUnknown writes the known items and lists the unknown ids', async () => {
        const result = await store.addFeedback([fb(1, { label: 'a' }), fb(8, { label: 'b' }), fb(2, { event: 'x' })], { skipUnknown: true });
        assert.deepEqual(result, { applied: 2, unknownRequestIds: [rid(8)] });
        assert.equal((await store.getFeedback(rid(1))).label?.value, 'a');
        assert.equal((await store.getFeedback(rid(2))).outcomes.length, 1);
      });

      test('accepts feedback for a request id that only has a shadow record', async () => {
        await store.insertPredictions([record(7, { variant: 'shadow' })]);
        assert.deepEqual(await store.addFeedback([fb(7, { label: 1 })], { skipUnknown: false }), { applied: 1, unknownRequestIds: [] });
      });
    });

    describe('outcome arms', () => {
      test('rate: share of answered predictions per variant and version that got the event', async () => {
        await store.insertPredictions([
          record(1),
          record(2),
          record(3),
          record(4, { version: 2, variant: 'candidate' }),
          record(5, { version: 2, variant: 'candidate' }),
          record(6, { status: 500 }), // not answered: never counted
          record(7, { variant: 'shadow', version: 2 }), // nobody saw it: no conversions
          record(8, { endpoint: 'other' }),
        ]);
        await store.addFeedback(
          [fb(1, { event: 'conversion' }), fb(2, { event: 'click' }), fb(4, { event: 'conversion', value: 3 }), fb(6, { event: 'conversion' }), fb(7, { event: 'conversion' }), fb(8, { event: 'conversion' })],
          { skipUnknown: false },
        );
        assert.deepEqual(await arms({ kind: 'rate', event: 'conversion' }), [
          { variant: 'candidate', version: 2, arm: { kind: 'rate', n: 2, successes: 1 } },
          { variant: 'stable', version: 1, arm: { kind: 'rate', n: 3, successes: 1 } },
        ]);
      });

      test('selects predictions by their time in [since, until), whenever their feedback came', async () => {
        await store.insertPredictions([record(1, { at: T0 - 1 }), record(2, { at: T0 }), record(3, { at: T0 + MINUTE - 1 }), record(4, { at: T0 + MINUTE })]);
        await store.addFeedback([1, 2, 3, 4].map((n) => fb(n, { event: 'conversion' }, T0 + 10 * MINUTE)), { skipUnknown: false });
        assert.deepEqual(await arms({ kind: 'rate', event: 'conversion' }, { since: T0, until: T0 + MINUTE }), [
          { variant: 'stable', version: 1, arm: { kind: 'rate', n: 2, successes: 2 } },
        ]);
        assert.deepEqual(await arms({ kind: 'rate', event: 'conversion' }, { since: T0 }), [{ variant: 'stable', version: 1, arm: { kind: 'rate', n: 3, successes: 3 } }]);
      });

      test('accuracy: share of labelled one-row predictions whose label equals the prediction, as text', async () => {
        await store.insertPredictions([
          record(1, { predicted: 1 }),
          record(2, { predicted: 2 }),
          record(3, { predicted: 0 }),
          record(4, { predicted: 1 }), // no label: not counted
          record(5, { outputs: summarizeOutputs([probabilities([1, 1])]) }), // two rows: no single prediction
          record(6, { outputs: summarizeOutputs([{ name: 'label', datatype: 'BYTES', shape: [1], data: ['cat'] }]) }),
          record(1, { variant: 'shadow', version: 2, predicted: 2 }),
        ]);
        await store.addFeedback([fb(1, { label: 1 }), fb(2, { label: '2' }), fb(3, { label: 2 }), fb(5, { label: 1 }), fb(6, { label: 'cat' })], { skipUnknown: false });
        assert.deepEqual(await arms({ kind: 'accuracy' }), [
          { variant: 'shadow', version: 2, arm: { kind: 'rate', n: 1, successes: 0 } },
          { variant: 'stable', version: 1, arm: { kind: 'rate', n: 4, successes: 3 } },
        ]);
      });

      test('error: absolute errors of labelled predictions whose label and prediction are both numbers, shadow included', async () => {
        const value = (v: number) => summarizeOutputs([{ name: 'y', datatype: 'FP32', shape: [1], data: Float32Array.from([v]) }]);
        await store.insertPredictions([
          record(1, { outputs: value(10.5) }),
          record(2, { outputs: value(3.25) }),
          record(3, { outputs: value(7) }), // a string label: not a number
          record(4, { outputs: summarizeOutputs([{ name: 'label', datatype: 'BYTES', shape: [1], data: ['12'] }]) }), // a number as text is a number
          record(5, { outputs: summarizeOutputs([{ name: 'label', datatype: 'BYTES', shape: [1], data: ['cat'] }]) }), // not a number
          record(6, { outputs: value(2) }), // no label
          record(7, { outputs: summarizeOutputs([probabilities([1, 1])]) }), // two rows: no single prediction
          record(8, { outputs: value(1), at: T0 - 1 }), // before the window
          record(1, { variant: 'shadow', version: 2, outputs: value(9) }),
        ]);
        await store.addFeedback([fb(1, { label: 12 }), fb(2, { label: 3.25 }), fb(3, { label: '7' }), fb(4, { label: 10 }), fb(5, { label: 1 }), fb(7, { label: 1 }), fb(8, { label: 100 })], { skipUnknown: false });
        const rows = await arms({ kind: 'error' }, { since: T0 });
        assert.deepEqual(
          rows.map((r) => [r.variant, r.version]),
          [
            ['shadow', 2],
            ['stable', 1],
          ],
        );
        assertContinuous(rows[0]?.arm, { n: 1, mean: 3, m2: 0 });
        // |12 − 10.5|, |3.25 − 3.25| and |10 − 12|
        assertContinuous(rows[1]?.arm, { n: 3, mean: 3.5 / 3, m2: (1.5 - 3.5 / 3) ** 2 + (3.5 / 3) ** 2 + (2 - 3.5 / 3) ** 2 });
      });

      test('mean: per prediction the value of the event, skipping predictions without one', async () => {
        await store.insertPredictions([record(1), record(2), record(3), record(4, { variant: 'candidate', version: 2 })]);
        await store.addFeedback(
          [fb(1, { event: 'purchase', value: 10 }), fb(2, { event: 'purchase', value: 20 }), fb(2, { event: 'tip', value: 5 }), fb(3, { event: 'click' }), fb(4, { event: 'purchase', value: 7 })],
          { skipUnknown: false },
        );
        const rows = await arms({ kind: 'mean', event: 'purchase' });
        assert.deepEqual(
          rows.map((r) => [r.variant, r.version]),
          [
            ['candidate', 2],
            ['stable', 1],
          ],
        );
        assertContinuous(rows[0]?.arm, { n: 1, mean: 7, m2: 0 });
        assertContinuous(rows[1]?.arm, { n: 2, mean: 15, m2: 50 });
      });

      test('mean without an event sums each prediction’s values; missing zero counts the rest as 0', async () => {
        await store.insertPredictions([record(1), record(2), record(3), record(4, { status: 503 })]);
        await store.addFeedback([fb(1, { event: 'purchase', value: 10 }), fb(1, { value: 2 }), fb(2, { event: 'purchase', value: 3 }), fb(4, { value: 100 })], { skipUnknown: false });
        // 12 and 3
        assertContinuous((await arms({ kind: 'mean' }))[0]?.arm, { n: 2, mean: 7.5, m2: 40.5 });
        // 12, 3 and 0 (prediction 4 was not answered)
        assertContinuous((await arms({ kind: 'mean', missing: 'zero' }))[0]?.arm, { n: 3, mean: 5, m2: 49 + 4 + 25 });
      });

      test('keeps the mean and M2 of large values with a small spread accurate', async () => {
        const values = [1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4];
        await store.insertPredictions(values.map((_, i) => record(i + 1)));
        await store.addFeedback(values.map((v, i) => fb(i + 1, { event: 'revenue', value: v })), { skipUnknown: false });
        assertContinuous((await arms({ kind: 'mean', event: 'revenue' }))[0]?.arm, { n: 4, mean: 1e9 + 2.5, m2: 5 });
      });

      test('a snapshot of several metrics gives each its arms as asked alone, and the window’s prediction counts', async () => {
        await store.insertPredictions([
          record(1, { predicted: 1 }),
          record(2),
          record(3, { variant: 'candidate', version: 2 }),
          record(4, { status: 500 }),
          record(3, { variant: 'shadow', version: 2, predicted: 1 }),
        ]);
        await store.addFeedback([fb(1, { label: 1, event: 'purchase', value: 4 }), fb(2, { label: 1, event: 'click' }), fb(3, { label: 1, event: 'purchase', value: 9 })], { skipUnknown: false });
        const metrics: OutcomeMetric[] = [{ kind: 'rate', event: 'purchase' }, { kind: 'accuracy' }, { kind: 'mean', event: 'purchase', missing: 'zero' }, { kind: 'mean' }, { kind: 'error' }];
        const window = { since: 0 };
        const snapshot = await store.outcomeSnapshot('fraud', window, metrics);
        assert.equal(snapshot.arms.length, metrics.length);
        for (const [i, metric] of metrics.entries()) assert.deepEqual(sorted(snapshot.arms[i] ?? []), await arms(metric, window), JSON.stringify(metric));
        assert.deepEqual(sorted(snapshot.counts), sorted(await store.predictionCounts('fraud', window)));
        assert.deepEqual((await store.outcomeSnapshot('fraud', window, [])).arms, []);
      });

      test('a snapshot with a span also counts the span’s predictions, whether the span lies within the window or not', async () => {
        await store.insertPredictions([
          record(1, { at: T0 }),
          record(2, { at: T0 + MINUTE, status: 500 }),
          record(3, { at: T0 + 2 * MINUTE, variant: 'candidate', version: 2 }),
          record(4, { at: T0 + 3 * MINUTE }),
        ]);
        const window = { since: T0 };
        assert.equal((await store.outcomeSnapshot('fraud', window, [])).spanCounts, undefined);
        for (const span of [
          { since: T0 + MINUTE, until: T0 + 3 * MINUTE },
          { since: T0 + MINUTE },
          { since: T0 - MINUTE, until: T0 + MINUTE },
          { since: T0 + 10 * MINUTE },
        ]) {
          const snapshot = await store.outcomeSnapshot('fraud', window, [{ kind: 'rate', event: 'x' }], span);
          assert.deepEqual(sorted(snapshot.spanCounts ?? []), sorted(await store.predictionCounts('fraud', span)), JSON.stringify(span));
          assert.deepEqual(sorted(snapshot.counts), sorted(await store.predictionCounts('fraud', window)));
        }
        const within = await store.outcomeSnapshot('fraud', window, [], { since: T0 + MINUTE, until: T0 + 3 * MINUTE });
        assert.deepEqual(sorted(within.spanCounts ?? []), [
          { variant: 'candidate', version: 2, predictions: 1, answered: 1 },
          { variant: 'stable', version: 1, predictions: 1, answered: 0 },
        ]);
      });

      test('the same arms whether the window’s predictions or the feedback are the more numerous', async () => {
        // predictions 1–20 a minute apart; feedback on 1–4 and 17–20 (label right on the odd ones, a value of n)
        await store.insertPredictions(Array.from({ length: 20 }, (_, i) => record(i + 1, { at: T0 + (i + 1) * MINUTE, predicted: 1 })));
        await store.addFeedback(
          [1, 2, 3, 4, 17, 18, 19, 20].map((n) => fb(n, { label: n % 2, event: 'purchase', value: n })),
          { skipUnknown: false },
        );
        const expectations = [
          // 5 predictions in the window, 8 feedback rows
          { since: T0 + 16 * MINUTE, n: 5, withValue: [17, 18, 19, 20] },
          // 20 predictions in the window, 8 feedback rows
          { since: 0, n: 20, withValue: [1, 2, 3, 4, 17, 18, 19, 20] },
        ];
        for (const { since, n, withValue } of expectations) {
          const k = withValue.length;
          const mean = withValue.reduce((a, v) => a + v, 0) / k;
          const m2 = withValue.reduce((a, v) => a + (v - mean) ** 2, 0);
          assert.deepEqual(await arms({ kind: 'rate', event: 'purchase' }, { since }), [{ variant: 'stable', version: 1, arm: { kind: 'rate', n, successes: k } }]);
          assert.deepEqual(await arms({ kind: 'accuracy' }, { since }), [{ variant: 'stable', version: 1, arm: { kind: 'rate', n: k, successes: k / 2 } }]);
          assertContinuous((await arms({ kind: 'mean', event: 'purchase' }, { since }))[0]?.arm, { n: k, mean, m2 });
          const withZeros = [...withValue, ...Array.from({ length: n - k }, () => 0)];
          const zeroMean = withZeros.reduce((a, v) => a + v, 0) / n;
          assertContinuous((await arms({ kind: 'mean', event: 'purchase', missing: 'zero' }, { since }))[0]?.arm, { n, mean: zeroMean, m2: withZeros.reduce((a, v) => a + (v - zeroMean) ** 2, 0) });
        }
      });

      test('gives no arms for an endpoint without predictions', async () => {
        await store.insertPredictions([record(1)]);
        assert.deepEqual(await arms({ kind: 'rate', event: 'x' }, { since: 0 }, 'nobody'), []);
        assert.deepEqual(await store.predictionCounts('nobody', { since: 0 }), []);
      });
    });

    describe('prediction counts', () => {
      test('counts every record per variant and version, and those answered', async () => {
        await store.insertPredictions([
          record(1),
          record(2, { status: 500 }),
          record(3, { status: 400, version: null, model: null }),
          record(4, { variant: 'candidate', version: 2 }),
          record(4, { variant: 'shadow', version: 3 }),
          record(5, { at: T0 - 1 }),
        ]);
        const expected: PredictionCountRow[] = [
          { variant: 'candidate', version: 2, predictions: 1, answered: 1 },
          { variant: 'shadow', version: 3, predictions: 1, answered: 1 },
          { variant: 'stable', version: null, predictions: 1, answered: 0 },
          { variant: 'stable', version: 1, predictions: 2, answered: 1 },
        ];
        assert.deepEqual(sorted(await store.predictionCounts('fraud', { since: T0 })), expected);
      });
    });

    describe('predicted values', () => {
      test('counts answered one-row predictions per variant and value, in the window', async () => {
        await store.insertPredictions([
          record(1, { predicted: 0 }),
          record(2, { predicted: 0 }),
          record(3, { predicted: 2 }),
          record(4, { predicted: 1, variant: 'candidate', version: 2 }),
          record(5, { predicted: 1, status: 500 }),
          record(6, { predicted: 1, at: T0 - 1 }),
          record(7, { outputs: EMPTY_OUTPUTS_SUMMARY }),
        ]);
        const rows = [...(await store.predictedValues('fraud', { since: T0 }))].sort((a, b) => `${a.variant}/${a.predicted}`.localeCompare(`${b.variant}/${b.predicted}`));
        assert.deepEqual(rows, [
          { variant: 'candidate', predicted: '1', count: 1 },
          { variant: 'stable', predicted: '0', count: 2 },
          { variant: 'stable', predicted: '2', count: 1 },
        ]);
        assert.deepEqual(await store.predictedValues('nobody', { since: 0 }), []);
      });
    });

    describe('retention', () => {
      test('removes records older than the cutoff with their feedback, and keeps the rest', async () => {
        await store.insertPredictions([record(1, { at: T0 - 2 }), record(2, { at: T0 - 1 }), record(3, { at: T0 })]);
        await store.addFeedback([fb(1, { label: 1 }), fb(1, { event: 'e' }), fb(3, { label: 3 })], { skipUnknown: false });
        assert.deepEqual(await store.prune({ olderThan: T0, limit: 100 }), { deleted: 2, more: false });
        assert.deepEqual(await store.getPredictions(rid(1)), []);
        assert.deepEqual(await store.getFeedback(rid(1)), { label: null, outcomes: [] });
        assert.equal((await store.getFeedback(rid(3))).label?.value, 3);
        assert.deepEqual(await store.size(), { predictions: 1, labels: 1, outcomes: 0 });
      });

      test('removes at most `limit` records per call, oldest first, and says when more are due', async () => {
        await store.insertPredictions([record(3, { at: T0 - 1 }), record(1, { at: T0 - 3 }), record(2, { at: T0 - 2 })]);
        assert.deepEqual(await store.prune({ olderThan: T0, limit: 2 }), { deleted: 2, more: true });
        assert.equal((await store.getPredictions(rid(3))).length, 1);
        assert.deepEqual(await store.prune({ olderThan: T0, limit: 2 }), { deleted: 1, more: false });
        assert.deepEqual(await store.prune({ olderThan: T0, limit: 2 }), { deleted: 0, more: false });
      });

      test('keeps only the newest records by insertion when over the count', async () => {
        await store.insertPredictions([1, 2, 3, 4, 5].map((n) => record(n)));
        assert.deepEqual(await store.prune({ keepNewest: 2, limit: 100 }), { deleted: 3, more: false });
        for (const n of [1, 2, 3]) assert.deepEqual(await store.getPredictions(rid(n)), []);
        for (const n of [4, 5]) assert.equal((await store.getPredictions(rid(n))).length, 1);
        assert.deepEqual(await store.prune({ keepNewest: 2, limit: 100 }), { deleted: 0, more: false });
      });

      test('retention by count over several calls, with records arriving between them, keeps exactly the newest', async () => {
        await store.insertPredictions(Array.from({ length: 10 }, (_, i) => record(i + 1)));
        assert.deepEqual(await store.prune({ keepNewest: 5, limit: 2 }), { deleted: 2, more: true });
        await store.insertPredictions(Array.from({ length: 10 }, (_, i) => record(i + 11)));
        let deleted = 2;
        for (let i = 0; i < 20; i++) {
          const r = await store.prune({ keepNewest: 5, limit: 2 });
          deleted += r.deleted;
          if (!r.more && r.deleted === 0) break;
        }
        assert.equal(deleted, 15);
        for (const n of [15, 16]) assert.equal((await store.getPredictions(rid(n))).length, n === 15 ? 0 : 1, `record ${n}`);
        assert.equal((await store.size()).predictions, 5);
      });

      test('retention by count after every record was removed counts only the records that arrived since', async () => {
        await store.insertPredictions(Array.from({ length: 10 }, (_, i) => record(i + 1, { at: T0 - 1 })));
        assert.deepEqual(await store.prune({ keepNewest: 5, limit: 2 }), { deleted: 2, more: true });
        assert.deepEqual(await store.prune({ olderThan: T0, limit: 100 }), { deleted: 8, more: false });
        await store.insertPredictions([11, 12, 13].map((n) => record(n)));
        assert.deepEqual(await store.prune({ keepNewest: 5, limit: 2 }), { deleted: 0, more: false });
        assert.equal((await store.size()).predictions, 3);
      });

      test('applies age first, then count, within one limit', async () => {
        await store.insertPredictions([record(1, { at: T0 - 1 }), record(2), record(3), record(4)]);
        assert.deepEqual(await store.prune({ olderThan: T0, keepNewest: 2, limit: 100 }), { deleted: 2, more: false });
        assert.deepEqual((await store.size()).predictions, 2);
        assert.deepEqual(await store.getPredictions(rid(2)), []);
      });

      test('keeps feedback while a shadow record of the request id remains', async () => {
        await store.insertPredictions([record(1, { at: T0 - 1 }), record(1, { variant: 'shadow', at: T0 })]);
        await store.addFeedback([fb(1, { label: 2 })], { skipUnknown: false });
        assert.deepEqual(await store.prune({ olderThan: T0, limit: 100 }), { deleted: 1, more: false });
        assert.equal((await store.getFeedback(rid(1))).label?.value, 2);
      });
    });
  });
}
