/**
 * Reading the payload log back: every stored entry matching a query, oldest first, streamed one
 * segment and one line at a time so that an export of any size holds one line in memory.
 */
import { join } from 'node:path';
import { HOUR_MS, listSegments, readLines } from './segments.js';
import type { PayloadEntry, PayloadQuery, StatusFilter } from './types.js';

/** What an export met besides matching entries. */
export interface ExportCounters {
  /** Lines that did not parse as an entry (a crash can leave one in the middle of a segment). */
  skippedLines: number;
}

function statusMatches(status: number, filters: readonly StatusFilter[]): boolean {
  for (const f of filters) {
    if ('code' in f ? status === f.code : Math.floor(status / 100) === f.class) return true;
  }
  return false;
}

function isEntry(value: unknown): value is PayloadEntry {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return typeof e.requestId === 'string' && typeof e.at === 'number' && typeof e.endpoint === 'string' && typeof e.status === 'number';
}

/** Whether a stored entry matches the query (its limit aside). */
export function entryMatches(entry: PayloadEntry, query: PayloadQuery): boolean {
  if (query.endpoint !== undefined && entry.endpoint !== query.endpoint) return false;
  if (query.requestId !== undefined && entry.requestId !== query.requestId) return false;
  if (query.since !== undefined && entry.at < query.since) return false;
  if (query.until !== undefined && entry.at >= query.until) return false;
  if (query.status !== undefined && query.status.length > 0 && !statusMatches(entry.status, query.status)) return false;
  return true;
}

/**
 * The stored entries in `dir` that match `query`, oldest first. Segments whose hour lies wholly
 * outside since/until are not opened; lines that cannot contain the endpoint or request id asked
 * for are not parsed. Stopping the iteration early closes the file being read.
 */
export async function* readPayloadEntries(dir: string, query: PayloadQuery = {}, counters?: ExportCounters): AsyncGenerator<PayloadEntry> {
  const limit = query.limit ?? Number.POSITIVE_INFINITY;
  if (limit <= 0) return;
  let yielded = 0;
  // a cheap test on the raw line before parsing it: the value must appear as its JSON text
  const needles = [query.requestId, query.endpoint].filter((v): v is string => v !== undefined).map((v) => JSON.stringify(v));
  for (const segment of await listSegments(dir)) {
    if (query.since !== undefined && segment.hourMs + HOUR_MS <= query.since) continue;
    if (query.until !== undefined && segment.hourMs >= query.until) continue;
    for await (const line of readLines(join(dir, segment.name))) {
      if (needles.length > 0 && !needles.every((n) => line.includes(n))) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        if (counters !== undefined) counters.skippedLines++;
        continue;
      }
      if (!isEntry(value)) {
        if (counters !== undefined) counters.skippedLines++;
        continue;
      }
      if (!entryMatches(value, query)) continue;
      yield value;
      if (++yielded >= limit) return;
    }
  }
}
