/**
 * The validation measurements on a model whose answers are known by construction: a classifier
 * that looks only at its first feature, p(class 1) = 1 / (1 + e^(−10·x0)), and ignores the second.
 * Every robustness, stability and comparison figure can then be worked out by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelSignature, Tensor } from '../../../src/core/index.js';
import type { LoadedModel } from '../../../src/runtime/index.js';
import { readValidationData } from '../../../src/validate/data.js';
import { figuresOf } from '../../../src/validate/figures.js';
import { measureAccuracy, measureEdgeCases, measureLatency, measureRobustness, measureStability, type MeasureContext } from '../../../src/validate/measure.js';
import { canonicalLabel, createPredictionCollector } from '../../../src/validate/outputs.js';
import { VALIDATION_DEFAULTS } from '../../../src/validate/types.js';

const signature: ModelSignature = {
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }],
  outputs: [
    { name: 'label', datatype: 'INT64', shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
  ],
};

/** The first-feature classifier as a LoadedModel; it counts its calls. */
function firstFeatureModel(): LoadedModel & { calls: number } {
  const model = {
    label: 'first-feature',
    signature,
    calls: 0,
    async infer(inputs: readonly Tensor[]): Promise<Tensor[]> {
      model.calls++;
      const x = inputs[0] as Tensor;
      const rows = x.shape[0] as number;
      const label = new BigInt64Array(rows);
      const probabilities = new Float32Array(rows * 2);
      for (let r = 0; r < rows; r++) {
        const x0 = (x.data as Float32Array)[r * 2] as number;
        const p = 1 / (1 + Math.exp(-10 * x0));
        probabilities[r * 2] = 1 - p;
        probabilities[r * 2 + 1] = p;
        // NaN compares false: a NaN input gets class 0 with NaN probabilities, as an ArgMax over NaN would
        label[r] = p > 0.5 ? 1n : 0n;
      }
      return [
        { name: 'label', datatype: 'INT64', shape: [rows], data: label },
        { name: 'probabilities', datatype: 'FP32', shape: [rows, 2], data: probabilities },
      ];
    },
    stats: () => [],
    unload: async () => undefined,
  };
  return model;
}

/** 40 rows: x0 = ±1 (class 1 when positive; rows 0–9 are mislabelled as their opposite), x1 = a row counter. */
function csv(): string {
  const lines = ['x0,x1,y'];
  for (let r = 0; r < 40; r++) {
    const x0 = r % 2 === 0 ? 1 : -1;
    const truth = x0 > 0 ? 1 : 0;
    lines.push(`${x0},${r},${r < 10 ? 1 - truth : truth}`);
  }
  return lines.join('\n');
}

function context(model: LoadedModel, overrides: Partial<typeof VALIDATION_DEFAULTS> = {}): MeasureContext {
  return {
    loaded: model,
    signature,
    settings: { ...VALIDATION_DEFAULTS, latencyRuns: 25, latencyBudgetMs: 20, batchSizes: [1, 4], ...overrides },
    signal: new AbortController().signal,
    onStep: () => undefined,
    sampleMemory: () => undefined,
  };
}

void test('accuracy, robustness and worst case on a model whose answers are known', async () => {
  const data = readValidationData(csv(), signature, { target: 'y' });
  const ctx = context(firstFeatureModel());
  const { report, task, rows } = await measureAccuracy(ctx, data);
  assert.equal(task, 'classification');
  // 30 of the 40 labels agree with the sign of x0
  assert.equal(report?.classification?.accuracy, 0.75);
  const r = await measureRobustness(ctx, data, 'classification', rows);
  assert.equal(r.rows, 40);
  assert.equal(r.clean, 0.75);
  // x1 holds 40 distinct whole numbers: continuous; x0 only −1 and 1: a code (discrete)
  assert.deepEqual(r.discreteFeatures, ['x0']);
  // noise moves x0 to a neighbouring whole value in [−1, 1]: at σ×0.05 (σ ≈ 1.01) the step rounds back, nothing changes
  assert.equal(r.noise[0]?.level, 0.05);
  assert.equal(r.noise[0]?.changedShare, 0);
  // zeroing x0 gives p = 0.5 → class 0 for every row: accuracy becomes the share of rows labelled 0 (20 of 40)
  const zeroX0 = r.zeroed.worst.find((w) => w.feature === 'x0');
  assert.equal(zeroX0?.value, 0.5);
  assert.equal(zeroX0?.drop, 0.25);
  assert.equal(zeroX0?.changedShare, 0.5);
  // x1 is ignored: zeroing it changes nothing
  assert.equal(r.zeroed.worst.find((w) => w.feature === 'x1')?.drop, 0);
  // a missing x0 (NaN) makes every probability NaN: no prediction at all, every row wrong
  const missingX0 = r.missing.worst.find((w) => w.feature === 'x0');
  assert.equal(missingX0?.nonFiniteShare, 1);
  assert.equal(missingX0?.value, 0);
  assert.equal(r.missing.nonFiniteShare, 0.5); // x0: 1, x1: 0
  // x0 pushed one range (2) beyond [−1, 1]: 3 → class 1 everywhere, −3 → class 0 everywhere; half the rows change each way
  const outX0 = r.outOfRange.worst.find((w) => w.feature === 'x0');
  assert.equal(outX0?.changedShare, 0.5);
  // ε = 0.1σ moves a discrete x0 by round(±0.1) = 0: no correctly classified row can be flipped
  assert.equal(r.worstCase.flipRate, 0);
  assert.equal(r.worstCase.rows, 30);

  const wide = await measureRobustness(context(firstFeatureModel(), { perturbationEpsilon: 1 }), data, 'classification', rows);
  // ε = σ ≈ 1.01: the gradient-sign step moves x0 against its class to 0 → p = 0.5 → class 0: every right class-1 row flips (15 of 30)
  assert.equal(wide.worstCase.flipRate, 0.5);
});

void test('stability, edge cases and latency of the known model; figures by name', async () => {
  const data = readValidationData(csv(), signature, { target: 'y' });
  const model = firstFeatureModel();
  const ctx = context(model);
  const { report: stability, predictions } = await measureStability(ctx, data);
  assert.equal(stability.repeatMaxAbsDiff, 0);
  assert.equal(stability.batchMaxAbsDiff, 0);
  assert.equal(stability.identicalPredictions, true);
  assert.equal(predictions.rows, 16);
  const edges = await measureEdgeCases(ctx, data);
  const byName = new Map(edges.map((e) => [e.name, e]));
  assert.equal(byName.get('string_value')?.code, 'SERVING_INVALID_DATA');
  assert.equal(byName.get('wrong_shape')?.outcome, 'error');
  assert.equal(byName.get('nan_value')?.finiteOutputs, false);
  assert.equal(byName.get('still_serving')?.passed, true);
  assert.ok(edges.every((e) => e.passed), JSON.stringify(edges.filter((e) => !e.passed)));

  // two versions timed in turns: each gets its runs, in blocks, on the same inputs
  const other = firstFeatureModel();
  const before = model.calls;
  const [ma, mb] = await measureLatency([ctx, context(other)], data);
  const a = ma?.summaries;
  const b = mb?.summaries;
  // 25 runs in blocks of 5: 5 rounds of 5 calls each, per batch size
  assert.deepEqual(ma?.blocks.get(4)?.map((block) => block.length), [5, 5, 5, 5, 5]);
  assert.deepEqual(a?.map((l) => l.batchSize), [1, 4]);
  assert.ok(a?.every((l) => l.runs === 25 && l.p50Ms <= l.p99Ms));
  assert.ok(b?.every((l) => l.runs === 25));
  // 3 untimed + 25 timed calls per batch size, for each model
  assert.equal(model.calls - before, 2 * 28);
  assert.equal(other.calls, 2 * 28);

  const { report } = await measureAccuracy(ctx, data);
  const figures = figuresOf({ model: 'm', version: 1, digest: 'sha256:x', accuracy: report, performance: { sizeBytes: 2048, loadMs: 3, firstCallMs: 1, latency: a ?? [], memory: { rssBeforeBytes: 0, rssPeakBytes: 0, rssDeltaBytes: 1048576, workerHeapBytes: 0 } }, robustness: null, stability, edgeCases: edges });
  assert.equal(figures.accuracy, 0.75);
  assert.equal(figures.size_mb, 2048 / 1048576);
  assert.equal(figures['memory.rss_delta_mb'], 1);
  assert.equal(figures['latency.p50_ms'], a?.[0]?.p50Ms);
  assert.equal(figures['latency.batch_4.p99_ms'], a?.[1]?.p99Ms);
  assert.equal(figures['edge_cases.failed'], 0);
  assert.equal(figures['stability.identical'], 1);
  assert.ok(!('rmse' in figures));
});

void test('outputs: labels canonical, probabilities recognised, NaN scores are no prediction', () => {
  assert.equal(canonicalLabel('1.0'), '1');
  assert.equal(canonicalLabel(' benign '), 'benign');
  assert.equal(canonicalLabel(2), '2');
  const c = createPredictionCollector();
  c.add(
    [
      { name: 'label', datatype: 'BYTES', shape: [3], data: ['cat', 'dog', 'cat'] },
      { name: 'scores', datatype: 'FP32', shape: [3, 2], data: Float32Array.from([0.9, 0.1, 0.2, 0.8, NaN, NaN]) },
    ],
    3,
  );
  const p = c.finish();
  assert.equal(p.kind, 'label');
  assert.deepEqual(p.labels, ['cat', 'dog', null]);
  // NaN in a row: the scores are not probabilities
  assert.equal(p.probabilities, null);
  const d = createPredictionCollector();
  d.add([{ name: 'scores', datatype: 'FP32', shape: [2, 3], data: Float32Array.from([0.2, 0.5, 0.3, 0.6, 0.3, 0.1]) }], 2);
  const q = d.finish();
  // no label output: the argmax index is the label, and the probability columns are named by index
  assert.deepEqual(q.labels, ['1', '0']);
  assert.deepEqual(q.probabilities?.classes, ['0', '1', '2']);
  const v = createPredictionCollector();
  v.add([{ name: 'y', datatype: 'FP32', shape: [2, 1], data: Float32Array.from([1.5, NaN]) }], 2);
  const w = v.finish();
  assert.equal(w.kind, 'value');
  assert.equal(w.values[0], 1.5);
  assert.ok(Number.isNaN(w.values[1]));
});
