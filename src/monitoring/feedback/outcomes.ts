/**
 * Outcome queries: checking a metric, and assembling a store's per-(variant, version) arms and
 * counts into a report by variant, in the analysis engine's arm shapes.
 */
import { ConfigReader, describe, type ConfigProblem, type PlatformError } from '../../core/index.js';
import { mergeMoments } from '../../stats/index.js';
import { MonitoringErrors } from '../errors.js';
import {
  SHADOW_VARIANT,
  type ArmRow,
  type OutcomeArm,
  type OutcomeMetric,
  type OutcomeReport,
  type PredictionCountRow,
  type PredictionCounts,
  type TimeWindow,
  type VariantOutcome,
  type VersionOutcome,
} from '../types.js';
import { EVENT_NAME_RULE, isEventName } from './validate.js';

/** The metric kinds: the rollout spec's (`FeedbackMetricKind`), and `error` (the business report's MAE and RMSE). */
export const OUTCOME_METRIC_KINDS = ['rate', 'mean', 'accuracy', 'error'] as const;

/** Builds MONITORING_INVALID_OUTCOME_QUERY from problems. */
export function invalidOutcomeQuery(problems: readonly ConfigProblem[]): PlatformError {
  const list = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  return MonitoringErrors.MONITORING_INVALID_OUTCOME_QUERY(`invalid outcome query (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${list}`, {
    details: { problems: problems.map((p) => ({ path: p.path, message: p.message })) },
  });
}

/** Reads a metric, adding problems to `r` (paths `metric`, `event`, `missing`); undefined when it is unusable. */
export function readOutcomeMetric(r: ConfigReader, kind: unknown, event: unknown, missing: unknown): OutcomeMetric | undefined {
  const before = r.problems.length;
  if (kind === undefined) {
    r.problem('metric', `is required: one of ${OUTCOME_METRIC_KINDS.join(', ')}`);
    return undefined;
  }
  if (typeof kind !== 'string' || !(OUTCOME_METRIC_KINDS as readonly string[]).includes(kind)) {
    r.problem('metric', `must be one of ${OUTCOME_METRIC_KINDS.join(', ')}, got ${describe(kind)}`);
    return undefined;
  }
  const eventName = (): string | undefined => {
    if (event === undefined) return undefined;
    if (typeof event === 'string' && isEventName(event)) return event;
    r.problem('event', `must be an event name (${EVENT_NAME_RULE}), got ${describe(event)}`);
    return undefined;
  };
  if (kind !== 'mean' && missing !== undefined) r.problem('missing', `applies only to metric mean, not ${kind}`);
  switch (kind) {
    case 'rate': {
      if (event === undefined) r.problem('event', `is required for metric rate: the event whose share of predictions is measured (${EVENT_NAME_RULE})`);
      const name = eventName();
      return r.problems.length > before || name === undefined ? undefined : { kind, event: name };
    }
    case 'mean': {
      const name = eventName();
      let fill: 'skip' | 'zero' | undefined;
      if (missing === 'skip' || missing === 'zero') fill = missing;
      else if (missing !== undefined) r.problem('missing', `must be skip or zero, got ${describe(missing)}`);
      if (r.problems.length > before) return undefined;
      return { kind, ...(name === undefined ? {} : { event: name }), ...(fill === undefined ? {} : { missing: fill }) };
    }
    case 'accuracy':
    case 'error':
      if (event !== undefined) r.problem('event', `does not apply to metric ${kind} (it compares feedback labels with predictions)`);
      return r.problems.length > before ? undefined : { kind };
  }
  return undefined;
}

/** Checks a metric given in code; throws MONITORING_INVALID_OUTCOME_QUERY listing every problem. */
export function checkOutcomeMetric(metric: unknown): OutcomeMetric {
  const r = new ConfigReader();
  if (typeof metric !== 'object' || metric === null) {
    r.problem('metric', `must be {kind: ${OUTCOME_METRIC_KINDS.join('|')}, event?, missing?}, got ${describe(metric)}`);
    throw invalidOutcomeQuery(r.problems);
  }
  const m = metric as Record<string, unknown>;
  r.onlyKeys(m, 'metric', ['kind', 'event', 'missing']);
  const read = readOutcomeMetric(r, m.kind, m.event, m.missing);
  if (read === undefined || r.problems.length > 0) throw invalidOutcomeQuery(r.problems);
  return read;
}

/** Checks a window given in code. */
export function checkWindow(window: TimeWindow): TimeWindow {
  const r = new ConfigReader();
  if (!Number.isFinite(window.since)) r.problem('since', `must be a time in ms since the epoch, got ${describe(window.since)}`);
  if (window.until !== undefined && !Number.isFinite(window.until)) r.problem('until', `must be a time in ms since the epoch, got ${describe(window.until)}`);
  if (r.problems.length === 0 && window.until !== undefined && window.until <= window.since) r.problem('until', `must be after since (${window.since}), got ${window.until}`);
  if (r.problems.length > 0) throw invalidOutcomeQuery(r.problems);
  return window;
}

/** The arm of a metric with no data yet. */
export function emptyOutcomeArm(metric: OutcomeMetric): OutcomeArm {
  return metric.kind === 'mean' || metric.kind === 'error' ? { kind: 'continuous', n: 0, mean: 0, m2: 0 } : { kind: 'rate', n: 0, successes: 0 };
}

/** Pools two arms of the same kind as if their observations were one sample. */
export function mergeOutcomeArms(a: OutcomeArm, b: OutcomeArm): OutcomeArm {
  if (a.kind === 'rate' && b.kind === 'rate') return { kind: 'rate', n: a.n + b.n, successes: a.successes + b.successes };
  if (a.kind === 'continuous' && b.kind === 'continuous') return { kind: 'continuous', ...mergeMoments(a, b) };
  throw new Error(`cannot merge a ${a.kind} arm with a ${b.kind} arm`);
}

const key = (variant: string, version: number | null): string => `${variant}\u0000${version ?? ''}`;

function compareVersions(a: number | null, b: number | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a - b;
}

const compareNames = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Whether the shadow's records take part in a metric: only those comparing labels with predictions (nobody saw the shadow's answers, so they caused no events). */
export function shadowCounts(metric: OutcomeMetric): boolean {
  return metric.kind === 'accuracy' || metric.kind === 'error';
}

/**
 * The number a prediction's label text is, as the error metric reads it: JSON number text (what a
 * numeric prediction's text is, `String(value)`); undefined for any other text. The SQLite store
 * asks the same of its JSON functions (json_valid, json_type, json_extract).
 */
export function numberOfText(text: string): number | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'number' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Assembles a report: every (variant, version) with predictions in the window, with its arm or an empty one. */
export function buildOutcomeReport(endpoint: string, window: TimeWindow, metric: OutcomeMetric, arms: readonly ArmRow[], counts: readonly PredictionCountRow[]): OutcomeReport {
  const armByKey = new Map(arms.map((a) => [key(a.variant, a.version), a.arm]));
  const rows = new Map<string, VersionOutcome>();
  for (const c of counts) {
    if (c.variant === SHADOW_VARIANT && !shadowCounts(metric)) continue;
    rows.set(key(c.variant, c.version), { ...c, arm: armByKey.get(key(c.variant, c.version)) ?? emptyOutcomeArm(metric) });
  }
  // an arm without counts cannot come from a consistent store, but never lose data
  for (const a of arms) {
    if (!rows.has(key(a.variant, a.version))) rows.set(key(a.variant, a.version), { variant: a.variant, version: a.version, predictions: 0, answered: 0, arm: a.arm });
  }
  const byVariant = new Map<string, VersionOutcome[]>();
  for (const row of rows.values()) {
    const list = byVariant.get(row.variant) ?? [];
    list.push(row);
    byVariant.set(row.variant, list);
  }
  const variants: VariantOutcome[] = [...byVariant.entries()]
    .sort(([a], [b]) => compareNames(a, b))
    .map(([variant, list]) => {
      const versions = list.sort((a, b) => compareVersions(a.version, b.version));
      return {
        variant,
        predictions: versions.reduce((s, v) => s + v.predictions, 0),
        answered: versions.reduce((s, v) => s + v.answered, 0),
        arm: versions.map((v) => v.arm).reduce(mergeOutcomeArms, emptyOutcomeArm(metric)),
        versions,
      };
    });
  return { endpoint, metric, since: window.since, until: window.until ?? null, variants };
}

/** Assembles prediction counts by variant. */
export function buildPredictionCounts(endpoint: string, window: TimeWindow, counts: readonly PredictionCountRow[]): PredictionCounts {
  const byVariant = new Map<string, PredictionCountRow[]>();
  for (const c of counts) {
    const list = byVariant.get(c.variant) ?? [];
    list.push({ variant: c.variant, version: c.version, predictions: c.predictions, answered: c.answered });
    byVariant.set(c.variant, list);
  }
  return {
    endpoint,
    since: window.since,
    until: window.until ?? null,
    variants: [...byVariant.entries()]
      .sort(([a], [b]) => compareNames(a, b))
      .map(([variant, list]) => {
        const versions = list.sort((a, b) => compareVersions(a.version, b.version));
        return { variant, predictions: versions.reduce((s, v) => s + v.predictions, 0), answered: versions.reduce((s, v) => s + v.answered, 0), versions };
      }),
  };
}
