/**
 * The analysis template shared by canary steps, canary background analysis and blue-green
 * pre-promotion analysis: how often to look, how much data a look needs, how long to wait for a
 * verdict, the significance level, and the checks of candidate against baseline.
 */
import { describe, join } from '../../core/index.js';
import { MAX_SPEC_SECONDS, type SpecReader } from './reader.js';
import { BUILTIN_CHECK_METRICS, type AnalysisCheck, type AnalysisTemplate, type BuiltinCheckMetric, type FeedbackMetricKind, type MetricDirection } from './types.js';

export const ANALYSIS_DEFAULTS = {
  intervalSeconds: 30,
  // 100 rather than 200: the same detection of a +2 pp error fault, latency faults caught earlier,
  // false rollbacks within 5 % (npm run bench:rollout, docs/benchmarks.md)
  minimumSamplePerArm: 100,
  deadlineSeconds: 600,
  alpha: 0.05,
} as const;

/**
 * Each built-in metric's defaults: the tolerance (how much worse the candidate may be before the
 * check fails), whether it is relative to the baseline, and the smallest effect worth catching
 * (sets the always-valid test's power; see docs/analysis.md). All are lower-is-better. The
 * error-rate default — fail on any established regression, tuned to catch +2 percentage points —
 * comes from the rollout simulator: tolerance 0.01 caught only about half of +2 pp faults within
 * 20,000 requests, tolerance 0 with a 0.02 minimum effect caught 99.8 % with 1.1 % false rollbacks.
 * Latency p99 is judged relative; the mean of log latency is already a log-ratio (0.1 ≈ 10 % slower).
 */
export const BUILTIN_CHECK_DEFAULTS: Readonly<
  Record<BuiltinCheckMetric, { readonly tolerance: number; readonly relative: boolean; readonly minimumDetectableEffect: number | undefined }>
> = {
  'error-rate': { tolerance: 0, relative: false, minimumDetectableEffect: 0.02 },
  'latency-p99': { tolerance: 0.2, relative: true, minimumDetectableEffect: undefined },
  'latency-mean-log': { tolerance: 0.1, relative: false, minimumDetectableEffect: 0.1 },
  'prediction-js': { tolerance: 0.1, relative: false, minimumDetectableEffect: undefined },
  'shadow-disagreement': { tolerance: 0.05, relative: false, minimumDetectableEffect: undefined },
};

/**
 * Checks run when a template gives none (as Flagger's built-in success-rate and duration checks):
 * latency is judged on the mean of log latency, which has an always-valid test; a p99 has none.
 */
export const DEFAULT_CHECKS: readonly BuiltinCheckMetric[] = ['error-rate', 'latency-mean-log'];

/** Metrics that are shares in [0, 1], so an absolute tolerance above 1 is a mistake. */
const SHARE_METRICS: readonly string[] = ['error-rate', 'prediction-js', 'shadow-disagreement'];

export const FEEDBACK_METRIC_KINDS: readonly FeedbackMetricKind[] = ['rate', 'mean', 'accuracy'];
export const METRIC_DIRECTIONS: readonly MetricDirection[] = ['higher-is-better', 'lower-is-better'];

const TEMPLATE_KEYS = ['interval', 'minimumSamplePerArm', 'deadlineSeconds', 'alpha', 'checks'] as const;
const CHECK_KEYS = ['metric', 'tolerance', 'relative', 'minimumDetectableEffect', 'direction', 'kind', 'event'] as const;

function builtinCheck(metric: BuiltinCheckMetric): AnalysisCheck {
  const d = BUILTIN_CHECK_DEFAULTS[metric];
  return { metric, tolerance: d.tolerance, relative: d.relative, minimumDetectableEffect: d.minimumDetectableEffect, direction: 'lower-is-better', feedback: undefined };
}

/** The optional smallest effect worth catching: a number > 0. */
function readEffect(r: SpecReader, value: unknown, path: string, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback;
  const v = r.num(value, path, 0, 0, Number.MAX_SAFE_INTEGER);
  if (!(v > 0)) {
    r.problem(path, `must be > 0, got ${describe(value)}`);
    return fallback;
  }
  return v;
}

function readCheck(r: SpecReader, value: unknown, path: string): AnalysisCheck | undefined {
  const c = r.mapping(value, path, CHECK_KEYS);
  if (c === undefined) {
    if (value === undefined || value === null) r.problem(path, 'must be a mapping with at least `metric`');
    return undefined;
  }
  const metricPath = join(path, 'metric');
  const metric = c.metric;
  if (!r.require(metric, metricPath, `one of ${BUILTIN_CHECK_METRICS.join(', ')}, or feedback:<name>`)) return undefined;
  if (typeof metric !== 'string') {
    r.problem(metricPath, `must be one of ${BUILTIN_CHECK_METRICS.join(', ')}, or feedback:<name>, got ${describe(metric)}`);
    return undefined;
  }
  const relativeGiven = c.relative !== undefined;
  const relative = r.bool(c.relative, join(path, 'relative'), false);

  if ((BUILTIN_CHECK_METRICS as readonly string[]).includes(metric)) {
    const builtin = metric as BuiltinCheckMetric;
    const d = BUILTIN_CHECK_DEFAULTS[builtin];
    for (const key of ['direction', 'kind', 'event'] as const) {
      if (c[key] !== undefined) r.problem(join(path, key), `applies only to feedback:<name> checks (${metric} is always lower-is-better)`);
    }
    const isRelative = relativeGiven ? relative : d.relative;
    let tolerance = d.tolerance;
    if (c.tolerance === undefined) {
      if (isRelative !== d.relative) r.problem(join(path, 'tolerance'), `is required when relative is ${String(isRelative)} (the default ${d.tolerance} is ${d.relative ? 'relative' : 'absolute'})`);
    } else {
      const max = !isRelative && SHARE_METRICS.includes(metric) ? 1 : Number.MAX_SAFE_INTEGER;
      tolerance = r.num(c.tolerance, join(path, 'tolerance'), d.tolerance, 0, max);
    }
    // a default effect belongs to the default scale: with relative switched, the user sizes it
    const effect = readEffect(r, c.minimumDetectableEffect, join(path, 'minimumDetectableEffect'), isRelative === d.relative ? d.minimumDetectableEffect : undefined);
    if (tolerance === 0 && effect === undefined && metric !== 'prediction-js' && metric !== 'shadow-disagreement') {
      r.problem(join(path, 'minimumDetectableEffect'), 'is required when tolerance is 0 (the smallest regression worth catching sets the test’s power)');
    }
    return { metric: builtin, tolerance, relative: isRelative, minimumDetectableEffect: effect, direction: 'lower-is-better', feedback: undefined };
  }

  if (!metric.startsWith('feedback:')) {
    r.problem(metricPath, `must be one of ${BUILTIN_CHECK_METRICS.join(', ')}, or feedback:<name>, got ${describe(metric)}`);
    return undefined;
  }
  const name = r.metricName(metric.slice('feedback:'.length), metricPath);
  const kind = r.oneOf<FeedbackMetricKind>(c.kind, join(path, 'kind'), 'rate', FEEDBACK_METRIC_KINDS);
  const event = readEvent(r, c.event, join(path, 'event'), kind, name);
  let direction: MetricDirection = 'higher-is-better';
  if (r.require(c.direction, join(path, 'direction'), `${METRIC_DIRECTIONS.join(' or ')} (a feedback metric can go either way)`)) {
    direction = r.oneOf<MetricDirection>(c.direction, join(path, 'direction'), 'higher-is-better', METRIC_DIRECTIONS);
  }
  let tolerance = 0;
  if (r.require(c.tolerance, join(path, 'tolerance'), 'how much worse the candidate may be (a feedback metric has no default)')) {
    tolerance = r.num(c.tolerance, join(path, 'tolerance'), 0, 0, !relative && kind !== 'mean' ? 1 : Number.MAX_SAFE_INTEGER);
  }
  const effect = readEffect(r, c.minimumDetectableEffect, join(path, 'minimumDetectableEffect'), undefined);
  if (tolerance === 0 && effect === undefined && c.tolerance !== undefined) {
    r.problem(join(path, 'minimumDetectableEffect'), 'is required when tolerance is 0 (the smallest change worth catching sets the test’s power)');
  }
  return { metric: `feedback:${name}`, tolerance, relative, minimumDetectableEffect: effect, direction, feedback: { name, kind, event } };
}

/**
 * The feedback event behind a metric: a rate counts `event` (default: the metric's name); a mean
 * averages values, of `event` only when given; accuracy compares labels and takes no event.
 */
export function readEvent(r: SpecReader, value: unknown, path: string, kind: FeedbackMetricKind, name: string): string | undefined {
  if (kind === 'accuracy') {
    if (value !== undefined) r.problem(path, 'does not apply to kind accuracy (it compares feedback labels with predictions)');
    return undefined;
  }
  if (value === undefined) return kind === 'rate' ? name : undefined;
  return r.metricName(value, path);
}

/** Reads an analysis template; undefined (after problems) when it is not a mapping. */
export function readAnalysisTemplate(r: SpecReader, value: unknown, path: string): AnalysisTemplate | undefined {
  // `analysis: {}` and a bare `analysis:` (null) both mean "all defaults"
  const t = value === null ? {} : r.mapping(value, path, TEMPLATE_KEYS);
  if (t === undefined) return undefined;
  const intervalSeconds = r.duration(t.interval, join(path, 'interval'), ANALYSIS_DEFAULTS.intervalSeconds, 1, 24 * 3600);
  const minimumSamplePerArm = r.num(t.minimumSamplePerArm, join(path, 'minimumSamplePerArm'), ANALYSIS_DEFAULTS.minimumSamplePerArm, 1, 1_000_000_000, true);
  const deadlineSeconds = r.num(t.deadlineSeconds, join(path, 'deadlineSeconds'), ANALYSIS_DEFAULTS.deadlineSeconds, 1, MAX_SPEC_SECONDS, true);
  if (deadlineSeconds < intervalSeconds) {
    r.problem(join(path, 'deadlineSeconds'), `must be at least the interval (${intervalSeconds} s), got ${deadlineSeconds}`);
  }
  const alpha = r.fraction(t.alpha, join(path, 'alpha'), ANALYSIS_DEFAULTS.alpha, 0.5);
  let checks: AnalysisCheck[];
  const list = r.list(t.checks, join(path, 'checks'));
  if (list === undefined) {
    checks = DEFAULT_CHECKS.map(builtinCheck);
  } else {
    if (list.length === 0) r.problem(join(path, 'checks'), 'must list at least one check (leave `checks` out for the defaults: error-rate and latency-mean-log)');
    checks = [];
    const seen = new Map<string, number>();
    list.forEach((item, i) => {
      const check = readCheck(r, item, join(join(path, 'checks'), i));
      if (check === undefined) return;
      const earlier = seen.get(check.metric);
      if (earlier !== undefined) r.problem(join(join(path, 'checks'), i), `checks ${check.metric} again (already checks[${earlier}])`);
      seen.set(check.metric, i);
      checks.push(check);
    });
  }
  return { intervalSeconds, minimumSamplePerArm, deadlineSeconds, alpha, checks };
}
