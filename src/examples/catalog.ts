/**
 * The catalogue of example models: each name with its dataset and its trainer.
 */
import { trainBikeSharing } from './bike-sharing.js';
import { trainBreastCancer } from './breast-cancer.js';
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
}

/** Every example, in build order. */
export const EXAMPLES: readonly ExampleDefinition[] = [
  { name: 'breast-cancer', dataset: BREAST_CANCER_DATASET, train: (d) => trainBreastCancer(d) },
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

/** Loads an example's dataset from `dataDir` and trains it (in memory; nothing is written). */
export async function trainExample(name: string, dataDir: string): Promise<TrainedExample> {
  const known = toExampleName(name);
  const definition = EXAMPLES.find((e) => e.name === known);
  if (definition === undefined) throw ExamplesErrors.EXAMPLES_UNKNOWN_MODEL(`example "${name}" has no definition`);
  return definition.train(await loadDataset(dataDir, definition.dataset));
}
