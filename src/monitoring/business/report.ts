/**
 * Business reports: per variant and version of an endpoint, what its predictions earned (conversion
 * rate, revenue, value of configured outcomes), how often they were right (label accuracy from
 * feedback), and what they cost (measured CPU-seconds × a price per core-hour). Outcome figures come
 * from monitoring's outcome queries, CPU from the usage meter; nothing here touches storage itself.
 */
import { systemClock, type Clock } from '../../core/index.js';
import { wilsonInterval } from '../../stats/index.js';
import type { OutcomeReports, OutcomesQuery } from '../monitoring.js';
import { SHADOW_VARIANT, UNROUTED_VARIANT, type OutcomeArm, type OutcomeReport, type PredictionCounts, type TimeWindow } from '../types.js';
import { BusinessErrors } from './errors.js';
import { compileBusinessOptions, economicsFor, type BusinessConfig, type BusinessEconomics, type BusinessOptions } from './options.js';
import type { UsageTotals, UsageWindow, VersionCpu } from './usage.js';

/** What the report reads from monitoring (the {@link Monitoring} service fits). */
export interface BusinessOutcomeSource {
  outcomeReports(endpoint: string, query: OutcomesQuery): Promise<OutcomeReports>;
}

/** What the report reads from the usage meter (a {@link UsageMeter} fits). */
export interface BusinessUsageSource {
  window(since: number, until?: number): UsageWindow;
  totals(): UsageTotals;
  readonly resolutionSeconds: number;
}

export interface BusinessMetricsOptions {
  readonly monitoring: BusinessOutcomeSource;
  /** Absent: CPU is not measured, so CPU and cost are null with that reason. */
  readonly usage?: BusinessUsageSource;
  /** Raw or compiled options (see compileBusinessOptions); default BUSINESS_DEFAULTS. */
  readonly options?: BusinessOptions | BusinessConfig;
  readonly clock?: Clock;
}

/** The 95 % Wilson score interval of a rate. */
export interface RateInterval {
  readonly lower: number;
  readonly upper: number;
}

/** Share of answered predictions that received the conversion event. */
export interface ConversionFigures {
  readonly event: string;
  /** Answered predictions that received the event. */
  readonly conversions: number;
  /** Answered (2xx) predictions: the denominator. */
  readonly answered: number;
  /** null with no answered prediction. */
  readonly rate: number | null;
  readonly interval: RateInterval | null;
}

/** The values of the revenue event, summed and averaged two ways. */
export interface RevenueFigures {
  readonly event: string;
  /** Σ of the event's values over the predictions. */
  readonly sum: number;
  /** Mean per answered prediction, those without the event counting 0: revenue per prediction. null with none answered. */
  readonly meanPerPrediction: number | null;
  /** Predictions that received a value of the event (purchases). */
  readonly earning: number;
  /** Mean over those predictions only: the size of a typical purchase. null with none. */
  readonly meanPerEarning: number | null;
}

/** Feedback labels compared with one-row predictions. */
export interface AccuracyFigures {
  /** Labelled one-row predictions. */
  readonly labels: number;
  /** Those whose label equals the prediction. */
  readonly correct: number;
  readonly accuracy: number | null;
  readonly interval: RateInterval | null;
}

/**
 * Numeric feedback labels compared with numeric one-row predictions (a regression's): how far off
 * the predictions were. Exact-match accuracy means little there; these are the figures to read.
 */
export interface ErrorFigures {
  /** Labelled one-row predictions whose label and prediction are both numbers. */
  readonly labels: number;
  /** Mean absolute error; null with no such labels. */
  readonly mae: number | null;
  /** Root mean squared error; null with no such labels. */
  readonly rmse: number | null;
}

/** The figures of one version of a variant, or of the variant pooled over its versions. */
export interface BusinessFigures {
  /** Every recorded prediction in the window, errors included. */
  readonly predictions: number;
  /** Those answered with a 2xx status. */
  readonly answered: number;
  /** null for the shadow: nobody saw its answers, so it caused no conversions. */
  readonly conversion: ConversionFigures | null;
  /** null for the shadow, as for conversion. */
  readonly revenue: RevenueFigures | null;
  readonly accuracy: AccuracyFigures;
  readonly error: ErrorFigures;
  /** CPU-seconds attributed to these predictions; null when usage is not measured. */
  readonly cpuSeconds: number | null;
  /** Predictions in the window the CPU was measured over (see the report's `usage`): the denominator of the cost per 1,000. */
  readonly costPredictions: number;
  /** cpuSeconds / 3600 × pricePerCoreHour; null without a price or without measured CPU (`costReason`). */
  readonly cost: number | null;
  readonly costPer1kPredictions: number | null;
  /** Predictions that received each valued event, by event name. Empty for the shadow. */
  readonly valuedEvents: Readonly<Record<string, number>>;
  /** Σ over valued events of predictions with the event × its value; null with no outcome values configured, and for the shadow. */
  readonly value: number | null;
  readonly valuePer1kPredictions: number | null;
  /** valuePer1kPredictions − costPer1kPredictions, when both exist. */
  readonly netValuePer1kPredictions: number | null;
}

export interface VersionBusiness extends BusinessFigures {
  readonly variant: string;
  readonly version: number | null;
  /** The model the usage meter saw deployed as this version of the endpoint; null when it never saw it. */
  readonly model: string | null;
}

export interface VariantBusiness extends BusinessFigures {
  readonly variant: string;
  readonly versions: readonly VersionBusiness[];
}

/** What the usage meter measured for the report. */
export interface BusinessUsage {
  /** The span the CPU-seconds cover; window edges fall on the meter's snapshots (`resolutionSeconds`). */
  readonly measuredSince: number | null;
  readonly measuredUntil: number | null;
  /** False when the meter started (or its history begins) after `since`: costs cover less than the window. */
  readonly complete: boolean;
  readonly resolutionSeconds: number;
  /** CPU of this endpoint's versions with no predictions recorded in the measured window (warm-up, a version deployed but unrouted). */
  readonly unmatched: readonly VersionCpu[];
  /** The whole process over the measured span, every endpoint: CPU measured, and CPU of intervals when no version ran. */
  readonly processCpuSeconds: number;
  readonly unattributedCpuSeconds: number;
}

/** The answer to a business report query. */
export interface BusinessReport {
  readonly endpoint: string;
  readonly since: number;
  /** null: up to now. */
  readonly until: number | null;
  /** When the report was computed, ms since the epoch. */
  readonly generatedAt: number;
  readonly currency: string;
  /** null: no price configured. */
  readonly pricePerCoreHour: number | null;
  readonly conversionEvent: string;
  readonly revenueEvent: string;
  readonly outcomeValues: Readonly<Record<string, number>>;
  /** Why costs are null (no price, CPU not measured), or null when they are computed. */
  readonly costReason: string | null;
  /** Why values are null (no outcome values configured), or null when they are computed. */
  readonly valueReason: string | null;
  /** null: CPU is not measured. */
  readonly usage: BusinessUsage | null;
  /** Requests refused before a version was chosen (variant `unrouted`): no version's figures include them. */
  readonly unroutedPredictions: number;
  /** By variant name; the shadow included (its accuracy and cost count, its conversions cannot). */
  readonly variants: readonly VariantBusiness[];
}

/** The business metrics service; see {@link createBusinessMetrics}. */
export interface BusinessMetrics {
  readonly config: BusinessConfig;
  /**
   * The report of `endpoint` over predictions made in [since, until): by default since is
   * `defaultWindowHours` ago and until is now. Throws BUSINESS_INVALID_QUERY for a bad window.
   */
  report(endpoint: string, window?: Partial<TimeWindow>): Promise<BusinessReport>;
}

export const NO_PRICE_REASON = 'no price configured (monitoring.business.pricePerCoreHour)';
export const NO_USAGE_REASON = 'CPU usage is not measured (monitoring.business.enabled is false)';
export const NO_VALUES_REASON = 'no outcome values configured (monitoring.business.outcomeValues)';

const HOUR_MS = 3600 * 1000;

const rowKey = (variant: string, version: number | null): string => `${variant}\u0000${version ?? ''}`;

/** Arms of one outcome report by (variant, version), and pooled by variant. */
interface ArmIndex {
  version(variant: string, version: number | null): OutcomeArm | undefined;
  variant(variant: string): OutcomeArm | undefined;
}

function indexArms(report: OutcomeReport): ArmIndex {
  const byRow = new Map<string, OutcomeArm>();
  const byVariant = new Map<string, OutcomeArm>();
  for (const v of report.variants) {
    byVariant.set(v.variant, v.arm);
    for (const r of v.versions) byRow.set(rowKey(r.variant, r.version), r.arm);
  }
  return { version: (variant, version) => byRow.get(rowKey(variant, version)), variant: (variant) => byVariant.get(variant) };
}

const rateOf = (arm: OutcomeArm | undefined): { n: number; successes: number } => (arm?.kind === 'rate' ? { n: arm.n, successes: arm.successes } : { n: 0, successes: 0 });
const meanOf = (arm: OutcomeArm | undefined): { n: number; mean: number } => (arm?.kind === 'continuous' ? { n: arm.n, mean: arm.mean } : { n: 0, mean: 0 });

/** MAE and RMSE from the arm of absolute errors: its mean, and √(m2/n + mean²) (the mean of the squares, as |e|² = e²). */
function errorOf(arm: OutcomeArm | undefined): ErrorFigures {
  if (arm?.kind !== 'continuous' || arm.n === 0) return { labels: 0, mae: null, rmse: null };
  return { labels: arm.n, mae: arm.mean, rmse: Math.sqrt(Math.max(0, arm.m2) / arm.n + arm.mean * arm.mean) };
}

function interval(c: { n: number; successes: number }): RateInterval | null {
  return c.n === 0 ? null : wilsonInterval(c, 0.05);
}

const per1k = (amount: number | null, predictions: number): number | null => (amount === null || predictions === 0 ? null : (amount / predictions) * 1000);

/** The arms one row (a version, or a variant pooled) reads from each outcome report. */
interface RowArms {
  readonly conversion: OutcomeArm | undefined;
  readonly revenuePerPrediction: OutcomeArm | undefined;
  readonly revenuePerEarning: OutcomeArm | undefined;
  readonly accuracy: OutcomeArm | undefined;
  readonly error: OutcomeArm | undefined;
  readonly valued: ReadonlyMap<string, OutcomeArm | undefined>;
}

interface RowInputs {
  readonly variant: string;
  readonly predictions: number;
  readonly answered: number;
  readonly arms: RowArms;
  readonly cpuSeconds: number | null;
  readonly costPredictions: number;
}

/** Turns one row's arms and CPU into its figures: the arithmetic of the whole report, in one place. */
export function businessFigures(input: RowInputs, economics: BusinessEconomics, costing: { readonly pricePerCoreHour: number | null }): BusinessFigures {
  const shadow = input.variant === SHADOW_VARIANT;
  const conv = rateOf(input.arms.conversion);
  const perPrediction = meanOf(input.arms.revenuePerPrediction);
  const perEarning = meanOf(input.arms.revenuePerEarning);
  const acc = rateOf(input.arms.accuracy);

  const cost = input.cpuSeconds === null || costing.pricePerCoreHour === null ? null : (input.cpuSeconds / 3600) * costing.pricePerCoreHour;
  const costPer1k = per1k(cost, input.costPredictions);

  const valuedEvents: Record<string, number> = {};
  let value: number | null = null;
  const valueEntries = Object.entries(economics.outcomeValues);
  if (!shadow && valueEntries.length > 0) {
    value = 0;
    for (const [event, each] of valueEntries) {
      const count = rateOf(input.arms.valued.get(event)).successes;
      valuedEvents[event] = count;
      value += count * each;
    }
  }
  const valuePer1k = per1k(value, input.predictions);

  return {
    predictions: input.predictions,
    answered: input.answered,
    conversion: shadow
      ? null
      : { event: economics.conversionEvent, conversions: conv.successes, answered: conv.n, rate: conv.n === 0 ? null : conv.successes / conv.n, interval: interval(conv) },
    revenue: shadow
      ? null
      : {
          event: economics.revenueEvent,
          sum: perEarning.n * perEarning.mean,
          meanPerPrediction: perPrediction.n === 0 ? null : perPrediction.mean,
          earning: perEarning.n,
          meanPerEarning: perEarning.n === 0 ? null : perEarning.mean,
        },
    accuracy: { labels: acc.n, correct: acc.successes, accuracy: acc.n === 0 ? null : acc.successes / acc.n, interval: interval(acc) },
    error: errorOf(input.arms.error),
    cpuSeconds: input.cpuSeconds,
    costPredictions: input.costPredictions,
    cost,
    costPer1kPredictions: costPer1k,
    valuedEvents,
    value,
    valuePer1kPredictions: valuePer1k,
    netValuePer1kPredictions: valuePer1k === null || costPer1k === null ? null : valuePer1k - costPer1k,
  };
}

function checkWindow(since: number, until: number | undefined): void {
  const problems: { path: string; message: string }[] = [];
  if (!Number.isFinite(since)) problems.push({ path: 'since', message: `must be a time in ms since the epoch, got ${String(since)}` });
  if (until !== undefined && !Number.isFinite(until)) problems.push({ path: 'until', message: `must be a time in ms since the epoch, got ${String(until)}` });
  if (problems.length === 0 && until !== undefined && until <= since) problems.push({ path: 'until', message: `must be after since (${new Date(since).toISOString()}), got ${new Date(until).toISOString()}` });
  if (problems.length > 0) throw invalidBusinessQuery(problems);
}

/** Builds BUSINESS_INVALID_QUERY from problems. */
export function invalidBusinessQuery(problems: readonly { readonly path: string; readonly message: string }[]) {
  const list = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  return BusinessErrors.BUSINESS_INVALID_QUERY(`invalid business report query (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${list}`, {
    details: { problems: problems.map((p) => ({ path: p.path, message: p.message })) },
  });
}

/** Creates the service. Throws CORE_INVALID_CONFIG for bad options. */
export function createBusinessMetrics(options: BusinessMetricsOptions): BusinessMetrics {
  const { monitoring, usage } = options;
  const clock = options.clock ?? systemClock;
  const config = compileBusinessOptions(options.options);

  return {
    config,

    async report(endpoint, window = {}) {
      const generatedAt = clock.now();
      const since = window.since ?? generatedAt - config.defaultWindowHours * HOUR_MS;
      const until = window.until;
      checkWindow(since, until);
      const economics = economicsFor(config, endpoint);
      const requested: TimeWindow = until === undefined ? { since } : { since, until };

      const valuedEvents = Object.keys(economics.outcomeValues);
      // CPU: the meter's window; the predictions made in that same span are its denominator
      const cpu = usage?.window(since, until);
      const span = cpu === undefined ? undefined : measuredSpan(cpu, requested);
      // one pass over the window for every metric (the conversion event is not asked twice when it
      // is also valued), and for the predictions of the CPU's span
      const valuedRates = valuedEvents.filter((e) => e !== economics.conversionEvent);
      const { counts, reports, spanCounts } = await monitoring.outcomeReports(endpoint, {
        ...requested,
        ...(span === undefined || span === requested ? {} : { span }),
        metrics: [
          { kind: 'rate', event: economics.conversionEvent },
          { kind: 'mean', event: economics.revenueEvent, missing: 'zero' },
          { kind: 'mean', event: economics.revenueEvent, missing: 'skip' },
          { kind: 'accuracy' },
          { kind: 'error' },
          ...valuedRates.map((event) => ({ kind: 'rate', event }) as const),
        ],
      });
      const [conversion, perPrediction, perEarning, accuracy, error, ...valued] = reports as [OutcomeReport, OutcomeReport, OutcomeReport, OutcomeReport, OutcomeReport, ...OutcomeReport[]];
      const arms = { conversion: indexArms(conversion), perPrediction: indexArms(perPrediction), perEarning: indexArms(perEarning), accuracy: indexArms(accuracy), error: indexArms(error) };
      const valuedArms = new Map<string, ArmIndex>();
      let next = 0;
      for (const e of valuedEvents) {
        const report = e === economics.conversionEvent ? conversion : valued[next++];
        if (report !== undefined) valuedArms.set(e, indexArms(report));
      }
      const rowArms = (pick: (index: ArmIndex) => OutcomeArm | undefined): RowArms => ({
        conversion: pick(arms.conversion),
        revenuePerPrediction: pick(arms.perPrediction),
        revenuePerEarning: pick(arms.perEarning),
        accuracy: pick(arms.accuracy),
        error: pick(arms.error),
        valued: new Map([...valuedArms].map(([e, index]) => [e, pick(index)])),
      });

      const measured = span === undefined ? undefined : span === requested ? counts : spanCounts;
      const allocation = cpu === undefined ? undefined : allocateCpu(endpoint, cpu, measured);
      const models = modelsOf(endpoint, usage?.totals());

      const pricePerCoreHour = economics.pricePerCoreHour > 0 ? economics.pricePerCoreHour : null;
      const costing = { pricePerCoreHour };
      const variants: VariantBusiness[] = [];
      let unroutedPredictions = 0;
      for (const v of counts.variants) {
        if (v.variant === UNROUTED_VARIANT) {
          unroutedPredictions += v.predictions;
          continue;
        }
        const versions: VersionBusiness[] = v.versions.map((row) => {
          const share = allocation?.rows.get(rowKey(row.variant, row.version));
          const figures = businessFigures(
            {
              variant: row.variant,
              predictions: row.predictions,
              answered: row.answered,
              arms: rowArms((index) => index.version(row.variant, row.version)),
              cpuSeconds: allocation === undefined ? null : (share?.cpuSeconds ?? 0),
              costPredictions: share?.predictions ?? 0,
            },
            economics,
            costing,
          );
          return { variant: row.variant, version: row.version, model: row.version === null ? null : (models.get(row.version) ?? null), ...figures };
        });
        const figures = businessFigures(
          {
            variant: v.variant,
            predictions: v.predictions,
            answered: v.answered,
            arms: rowArms((index) => index.variant(v.variant)),
            cpuSeconds: allocation === undefined ? null : versions.reduce((s, x) => s + (x.cpuSeconds ?? 0), 0),
            costPredictions: versions.reduce((s, x) => s + x.costPredictions, 0),
          },
          economics,
          costing,
        );
        variants.push({ variant: v.variant, ...figures, versions });
      }

      // a row that predicted in the measured span but not in the requested one (the span's edges
      // differ by up to the meter's resolution) keeps its CPU visible as unmatched
      const unmatched = [...(allocation?.unmatched ?? [])];
      const shown = new Set(counts.variants.flatMap((v) => v.versions.map((r) => rowKey(r.variant, r.version))));
      for (const [key, share] of allocation?.rows ?? []) {
        if (shown.has(key) || share.cpuSeconds <= 0) continue;
        const version = share.version;
        unmatched.push({ endpoint, model: models.get(version) ?? '', version, cpuSeconds: share.cpuSeconds });
      }

      return {
        endpoint,
        since,
        until: until ?? null,
        generatedAt,
        currency: economics.currency,
        pricePerCoreHour,
        conversionEvent: economics.conversionEvent,
        revenueEvent: economics.revenueEvent,
        outcomeValues: economics.outcomeValues,
        costReason: usage === undefined ? NO_USAGE_REASON : pricePerCoreHour === null ? NO_PRICE_REASON : null,
        valueReason: valuedEvents.length === 0 ? NO_VALUES_REASON : null,
        usage:
          cpu === undefined || usage === undefined
            ? null
            : {
                measuredSince: cpu.measuredSince,
                measuredUntil: cpu.measuredUntil,
                complete: cpu.complete,
                resolutionSeconds: usage.resolutionSeconds,
                unmatched,
                processCpuSeconds: cpu.processCpuSeconds,
                unattributedCpuSeconds: cpu.unattributedCpuSeconds,
              },
        unroutedPredictions,
        variants,
      };
    },
  };
}

/** The span the CPU covers: `asked` itself when it is the same span; undefined when nothing was measured. */
function measuredSpan(window: UsageWindow, asked: TimeWindow): TimeWindow | undefined {
  const from = window.measuredSince;
  const to = window.measuredUntil;
  if (from === null || to === null || to <= from) return undefined;
  return from === asked.since && to === asked.until ? asked : { since: from, until: to };
}

/** The models the meter saw deployed as each version of the endpoint (several joined with `+`, sorted). */
function modelsOf(endpoint: string, totals: UsageTotals | undefined): Map<number, string> {
  const seen = new Map<number, Set<string>>();
  for (const v of totals?.versions ?? []) {
    if (v.endpoint !== endpoint) continue;
    const set = seen.get(v.version) ?? new Set<string>();
    set.add(v.model);
    seen.set(v.version, set);
  }
  return new Map([...seen].map(([version, set]) => [version, [...set].sort().join('+')]));
}

/**
 * Splits each version's CPU-seconds among the (variant, version) rows that predicted with it in the
 * measured span, by their share of its predictions (a version promoted mid-window served as
 * `candidate`, then as `stable`). CPU of a version with no predictions there is `unmatched`.
 * Versions are matched by number: an endpoint serves one model's versions at a time.
 */
function allocateCpu(endpoint: string, window: UsageWindow, counts: PredictionCounts | undefined) {
  const rows = new Map<string, { version: number; cpuSeconds: number; predictions: number }>();
  const cpuByVersion = new Map<number, { cpuSeconds: number; models: Set<string> }>();
  for (const v of window.versions) {
    if (v.endpoint !== endpoint) continue;
    const entry = cpuByVersion.get(v.version) ?? { cpuSeconds: 0, models: new Set<string>() };
    entry.cpuSeconds += v.cpuSeconds;
    entry.models.add(v.model);
    cpuByVersion.set(v.version, entry);
  }
  const predictionsByVersion = new Map<number, number>();
  for (const variant of counts?.variants ?? []) {
    for (const row of variant.versions) {
      if (row.version === null || row.variant === UNROUTED_VARIANT) continue;
      predictionsByVersion.set(row.version, (predictionsByVersion.get(row.version) ?? 0) + row.predictions);
    }
  }
  for (const variant of counts?.variants ?? []) {
    for (const row of variant.versions) {
      if (row.version === null || row.variant === UNROUTED_VARIANT) continue;
      const total = predictionsByVersion.get(row.version) ?? 0;
      const cpu = cpuByVersion.get(row.version)?.cpuSeconds ?? 0;
      rows.set(rowKey(row.variant, row.version), { version: row.version, cpuSeconds: total === 0 ? 0 : (cpu * row.predictions) / total, predictions: row.predictions });
    }
  }
  const unmatched: VersionCpu[] = [];
  for (const version of cpuByVersion.keys()) {
    if ((predictionsByVersion.get(version) ?? 0) > 0) continue;
    for (const v of window.versions) if (v.endpoint === endpoint && v.version === version) unmatched.push(v);
  }
  return { rows, unmatched };
}
