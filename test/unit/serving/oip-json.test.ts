import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { float32ToFloat16Bits, PlatformError, type ModelSignature } from '../../../src/core/index.js';
import { decodeInferenceRequest, encodeOutputs, MAX_DATA_DEPTH, tensorDataToJson } from '../../../src/serving/index.js';

const sig: ModelSignature = {
  inputs: [
    { name: 'x', datatype: 'FP32', shape: [-1, 3] },
    { name: 'mask', datatype: 'BOOL', shape: [-1] },
  ],
  outputs: [
    { name: 'y', datatype: 'FP32', shape: [-1, 1] },
    { name: 'label', datatype: 'INT64', shape: [-1] },
  ],
};

function rejects(body: unknown, code: string, field: RegExp, signature = sig): PlatformError {
  try {
    decodeInferenceRequest(body, signature);
  } catch (error) {
    assert.ok(error instanceof PlatformError, `expected PlatformError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, field);
    return error;
  }
  assert.fail(`expected ${code}`);
}

interface Body {
  inputs: { name: string; shape: number[]; datatype: string; data: unknown[] }[];
  [key: string]: unknown;
}

const ok = (over: Record<string, unknown> = {}): Body => ({
  inputs: [
    { name: 'x', shape: [2, 3], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6] },
    { name: 'mask', shape: [2], datatype: 'BOOL', data: [true, false] },
  ],
  ...over,
});

describe('decodeInferenceRequest', () => {
  test('decodes flat and nested data into typed arrays and keeps the id', () => {
    const flat = decodeInferenceRequest(ok({ id: 'abc' }), sig);
    assert.equal(flat.id, 'abc');
    assert.deepEqual([...(flat.inputs[0]!.data as Float32Array)], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...(flat.inputs[1]!.data as Uint8Array)], [1, 0]);
    const nested = decodeInferenceRequest(
      { inputs: [{ name: 'x', shape: [2, 3], datatype: 'FP32', data: [[1, 2, 3], [4, 5, 6]] }, { name: 'mask', shape: [2], datatype: 'BOOL', data: [1, 0] }] },
      sig,
    );
    assert.deepEqual([...(nested.inputs[0]!.data as Float32Array)], [1, 2, 3, 4, 5, 6]);
    assert.equal(nested.outputs, undefined);
  });

  test('refuses a body that is not an object, or has no inputs', () => {
    rejects([1, 2], 'SERVING_INVALID_REQUEST', /request body/);
    rejects({}, 'SERVING_INVALID_REQUEST', /^inputs:/);
    rejects({ inputs: [] }, 'SERVING_INVALID_REQUEST', /^inputs:/);
  });

  test('names an unknown input and lists the model inputs', () => {
    const e = rejects(ok({ inputs: [{ name: 'z', shape: [1], datatype: 'FP32', data: [1] }] }), 'SERVING_UNKNOWN_INPUT', /inputs\[0\]\.name: .*'z'.*x, mask/);
    assert.deepEqual(e.details?.expected, ['x', 'mask']);
  });

  test('names a missing input', () => {
    rejects({ inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] }, 'SERVING_MISSING_INPUT', /'mask'/);
  });

  test('refuses a datatype other than the model declares', () => {
    const body = ok();
    body.inputs[0]!.datatype = 'FP64';
    rejects(body, 'SERVING_DATATYPE_MISMATCH', /inputs\[0\]\.datatype: .*FP32.*got FP64/);
  });

  test('refuses an unknown datatype string', () => {
    const body = ok();
    body.inputs[0]!.datatype = 'FLOAT';
    rejects(body, 'SERVING_INVALID_REQUEST', /inputs\[0\]\.datatype: expected one of BOOL/);
  });

  test('refuses a wrong rank and a wrong fixed dimension', () => {
    const rank = ok();
    rank.inputs[0]!.shape = [6];
    rejects(rank, 'SERVING_SHAPE_MISMATCH', /rank 2/);
    const dim = ok();
    dim.inputs[0]!.shape = [3, 2];
    rejects(dim, 'SERVING_SHAPE_MISMATCH', /inputs\[0\]\.shape\[1\]: .*at 3.*got 2/);
  });

  test('explains a batch of 2 sent to a model whose batch dimension is fixed at 1', () => {
    const fixed: ModelSignature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2] }], outputs: [] };
    rejects({ inputs: [{ name: 'x', shape: [2, 2], datatype: 'FP32', data: [1, 2, 3, 4] }] }, 'SERVING_SHAPE_MISMATCH', /fixes its batch dimension at 1/, fixed);
  });

  test('refuses data whose length does not match the shape', () => {
    const body = ok();
    body.inputs[0]!.data = [1, 2, 3, 4, 5];
    rejects(body, 'SERVING_DATA_LENGTH_MISMATCH', /needs 6 elements, got 5/);
    body.inputs[0]!.data = [1, 2, 3, 4, 5, 6, 7];
    rejects(body, 'SERVING_DATA_LENGTH_MISMATCH', /got 7/);
  });

  test('names the element that is not valid for the datatype', () => {
    const body = ok();
    body.inputs[0]!.data = [1, 2, 'three', 4, 5, 6];
    rejects(body, 'SERVING_INVALID_DATA', /inputs\[0\]\.data\[2\]: expected a number for FP32/);
    const ints: ModelSignature = { inputs: [{ name: 'b', datatype: 'UINT8', shape: [-1] }], outputs: [] };
    rejects({ inputs: [{ name: 'b', shape: [2], datatype: 'UINT8', data: [1, 300] }] }, 'SERVING_INVALID_DATA', /data\[1\].*\[0, 255\]/, ints);
    rejects({ inputs: [{ name: 'b', shape: [2], datatype: 'UINT8', data: [1, 1.5] }] }, 'SERVING_INVALID_DATA', /an integer/, ints);
  });

  test('refuses data nested deeper than MAX_DATA_DEPTH with a 400 naming the field, not a stack overflow (found by the fuzz test)', () => {
    const body = ok();
    // 200,000 levels: JSON.parse builds it, and a recursive walk would overflow the stack
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    body.inputs[0]!.data = [deep];
    const error = rejects(body, 'SERVING_INVALID_REQUEST', new RegExp(`inputs\\[0\\]\\.data(\\[0\\]){${MAX_DATA_DEPTH}}: data is nested more than ${MAX_DATA_DEPTH} lists deep`));
    assert.equal(error.kind, 'invalid');
    // nesting up to the bound is still read, as deep as the shape or deeper
    let nested: unknown = [1, 2, 3, 4, 5, 6];
    for (let i = 1; i < MAX_DATA_DEPTH; i++) nested = [nested];
    body.inputs[0]!.data = nested as unknown[];
    assert.deepEqual([...(decodeInferenceRequest(body, sig).inputs[0]!.data as Float32Array)], [1, 2, 3, 4, 5, 6]);
  });

  test('refuses negative or fractional dimensions', () => {
    const body = ok();
    body.inputs[0]!.shape = [2, -3];
    rejects(body, 'SERVING_INVALID_REQUEST', /inputs\[0\]\.shape\[1\]/);
  });

  test('accepts the outputs filter and refuses an unknown output name', () => {
    const req = decodeInferenceRequest(ok({ outputs: [{ name: 'label' }] }), sig);
    assert.deepEqual(req.outputs, ['label']);
    rejects(ok({ outputs: [{ name: 'nope' }] }), 'SERVING_UNKNOWN_OUTPUT', /outputs\[0\]\.name: .*'nope'.*y, label/);
  });

  test('refuses an empty outputs list, which onnxruntime would refuse obscurely (found by the fuzz test)', () => {
    const error = rejects(ok({ outputs: [] }), 'SERVING_INVALID_REQUEST', /^outputs: expected at least one requested output; leave "outputs" out/);
    assert.deepEqual(error.details, { field: 'outputs' });
  });

  test('refuses the binary tensor extension with a clear message', () => {
    rejects(ok({ parameters: { binary_data_output: true } }), 'SERVING_INVALID_REQUEST', /binary tensor extension/);
  });

  test('converts every datatype, including 64-bit integers, FP16 and BYTES', () => {
    const all: ModelSignature = {
      inputs: [
        { name: 'i64', datatype: 'INT64', shape: [2] },
        { name: 'u64', datatype: 'UINT64', shape: [1] },
        { name: 'h', datatype: 'FP16', shape: [2] },
        { name: 's', datatype: 'BYTES', shape: [2] },
        { name: 'i8', datatype: 'INT8', shape: [1] },
      ],
      outputs: [],
    };
    const req = decodeInferenceRequest(
      {
        inputs: [
          { name: 'i64', shape: [2], datatype: 'INT64', data: [-5, '9007199254740993'] },
          { name: 'u64', shape: [1], datatype: 'UINT64', data: [7] },
          { name: 'h', shape: [2], datatype: 'FP16', data: [1.5, -2] },
          { name: 's', shape: [2], datatype: 'BYTES', data: ['a', 'bé'] },
          { name: 'i8', shape: [1], datatype: 'INT8', data: [-128] },
        ],
      },
      all,
    );
    assert.deepEqual([...(req.inputs[0]!.data as BigInt64Array)], [-5n, 9007199254740993n]);
    assert.deepEqual([...(req.inputs[2]!.data as Uint16Array)], [float32ToFloat16Bits(1.5), float32ToFloat16Bits(-2)]);
    assert.deepEqual(req.inputs[3]!.data, ['a', 'bé']);
    rejects({ inputs: [{ name: 'u64', shape: [1], datatype: 'UINT64', data: [-1] }] }, 'SERVING_INVALID_DATA', /u64|data\[0\]/, { inputs: [all.inputs[1]!], outputs: [] });
  });
});

describe('encodeOutputs', () => {
  test('turns typed arrays into JSON values: BOOL as booleans, NaN as null, INT64 as numbers', () => {
    assert.deepEqual(tensorDataToJson('BOOL', new Uint8Array([1, 0])), [true, false]);
    assert.deepEqual(tensorDataToJson('FP32', new Float32Array([0.5, NaN])), [0.5, null]);
    assert.deepEqual(tensorDataToJson('INT64', new BigInt64Array([3n, -4n])), [3, -4]);
    assert.deepEqual(tensorDataToJson('FP16', new Uint16Array([float32ToFloat16Bits(0.25)])), [0.25]);
    const [out] = encodeOutputs([{ name: 'y', datatype: 'FP32', shape: [1, 1], data: new Float32Array([2]) }]);
    assert.deepEqual(out, { name: 'y', datatype: 'FP32', shape: [1, 1], data: [2] });
  });
});
