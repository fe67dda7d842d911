/**
 * Pieces for writing JSON by hand where it is written for every request (prediction records, the
 * payload log): `JSON.stringify` of a small object costs microseconds, mostly in walking it;
 * concatenating its known fields costs a fraction. Each writer is checked against JSON.stringify
 * in its tests, byte for byte.
 */

const QUOTED_CACHE_LIMIT = 4096;
const quotedCache = new Map<string, string>();

/**
 * `JSON.stringify(text)`, remembered for the few texts that recur on every request (endpoint,
 * model, variant and output names); at most {@link QUOTED_CACHE_LIMIT} are kept.
 */
export function jsonName(text: string): string {
  let quoted = quotedCache.get(text);
  if (quoted === undefined) {
    quoted = JSON.stringify(text);
    if (quotedCache.size >= QUOTED_CACHE_LIMIT) quotedCache.clear();
    quotedCache.set(text, quoted);
  }
  return quoted;
}

/** `JSON.stringify(value)` for a number or null: a non-finite number is `null`, as JSON.stringify writes it. */
export function jsonNumber(value: number | null): string {
  return value !== null && Number.isFinite(value) ? String(value) : 'null';
}

/** `JSON.stringify(value)` of a scalar (string, number, boolean or null). */
export function jsonScalar(value: string | number | boolean | null): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return jsonNumber(value);
  return value === null ? 'null' : String(value);
}
