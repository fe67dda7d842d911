/**
 * The config toolkit. Options pass through three stages (user options → with defaults → compiled):
 * every problem is collected with its path and reported at once, then the result is frozen.
 */
import { CoreErrors, type PlatformError } from './errors.js';

export interface ConfigProblem {
  /** Dotted path of the offending value, e.g. `serving.holdTimeoutMs`. */
  readonly path: string;
  readonly message: string;
}

/** Collects problems while a config is read; {@link ConfigReader.finish} throws them all at once. */
export class ConfigReader {
  readonly problems: ConfigProblem[] = [];

  problem(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  /** Reads an object (or nothing). A non-object is a problem and reads as empty. */
  object(value: unknown, path: string): Record<string, unknown> {
    if (value === undefined || value === null) return {};
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.problem(path, `must be a mapping, got ${describe(value)}`);
      return {};
    }
    return value as Record<string, unknown>;
  }

  /** Flags keys that the reader does not know, so typos do not pass silently. */
  /** Reads a mapping that may hold only the `known` keys (object, then onlyKeys): a config section. */
  section(value: unknown, path: string, known: readonly string[]): Record<string, unknown> {
    const o = this.object(value, path);
    this.onlyKeys(o, path, known);
    return o;
  }

  onlyKeys(obj: Record<string, unknown>, path: string, known: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (!known.includes(key)) this.problem(join(path, key), `unknown key (known: ${known.join(', ')})`);
    }
  }

  string(value: unknown, path: string, fallback: string, check?: (v: string) => string | undefined): string {
    if (value === undefined) return fallback;
    if (typeof value !== 'string') {
      this.problem(path, `must be a string, got ${describe(value)}`);
      return fallback;
    }
    const why = check?.(value);
    if (why !== undefined) {
      this.problem(path, why);
      return fallback;
    }
    return value;
  }

  optionalString(value: unknown, path: string): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'string') {
      this.problem(path, `must be a string, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  /** Reads an integer in [min, max]; numeric strings (from env vars and flags) are accepted. */
  integer(value: unknown, path: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (value === undefined) return fallback;
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n)) {
      this.problem(path, `must be a whole number, got ${describe(value)}`);
      return fallback;
    }
    if (n < min || n > max) {
      this.problem(path, `must be ≥ ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` and ≤ ${max}`}, got ${n}`);
      return fallback;
    }
    return n;
  }

  /** Reads a finite number in [min, max]; numeric strings (from env vars and flags) are accepted. */
  number(value: unknown, path: string, fallback: number, min: number, max = Number.MAX_VALUE): number {
    if (value === undefined) return fallback;
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n)) {
      this.problem(path, `must be a number, got ${describe(value)}`);
      return fallback;
    }
    if (n < min || n > max) {
      this.problem(path, `must be ≥ ${min}${max === Number.MAX_VALUE ? '' : ` and ≤ ${max}`}, got ${n}`);
      return fallback;
    }
    return n;
  }

  /** Reads a mapping of HTTP header names to one-line values (names lower-cased). */
  httpHeaders(value: unknown, path: string): Record<string, string> {
    const o = this.object(value, path);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(o)) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) this.problem(join(path, k), 'is not a valid HTTP header name');
      else if (typeof v !== 'string' || /[\r\n]/.test(v)) this.problem(join(path, k), `must be a one-line string, got ${describe(v)}`);
      else out[k.toLowerCase()] = v;
    }
    return out;
  }

  boolean(value: unknown, path: string, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    this.problem(path, `must be true or false, got ${describe(value)}`);
    return fallback;
  }

  oneOf<T extends string>(value: unknown, path: string, fallback: T, allowed: readonly T[]): T {
    if (value === undefined) return fallback;
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    this.problem(path, `must be one of ${allowed.join(', ')}, got ${describe(value)}`);
    return fallback;
  }

  /** Throws one error listing every problem, or does nothing. */
  finish(what = 'configuration'): void {
    if (this.problems.length === 0) return;
    throw invalidConfigError(what, this.problems);
  }
}

export function invalidConfigError(what: string, problems: readonly ConfigProblem[]): PlatformError {
  const lines = problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
  return CoreErrors.CORE_INVALID_CONFIG(`invalid ${what} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines}`, {
    details: { problems: problems.map((p) => ({ path: p.path, message: p.message })) },
  });
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${String(value)}`;
  return typeof value;
}

/** Deep-freezes a compiled config so nothing mutates it after validation. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
