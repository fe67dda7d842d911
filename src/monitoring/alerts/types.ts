/**
 * The alerts vocabulary: rules (as written and as compiled), the samples they read, alerts as the
 * evaluator keeps and shows them, and the events kept in history. See docs/alerts.md.
 */

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
/** How bad an alert is; webhooks may filter on it. */
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export const ALERT_REDUCES = ['value', 'rate', 'increase', 'ratio', 'p50', 'p90', 'p95', 'p99', 'mean'] as const;
/**
 * How a rule turns a metric's series into one number per alert instance:
 * `value` the current value (gauges); `rate` the per-second increase of a counter over the window;
 * `increase` its increase; `ratio` the increase of `metric` ÷ the increase of `denominator`;
 * `p50`…`p99` a quantile and `mean` the mean of a histogram's observations in the window.
 */
export type AlertReduce = (typeof ALERT_REDUCES)[number];

export const ALERT_OPS = ['>', '>=', '<', '<=', '==', '!='] as const;
export type AlertOp = (typeof ALERT_OPS)[number];

export const ALERT_ACTIONS = ['none', 'pause-rollout', 'rollback'] as const;
/** What a firing alert may do to its endpoint; runs only when `monitoring.alerts.actions.enabled` is also true. */
export type AlertActionKind = (typeof ALERT_ACTIONS)[number];

export const MATCHER_OPS = ['=', '!=', '=~', '!~'] as const;
export type MatcherOp = (typeof MATCHER_OPS)[number];

/** A label matcher as written: a string is an exact match; the object form is Prometheus's four matchers (regexes fully anchored). */
export type LabelMatcherInput = string | { readonly op: MatcherOp; readonly value: string };

/** A rule as a user writes it (config file, API body, `slipway alerts set -f`). */
export interface AlertRuleInput {
  readonly name: string;
  /** A `slipway_*` metric (a histogram's family name for p50…p99 and mean; `…_count`/`…_sum` work for the others). */
  readonly metric: string;
  /** Only series whose labels match. */
  readonly labels?: Readonly<Record<string, LabelMatcherInput>>;
  /** Sum the series per these labels (one alert per group) instead of one alert per series. */
  readonly by?: readonly string[];
  /** Default `value`. */
  readonly reduce?: AlertReduce;
  /** For `ratio`: the metric whose increase divides (e.g. `slipway_requests_total`). */
  readonly denominator?: string;
  /** Matchers of the denominator's series (default: `labels`). */
  readonly denominatorLabels?: Readonly<Record<string, LabelMatcherInput>>;
  /** Look-back of rate, increase, ratio and the histogram reduces: `'5m'` or seconds. Default `'5m'`. */
  readonly window?: string | number;
  readonly op: AlertOp;
  readonly threshold: number;
  /** How long the condition must hold before the alert fires: `'2m'` or seconds. Default 0. */
  readonly for?: string | number;
  /** Default `warning`. */
  readonly severity?: AlertSeverity;
  /** Observations the figure must rest on (ratio: the denominator's increase; histograms: the count's; rate/increase: the increase). */
  readonly minSamples?: number;
  /** Default `none`. */
  readonly action?: AlertActionKind;
  readonly description?: string;
}

/** A compiled label matcher. */
export interface LabelMatcher {
  readonly label: string;
  readonly op: MatcherOp;
  readonly value: string;
  /** Anchored regex for `=~` / `!~`. */
  readonly regex: RegExp | undefined;
}

/** A rule in canonical written form: what the API returns and the store keeps (durations as `5m`). */
export interface AlertRuleSpec {
  readonly name: string;
  readonly metric: string;
  readonly labels?: Readonly<Record<string, LabelMatcherInput>>;
  readonly by?: readonly string[];
  readonly reduce: AlertReduce;
  readonly denominator?: string;
  readonly denominatorLabels?: Readonly<Record<string, LabelMatcherInput>>;
  readonly window: string;
  readonly op: AlertOp;
  readonly threshold: number;
  readonly for: string;
  readonly severity: AlertSeverity;
  readonly minSamples?: number;
  readonly action: AlertActionKind;
  readonly description?: string;
}

/** A checked rule, ready to evaluate. */
export interface AlertRule {
  readonly name: string;
  readonly metric: string;
  readonly matchers: readonly LabelMatcher[];
  readonly by: readonly string[] | undefined;
  readonly reduce: AlertReduce;
  readonly denominator: string | undefined;
  readonly denominatorMatchers: readonly LabelMatcher[];
  readonly windowSeconds: number;
  readonly op: AlertOp;
  readonly threshold: number;
  readonly forSeconds: number;
  readonly severity: AlertSeverity;
  /** 0 when not set. */
  readonly minSamples: number;
  readonly action: AlertActionKind;
  readonly description: string | undefined;
  /** The rule written back in canonical form. */
  readonly spec: AlertRuleSpec;
}

// ---- samples ---------------------------------------------------------------------------------

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

/** One sample: a histogram's family holds `…_bucket` (with `le`), `…_sum` and `…_count` samples. */
export interface MetricSample {
  readonly name: string;
  /** Label values as text (`le` as `0.1`, `+Inf`). */
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One metric family, as a Prometheus scrape shows it. */
export interface MetricFamily {
  readonly name: string;
  readonly type: MetricType;
  readonly samples: readonly MetricSample[];
}

// ---- alerts ----------------------------------------------------------------------------------

/** The figures a rule's value came from, kept as the alert's evidence. */
export interface RuleFigures {
  readonly metric: string;
  readonly reduce: AlertReduce;
  /** The value compared with the threshold (null: too little data to judge). */
  readonly value: number | null;
  /** Series that went into the value. */
  readonly series: number;
  /** The rule's window, and the span the samples actually covered (shorter while history fills). */
  readonly windowSeconds: number;
  readonly coveredSeconds: number;
  /** rate / increase / ratio: the (numerator's) increase over the covered span. */
  readonly increase?: number;
  /** ratio: the denominator metric and its increase. */
  readonly denominator?: string;
  readonly denominatorIncrease?: number;
  /** Histogram reduces: observations in the window, and their sum. */
  readonly count?: number;
  readonly sum?: number;
  /** What minSamples was compared with, when the rule sets it. */
  readonly samples?: number;
  readonly minSamples?: number;
}

/** What the evidence port adds (e.g. the drifted features of a drift alert), or why it could not. */
export interface AlertEvidence {
  readonly figures: RuleFigures;
  /** Whatever the injected evidence port returned for this alert. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** The evidence port failed or timed out: its message. */
  readonly detailsError?: string;
}

/** Where an action ended: run and succeeded, failed, or not run because the second lock is off. */
export interface AlertActionRecord {
  readonly kind: Exclude<AlertActionKind, 'none'>;
  readonly status: 'ok' | 'error' | 'disabled';
  readonly message: string;
  /** ISO-8601. */
  readonly at: string;
}

/** One alert instance (rule + label set) as the API and notifications show it. */
export interface AlertView {
  readonly rule: string;
  /** 16 hex digits from the rule name and the labels, stable across restarts. */
  readonly fingerprint: string;
  readonly state: 'pending' | 'firing' | 'resolved';
  readonly severity: AlertSeverity;
  /** The instance's labels (the series', or the `by` labels). */
  readonly labels: Readonly<Record<string, string>>;
  readonly endpoint: string | null;
  readonly model: string | null;
  readonly version: string | null;
  readonly variant: string | null;
  readonly value: number | null;
  readonly op: AlertOp;
  readonly threshold: number;
  readonly window: string;
  readonly for: string;
  /** ISO-8601: when the condition started to hold. */
  readonly since: string;
  /** ISO-8601: when the alert fired (null while pending). */
  readonly firingSince: string | null;
  /** ISO-8601: when it resolved (null unless resolved). */
  readonly resolvedAt: string | null;
  readonly summary: string;
  readonly description: string | null;
  readonly evidence: AlertEvidence;
  readonly action: AlertActionRecord | null;
}

export type AlertHistoryType = 'firing' | 'resolved' | 'action';

/** One entry of the alert history (newest first from the API). */
export interface AlertHistoryEvent {
  /** Assigned by the store, increasing. */
  readonly id: number;
  /** ISO-8601. */
  readonly at: string;
  readonly type: AlertHistoryType;
  readonly rule: string;
  readonly fingerprint: string;
  readonly severity: AlertSeverity;
  readonly message: string;
  readonly alert: AlertView;
}

/** A history event before the store numbers it. */
export type NewAlertHistoryEvent = Omit<AlertHistoryEvent, 'id'>;

/** What a notifier is given once per firing (and per repeat) and once per resolution. */
export interface AlertNotification {
  readonly status: 'firing' | 'resolved';
  readonly alert: AlertView;
}
