import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { float32ToFloat16Bits, type Tensor } from '../../../../src/core/index.js';
import { compareResponses, createShadowAggregate, type ResponseComparison, type ShadowSummary } from '../../../../src/serving/routing/index.js';

const fp32 = (name: string, shape: number[], values: number[]): Tensor => ({ name, datatype: 'FP32', shape, data: Float32Array.from(values) });
const int64 = (name: string, shape: number[], values: number[]): Tensor => ({ name, datatype: 'INT64', shape, data: BigInt64Array.from(values.map(BigInt)) });
const close = (actual: number | undefined | null, expected: number, what: string): void => {
  assert.ok(actual !== undefined && actual !== null && Math.abs(actual - expected) < 1e-6, `${what}: ${actual} ≠ ${expected}`);
};

describe('compareResponses', () => {
  test('counts per-row argmax agreement on the output with a class dimension, even when a label output comes first', () => {
    const primary = [int64('label', [3], [0, 1, 1]), fp32('probabilities', [3, 2], [0.9, 0.1, 0.4, 0.6, 0.2, 0.8])];
    const shadow = [int64('label', [3], [0, 0, 1]), fp32('probabilities', [3, 2], [0.7, 0.3, 0.55, 0.45, 0.1, 0.9])];
    const c = compareResponses({ outputs: primary, latencyMs: 10 }, { outputs: shadow, latencyMs: 14 });
    assert.deepEqual(c.labels, { output: 'probabilities', method: 'argmax', rows: 3, agreements: 2, rate: 2 / 3 });
    assert.deepEqual(c.mismatches, []);
    assert.deepEqual(c.latency, { primaryMs: 10, shadowMs: 14, diffMs: 4 });
  });

  test('computes mean absolute and mean relative differences over floating-point outputs', () => {
    // |Δ| = 0.2, 0.15, 0.1 → mean 0.15; relative to the larger side: 0.2/0.9, 0.15/0.55, 0.1/0.9
    const c = compareResponses(
      { outputs: [int64('label', [3], [0, 1, 1]), fp32('p', [3], [0.9, 0.4, 0.8])] },
      { outputs: [int64('label', [3], [0, 0, 1]), fp32('p', [3], [0.7, 0.55, 0.9])] },
    );
    close(c.numeric?.meanAbsDiff, 0.15, 'meanAbsDiff');
    close(c.numeric?.meanRelDiff, (0.2 / 0.9 + 0.15 / 0.55 + 0.1 / 0.9) / 3, 'meanRelDiff');
    close(c.numeric?.maxAbsDiff, 0.2, 'maxAbsDiff');
    assert.equal(c.numeric?.elements, 3, 'the integer label output is left out of the pooled figure');
    const label = c.outputs.find((o) => o.output === 'label');
    close(label?.meanAbsDiff, 1 / 3, 'label meanAbsDiff');
    // no class dimension: the label output itself decides
    assert.deepEqual(c.labels, { output: 'label', method: 'label', rows: 3, agreements: 2, rate: 2 / 3 });
    assert.equal(c.latency, undefined);
  });

  test('pools integer outputs when the model has no floating-point output, and relative difference is 0 when both sides are 0', () => {
    const c = compareResponses({ outputs: [int64('y', [2], [0, 4])] }, { outputs: [int64('y', [2], [0, 2])] });
    close(c.numeric?.meanAbsDiff, 1, 'meanAbsDiff');
    close(c.numeric?.meanRelDiff, 0.25, 'meanRelDiff');
  });

  test('flags missing outputs, shape and datatype differences, comparing values across datatypes of the same shape', () => {
    const c = compareResponses(
      { outputs: [fp32('a', [2], [1, 2]), fp32('b', [2, 1], [1, 2]), fp32('gone', [1], [1])] },
      { outputs: [{ name: 'a', datatype: 'FP64', shape: [2], data: Float64Array.of(1, 2.5) }, fp32('b', [1, 2], [1, 2]), fp32('extra', [1], [1])] },
    );
    assert.deepEqual(c.mismatches, [
      { output: 'a', kind: 'datatype', primary: 'FP32', shadow: 'FP64' },
      { output: 'b', kind: 'shape', primary: '[2,1]', shadow: '[1,2]' },
      { output: 'gone', kind: 'missing-in-shadow' },
      { output: 'extra', kind: 'missing-in-primary' },
    ]);
    assert.deepEqual(c.outputs.map((o) => o.output), ['a']);
    close(c.numeric?.meanAbsDiff, 0.25, 'meanAbsDiff');
  });

  test('decodes FP16 bits, treats matching non-finite values as agreement and counts the rest apart', () => {
    const half = (values: number[]): Tensor => ({ name: 'h', datatype: 'FP16', shape: [values.length], data: Uint16Array.from(values.map(float32ToFloat16Bits)) });
    const c = compareResponses({ outputs: [half([1, 0.5, NaN, Infinity])] }, { outputs: [half([1, 1, NaN, 3])] });
    const d = c.outputs[0]!;
    assert.equal(d.compared, 3);
    assert.equal(d.nonFiniteMismatches, 1);
    close(d.meanAbsDiff, 0.5 / 3, 'meanAbsDiff');
  });

  test('compares BYTES outputs by equality', () => {
    const bytes = (values: string[]): Tensor => ({ name: 's', datatype: 'BYTES', shape: [values.length], data: values });
    const c = compareResponses({ outputs: [bytes(['cat', 'dog'])] }, { outputs: [bytes(['cat', 'cow'])] });
    assert.equal(c.outputs[0]!.unequal, 1);
    assert.equal(c.numeric, undefined);
    assert.deepEqual(c.labels, { output: 's', method: 'label', rows: 2, agreements: 1, rate: 0.5 });
  });

  test('gives no label figure for a regression output', () => {
    const c = compareResponses({ outputs: [fp32('prediction', [2, 1], [3.5, 4])] }, { outputs: [fp32('prediction', [2, 1], [3, 4])] });
    assert.equal(c.labels, undefined);
    close(c.numeric?.meanAbsDiff, 0.25, 'meanAbsDiff');
  });
});

describe('createShadowAggregate', () => {
  const a: ResponseComparison = compareResponses(
    { outputs: [fp32('p', [2, 2], [0.9, 0.1, 0.2, 0.8])], latencyMs: 10 },
    { outputs: [fp32('p', [2, 2], [0.8, 0.2, 0.6, 0.4])], latencyMs: 16 },
  );
  const b: ResponseComparison = compareResponses({ outputs: [fp32('p', [1, 2], [0.5, 0.5]), fp32('q', [1], [1])], latencyMs: 20 }, { outputs: [fp32('p', [1, 2], [0.5, 0.5])], latencyMs: 18 });

  test('keeps counts and element-weighted means, and serialises to plain JSON', () => {
    const agg = createShadowAggregate();
    assert.deepEqual(JSON.parse(JSON.stringify(agg.summary())), { ...agg.summary() });
    assert.equal(agg.summary().agreementRate, null);
    agg.add(a);
    agg.add(b);
    const s = agg.summary();
    assert.equal(s.comparisons, 2);
    assert.equal(s.mismatchedResponses, 1);
    assert.equal(s.missingOutputs, 1);
    assert.equal(s.labelRows, 3);
    assert.equal(s.labelAgreements, 2);
    close(s.agreementRate, 2 / 3, 'agreementRate');
    // a: |Δ| 0.1, 0.1, 0.4, 0.4; b: p 0, 0 → 6 elements, sum 1.0
    assert.equal(s.numericElements, 6);
    close(s.meanAbsDiff, 1 / 6, 'meanAbsDiff');
    close(s.maxAbsDiff, 0.4, 'maxAbsDiff');
    close(s.meanPrimaryLatencyMs, 15, 'meanPrimaryLatencyMs');
    close(s.meanShadowLatencyMs, 17, 'meanShadowLatencyMs');
    close(s.meanLatencyDiffMs, 2, 'meanLatencyDiffMs');
    assert.deepEqual(JSON.parse(JSON.stringify(s)), { ...s });
  });

  test('resumes from a stored summary', () => {
    const first = createShadowAggregate();
    first.add(a);
    const resumed = createShadowAggregate(JSON.parse(JSON.stringify(first.summary())) as ShadowSummary);
    resumed.add(b);
    const whole = createShadowAggregate();
    whole.add(a);
    whole.add(b);
    const r = resumed.summary();
    const w = whole.summary();
    for (const key of Object.keys(w) as (keyof typeof w)[]) {
      const x = r[key];
      const y = w[key];
      if (typeof x === 'number' && typeof y === 'number') close(x, y, key);
      else assert.equal(x, y, key);
    }
  });
});
