/**
 * Multiple-testing adjustments, returning adjusted p-values in the input order (as R's `p.adjust`):
 * compare each adjusted p-value with the family's α.
 * - Bonferroni: min(1, m·p). Family-wise error ≤ α under any dependence.
 * - Holm–Bonferroni (S. Holm, Scand. J. Statist. 6 (1979) 65–70): step-down; also family-wise,
 *   never less powerful than Bonferroni.
 * - Benjamini–Hochberg (JRSS B 57 (1995) 289–300): step-up; controls the false discovery rate
 *   under independence or positive dependence.
 */
import { StatsErrors } from './errors.js';

function check(ps: readonly number[], fn: string): void {
  for (const p of ps) if (!(p >= 0 && p <= 1)) throw StatsErrors.STATS_INVALID_INPUT(`${fn}: p-values must be in [0, 1], got ${p}`);
}

function orderOf(ps: readonly number[]): number[] {
  return ps.map((_, i) => i).sort((a, b) => (ps[a] as number) - (ps[b] as number) || a - b);
}

/** Bonferroni-adjusted p-values min(1, m·p). */
export function bonferroni(ps: readonly number[]): number[] {
  check(ps, 'bonferroni');
  return ps.map((p) => Math.min(1, p * ps.length));
}

/** Holm–Bonferroni step-down adjusted p-values. */
export function holm(ps: readonly number[]): number[] {
  check(ps, 'holm');
  const m = ps.length;
  const out = new Array<number>(m);
  let running = 0;
  orderOf(ps).forEach((index, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * (ps[index] as number)));
    out[index] = running;
  });
  return out;
}

/** Benjamini–Hochberg step-up adjusted p-values (q-values). */
export function benjaminiHochberg(ps: readonly number[]): number[] {
  check(ps, 'benjaminiHochberg');
  const m = ps.length;
  const out = new Array<number>(m);
  const order = orderOf(ps);
  let running = 1;
  for (let rank = m - 1; rank >= 0; rank--) {
    const index = order[rank] as number;
    running = Math.min(running, ((ps[index] as number) * m) / (rank + 1));
    out[index] = running;
  }
  return out;
}
