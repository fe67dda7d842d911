/**
 * A time-bucketed window of samples with a fixed number of buckets, so memory does not grow with
 * how long the autoscaler runs. The autoscaler keeps one for observed concurrency (averaged over
 * the stable and panic windows) and one for desired replica counts (the maximum over the
 * scale-down delay), in the manner of Knative's timed buckets.
 */

/** A ring of time buckets; each bucket summarises the samples recorded during its interval. */
export interface TimeBucketWindow {
  /** The longest window this ring can answer for, in milliseconds. */
  readonly spanMs: number;
  /** The width of one bucket, in milliseconds. */
  readonly bucketMs: number;
  /** Adds a sample at `nowMs`. Time must not run backwards; a sample older than the newest bucket is dropped. */
  record(nowMs: number, value: number): void;
  /**
   * The mean over the buckets in (nowMs − windowMs, nowMs] that hold samples, each bucket weighing
   * the mean of its own samples; 0 when none do. Buckets with no samples are left out rather than
   * counted as zero because a missing sample is not an observation of idleness.
   */
  average(nowMs: number, windowMs: number): number;
  /** The largest sample in (nowMs − windowMs, nowMs], or undefined when there is none. */
  max(nowMs: number, windowMs: number): number | undefined;
  /** How many buckets the ring holds: fixed at creation, ⌈spanMs / bucketMs⌉. */
  bucketCount(): number;
}

export interface TimeBucketWindowOptions {
  readonly spanMs: number;
  readonly bucketMs: number;
}

interface Bucket {
  /** Absolute bucket number (⌊time / bucketMs⌋); -1 while unused. */
  index: number;
  sum: number;
  count: number;
  max: number;
}

/** Creates a {@link TimeBucketWindow}. `spanMs` and `bucketMs` must be positive. */
export function createTimeBucketWindow(options: TimeBucketWindowOptions): TimeBucketWindow {
  const { spanMs, bucketMs } = options;
  if (!(spanMs > 0) || !(bucketMs > 0)) throw new RangeError(`spanMs and bucketMs must be > 0, got ${spanMs} and ${bucketMs}`);
  const n = Math.max(1, Math.ceil(spanMs / bucketMs));
  const buckets: Bucket[] = Array.from({ length: n }, () => ({ index: -1, sum: 0, count: 0, max: -Infinity }));
  let newest = -1;

  const slot = (index: number): Bucket => buckets[((index % n) + n) % n] as Bucket;
  const indexOf = (ms: number): number => Math.floor(ms / bucketMs);
  const bucketsIn = (windowMs: number): number => Math.min(n, Math.max(1, Math.ceil(windowMs / bucketMs)));

  return {
    spanMs,
    bucketMs,
    record(nowMs, value) {
      const index = indexOf(nowMs);
      if (index < newest) return;
      newest = index;
      const b = slot(index);
      if (b.index !== index) {
        b.index = index;
        b.sum = 0;
        b.count = 0;
        b.max = -Infinity;
      }
      b.sum += value;
      b.count++;
      if (value > b.max) b.max = value;
    },
    average(nowMs, windowMs) {
      const current = indexOf(nowMs);
      let total = 0;
      let filled = 0;
      for (let j = 0, k = bucketsIn(windowMs); j < k; j++) {
        const b = slot(current - j);
        if (b.index === current - j && b.count > 0) {
          total += b.sum / b.count;
          filled++;
        }
      }
      return filled === 0 ? 0 : total / filled;
    },
    max(nowMs, windowMs) {
      const current = indexOf(nowMs);
      let best: number | undefined;
      for (let j = 0, k = bucketsIn(windowMs); j < k; j++) {
        const b = slot(current - j);
        if (b.index === current - j && b.count > 0 && (best === undefined || b.max > best)) best = b.max;
      }
      return best;
    },
    bucketCount: () => n,
  };
}
