/**
 * The examples domain's error table: problems reading a dataset, training configuration
 * mistakes, and requests for an example that does not exist.
 */
import { defineErrors } from '../core/errors.js';

/** Errors thrown while loading datasets and training or exporting the example models. */
export const ExamplesErrors = defineErrors({
  EXAMPLES_DATA_NOT_FOUND: {
    kind: 'not_found',
    help: 'A dataset file of the example models is missing; restore it under examples/data/ (see examples/data/README.md) or pass the right dataDir.',
  },
  EXAMPLES_CSV_INVALID: {
    kind: 'invalid',
    help: 'A CSV file is malformed (no header, a row with the wrong number of cells, a cell that is not a number, or a missing column); the message names the file, line and column.',
  },
  EXAMPLES_TRAINING_INVALID: {
    kind: 'invalid',
    help: 'A training routine was called with inconsistent inputs (sizes that do not match, no rows, a label outside its classes or a bad hyper-parameter); fix the caller.',
  },
  EXAMPLES_UNKNOWN_MODEL: {
    kind: 'invalid',
    help: 'An example model name was asked for that does not exist; use one of the names listed in the message.',
  },
});
