/**
 * Train/test splitting. The split is stratified so the held-out figures are not an accident of
 * class balance, and seeded so every run holds out the same rows.
 */
import { ExamplesErrors } from './errors.js';
import type { Random } from './random.js';

/** Row indices of a split, each list in ascending order. */
export interface Split {
  readonly train: readonly number[];
  readonly test: readonly number[];
}

/**
 * Splits indices 0..strata.length-1 into train and test, holding out `testFraction` of every
 * stratum (rounded to the nearest row, at least one row of a stratum with two or more rows).
 * Strata are any numbers: class labels for classification, a bin or month for regression.
 */
export function stratifiedSplit(strata: ArrayLike<number>, testFraction: number, random: Random): Split {
  if (!(testFraction > 0 && testFraction < 1)) {
    throw ExamplesErrors.EXAMPLES_TRAINING_INVALID(`split: testFraction must be in (0, 1), got ${testFraction}`);
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < strata.length; i++) {
    const key = strata[i] as number;
    const list = groups.get(key);
    if (list === undefined) groups.set(key, [i]);
    else list.push(i);
  }
  const train: number[] = [];
  const test: number[] = [];
  // Visit strata in sorted order so the draws do not depend on the order rows appear in.
  for (const key of [...groups.keys()].sort((a, b) => a - b)) {
    const members = random.shuffle([...(groups.get(key) ?? [])]);
    let take = Math.round(members.length * testFraction);
    if (members.length >= 2) take = Math.min(Math.max(take, 1), members.length - 1);
    test.push(...members.slice(0, take));
    train.push(...members.slice(take));
  }
  const ascending = (a: number, b: number): number => a - b;
  return { train: train.sort(ascending), test: test.sort(ascending) };
}

/**
 * Draws up to `count` distinct indices from 0..n-1 (ascending), or all of them when n ≤ count.
 * Used for the reference sample written beside each model.
 */
export function sampleIndices(n: number, count: number, random: Random): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (n <= count) return all;
  return random.shuffle(all).slice(0, count).sort((a, b) => a - b);
}
