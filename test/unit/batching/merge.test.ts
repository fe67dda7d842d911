import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Tensor } from '../../../src/core/index.js';
import { batchKeyOf, canMergeSignature, concatInputs, splitOutputs } from '../../../src/serving/batching/index.js';

describe('canMergeSignature', () => {
  test('accepts a model whose every input and output has a dynamic first dimension', () => {
    assert.equal(
      canMergeSignature({
        inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
        outputs: [
          { name: 'y', datatype: 'FP32', shape: [-1, 4] },
          { name: 'label', datatype: 'INT64', shape: [-1] },
        ],
      }),
      true,
    );
  });

  test('refuses fixed batch dimensions, scalar outputs and empty signatures', () => {
    assert.equal(canMergeSignature({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 2] }] }), false);
    assert.equal(canMergeSignature({ inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 2] }] }), false);
    assert.equal(canMergeSignature({ inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }], outputs: [{ name: 'loss', datatype: 'FP32', shape: [] }] }), false);
    assert.equal(canMergeSignature({ inputs: [], outputs: [] }), false);
  });
});

describe('batchKeyOf', () => {
  const t = (name: string, shape: number[], datatype: Tensor['datatype'] = 'FP32'): Tensor => ({ name, datatype, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });

  test('gives equal keys to requests that differ only in row count and input order', () => {
    const a = batchKeyOf([t('x', [1, 3]), t('z', [1])], undefined);
    const b = batchKeyOf([t('z', [5]), t('x', [5, 3])], undefined);
    assert.equal(a?.rows, 1);
    assert.equal(b?.rows, 5);
    assert.equal(a?.key, b?.key);
  });

  test('gives different keys for other trailing dims, datatypes or outputs asked for', () => {
    const base = batchKeyOf([t('x', [2, 3])], undefined)?.key;
    assert.notEqual(batchKeyOf([t('x', [2, 4])], undefined)?.key, base);
    assert.notEqual(batchKeyOf([t('x', [2, 3], 'FP64')], undefined)?.key, base);
    assert.notEqual(batchKeyOf([t('x', [2, 3])], ['y'])?.key, base);
  });

  test('refuses requests whose inputs disagree on the row count, scalars and empty batches', () => {
    assert.equal(batchKeyOf([t('x', [2, 3]), t('z', [3])], undefined), undefined);
    assert.equal(batchKeyOf([t('x', [])], undefined), undefined);
    assert.equal(batchKeyOf([t('x', [0, 3])], undefined), undefined);
    assert.equal(batchKeyOf([], undefined), undefined);
  });
});

describe('concatInputs and splitOutputs', () => {
  test('round-trip every element type, each caller getting its own rows', () => {
    const callers: Tensor[][] = [1, 3, 2].map((rows, c) => [
      { name: 'f', datatype: 'FP32', shape: [rows, 2], data: Float32Array.from({ length: rows * 2 }, (_, i) => c * 100 + i + 0.5) },
      { name: 'i', datatype: 'INT64', shape: [rows], data: BigInt64Array.from({ length: rows }, (_, i) => BigInt(c * 1000 + i) - 5n) },
      { name: 'b', datatype: 'BOOL', shape: [rows, 1], data: Uint8Array.from({ length: rows }, (_, i) => (c + i) % 2) },
      { name: 'h', datatype: 'FP16', shape: [rows], data: Uint16Array.from({ length: rows }, (_, i) => 0x3c00 + c + i) },
      { name: 's', datatype: 'BYTES', shape: [rows], data: Array.from({ length: rows }, (_, i) => `caller${c}-row${i}`) },
    ]);
    const merged = concatInputs(callers);
    assert.deepEqual(
      merged.map((m) => m.shape),
      [[6, 2], [6], [6, 1], [6], [6]],
    );
    assert.ok(merged[0]?.data instanceof Float32Array);
    assert.ok(merged[1]?.data instanceof BigInt64Array);
    assert.ok(Array.isArray(merged[4]?.data));
    // an identity model: the outputs are the merged inputs
    const split = splitOutputs(merged, [1, 3, 2]);
    assert.ok(split);
    assert.deepEqual(split, callers);
  });

  test('splits outputs whose trailing shape differs from the inputs (e.g. class scores)', () => {
    const scores: Tensor = { name: 'p', datatype: 'FP64', shape: [3, 4], data: Float64Array.from({ length: 12 }, (_, i) => i) };
    const split = splitOutputs([scores], [2, 1]);
    assert.deepEqual(split?.[0]?.[0], { name: 'p', datatype: 'FP64', shape: [2, 4], data: Float64Array.from([0, 1, 2, 3, 4, 5, 6, 7]) });
    assert.deepEqual(split?.[1]?.[0], { name: 'p', datatype: 'FP64', shape: [1, 4], data: Float64Array.from([8, 9, 10, 11]) });
  });

  test('gives each caller its own buffer, not a view shared with batch-mates', () => {
    const out: Tensor = { name: 'y', datatype: 'FP32', shape: [2], data: new Float32Array([1, 2]) };
    const split = splitOutputs([out], [1, 1]);
    const a = split?.[0]?.[0]?.data as Float32Array;
    const b = split?.[1]?.[0]?.data as Float32Array;
    assert.notEqual(a.buffer, b.buffer);
    assert.notEqual(a.buffer, out.data instanceof Float32Array ? out.data.buffer : undefined);
  });

  test('refuses to split an output whose first dimension is not the total row count', () => {
    assert.equal(splitOutputs([{ name: 'y', datatype: 'FP32', shape: [1, 2], data: new Float32Array(2) }], [1, 1]), undefined);
    assert.equal(splitOutputs([{ name: 'y', datatype: 'FP32', shape: [], data: new Float32Array(1) }], [1, 1]), undefined);
  });

  test('concatenates inputs that are views into a larger buffer', () => {
    const backing = new Float32Array([9, 9, 1, 2, 3, 4, 9]);
    const a: Tensor = { name: 'x', datatype: 'FP32', shape: [1, 2], data: backing.subarray(2, 4) };
    const b: Tensor = { name: 'x', datatype: 'FP32', shape: [1, 2], data: backing.subarray(4, 6) };
    assert.deepEqual(Array.from(concatInputs([[a], [b]])[0]?.data as Float32Array), [1, 2, 3, 4]);
  });
});
