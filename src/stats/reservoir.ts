/**
 * Reservoir sampling: a uniform random sample of at most k items from a stream of unknown length,
 * in O(k) memory. Algorithm L (K.-H. Li, "Reservoir-sampling algorithms of time complexity
 * O(n(1 + log(N/n)))", ACM TOMS 20 (1994) 481–493) draws how many items to skip instead of one
 * random number per item, so a long stream costs O(k log(N/k)) random draws, not N.
 *
 * The sampler only decides *where* an item goes; the caller keeps the items (one array per column,
 * so that one decision serves every column of a row).
 */
import { StatsErrors } from './errors.js';
import type { SeededRandom } from './random.js';

/** Decides, item by item, which slot of a k-slot reservoir each item of a stream takes. */
export interface ReservoirSampler {
  /** k, the most items kept. */
  readonly capacity: number;
  /** Items offered since the last reset. */
  readonly seen: number;
  /** Items currently held: min(seen, capacity). */
  readonly size: number;
  /**
   * Offers the next item of the stream: returns the slot (0 ≤ slot < capacity) it should be written
   * to, replacing what was there, or −1 when it is not kept. The first k items take slots 0…k−1 in
   * order.
   */
  offer(): number;
  /** Starts a new, empty sample; the random stream continues (same seed, same sequence of samples). */
  reset(): void;
}

/** Creates an Algorithm L reservoir sampler of `capacity` slots drawing from `random`. */
export function createReservoirSampler(capacity: number, random: SeededRandom): ReservoirSampler {
  if (!Number.isInteger(capacity) || capacity < 1) throw StatsErrors.STATS_INVALID_INPUT(`createReservoirSampler: capacity must be a whole number ≥ 1, got ${capacity}`);
  // A uniform draw in (0, 1): next() is a multiple of 2⁻³² in [0, 1), so adding 2⁻³³ keeps it off 0
  // (log(0) = −∞) and off 1 (a weight of exactly 1 would make every later item replace one).
  const open01 = (): number => random.next() + 2 ** -33;
  let seen = 0;
  let w = 0;
  // 0-based stream index of the next item to keep once the reservoir is full.
  let nextKept = 0;
  const skip = (): number => Math.floor(Math.log(open01()) / Math.log(1 - w));
  const start = (): void => {
    seen = 0;
    w = Math.exp(Math.log(open01()) / capacity);
    nextKept = capacity + skip();
  };
  start();
  return {
    capacity,
    get seen() {
      return seen;
    },
    get size() {
      return Math.min(seen, capacity);
    },
    offer() {
      const i = seen;
      seen += 1;
      if (i < capacity) return i;
      if (i !== nextKept) return -1;
      const slot = random.int(capacity);
      w *= Math.exp(Math.log(open01()) / capacity);
      nextKept += skip() + 1;
      return slot;
    },
    reset: start,
  };
}
