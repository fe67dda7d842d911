/**
 * The spec reader: the config toolkit's ConfigReader with strict readers for YAML values. Unlike
 * configuration (where env vars make everything a string), a spec's numbers must be numbers and
 * its booleans booleans.
 */
import { ConfigReader, describe, isValidName, NAME_RULE, type ConfigProblem } from '../../core/index.js';
import { DURATION_RULE, parseDurationSeconds } from './duration.js';
import { RolloutSpecErrors } from './errors.js';

/** Thirty-one days: the longest wait any field accepts, so `60000h` is caught as the typo it is. */
export const MAX_SPEC_SECONDS = 31 * 24 * 3600;

/** RFC 9110 token: a header or cookie name. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Feedback event and metric names: 1–63 letters, digits, `_`, `-` or `.`, starting with a letter or digit. */
const METRIC_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
export const METRIC_NAME_RULE = '1–63 letters, digits, "_", "-" or ".", starting with a letter or digit';

export class SpecReader extends ConfigReader {
  /** Reads a mapping and flags unknown keys; undefined (no problem) when absent. */
  mapping(value: unknown, path: string, known: readonly string[]): Record<string, unknown> | undefined {
    if (value === undefined) return undefined;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.problem(path, `must be a mapping, got ${describe(value)}`);
      return undefined;
    }
    const obj = value as Record<string, unknown>;
    this.onlyKeys(obj, path, known);
    return obj;
  }

  /** Reads a list; undefined (no problem) when absent. */
  list(value: unknown, path: string): readonly unknown[] | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) {
      this.problem(path, `must be a list, got ${describe(value)}`);
      return undefined;
    }
    return value as readonly unknown[];
  }

  require(value: unknown, path: string, what: string): boolean {
    if (value !== undefined && value !== null) return true;
    this.problem(path, `is required: ${what}`);
    return false;
  }

  /** A number in [min, max] (whole when `integer`); numeric strings are refused. */
  num(value: unknown, path: string, fallback: number, min: number, max: number, integer = false): number {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isSafeInteger(value))) {
      this.problem(path, `must be ${integer ? 'a whole number' : 'a number'}, got ${describe(value)}`);
      return fallback;
    }
    if (value < min || value > max) {
      this.problem(path, `must be ≥ ${min} and ≤ ${max}, got ${value}`);
      return fallback;
    }
    return value;
  }

  /** A number in (0, max]: for significance levels. */
  fraction(value: unknown, path: string, fallback: number, max: number): number {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) {
      this.problem(path, `must be a number > 0 and ≤ ${max}, got ${describe(value)}`);
      return fallback;
    }
    return value;
  }

  bool(value: unknown, path: string, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value === 'boolean') return value;
    this.problem(path, `must be true or false, got ${describe(value)}`);
    return fallback;
  }

  /** A duration in seconds within [min, max]. */
  duration(value: unknown, path: string, fallback: number, min: number, max = MAX_SPEC_SECONDS): number {
    if (value === undefined) return fallback;
    const seconds = parseDurationSeconds(value);
    if (seconds === undefined) {
      this.problem(path, `must be ${DURATION_RULE}, got ${describe(value)}`);
      return fallback;
    }
    if (seconds < min || seconds > max) {
      this.problem(path, `must be at least ${min} s and at most ${max} s, got ${describe(value)} (${seconds} s)`);
      return fallback;
    }
    return seconds;
  }

  /** A model, endpoint, alias or variant name. */
  name(value: unknown, path: string, what: string): string {
    if (!this.require(value, path, `the ${what}'s name (${NAME_RULE})`)) return '';
    if (typeof value !== 'string' || !isValidName(value)) {
      this.problem(path, `must be ${NAME_RULE}, got ${describe(value)}`);
      return '';
    }
    return value;
  }

  metricName(value: unknown, path: string): string {
    if (typeof value !== 'string' || !METRIC_NAME.test(value)) {
      this.problem(path, `must be ${METRIC_NAME_RULE}, got ${describe(value)}`);
      return '';
    }
    return value;
  }

  /** An HTTP header or cookie name. */
  token(value: unknown, path: string, what: string): string {
    if (typeof value !== 'string' || !TOKEN.test(value)) {
      this.problem(path, `must be ${what} (letters, digits and !#$%&'*+-.^_\`|~, no spaces), got ${describe(value)}`);
      return '';
    }
    return value;
  }

  nonEmptyString(value: unknown, path: string, fallback: string): string {
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || value === '') {
      this.problem(path, `must be a non-empty string, got ${describe(value)}`);
      return fallback;
    }
    return value;
  }

  /** Exactly one of `keys` present in `obj`; returns it, or undefined after a problem. */
  exactlyOne(obj: Record<string, unknown>, path: string, keys: readonly string[], what: string): string | undefined {
    const present = keys.filter((k) => obj[k] !== undefined);
    if (present.length === 1) return present[0];
    if (present.length === 0) this.problem(path, `needs ${what}: one of ${keys.join(', ')}`);
    else this.problem(path, `has ${present.join(' and ')}: give exactly one of ${keys.join(', ')}`);
    return undefined;
  }

  /** Throws ROLLOUT_SPEC_INVALID listing every problem, or does nothing. */
  finishSpec(source: string | undefined): void {
    if (this.problems.length > 0) throw invalidSpecError(this.problems, source);
  }
}

/** The error for a refused spec: every problem on its own line, and as `details.problems`. */
export function invalidSpecError(problems: readonly ConfigProblem[], source?: string) {
  const lines = problems.map((p) => `  ${p.path === '' ? '(document)' : p.path}: ${p.message}`).join('\n');
  const where = source === undefined ? '' : ` in ${source}`;
  return RolloutSpecErrors.ROLLOUT_SPEC_INVALID(`invalid endpoint spec${where} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines}`, {
    details: { problems: problems.map((p) => ({ path: p.path, message: p.message })) },
  });
}
