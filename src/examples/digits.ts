/**
 * The `digits` example: an MLP that reads 8×8 handwritten digits (64 pixel counts, 0–16).
 */
import { DIGITS_DATASET, type LoadedDataset } from './datasets.js';
import { buildClassifierExample, type TrainedExample } from './example.js';
import { trainMlp } from './mlp.js';

/** The 64 pixel columns, row-major: pixel_0_0 … pixel_7_7. */
export const DIGITS_FEATURES: readonly string[] = Array.from({ length: 64 }, (_, i) => `pixel_${Math.floor(i / 8)}_${i % 8}`);

/** Hyper-parameters, kept here so the docs and metadata quote the values that ran. */
export const DIGITS_TRAINING = {
  hiddenSizes: [64],
  epochs: 15,
  batchSize: 32,
  learningRate: 0.005,
  finalLearningRate: 0.0003,
  l2: 0.002,
} as const;

/** Trains, evaluates and exports the digits classifier. */
export function trainDigits(dataset: LoadedDataset, seed = 20240502): TrainedExample {
  if (dataset.info !== DIGITS_DATASET) throw new TypeError('trainDigits needs the digits dataset');
  return buildClassifierExample({
    name: 'digits',
    title: 'Handwritten digits (MLP)',
    description: 'Recognises a handwritten digit 0–9 from an 8×8 image of pixel counts (0–16), row-major.',
    dataset,
    seed,
    featureNames: DIGITS_FEATURES,
    target: 'target',
    classLabels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    testFraction: 0.2,
    minAccuracy: 0.95,
    fit: (x, y, fitSeed) => ({
      network: trainMlp(x, y, { ...DIGITS_TRAINING, output: { kind: 'softmax', classes: 10 }, seed: fitSeed }).network,
      architecture: `standardise (Sub, Div) → Gemm 64→${DIGITS_TRAINING.hiddenSizes.join('→')} + ReLU → Gemm →10 → Softmax; label = ArgMax`,
      training: { algorithm: 'MLP, mini-batch Adam on cross-entropy + L2, cosine learning-rate decay', ...DIGITS_TRAINING },
    }),
  });
}
