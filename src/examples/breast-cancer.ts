/**
 * The `breast-cancer` example: a binary logistic regression on the 30 nucleus measurements of
 * the Breast Cancer Wisconsin (Diagnostic) data. Label 1 is benign, as in scikit-learn. It also
 * has a *candidate*: the same model retrained with a weaker L2 penalty, shipped as candidate.onnx so
 * that a newcomer has a genuinely different second version to roll out.
 */
import { BREAST_CANCER_DATASET, type LoadedDataset } from './datasets.js';
import { buildClassifierExample, type TrainedExample } from './example.js';
import { trainLogisticRegression } from './logistic.js';

const MEASUREMENTS = [
  'radius',
  'texture',
  'perimeter',
  'area',
  'smoothness',
  'compactness',
  'concavity',
  'concave points',
  'symmetry',
  'fractal dimension',
];

/** The 30 input columns, in the dataset's order: the means, the standard errors, the worst values. */
export const BREAST_CANCER_FEATURES: readonly string[] = [
  ...MEASUREMENTS.map((m) => `mean ${m}`),
  ...MEASUREMENTS.map((m) => `${m} error`),
  ...MEASUREMENTS.map((m) => `worst ${m}`),
];

/** The example's seed: it draws the split and the reference sample (the fit itself starts at zero weights). */
export const BREAST_CANCER_SEED = 20240501;

/** Hyper-parameters, kept here so the docs and metadata quote the values that ran. */
export const BREAST_CANCER_TRAINING = { l2: 0.01, iterations: 400, learningRate: 0.05 } as const;

/**
 * The candidate's hyper-parameters: only the L2 penalty changes, ten times weaker. The seed stays
 * the same on purpose: here it only draws the split (the fit is full-batch from zero weights, so
 * nothing else is random), and a new split would score the candidate on other rows — some of them
 * the current model's training rows — so the two held-out figures could not be compared.
 */
export const BREAST_CANCER_CANDIDATE_TRAINING = { l2: 0.001, iterations: 400, learningRate: 0.05 } as const;

/** The logistic-regression hyper-parameters this example takes. */
export type BreastCancerTraining = typeof BREAST_CANCER_TRAINING | typeof BREAST_CANCER_CANDIDATE_TRAINING;

/** Trains, evaluates and exports the breast-cancer classifier (model.onnx). */
export function trainBreastCancer(dataset: LoadedDataset, seed = BREAST_CANCER_SEED): TrainedExample {
  return trainWith(dataset, seed, BREAST_CANCER_TRAINING, {});
}

/**
 * Trains, evaluates and exports the candidate (candidate.onnx): the same pipeline, split and
 * held-out rows as {@link trainBreastCancer}, with {@link BREAST_CANCER_CANDIDATE_TRAINING}.
 */
export function trainBreastCancerCandidate(dataset: LoadedDataset, seed = BREAST_CANCER_SEED): TrainedExample {
  return trainWith(dataset, seed, BREAST_CANCER_CANDIDATE_TRAINING, {
    variant: `candidate: retrained with L2 λ = ${BREAST_CANCER_CANDIDATE_TRAINING.l2} instead of ${BREAST_CANCER_TRAINING.l2}, on the same training rows`,
  });
}

function trainWith(dataset: LoadedDataset, seed: number, hyper: BreastCancerTraining, note: Readonly<Record<string, string>>): TrainedExample {
  if (dataset.info !== BREAST_CANCER_DATASET) throw new TypeError('trainBreastCancer needs the breast cancer dataset');
  return buildClassifierExample({
    name: 'breast-cancer',
    title: 'Breast cancer diagnosis (logistic regression)',
    description: 'Classifies a breast mass as malignant (0) or benign (1) from 30 measurements of cell nuclei in a fine-needle aspirate image.',
    dataset,
    seed,
    featureNames: BREAST_CANCER_FEATURES,
    target: 'target',
    classLabels: ['malignant', 'benign'],
    testFraction: 0.2,
    minAccuracy: 0.95,
    fit: (x, y) => ({
      network: trainLogisticRegression(x, y, { classes: 2, ...hyper }),
      architecture: 'standardise (Sub, Div) → binary logistic regression exported as a 2-class Gemm → Softmax; label = ArgMax',
      // `note` goes last so the main model's training record (and so its bytes) stay as they were
      training: { algorithm: 'binary logistic regression, full-batch Adam on mean log-loss + L2', ...hyper, ...note },
    }),
  });
}
