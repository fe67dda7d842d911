/**
 * The catalogue of example models: each name with its dataset and its trainer.
 */
import { trainBikeSharing } from './bike-sharing.js';
import { trainBreastCancer, trainBreastCancerCandidate } from './breast-cancer.js';
import { BIKE_SHARING_DATASET, BREAST_CANCER_DATASET, DIGITS_DATASET, loadDataset, type DatasetInfo, type LoadedDataset } from './datasets.js';
import { trainDigits } from './digits.js';
import { ExamplesErrors } from './errors.js';
import { EXAMPLE_NAMES, type ExampleName, type TrainedExample } from './example.js';
import { buildHeavyConv, type SyntheticExample, type SyntheticExampleName } from './heavy-conv.js';

/** One example: its dataset and how to train it. */
export interface ExampleDefinition {
  readonly name: ExampleName;
  readonly dataset: DatasetInfo;
  readonly train: (dataset: LoadedDataset) => TrainedExample;
  /**
   * Trains a retrained alternative of the same model on the same split, written beside it as
   * candidate.onnx: pushing model.onnx again is deduplicated by the registry (same bytes, same
   * version), so a rollout needs genuinely different bytes. Only breast-cancer has one, to keep
   * the build small.
   */
  readonly candidate?: (dataset: LoadedDataset) => TrainedExample;
}

/** Every example, in build order. */
export const EXAMPLES: readonly ExampleDefinition[] = [
  { name: 'breast-cancer', dataset: BREAST_CANCER_DATASET, train: (d) => trainBreastCancer(d), candidate: (d) => trainBreastCancerCandidate(d) },
  { name: 'digits', dataset: DIGITS_DATASET, train: (d) => trainDigits(d) },
  { name: 'bike-sharing', dataset: BIKE_SHARING_DATASET, train: (d) => trainBikeSharing(d) },
];

/** A synthetic example (seeded weights, no dataset, no training): its name and how to build it. */
export interface SyntheticExampleDefinition {
  readonly name: SyntheticExampleName;
  readonly build: () => SyntheticExample;
}

/**
 * The synthetic examples, built by `npm run examples` after the trained ones. They are kept apart
 * from {@link EXAMPLES} because they have no dataset, split or held-out figures, and `npm start`
 * does not deploy them (the benchmark deploys heavy-conv itself).
 */
export const SYNTHETIC_EXAMPLES: readonly SyntheticExampleDefinition[] = [{ name: 'heavy-conv', build: () => buildHeavyConv() }];

/** Narrows a string to an example name, or throws EXAMPLES_UNKNOWN_MODEL listing the names. */
export function toExampleName(name: string): ExampleName {
  if ((EXAMPLE_NAMES as readonly string[]).includes(name)) return name as ExampleName;
  throw ExamplesErrors.EXAMPLES_UNKNOWN_MODEL(`no example model named "${name}"; the examples are ${EXAMPLE_NAMES.join(', ')}`);
}

/** Whether the example ships a candidate (candidate.onnx beside model.onnx). */
export function hasCandidate(name: ExampleName): boolean {
  return EXAMPLES.find((e) => e.name === name)?.candidate !== undefined;
}

/**
 * Loads an example's dataset from `dataDir` and trains it, and its candidate if it has one
 * (in memory; nothing is written).
 */
export async function trainExample(name: string, dataDir: string): Promise<TrainedExample> {
  const known = toExampleName(name);
  const definition = EXAMPLES.find((e) => e.name === known);
  if (definition === undefined) throw ExamplesErrors.EXAMPLES_UNKNOWN_MODEL(`example "${name}" has no definition`);
  const dataset = await loadDataset(dataDir, definition.dataset);
  const trained = definition.train(dataset);
  return definition.candidate === undefined ? trained : { ...trained, candidate: definition.candidate(dataset) };
}
