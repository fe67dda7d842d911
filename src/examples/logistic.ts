/**
 * Logistic regression, binary (sigmoid) and multinomial (softmax), trained full-batch with Adam
 * on the mean log-loss plus an L2 penalty. Both come out as a one-layer {@link DenseNetwork} with a
 * softmax head, the form the ONNX exporter takes.
 */
import { createAdam } from './adam.js';
import { ExamplesErrors } from './errors.js';
import type { Matrix } from './matrix.js';
import { trainMlp } from './mlp.js';
import type { DenseNetwork } from './network.js';

/** How to train a logistic regression. */
export interface LogisticRegressionOptions {
  /** Number of classes; labels are 0..classes-1. Two gives a binary (sigmoid) model. */
  readonly classes: number;
  /** L2 penalty λ on the weights (not the intercept). Default 0.01. */
  readonly l2?: number;
  /** Full-batch Adam iterations. Default 500. */
  readonly iterations?: number;
  /** Default 0.05. */
  readonly learningRate?: number;
  /** Seeds the multinomial model's initial weights; the binary model starts at zero. Default 0. */
  readonly seed?: number;
}

/** A binary logistic regression: P(class 1 | x) = σ(x · weights + bias). */
export interface BinaryLogisticModel {
  readonly weights: Float64Array;
  readonly bias: number;
}

/** Trains a binary logistic regression on labels 0/1. */
export function trainBinaryLogistic(x: Matrix, y: ArrayLike<number>, options: Omit<LogisticRegressionOptions, 'classes'> = {}): BinaryLogisticModel {
  const l2 = options.l2 ?? 0.01;
  const iterations = options.iterations ?? 500;
  if (x.rows === 0 || y.length !== x.rows) throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`logistic: ${y.length} labels for ${x.rows} rows (need ≥ 1 and equal)`);
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 0 && y[i] !== 1) throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`logistic: row ${i} has label ${y[i]}, expected 0 or 1`);
  }
  const w = new Float64Array(x.cols);
  const b = new Float64Array(1);
  const gw = new Float64Array(x.cols);
  const gb = new Float64Array(1);
  const adam = createAdam([w, b], { learningRate: options.learningRate ?? 0.05 });
  for (let it = 0; it < iterations; it++) {
    for (let c = 0; c < x.cols; c++) gw[c] = l2 * (w[c] as number);
    gb[0] = 0;
    for (let r = 0; r < x.rows; r++) {
      let z = b[0] as number;
      for (let c = 0; c < x.cols; c++) z += (x.data[r * x.cols + c] as number) * (w[c] as number);
      const err = (1 / (1 + Math.exp(-z)) - (y[r] as number)) / x.rows;
      for (let c = 0; c < x.cols; c++) gw[c] = (gw[c] as number) + err * (x.data[r * x.cols + c] as number);
      gb[0] = gb[0] + err;
    }
    adam.step([gw, gb]);
  }
  return { weights: w, bias: b[0] as number };
}

/**
 * The two-class softmax network equal to a binary model: logits [0, z] give
 * softmax = [1 − σ(z), σ(z)], so the exported graph has one shape for every classifier.
 */
export function binaryLogisticToNetwork(model: BinaryLogisticModel): DenseNetwork {
  const n = model.weights.length;
  const weights = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) weights[i * 2 + 1] = model.weights[i] as number;
  return { head: 'softmax', layers: [{ inputs: n, outputs: 2, weights, bias: Float64Array.of(0, model.bias), activation: 'identity' }] };
}

/** Trains a logistic regression (binary for two classes, multinomial otherwise) as a network. */
export function trainLogisticRegression(x: Matrix, y: ArrayLike<number>, options: LogisticRegressionOptions): DenseNetwork {
  if (options.classes === 2) return binaryLogisticToNetwork(trainBinaryLogistic(x, y, options));
  return trainMlp(x, y, {
    hiddenSizes: [],
    output: { kind: 'softmax', classes: options.classes },
    epochs: options.iterations ?? 500,
    batchSize: x.rows,
    learningRate: options.learningRate ?? 0.05,
    l2: options.l2 ?? 0.01,
    seed: options.seed ?? 0,
  }).network;
}
