/**
 * How live values become what a window counts: numbers for numeric features, category text for
 * categorical ones — the same text the reference profile and prediction records use
 * ({@link labelText}: a number in JavaScript's shortest form, a string as it is).
 */
import { labelText } from '../predictions/summary.js';
import type { DriftValue } from './types.js';

/** A live value as a finite number, or NaN when it is missing or not a number. */
export function numericValue(v: DriftValue): number {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? v : NaN;
    case 'string': {
      const s = v.trim();
      if (s === '') return NaN;
      const n = Number(s);
      return Number.isFinite(n) ? n : NaN;
    }
    case 'bigint': {
      const n = Number(v);
      return Number.isFinite(n) ? n : NaN;
    }
    case 'boolean':
      return v ? 1 : 0;
    default:
      return NaN;
  }
}

/** A live value as category text (cut to maxLength characters), or null when it is missing. */
export function categoryValue(v: DriftValue, maxLength: number): string | null {
  let text: string;
  switch (typeof v) {
    case 'number':
      if (!Number.isFinite(v)) return null;
      text = labelText(v);
      break;
    case 'string':
      if (v === '') return null;
      text = v;
      break;
    case 'bigint':
    case 'boolean':
      text = String(v);
      break;
    default:
      return null;
  }
  return text.length > maxLength ? text.slice(0, maxLength) : text;
}

/**
 * The bin of a value over increasing edges (bins = edges − 1): bin i holds edges[i] ≤ v <
 * edges[i+1], the last bin includes its upper edge, and values outside the edges fall in the
 * first or last bin — the profile's rule. Binary search, O(log bins).
 */
export function binOf(edges: Float64Array, v: number): number {
  let lo = 0;
  let hi = edges.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((edges[mid] as number) <= v) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
