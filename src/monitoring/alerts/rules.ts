/**
 * Alert rules: reading a rule as written (config file, API body), checking every field with its
 * path, and writing it back in canonical form. One rule's problems are all reported at once.
 */
import { ConfigReader, describe, DURATION_RULE, formatDuration, join, parseDurationSeconds, type ConfigProblem } from '../../core/index.js';
import { AlertsErrors } from './errors.js';
import {
  ALERT_ACTIONS,
  ALERT_OPS,
  ALERT_REDUCES,
  ALERT_SEVERITIES,
  MATCHER_OPS,
  type AlertReduce,
  type AlertRule,
  type AlertRuleSpec,
  type LabelMatcher,
  type LabelMatcherInput,
  type MatcherOp,
} from './types.js';

/** What a rule name may be: it appears in URLs, labels and webhook payloads. */
export const ALERT_RULE_NAME_RULE = '1–63 letters, digits, "-" or "_", starting with a letter';
const RULE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export const ALERT_DURATION_RULE = DURATION_RULE;

/** Longest window or for-duration a rule may have (the evaluator keeps samples that far back). */
export const MAX_RULE_SECONDS = 7 * 86_400;

/** Histogram reduces and the quantile each stands for (`mean` has none). */
export const QUANTILE_OF: Readonly<Partial<Record<AlertReduce, number>>> = Object.freeze({ p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 });

export function isHistogramReduce(reduce: AlertReduce): boolean {
  return reduce === 'mean' || QUANTILE_OF[reduce] !== undefined;
}

/** Whether a rule name is acceptable ({@link ALERT_RULE_NAME_RULE}). */
export function isValidRuleName(name: string): boolean {
  return RULE_NAME.test(name);
}

/** Seconds of a duration ({@link DURATION_RULE}), or undefined. */
export const parseAlertDuration = parseDurationSeconds;

/** Seconds written back as a duration: 90 → `1m30s`, 0 → `0s`. */
export const formatAlertDuration = formatDuration;

const RULE_KEYS = ['name', 'metric', 'labels', 'by', 'reduce', 'denominator', 'denominatorLabels', 'window', 'op', 'threshold', 'for', 'severity', 'minSamples', 'action', 'description'] as const;

function readMatchers(r: ConfigReader, value: unknown, path: string): { matchers: LabelMatcher[]; written: Record<string, LabelMatcherInput> } | undefined {
  if (value === undefined) return { matchers: [], written: {} };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    r.problem(path, `must be a mapping of label name to value (or {op, value}), got ${describe(value)}`);
    return undefined;
  }
  const matchers: LabelMatcher[] = [];
  const written: Record<string, LabelMatcherInput> = {};
  for (const [label, raw] of Object.entries(value as Record<string, unknown>)) {
    const at = join(path, label);
    if (!LABEL_NAME.test(label)) {
      r.problem(at, 'is not a label name (letters, digits and "_", not starting with a digit)');
      continue;
    }
    let op: MatcherOp = '=';
    let text: unknown = raw;
    if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
      const o = raw as Record<string, unknown>;
      r.onlyKeys(o, at, ['op', 'value']);
      op = r.oneOf<MatcherOp>(o.op, join(at, 'op'), '=', MATCHER_OPS);
      text = o.value;
      if (text === undefined) {
        r.problem(join(at, 'value'), 'is required');
        continue;
      }
    }
    if (typeof text === 'number' || typeof text === 'boolean') text = String(text);
    if (typeof text !== 'string') {
      r.problem(at, `must be a label value (text) or {op, value}, got ${describe(raw)}`);
      continue;
    }
    let regex: RegExp | undefined;
    if (op === '=~' || op === '!~') {
      try {
        regex = new RegExp(`^(?:${text})$`);
      } catch (error) {
        r.problem(join(at, 'value'), `is not a regular expression: ${(error as Error).message}`);
        continue;
      }
    }
    matchers.push({ label, op, value: text, regex });
    written[label] = op === '=' ? text : { op, value: text };
  }
  return { matchers, written };
}

function readDuration(r: ConfigReader, value: unknown, path: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const seconds = parseAlertDuration(value);
  if (seconds === undefined) {
    r.problem(path, `must be ${ALERT_DURATION_RULE}, got ${describe(value)}`);
    return fallback;
  }
  if (seconds < min || seconds > MAX_RULE_SECONDS) {
    r.problem(path, `must be from ${formatAlertDuration(min)} to ${formatAlertDuration(MAX_RULE_SECONDS)}, got ${formatAlertDuration(seconds)}`);
    return fallback;
  }
  return seconds;
}

/**
 * Reads one rule into `r`'s problems (paths under `path`); returns the compiled rule, or
 * undefined when it has problems.
 */
export function readAlertRule(r: ConfigReader, value: unknown, path: string): AlertRule | undefined {
  const before = r.problems.length;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    r.problem(path, `must be a mapping (a rule: name, metric, op, threshold, …), got ${describe(value)}`);
    return undefined;
  }
  const o = value as Record<string, unknown>;
  r.onlyKeys(o, path, RULE_KEYS);
  const at = (key: string): string => join(path, key);
  const required = (key: string): void => {
    if (o[key] === undefined) r.problem(at(key), 'is required');
  };
  required('name');
  required('metric');
  required('op');
  required('threshold');

  const name = r.string(o.name, at('name'), '', (v) => (RULE_NAME.test(v) ? undefined : `must be ${ALERT_RULE_NAME_RULE}, got ${describe(v)}`));
  const metricCheck = (v: string): string | undefined => (METRIC_NAME.test(v) ? undefined : `must be a Prometheus metric name (e.g. slipway_requests_total), got ${describe(v)}`);
  const metric = r.string(o.metric, at('metric'), '', metricCheck);
  const reduce = r.oneOf<AlertReduce>(o.reduce, at('reduce'), 'value', ALERT_REDUCES);
  const histogram = isHistogramReduce(reduce);
  const matchers = readMatchers(r, o.labels, at('labels'));

  let by: string[] | undefined;
  if (o.by !== undefined) {
    if (!Array.isArray(o.by)) r.problem(at('by'), `must be a list of label names, got ${describe(o.by)}`);
    else {
      by = [];
      o.by.forEach((label: unknown, i) => {
        const p = join(at('by'), i);
        if (typeof label !== 'string' || !LABEL_NAME.test(label)) r.problem(p, `must be a label name, got ${describe(label)}`);
        else if (by?.includes(label) === true) r.problem(p, `repeats ${JSON.stringify(label)}`);
        else if (label === 'le' && histogram) r.problem(p, '"le" is the bucket label; the histogram reduces sum over it');
        else by?.push(label);
      });
    }
  }

  let denominator: string | undefined;
  let denominatorMatchers = matchers;
  if (reduce === 'ratio') {
    if (o.denominator === undefined) r.problem(at('denominator'), 'is required with reduce ratio (the metric whose increase divides, e.g. slipway_requests_total)');
    else denominator = r.string(o.denominator, at('denominator'), '', metricCheck);
    if (o.denominatorLabels !== undefined) denominatorMatchers = readMatchers(r, o.denominatorLabels, at('denominatorLabels'));
  } else {
    if (o.denominator !== undefined) r.problem(at('denominator'), `applies only to reduce ratio, not ${reduce}`);
    if (o.denominatorLabels !== undefined) r.problem(at('denominatorLabels'), `applies only to reduce ratio, not ${reduce}`);
  }

  const windowSeconds = readDuration(r, o.window, at('window'), 300, 1);
  const op = r.oneOf(o.op, at('op'), '>', ALERT_OPS);
  let threshold = 0;
  if (o.threshold !== undefined) {
    if (typeof o.threshold === 'number' && Number.isFinite(o.threshold)) threshold = o.threshold;
    else r.problem(at('threshold'), `must be a finite number, got ${describe(o.threshold)}`);
  }
  const forSeconds = readDuration(r, o.for, at('for'), 0, 0);
  const severity = r.oneOf(o.severity, at('severity'), 'warning', ALERT_SEVERITIES);
  let minSamples = 0;
  if (o.minSamples !== undefined) {
    if (reduce === 'value') r.problem(at('minSamples'), 'has no meaning with reduce value (a gauge has no observation count); use rate, increase, ratio or a histogram reduce');
    else if (typeof o.minSamples !== 'number' || !Number.isFinite(o.minSamples) || o.minSamples < 0) r.problem(at('minSamples'), `must be a number ≥ 0, got ${describe(o.minSamples)}`);
    else minSamples = o.minSamples;
  }
  const action = r.oneOf(o.action, at('action'), 'none', ALERT_ACTIONS);
  const description = r.optionalString(o.description, at('description'));
  if (description !== undefined && description.length > 2000) r.problem(at('description'), `must be at most 2000 characters, got ${description.length}`);

  if (r.problems.length > before || matchers === undefined || denominatorMatchers === undefined) return undefined;
  const spec: AlertRuleSpec = {
    name,
    metric,
    ...(Object.keys(matchers.written).length > 0 ? { labels: matchers.written } : {}),
    ...(by === undefined ? {} : { by }),
    reduce,
    ...(denominator === undefined ? {} : { denominator }),
    ...(reduce === 'ratio' && o.denominatorLabels !== undefined ? { denominatorLabels: denominatorMatchers.written } : {}),
    window: formatAlertDuration(windowSeconds),
    op,
    threshold,
    for: formatAlertDuration(forSeconds),
    severity,
    ...(o.minSamples === undefined ? {} : { minSamples }),
    action,
    ...(description === undefined ? {} : { description }),
  };
  return {
    name,
    metric,
    matchers: matchers.matchers,
    by,
    reduce,
    denominator,
    denominatorMatchers: denominatorMatchers.matchers,
    windowSeconds,
    op,
    threshold,
    forSeconds,
    severity,
    minSamples,
    action,
    description,
    spec,
  };
}

/** Throws ALERTS_INVALID_RULE listing the problems, with `details.problems` as `{path, message}`. */
export function invalidRuleError(problems: readonly ConfigProblem[], what = 'alert rule'): Error {
  const lines = problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
  return AlertsErrors.ALERTS_INVALID_RULE(`invalid ${what} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines}`, {
    details: { problems: problems.map((p) => ({ path: p.path, message: p.message })) },
  });
}

/**
 * Compiles one rule; throws ALERTS_INVALID_RULE naming every bad field (paths relative to the
 * rule: `threshold`, `labels.endpoint.op`). Compiling a rule's `spec` again gives an equal rule.
 */
export function compileAlertRule(input: unknown): AlertRule {
  const r = new ConfigReader();
  const rule = readAlertRule(r, input, '');
  if (rule === undefined || r.problems.length > 0) throw invalidRuleError(r.problems);
  return rule;
}

/** Whether a label set passes every matcher (a missing label reads as ""), as Prometheus matches. */
export function matchesLabels(matchers: readonly LabelMatcher[], labels: Readonly<Record<string, string>>): boolean {
  for (const m of matchers) {
    const v = labels[m.label] ?? '';
    switch (m.op) {
      case '=':
        if (v !== m.value) return false;
        break;
      case '!=':
        if (v === m.value) return false;
        break;
      case '=~':
        if (m.regex?.test(v) !== true) return false;
        break;
      case '!~':
        if (m.regex?.test(v) !== false) return false;
        break;
    }
  }
  return true;
}

/** Compares a value with a threshold by a rule's op. */
export function compare(value: number, op: AlertRule['op'], threshold: number): boolean {
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}
