/**
 * Options of alerting, under `monitoring.alerts`: user options → defaults → compiled and frozen,
 * every problem reported with its path at once. docs/alerts.md says why each default is what it is.
 */
import { ConfigReader, deepFreeze, describe, join, type ConfigProblem, type PlatformError } from '../../core/index.js';
import { readAlertRule } from './rules.js';
import { ALERT_SEVERITIES, type AlertRule, type AlertSeverity } from './types.js';

/** One webhook receiver. */
export interface WebhookReceiverConfig {
  readonly name: string;
  /** http(s) URL that takes the POST. */
  readonly url: string;
  /** Extra request headers (e.g. Authorization). */
  readonly headers: Readonly<Record<string, string>>;
  /** Only alerts of these severities are sent here. */
  readonly severities: readonly AlertSeverity[];
  /** One attempt's deadline. */
  readonly timeoutMs: number;
}

/** The compiled, frozen options. */
export interface AlertsConfig {
  /** Evaluate rules at all (rules can still be managed through the API when off). */
  readonly enabled: boolean;
  readonly evaluationIntervalSeconds: number;
  /** A still-firing alert is sent again after this long; 0 = never again. */
  readonly repeatIntervalMinutes: number;
  /** How long the evidence provider may take per alert. */
  readonly evidenceTimeoutMs: number;
  /** How long an action is waited for before it is recorded as timed out (it may still finish). */
  readonly actionTimeoutMs: number;
  /** Series the evaluator keeps history of, over all rules; more are ignored and counted. */
  readonly maxSeries: number;
  /** Rules the API may create. */
  readonly maxApiRules: number;
  readonly webhooks: readonly WebhookReceiverConfig[];
  readonly notifier: {
    /** Notifications waiting per receiver (the one in flight included); more are dropped and counted. */
    readonly queueSize: number;
    /** Attempts per notification (first one included). */
    readonly maxAttempts: number;
    readonly initialBackoffMs: number;
    readonly maxBackoffMs: number;
    /** How long close waits for queued notifications. */
    readonly closeTimeoutMs: number;
  };
  /** Rules from the configuration file: read-only to the API. */
  readonly rules: readonly AlertRule[];
  readonly actions: {
    /** The second lock: a rule's action runs only when this is true too. */
    readonly enabled: boolean;
  };
  readonly history: {
    /** Events kept; the oldest go first. */
    readonly maxEvents: number;
  };
}

/** What a user may set (numbers may be strings: env vars, flags). */
export type AlertsOptions = Readonly<Record<string, unknown>>;

export const ALERTS_DEFAULTS = deepFreeze({
  enabled: true,
  evaluationIntervalSeconds: 15,
  repeatIntervalMinutes: 240,
  evidenceTimeoutMs: 2000,
  actionTimeoutMs: 30_000,
  maxSeries: 10_000,
  maxApiRules: 500,
  notifier: { queueSize: 1000, maxAttempts: 5, initialBackoffMs: 500, maxBackoffMs: 30_000, closeTimeoutMs: 5000 },
  actions: { enabled: false },
  history: { maxEvents: 10_000 },
  webhookTimeoutMs: 5000,
});

const TOP_KEYS = ['enabled', 'evaluationIntervalSeconds', 'repeatIntervalMinutes', 'evidenceTimeoutMs', 'actionTimeoutMs', 'maxSeries', 'maxApiRules', 'webhooks', 'notifier', 'rules', 'actions', 'history'];
const NOTIFIER_KEYS = Object.keys(ALERTS_DEFAULTS.notifier);
const WEBHOOK_KEYS = ['name', 'url', 'headers', 'severities', 'timeoutMs'];
const WEBHOOK_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

/**
 * Every scalar key, as a dotted path below the options' own path (`actions.enabled`, …): these
 * can come from SLIPWAY_* variables. `webhooks` and `rules` are lists, set in the file only.
 */
export const ALERTS_OPTION_KEYS: readonly string[] = Object.freeze([
  'enabled',
  'evaluationIntervalSeconds',
  'repeatIntervalMinutes',
  'evidenceTimeoutMs',
  'actionTimeoutMs',
  'maxSeries',
  'maxApiRules',
  ...NOTIFIER_KEYS.map((k) => `notifier.${k}`),
  'actions.enabled',
  'history.maxEvents',
]);

/** The list keys, settable in the configuration file only. */
export const ALERTS_LIST_KEYS: readonly string[] = Object.freeze(['webhooks', 'rules']);

export interface AlertsOptionsContext {
  /** Dotted path of the options in a larger config, prefixed to every problem path. Default ''. */
  readonly path?: string;
  /** What the options are, for the error message. Default `alerts options`. */
  readonly what?: string;
}

function readWebhook(r: ConfigReader, value: unknown, path: string): WebhookReceiverConfig | undefined {
  const before = r.problems.length;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    r.problem(path, `must be a mapping (name, url, headers, severities, timeoutMs), got ${describe(value)}`);
    return undefined;
  }
  const o = value as Record<string, unknown>;
  r.onlyKeys(o, path, WEBHOOK_KEYS);
  if (o.name === undefined) r.problem(join(path, 'name'), 'is required');
  if (o.url === undefined) r.problem(join(path, 'url'), 'is required');
  const name = r.string(o.name, join(path, 'name'), '', (v) => (WEBHOOK_NAME.test(v) ? undefined : `must be 1–63 letters, digits, "-" or "_", starting with a letter, got ${describe(v)}`));
  const url = r.string(o.url, join(path, 'url'), '', (v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : `must be an http or https URL, got ${describe(v)}`;
    } catch {
      return `must be an http or https URL, got ${describe(v)}`;
    }
  });
  const headers = r.httpHeaders(o.headers, join(path, 'headers'));
  let severities: AlertSeverity[] = [...ALERT_SEVERITIES];
  if (o.severities !== undefined) {
    if (!Array.isArray(o.severities) || o.severities.length === 0) r.problem(join(path, 'severities'), `must be a non-empty list of ${ALERT_SEVERITIES.join(', ')}, got ${describe(o.severities)}`);
    else severities = o.severities.map((s: unknown, i) => r.oneOf(s, join(join(path, 'severities'), i), 'warning', ALERT_SEVERITIES));
  }
  const timeoutMs = r.integer(o.timeoutMs, join(path, 'timeoutMs'), ALERTS_DEFAULTS.webhookTimeoutMs, 100, 300_000);
  return r.problems.length > before ? undefined : { name, url, headers, severities: [...new Set(severities)], timeoutMs };
}

/** Reads the options into `r`'s problems; used by {@link compileAlertsOptions}. */
export function readAlertsOptions(r: ConfigReader, input: unknown, base: string): AlertsConfig {
  const o = r.section(input, base, TOP_KEYS);
  const at = (key: string): string => join(base, key);
  const nPath = at('notifier');
  const n = r.section(o.notifier, nPath, NOTIFIER_KEYS);
  const aPath = at('actions');
  const a = r.section(o.actions, aPath, ['enabled']);
  const hPath = at('history');
  const h = r.section(o.history, hPath, ['maxEvents']);
  const d = ALERTS_DEFAULTS;

  const webhooks: WebhookReceiverConfig[] = [];
  if (o.webhooks !== undefined) {
    if (!Array.isArray(o.webhooks)) r.problem(at('webhooks'), `must be a list of receivers, got ${describe(o.webhooks)}`);
    else
      o.webhooks.forEach((w: unknown, i) => {
        const hook = readWebhook(r, w, join(at('webhooks'), i));
        if (hook === undefined) return;
        if (webhooks.some((x) => x.name === hook.name)) r.problem(join(join(at('webhooks'), i), 'name'), `repeats the receiver name ${JSON.stringify(hook.name)}`);
        else webhooks.push(hook);
      });
  }
  const rules: AlertRule[] = [];
  if (o.rules !== undefined) {
    if (!Array.isArray(o.rules)) r.problem(at('rules'), `must be a list of rules, got ${describe(o.rules)}`);
    else
      o.rules.forEach((raw: unknown, i) => {
        const rule = readAlertRule(r, raw, join(at('rules'), i));
        if (rule === undefined) return;
        if (rules.some((x) => x.name === rule.name)) r.problem(join(join(at('rules'), i), 'name'), `repeats the rule name ${JSON.stringify(rule.name)}`);
        else rules.push(rule);
      });
  }
  const initialBackoffMs = r.integer(n.initialBackoffMs, join(nPath, 'initialBackoffMs'), d.notifier.initialBackoffMs, 1, 600_000);
  const maxBackoffMs = r.integer(n.maxBackoffMs, join(nPath, 'maxBackoffMs'), d.notifier.maxBackoffMs, 1, 3_600_000);
  if (maxBackoffMs < initialBackoffMs) r.problem(join(nPath, 'maxBackoffMs'), `must be ≥ initialBackoffMs (${initialBackoffMs}), got ${maxBackoffMs}`);

  return {
    enabled: r.boolean(o.enabled, at('enabled'), d.enabled),
    evaluationIntervalSeconds: r.integer(o.evaluationIntervalSeconds, at('evaluationIntervalSeconds'), d.evaluationIntervalSeconds, 1, 3600),
    repeatIntervalMinutes: r.integer(o.repeatIntervalMinutes, at('repeatIntervalMinutes'), d.repeatIntervalMinutes, 0, 10_080),
    evidenceTimeoutMs: r.integer(o.evidenceTimeoutMs, at('evidenceTimeoutMs'), d.evidenceTimeoutMs, 1, 60_000),
    actionTimeoutMs: r.integer(o.actionTimeoutMs, at('actionTimeoutMs'), d.actionTimeoutMs, 1, 600_000),
    maxSeries: r.integer(o.maxSeries, at('maxSeries'), d.maxSeries, 1, 10_000_000),
    maxApiRules: r.integer(o.maxApiRules, at('maxApiRules'), d.maxApiRules, 0, 100_000),
    webhooks,
    notifier: {
      queueSize: r.integer(n.queueSize, join(nPath, 'queueSize'), d.notifier.queueSize, 1, 1_000_000),
      maxAttempts: r.integer(n.maxAttempts, join(nPath, 'maxAttempts'), d.notifier.maxAttempts, 1, 100),
      initialBackoffMs,
      maxBackoffMs,
      closeTimeoutMs: r.integer(n.closeTimeoutMs, join(nPath, 'closeTimeoutMs'), d.notifier.closeTimeoutMs, 0, 600_000),
    },
    rules,
    actions: { enabled: r.boolean(a.enabled, join(aPath, 'enabled'), d.actions.enabled) },
    history: { maxEvents: r.integer(h.maxEvents, join(hPath, 'maxEvents'), d.history.maxEvents, 1, 10_000_000) },
  };
}

/**
 * Applies defaults and checks every value, rules included; throws CORE_INVALID_CONFIG listing all
 * problems by path (`monitoring.alerts.rules[0].threshold: …`). The result is frozen.
 */
export function compileAlertsOptions(input: AlertsOptions | undefined, context: AlertsOptionsContext = {}): AlertsConfig {
  const r = new ConfigReader();
  const config = readAlertsOptions(r, input, context.path ?? '');
  r.finish(context.what ?? 'alerts options');
  return deepFreeze(config);
}

/** The problems of a CORE_INVALID_CONFIG error, for a caller that merges them into its own reader. */
export function configProblemsOf(error: unknown): readonly ConfigProblem[] | undefined {
  const problems = (error as PlatformError | undefined)?.details?.problems;
  return Array.isArray(problems) ? (problems as ConfigProblem[]) : undefined;
}
