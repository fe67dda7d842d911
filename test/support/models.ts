/** Small real ONNX models for integration tests, built with the toolkit (no binary fixtures). */
import { buildModel } from '../../src/onnx/index.js';

/** y = x + k for x: FP32 [batch, 4]. Different k make versions tell themselves apart. */
export function addModel(k: number): Uint8Array {
  return buildModel({
    graph: {
      inputs: [{ name: 'x', elemType: 'FLOAT', shape: ['batch', 4] }],
      outputs: [
        { name: 'y', elemType: 'FLOAT', shape: ['batch', 4] },
        { name: 'sum', elemType: 'FLOAT', shape: ['batch', 1] },
      ],
      initializers: [
        { name: 'k', elemType: 'FLOAT', dims: [1], values: [k] },
        { name: 'axes', elemType: 'INT64', dims: [1], values: [1] },
      ],
      nodes: [
        { opType: 'Add', inputs: ['x', 'k'], outputs: ['y'] },
        { opType: 'ReduceSum', inputs: ['y', 'axes'], outputs: ['sum'], attributes: { keepdims: { i: 1 } } },
      ],
    },
    opsets: [{ domain: '', version: 13 }],
  });
}

/** A model whose batch dimension is fixed at 1: x FP32 [1, 2] → y = x * 2. */
export function fixedBatchModel(): Uint8Array {
  return buildModel({
    graph: {
      inputs: [{ name: 'x', elemType: 'FLOAT', shape: [1, 2] }],
      outputs: [{ name: 'y', elemType: 'FLOAT', shape: [1, 2] }],
      initializers: [{ name: 'two', elemType: 'FLOAT', dims: [1], values: [2] }],
      nodes: [{ opType: 'Mul', inputs: ['x', 'two'], outputs: ['y'] }],
    },
  });
}

/**
 * A deliberately slow model: `rounds` chained MatMuls of x [batch, n] with an n×n weight, so a
 * request stays in flight long enough to test draining. y = x · W^rounds with W = I/1 (identity),
 * so the answer equals the input.
 */
export function slowModel(n = 512, rounds = 24): Uint8Array {
  const identity = new Float32Array(n * n);
  for (let i = 0; i < n; i++) identity[i * n + i] = 1;
  const nodes = [];
  let prev = 'x';
  for (let r = 0; r < rounds; r++) {
    const out = r === rounds - 1 ? 'y' : `h${r}`;
    nodes.push({ opType: 'MatMul', inputs: [prev, 'w'], outputs: [out] });
    prev = out;
  }
  return buildModel({
    graph: {
      inputs: [{ name: 'x', elemType: 'FLOAT', shape: ['batch', n] }],
      outputs: [{ name: 'y', elemType: 'FLOAT', shape: ['batch', n] }],
      initializers: [{ name: 'w', elemType: 'FLOAT', dims: [n, n], values: identity }],
      nodes,
    },
  });
}
