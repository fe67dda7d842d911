/**
 * The routing tests' statistics, from src/stats: Pearson's goodness of fit (as `{ statistic, df, p }`)
 * and a seeded uniform generator, so every run draws the same numbers.
 */
import { chiSquareGoodnessOfFit as fit, chiSquareSf, createSeededRandom } from '../../../../src/stats/index.js';

/** P(X ≥ x) for X ~ chi-square with `df` degrees of freedom. */
export const chiSquareSurvival = chiSquareSf;

/** Pearson's X² of observed counts against expected shares (which need not sum to 1), and its p-value. */
export function chiSquareGoodnessOfFit(observed: readonly number[], shares: readonly number[]): { statistic: number; df: number; p: number } {
  const r = fit(observed, shares);
  return { statistic: r.statistic, df: r.degreesOfFreedom, p: r.pValue };
}

/** A seeded uniform generator in [0, 1) (mulberry32). */
export function seeded(seed: number): () => number {
  const stream = createSeededRandom(seed);
  return () => stream.next();
}
