/**
 * The analysis engine's error table. Definitions are validated as a whole and every problem is
 * reported with its path; data that cannot be a summary (negative counts, an arm of the wrong kind)
 * is refused rather than silently judged.
 */
import { defineErrors } from '../../core/index.js';

export const AnalysisErrors = defineErrors({
  ROLLOUT_ANALYSIS_INVALID_CHECK: {
    kind: 'invalid',
    help: 'An analysis check definition is incomplete or out of range (unknown kind, alpha outside (0, 0.5], a negative tolerance, a missing minimumDetectableEffect, duplicate names); the message lists every problem with its path.',
  },
  ROLLOUT_ANALYSIS_INVALID_DATA: {
    kind: 'invalid',
    help: 'The data given for an analysis check is not a valid arm summary for its kind (negative or fractional counts, successes above n, histograms of different lengths); fix the collector that produced it.',
  },
});
