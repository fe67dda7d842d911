/**
 * Slipway's configuration: a YAML file, SLIPWAY_* environment variables and command-line flags
 * (later wins), validated with every problem reported by path, then frozen. The key table below
 * is the single list of keys: docs/configuration.md documents each one (a test checks it).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { availableParallelism } from 'node:os';
import { ConfigReader, deepFreeze, invalidConfigError, isValidName, NAME_RULE, type ConfigProblem, type PlatformError } from '../core/index.js';
import { compileMonitoringOptions, MONITORING_OPTION_KEYS, type MonitoringConfig } from '../monitoring/index.js';
import type { Placement } from '../runtime/index.js';
import { AUTOSCALER_OPTION_KEYS, compileAutoscalerOptions, type AutoscalerConfig } from '../scaling/index.js';
import { compileSecurityOptions, SECURITY_OPTION_KEYS, type SecurityConfig } from '../security/index.js';
import { compileTlsOptions, TLS_OPTION_KEYS, type TlsConfig } from '../security/tls/index.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface SlipwayConfig {
  readonly server: {
    readonly host: string;
    readonly port: number;
    /** Largest JSON request body (inference and control), bytes. */
    readonly bodyLimitBytes: number;
    /** Largest model upload, bytes (streamed to disk). */
    readonly uploadLimitBytes: number;
    /** How long shutdown waits for in-flight requests before closing connections. */
    readonly shutdownTimeoutMs: number;
    /** HTTPS, and client certificates (mTLS) when asked (docs/security.md). */
    readonly tls: TlsConfig;
  };
  readonly dataDir: string;
  readonly serving: {
    readonly holdTimeoutMs: number;
    readonly inferTimeoutMs: number;
    /** Most elements one inference request's inputs may declare in total (products of their shapes): 413 beyond. */
    readonly maxTensorElements: number;
    readonly replicas: number;
    /** 0 = automatic (cores / replicas). */
    readonly intraOpThreads: number;
    /** Where sessions run: `auto` moves models cheaper than a thread hop to the main thread (docs/runtime.md). */
    readonly placement: Placement;
    /** Let onnxruntime's idle intra-op threads busy-wait (its own default; off here). */
    readonly allowSpinning: boolean;
    readonly warmup: boolean;
    /** Dynamic batching per deployed version (docs/batching.md). */
    readonly batching: {
      readonly enabled: boolean;
      readonly maxBatchSize: number;
      /** 0 = adaptive: dispatch as soon as a replica is free. */
      readonly maxQueueDelayMicros: number;
      readonly maxQueueSize: number;
      /** 0 = no queue timeout. */
      readonly queueTimeoutMs: number;
    };
    /** An autoscaler per deployed version (docs/autoscaling.md); undefined when switched off. */
    readonly autoscaling: AutoscalerConfig | undefined;
  };
  /** The prediction record and the feedback store (docs/feedback.md). */
  readonly monitoring: MonitoringConfig;
  /** Keys, roles, the audit log and limits (docs/security.md). */
  readonly security: SecurityConfig;
  /** The rollout controller (docs/rollouts.md). */
  readonly rollouts: {
    /** How often running rollouts are looked at: pause timers, analysis intervals, the split. */
    readonly tickMs: number;
    /** How often a running experiment's stopping rule is checked. */
    readonly experimentLookMs: number;
  };
  /** Validation runs and the aliases that require a passing one (docs/validation.md). */
  readonly validation: {
    /** Most data rows one validation reads. */
    readonly maxRows: number;
    /** Aliases that only move to a version whose latest validation report passed its gates. */
    readonly requiredForAliases: readonly string[];
  };
  readonly examples: {
    /** Build (if missing), register and deploy the example models at start. */
    readonly deploy: boolean;
  };
  readonly log: { readonly level: LogLevel };
}

/** What a user may pass: the same shape, every key optional, values possibly strings (env, flags). */
export type SlipwayConfigInput = Record<string, unknown>;

interface KeySpec {
  /** Dotted path in the config. */
  readonly path: string;
  /** Extra environment variable names besides the derived SLIPWAY_<PATH> one. */
  readonly envAliases?: readonly string[];
}

/** Keys of serving.autoscaling besides `enabled` (maxEvents stays internal). */
const AUTOSCALER_CONFIG_KEYS = AUTOSCALER_OPTION_KEYS.filter((k) => k !== 'maxEvents');

/** Every configuration key. The env name is SLIPWAY_ + the path in UPPER_SNAKE (serving.holdTimeoutMs → SLIPWAY_SERVING_HOLD_TIMEOUT_MS). */
export const CONFIG_KEYS: readonly KeySpec[] = [
  { path: 'server.host', envAliases: ['SLIPWAY_HOST'] },
  { path: 'server.port', envAliases: ['SLIPWAY_PORT'] },
  { path: 'server.bodyLimitBytes' },
  { path: 'server.uploadLimitBytes' },
  { path: 'server.shutdownTimeoutMs' },
  ...TLS_OPTION_KEYS.map((key) => ({ path: `server.tls.${key}` })),
  { path: 'dataDir' },
  { path: 'serving.holdTimeoutMs' },
  { path: 'serving.inferTimeoutMs' },
  { path: 'serving.maxTensorElements' },
  { path: 'serving.replicas' },
  { path: 'serving.intraOpThreads' },
  { path: 'serving.placement' },
  { path: 'serving.allowSpinning' },
  { path: 'serving.warmup' },
  { path: 'serving.batching.enabled' },
  { path: 'serving.batching.maxBatchSize' },
  { path: 'serving.batching.maxQueueDelayMicros' },
  { path: 'serving.batching.maxQueueSize' },
  { path: 'serving.batching.queueTimeoutMs' },
  { path: 'serving.autoscaling.enabled' },
  ...AUTOSCALER_CONFIG_KEYS.map((key) => ({ path: `serving.autoscaling.${key}` })),
  ...MONITORING_OPTION_KEYS.map((key) => ({ path: `monitoring.${key}` })),
  ...SECURITY_OPTION_KEYS.map((key) => ({ path: `security.${key}` })),
  { path: 'rollouts.tickMs' },
  { path: 'rollouts.experimentLookMs' },
  { path: 'validation.maxRows' },
  { path: 'validation.requiredForAliases' },
  { path: 'examples.deploy' },
  { path: 'log.level', envAliases: ['SLIPWAY_LOG_LEVEL'] },
];

export function envNameFor(path: string): string {
  return 'SLIPWAY_' + path.replace(/\./g, '_').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

const MiB = 1024 * 1024;

/** Stage 2 → 3: applies defaults and checks every value; throws CORE_INVALID_CONFIG listing all problems. */
export function compileConfig(input: SlipwayConfigInput, baseDir = process.cwd()): SlipwayConfig {
  const r = new ConfigReader();
  const root = r.object(input, '');
  r.onlyKeys(root, '', ['server', 'dataDir', 'serving', 'monitoring', 'security', 'rollouts', 'validation', 'examples', 'log']);
  const validation = r.object(root.validation, 'validation');
  r.onlyKeys(validation, 'validation', ['maxRows', 'requiredForAliases']);
  const rollouts = r.object(root.rollouts, 'rollouts');
  r.onlyKeys(rollouts, 'rollouts', ['tickMs', 'experimentLookMs']);
  const server = r.object(root.server, 'server');
  r.onlyKeys(server, 'server', ['host', 'port', 'bodyLimitBytes', 'uploadLimitBytes', 'shutdownTimeoutMs', 'tls']);
  const serving = r.object(root.serving, 'serving');
  r.onlyKeys(serving, 'serving', ['holdTimeoutMs', 'inferTimeoutMs', 'maxTensorElements', 'replicas', 'intraOpThreads', 'placement', 'allowSpinning', 'warmup', 'batching', 'autoscaling']);
  const autoscaling = r.object(serving.autoscaling, 'serving.autoscaling');
  r.onlyKeys(autoscaling, 'serving.autoscaling', ['enabled', ...AUTOSCALER_CONFIG_KEYS]);
  const autoscalingEnabled = r.boolean(autoscaling.enabled, 'serving.autoscaling.enabled', true);
  const batching = r.object(serving.batching, 'serving.batching');
  r.onlyKeys(batching, 'serving.batching', ['enabled', 'maxBatchSize', 'maxQueueDelayMicros', 'maxQueueSize', 'queueTimeoutMs']);
  const examples = r.object(root.examples, 'examples');
  r.onlyKeys(examples, 'examples', ['deploy']);
  const log = r.object(root.log, 'log');
  r.onlyKeys(log, 'log', ['level']);

  const config: SlipwayConfig = {
    server: {
      host: r.string(server.host, 'server.host', '127.0.0.1', (v) => (v.trim() === '' ? 'must not be empty' : undefined)),
      port: r.integer(server.port, 'server.port', 8080, 0, 65535),
      bodyLimitBytes: r.integer(server.bodyLimitBytes, 'server.bodyLimitBytes', 16 * MiB, 1024),
      uploadLimitBytes: r.integer(server.uploadLimitBytes, 'server.uploadLimitBytes', 2048 * MiB, 1024),
      shutdownTimeoutMs: r.integer(server.shutdownTimeoutMs, 'server.shutdownTimeoutMs', 30_000, 0),
      tls: readTls(r, server.tls, baseDir),
    },
    dataDir: resolve(baseDir, r.string(root.dataDir, 'dataDir', '.slipway', (v) => (v.trim() === '' ? 'must not be empty' : undefined))),
    serving: {
      holdTimeoutMs: r.integer(serving.holdTimeoutMs, 'serving.holdTimeoutMs', 30_000, 0),
      inferTimeoutMs: r.integer(serving.inferTimeoutMs, 'serving.inferTimeoutMs', 60_000, 0),
      maxTensorElements: r.integer(serving.maxTensorElements, 'serving.maxTensorElements', 16_777_216, 1),
      replicas: r.integer(serving.replicas, 'serving.replicas', 1, 1, 64),
      intraOpThreads: r.integer(serving.intraOpThreads, 'serving.intraOpThreads', 0, 0, 256),
      placement: r.oneOf<Placement>(serving.placement, 'serving.placement', 'auto', ['auto', 'worker', 'main-thread']),
      allowSpinning: r.boolean(serving.allowSpinning, 'serving.allowSpinning', false),
      warmup: r.boolean(serving.warmup, 'serving.warmup', true),
      batching: {
        enabled: r.boolean(batching.enabled, 'serving.batching.enabled', true),
        maxBatchSize: r.integer(batching.maxBatchSize, 'serving.batching.maxBatchSize', 32, 1, 1_000_000),
        maxQueueDelayMicros: r.integer(batching.maxQueueDelayMicros, 'serving.batching.maxQueueDelayMicros', 0, 0, 60_000_000),
        maxQueueSize: r.integer(batching.maxQueueSize, 'serving.batching.maxQueueSize', 1024, 1),
        queueTimeoutMs: r.integer(batching.queueTimeoutMs, 'serving.batching.queueTimeoutMs', 0, 0),
      },
      autoscaling: autoscalingEnabled ? readAutoscaling(r, autoscaling) : undefined,
    },
    monitoring: readMonitoring(r, root.monitoring),
    security: compileSecurityOptions(root.security, { path: 'security', reader: r }),
    rollouts: {
      tickMs: r.integer(rollouts.tickMs, 'rollouts.tickMs', 1000, 10, 60_000),
      experimentLookMs: r.integer(rollouts.experimentLookMs, 'rollouts.experimentLookMs', 10_000, 100, 3_600_000),
    },
    validation: {
      maxRows: r.integer(validation.maxRows, 'validation.maxRows', 200_000, 1, 10_000_000),
      requiredForAliases: readNameList(r, validation.requiredForAliases, 'validation.requiredForAliases'),
    },
    examples: { deploy: r.boolean(examples.deploy, 'examples.deploy', false) },
    log: { level: r.oneOf(log.level, 'log.level', 'info', LOG_LEVELS) },
  };
  r.finish('configuration');
  return deepFreeze(config);
}

/** A list of names: a YAML list, or comma-separated text (environment variables, flags). Default empty. */
function readNameList(r: ConfigReader, input: unknown, path: string): string[] {
  if (input === undefined || input === null || input === '') return [];
  const items = typeof input === 'string' ? input.split(',').map((x) => x.trim()).filter((x) => x !== '') : input;
  if (!Array.isArray(items)) {
    r.problem(path, 'must be a list of alias names (or comma-separated text)');
    return [];
  }
  const out: string[] = [];
  items.forEach((item, i) => {
    if (typeof item !== 'string' || !isValidName(item)) r.problem(`${path}[${i}]`, `must be an alias name (${NAME_RULE}), got ${JSON.stringify(item)}`);
    else out.push(item);
  });
  return out;
}

/**
 * Slipway's defaults differ from the library's (Knative's) in two places: at least one replica
 * stays up (scale to zero is opt-in with minReplicas: 0, as in KServe), and no more replicas than
 * cores, since replicas beyond the cores of one machine only contend.
 */
function readAutoscaling(r: ConfigReader, input: Record<string, unknown>): AutoscalerConfig | undefined {
  const { enabled: _enabled, ...options } = input;
  const withDefaults = { minReplicas: 1, maxReplicas: Math.max(1, Math.min(4, availableParallelism())), ...options };
  try {
    return compileAutoscalerOptions(withDefaults, { path: 'serving.autoscaling', what: 'serving.autoscaling' });
  } catch (error) {
    const problems = (error as PlatformError).details?.problems;
    if (!Array.isArray(problems)) throw error;
    for (const p of problems as ConfigProblem[]) r.problem(p.path, p.message);
    return undefined;
  }
}

/** server.tls, checked by its own compiler; file paths are resolved against the base directory. */
function readTls(r: ConfigReader, input: unknown, baseDir: string): TlsConfig {
  try {
    const tls = compileTlsOptions(input as Record<string, unknown> | undefined, { path: 'server.tls', what: 'server.tls' });
    const abs = (p: string): string => (p === '' ? '' : resolve(baseDir, p));
    return { ...tls, cert: abs(tls.cert), key: abs(tls.key), ca: abs(tls.ca) };
  } catch (error) {
    const problems = (error as PlatformError).details?.problems;
    if (!Array.isArray(problems)) throw error;
    for (const p of problems as ConfigProblem[]) r.problem(p.path, p.message);
    return compileTlsOptions(undefined);
  }
}

/** The monitoring section, checked by monitoring's own compiler; its problems join the others under `monitoring.…`. */
function readMonitoring(r: ConfigReader, input: unknown): MonitoringConfig {
  try {
    return compileMonitoringOptions(input as Record<string, unknown> | undefined, { path: 'monitoring', what: 'monitoring' });
  } catch (error) {
    const problems = (error as PlatformError).details?.problems;
    if (!Array.isArray(problems)) throw error;
    for (const p of problems as ConfigProblem[]) r.problem(p.path, p.message);
    // never used: the reader now holds problems, so finish() throws before the config is built
    return compileMonitoringOptions(undefined);
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const p of parts.slice(0, -1)) {
    const next = node[p];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] ?? path] = value;
}

function merge(into: Record<string, unknown>, from: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k];
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && typeof cur === 'object' && cur !== null && !Array.isArray(cur)) {
      merge(cur as Record<string, unknown>, v as Record<string, unknown>);
    } else into[k] = v;
  }
  return into;
}

/** Reads the SLIPWAY_* variables that name config keys. */
export function configFromEnv(env: NodeJS.ProcessEnv): SlipwayConfigInput {
  const out: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    for (const name of [envNameFor(key.path), ...(key.envAliases ?? [])]) {
      const v = env[name];
      if (v !== undefined && v !== '') setPath(out, key.path, v);
    }
  }
  return out;
}

/** Reads a YAML config file; a parse error or a non-mapping is a config error naming the file. */
export function configFromFile(path: string): SlipwayConfigInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw invalidConfigError(`config file ${path}`, [{ path: '(file)', message: `cannot read: ${(error as Error).message}` }]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw invalidConfigError(`config file ${path}`, [{ path: '(file)', message: `not valid YAML: ${(error as Error).message}` }]);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    const problems: ConfigProblem[] = [{ path: '(file)', message: 'must be a YAML mapping of config keys' }];
    throw invalidConfigError(`config file ${path}`, problems);
  }
  return doc as SlipwayConfigInput;
}

export interface LoadConfigOptions {
  readonly file?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Values from flags, as dotted paths (`server.port`). */
  readonly overrides?: Readonly<Record<string, unknown>>;
  readonly baseDir?: string;
}

/** Stage 1 → 3: file, then environment, then flags, compiled and frozen. */
export function loadConfig(options: LoadConfigOptions = {}): SlipwayConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env.SLIPWAY_CONFIG;
  const merged: Record<string, unknown> = {};
  if (file !== undefined && file !== '') merge(merged, configFromFile(file));
  merge(merged, configFromEnv(env));
  for (const [path, v] of Object.entries(options.overrides ?? {})) if (v !== undefined) setPath(merged, path, v);
  return compileConfig(merged, options.baseDir);
}
