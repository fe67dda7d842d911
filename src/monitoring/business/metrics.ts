/**
 * The business metrics as Prometheus gauges on a given prom-client Registry (names `slipway_*`,
 * labels endpoint, model, version, variant, as in src/monitoring/metrics/metrics.ts).
 *
 * A scrape never queries the store: the gauges read reports cached by a refresh that runs every
 * `refreshIntervalSeconds` over the endpoints an injected function lists, each over the last
 * `metricsWindowHours`. The CPU counters read the usage meter's in-memory totals.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { silentLogger, systemClock, toPlatformError, type Clock, type Logger, type TimerHandle } from '../../core/index.js';
import type { BusinessMetrics, BusinessReport, VersionBusiness } from './report.js';
import type { UsageTotals } from './usage.js';

export interface BusinessGaugesOptions {
  readonly business: Pick<BusinessMetrics, 'report' | 'config'>;
  /** The endpoints to report on (every endpoint the registry knows). */
  endpoints(): Promise<readonly string[]>;
  /** The usage meter, for `slipway_cpu_seconds_total`; absent: those counters are not registered. */
  readonly usage?: { totals(): UsageTotals };
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Default: the business config's `refreshIntervalSeconds`. */
  readonly refreshIntervalSeconds?: number;
  /** Default: the business config's `metricsWindowHours`. */
  readonly metricsWindowHours?: number;
  /** Refresh at once and then on the interval. Default true; tests call `refresh()` themselves. */
  readonly autoRefresh?: boolean;
}

export interface BusinessGaugesStats {
  readonly refreshes: number;
  /** Endpoint reports that failed (the endpoint keeps its previous figures until one succeeds). */
  readonly failures: number;
  /** When the last refresh finished, ms since the epoch; null before the first. */
  readonly lastRefreshAt: number | null;
  /** How long the last refresh took, ms; null before the first. */
  readonly lastRefreshMs: number | null;
  /** How long after the last refresh the next one starts, ms: the interval, or longer after a slow refresh ({@link REFRESH_SHARE}). */
  readonly nextRefreshAfterMs: number;
}

/**
 * The most of a core's time the periodic refresh may take. Its report is aggregate queries over
 * the prediction records (in the server, on the store's reader thread), so its cost grows with the
 * records in the window (at ~1 M records, seconds of CPU taken from serving on a busy machine);
 * after a refresh that took d, the next starts no sooner than d × (1 − share) / share later — 49 d
 * at 2 % — even if the interval is shorter.
 */
export const REFRESH_SHARE = 0.02;

export interface BusinessGauges {
  /** Recomputes every endpoint's cached report now; a call during a refresh shares it. */
  refresh(): Promise<void>;
  /** The cached report of an endpoint, as the gauges show it. */
  cached(endpoint: string): BusinessReport | undefined;
  stats(): BusinessGaugesStats;
  /** Stops the refresh timer and waits for a refresh in progress (it reads the store, which closes next). Idempotent. The gauges stay registered with their last figures. */
  close(): Promise<void>;
}

/** Every metric name this module registers, for docs and tests. */
export const BUSINESS_METRIC_NAMES = Object.freeze([
  'slipway_business_predictions',
  'slipway_business_conversion_rate',
  'slipway_business_revenue_sum',
  'slipway_business_revenue_mean',
  'slipway_business_revenue_mean_earning',
  'slipway_business_label_accuracy',
  'slipway_business_labels',
  'slipway_business_label_mae',
  'slipway_business_label_rmse',
  'slipway_business_numeric_labels',
  'slipway_business_cpu_seconds',
  'slipway_business_cost_per_1k_predictions',
  'slipway_business_value_per_1k_predictions',
  'slipway_business_net_value_per_1k_predictions',
  'slipway_business_report_timestamp_seconds',
  'slipway_cpu_seconds_total',
  'slipway_cpu_unattributed_seconds_total',
] as const);

const ROW_LABELS = ['endpoint', 'model', 'version', 'variant'] as const;
const MONEY_LABELS = [...ROW_LABELS, 'currency'] as const;

type RowLabels = Record<(typeof ROW_LABELS)[number], string>;

/** Registers the business gauges and CPU counters on `registry` and starts their refresh. */
export function registerBusinessMetrics(registry: Registry, options: BusinessGaugesOptions): BusinessGauges {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const refreshMs = (options.refreshIntervalSeconds ?? options.business.config.refreshIntervalSeconds) * 1000;
  const windowHours = options.metricsWindowHours ?? options.business.config.metricsWindowHours;
  const over = `over predictions of the last ${windowHours} h (monitoring.business.metricsWindowHours)`;

  const cache = new Map<string, BusinessReport>();
  const counters = { refreshes: 0, failures: 0, lastRefreshAt: null as number | null, lastRefreshMs: null as number | null };
  const nextRefreshAfterMs = (): number => Math.max(refreshMs, Math.ceil(((counters.lastRefreshMs ?? 0) * (1 - REFRESH_SHARE)) / REFRESH_SHARE));

  const rows = function* (): Generator<{ labels: RowLabels; report: BusinessReport; row: VersionBusiness }> {
    for (const report of cache.values()) {
      for (const variant of report.variants) {
        for (const row of variant.versions) {
          yield { labels: { endpoint: report.endpoint, model: row.model ?? '', version: row.version === null ? 'none' : String(row.version), variant: row.variant }, report, row };
        }
      }
    }
  };

  /** A gauge per (endpoint, model, version, variant) filled from the cache at scrape time; null figures leave the series out. */
  const rowGauge = (name: string, help: string, pick: (row: VersionBusiness) => number | null | undefined): void => {
    new Gauge({
      name,
      help,
      labelNames: ROW_LABELS,
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, row } of rows()) {
          const value = pick(row);
          if (value !== null && value !== undefined) this.set(labels, value);
        }
      },
    });
  };
  const moneyGauge = (name: string, help: string, pick: (row: VersionBusiness) => number | null): void => {
    new Gauge({
      name,
      help,
      labelNames: MONEY_LABELS,
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, report, row } of rows()) {
          const value = pick(row);
          if (value !== null) this.set({ ...labels, currency: report.currency }, value);
        }
      },
    });
  };

  rowGauge('slipway_business_predictions', `Predictions recorded (errors included) ${over}.`, (r) => r.predictions);
  rowGauge('slipway_business_conversion_rate', `Share of answered predictions that received the conversion event (monitoring.business.conversionEvent) ${over}; absent for the shadow and with no answered prediction.`, (r) =>
    r.conversion?.rate,
  );
  rowGauge('slipway_business_revenue_sum', `Sum of the revenue event's feedback values (monitoring.business.revenueEvent) ${over}.`, (r) => r.revenue?.sum);
  rowGauge('slipway_business_revenue_mean', `Revenue per answered prediction, predictions without the revenue event counting 0, ${over}.`, (r) => r.revenue?.meanPerPrediction);
  rowGauge('slipway_business_revenue_mean_earning', `Revenue per prediction that received a value of the revenue event (the typical purchase) ${over}.`, (r) => r.revenue?.meanPerEarning);
  rowGauge('slipway_business_label_accuracy', `Share of labelled one-row predictions whose feedback label equals the prediction ${over}; absent with no labels.`, (r) => r.accuracy.accuracy);
  rowGauge('slipway_business_labels', `Labelled one-row predictions behind slipway_business_label_accuracy ${over}.`, (r) => r.accuracy.labels);
  rowGauge('slipway_business_label_mae', `Mean absolute error |label − prediction| of labelled one-row predictions whose label and prediction are numbers (a regression's) ${over}; absent with none.`, (r) => r.error.mae);
  rowGauge('slipway_business_label_rmse', `Root mean squared error of the predictions behind slipway_business_label_mae ${over}; absent with none.`, (r) => r.error.rmse);
  rowGauge('slipway_business_numeric_labels', `Labelled one-row predictions behind slipway_business_label_mae and _rmse (label and prediction both numbers) ${over}.`, (r) => r.error.labels);
  rowGauge('slipway_business_cpu_seconds', `Process CPU-seconds attributed to these predictions ${over} (docs/business-metrics.md: measured, apportioned by replica busy time); absent when usage is not measured.`, (r) => r.cpuSeconds);
  moneyGauge('slipway_business_cost_per_1k_predictions', `CPU cost per 1,000 predictions (CPU-seconds / 3600 × monitoring.business.pricePerCoreHour) ${over}; absent with no price configured.`, (r) => r.costPer1kPredictions);
  moneyGauge('slipway_business_value_per_1k_predictions', `Value per 1,000 predictions: Σ predictions with each event × its value (monitoring.business.outcomeValues) ${over}; absent with no values configured and for the shadow.`, (r) => r.valuePer1kPredictions);
  moneyGauge('slipway_business_net_value_per_1k_predictions', `Value minus cost per 1,000 predictions ${over}; present when both are.`, (r) => r.netValuePer1kPredictions);
  new Gauge({
    name: 'slipway_business_report_timestamp_seconds',
    help: 'When the business figures of an endpoint were last computed (Unix time): the gauges above are as old as this.',
    labelNames: ['endpoint'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const report of cache.values()) this.set({ endpoint: report.endpoint }, report.generatedAt / 1000);
    },
  });

  const { usage } = options;
  if (usage !== undefined) {
    new Counter({
      name: 'slipway_cpu_seconds_total',
      help: 'Process CPU-seconds attributed to a deployed version since the server started: each sampling interval\'s CPU split among the versions by their replicas\' busy time in it (docs/business-metrics.md).',
      labelNames: ['endpoint', 'model', 'version'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const v of usage.totals().versions) this.inc({ endpoint: v.endpoint, model: v.model, version: String(v.version) }, v.cpuSeconds);
      },
    });
    new Counter({
      name: 'slipway_cpu_unattributed_seconds_total',
      help: 'Process CPU-seconds of sampling intervals in which no version ran (idle work, background chores) since the server started.',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(usage.totals().unattributedCpuSeconds);
      },
    });
  }

  let refreshing: Promise<void> | undefined;
  let timer: TimerHandle | undefined;
  let closed = false;

  const runRefresh = async (): Promise<void> => {
    const started = clock.monotonicMs();
    try {
      await refreshEndpoints();
    } finally {
      counters.lastRefreshMs = clock.monotonicMs() - started;
    }
  };

  const refreshEndpoints = async (): Promise<void> => {
    let names: readonly string[];
    try {
      names = await options.endpoints();
    } catch (error) {
      counters.failures++;
      logger.warn({ err: toPlatformError(error).message }, 'listing endpoints for the business metrics failed; the gauges keep their figures');
      return;
    }
    const wanted = new Set(names);
    for (const name of cache.keys()) if (!wanted.has(name)) cache.delete(name);
    // one endpoint at a time: the refresh is a background chore, never a burst of store queries
    for (const name of wanted) {
      try {
        if (closed) return;
        cache.set(name, await options.business.report(name, { since: clock.now() - windowHours * 3600 * 1000 }));
      } catch (error) {
        counters.failures++;
        logger.warn({ endpoint: name, err: toPlatformError(error).message }, 'business report for the metrics failed; the endpoint keeps its previous figures');
      }
    }
    counters.refreshes++;
    counters.lastRefreshAt = clock.now();
  };

  const refresh = (): Promise<void> => {
    refreshing ??= runRefresh().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  };

  const arm = (): void => {
    if (closed) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      void refresh().then(arm);
    }, nextRefreshAfterMs());
  };

  if (options.autoRefresh !== false) void refresh().then(arm);

  return {
    refresh,
    cached: (endpoint) => cache.get(endpoint),
    stats: () => ({ ...counters, nextRefreshAfterMs: nextRefreshAfterMs() }),
    async close() {
      closed = true;
      timer?.cancel();
      timer = undefined;
      await refreshing;
    },
  };
}
