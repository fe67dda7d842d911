/**
 * A small seeded pseudo-random generator (mulberry32) for simulations and property tests: the same
 * seed gives the same stream on every machine, so a simulated rollout is reproducible.
 */
import { StatsErrors } from './errors.js';

/** A seeded stream of pseudo-random numbers. */
export interface SeededRandom {
  /** A float uniformly distributed in [0, 1), with 32 bits of randomness. */
  next(): number;
  /** true with probability p. */
  bernoulli(p: number): boolean;
  /** A standard normal deviate (Box–Muller). */
  normal(): number;
  /** An integer uniformly distributed in [0, n). */
  int(n: number): number;
}

/** Creates a mulberry32 generator from a 32-bit integer seed. */
export function createSeededRandom(seed: number): SeededRandom {
  if (!Number.isInteger(seed)) throw StatsErrors.STATS_INVALID_INPUT(`createSeededRandom: seed must be an integer, got ${seed}`);
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    bernoulli: (p) => next() < p,
    normal() {
      // 1 − u keeps the logarithm's argument in (0, 1].
      const u = 1 - next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
    int(n) {
      if (!Number.isInteger(n) || n <= 0) throw StatsErrors.STATS_INVALID_INPUT(`random.int: n must be a positive integer, got ${n}`);
      return Math.floor(next() * n);
    },
  };
}
