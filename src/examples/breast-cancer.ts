/**
 * The `breast-cancer` example: a binary logistic regression on the 30 nucleus measurements of
 * the Breast Cancer Wisconsin (Diagnostic) data. Label 1 is benign, as in scikit-learn.
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

/** Hyper-parameters, kept here so the docs and metadata quote the values that ran. */
export const BREAST_CANCER_TRAINING = { l2: 0.01, iterations: 400, learningRate: 0.05 } as const;

/** Trains, evaluates and exports the breast-cancer classifier. */
export function trainBreastCancer(dataset: LoadedDataset, seed = 20240501): TrainedExample {
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
      network: trainLogisticRegression(x, y, { classes: 2, ...BREAST_CANCER_TRAINING }),
      architecture: 'standardise (Sub, Div) → binary logistic regression exported as a 2-class Gemm → Softmax; label = ArgMax',
      training: { algorithm: 'binary logistic regression, full-batch Adam on mean log-loss + L2', ...BREAST_CANCER_TRAINING },
    }),
  });
}
