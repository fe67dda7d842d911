/**
 * Options of the input guards (`security.inputGuards`) and of output hardening
 * (`security.outputs`), read into the caller's ConfigReader so that their problems join the rest
 * of the configuration's by path. Each has server-wide settings and overrides by endpoint name
 * (`endpoints.<name>`, file only), applied field by field over the server's.
 */
import { deepFreeze, isValidName, join, NAME_RULE, type ConfigReader } from '../../core/index.js';

/** What to do with null, NaN and ±Infinity in floating-point inputs. */
export type NonFiniteAction = 'reject' | 'flag' | 'allow';
export const NON_FINITE_ACTIONS: readonly NonFiniteAction[] = Object.freeze(['reject', 'flag', 'allow']);

/** What to do with a value outside the range its reference profile observed. */
export type RangeAction = 'off' | 'flag' | 'reject';
export const RANGE_ACTIONS: readonly RangeAction[] = Object.freeze(['off', 'flag', 'reject']);

/** The outlier score's settings. */
export interface OutlierSettings {
  /** Score every request of a version that has a reference profile. */
  readonly enabled: boolean;
  /** Flag a request whose outlier p-value is below this; 0 = never. */
  readonly flagPValue: number;
  /** Refuse (400) a request whose outlier p-value is below this; 0 = never. */
  readonly rejectPValue: number;
  /** Put `outlier_score`, `outlier_p_value` and `outlier_covariance` in the answer's parameters. */
  readonly inResponse: boolean;
}

/** The input guards of one endpoint, complete. */
export interface InputGuardSettings {
  readonly nonFinite: NonFiniteAction;
  readonly ranges: RangeAction;
  /** Share of a feature's observed range (max − min) allowed beyond each end. */
  readonly rangeMargin: number;
  readonly outlier: OutlierSettings;
}

/** The compiled `security.inputGuards`. */
export interface InputGuardsConfig extends InputGuardSettings {
  /** Complete settings by endpoint name (the server's where an override sets nothing). */
  readonly endpoints: Readonly<Record<string, InputGuardSettings>>;
}

/** The output hardening of one endpoint, complete. */
export interface OutputSettings {
  /** Decimal places floating-point outputs are rounded to; 0 = not rounded. */
  readonly roundDigits: number;
  /** Keep only the k largest scores of each row of a [batch, classes] floating-point output; 0 = all. */
  readonly topK: number;
}

/** The compiled `security.outputs`. */
export interface OutputHardeningConfig extends OutputSettings {
  /** Complete settings by endpoint name. */
  readonly endpoints: Readonly<Record<string, OutputSettings>>;
}

export const INPUT_GUARD_DEFAULTS: InputGuardSettings = deepFreeze({
  nonFinite: 'reject',
  ranges: 'flag',
  rangeMargin: 0.1,
  outlier: { enabled: true, flagPValue: 0, rejectPValue: 0, inResponse: true },
});

export const OUTPUT_DEFAULTS: OutputSettings = deepFreeze({ roundDigits: 0, topK: 0 });

/**
 * Keys of `security.inputGuards` one value can be given for from the environment (below the
 * section's path). `endpoints` is a mapping by endpoint name: file only.
 */
export const INPUT_GUARD_OPTION_KEYS: readonly string[] = Object.freeze([
  'nonFinite',
  'ranges',
  'rangeMargin',
  'outlier.enabled',
  'outlier.flagPValue',
  'outlier.rejectPValue',
  'outlier.inResponse',
]);

/** Keys of `security.outputs` one value can be given for from the environment; `endpoints` is file only. */
export const OUTPUT_OPTION_KEYS: readonly string[] = Object.freeze(['roundDigits', 'topK']);

/** Most decimal places: a double carries about 15 to 17 significant digits. */
const MAX_ROUND_DIGITS = 15;
const MAX_TOP_K = 1_000_000;
const MAX_RANGE_MARGIN = 100;

const SETTING_KEYS = ['nonFinite', 'ranges', 'rangeMargin', 'outlier'] as const;
const OUTLIER_KEYS = ['enabled', 'flagPValue', 'rejectPValue', 'inResponse'] as const;

/** One endpoint's settings (or the server's): every field read over `base`. */
function readGuardSettings(r: ConfigReader, input: unknown, path: string, base: InputGuardSettings, extraKeys: readonly string[]): InputGuardSettings {
  const o = r.section(input, path, [...SETTING_KEYS, ...extraKeys]);
  const oPath = join(path, 'outlier');
  const out = r.section(o.outlier, oPath, OUTLIER_KEYS);
  const pValue = (value: unknown, key: 'flagPValue' | 'rejectPValue'): number => {
    const p = r.number(value, join(oPath, key), base.outlier[key], 0, 1);
    if (p >= 1) r.problem(join(oPath, key), `must be below 1 (0 switches it off), got ${p}`);
    return p;
  };
  return {
    nonFinite: r.oneOf(o.nonFinite, join(path, 'nonFinite'), base.nonFinite, NON_FINITE_ACTIONS),
    ranges: r.oneOf(o.ranges, join(path, 'ranges'), base.ranges, RANGE_ACTIONS),
    rangeMargin: r.number(o.rangeMargin, join(path, 'rangeMargin'), base.rangeMargin, 0, MAX_RANGE_MARGIN),
    outlier: {
      enabled: r.boolean(out.enabled, join(oPath, 'enabled'), base.outlier.enabled),
      flagPValue: pValue(out.flagPValue, 'flagPValue'),
      rejectPValue: pValue(out.rejectPValue, 'rejectPValue'),
      inResponse: r.boolean(out.inResponse, join(oPath, 'inResponse'), base.outlier.inResponse),
    },
  };
}

function readOutputSettings(r: ConfigReader, input: unknown, path: string, base: OutputSettings, extraKeys: readonly string[]): OutputSettings {
  const o = r.section(input, path, ['roundDigits', 'topK', ...extraKeys]);
  return {
    roundDigits: r.integer(o.roundDigits, join(path, 'roundDigits'), base.roundDigits, 0, MAX_ROUND_DIGITS),
    topK: r.integer(o.topK, join(path, 'topK'), base.topK, 0, MAX_TOP_K),
  };
}

/** Reads `endpoints.<name>` overrides, each over the server's settings; a key that is no endpoint name is a problem. */
function readEndpoints<T>(r: ConfigReader, input: unknown, path: string, read: (value: unknown, path: string) => T): Record<string, T> {
  const endpoints: Record<string, T> = {};
  for (const [name, value] of Object.entries(r.object(input, path))) {
    const at = join(path, name);
    if (!isValidName(name)) {
      r.problem(at, `the key must be an endpoint name (${NAME_RULE})`);
      continue;
    }
    endpoints[name] = read(value, at);
  }
  return endpoints;
}

/** Reads `security.inputGuards` at `path`, problems into `r`; frozen. */
export function compileInputGuardOptions(r: ConfigReader, input: unknown, path: string): InputGuardsConfig {
  const o = r.object(input, path);
  const base = readGuardSettings(r, o, path, INPUT_GUARD_DEFAULTS, ['endpoints']);
  const endpoints = readEndpoints(r, o.endpoints, join(path, 'endpoints'), (value, at) => readGuardSettings(r, value, at, base, []));
  return deepFreeze({ ...base, endpoints });
}

/** Reads `security.outputs` at `path`, problems into `r`; frozen. */
export function compileOutputOptions(r: ConfigReader, input: unknown, path: string): OutputHardeningConfig {
  const o = r.object(input, path);
  const base = readOutputSettings(r, o, path, OUTPUT_DEFAULTS, ['endpoints']);
  const endpoints = readEndpoints(r, o.endpoints, join(path, 'endpoints'), (value, at) => readOutputSettings(r, value, at, base, []));
  return deepFreeze({ ...base, endpoints });
}

/** The input guards of endpoint `name`: its override, else the server's. */
export function endpointInputGuards(config: InputGuardsConfig, name: string): InputGuardSettings {
  return (Object.hasOwn(config.endpoints, name) ? config.endpoints[name] : undefined) ?? config;
}

/** The output hardening of endpoint `name`: its override, else the server's. */
export function endpointOutputs(config: OutputHardeningConfig, name: string): OutputSettings {
  return (Object.hasOwn(config.endpoints, name) ? config.endpoints[name] : undefined) ?? config;
}
