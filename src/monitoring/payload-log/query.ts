/**
 * Reading an export query — `GET /api/v1/payloads?endpoint=&since=&until=&status=&requestId=&limit=`
 * and the CLI's flags alike: every problem named by its parameter, all at once.
 */
import { describe, isValidName, NAME_RULE } from '../../core/index.js';
import { parseTime, TIME_RULE } from '../../core/time.js';
import { PayloadLogErrors } from './errors.js';
import type { PayloadQuery, StatusFilter } from './types.js';

export const PAYLOAD_QUERY_KEYS = ['endpoint', 'since', 'until', 'status', 'requestId', 'limit'] as const;

export { TIME_RULE };
export const STATUS_RULE = 'a status class (2xx, 4xx, 5xx) or an exact status (404), several separated by commas';


/** A time as given: ISO-8601, epoch milliseconds, or a duration before `nowMs`; undefined when it is none of them. */
export const parsePayloadTime = parseTime;

/** `5xx,404` → filters; undefined when any part is not a class or a status. */
export function parseStatusFilter(text: string): StatusFilter[] | undefined {
  const out: StatusFilter[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim().toLowerCase();
    const cls = /^([1-5])xx$/.exec(part);
    if (cls?.[1] !== undefined) out.push({ class: Number(cls[1]) });
    else if (/^[1-5]\d\d$/.test(part)) out.push({ code: Number(part) });
    else return undefined;
  }
  return out.length === 0 ? undefined : out;
}

/** One problem with one parameter. */
export interface QueryProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * Reads a query string's parameters into a {@link PayloadQuery}; throws PAYLOAD_LOG_INVALID_QUERY
 * naming every bad parameter. Relative times are taken back from `nowMs`.
 */
export function readPayloadQuery(raw: Readonly<Record<string, unknown>>, nowMs: number): PayloadQuery {
  const problems: QueryProblem[] = [];
  const problem = (path: string, message: string): void => void problems.push({ path, message });
  for (const key of Object.keys(raw)) {
    if (!(PAYLOAD_QUERY_KEYS as readonly string[]).includes(key)) problem(key, `unknown query parameter (known: ${PAYLOAD_QUERY_KEYS.join(', ')})`);
  }
  const single = (key: string): string | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (typeof v === 'string') return v;
    problem(key, Array.isArray(v) ? `is given ${v.length} times; give it once` : `must be a single value, got ${describe(v)}`);
    return undefined;
  };
  const query: { -readonly [K in keyof PayloadQuery]: PayloadQuery[K] } = {};

  const endpoint = single('endpoint');
  if (endpoint !== undefined) {
    if (isValidName(endpoint)) query.endpoint = endpoint;
    else problem('endpoint', `${describe(endpoint)} is not an endpoint name; expected ${NAME_RULE}`);
  }
  for (const key of ['since', 'until'] as const) {
    const text = single(key);
    if (text === undefined) continue;
    const ms = parsePayloadTime(text, nowMs);
    if (ms === undefined) problem(key, `${describe(text)} is not a time; expected ${TIME_RULE}`);
    else query[key] = ms;
  }
  if (query.since !== undefined && query.until !== undefined && query.until <= query.since) {
    problem('until', `must be after since (${new Date(query.since).toISOString()}), got ${new Date(query.until).toISOString()}`);
  }
  const status = single('status');
  if (status !== undefined) {
    const filters = parseStatusFilter(status);
    if (filters === undefined) problem('status', `${describe(status)} is not a status filter; expected ${STATUS_RULE}`);
    else query.status = filters;
  }
  const requestId = single('requestId');
  if (requestId !== undefined) {
    if (requestId !== '' && requestId.length <= 256) query.requestId = requestId;
    else problem('requestId', `must be a request id (1–256 characters), got ${describe(requestId)}`);
  }
  const limit = single('limit');
  if (limit !== undefined) {
    if (/^\d{1,12}$/.test(limit) && Number(limit) >= 1) query.limit = Number(limit);
    else problem('limit', `must be a whole number ≥ 1, got ${describe(limit)}`);
  }
  if (problems.length > 0) {
    const lines = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
    throw PayloadLogErrors.PAYLOAD_LOG_INVALID_QUERY(`invalid payload query (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${lines}`, {
      details: { problems: problems.map((p) => ({ param: p.path, message: p.message })) },
    });
  }
  return query;
}
