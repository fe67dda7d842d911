/**
 * Options of the business metrics, in three stages (user options → with defaults → compiled): every
 * problem reported with its path at once, then frozen. They sit under `monitoring.business` in
 * Slipway's configuration (docs/business-metrics.md lists them). The economics (events, price,
 * currency, values per outcome) may be overridden per endpoint; the meter and refresh settings are
 * the server's.
 */
import { ConfigReader, deepFreeze, describe, isValidName, join, NAME_RULE } from '../../core/index.js';
import { EVENT_NAME_RULE, isEventName } from '../feedback/validate.js';

/** What an endpoint may override: how its outcomes are read and what they are worth. */
export interface BusinessEconomicsOptions {
  readonly conversionEvent?: string;
  readonly revenueEvent?: string;
  readonly currency?: string;
  readonly pricePerCoreHour?: number | string;
  readonly outcomeValues?: Readonly<Record<string, number | string>>;
}

/** What a user may set; every key optional. Numeric strings (env vars, flags) are accepted. */
export interface BusinessOptions extends BusinessEconomicsOptions {
  readonly enabled?: boolean | string;
  readonly sampleIntervalSeconds?: number | string;
  readonly historyHours?: number | string;
  readonly refreshIntervalSeconds?: number | string;
  readonly metricsWindowHours?: number | string;
  readonly defaultWindowHours?: number | string;
  readonly endpoints?: Readonly<Record<string, BusinessEconomicsOptions>>;
}

/** The economics of one endpoint, compiled. */
export interface BusinessEconomics {
  /** The feedback event counted by the conversion rate. */
  readonly conversionEvent: string;
  /** The feedback event whose values are summed as revenue. */
  readonly revenueEvent: string;
  /** ISO 4217 code of `pricePerCoreHour` and `outcomeValues` (a label: nothing is converted). */
  readonly currency: string;
  /** What one core-hour of CPU costs; 0 means no price is configured, and costs are reported as null. */
  readonly pricePerCoreHour: number;
  /** What one prediction that received the event is worth, by event name. */
  readonly outcomeValues: Readonly<Record<string, number>>;
}

/** The compiled, frozen options. */
export interface BusinessConfig extends BusinessEconomics {
  /** Off: the server measures no usage and registers no business gauges; the report route still answers (without CPU). */
  readonly enabled: boolean;
  /** How often process CPU is sampled and apportioned among the versions that ran. */
  readonly sampleIntervalSeconds: number;
  /** How far back per-version CPU can be asked for (one snapshot a minute is kept). */
  readonly historyHours: number;
  /** How often the cached reports behind the Prometheus gauges are recomputed. */
  readonly refreshIntervalSeconds: number;
  /** The window the gauges describe: the last this many hours. */
  readonly metricsWindowHours: number;
  /** The report route's window when `since` is not given: the last this many hours. */
  readonly defaultWindowHours: number;
  /** Per-endpoint economics, each complete (the section's values where the endpoint sets none). */
  readonly endpoints: Readonly<Record<string, BusinessEconomics>>;
}

/** The defaults; docs/business-metrics.md says why each has its value. */
export const BUSINESS_DEFAULTS: BusinessConfig = deepFreeze({
  enabled: true,
  conversionEvent: 'conversion',
  revenueEvent: 'purchase',
  currency: 'USD',
  pricePerCoreHour: 0,
  outcomeValues: {},
  sampleIntervalSeconds: 10,
  historyHours: 168,
  refreshIntervalSeconds: 30,
  metricsWindowHours: 24,
  defaultWindowHours: 24,
  endpoints: {},
});

const ECONOMICS_KEYS = ['conversionEvent', 'revenueEvent', 'currency', 'pricePerCoreHour', 'outcomeValues'] as const;
const TOP_KEYS = ['enabled', ...ECONOMICS_KEYS, 'sampleIntervalSeconds', 'historyHours', 'refreshIntervalSeconds', 'metricsWindowHours', 'defaultWindowHours', 'endpoints'] as const;

/**
 * The keys one value can be given for from the environment or a flag, as dotted paths below the
 * section's own path. `outcomeValues` and `endpoints` are mappings with names of your choosing:
 * they are set in the YAML file only.
 */
export const BUSINESS_OPTION_KEYS: readonly string[] = Object.freeze(TOP_KEYS.filter((k) => k !== 'outcomeValues' && k !== 'endpoints'));

/** Largest price per core-hour accepted: anything above is a typo (a unit mix-up), not a price. */
const MAX_PRICE = 1_000_000;
const CURRENCY = /^[A-Z]{3}$/;

export interface BusinessOptionsContext {
  /** Dotted path of the options in a larger config, prefixed to every problem path. Default ''. */
  readonly path?: string;
  /** What the options are, for the error message. Default `business metrics options`. */
  readonly what?: string;
}

/** Reads a finite number in [min, max]; numeric strings are accepted. */

function readEvent(r: ConfigReader, value: unknown, path: string, fallback: string): string {
  return r.string(value, path, fallback, (v) => (isEventName(v) ? undefined : `must be an event name (${EVENT_NAME_RULE}), got ${describe(v)}`));
}

function readEconomics(r: ConfigReader, o: Record<string, unknown>, path: string, base: BusinessEconomics): BusinessEconomics {
  const valuesPath = join(path, 'outcomeValues');
  let outcomeValues = base.outcomeValues;
  if (o.outcomeValues !== undefined) {
    const v = r.object(o.outcomeValues, valuesPath);
    const read: Record<string, number> = {};
    for (const [event, value] of Object.entries(v)) {
      const at = join(valuesPath, event);
      if (!isEventName(event)) r.problem(at, `the key must be an event name (${EVENT_NAME_RULE})`);
      else read[event] = r.number(value, at, 0, -MAX_PRICE, MAX_PRICE);
    }
    outcomeValues = read;
  }
  return {
    conversionEvent: readEvent(r, o.conversionEvent, join(path, 'conversionEvent'), base.conversionEvent),
    revenueEvent: readEvent(r, o.revenueEvent, join(path, 'revenueEvent'), base.revenueEvent),
    currency: r.string(o.currency, join(path, 'currency'), base.currency, (v) => (CURRENCY.test(v) ? undefined : `must be a three-letter ISO 4217 code in capitals (USD, EUR), got ${describe(v)}`)),
    pricePerCoreHour: r.number(o.pricePerCoreHour, join(path, 'pricePerCoreHour'), base.pricePerCoreHour, 0, MAX_PRICE),
    outcomeValues,
  };
}

/**
 * Applies defaults and checks every value; throws CORE_INVALID_CONFIG listing all problems by path.
 * An endpoint's `outcomeValues` replaces the section's (it is not merged), so an endpoint can drop
 * an event the others value. Compiling a compiled {@link BusinessConfig} again yields an equal one.
 */
export function compileBusinessOptions(input: BusinessOptions | Readonly<Record<string, unknown>> | undefined, context: BusinessOptionsContext = {}): BusinessConfig {
  const base = context.path ?? '';
  const r = new ConfigReader();
  const o = r.section(input, base, TOP_KEYS);
  const d = BUSINESS_DEFAULTS;
  const at = (key: string): string => join(base, key);

  const economics = readEconomics(r, o, base, d);
  const endpointsPath = at('endpoints');
  const endpointsIn = r.object(o.endpoints, endpointsPath);
  const endpoints: Record<string, BusinessEconomics> = {};
  for (const [name, value] of Object.entries(endpointsIn)) {
    const path = join(endpointsPath, name);
    if (!isValidName(name)) {
      r.problem(path, `the key must be an endpoint name (${NAME_RULE})`);
      continue;
    }
    const e = r.section(value, path, ECONOMICS_KEYS);
    endpoints[name] = readEconomics(r, e, path, economics);
  }

  const config: BusinessConfig = {
    enabled: r.boolean(o.enabled, at('enabled'), d.enabled),
    ...economics,
    sampleIntervalSeconds: r.integer(o.sampleIntervalSeconds, at('sampleIntervalSeconds'), d.sampleIntervalSeconds, 1, 3600),
    // one snapshot a minute per version: 90 days is 129,600 of them, about 1 MiB per version
    historyHours: r.integer(o.historyHours, at('historyHours'), d.historyHours, 1, 2160),
    refreshIntervalSeconds: r.integer(o.refreshIntervalSeconds, at('refreshIntervalSeconds'), d.refreshIntervalSeconds, 1, 86_400),
    metricsWindowHours: r.integer(o.metricsWindowHours, at('metricsWindowHours'), d.metricsWindowHours, 1, 8760),
    defaultWindowHours: r.integer(o.defaultWindowHours, at('defaultWindowHours'), d.defaultWindowHours, 1, 8760),
    endpoints,
  };
  r.finish(context.what ?? 'business metrics options');
  return deepFreeze(config);
}

/** The economics an endpoint's report uses: its override, else the section's. */
export function economicsFor(config: BusinessConfig, endpoint: string): BusinessEconomics {
  return (Object.hasOwn(config.endpoints, endpoint) ? config.endpoints[endpoint] : undefined) ?? config;
}
