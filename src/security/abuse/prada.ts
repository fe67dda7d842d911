/**
 * PRADA's detection of model extraction for one stream of queries (one caller on one endpoint):
 * M. Juuti, S. Szyller, S. Marchal, N. Asokan, "PRADA: Protecting against DNN Model Stealing
 * Attacks", IEEE EuroS&P 2019 (arXiv:1805.02628), Algorithm 1, as the authors' reference
 * implementation (SSGAalto/prada-protecting-against-dnn-model-stealing-attacks, `GrowingDistanceAgent`)
 * carries it out:
 *
 * - the first query starts the growing set G, with its distance set D_G = {0} and threshold T = 0;
 * - every later query x gets d_min, its smallest distance to a member of G, which joins D;
 * - when d_min > T, x joins G, d_min joins D_G, and T ← max(T, mean(D_G) − std(D_G));
 * - once |D| > minQueries (the paper's 100), D' = the values of D within 3 standard deviations of
 *   its mean are tested with Shapiro–Wilk: the stream is flagged while W(D') < δ.
 *
 * Differences, each forced by serving rather than chosen: the paper keeps one growing set per class
 * the model predicts; here there is one per caller and endpoint (the detector does not read
 * outputs). Memory is bounded: G and D each hold the last `capacity` entries (the oldest leaves
 * first; T never decreases). A query identical to a member of G (d_min = 0: a retry, a cached
 * request) adds nothing, since it reveals nothing new about the model. When every distance in D'
 * is the same (a lattice sweep), W is undefined; it is reported as 0, the least normal there is.
 */
import { shapiroWilkSorted } from '../../stats/index.js';

export interface PradaStreamOptions {
  /** Numbers per query. */
  readonly dims: number;
  /** Most members of G, and most distances in D, kept. */
  readonly capacity: number;
  /** The test runs once D holds more than this many distances. */
  readonly minQueries: number;
}

/** One run of the normality test. */
export interface PradaTest {
  /** Distances tested (D' after the 3σ cut). */
  readonly n: number;
  readonly w: number;
  readonly pValue: number;
}

/** What happened to one query. */
export type PradaStep = 'first' | 'repeat' | 'grown' | 'kept';

export interface PradaStream {
  /**
   * One query: `query` holds `dims` numbers (stored as 32-bit floats) and `weights` 1/σ² per
   * number, so the distance is the Euclidean one between standardised features (the means cancel).
   */
  add(query: Float64Array, weights: Float64Array): PradaStep;
  /** The test of the distances kept, or undefined while there are not more than `minQueries`. `scratch` holds at least `capacity` numbers. */
  test(scratch: Float64Array): PradaTest | undefined;
  /** Distances in D (at most `capacity`). */
  distances(): number;
  /** Members of G (at most `capacity`). */
  growingSet(): number;
  /** The growing-set threshold T. */
  threshold(): number;
  /** Queries skipped as exact repeats. */
  repeats(): number;
  /** Bytes held by the stream's arrays. */
  bytes(): number;
}

const INITIAL_ROWS = 16;
/** Distances whose range is below this share of their size count as all equal. */
const ZERO_SPREAD = 1e-10;

/** Creates an empty stream. */
export function createPradaStream(options: PradaStreamOptions): PradaStream {
  const { dims, capacity, minQueries } = options;
  // G: rows of `dims` 32-bit floats, grown by doubling up to `capacity`, then a ring (oldest overwritten)
  let members = new Float32Array(Math.min(INITIAL_ROWS, capacity) * dims);
  let memberDistances = new Float64Array(Math.min(INITIAL_ROWS, capacity));
  let gSize = 0;
  let gNext = 0;
  // D: the last `capacity` distances, grown the same way
  let window = new Float64Array(Math.min(INITIAL_ROWS, capacity));
  let dSize = 0;
  let dNext = 0;
  let t = 0;
  let repeats = 0;
  const q = new Float64Array(dims);

  const grow = <T extends Float32Array | Float64Array>(array: T, rows: number, width: number, make: (n: number) => T): T => {
    const next = make(Math.min(capacity, rows * 2) * width);
    next.set(array);
    return next;
  };

  function addMember(distance: number): void {
    let slot: number;
    if (gSize < capacity) {
      if (gSize * dims >= members.length) {
        members = grow(members, gSize, dims, (n) => new Float32Array(n));
        memberDistances = grow(memberDistances, gSize, 1, (n) => new Float64Array(n));
      }
      slot = gSize++;
    } else {
      slot = gNext;
      gNext = (gNext + 1) % capacity;
    }
    members.set(q, slot * dims);
    memberDistances[slot] = distance;
  }

  function addDistance(distance: number): void {
    if (dSize < capacity) {
      if (dSize >= window.length) window = grow(window, dSize, 1, (n) => new Float64Array(n));
      window[dSize++] = distance;
    } else {
      window[dNext] = distance;
      dNext = (dNext + 1) % capacity;
    }
  }

  /** max(T, mean(D_G) − std(D_G)), std the population one (numpy's default, as the reference implementation). */
  function updateThreshold(): void {
    let sum = 0;
    for (let i = 0; i < gSize; i++) sum += memberDistances[i] as number;
    const mean = sum / gSize;
    let ss = 0;
    for (let i = 0; i < gSize; i++) {
      const e = (memberDistances[i] as number) - mean;
      ss += e * e;
    }
    t = Math.max(t, mean - Math.sqrt(ss / gSize));
  }

  return {
    add(query, weights) {
      // stored as 32-bit floats, so compared as such: a repeated query is at distance 0 exactly
      for (let j = 0; j < dims; j++) q[j] = Math.fround(query[j] as number);
      if (gSize === 0) {
        addMember(0);
        return 'first';
      }
      // brute force over the members, each abandoned once it is no nearer than the best so far
      const m = members;
      let best = Number.POSITIVE_INFINITY;
      for (let i = 0, base = 0; i < gSize; i++, base += dims) {
        let s = 0;
        for (let j = 0; j < dims && s < best; j++) {
          const e = (q[j] as number) - (m[base + j] as number);
          s += (weights[j] as number) * e * e;
        }
        if (s < best) best = s;
      }
      const dMin = Math.sqrt(best);
      if (dMin === 0) {
        repeats++;
        return 'repeat';
      }
      addDistance(dMin);
      if (dMin > t) {
        addMember(dMin);
        updateThreshold();
        return 'grown';
      }
      return 'kept';
    },
    test(scratch) {
      if (dSize <= minQueries) return undefined;
      let sum = 0;
      for (let i = 0; i < dSize; i++) sum += window[i] as number;
      const mean = sum / dSize;
      let ss = 0;
      for (let i = 0; i < dSize; i++) {
        const e = (window[i] as number) - mean;
        ss += e * e;
      }
      const band = 3 * Math.sqrt(ss / dSize);
      let n = 0;
      for (let i = 0; i < dSize; i++) {
        const v = window[i] as number;
        if (v >= mean - band && v <= mean + band) scratch[n++] = v;
      }
      const kept = scratch.subarray(0, n);
      kept.sort();
      const lo = kept[0] as number;
      const hi = kept[n - 1] as number;
      if (n < 3 || !(hi - lo > ZERO_SPREAD * Math.max(Math.abs(lo), Math.abs(hi)))) return { n, w: 0, pValue: 0 };
      const r = shapiroWilkSorted(kept);
      return { n, w: r.w, pValue: r.pValue };
    },
    distances: () => dSize,
    growingSet: () => gSize,
    threshold: () => t,
    repeats: () => repeats,
    bytes: () => members.byteLength + memberDistances.byteLength + window.byteLength + q.byteLength,
  };
}
