/**
 * Options of the payload log, in three stages (user options → with defaults → compiled): every
 * problem reported with its path at once, then frozen. They sit under `monitoring.payloadLog` in
 * Slipway's configuration (docs/payload-log.md lists them and says why each default is what it is).
 */
import { ConfigReader, deepFreeze, describe, join } from '../../core/index.js';
import { parseRedactionPath, REDACTION_ACTIONS, REDACTION_PATH_RULE, REDACTION_TARGETS, type RedactionAction, type RedactionRule, type RedactionTarget } from './redact.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** A redaction rule as a user writes it: a path (masked), or a mapping. */
export type RedactionRuleInput = string | { readonly path?: unknown; readonly action?: unknown; readonly in?: unknown };

/** What a user may set; every key optional. Numeric strings (env vars, flags) are accepted. */
export interface PayloadLogOptions {
  readonly enabled?: boolean | string;
  readonly bodies?: {
    readonly sampleRate?: number | string;
    readonly errorSampleRate?: number | string;
    readonly maxBytes?: number | string;
    readonly maxBufferedBytes?: number | string;
  };
  readonly redact?: readonly RedactionRuleInput[];
  readonly hashSalt?: string;
  readonly segmentMaxBytes?: number | string;
  readonly retention?: { readonly maxAgeHours?: number | string; readonly maxBytes?: number | string };
  readonly bufferSize?: number | string;
  readonly flushIntervalMs?: number | string;
  readonly webhook?: WebhookOptions | null;
}

export interface WebhookOptions {
  readonly url?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly batchSize?: number | string;
  readonly flushIntervalMs?: number | string;
  readonly maxBuffer?: number | string;
  readonly maxRetries?: number | string;
  readonly timeoutMs?: number | string;
  readonly retryBaseMs?: number | string;
  readonly retryMaxMs?: number | string;
  readonly closeTimeoutMs?: number | string;
}

/** The compiled webhook sink options. */
export interface WebhookConfig {
  /** Where batches are POSTed as `{"entries": [...]}`. */
  readonly url: string;
  /** Sent with every POST (an Authorization header, say). */
  readonly headers: Readonly<Record<string, string>>;
  /** Most entries per POST; a buffer this full is sent at once. */
  readonly batchSize: number;
  /** How often a partial batch is sent. */
  readonly flushIntervalMs: number;
  /** Entries waiting (the batch in flight included); beyond it new ones are dropped and counted. */
  readonly maxBuffer: number;
  /** Attempts after the first on a network error, timeout, 5xx, 408 or 429; then the batch is dropped and counted. */
  readonly maxRetries: number;
  /** Longest one POST may take. */
  readonly timeoutMs: number;
  /** First backoff; it doubles per retry, with full jitter, up to retryMaxMs. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** How long close may spend sending what is buffered. */
  readonly closeTimeoutMs: number;
}

/** The compiled, frozen options. */
export interface PayloadLogConfig {
  /** Record at all. Off: nothing is recorded; what is stored can still be exported. */
  readonly enabled: boolean;
  readonly bodies: {
    /** Share of 1xx–3xx requests whose request and response bodies are kept. */
    readonly sampleRate: number;
    /** Share of 4xx and 5xx requests whose bodies are kept (errors are what people debug). */
    readonly errorSampleRate: number;
    /** Each body is cut at this many bytes of its (redacted) JSON text and flagged truncated. */
    readonly maxBytes: number;
    /** Body text held in memory while waiting to be written; beyond it entries are kept without bodies. */
    readonly maxBufferedBytes: number;
  };
  /** Applied in order, before anything is written or sent. */
  readonly redact: readonly RedactionRule[];
  /** Prefixed to a value's JSON text before a `hash` rule hashes it. */
  readonly hashSalt: string;
  /** A segment file is closed beyond this size (and at every hour). */
  readonly segmentMaxBytes: number;
  readonly retention: {
    /** Segments whose newest possible entry is older are deleted. */
    readonly maxAgeHours: number;
    /** The oldest segments are deleted while all of them together are larger. */
    readonly maxBytes: number;
  };
  /** Entries waiting to be written; when full, new ones are dropped and counted, never waited for. */
  readonly bufferSize: number;
  /** How often buffered entries are written. */
  readonly flushIntervalMs: number;
  /** null: no webhook. */
  readonly webhook: WebhookConfig | null;
}

/** The defaults; docs/payload-log.md says why each has its value. */
export const PAYLOAD_LOG_DEFAULTS: PayloadLogConfig = deepFreeze({
  enabled: true,
  bodies: { sampleRate: 0.01, errorSampleRate: 1, maxBytes: 64 * KiB, maxBufferedBytes: 64 * MiB },
  redact: [],
  hashSalt: '',
  segmentMaxBytes: 64 * MiB,
  retention: { maxAgeHours: 168, maxBytes: GiB },
  bufferSize: 10_000,
  flushIntervalMs: 1000,
  webhook: null,
});

/** The webhook defaults (its url has none). */
export const WEBHOOK_DEFAULTS: Omit<WebhookConfig, 'url'> = deepFreeze({
  headers: {},
  batchSize: 100,
  flushIntervalMs: 1000,
  maxBuffer: 10_000,
  maxRetries: 5,
  timeoutMs: 10_000,
  retryBaseMs: 500,
  retryMaxMs: 30_000,
  closeTimeoutMs: 5000,
});

const TOP_KEYS = ['enabled', 'bodies', 'redact', 'hashSalt', 'segmentMaxBytes', 'retention', 'bufferSize', 'flushIntervalMs', 'webhook'] as const;
const BODY_KEYS = Object.keys(PAYLOAD_LOG_DEFAULTS.bodies);
const RETENTION_KEYS = Object.keys(PAYLOAD_LOG_DEFAULTS.retention);
const WEBHOOK_KEYS = ['url', ...Object.keys(WEBHOOK_DEFAULTS)];

/**
 * Every key a single value sets (env vars, flags), as a dotted path below the options' own path.
 * `redact` and `webhook.headers` take structured values and are set in the config file only.
 */
export const PAYLOAD_LOG_OPTION_KEYS: readonly string[] = Object.freeze([
  'enabled',
  ...BODY_KEYS.map((k) => `bodies.${k}`),
  'hashSalt',
  'segmentMaxBytes',
  ...RETENTION_KEYS.map((k) => `retention.${k}`),
  'bufferSize',
  'flushIntervalMs',
  ...WEBHOOK_KEYS.filter((k) => k !== 'headers').map((k) => `webhook.${k}`),
]);

export interface PayloadLogOptionsContext {
  /** Dotted path of the options in a larger config, prefixed to every problem path. Default ''. */
  readonly path?: string;
  /** What the options are, for the error message. Default `payload log options`. */
  readonly what?: string;
}

/** A share in [0, 1]; numeric strings accepted. */

function readRules(r: ConfigReader, value: unknown, path: string): RedactionRule[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    r.problem(path, `must be a list of rules (a path such as parameters.user_id, or {path, action: mask|drop|hash, in: request|response|both}), got ${describe(value)}`);
    return [];
  }
  const rules: RedactionRule[] = [];
  (value as unknown[]).forEach((item, index) => {
    const at = join(path, index);
    let rawPath: unknown;
    let action: RedactionAction = 'mask';
    let target: RedactionTarget = 'both';
    if (typeof item === 'string') rawPath = item;
    else if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
      const o = item as Record<string, unknown>;
      r.onlyKeys(o, at, ['path', 'action', 'in']);
      rawPath = o.path;
      action = r.oneOf(o.action, join(at, 'action'), 'mask', REDACTION_ACTIONS);
      target = r.oneOf(o.in, join(at, 'in'), 'both', REDACTION_TARGETS);
    } else {
      r.problem(at, `must be a path string or a mapping {path, action, in}, got ${describe(item)}`);
      return;
    }
    const pathAt = typeof item === 'string' ? at : join(at, 'path');
    if (typeof rawPath !== 'string') {
      r.problem(pathAt, rawPath === undefined ? `is required: ${REDACTION_PATH_RULE}` : `must be a string (${REDACTION_PATH_RULE}), got ${describe(rawPath)}`);
      return;
    }
    const parsed = parseRedactionPath(rawPath);
    if ('error' in parsed) {
      r.problem(pathAt, `${JSON.stringify(rawPath)} ${parsed.error}; expected ${REDACTION_PATH_RULE}`);
      return;
    }
    rules.push({ path: rawPath, action, in: target });
  });
  return rules;
}


function readWebhook(r: ConfigReader, value: unknown, path: string): WebhookConfig | null {
  if (value === undefined || value === null) return null;
  const w = r.section(value, path, WEBHOOK_KEYS);
  const at = (key: string): string => join(path, key);
  const d = WEBHOOK_DEFAULTS;
  const url = r.string(w.url, at('url'), '', (v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : `must be an http:// or https:// URL, got ${describe(v)}`;
    } catch {
      return `must be a URL such as https://collector.example/payloads, got ${describe(v)}`;
    }
  });
  if (w.url === undefined) r.problem(at('url'), 'is required when webhook is set (where batches are POSTed)');
  const config: WebhookConfig = {
    url,
    headers: r.httpHeaders(w.headers, at('headers')),
    batchSize: r.integer(w.batchSize, at('batchSize'), d.batchSize, 1, 10_000),
    flushIntervalMs: r.integer(w.flushIntervalMs, at('flushIntervalMs'), d.flushIntervalMs, 10, 3_600_000),
    maxBuffer: r.integer(w.maxBuffer, at('maxBuffer'), d.maxBuffer, 1, 10_000_000),
    maxRetries: r.integer(w.maxRetries, at('maxRetries'), d.maxRetries, 0, 100),
    timeoutMs: r.integer(w.timeoutMs, at('timeoutMs'), d.timeoutMs, 1, 600_000),
    retryBaseMs: r.integer(w.retryBaseMs, at('retryBaseMs'), d.retryBaseMs, 1, 3_600_000),
    retryMaxMs: r.integer(w.retryMaxMs, at('retryMaxMs'), d.retryMaxMs, 1, 3_600_000),
    closeTimeoutMs: r.integer(w.closeTimeoutMs, at('closeTimeoutMs'), d.closeTimeoutMs, 0, 600_000),
  };
  if (config.maxBuffer < config.batchSize) r.problem(at('maxBuffer'), `must be ≥ webhook.batchSize (${config.batchSize}), got ${config.maxBuffer}`);
  if (config.retryMaxMs < config.retryBaseMs) r.problem(at('retryMaxMs'), `must be ≥ webhook.retryBaseMs (${config.retryBaseMs}), got ${config.retryMaxMs}`);
  return config;
}

/**
 * Applies defaults and checks every value; throws CORE_INVALID_CONFIG listing all problems by
 * path (a bad redaction rule is named by its index: `redact[2].path`). Compiling a compiled
 * {@link PayloadLogConfig} again yields an equal one.
 */
export function compilePayloadLogOptions(input: PayloadLogOptions | Readonly<Record<string, unknown>> | undefined, context: PayloadLogOptionsContext = {}): PayloadLogConfig {
  const base = context.path ?? '';
  const r = new ConfigReader();
  const o = r.section(input, base, TOP_KEYS);
  const at = (key: string): string => join(base, key);
  const bPath = at('bodies');
  const b = r.section(o.bodies, bPath, BODY_KEYS);
  const rPath = at('retention');
  const ret = r.section(o.retention, rPath, RETENTION_KEYS);
  const d = PAYLOAD_LOG_DEFAULTS;

  const redact = readRules(r, o.redact, at('redact'));
  const hashSalt = r.string(o.hashSalt, at('hashSalt'), d.hashSalt);
  if (hashSalt === '') {
    // an unsalted SHA-256 of an id card number is undone by hashing every possible number
    const hashing = redact.findIndex((rule) => rule.action === 'hash');
    if (hashing >= 0) r.problem(join(at('redact'), hashing), `action hash needs ${at('hashSalt')} (a secret string): without a salt, a hash of a short value such as an id number is reversed by trying every value`);
  }

  const config: PayloadLogConfig = {
    enabled: r.boolean(o.enabled, at('enabled'), d.enabled),
    bodies: {
      sampleRate: r.number(b.sampleRate, join(bPath, 'sampleRate'), d.bodies.sampleRate, 0, 1),
      errorSampleRate: r.number(b.errorSampleRate, join(bPath, 'errorSampleRate'), d.bodies.errorSampleRate, 0, 1),
      maxBytes: r.integer(b.maxBytes, join(bPath, 'maxBytes'), d.bodies.maxBytes, 64, 64 * MiB),
      maxBufferedBytes: r.integer(b.maxBufferedBytes, join(bPath, 'maxBufferedBytes'), d.bodies.maxBufferedBytes, 0, 16 * GiB),
    },
    redact,
    hashSalt,
    segmentMaxBytes: r.integer(o.segmentMaxBytes, at('segmentMaxBytes'), d.segmentMaxBytes, 4 * KiB, 16 * GiB),
    retention: {
      maxAgeHours: r.integer(ret.maxAgeHours, join(rPath, 'maxAgeHours'), d.retention.maxAgeHours, 1, 24 * 3650),
      maxBytes: r.integer(ret.maxBytes, join(rPath, 'maxBytes'), d.retention.maxBytes, 4 * KiB, 1024 * GiB),
    },
    bufferSize: r.integer(o.bufferSize, at('bufferSize'), d.bufferSize, 1, 10_000_000),
    flushIntervalMs: r.integer(o.flushIntervalMs, at('flushIntervalMs'), d.flushIntervalMs, 10, 60_000),
    webhook: readWebhook(r, o.webhook, at('webhook')),
  };
  if (config.segmentMaxBytes > config.retention.maxBytes) {
    r.problem(at('segmentMaxBytes'), `must be ≤ retention.maxBytes (${config.retention.maxBytes}), or retention would delete the segment being written; got ${config.segmentMaxBytes}`);
  }
  r.finish(context.what ?? 'payload log options');
  return deepFreeze(config);
}
