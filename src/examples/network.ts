/**
 * A feed-forward network of dense layers: the form every example model takes, whether it was
 * trained as a logistic regression or an MLP. The forward pass here is the TypeScript reference
 * the exported ONNX graph is checked against.
 */
import { ExamplesErrors } from './errors.js';
import { createMatrix, type Matrix } from './matrix.js';

/** A layer's non-linearity. */
export type Activation = 'relu' | 'identity';

/** What the last layer's output goes through: a softmax over classes or nothing (regression). */
export type OutputHead = 'softmax' | 'identity';

/** One fully connected layer: `activation(x · weights + bias)`. */
export interface DenseLayer {
  readonly inputs: number;
  readonly outputs: number;
  /** Row-major [inputs][outputs], the layout of an ONNX Gemm's B operand with transB = 0. */
  readonly weights: Float64Array;
  readonly bias: Float64Array;
  readonly activation: Activation;
}

/** Dense layers applied in order, then the output head. */
export interface DenseNetwork {
  readonly layers: readonly DenseLayer[];
  readonly head: OutputHead;
}

/** Checks that consecutive layers fit together and that each holds the right number of values. */
export function assertNetwork(network: DenseNetwork): void {
  let width: number | undefined;
  network.layers.forEach((l, i) => {
    if (l.weights.length !== l.inputs * l.outputs || l.bias.length !== l.outputs) {
      throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`network: layer ${i} holds ${l.weights.length} weights and ${l.bias.length} biases for ${l.inputs} → ${l.outputs}`);
    }
    if (width !== undefined && width !== l.inputs) {
      throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`network: layer ${i} takes ${l.inputs} inputs but the layer before gives ${width}`);
    }
    width = l.outputs;
  });
  if (width === undefined) throw ExamplesErrors.EXAMPLES_TRAINING_INVALID('network: needs at least one layer');
}

/** Applies one layer (including its activation) to a batch. */
export function applyLayer(layer: DenseLayer, x: Matrix): Matrix {
  if (x.cols !== layer.inputs) throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`network: batch has ${x.cols} columns, the layer takes ${layer.inputs}`);
  const { inputs, outputs, weights, bias } = layer;
  const out = createMatrix(x.rows, outputs);
  const o = out.data;
  const xd = x.data;
  for (let r = 0; r < x.rows; r++) {
    const ob = r * outputs;
    for (let j = 0; j < outputs; j++) o[ob + j] = bias[j] as number;
    const xb = r * inputs;
    for (let k = 0; k < inputs; k++) {
      const v = xd[xb + k] as number;
      if (v === 0) continue;
      const wb = k * outputs;
      for (let j = 0; j < outputs; j++) o[ob + j] = (o[ob + j] as number) + v * (weights[wb + j] as number);
    }
    if (layer.activation === 'relu') for (let j = 0; j < outputs; j++) if ((o[ob + j] as number) < 0) o[ob + j] = 0;
  }
  return out;
}

/** Replaces each row by its softmax (max-subtracted for stability), in place. */
export function softmaxRows(m: Matrix): Matrix {
  for (let r = 0; r < m.rows; r++) {
    const b = r * m.cols;
    let max = -Infinity;
    for (let j = 0; j < m.cols; j++) max = Math.max(max, m.data[b + j] as number);
    let sum = 0;
    for (let j = 0; j < m.cols; j++) {
      const e = Math.exp((m.data[b + j] as number) - max);
      m.data[b + j] = e;
      sum += e;
    }
    for (let j = 0; j < m.cols; j++) m.data[b + j] = (m.data[b + j] as number) / sum;
  }
  return m;
}

/** Runs the network on a batch: class probabilities for a softmax head, raw outputs otherwise. */
export function forward(network: DenseNetwork, x: Matrix): Matrix {
  let a = x;
  for (const layer of network.layers) a = applyLayer(layer, a);
  return network.head === 'softmax' ? softmaxRows(a) : a;
}

/** The index of each row's largest value (the first one on a tie, as ONNX ArgMax does). */
export function argmaxRows(m: Matrix): Int32Array {
  const out = new Int32Array(m.rows);
  for (let r = 0; r < m.rows; r++) {
    let best = 0;
    for (let j = 1; j < m.cols; j++) if ((m.data[r * m.cols + j] as number) > (m.data[r * m.cols + best] as number)) best = j;
    out[r] = best;
  }
  return out;
}

/** The number of weights and biases. */
export function parameterCount(network: DenseNetwork): number {
  return network.layers.reduce((n, l) => n + l.weights.length + l.bias.length, 0);
}

/**
 * Rounds every weight to the nearest float32. The exported graph computes in float32, so the
 * TypeScript reference and the held-out metrics use exactly the weights that ship.
 */
export function roundNetworkToFloat32(network: DenseNetwork): DenseNetwork {
  return {
    head: network.head,
    layers: network.layers.map((l) => ({ ...l, weights: Float64Array.from(l.weights, Math.fround), bias: Float64Array.from(l.bias, Math.fround) })),
  };
}
