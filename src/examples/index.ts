/**
 * Real example models, trained in TypeScript on real datasets and exported to ONNX.
 * {@link buildExamples} is what `npm run examples` and `npm start` call.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { CANDIDATE_FILES, DRIFT_FILE, writeExample, type ExampleResult } from './artifacts.js';
import { EXAMPLES, SYNTHETIC_EXAMPLES, hasCandidate, toExampleName, trainExample } from './catalog.js';
import { EXAMPLE_NAMES, type ExampleName } from './example.js';
import { SYNTHETIC_EXAMPLE_NAMES, writeSyntheticExample, type SyntheticExampleName, type SyntheticExampleResult } from './heavy-conv.js';
import { ExamplesErrors } from './errors.js';

/** Where to read datasets and write example folders, and optionally which examples to build. */
export interface BuildExamplesOptions {
  /** Folder that receives one `<name>/` folder per example (e.g. examples/models). */
  readonly outDir: string;
  /** Folder holding the dataset CSVs (e.g. examples/data). */
  readonly dataDir: string;
  /** Example names to build; default all. An unknown name is EXAMPLES_UNKNOWN_MODEL. */
  readonly only?: readonly string[];
}

/**
 * Trains, evaluates, exports and writes the example models, one after the other, each into
 * `<outDir>/<name>/` (replaced atomically). Deterministic: the same inputs give the same bytes.
 * A missed threshold does not throw; it shows as `passed: false` so the caller decides. Do not run
 * two builds into the same outDir at once.
 */
export async function buildExamples(options: BuildExamplesOptions): Promise<ExampleResult[]> {
  const names = selectExamples(options.only);
  const results: ExampleResult[] = [];
  for (const name of names) results.push(await writeExample(await trainExample(name, options.dataDir), options.outDir));
  return results;
}

/**
 * The examples (of `only`, default all) whose folder under `outDir` is missing or lacks
 * model.onnx or metrics.json — or, for an example with a candidate, candidate.onnx or
 * candidate-metrics.json (a folder built before candidates existed) — the ones `npm start` needs
 * to build first.
 */
export async function missingExamples(outDir: string, only?: readonly string[]): Promise<ExampleName[]> {
  const missing: ExampleName[] = [];
  for (const name of selectExamples(only)) {
    const files = [
      'model.onnx',
      'metrics.json',
      ...(hasCandidate(name) ? CANDIDATE_FILES : []),
      // the served-drift rows came later than the models; a folder without them is rebuilt
      ...(name === 'bike-sharing' ? [DRIFT_FILE] : []),
    ];
    try {
      for (const file of files) await access(join(outDir, name, file));
    } catch {
      missing.push(name);
    }
  }
  return missing;
}

/**
 * Builds the synthetic examples (of `only`, default all) into `<outDir>/<name>/`, replacing each
 * folder atomically. Deterministic. An unknown name is EXAMPLES_UNKNOWN_MODEL listing the names.
 */
export async function buildSyntheticExamples(options: { readonly outDir: string; readonly only?: readonly string[] }): Promise<SyntheticExampleResult[]> {
  const names = selectSynthetic(options.only);
  const results: SyntheticExampleResult[] = [];
  for (const name of names) {
    const definition = SYNTHETIC_EXAMPLES.find((e) => e.name === name);
    if (definition !== undefined) results.push(await writeSyntheticExample(definition.build(), options.outDir));
  }
  return results;
}

/** Builds the synthetic examples (of `only`, default all) whose folder under `outDir` lacks model.onnx or request.json; returns the built names. */
export async function ensureSyntheticExamples(outDir: string, only?: readonly string[]): Promise<SyntheticExampleName[]> {
  const missing: SyntheticExampleName[] = [];
  for (const name of selectSynthetic(only)) {
    try {
      await access(join(outDir, name, 'model.onnx'));
      await access(join(outDir, name, 'request.json'));
    } catch {
      missing.push(name);
    }
  }
  if (missing.length > 0) await buildSyntheticExamples({ outDir, only: missing });
  return missing;
}

function selectSynthetic(only: readonly string[] | undefined): SyntheticExampleName[] {
  if (only === undefined) return [...SYNTHETIC_EXAMPLE_NAMES];
  for (const name of only) {
    if (!(SYNTHETIC_EXAMPLE_NAMES as readonly string[]).includes(name)) {
      throw ExamplesErrors.EXAMPLES_UNKNOWN_MODEL(`no synthetic example model named "${name}"; the synthetic examples are ${SYNTHETIC_EXAMPLE_NAMES.join(', ')}`);
    }
  }
  return SYNTHETIC_EXAMPLE_NAMES.filter((n) => only.includes(n));
}

function selectExamples(only: readonly string[] | undefined): ExampleName[] {
  if (only === undefined) return EXAMPLES.map((e) => e.name);
  const wanted = new Set(only.map(toExampleName));
  return EXAMPLE_NAMES.filter((n) => wanted.has(n));
}

export { CANDIDATE_FILES, DRIFT_FILE, EXAMPLE_FILES, candidateMetrics, exampleFiles, exampleMetrics, exampleRequest, writeExample } from './artifacts.js';
export type { CandidateResult, ExampleFileName, ExampleMetricsFile, ExampleResult } from './artifacts.js';
export { EXAMPLES, SYNTHETIC_EXAMPLES, hasCandidate, toExampleName, trainExample } from './catalog.js';
export {
  BREAST_CANCER_CANDIDATE_TRAINING,
  BREAST_CANCER_FEATURES,
  BREAST_CANCER_SEED,
  BREAST_CANCER_TRAINING,
  trainBreastCancer,
  trainBreastCancerCandidate,
} from './breast-cancer.js';
export type { ExampleDefinition, SyntheticExampleDefinition } from './catalog.js';
export {
  HEAVY_CONV_CLASSES,
  HEAVY_CONV_INPUT_SHAPE,
  HEAVY_CONV_SEED,
  SYNTHETIC_EXAMPLE_FILES,
  SYNTHETIC_EXAMPLE_NAMES,
  buildHeavyConv,
  syntheticMetrics,
  writeSyntheticExample,
} from './heavy-conv.js';
export type { SyntheticExample, SyntheticExampleName, SyntheticExampleResult } from './heavy-conv.js';
export { EXAMPLE_INPUT_NAME, EXAMPLE_NAMES, REFERENCE_SAMPLE_SIZE, deriveSeed } from './example.js';
export type { ExampleName, ExamplePrediction, ExampleSplit, ExampleTask, MetricCheck, TrainedExample } from './example.js';
export { EXAMPLE_IR_VERSION, EXAMPLE_OPSET, exportExampleModel } from './onnx-export.js';
export { ExamplesErrors } from './errors.js';
export { columnIndex, formatCsv, numericColumn, numericColumns, parseCsv, readCsvFile } from './csv.js';
export type { CsvTable } from './csv.js';
export { createRandom } from './random.js';
export type { Random } from './random.js';
export { sampleIndices, stratifiedSplit } from './split.js';
export { applyStandardizer, fitStandardizer } from './standardize.js';
export { encodeFeatures } from './encoding.js';
export { trainBinaryLogistic, trainLogisticRegression } from './logistic.js';
export { lossAndGradients, trainMlp } from './mlp.js';
export { argmaxRows, forward } from './network.js';
export { accuracy, logLoss, mae, r2, rmse } from './metrics.js';
export { createMatrix, matrixFromRows, takeRows } from './matrix.js';
export type { Matrix } from './matrix.js';
export { formatExamplesTable } from './report.js';
