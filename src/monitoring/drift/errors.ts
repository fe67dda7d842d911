/**
 * Drift detection's error table. Options are validated as a whole (every problem with its path);
 * rows, labels and snapshots that do not fit the reference profile are refused rather than
 * silently compared.
 */
import { defineErrors } from '../../core/index.js';

export const DriftErrors = defineErrors({
  MONITORING_DRIFT_INVALID_OPTIONS: {
    kind: 'invalid',
    help: 'Drift window or drift check options are out of range (maxRows, maxAgeMs, sampleSize, alpha, driftShare, a threshold, an unknown method or feature name); the message lists every problem with its path.',
  },
  MONITORING_DRIFT_INVALID_PROFILE: {
    kind: 'invalid',
    help: 'The reference profile cannot be compared with live data (histogram edges not strictly increasing, counts that do not match the edges, duplicate feature names); rebuild it with `slipway profile`.',
  },
  MONITORING_DRIFT_INVALID_ROW: {
    kind: 'invalid',
    help: 'A live row given to a drift window does not fit its reference profile: it must hold one value per profiled feature, in profile order; the message names the expected and received lengths.',
  },
  MONITORING_DRIFT_INVALID_LABEL: {
    kind: 'invalid',
    help: 'A label given to a drift window cannot be scored: the window has no task (its profile has no predictions and no task was configured), or a regression label or prediction is not a finite number.',
  },
  MONITORING_DRIFT_NO_PROFILE: {
    kind: 'not_found',
    help: 'The endpoint version has no reference profile, so there is nothing to compare its live traffic with; compute one with `slipway profile MODEL:VERSION --data FILE.csv` (drift monitoring then starts within 30 s).',
  },
  MONITORING_DRIFT_INVALID_QUERY: {
    kind: 'invalid',
    help: 'A query parameter of a drift route is not valid: `version` must be a version number (1 or more) and `limit` a whole number from 1 to 1000; the message names the parameter.',
  },
  MONITORING_DRIFT_PROFILE_MISMATCH: {
    kind: 'invalid',
    help: 'A window snapshot was checked against a profile it was not built from (other model or version, other features, kinds or histogram bins); check each window against the profile its window was created with.',
  },
});
