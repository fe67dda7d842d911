/**
 * A seeded pseudo-random generator (mulberry32). Every random choice in training — splits,
 * initial weights, mini-batch order — draws from one of these, so the same seed gives the same
 * model bytes on every run.
 */
import { createSeededRandom } from '../stats/random.js';
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
 * Creates a mulberry32 generator from a 32-bit seed: src/stats's seeded generator (the same stream,
 * so example models stay byte-identical) plus a Fisher–Yates shuffle. mulberry32 is tiny, passes
 * the usual statistical batteries at the sample sizes used here, and is easy to re-implement anywhere.
 */
export function createRandom(seed: number): Random {
  if (!Number.isInteger(seed)) throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`random: seed must be an integer, got ${seed}`);
  const stream = createSeededRandom(seed);
  const int = (n: number): number => {
    if (!Number.isInteger(n) || n <= 0) throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`random: int(n) needs a positive integer n, got ${n}`);
    return stream.int(n);
  };
  return {
    next: () => stream.next(),
    int,
    normal: () => stream.normal(),
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
