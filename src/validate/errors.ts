/**
 * The validate domain's error table (`slipway validate`): pre-deployment metrics, gate policies
 * and the validation run. Every error the domain throws on purpose is built from it. To add a code,
 * add one entry below (`VALIDATE_<REASON>`, a kind and one help sentence); docs/errors.md is
 * generated from this table by `npm run docs:errors`.
 */
import { defineErrors } from '../core/index.js';

/** Factories for every VALIDATE_* error code. */
export const ValidateErrors = defineErrors({
  VALIDATE_INVALID_GATES: {
    kind: 'invalid',
    help: 'The gate policy (--gates FILE.yaml) is not valid YAML or breaks a rule: it must be a mapping with a non-empty `gates` list whose entries are checks `<figure> <op> <rhs>` or mappings `{name, check}`; the message names each entry (gates[i].check), its line and what was expected. See docs/validation.md.',
  },
  VALIDATE_INVALID_METRIC_INPUT: {
    kind: 'invalid',
    help: 'The labels, predictions or probabilities a validation metric was given do not fit together: no rows, lists of different lengths, an empty class name, a number that is not finite, a probability row outside [0, 1] or not summing to 1, a label without a probability column; the message names the argument, the row and what was expected.',
  },
  VALIDATE_INVALID_DATA: {
    kind: 'invalid',
    help: 'The validation data cannot be read as the model’s inputs and labels: the CSV is empty or malformed, a row has the wrong number of cells, the target or slice column is not in the header, a regression target is not a number, or no row has both a target and every feature; the message names the row and column and what was expected.',
  },
  VALIDATE_UNSUPPORTED_MODEL: {
    kind: 'invalid',
    help: 'Validation on CSV data covers models whose inputs are one row per example (rank 1 or 2); validate image or sequence models without --data, which measures performance, stability and edge cases only.',
  },
  VALIDATE_TOO_MANY_ROWS: {
    kind: 'too_large',
    help: 'The validation data has more rows than a validation reads (200,000 by default, validation.maxRows); validate on a uniform sample of the rows.',
  },
  VALIDATE_INVALID_REQUEST: {
    kind: 'invalid',
    help: 'The validation request is malformed: a field of the JSON body is of the wrong type or out of range (data is a dataset digest, target and sliceBy column names, baseline a version, gates YAML text, settings within their bounds); the message names the field and what was expected.',
  },
  VALIDATE_NOT_FOUND: {
    kind: 'not_found',
    help: 'No validation with this id exists on the server (running ones are kept until the server stops, finished ones in slipway.db), or the version has no validation report yet; run `slipway validate MODEL:VERSION`.',
  },
  VALIDATE_DATASET_NOT_FOUND: {
    kind: 'not_found',
    help: 'The dataset digest names no dataset uploaded to this server; upload the CSV first (PUT /api/v1/datasets, which `slipway validate --data FILE.csv` does for you).',
  },
  VALIDATE_BUSY: {
    kind: 'limited',
    help: 'The server is already running as many validations as it runs at once (each loads its model and keeps cores busy while it measures latency); retry after the Retry-After delay.',
  },
  VALIDATE_FAILED: {
    kind: 'internal',
    help: 'A validation run stopped on an unexpected error (the model failed to load or crashed while being measured); the message and the server log say why.',
  },
});
