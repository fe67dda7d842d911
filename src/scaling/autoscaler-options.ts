/**
 * Autoscaler options in three stages (user options → with defaults → compiled): every problem is
 * reported with its path at once, cross-field rules are checked only between values that are
 * themselves valid, and the result is frozen. Names and defaults follow Knative's pod autoscaler.
 */
import { ConfigReader, deepFreeze, join } from '../core/index.js';

/** What a user may set; every key optional. Numeric strings (env vars, flags) are accepted. */
export interface AutoscalerOptions {
  readonly minReplicas?: number | string;
  readonly maxReplicas?: number | string;
  readonly targetConcurrency?: number | string;
  readonly stableWindowSeconds?: number | string;
  readonly panicWindowSeconds?: number | string;
  readonly panicThresholdPercent?: number | string;
  readonly scaleDownDelaySeconds?: number | string;
  readonly scaleToZeroGracePeriodSeconds?: number | string;
  readonly tickIntervalMs?: number | string;
  readonly maxEvents?: number | string;
}

/** The compiled, frozen options. */
export interface AutoscalerConfig {
  /** Fewest replicas; 0 lets the endpoint scale to zero when idle. */
  readonly minReplicas: number;
  /** Most replicas. */
  readonly maxReplicas: number;
  /** In-flight plus queued requests one replica should carry on average. */
  readonly targetConcurrency: number;
  /** Window whose average concurrency drives stable mode. */
  readonly stableWindowSeconds: number;
  /** Shorter window that detects bursts and drives panic mode. */
  readonly panicWindowSeconds: number;
  /** Panic begins when panic-window concurrency reaches this percentage of ready capacity. */
  readonly panicThresholdPercent: number;
  /** A scale-down waits until no higher count was wanted for this long. */
  readonly scaleDownDelaySeconds: number;
  /** The last replica goes only after this long without traffic (and a stable window without traffic). */
  readonly scaleToZeroGracePeriodSeconds: number;
  /** How often the autoscaler samples and decides. */
  readonly tickIntervalMs: number;
  /** Decision-log capacity per endpoint. */
  readonly maxEvents: number;
}

/** The defaults; see docs/autoscaling.md for why each has its value. */
export const AUTOSCALER_DEFAULTS: AutoscalerConfig = deepFreeze({
  minReplicas: 0,
  maxReplicas: 4,
  targetConcurrency: 8,
  stableWindowSeconds: 60,
  panicWindowSeconds: 6,
  panicThresholdPercent: 200,
  scaleDownDelaySeconds: 0,
  scaleToZeroGracePeriodSeconds: 30,
  tickIntervalMs: 2000,
  maxEvents: 500,
});

/** The keys an autoscaler options object may have. */
export const AUTOSCALER_OPTION_KEYS: readonly (keyof AutoscalerConfig)[] = Object.freeze(Object.keys(AUTOSCALER_DEFAULTS) as (keyof AutoscalerConfig)[]);

/** Upper bound of a replica count; matches serving.replicas (one machine, worker threads). */
export const MAX_AUTOSCALER_REPLICAS = 64;

export interface AutoscalerOptionsContext {
  /** Dotted path of the options in a larger config, prefixed to every problem path. Default ''. */
  readonly path?: string;
  /**
   * The model's observed load time (session creation and warm-up), in milliseconds, e.g. the
   * largest `loadMs` of the endpoint's replicas. When minReplicas is 0 the grace period must exceed it.
   */
  readonly observedLoadMs?: number;
  /** What the options are, for the error message. Default `autoscaler options`. */
  readonly what?: string;
}

/**
 * Applies defaults to `input` and checks every value; throws CORE_INVALID_CONFIG listing all
 * problems by path. Returns frozen options; compiling a compiled {@link AutoscalerConfig} again yields an equal one.
 */
export function compileAutoscalerOptions(input: AutoscalerOptions | Readonly<Record<string, unknown>> | undefined, context: AutoscalerOptionsContext = {}): AutoscalerConfig {
  const base = context.path ?? '';
  const at = (key: keyof AutoscalerConfig): string => join(base, key);
  const r = new ConfigReader();
  const o = r.object(input, base);
  r.onlyKeys(o, base, AUTOSCALER_OPTION_KEYS);
  const d = AUTOSCALER_DEFAULTS;

  const config: AutoscalerConfig = {
    minReplicas: r.integer(o.minReplicas, at('minReplicas'), d.minReplicas, 0, MAX_AUTOSCALER_REPLICAS),
    maxReplicas: r.integer(o.maxReplicas, at('maxReplicas'), d.maxReplicas, 1, MAX_AUTOSCALER_REPLICAS),
    targetConcurrency: r.integer(o.targetConcurrency, at('targetConcurrency'), d.targetConcurrency, 1, 10_000),
    // Knative's bounds: 6 s ≤ stable window ≤ 1 h
    stableWindowSeconds: r.integer(o.stableWindowSeconds, at('stableWindowSeconds'), d.stableWindowSeconds, 6, 3600),
    panicWindowSeconds: r.integer(o.panicWindowSeconds, at('panicWindowSeconds'), d.panicWindowSeconds, 1, 3600),
    // Knative's bounds: 110 % ≤ threshold ≤ 1000 %; below 110 % every small wobble would be a panic
    panicThresholdPercent: r.integer(o.panicThresholdPercent, at('panicThresholdPercent'), d.panicThresholdPercent, 110, 1000),
    scaleDownDelaySeconds: r.integer(o.scaleDownDelaySeconds, at('scaleDownDelaySeconds'), d.scaleDownDelaySeconds, 0, 3600),
    scaleToZeroGracePeriodSeconds: r.integer(o.scaleToZeroGracePeriodSeconds, at('scaleToZeroGracePeriodSeconds'), d.scaleToZeroGracePeriodSeconds, 0, 3600),
    tickIntervalMs: r.integer(o.tickIntervalMs, at('tickIntervalMs'), d.tickIntervalMs, 100, 60_000),
    maxEvents: r.integer(o.maxEvents, at('maxEvents'), d.maxEvents, 1, 100_000),
  };

  // Cross-field rules compare only values that were read without a problem, so one typo does not
  // produce a second, misleading complaint about a default it fell back to.
  const valid = (...keys: (keyof AutoscalerConfig)[]): boolean => keys.every((k) => !r.problems.some((p) => p.path === at(k)));
  if (valid('minReplicas', 'maxReplicas') && config.minReplicas > config.maxReplicas) {
    r.problem(at('minReplicas'), `must be ≤ maxReplicas (${config.maxReplicas}), got ${config.minReplicas}`);
  }
  if (valid('panicWindowSeconds', 'stableWindowSeconds') && config.panicWindowSeconds > config.stableWindowSeconds) {
    r.problem(at('panicWindowSeconds'), `must be ≤ stableWindowSeconds (${config.stableWindowSeconds}), got ${config.panicWindowSeconds}`);
  }
  if (valid('tickIntervalMs', 'panicWindowSeconds') && config.tickIntervalMs > config.panicWindowSeconds * 1000) {
    r.problem(
      at('tickIntervalMs'),
      `must be ≤ panicWindowSeconds × 1000 (${config.panicWindowSeconds * 1000}) so the panic window holds at least one sample, got ${config.tickIntervalMs}`,
    );
  }
  const loadMs = context.observedLoadMs;
  if (loadMs !== undefined && loadMs > 0 && valid('minReplicas', 'scaleToZeroGracePeriodSeconds') && config.minReplicas === 0 && config.scaleToZeroGracePeriodSeconds * 1000 <= loadMs) {
    r.problem(
      at('scaleToZeroGracePeriodSeconds'),
      `must exceed the model's observed load time (${formatSeconds(loadMs)}) when minReplicas is 0, got ${config.scaleToZeroGracePeriodSeconds} s: ` +
        'dropping the last replica after less idle time than a load takes makes the next request wait longer than the idle time saved; ' +
        `set it above ${Math.floor(loadMs / 1000) + 1} or set minReplicas to 1`,
    );
  }
  r.finish(context.what ?? 'autoscaler options');
  return deepFreeze(config);
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 0)} s`;
}
