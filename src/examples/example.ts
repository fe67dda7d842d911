/**
 * What a trained example is, and the two pipelines (classifier, regressor) that turn a dataset
 * and a fitting function into one: split, standardise, fit, round to float32, evaluate on the
 * held-out rows, and export to ONNX.
 */
import { columnIndex, numericColumn, numericColumns, type CsvTable } from './csv.js';
import { attribution, type LoadedDataset } from './datasets.js';
import { ExamplesErrors } from './errors.js';
import { takeRows, takeValues, type Matrix } from './matrix.js';
import { accuracy, logLoss, mae, majorityLabel, meanOf, r2, rmse } from './metrics.js';
import { argmaxRows, forward, parameterCount, roundNetworkToFloat32, type DenseNetwork } from './network.js';
import { EXAMPLE_INPUT_NAME, exportExampleModel } from './onnx-export.js';
import { createRandom } from './random.js';
import { sampleIndices, stratifiedSplit } from './split.js';
import { encodeFeatures, type FeatureEncoding } from './encoding.js';
import { fitStandardizer, type Standardizer } from './standardize.js';

/** The names of the example models, which are also their endpoint names. */
export const EXAMPLE_NAMES = ['breast-cancer', 'digits', 'bike-sharing'] as const;
export type ExampleName = (typeof EXAMPLE_NAMES)[number];

export type ExampleTask = 'classification' | 'regression';

/** The most rows written to reference.csv. */
export const REFERENCE_SAMPLE_SIZE = 500;

/** One pass/fail rule on a held-out metric. */
export interface MetricCheck {
  /** A sentence for people, e.g. `held-out accuracy ≥ 0.95`. */
  readonly rule: string;
  readonly metric: string;
  readonly comparison: '>=' | '<=';
  readonly threshold: number;
  readonly value: number;
  readonly passed: boolean;
}

/** The TypeScript forward pass of an example on raw features. */
export type ExamplePrediction =
  | { readonly task: 'classification'; readonly labels: Int32Array; readonly probabilities: Matrix }
  | { readonly task: 'regression'; readonly values: Float64Array };

/** Which rows of the dataset went where; indices are rows of the CSV table (0 = first data row). */
export interface ExampleSplit {
  readonly description: string;
  readonly testFraction: number;
  /** Rows the split was drawn from (after any filter). */
  readonly eligibleRows: number;
  /** Rows the filter left out (bike-sharing: 2012), written as drift.csv to serve as real drift; empty without a filter. */
  readonly outside?: readonly number[];
  readonly train: readonly number[];
  readonly test: readonly number[];
  /** A sample of at most {@link REFERENCE_SAMPLE_SIZE} training rows. */
  readonly reference: readonly number[];
}

/** A trained, evaluated and exported example model. */
export interface TrainedExample {
  readonly name: ExampleName;
  readonly title: string;
  readonly description: string;
  readonly task: ExampleTask;
  readonly dataset: LoadedDataset;
  readonly seed: number;
  readonly featureNames: readonly string[];
  readonly target: string;
  /** Class names by label index (classification only). */
  readonly classLabels?: readonly string[];
  /** `log1p`: the network predicts log1p(target) and the graph applies expm1. */
  readonly targetTransform: 'none' | 'log1p';
  readonly split: ExampleSplit;
  /** Raw features → network input (standardisation, then any one-hot blocks). */
  readonly encoding: FeatureEncoding;
  readonly network: DenseNetwork;
  readonly architecture: string;
  readonly training: Readonly<Record<string, unknown>>;
  readonly heldOut: Readonly<Record<string, number>>;
  readonly trainMetrics: Readonly<Record<string, number>>;
  readonly baseline: Readonly<Record<string, number>>;
  readonly checks: readonly MetricCheck[];
  readonly passed: boolean;
  /** The held-out rows' raw features and targets. */
  readonly xTest: Matrix;
  readonly yTest: Float64Array;
  readonly modelBytes: Uint8Array;
  /** Runs the float32-rounded model in TypeScript (float64 arithmetic) on raw features. */
  predict(rawFeatures: Matrix): ExamplePrediction;
  /**
   * A retrained alternative of this model on the same split (a second version to roll out),
   * written beside it as candidate.onnx and candidate-metrics.json; absent for most examples.
   */
  readonly candidate?: TrainedExample;
}

/** The result of a fitting function: a network on standardised features, and how it was made. */
export interface FittedNetwork {
  readonly network: DenseNetwork;
  readonly architecture: string;
  readonly training: Readonly<Record<string, unknown>>;
}

interface PipelineCommon {
  readonly name: ExampleName;
  readonly title: string;
  readonly description: string;
  readonly dataset: LoadedDataset;
  readonly seed: number;
  readonly featureNames: readonly string[];
  readonly target: string;
  readonly testFraction: number;
  /** Categorical raw features to add as 0/1 indicators after the standardised columns. */
  readonly oneHot?: readonly { readonly feature: string; readonly categories: readonly number[] }[];
}

/** A classifier example: labels 0..classLabels.length-1 in the target column. */
export interface ClassifierPipeline extends PipelineCommon {
  readonly classLabels: readonly string[];
  readonly minAccuracy: number;
  fit(x: Matrix, y: Float64Array, seed: number): FittedNetwork;
}

/** A regression example, split by whole groups (e.g. days) so held-out rows are not neighbours of training rows. */
export interface RegressorPipeline extends PipelineCommon {
  /** Keeps only the rows where this column equals this value; `description` says why. */
  readonly filter?: { readonly column: string; readonly equals: number; readonly description: string };
  /** Rows with the same value here stay together on one side of the split. */
  readonly groupColumn: string;
  /** Groups are stratified by this column's value on their first row. */
  readonly stratumColumn: string;
  readonly targetTransform: 'none' | 'log1p';
  /** Held-out RMSE must be at most this multiple of the RMSE of predicting the training mean. */
  readonly maxRmseRatio: number;
  fit(x: Matrix, y: Float64Array, seed: number): FittedNetwork;
}

/**
 * Derives an independent seed for one purpose (split, weights, sample) from an example's seed, so
 * changing one use of randomness does not shift the others.
 */
export function deriveSeed(seed: number, purpose: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < purpose.length; i++) h = Math.imul(h ^ purpose.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function roundStandardizer(s: Standardizer): Standardizer {
  return { mean: Float64Array.from(s.mean, Math.fround), scale: Float64Array.from(s.scale, Math.fround) };
}

/** Fits the standardiser on the training rows and resolves the one-hot columns; rounds to float32 as exported. */
function fitEncoding(p: PipelineCommon, xTrain: Matrix): FeatureEncoding {
  const oneHot = (p.oneHot ?? []).map((o) => {
    const column = p.featureNames.indexOf(o.feature);
    if (column < 0) throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`${p.name}: one-hot feature "${o.feature}" is not one of the features`);
    return { feature: o.feature, column, categories: o.categories.map(Math.fround) };
  });
  return { standardizer: roundStandardizer(fitStandardizer(xTrain)), oneHot };
}

function check(rule: string, metric: string, comparison: '>=' | '<=', threshold: number, value: number): MetricCheck {
  return { rule, metric, comparison, threshold, value, passed: comparison === '>=' ? value >= threshold : value <= threshold };
}

function commonMetadata(p: PipelineCommon, task: ExampleTask, extra: Record<string, string>): Record<string, string> {
  return {
    'slipway.example': p.name,
    task,
    feature_names: JSON.stringify(p.featureNames),
    target: p.target,
    dataset: attribution(p.dataset.info),
    dataset_file: p.dataset.info.file,
    dataset_sha256: p.dataset.sha256,
    seed: String(p.seed),
    ...extra,
  };
}

/** Splits by class, standardises, fits, evaluates and exports a classifier. */
export function buildClassifierExample(p: ClassifierPipeline): TrainedExample {
  const table = p.dataset.table;
  const xAll = numericColumns(table, p.featureNames);
  const yAll = numericColumn(table, p.target);
  const k = p.classLabels.length;
  yAll.forEach((label, r) => {
    if (!(Number.isInteger(label) && label >= 0 && label < k)) {
      throw ExamplesErrors.EXAMPLES_CSV_INVALID(`${table.source}: line ${r + 2}, column "${p.target}": expected a class label 0..${k - 1}, got ${label}`);
    }
  });
  const split = stratifiedSplit(yAll, p.testFraction, createRandom(deriveSeed(p.seed, 'split')));
  const xTrain = takeRows(xAll, split.train);
  const yTrain = takeValues(yAll, split.train);
  const xTest = takeRows(xAll, split.test);
  const yTest = takeValues(yAll, split.test);

  const encoding = fitEncoding(p, xTrain);
  const fitted = p.fit(encodeFeatures(encoding, xTrain), yTrain, deriveSeed(p.seed, 'fit'));
  const network = roundNetworkToFloat32(fitted.network);
  const predict = (raw: Matrix): ExamplePrediction => {
    const probabilities = forward(network, encodeFeatures(encoding, raw));
    return { task: 'classification', labels: argmaxRows(probabilities), probabilities };
  };

  const test = predict(xTest) as Extract<ExamplePrediction, { task: 'classification' }>;
  const train = predict(xTrain) as Extract<ExamplePrediction, { task: 'classification' }>;
  const majority = majorityLabel(yTrain);
  const heldOut = { accuracy: accuracy(yTest, test.labels), logLoss: logLoss(yTest, test.probabilities) };
  const baseline = { accuracy: accuracy(yTest, new Float64Array(yTest.length).fill(majority)) };
  const checks = [check(`held-out accuracy ≥ ${p.minAccuracy}`, 'accuracy', '>=', p.minAccuracy, heldOut.accuracy)];
  const exampleSplit: ExampleSplit = {
    description: 'rows stratified by class',
    testFraction: p.testFraction,
    eligibleRows: table.rows.length,
    train: split.train,
    test: split.test,
    reference: pickReference(split.train, p.seed),
  };
  const modelBytes = exportExampleModel({
    graphName: p.name,
    docString: `${p.description} Input: raw features in the order of metadata feature_names. Outputs: label (class index) and probabilities (softmax).`,
    featureCount: p.featureNames.length,
    encoding,
    network,
    head: { kind: 'classifier' },
    metadata: commonMetadata(p, 'classification', {
      class_labels: JSON.stringify(p.classLabels),
      architecture: fitted.architecture,
      training: JSON.stringify(fitted.training),
      split: JSON.stringify({ method: exampleSplit.description, testFraction: p.testFraction, trainRows: split.train.length, testRows: split.test.length }),
      metrics: JSON.stringify({ heldOut, baseline }),
    }),
  });
  return {
    name: p.name,
    title: p.title,
    description: p.description,
    task: 'classification',
    dataset: p.dataset,
    seed: p.seed,
    featureNames: p.featureNames,
    target: p.target,
    classLabels: p.classLabels,
    targetTransform: 'none',
    split: exampleSplit,
    encoding,
    network,
    architecture: fitted.architecture,
    training: fitted.training,
    heldOut,
    trainMetrics: { accuracy: accuracy(yTrain, train.labels) },
    baseline,
    checks,
    passed: checks.every((c) => c.passed),
    xTest,
    yTest,
    modelBytes,
    predict,
  };
}

/** Filters, splits by group, standardises, fits (on a standardised target), evaluates and exports a regressor. */
export function buildRegressorExample(p: RegressorPipeline): TrainedExample {
  const table = p.dataset.table;
  const eligible = eligibleRows(table, p);
  const groupCol = columnIndex(table, p.groupColumn);
  const strata = numericColumn(table, p.stratumColumn);
  const groupOf = new Map<string, number>();
  const groupRows: number[][] = [];
  const groupStrata: number[] = [];
  for (const r of eligible) {
    const key = table.rows[r]?.[groupCol] ?? '';
    let g = groupOf.get(key);
    if (g === undefined) {
      g = groupRows.length;
      groupOf.set(key, g);
      groupRows.push([]);
      groupStrata.push(strata[r] as number);
    }
    groupRows[g]?.push(r);
  }
  const groupSplit = stratifiedSplit(groupStrata, p.testFraction, createRandom(deriveSeed(p.seed, 'split')));
  const rowsOf = (groups: readonly number[]): number[] => groups.flatMap((g) => groupRows[g] ?? []).sort((a, b) => a - b);
  const trainRows = rowsOf(groupSplit.train);
  const testRows = rowsOf(groupSplit.test);

  const xAll = numericColumns(table, p.featureNames);
  const yAll = numericColumn(table, p.target);
  const xTrain = takeRows(xAll, trainRows);
  const yTrain = takeValues(yAll, trainRows);
  const xTest = takeRows(xAll, testRows);
  const yTest = takeValues(yAll, testRows);
  if (p.targetTransform === 'log1p') {
    yAll.forEach((v, r) => {
      if (v <= -1) throw ExamplesErrors.EXAMPLES_CSV_INVALID(`${table.source}: line ${r + 2}, column "${p.target}": log1p needs values > -1, got ${v}`);
    });
  }

  const encoding = fitEncoding(p, xTrain);
  // Train on a standardised (optionally log1p'd) target, then fold that scaling into the last layer.
  const transformed = p.targetTransform === 'log1p' ? yTrain.map(Math.log1p) : yTrain.slice();
  const tMean = meanOf(transformed);
  const tScale = Math.sqrt(meanOf(transformed.map((v) => (v - tMean) ** 2))) || 1;
  const fitted = p.fit(
    encodeFeatures(encoding, xTrain),
    transformed.map((v) => (v - tMean) / tScale),
    deriveSeed(p.seed, 'fit'),
  );
  const network = roundNetworkToFloat32(foldTargetScaling(fitted.network, tMean, tScale));
  const predict = (raw: Matrix): ExamplePrediction => {
    const out = forward(network, encodeFeatures(encoding, raw)).data;
    return { task: 'regression', values: p.targetTransform === 'log1p' ? out.map(Math.expm1) : out };
  };

  const test = (predict(xTest) as Extract<ExamplePrediction, { task: 'regression' }>).values;
  const train = (predict(xTrain) as Extract<ExamplePrediction, { task: 'regression' }>).values;
  const trainMean = meanOf(yTrain);
  const baselineRmse = rmse(yTest, new Float64Array(yTest.length).fill(trainMean));
  const heldOutRmse = rmse(yTest, test);
  const heldOut = { rmse: heldOutRmse, mae: mae(yTest, test), r2: r2(yTest, test), rmseRatio: heldOutRmse / baselineRmse };
  const baseline = { rmse: baselineRmse, trainMean };
  const threshold = p.maxRmseRatio * baselineRmse;
  const checks = [check(`held-out RMSE ≤ ${p.maxRmseRatio} × RMSE of predicting the training mean`, 'rmse', '<=', threshold, heldOutRmse)];
  const exampleSplit: ExampleSplit = {
    description: `whole ${p.groupColumn} groups stratified by ${p.stratumColumn}${p.filter === undefined ? '' : `, ${p.filter.description}`}`,
    testFraction: p.testFraction,
    eligibleRows: eligible.length,
    train: trainRows,
    test: testRows,
    reference: pickReference(trainRows, p.seed),
    outside: outsideRows(table, eligible),
  };
  const modelBytes = exportExampleModel({
    graphName: p.name,
    docString: `${p.description} Input: raw features in the order of metadata feature_names. Output: prediction of ${p.target}.`,
    featureCount: p.featureNames.length,
    encoding,
    network,
    head: { kind: 'regressor', targetTransform: p.targetTransform },
    metadata: commonMetadata(p, 'regression', {
      target_transform: p.targetTransform === 'log1p' ? 'the network predicts log1p(target); the graph applies exp(x) - 1' : 'none',
      architecture: fitted.architecture,
      training: JSON.stringify(fitted.training),
      split: JSON.stringify({ method: exampleSplit.description, testFraction: p.testFraction, trainRows: trainRows.length, testRows: testRows.length }),
      metrics: JSON.stringify({ heldOut, baseline }),
    }),
  });
  return {
    name: p.name,
    title: p.title,
    description: p.description,
    task: 'regression',
    dataset: p.dataset,
    seed: p.seed,
    featureNames: p.featureNames,
    target: p.target,
    targetTransform: p.targetTransform,
    split: exampleSplit,
    encoding,
    network,
    architecture: fitted.architecture,
    training: fitted.training,
    heldOut,
    trainMetrics: { rmse: rmse(yTrain, train) },
    baseline,
    checks,
    passed: checks.every((c) => c.passed),
    xTest,
    yTest,
    modelBytes,
    predict,
  };
}

/** The table's rows not in `eligible` (sorted), in order. */
function outsideRows(table: CsvTable, eligible: readonly number[]): number[] {
  const inside = new Set(eligible);
  return Array.from({ length: table.rows.length }, (_, i) => i).filter((r) => !inside.has(r));
}

function eligibleRows(table: CsvTable, p: RegressorPipeline): number[] {
  const rows = Array.from({ length: table.rows.length }, (_, i) => i);
  if (p.filter === undefined) return rows;
  const { column, equals } = p.filter;
  const values = numericColumn(table, column);
  const kept = rows.filter((r) => values[r] === equals);
  if (kept.length === 0) throw ExamplesErrors.EXAMPLES_CSV_INVALID(`${table.source}: no row has ${column} = ${equals}`);
  return kept;
}

/** Multiplies the last layer by `scale` and adds `offset`, so the network outputs the unscaled target. */
function foldTargetScaling(network: DenseNetwork, offset: number, scale: number): DenseNetwork {
  const layers = [...network.layers];
  const last = layers.pop();
  if (last === undefined) throw ExamplesErrors.EXAMPLES_TRAINING_INVALID('network: needs at least one layer');
  layers.push({ ...last, weights: last.weights.map((w) => w * scale), bias: last.bias.map((b) => b * scale + offset) });
  return { ...network, layers };
}

function pickReference(trainRows: readonly number[], seed: number): number[] {
  return sampleIndices(trainRows.length, REFERENCE_SAMPLE_SIZE, createRandom(deriveSeed(seed, 'reference'))).map((i) => trainRows[i] as number);
}

/** The number of weights and biases of a trained example's network. */
export function exampleParameterCount(example: TrainedExample): number {
  return parameterCount(example.network);
}

/** The input name all example models share. */
export { EXAMPLE_INPUT_NAME };
