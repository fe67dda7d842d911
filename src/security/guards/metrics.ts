/**
 * The input guards' Prometheus metrics, counted on the request path: label children are looked up
 * in nested maps, so a request builds no label string once its endpoint and version have been seen.
 */
import { Counter, Histogram, type Registry } from 'prom-client';

/** The checks a guard counts under. */
export type GuardCheck = 'range' | 'non_finite' | 'outlier';
/** What a guard did. */
export type GuardAction = 'flag' | 'reject';

/** Buckets of the outlier score (a Mahalanobis distance; about √d for a typical row of d features). */
export const OUTLIER_SCORE_BUCKETS: readonly number[] = Object.freeze([1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30, 50, 100, 1000]);

/** What the guards report. */
export interface GuardMetrics {
  /** One request flagged or refused by a check. */
  count(endpoint: string, version: number, check: GuardCheck, action: GuardAction): void;
  /** One request's outlier score (its farthest row's distance). */
  score(endpoint: string, version: number, distance: number): void;
}

type CounterChild = ReturnType<Counter<'endpoint' | 'version' | 'check' | 'action'>['labels']>;
type HistogramChild = ReturnType<Histogram<'endpoint' | 'version'>['labels']>;

interface VersionChildren {
  readonly counts: Map<string, CounterChild>;
  score: HistogramChild | undefined;
}

/** Registers `slipway_input_guard_total` and `slipway_outlier_score` in `registry`. */
export function registerGuardMetrics(registry: Registry): GuardMetrics {
  const total = new Counter({
    name: 'slipway_input_guard_total',
    help: 'Inference requests an input guard flagged (answered, with parameters.input_guard) or rejected (400), by endpoint, version, check (range, non_finite, outlier) and action.',
    labelNames: ['endpoint', 'version', 'check', 'action'] as const,
    registers: [registry],
  });
  const scores = new Histogram({
    name: 'slipway_outlier_score',
    help: 'Outlier score of scored inference requests: the Mahalanobis distance of the request\'s farthest row from the version\'s reference profile.',
    labelNames: ['endpoint', 'version'] as const,
    buckets: [...OUTLIER_SCORE_BUCKETS],
    registers: [registry],
  });
  const children = new Map<string, Map<number, VersionChildren>>();
  const childrenOf = (endpoint: string, version: number): VersionChildren => {
    let byVersion = children.get(endpoint);
    if (byVersion === undefined) children.set(endpoint, (byVersion = new Map<number, VersionChildren>()));
    let c = byVersion.get(version);
    if (c === undefined) byVersion.set(version, (c = { counts: new Map<string, CounterChild>(), score: undefined }));
    return c;
  };
  return {
    count(endpoint, version, check, action) {
      const c = childrenOf(endpoint, version);
      const key = action === 'flag' ? check : `${check}!`;
      let child = c.counts.get(key);
      if (child === undefined) c.counts.set(key, (child = total.labels(endpoint, String(version), check, action)));
      child.inc();
    },
    score(endpoint, version, distance) {
      const c = childrenOf(endpoint, version);
      c.score ??= scores.labels(endpoint, String(version));
      c.score.observe(distance);
    },
  };
}
