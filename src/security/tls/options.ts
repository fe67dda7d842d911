/**
 * Options of HTTPS serving, in three stages (user options → with defaults → compiled): every
 * problem reported with its path at once, then frozen. They are meant to sit under `server.tls` in
 * Slipway's configuration; {@link loadTlsOptions} turns a compiled, enabled section into server options.
 */
import { ConfigReader, deepFreeze, join } from '../../core/index.js';
import { CLIENT_CERTIFICATE_MODES, type ClientCertificateMode } from './load.js';

/** What a user may set; every key optional. `enabled` accepts the strings of env vars and flags. */
export interface TlsOptions {
  readonly enabled?: boolean | string;
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
  readonly clientCertificates?: string;
}

/** The compiled, frozen options. */
export interface TlsConfig {
  /** Serve HTTPS instead of plain HTTP. */
  readonly enabled: boolean;
  /** Path of the PEM certificate (and chain); required when enabled. */
  readonly cert: string;
  /** Path of the PEM private key, unencrypted; required when enabled. */
  readonly key: string;
  /** Path of the PEM CA certificates client certificates must chain to; '' for none. */
  readonly ca: string;
  /** Ask clients for certificates: none, request (optional), require (handshake fails without one). */
  readonly clientCertificates: ClientCertificateMode;
}

/** The defaults: plain HTTP, no files, no client certificates. */
export const TLS_DEFAULTS: TlsConfig = deepFreeze({ enabled: false, cert: '', key: '', ca: '', clientCertificates: 'none' });

/** Every key, as a dotted path below the options' own path. */
export const TLS_OPTION_KEYS: readonly string[] = Object.freeze(Object.keys(TLS_DEFAULTS));

/** Where the options sit, for problem paths and the error message. */
export interface TlsOptionsContext {
  /** Dotted path of the options in a larger config, prefixed to every problem path. Default ''. */
  readonly path?: string;
  /** What the options are, for the error message. Default `TLS options`. */
  readonly what?: string;
}

/** Configs this module compiled. */
const COMPILED = new WeakSet<object>();

/**
 * Applies defaults and checks every value; throws CORE_INVALID_CONFIG listing all problems by
 * path (enabled without cert or key, client certificates without ca, unknown keys, wrong types).
 * The files themselves are only read by {@link loadTlsOptions}. A config this function returned
 * is returned as it is.
 */
export function compileTlsOptions(input: TlsOptions | TlsConfig | Readonly<Record<string, unknown>> | undefined, context: TlsOptionsContext = {}): TlsConfig {
  if (typeof input === 'object' && COMPILED.has(input)) return input as TlsConfig;
  const base = context.path ?? '';
  const at = (key: string): string => join(base, key);
  const r = new ConfigReader();
  const o = r.section(input, base, TLS_OPTION_KEYS);
  const d = TLS_DEFAULTS;
  const config: TlsConfig = {
    enabled: r.boolean(o.enabled, at('enabled'), d.enabled),
    cert: r.string(o.cert, at('cert'), d.cert),
    key: r.string(o.key, at('key'), d.key),
    ca: r.string(o.ca, at('ca'), d.ca),
    clientCertificates: r.oneOf(o.clientCertificates, at('clientCertificates'), d.clientCertificates, CLIENT_CERTIFICATE_MODES),
  };
  if (config.enabled) {
    if (config.cert === '' && o.cert === undefined) r.problem(at('cert'), 'is required when TLS is enabled: the path of the PEM certificate');
    else if (config.cert === '' && typeof o.cert === 'string') r.problem(at('cert'), 'must not be empty when TLS is enabled');
    if (config.key === '' && o.key === undefined) r.problem(at('key'), 'is required when TLS is enabled: the path of the PEM private key');
    else if (config.key === '' && typeof o.key === 'string') r.problem(at('key'), 'must not be empty when TLS is enabled');
    if (config.clientCertificates !== 'none' && config.ca === '' && (o.ca === undefined || typeof o.ca === 'string')) {
      r.problem(at('ca'), `is required when clientCertificates is ${config.clientCertificates}: the PEM CA certificates client certificates are verified against`);
    }
  }
  r.finish(context.what ?? 'TLS options');
  const frozen = deepFreeze(config);
  COMPILED.add(frozen);
  return frozen;
}
