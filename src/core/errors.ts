/**
 * The shared error kernel. Every domain declares its errors in one table (code equal to key) and
 * throws {@link PlatformError}s built from it. Errors carry a transport-free `kind`; each edge
 * (OIP REST, control API, CLI) maps kinds to HTTP statuses or exit codes in exactly one function.
 */

/** What went wrong, independent of any transport. The edges map these to statuses and exit codes. */
export type ErrorKind =
  | 'invalid' // the caller sent something malformed or inconsistent (400)
  | 'unauthenticated' // no or bad credentials (401)
  | 'forbidden' // credentials fine, permission missing (403)
  | 'not_found' // the named thing does not exist (404)
  | 'conflict' // the request clashes with current state (409)
  | 'too_large' // a body or file over its limit (413)
  | 'limited' // over a rate limit or a full queue (429)
  | 'unavailable' // starting, draining or loading: retry later (503)
  | 'timeout' // the work did not finish in time (504)
  | 'internal'; // a genuine fault of ours (500)

/** One entry of a domain's error table: its kind and what a person should do about it. */
export interface ErrorSpec {
  readonly kind: ErrorKind;
  /** One sentence for docs/errors.md: what it means and how to fix it. */
  readonly help: string;
}

export interface PlatformErrorOptions {
  /** Structured facts for clients and logs (field path, expected value, …). Must be JSON-safe. */
  readonly details?: Record<string, unknown>;
  /** Seconds after which retrying may succeed; the edges turn it into Retry-After. */
  readonly retryAfterSeconds?: number;
  readonly cause?: unknown;
}

/**
 * The one error type our code throws on purpose. `code` is `<DOMAIN>_<REASON>` and is listed in
 * the domain's error table and in docs/errors.md.
 */
export class PlatformError extends Error {
  override readonly name = 'PlatformError';
  readonly code: string;
  readonly kind: ErrorKind;
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: string, kind: ErrorKind, message: string, options: PlatformErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.kind = kind;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** A plain object that survives structured clone (worker threads) and JSON. */
  toJSON(): SerializedPlatformError {
    return {
      name: 'PlatformError',
      code: this.code,
      kind: this.kind,
      message: this.message,
      ...(this.details === undefined ? {} : { details: this.details }),
      ...(this.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: this.retryAfterSeconds }),
    };
  }
}

export interface SerializedPlatformError {
  name: 'PlatformError';
  code: string;
  kind: ErrorKind;
  message: string;
  details?: Record<string, unknown>;
  retryAfterSeconds?: number;
}

export function isSerializedPlatformError(value: unknown): value is SerializedPlatformError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { name?: unknown }).name === 'PlatformError' &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { kind?: unknown }).kind === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

/** Rebuilds a PlatformError that crossed a thread or process boundary as plain data. */
export function revivePlatformError(value: SerializedPlatformError): PlatformError {
  return new PlatformError(value.code, value.kind, value.message, {
    ...(value.details === undefined ? {} : { details: value.details }),
    ...(value.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: value.retryAfterSeconds }),
  });
}

export type ErrorTable = Readonly<Record<string, ErrorSpec>>;

/** Builds a throwing helper for each code of a table: `errors.REGISTRY_MODEL_NOT_FOUND('…')`. */
export type ErrorFactories<T extends ErrorTable> = {
  readonly [K in keyof T]: (message: string, options?: PlatformErrorOptions) => PlatformError;
};

const registeredTables = new Map<string, ErrorSpec>();

/**
 * Declares a domain's error table and returns one factory per code. The codes are registered
 * globally so docs and tests can check that every code is documented.
 */
export function defineErrors<const T extends ErrorTable>(table: T): ErrorFactories<T> {
  const factories: Record<string, (message: string, options?: PlatformErrorOptions) => PlatformError> = {};
  for (const [code, spec] of Object.entries(table)) {
    if (!/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/.test(code)) {
      throw new Error(`error code ${code} must be <DOMAIN>_<REASON> in upper snake case`);
    }
    const existing = registeredTables.get(code);
    if (existing !== undefined && existing !== spec) throw new Error(`error code ${code} is declared twice`);
    registeredTables.set(code, spec);
    factories[code] = (message, options) => new PlatformError(code, spec.kind, message, options);
  }
  return factories as ErrorFactories<T>;
}

/** Every code declared so far, with its spec (import the domains first). */
export function registeredErrorCodes(): ReadonlyMap<string, ErrorSpec> {
  return registeredTables;
}

export const CoreErrors = defineErrors({
  CORE_INTERNAL: { kind: 'internal', help: 'An unexpected fault inside Slipway. The server log has the detail; please report it.' },
  CORE_INVALID_CONFIG: {
    kind: 'invalid',
    help: 'A configuration value (file, SLIPWAY_* variable or flag) is missing or of the wrong type; the message lists every problem with its path.',
  },
  CORE_ABORTED: { kind: 'unavailable', help: 'The operation was cancelled because the client went away or the server is stopping.' },
  CORE_TIMEOUT: { kind: 'timeout', help: 'The operation did not finish within its deadline; retry, or raise the timeout.' },
});

/** Wraps anything thrown into a PlatformError, keeping PlatformErrors as they are. */
export function toPlatformError(error: unknown): PlatformError {
  if (error instanceof PlatformError) return error;
  if (isSerializedPlatformError(error)) return revivePlatformError(error);
  const message = error instanceof Error ? error.message : String(error);
  return CoreErrors.CORE_INTERNAL(`internal error: ${message}`, { cause: error });
}
