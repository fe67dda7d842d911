/**
 * The statistics layer's error table. Special functions return NaN outside their domain (as scipy
 * does) so that hot numeric paths never throw; structural mistakes — a histogram pair of different
 * lengths, a negative count, an empty sample where one is required — throw these instead.
 */
import { defineErrors } from '../core/index.js';

export const StatsErrors = defineErrors({
  STATS_INVALID_INPUT: {
    kind: 'invalid',
    help: 'A statistics routine was given input it cannot use (an empty sample, negative counts, histograms of different lengths, a probability outside [0, 1]); the message names the argument and what was expected.',
  },
});
