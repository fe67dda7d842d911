/**
 * A paired block bootstrap of a ratio of quantiles: how much slower (or faster) one version is than
 * another, with a confidence interval, from latencies measured in turns. Each round holds a block
 * of consecutive calls to each version, taken side by side; resampling whole rounds (the same
 * rounds for both) keeps what a round shares — the machine's state at the time — and the
 * autocorrelation within a block, which resampling single calls would pretend away. STATISTICS.md:
 * compare latency by quantiles with a bootstrap, not by the raw mean of a heavy-tailed quantity.
 */
import { StatsErrors } from './errors.js';
import { quantileSorted } from './quantiles.js';
import { createSeededRandom } from './random.js';

export interface RatioInterval {
  /** quantile(a) / quantile(b) on every round. */
  readonly ratio: number;
  /** The percentile interval of the bootstrap ratios, at the given confidence. */
  readonly lower: number;
  readonly upper: number;
  readonly rounds: number;
  readonly resamples: number;
}

export interface RatioIntervalOptions {
  /** The quantile compared, in (0, 1). Default 0.5 (the median). */
  readonly q?: number;
  /** Default 0.95. */
  readonly confidence?: number;
  /** Default 2000. */
  readonly resamples?: number;
  /** Default 1. */
  readonly seed?: number;
}

function quantileOf(blocks: readonly (readonly number[])[], picks: readonly number[], q: number): number {
  const values: number[] = [];
  for (const r of picks) for (const x of blocks[r] as readonly number[]) values.push(x);
  return quantileSorted(Float64Array.from(values).sort(), q);
}

/**
 * The ratio quantile(a) / quantile(b) of two samples measured in `rounds` paired blocks
 * (`a[r]` and `b[r]` are round r's calls), with a paired block-bootstrap percentile interval.
 * Throws STATS_INVALID_INPUT for unequal round counts, fewer than 2 rounds, an empty block or a
 * value that is not a positive finite number.
 */
export function pairedQuantileRatio(a: readonly (readonly number[])[], b: readonly (readonly number[])[], options: RatioIntervalOptions = {}): RatioInterval {
  const q = options.q ?? 0.5;
  const confidence = options.confidence ?? 0.95;
  const resamples = options.resamples ?? 2000;
  if (a.length !== b.length) throw StatsErrors.STATS_INVALID_INPUT(`pairedQuantileRatio: ${a.length} rounds of a against ${b.length} of b; rounds are paired`);
  if (a.length < 2) throw StatsErrors.STATS_INVALID_INPUT(`pairedQuantileRatio: needs at least 2 rounds, got ${a.length}`);
  if (!(q > 0 && q < 1) || !(confidence > 0 && confidence < 1) || !Number.isInteger(resamples) || resamples < 1) {
    throw StatsErrors.STATS_INVALID_INPUT(`pairedQuantileRatio: q and confidence in (0, 1) and resamples a whole number ≥ 1, got q ${q}, confidence ${confidence}, resamples ${resamples}`);
  }
  for (const blocks of [a, b]) {
    for (const block of blocks) {
      if (block.length === 0) throw StatsErrors.STATS_INVALID_INPUT('pairedQuantileRatio: a round has an empty block');
      for (const x of block) if (!(Number.isFinite(x) && x > 0)) throw StatsErrors.STATS_INVALID_INPUT(`pairedQuantileRatio: latencies must be positive finite numbers, got ${x}`);
    }
  }
  const rounds = a.length;
  const all = Array.from({ length: rounds }, (_, r) => r);
  const ratio = quantileOf(a, all, q) / quantileOf(b, all, q);
  const random = createSeededRandom(options.seed ?? 1);
  const ratios = new Float64Array(resamples);
  const picks = new Array<number>(rounds);
  for (let i = 0; i < resamples; i++) {
    for (let r = 0; r < rounds; r++) picks[r] = random.int(rounds);
    ratios[i] = quantileOf(a, picks, q) / quantileOf(b, picks, q);
  }
  ratios.sort();
  const tail = (1 - confidence) / 2;
  return { ratio, lower: quantileSorted(ratios, tail), upper: quantileSorted(ratios, 1 - tail), rounds, resamples };
}
