import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { float32ToFloat16Bits, type Tensor } from '../../../src/core/index.js';
import {
  createOutputSummarizer,
  EMPTY_OUTPUTS_SUMMARY,
  labelText,
  parseStoredSummary,
  predictedAt,
  predictedRow,
  resolveSummaryOptions,
  storedSummary,
  storedSummaryJson,
  summarizeOutputs,
} from '../../../src/monitoring/index.js';
import { labels, outputsGenerator, probabilities } from './fixtures.js';

describe('summarizeOutputs', () => {
  test('summarises class probabilities by argmax and top score, and predicts the argmax of a one-row answer', () => {
    const summary = summarizeOutputs([probabilities([2])]);
    assert.deepEqual(summary, {
      rows: 1,
      predicted: { output: 'probabilities', kind: 'scores', value: 2 },
      tensors: [{ name: 'probabilities', datatype: 'FP32', shape: [1, 3], kind: 'scores', values: [2], scores: [0.8] }],
      omitted: 0,
    });
  });

  test('prefers the model’s own label output over an argmax for the prediction', () => {
    const summary = summarizeOutputs([probabilities([0]), labels([1])]);
    assert.deepEqual(summary.predicted, { output: 'label', kind: 'label', value: 1 });
    assert.deepEqual(summary.tensors[1], { name: 'label', datatype: 'INT64', shape: [1], kind: 'label', values: [1] });
  });

  test('keeps regression values at the precision of their type', () => {
    const summary = summarizeOutputs([{ name: 'y', datatype: 'FP32', shape: [2, 1], data: Float32Array.from([0.1, 2.5]) }]);
    assert.deepEqual(summary.tensors[0], { name: 'y', datatype: 'FP32', shape: [2, 1], kind: 'value', values: [0.1, 2.5] });
    assert.equal(summary.predicted, null, 'two rows: no single prediction');
    const one = summarizeOutputs([{ name: 'y', datatype: 'FP64', shape: [1], data: Float64Array.from([0.1 + 0.2]) }]);
    assert.deepEqual(one.predicted, { output: 'y', kind: 'value', value: 0.1 + 0.2 });
  });

  test('keeps only the first rows and says so', () => {
    const summary = summarizeOutputs([probabilities(Array.from({ length: 40 }, (_, i) => i % 3))], { maxRows: 16 });
    const t = summary.tensors[0];
    assert.equal(summary.rows, 40);
    assert.equal(t?.values?.length, 16);
    assert.equal(t?.scores?.length, 16);
    assert.equal(t?.truncated, true);
    assert.deepEqual(t?.values?.slice(0, 4), [0, 1, 2, 0]);
  });

  test('stays small for a wide, tall output: it reads only the rows it keeps', () => {
    const rows = 1000;
    const width = 1000;
    const data = new Float32Array(rows * width);
    for (let r = 0; r < rows; r++) data[r * width + ((r * 7) % width)] = 1;
    const summary = summarizeOutputs([{ name: 'p', datatype: 'FP32', shape: [rows, width], data }]);
    assert.ok(JSON.stringify(summary).length < 1000, `summary is ${JSON.stringify(summary).length} characters`);
    assert.deepEqual(summary.tensors[0]?.values?.slice(0, 3), [0, 7, 14]);
  });

  test('summarises rank-3 outputs, string rows and rows wider than the cap by datatype and shape only', () => {
    const summary = summarizeOutputs(
      [
        { name: 'image', datatype: 'FP32', shape: [1, 2, 2], data: new Float32Array(4) },
        { name: 'tokens', datatype: 'BYTES', shape: [1, 2], data: ['a', 'b'] },
        { name: 'wide', datatype: 'FP32', shape: [1, 10], data: new Float32Array(10) },
      ],
      { maxRowWidth: 8 },
    );
    assert.deepEqual(
      summary.tensors.map((t) => [t.name, t.kind, 'values' in t]),
      [
        ['image', 'tensor', false],
        ['tokens', 'tensor', false],
        ['wide', 'tensor', false],
      ],
    );
    assert.equal(summary.predicted, null);
  });

  test('cuts long string labels to the cap and marks the output truncated', () => {
    const long = 'x'.repeat(300);
    const summary = summarizeOutputs([{ name: 'label', datatype: 'BYTES', shape: [1], data: [long] }], { maxStringLength: 256 });
    assert.equal((summary.tensors[0]?.values?.[0] as string).length, 256);
    assert.equal(summary.tensors[0]?.truncated, true);
  });

  test('reads 64-bit labels exactly, as strings beyond 2^53', () => {
    const summary = summarizeOutputs([{ name: 'id', datatype: 'INT64', shape: [2], data: BigInt64Array.from([7n, 9007199254740993n]) }]);
    assert.deepEqual(summary.tensors[0]?.values, [7, '9007199254740993']);
  });

  test('reads booleans as 0/1 and half floats as numbers', () => {
    const summary = summarizeOutputs([
      { name: 'flag', datatype: 'BOOL', shape: [2], data: Uint8Array.from([1, 0]) },
      { name: 'half', datatype: 'FP16', shape: [2, 2], data: Uint16Array.from([0.25, 0.75, 0.5, 0.125].map(float32ToFloat16Bits)) },
    ]);
    assert.deepEqual(summary.tensors[0]?.values, [1, 0]);
    assert.deepEqual(summary.tensors[1]?.values, [1, 0]);
    assert.deepEqual(summary.tensors[1]?.scores, [0.75, 0.5]);
  });

  test('never lets NaN win an argmax, and gives null for a row of NaN', () => {
    const summary = summarizeOutputs([{ name: 'p', datatype: 'FP32', shape: [2, 3], data: Float32Array.from([NaN, 0.2, 0.1, NaN, NaN, NaN]) }]);
    assert.deepEqual(summary.tensors[0]?.values, [1, null]);
    assert.deepEqual(summary.tensors[0]?.scores, [0.2, null]);
    const values = summarizeOutputs([{ name: 'y', datatype: 'FP32', shape: [1], data: Float32Array.from([Infinity]) }]);
    assert.deepEqual(values.tensors[0]?.values, [null]);
    assert.equal(values.predicted, null);
  });

  test('reports no shared row count when outputs disagree, and counts outputs beyond the cap', () => {
    const disagree = summarizeOutputs([probabilities([0]), labels([1, 2])]);
    assert.equal(disagree.rows, null);
    assert.equal(disagree.predicted, null);
    const many: Tensor[] = Array.from({ length: 5 }, (_, i) => labels([i], `out${i}`));
    const capped = summarizeOutputs(many, { maxOutputs: 3 });
    assert.equal(capped.tensors.length, 3);
    assert.equal(capped.omitted, 2);
  });

  test('summarises no outputs as the empty summary, and a tensor too short for its shape by its shape', () => {
    assert.deepEqual(summarizeOutputs(undefined), EMPTY_OUTPUTS_SUMMARY);
    assert.deepEqual(summarizeOutputs([]), EMPTY_OUTPUTS_SUMMARY);
    const short = summarizeOutputs([{ name: 'p', datatype: 'FP32', shape: [2, 3], data: new Float32Array(2) }]);
    assert.equal(short.tensors[0]?.kind, 'tensor');
  });

  test('a summarizer made once with options summarises as summarizeOutputs does with them, answer after answer', () => {
    const summarize = createOutputSummarizer({ maxRows: 2, maxOutputs: 1 });
    const outputs = [probabilities([2, 0, 1]), labels([1, 1, 1])];
    for (let i = 0; i < 3; i++) assert.deepEqual(summarize(outputs), summarizeOutputs(outputs, { maxRows: 2, maxOutputs: 1 }));
    const s = summarize(outputs);
    assert.deepEqual([s.tensors.length, s.omitted, s.tensors[0]?.values, s.tensors[0]?.truncated, s.rows], [1, 1, [2, 0], true, 3]);
    assert.equal(summarize(undefined), EMPTY_OUTPUTS_SUMMARY);
  });

  test('rows are the first dimension the outputs share, null when they disagree, 1 for scalars', () => {
    assert.equal(summarizeOutputs([probabilities([0, 1]), labels([0, 1])]).rows, 2);
    assert.equal(summarizeOutputs([probabilities([0, 1]), labels([0])]).rows, null);
    assert.equal(summarizeOutputs([{ name: 's', datatype: 'FP32', shape: [], data: Float32Array.from([0.5]) }]).rows, 1);
  });
});

describe('labelText', () => {
  test('compares numbers in their shortest form and strings as they are', () => {
    assert.equal(labelText(1), '1');
    assert.equal(labelText(1.0), '1');
    assert.equal(labelText(0.25), '0.25');
    assert.equal(labelText(-0), '0');
    assert.equal(labelText('1'), '1');
    assert.equal(labelText('cat'), 'cat');
  });
});

describe('the stored form of a summary', () => {
  const { pick, tensor } = outputsGenerator(20261130);

  test('storedSummaryJson writes what JSON.stringify(storedSummary) writes, and parseStoredSummary gives the summary back, for 2,000 generated responses', () => {
    assert.equal(storedSummaryJson(EMPTY_OUTPUTS_SUMMARY), '[null,0]');
    assert.deepEqual(parseStoredSummary('[null,0]'), EMPTY_OUTPUTS_SUMMARY);
    const summarize = createOutputSummarizer({ maxRows: 4, maxOutputs: 3, maxStringLength: 8 });
    let predicted = 0;
    for (let k = 0; k < 2000; k++) {
      const outputs = Array.from({ length: pick([1, 1, 2, 4]) }, (_, i) => tensor(i));
      const summary = summarize(outputs);
      const text = storedSummaryJson(summary);
      assert.equal(text, JSON.stringify(storedSummary(summary)), `case ${k}`);
      // the prediction, left out of the text, is put back by the record's rule (compared through
      // JSON, which the summary's own text went through too: -0 reads back as 0 either way)
      assert.deepEqual(parseStoredSummary(text), JSON.parse(JSON.stringify(summary)), `case ${k}: ${text}`);
      if (summary.predicted !== null) predicted++;
    }
    assert.ok(predicted > 200, `only ${predicted} generated summaries had a prediction`);
  });

  test("reads a summary's own JSON too (records stored before the stored form)", () => {
    const summary = summarizeOutputs([
      { name: 'label', datatype: 'INT64', shape: [1], data: new BigInt64Array([1n]) },
      { name: 'probabilities', datatype: 'FP32', shape: [1, 2], data: new Float32Array([0.1, 0.9]) },
    ]);
    assert.deepEqual(parseStoredSummary(JSON.stringify(summary)), summary);
    // a third of the object's JSON for a classifier's one-row answer
    assert.equal(storedSummaryJson(summary), '[1,0,["label","INT64",[1],"label",[1]],["probabilities","FP32",[1,2],"scores",[1],[0.9]]]');
    assert.equal(JSON.stringify(summary).length, 267);
  });

  test('refuses stored text of another shape, naming what it expected', () => {
    assert.throws(() => parseStoredSummary('["1",0]'), /starts with its rows and omitted outputs as numbers/);
    assert.throws(() => parseStoredSummary('[1,0,["y","FP32",[1],"nonsense"]]'), /tensor 0: expected \[name, datatype, shape, kind/);
  });
});

describe('predictedRow', () => {
  const { pick, tensor } = outputsGenerator(424242);
  test('gives every row the prediction its summary gives, for 2,000 generated responses', () => {
    for (const options of [{ maxRows: 1000 }, { maxRows: 3, maxOutputs: 2, maxStringLength: 8, maxRowWidth: 2 }]) {
      const resolved = resolveSummaryOptions(options);
      for (let k = 0; k < 1000; k++) {
        const outputs = Array.from({ length: pick([1, 1, 2, 4]) }, (_, i) => tensor(i));
        const summary = summarizeOutputs(outputs, options);
        const rows = Math.min(outputs[0]?.shape[0] ?? 1, resolved.maxRows);
        for (let r = 0; r < rows; r++) assert.deepEqual(predictedRow(outputs, r, resolved), predictedAt(summary.tensors, r), `case ${k} row ${r}`);
      }
    }
  });
});
