/**
 * Proportions (rates): the plain estimate, the Agresti–Caffo adjusted variance used for comparisons
 * (A. Agresti & B. Caffo, "Simple and effective confidence intervals for proportions and differences
 * of proportions result from adding two successes and two failures", Am. Stat. 54 (2000) 280–288),
 * and the Wilson score interval for reporting one rate.
 */
import { StatsErrors } from './errors.js';
import { normalIsf } from './normal.js';

/** A count of trials and how many of them were successes (errors, conversions, disagreements). */
export interface ProportionCounts {
  readonly n: number;
  readonly successes: number;
}

/** Throws unless n and successes are whole numbers with 0 ≤ successes ≤ n. */
export function checkProportionCounts(c: ProportionCounts, what = 'proportion'): void {
  if (!Number.isInteger(c.n) || c.n < 0) throw StatsErrors.STATS_INVALID_INPUT(`${what}: n must be a whole number ≥ 0, got ${c.n}`);
  if (!Number.isInteger(c.successes) || c.successes < 0 || c.successes > c.n) {
    throw StatsErrors.STATS_INVALID_INPUT(`${what}: successes must be a whole number in [0, n = ${c.n}], got ${c.successes}`);
  }
}

/** successes / n, or NaN when n = 0. */
export function proportionRate(c: ProportionCounts): number {
  return c.n === 0 ? NaN : c.successes / c.n;
}

/**
 * The per-observation variance p̃(1 − p̃) with p̃ = (x + 1)/(n + 2): Agresti–Caffo's "add one success
 * and one failure" per arm. Unlike p̂(1 − p̂) it is never zero, so an arm that has seen no errors
 * yet does not claim to know its rate exactly.
 */
export function adjustedProportionVariance(c: ProportionCounts): number {
  const p = (c.successes + 1) / (c.n + 2);
  return p * (1 - p);
}

/** The Wilson score interval for one proportion at level 1 − alpha. */
export function wilsonInterval(c: ProportionCounts, alpha = 0.05): { lower: number; upper: number } {
  checkProportionCounts(c, 'wilsonInterval');
  if (c.n === 0) return { lower: 0, upper: 1 };
  const z = normalIsf(alpha / 2);
  const p = c.successes / c.n;
  const z2n = (z * z) / c.n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / c.n + z2n / (4 * c.n));
  return { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}
