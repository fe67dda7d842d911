/**
 * A quantile sketch for values of any sign, built on the DDSketch in src/stats/sketch.ts. That
 * sketch takes non-negative values and is accurate relative to each value's size, which is poor for
 * data far from zero compared with its spread (temperatures in kelvin: 1 % of 290 K is 2.9 K, a
 * third of a typical spread). So values are sketched as their distance from the first value seen —
 * positive distances in one sketch, negative ones in another — and every quantile is within
 * `relativeAccuracy` × |x − x₀| of the true one, hence within `relativeAccuracy` × (max − min).
 */
import { createQuantileSketch, type QuantileSketch } from '../../stats/index.js';

/** A streaming quantile estimate for finite numbers of any sign. */
export interface CentredSketch {
  add(x: number): void;
  /**
   * The p-quantile by linear interpolation between order statistics (Hyndman & Fan type 7, numpy's
   * default), each order statistic read from the sketch; NaN while empty.
   */
  quantile(p: number): number;
  readonly count: number;
}

/** The order statistic with 0-based index `j` of a sketch holding `s.count` values. */
function orderStatistic(s: QuantileSketch, j: number): number {
  const n = s.count;
  if (n <= 1) return s.quantile(0);
  // the sketch returns the value of rank ⌊q(n − 1)⌋; aiming at the middle of rank j keeps rounding
  // from landing on j − 1
  return s.quantile(Math.min(1, (j + 0.5) / (n - 1)));
}

/** Creates an empty sketch; see {@link CentredSketch}. */
export function createCentredSketch(relativeAccuracy: number): CentredSketch {
  const above = createQuantileSketch({ relativeAccuracy });
  const below = createQuantileSketch({ relativeAccuracy });
  let origin = 0;
  let atOrigin = 0;
  let count = 0;

  /** The value with 0-based index k in ascending order. */
  const at = (k: number): number => {
    const nBelow = below.count;
    if (k < nBelow) return origin - orderStatistic(below, nBelow - 1 - k);
    if (k < nBelow + atOrigin) return origin;
    return origin + orderStatistic(above, k - nBelow - atOrigin);
  };

  return {
    add(x) {
      if (count === 0) origin = x;
      count++;
      const d = x - origin;
      if (d > 0) above.add(d);
      else if (d < 0) below.add(-d);
      else atOrigin++;
    },
    quantile(p) {
      if (count === 0) return NaN;
      const h = (count - 1) * p;
      const lo = Math.floor(h);
      const a = at(lo);
      if (lo + 1 >= count || h === lo) return a;
      return a + (h - lo) * (at(lo + 1) - a);
    },
    get count() {
      return count;
    },
  };
}
