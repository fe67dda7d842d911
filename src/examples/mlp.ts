/**
 * A multi-layer perceptron trained with mini-batch Adam: ReLU hidden layers, then a softmax
 * output with cross-entropy loss (classification) or a linear output with squared loss
 * (regression), with L2 regularisation on the weights (not the biases).
 */
import { createAdam } from './adam.js';
import { ExamplesErrors } from './errors.js';
import { createMatrix, type Matrix } from './matrix.js';
import { applyLayer, type DenseLayer, type DenseNetwork } from './network.js';
import { createRandom } from './random.js';

/** How to train an MLP. */
export interface MlpOptions {
  /** Widths of the hidden layers, e.g. `[64]` or `[64, 32]`; `[]` gives a linear or logistic model. */
  readonly hiddenSizes: readonly number[];
  /** `softmax` with this many classes (labels 0..classes-1), or `linear` with one output. */
  readonly output: { readonly kind: 'softmax'; readonly classes: number } | { readonly kind: 'linear' };
  readonly epochs: number;
  readonly batchSize: number;
  /** Adam step size at the first epoch. */
  readonly learningRate: number;
  /** Step size at the last epoch; the rate follows a cosine from `learningRate` down to this. Default: `learningRate`. */
  readonly finalLearningRate?: number;
  /** L2 penalty λ: the loss gains λ/2 · Σ w² over all weights. Default 0. */
  readonly l2?: number;
  /** Seeds the initial weights and the mini-batch order. */
  readonly seed: number;
}

/** A trained MLP and its mean training loss after each epoch. */
export interface MlpResult {
  readonly network: DenseNetwork;
  readonly lossHistory: readonly number[];
}

/** Trains an MLP on rows of `x` with targets `y` (class labels, or regression targets). */
export function trainMlp(x: Matrix, y: ArrayLike<number>, options: MlpOptions): MlpResult {
  validate(x, y, options);
  const random = createRandom(options.seed);
  const outputs = options.output.kind === 'softmax' ? options.output.classes : 1;
  const widths = [x.cols, ...options.hiddenSizes, outputs];
  const layers: DenseLayer[] = [];
  for (let l = 0; l + 1 < widths.length; l++) {
    const inputs = widths[l] as number;
    const outs = widths[l + 1] as number;
    const hidden = l + 2 < widths.length;
    // He initialisation for ReLU layers, Glorot-like fan-in scaling for the output layer.
    const sd = Math.sqrt((hidden ? 2 : 1) / inputs);
    const weights = new Float64Array(inputs * outs);
    for (let i = 0; i < weights.length; i++) weights[i] = random.normal() * sd;
    layers.push({ inputs, outputs: outs, weights, bias: new Float64Array(outs), activation: hidden ? 'relu' : 'identity' });
  }
  const params = layers.flatMap((l) => [l.weights, l.bias]);
  const grads = params.map((p) => new Float64Array(p.length));
  const adam = createAdam(params, { learningRate: options.learningRate });
  const l2 = options.l2 ?? 0;
  const finalRate = options.finalLearningRate ?? options.learningRate;
  const order = Array.from({ length: x.rows }, (_, i) => i);
  const lossHistory: number[] = [];

  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const progress = options.epochs === 1 ? 0 : epoch / (options.epochs - 1);
    const rate = finalRate + ((options.learningRate - finalRate) * (1 + Math.cos(Math.PI * progress))) / 2;
    random.shuffle(order);
    let lossSum = 0;
    for (let start = 0; start < order.length; start += options.batchSize) {
      const batch = order.slice(start, start + options.batchSize);
      lossSum += batchStep(layers, grads, x, y, batch, options.output.kind, l2) * batch.length;
      adam.step(grads, rate);
    }
    lossHistory.push(lossSum / x.rows);
  }
  const network: DenseNetwork = { layers, head: options.output.kind === 'softmax' ? 'softmax' : 'identity' };
  return { network, lossHistory };
}

/**
 * The mean loss over all rows of `x` (without the L2 term) and its gradients with respect to each
 * layer's weights and bias (with the L2 term), in the order weights₀, bias₀, weights₁, …. The
 * trainer uses the same code per mini-batch; it is exported so tests can check it against finite
 * differences.
 */
export function lossAndGradients(
  network: DenseNetwork,
  x: Matrix,
  y: ArrayLike<number>,
  kind: 'softmax' | 'linear',
  l2 = 0,
): { readonly loss: number; readonly gradients: Float64Array[] } {
  const gradients = network.layers.flatMap((l) => [new Float64Array(l.weights.length), new Float64Array(l.bias.length)]);
  const rows = Array.from({ length: x.rows }, (_, i) => i);
  return { loss: batchStep(network.layers, gradients, x, y, rows, kind, l2), gradients };
}

function validate(x: Matrix, y: ArrayLike<number>, o: MlpOptions): void {
  const fail = (message: string): never => {
    throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`mlp: ${message}`);
  };
  if (x.rows === 0) fail('needs at least one training row');
  if (y.length !== x.rows) fail(`${y.length} targets for ${x.rows} rows`);
  if (!(Number.isInteger(o.epochs) && o.epochs >= 1)) fail(`epochs must be an integer ≥ 1, got ${o.epochs}`);
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1)) fail(`batchSize must be an integer ≥ 1, got ${o.batchSize}`);
  if (o.hiddenSizes.some((h) => !(Number.isInteger(h) && h >= 1))) fail(`hiddenSizes must be integers ≥ 1, got [${o.hiddenSizes.join(', ')}]`);
  if ((o.l2 ?? 0) < 0) fail(`l2 must be ≥ 0, got ${o.l2}`);
  if (o.output.kind === 'softmax') {
    const k = o.output.classes;
    if (!(Number.isInteger(k) && k >= 2)) fail(`classes must be an integer ≥ 2, got ${k}`);
    for (let i = 0; i < y.length; i++) {
      const label = y[i] as number;
      if (!(Number.isInteger(label) && label >= 0 && label < k)) fail(`row ${i} has label ${label}, expected an integer in 0..${k - 1}`);
    }
  }
}

/**
 * Computes the gradients of one mini-batch into `grads` (weights then bias, per layer) and
 * returns the batch's mean loss (without the L2 term).
 */
function batchStep(
  layers: readonly DenseLayer[],
  grads: Float64Array[],
  x: Matrix,
  y: ArrayLike<number>,
  batch: readonly number[],
  kind: 'softmax' | 'linear',
  l2: number,
): number {
  const n = batch.length;
  // Activations: acts[0] is the input batch, acts[l + 1] the output of layer l.
  const input = createMatrix(n, x.cols);
  batch.forEach((r, i) => input.data.set(x.data.subarray(r * x.cols, (r + 1) * x.cols), i * x.cols));
  const acts: Matrix[] = [input];
  for (const layer of layers) acts.push(applyLayer(layer, acts[acts.length - 1] as Matrix));

  // Output delta: dLoss/dz for the last layer's pre-activation, already divided by the batch size.
  const out = acts[acts.length - 1] as Matrix;
  const k = out.cols;
  let delta = new Float64Array(n * k);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const target = y[batch[i] as number] as number;
    const b = i * k;
    if (kind === 'softmax') {
      let max = -Infinity;
      for (let j = 0; j < k; j++) max = Math.max(max, out.data[b + j] as number);
      let sum = 0;
      for (let j = 0; j < k; j++) sum += Math.exp((out.data[b + j] as number) - max);
      const logSum = Math.log(sum) + max;
      for (let j = 0; j < k; j++) delta[b + j] = (Math.exp((out.data[b + j] as number) - logSum) - (j === target ? 1 : 0)) / n;
      loss += logSum - (out.data[b + target] as number);
    } else {
      const err = (out.data[b] as number) - target;
      delta[b] = err / n;
      loss += 0.5 * err * err;
    }
  }

  for (let l = layers.length - 1; l >= 0; l--) {
    const layer = layers[l] as DenseLayer;
    const ad = (acts[l] as Matrix).data;
    const gw = grads[2 * l] as Float64Array;
    const gb = grads[2 * l + 1] as Float64Array;
    const { inputs, outputs, weights } = layer;
    for (let i = 0; i < gw.length; i++) gw[i] = l2 * (weights[i] as number);
    gb.fill(0);
    const dd = delta;
    for (let i = 0; i < n; i++) {
      const db = i * outputs;
      const ab = i * inputs;
      for (let j = 0; j < outputs; j++) gb[j] = (gb[j] as number) + (dd[db + j] as number);
      for (let p = 0; p < inputs; p++) {
        const av = ad[ab + p] as number;
        if (av === 0) continue;
        const wb = p * outputs;
        for (let j = 0; j < outputs; j++) gw[wb + j] = (gw[wb + j] as number) + av * (dd[db + j] as number);
      }
    }
    if (l > 0) {
      // Back through the weights, then through the ReLU of the layer below (its output is ad).
      const next = new Float64Array(n * inputs);
      for (let i = 0; i < n; i++) {
        const db = i * outputs;
        const ab = i * inputs;
        for (let p = 0; p < inputs; p++) {
          if ((ad[ab + p] as number) <= 0) continue;
          const wb = p * outputs;
          let s = 0;
          for (let j = 0; j < outputs; j++) s += (weights[wb + j] as number) * (dd[db + j] as number);
          next[ab + p] = s;
        }
      }
      delta = next;
    }
  }
  return loss / n;
}
