/** The error table of reference profiles: reading the reference data, computing and storing a profile. */
import { defineErrors } from '../../core/index.js';

export const ProfileErrors = defineErrors({
  MONITORING_PROFILE_NOT_FOUND: {
    kind: 'not_found',
    help: 'This model version has no reference profile yet; compute one with `slipway profile MODEL:VERSION --data FILE.csv` (PUT /api/v1/models/{model}/versions/{version}/profile with the CSV as the body).',
  },
  MONITORING_PROFILE_INVALID_DATA: {
    kind: 'invalid',
    help: 'The reference CSV cannot be read as the model’s inputs: it is empty, a row has the wrong number of cells, a quote is never closed, or a cell is not a value of its input’s datatype; the message names the row and column and what was expected.',
  },
  MONITORING_PROFILE_COLUMNS_MISMATCH: {
    kind: 'invalid',
    help: 'The CSV header does not match the model’s inputs: a column the model does not take (name the label with --target / ?target=), a feature missing, a name given twice, or more or fewer columns than the inputs hold; the message lists what the model expects.',
  },
  MONITORING_PROFILE_UNSUPPORTED_MODEL: {
    kind: 'invalid',
    help: 'Profiles cover models whose inputs are one row per example — rank 1 [batch] or rank 2 [batch, features] — with a dynamic batch dimension (or a batch of 1); images, sequences and other rank-3+ inputs are not profiled feature by feature.',
  },
  MONITORING_PROFILE_TOO_MANY_ROWS: {
    kind: 'too_large',
    help: 'The reference data has more rows than the server profiles (1,000,000 by default, the profile service’s maxRows); profile a uniform sample of the rows instead.',
  },
  MONITORING_PROFILE_TOO_LARGE: {
    kind: 'too_large',
    help: 'The reference CSV is larger than the upload limit (server.uploadLimitBytes, 2 GiB by default); send a sample of the rows.',
  },
  MONITORING_PROFILE_BUSY: {
    kind: 'limited',
    help: 'The server is already computing as many profiles as it runs at once (each loads a copy of its model), or this version’s profile is being computed now; retry after the Retry-After delay.',
  },
  MONITORING_PROFILE_INVALID_QUERY: {
    kind: 'invalid',
    help: 'A query parameter of the profile route is malformed: `target` is a column name given once, `source` a short text naming the data; fix the part of the URL the message names.',
  },
  MONITORING_PROFILE_INVALID_OPTIONS: {
    kind: 'internal',
    help: 'The profile builder or service was used wrongly (an option out of range, a value of the wrong type, a second pass that skipped rows): a fault in Slipway’s own code, not in the data; report it with the server log.',
  },
});
