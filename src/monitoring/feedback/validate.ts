/**
 * Reading feedback: one item `{requestId, label?, value?, event?}` or a batch `{items: […],
 * skipUnknown?}`. Every problem is collected with its path (`items[3].label`) and reported at once.
 */
import { ConfigReader, describe, isUniqueLookingId, join, type ConfigProblem, type PlatformError } from '../../core/index.js';
import { MonitoringErrors } from '../errors.js';
import type { FeedbackItem } from '../types.js';

/** Event names: the rollout spec's metric-name rule, so an experiment can name any event sent here. */
export const EVENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
export const EVENT_NAME_RULE = '1–63 letters, digits, "_", "-" or ".", starting with a letter or digit';

/** Longest string label accepted (and kept of a predicted string label). */
export const MAX_LABEL_LENGTH = 256;

export const REQUEST_ID_RULE =
  'the server request id of an inference (its x-request-id header or parameters.request_id: 16–128 letters, digits, ".", "_", ":" or "-")';

const ITEM_KEYS = ['requestId', 'label', 'value', 'event'] as const;
const BATCH_KEYS = ['items', 'skipUnknown'] as const;

/** A feedback body, read. */
export interface FeedbackBody {
  readonly items: readonly FeedbackItem[];
  readonly skipUnknown: boolean;
}

/** Whether a string is a valid event name. */
export function isEventName(value: string): boolean {
  return EVENT_NAME_PATTERN.test(value);
}

function invalidFeedback(problems: readonly ConfigProblem[]): PlatformError {
  const list = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  return MonitoringErrors.MONITORING_INVALID_FEEDBACK(`invalid feedback (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${list}`, {
    details: { problems: problems.map((p) => ({ path: p.path, message: p.message })) },
  });
}

function readItem(r: ConfigReader, value: unknown, path: string): FeedbackItem | undefined {
  const where = path === '' ? 'body' : path;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    r.problem(where, `must be a feedback object {requestId, label?, value?, event?}, got ${describe(value)}`);
    return undefined;
  }
  const o = value as Record<string, unknown>;
  r.onlyKeys(o, path, ITEM_KEYS);
  const before = r.problems.length;

  const requestIdPath = join(path, 'requestId');
  let requestId = '';
  if (o.requestId === undefined) r.problem(requestIdPath, `is required: ${REQUEST_ID_RULE}`);
  else if (typeof o.requestId !== 'string' || !isUniqueLookingId(o.requestId)) r.problem(requestIdPath, `must be ${REQUEST_ID_RULE}, got ${describe(o.requestId)}`);
  else requestId = o.requestId;

  let label: string | number | undefined;
  if (o.label !== undefined) {
    const labelPath = join(path, 'label');
    if (typeof o.label === 'number' && Number.isFinite(o.label)) label = o.label;
    else if (typeof o.label === 'string' && o.label !== '' && o.label.length <= MAX_LABEL_LENGTH) label = o.label;
    else if (typeof o.label === 'string') r.problem(labelPath, `must be 1–${MAX_LABEL_LENGTH} characters, got ${o.label.length}`);
    else r.problem(labelPath, `must be a string (class name) or a finite number (class index or true value), got ${describe(o.label)}`);
  }

  let num: number | undefined;
  if (o.value !== undefined) {
    if (typeof o.value === 'number' && Number.isFinite(o.value)) num = o.value;
    else r.problem(join(path, 'value'), `must be a finite number, got ${describe(o.value)}`);
  }

  let event: string | undefined;
  if (o.event !== undefined) {
    if (typeof o.event === 'string' && isEventName(o.event)) event = o.event;
    else r.problem(join(path, 'event'), `must be an event name (${EVENT_NAME_RULE}), got ${describe(o.event)}`);
  }

  if (o.label === undefined && o.value === undefined && o.event === undefined) {
    r.problem(where, 'needs at least one of label, value or event');
  }
  if (r.problems.length > before) return undefined;
  return { requestId, ...(label === undefined ? {} : { label }), ...(num === undefined ? {} : { value: num }), ...(event === undefined ? {} : { event }) };
}

/**
 * Checks feedback items given in code (not over HTTP); throws MONITORING_INVALID_FEEDBACK listing
 * every problem, paths `[i].field`. Returns clean copies without unknown keys.
 */
export function checkFeedbackItems(items: readonly unknown[]): FeedbackItem[] {
  const r = new ConfigReader();
  const out: FeedbackItem[] = [];
  items.forEach((item, i) => {
    const read = readItem(r, item, `[${i}]`);
    if (read !== undefined) out.push(read);
  });
  if (r.problems.length > 0) throw invalidFeedback(r.problems);
  return out;
}

/**
 * Reads a POST /feedback body: one item, or `{items, skipUnknown?}` with 1 to `maxItems` items.
 * Throws MONITORING_TOO_MANY_FEEDBACK_ITEMS over the limit, else MONITORING_INVALID_FEEDBACK
 * listing every problem.
 */
export function readFeedbackBody(body: unknown, maxItems: number): FeedbackBody {
  const r = new ConfigReader();
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    const got = body === undefined ? 'an empty body' : describe(body);
    r.problem('body', `must be a feedback object {requestId, label?, value?, event?} or a batch {items: [...], skipUnknown?}, got ${got}`);
    throw invalidFeedback(r.problems);
  }
  const o = body as Record<string, unknown>;
  if (!('items' in o)) {
    const item = readItem(r, o, '');
    if (item === undefined || r.problems.length > 0) throw invalidFeedback(r.problems);
    return { items: [item], skipUnknown: false };
  }

  r.onlyKeys(o, '', BATCH_KEYS);
  const skipUnknown = o.skipUnknown === undefined ? false : o.skipUnknown === true || o.skipUnknown === false ? o.skipUnknown : undefined;
  if (skipUnknown === undefined) r.problem('skipUnknown', `must be true or false, got ${describe(o.skipUnknown)}`);
  if (!Array.isArray(o.items)) {
    r.problem('items', `must be a list of feedback objects {requestId, label?, value?, event?}, got ${describe(o.items)}`);
    throw invalidFeedback(r.problems);
  }
  const list = o.items as unknown[];
  if (list.length > maxItems) {
    throw MonitoringErrors.MONITORING_TOO_MANY_FEEDBACK_ITEMS(`items: ${list.length} feedback items in one request, more than the limit of ${maxItems}; send them in batches of at most ${maxItems}`, {
      details: { items: list.length, limit: maxItems },
    });
  }
  if (list.length === 0) r.problem('items', 'must hold at least one feedback object');
  const items: FeedbackItem[] = [];
  list.forEach((value, i) => {
    const item = readItem(r, value, `items[${i}]`);
    if (item !== undefined) items.push(item);
  });
  if (r.problems.length > 0) throw invalidFeedback(r.problems);
  return { items, skipUnknown: skipUnknown ?? false };
}
