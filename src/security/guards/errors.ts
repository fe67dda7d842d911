/** The input guards' error table (docs/security.md, Input guards). */
import { defineErrors } from '../../core/index.js';

export const GuardErrors = defineErrors({
  SECURITY_INPUT_OUT_OF_RANGE: {
    kind: 'invalid',
    help: 'A numeric feature lies outside the range the version\'s reference profile observed, widened by security.inputGuards.rangeMargin, and the endpoint\'s range guard is set to reject; the message names the feature(s), the value and the observed range. Check the input, or set ranges to flag.',
  },
  SECURITY_INPUT_OUTLIER: {
    kind: 'invalid',
    help: 'A row is so far from the version\'s reference data (Mahalanobis distance) that its p-value is below security.inputGuards.outlier.rejectPValue; the message gives the row, the distance and the p-value. Check the input, or lower the threshold.',
  },
});
