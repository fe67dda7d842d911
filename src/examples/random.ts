/**
 * A seeded pseudo-random generator (mulberry32). Every random choice in training — splits,
 * initial weights, mini-batch order — draws from one of these, so the same seed gives the same
 * model bytes on every run.
 */
import { ExamplesErrors } from './errors.js';

/** A seeded stream of pseudo-random numbers. */
export interface Random {
  /** A float uniformly distributed in [0, 1), with 32 bits of randomness. */
  next(): number;
  /** An integer uniformly distributed in [0, n). */
  int(n: number): number;
  /** A standard normal deviate (Box–Muller). */
  normal(): number;
  /** Shuffles the array in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[];
}

/**
 * Creates a mulberry32 generator from a 32-bit seed. mulberry32 is tiny, passes the usual
 * statistical batteries at the sample sizes used here, and is easy to re-implement anywhere.
 */
export function createRandom(seed: number): Random {
  if (!Number.isInteger(seed)) throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`random: seed must be an integer, got ${seed}`);
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => {
    if (!Number.isInteger(n) || n <= 0) throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`random: int(n) needs a positive integer n, got ${n}`);
    return Math.floor(next() * n);
  };
  return {
    next,
    int,
    normal() {
      // 1 - u keeps the logarithm's argument in (0, 1].
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    shuffle<T>(items: T[]): T[] {
      for (let i = items.length - 1; i > 0; i--) {
        const j = int(i + 1);
        const a = items[i] as T;
        items[i] = items[j] as T;
        items[j] = a;
      }
      return items;
    },
  };
}
