/**
 * Options of the prediction record and the feedback store, in three stages (user options → with
 * defaults → compiled): every problem reported with its path at once, then frozen. The keys are
 * meant to sit under `monitoring` in Slipway's configuration (docs/feedback.md lists them).
 */
import { ConfigReader, deepFreeze, join, type ConfigProblem, type PlatformError } from '../core/index.js';
import { ALERTS_OPTION_KEYS, compileAlertsOptions, type AlertsConfig, type AlertsOptions } from './alerts/options.js';
import { BUSINESS_DEFAULTS, BUSINESS_OPTION_KEYS, compileBusinessOptions, type BusinessConfig, type BusinessOptions } from './business/options.js';
import { compilePayloadLogOptions, PAYLOAD_LOG_DEFAULTS, PAYLOAD_LOG_OPTION_KEYS, type PayloadLogConfig, type PayloadLogOptions } from './payload-log/options.js';

/** What a user may set; every key optional. Numeric strings (env vars, flags) are accepted. */
export interface MonitoringOptions {
  readonly predictions?: {
    readonly enabled?: boolean | string;
    readonly bufferSize?: number | string;
    readonly flushIntervalMs?: number | string;
    readonly flushBatchSize?: number | string;
    readonly summaryRows?: number | string;
    readonly retentionDays?: number | string;
    readonly maxRecords?: number | string;
    readonly pruneIntervalSeconds?: number | string;
  };
  readonly feedback?: {
    readonly maxItems?: number | string;
  };
  /** The payload log (docs/payload-log.md), compiled by its own compiler. */
  readonly payloadLog?: PayloadLogOptions;
  /** Alert rules, webhooks and actions (docs/alerts.md), compiled by their own compiler. */
  readonly alerts?: AlertsOptions;
  /** Business metrics: events, prices, values (docs/business-metrics.md), compiled by their own compiler. */
  readonly business?: BusinessOptions;
  readonly drift?: {
    readonly windowRows?: number | string;
    readonly windowMinutes?: number | string;
    readonly checkIntervalSeconds?: number | string;
    readonly keepResults?: number | string;
    readonly alpha?: number | string;
    readonly driftShare?: number | string;
    readonly performanceRelativeTolerance?: number | string;
  };
}

/** The compiled, frozen options. */
export interface MonitoringConfig {
  readonly predictions: {
    /** Record predictions at all. Off: nothing is recorded, so all feedback is refused as unknown. */
    readonly enabled: boolean;
    /** Records waiting to be written; when full, new ones are dropped and counted, never waited for. */
    readonly bufferSize: number;
    /** How often buffered records are written. */
    readonly flushIntervalMs: number;
    /** Records written per transaction; a buffer this full is written at once. */
    readonly flushBatchSize: number;
    /** Rows of each output whose label, value or argmax is kept. */
    readonly summaryRows: number;
    /** Records older than this are pruned. */
    readonly retentionDays: number;
    /** At most this many records are kept; the oldest go first. */
    readonly maxRecords: number;
    /** How often retention is applied. */
    readonly pruneIntervalSeconds: number;
  };
  readonly feedback: {
    /** Most items one feedback request may carry. */
    readonly maxItems: number;
  };
  /** Every inference request's metadata, sampled bodies (docs/payload-log.md). */
  readonly payloadLog: PayloadLogConfig;
  /** Alert rules, webhooks and actions (docs/alerts.md). */
  readonly alerts: AlertsConfig;
  /** Business metrics (docs/business-metrics.md). */
  readonly business: BusinessConfig;
  /** Live drift windows and their checks (docs/drift.md, Live monitoring). */
  readonly drift: {
    /** Rows after which a window closes. */
    readonly windowRows: number;
    /** Minutes after which a window closes; 0: by rows only. */
    readonly windowMinutes: number;
    /** How often every open window is checked for the gauges and alerts; 0: only on request. */
    readonly checkIntervalSeconds: number;
    /** Checks of closed windows kept per endpoint. */
    readonly keepResults: number;
    /** Significance level of every test (after adjustment). */
    readonly alpha: number;
    /** Share of drifted features at which the dataset drifts. */
    readonly driftShare: number;
    /** Relative worsening of the performance against the profile's that counts as degraded. */
    readonly performanceRelativeTolerance: number;
  };
}

/** The defaults; docs/feedback.md says why each has its value. */
export const MONITORING_DEFAULTS: MonitoringConfig = deepFreeze({
  predictions: {
    enabled: true,
    bufferSize: 10_000,
    flushIntervalMs: 1000,
    flushBatchSize: 1000,
    summaryRows: 16,
    retentionDays: 30,
    maxRecords: 1_000_000,
    pruneIntervalSeconds: 300,
  },
  feedback: { maxItems: 1000 },
  payloadLog: PAYLOAD_LOG_DEFAULTS,
  alerts: compileAlertsOptions(undefined),
  business: BUSINESS_DEFAULTS,
  drift: { windowRows: 100_000, windowMinutes: 60, checkIntervalSeconds: 60, keepResults: 1000, alpha: 0.05, driftShare: 0.5, performanceRelativeTolerance: 0.1 },
});

/** Every key, as a dotted path below the options' own path (`predictions.bufferSize`, …). */
export const MONITORING_OPTION_KEYS: readonly string[] = Object.freeze([
  ...Object.keys(MONITORING_DEFAULTS.predictions).map((k) => `predictions.${k}`),
  ...Object.keys(MONITORING_DEFAULTS.feedback).map((k) => `feedback.${k}`),
  ...Object.keys(MONITORING_DEFAULTS.drift).map((k) => `drift.${k}`),
  ...PAYLOAD_LOG_OPTION_KEYS.map((k) => `payloadLog.${k}`),
  ...ALERTS_OPTION_KEYS.map((k) => `alerts.${k}`),
  ...BUSINESS_OPTION_KEYS.map((k) => `business.${k}`),
]);

/** Configs this module compiled. */
const COMPILED = new WeakSet<object>();

/**
 * Compiles a section that has a compiler of its own, adding its problems to `r` (so one error lists
 * every problem of the whole config); with problems, the section's defaults stand in until finish throws.
 */
function compiledSection<T>(r: ConfigReader, compile: (input: Readonly<Record<string, unknown>> | undefined, context: { path: string; what: string }) => T, input: unknown, path: string): T {
  try {
    return compile(input as Readonly<Record<string, unknown>> | undefined, { path, what: path });
  } catch (error) {
    const problems = (error as PlatformError).details?.problems;
    if (!Array.isArray(problems)) throw error;
    for (const p of problems as ConfigProblem[]) r.problem(p.path, p.message);
    return compile(undefined, { path, what: path });
  }
}

export interface MonitoringOptionsContext {
  /** Dotted path of the options in a larger config, prefixed to every problem path. Default ''. */
  readonly path?: string;
  /** What the options are, for the error message. Default `monitoring options`. */
  readonly what?: string;
}

/**
 * Applies defaults and checks every value; throws CORE_INVALID_CONFIG listing all problems by
 * path. A config this function returned is returned as it is (the sections compiled by their own
 * compilers, alert rules among them, are not all in their input form).
 */
export function compileMonitoringOptions(input: MonitoringOptions | MonitoringConfig | Readonly<Record<string, unknown>> | undefined, context: MonitoringOptionsContext = {}): MonitoringConfig {
  if (typeof input === 'object' && COMPILED.has(input)) return input as MonitoringConfig;
  const base = context.path ?? '';
  const r = new ConfigReader();
  const o = r.section(input, base, ['predictions', 'feedback', 'drift', 'payloadLog', 'alerts', 'business']);
  const pPath = join(base, 'predictions');
  const p = r.section(o.predictions, pPath, Object.keys(MONITORING_DEFAULTS.predictions));
  const fPath = join(base, 'feedback');
  const f = r.section(o.feedback, fPath, Object.keys(MONITORING_DEFAULTS.feedback));
  const dPath = join(base, 'drift');
  const dr = r.section(o.drift, dPath, Object.keys(MONITORING_DEFAULTS.drift));
  const d = MONITORING_DEFAULTS;
  const atDrift = (key: string): string => join(dPath, key);
  const at = (key: string): string => join(pPath, key);

  const config: MonitoringConfig = {
    predictions: {
      enabled: r.boolean(p.enabled, at('enabled'), d.predictions.enabled),
      bufferSize: r.integer(p.bufferSize, at('bufferSize'), d.predictions.bufferSize, 1, 10_000_000),
      flushIntervalMs: r.integer(p.flushIntervalMs, at('flushIntervalMs'), d.predictions.flushIntervalMs, 10, 60_000),
      flushBatchSize: r.integer(p.flushBatchSize, at('flushBatchSize'), d.predictions.flushBatchSize, 1, 100_000),
      summaryRows: r.integer(p.summaryRows, at('summaryRows'), d.predictions.summaryRows, 1, 1024),
      retentionDays: r.integer(p.retentionDays, at('retentionDays'), d.predictions.retentionDays, 1, 3650),
      maxRecords: r.integer(p.maxRecords, at('maxRecords'), d.predictions.maxRecords, 1, 1_000_000_000),
      pruneIntervalSeconds: r.integer(p.pruneIntervalSeconds, at('pruneIntervalSeconds'), d.predictions.pruneIntervalSeconds, 1, 86_400),
    },
    feedback: {
      maxItems: r.integer(f.maxItems, join(fPath, 'maxItems'), d.feedback.maxItems, 1, 100_000),
    },
    payloadLog: compiledSection(r, compilePayloadLogOptions, o.payloadLog, join(base, 'payloadLog')),
    alerts: compiledSection(r, compileAlertsOptions, o.alerts, join(base, 'alerts')),
    business: compiledSection(r, compileBusinessOptions, o.business, join(base, 'business')),
    drift: {
      windowRows: r.integer(dr.windowRows, atDrift('windowRows'), d.drift.windowRows, 100, 10_000_000),
      windowMinutes: r.integer(dr.windowMinutes, atDrift('windowMinutes'), d.drift.windowMinutes, 0, 10_080),
      checkIntervalSeconds: r.integer(dr.checkIntervalSeconds, atDrift('checkIntervalSeconds'), d.drift.checkIntervalSeconds, 0, 86_400),
      keepResults: r.integer(dr.keepResults, atDrift('keepResults'), d.drift.keepResults, 1, 1_000_000),
      alpha: r.number(dr.alpha, atDrift('alpha'), d.drift.alpha, 1e-9, 0.5),
      driftShare: r.number(dr.driftShare, atDrift('driftShare'), d.drift.driftShare, 0.01, 1),
      performanceRelativeTolerance: r.number(dr.performanceRelativeTolerance, atDrift('performanceRelativeTolerance'), d.drift.performanceRelativeTolerance, 0, 100),
    },
  };
  r.finish(context.what ?? 'monitoring options');
  const frozen = deepFreeze(config);
  COMPILED.add(frozen);
  return frozen;
}
