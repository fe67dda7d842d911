/**
 * Options of the prediction record and the feedback store, in three stages (user options → with
 * defaults → compiled): every problem reported with its path at once, then frozen. The keys are
 * meant to sit under `monitoring` in Slipway's configuration (docs/feedback.md lists them).
 */
import { ConfigReader, deepFreeze, join } from '../core/index.js';

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
});

/** Every key, as a dotted path below the options' own path (`predictions.bufferSize`, …). */
export const MONITORING_OPTION_KEYS: readonly string[] = Object.freeze([
  ...Object.keys(MONITORING_DEFAULTS.predictions).map((k) => `predictions.${k}`),
  ...Object.keys(MONITORING_DEFAULTS.feedback).map((k) => `feedback.${k}`),
]);

export interface MonitoringOptionsContext {
  /** Dotted path of the options in a larger config, prefixed to every problem path. Default ''. */
  readonly path?: string;
  /** What the options are, for the error message. Default `monitoring options`. */
  readonly what?: string;
}

/**
 * Applies defaults and checks every value; throws CORE_INVALID_CONFIG listing all problems by
 * path. Compiling a compiled {@link MonitoringConfig} again yields an equal one.
 */
export function compileMonitoringOptions(input: MonitoringOptions | Readonly<Record<string, unknown>> | undefined, context: MonitoringOptionsContext = {}): MonitoringConfig {
  const base = context.path ?? '';
  const r = new ConfigReader();
  const o = r.object(input, base);
  r.onlyKeys(o, base, ['predictions', 'feedback']);
  const pPath = join(base, 'predictions');
  const p = r.object(o.predictions, pPath);
  r.onlyKeys(p, pPath, Object.keys(MONITORING_DEFAULTS.predictions));
  const fPath = join(base, 'feedback');
  const f = r.object(o.feedback, fPath);
  r.onlyKeys(f, fPath, Object.keys(MONITORING_DEFAULTS.feedback));
  const d = MONITORING_DEFAULTS;
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
  };
  r.finish(context.what ?? 'monitoring options');
  return deepFreeze(config);
}
