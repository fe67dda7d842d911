/**
 * Tiny ONNX models whose faults are real: the real-server run of the rollout benchmark
 * (real-server.ts) serves them, so errors and latency come from onnxruntime itself, not from a
 * wrapper that fakes them.
 *
 * Input `x`: FP32 [batch, 1]. The graph casts x to INT64 and gathers row ⌊x⌋ of a constant table
 * with `tableSize` rows; onnxruntime refuses an index outside the table ("indices element out of
 * data bounds"), so a request fails exactly when x ≥ tableSize. A client drawing x uniformly in
 * [0, 100) therefore sees a share (100 − tableSize) / 100 of failures: tableSize 99 fails 1 %, 97
 * fails 3 %. After the gather, `rounds` chained MatMuls with a `width` × `width` identity matrix give
 * the model its compute (its latency); the answer is the row's sum, [batch, 1].
 */
import { buildModel, type NodeSpec } from '../../src/onnx/index.js';

/** What one fault model does. */
export interface FaultModelOptions {
  /** Rows of the lookup table: a request with x ≥ tableSize fails. Whole number in [1, 100]. */
  readonly tableSize: number;
  /** MatMuls chained after the gather (0: none): the model's compute. */
  readonly rounds: number;
  /** Width n of each row and of the n × n matrix. */
  readonly width: number;
  /**
   * A value stored in an initializer no node reads. Two models that differ only here answer alike
   * but have different bytes, so the registry stores them as two versions instead of one.
   */
  readonly tag?: number;
}

/** The range a client draws x from: uniform in [0, X_RANGE). */
export const X_RANGE = 100;

/** The table size that makes a share `errorRate` of uniform x in [0, 100) fail (0.01 → 99). */
export function tableSizeFor(errorRate: number): number {
  const size = Math.round(X_RANGE * (1 - errorRate));
  if (!(size >= 1 && size <= X_RANGE) || Math.abs(size - X_RANGE * (1 - errorRate)) > 1e-9) {
    throw new Error(`error rate ${errorRate} is not a whole number of percent in [0, 0.99]`);
  }
  return size;
}

/** Builds a fault model (see the module comment). */
export function faultModel(options: FaultModelOptions): Uint8Array {
  const { tableSize, rounds, width } = options;
  if (!Number.isInteger(tableSize) || tableSize < 1 || tableSize > X_RANGE) throw new Error(`tableSize must be a whole number in [1, ${X_RANGE}], got ${tableSize}`);
  if (!Number.isInteger(rounds) || rounds < 0) throw new Error(`rounds must be a whole number ≥ 0, got ${rounds}`);
  if (!Number.isInteger(width) || width < 1) throw new Error(`width must be a whole number ≥ 1, got ${width}`);
  // Row i of the table is (i, 0, …, 0) / width, so the answer is ⌊x⌋ / width: it tells rows apart
  // and stays small through the identity MatMuls.
  const table = new Float32Array(tableSize * width);
  for (let i = 0; i < tableSize; i++) table[i * width] = i / width;
  const identity = new Float32Array(width * width);
  for (let i = 0; i < width; i++) identity[i * width + i] = 1;
  const nodes: NodeSpec[] = [
    // FP32 → INT64 truncates toward zero: ⌊x⌋ for x ≥ 0
    { opType: 'Cast', inputs: ['x'], outputs: ['index2d'], attributes: { to: { i: 7 } } },
    { opType: 'Reshape', inputs: ['index2d', 'flat'], outputs: ['index'] },
    { opType: 'Gather', inputs: ['table', 'index'], outputs: ['h0'], attributes: { axis: { i: 0 } } },
  ];
  for (let r = 0; r < rounds; r++) nodes.push({ opType: 'MatMul', inputs: [`h${r}`, 'w'], outputs: [`h${r + 1}`] });
  nodes.push({ opType: 'ReduceSum', inputs: [`h${rounds}`, 'axes'], outputs: ['y'], attributes: { keepdims: { i: 1 } } });
  return buildModel({
    graph: {
      name: 'fault-model',
      inputs: [{ name: 'x', elemType: 'FLOAT', shape: ['batch', 1] }],
      outputs: [{ name: 'y', elemType: 'FLOAT', shape: ['batch', 1] }],
      initializers: [
        { name: 'table', elemType: 'FLOAT', dims: [tableSize, width], values: table },
        { name: 'flat', elemType: 'INT64', dims: [1], values: [-1] },
        { name: 'axes', elemType: 'INT64', dims: [1], values: [1] },
        ...(rounds > 0 ? [{ name: 'w', elemType: 'FLOAT' as const, dims: [width, width], values: identity }] : []),
        ...(options.tag === undefined ? [] : [{ name: 'unused_tag', elemType: 'FLOAT' as const, dims: [1], values: [options.tag] }]),
      ],
      nodes,
    },
    opsets: [{ domain: '', version: 13 }],
  });
}
