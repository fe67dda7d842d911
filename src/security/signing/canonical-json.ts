/**
 * Canonical JSON: one text for one value, so that a signature or hash made here can be checked
 * elsewhere. Object keys are sorted (by UTF-16 code unit, as RFC 8785 does) at every depth and no
 * whitespace is written. Values JSON cannot carry faithfully are refused instead of being dropped
 * or turned into null the way JSON.stringify does.
 */
import { SigningErrors } from './errors.js';

const PLAIN_KEY = /^[A-Za-z_$][\w$]*$/;

function childPath(path: string, key: string): string {
  return PLAIN_KEY.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function refuse(path: string, what: string): never {
  throw SigningErrors.SECURITY_SIGNATURE_NOT_CANONICAL(`${path} is ${what}; canonical JSON holds only strings, finite numbers, booleans, null, arrays and plain objects`, {
    details: { path },
  });
}

function write(value: unknown, path: string, out: string[], open: Set<object>): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'number':
      if (!Number.isFinite(value)) refuse(path, `the non-finite number ${value}`);
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'object':
      break;
    default:
      refuse(path, typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`);
  }
  if (value === null) {
    out.push('null');
    return;
  }
  if (open.has(value)) refuse(path, 'a reference back to one of its own parents (a cycle)');
  open.add(value);
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      write(value[i], `${path}[${i}]`, out, open);
    }
    out.push(']');
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      refuse(path, `an instance of ${(value as { constructor?: { name?: string } }).constructor?.name ?? 'a class'}, not a plain object`);
    }
    const record = value as Record<string, unknown>;
    out.push('{');
    Object.keys(record)
      .sort()
      .forEach((key, i) => {
        if (i > 0) out.push(',');
        out.push(JSON.stringify(key), ':');
        write(record[key], childPath(path, key), out, open);
      });
    out.push('}');
  }
  open.delete(value);
}

/**
 * Writes `value` as canonical JSON: keys sorted at every depth, no whitespace. Throws
 * SECURITY_SIGNATURE_NOT_CANONICAL, naming the path (`$.metadata.size`), for undefined, a
 * non-finite number, a function, symbol or bigint, a class instance (Date, Map, Buffer…) or a cycle.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, '$', out, new Set());
  return out.join('');
}
