/**
 * Turning a capture into a stored entry, off the request path: bodies parsed, redacted, and cut
 * at their cap. A body that is not JSON is kept as text only when no redaction rule exists, since
 * rules cannot be applied to it.
 */
import { jsonName, jsonNumber } from '../../core/index.js';
import type { Redactor } from './redact.js';
import type { JsonValue, PayloadCapture, PayloadEntry } from './types.js';

/** Stands in for a body that is not JSON while redaction rules exist. */
export const WITHHELD_NOT_JSON = '[WITHHELD: not JSON, so the redaction rules cannot apply to it]';

/** The longest prefix of `text` whose UTF-8 form fits `maxBytes`, never splitting a character. */
export function cutUtf8(text: string, maxBytes: number): string {
  const { read } = new TextEncoder().encodeInto(text, new Uint8Array(maxBytes));
  return text.slice(0, read);
}

/** A body as stored, with what happened to it. */
export interface EncodedBody {
  readonly value: JsonValue;
  readonly truncated: boolean;
  readonly redacted: number;
}

/** Parses, redacts and caps one body. */
export function encodeBody(text: string, which: 'request' | 'response', redactor: Redactor, maxBytes: number): EncodedBody {
  // without rules, a body far over its cap need not be parsed at all: it is stored as cut text
  if (redactor.empty && text.length > maxBytes) return { value: cutUtf8(text, maxBytes), truncated: true, redacted: 0 };
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch {
    if (!redactor.empty) return { value: WITHHELD_NOT_JSON, truncated: false, redacted: 1 };
    return { value: text, truncated: false, redacted: 0 };
  }
  const redacted = redactor.apply(value, which);
  const json = JSON.stringify(value);
  // a UTF-16 length within maxBytes / 3 is within maxBytes in UTF-8 without counting
  if (json.length * 3 <= maxBytes || Buffer.byteLength(json) <= maxBytes) return { value, truncated: false, redacted };
  // the redacted text, cut: stored as a string so the line stays valid JSON
  return { value: cutUtf8(json, maxBytes), truncated: true, redacted };
}

/** A latency as stored: to the microsecond. */
const storedLatency = (ms: number): number => Math.round(ms * 1000) / 1000;

/** The stored entry for a capture; bodies only when `withBodies`. */
export function buildEntry(capture: PayloadCapture, at: number, withBodies: boolean, redactor: Redactor, maxBytes: number): PayloadEntry {
  const base = {
    requestId: capture.requestId,
    at,
    endpoint: capture.endpoint,
    model: capture.model ?? null,
    version: capture.version ?? null,
    variant: capture.variant ?? null,
    latencyMs: storedLatency(capture.latencyMs),
    status: capture.status,
    method: capture.method,
    path: capture.path,
  };
  if (!withBodies) return base;
  const request = capture.requestBody === undefined ? undefined : encodeBody(capture.requestBody, 'request', redactor, maxBytes);
  const responseText = capture.responseBody === undefined ? undefined : typeof capture.responseBody === 'string' ? capture.responseBody : capture.responseBody.toString('utf8');
  const response = responseText === undefined ? undefined : encodeBody(responseText, 'response', redactor, maxBytes);
  const redacted = (request?.redacted ?? 0) + (response?.redacted ?? 0);
  const truncated = request?.truncated === true || response?.truncated === true;
  return {
    ...base,
    ...(request === undefined ? {} : { request: request.value }),
    ...(response === undefined ? {} : { response: response.value }),
    ...(truncated ? { truncated: { ...(request?.truncated === true ? { request: true as const } : {}), ...(response?.truncated === true ? { response: true as const } : {}) } } : {}),
    ...(redacted > 0 ? { redacted } : {}),
  };
}

/**
 * The line of an entry with metadata only — 99 in 100 at the default sampling — written straight
 * from its capture, field by field: `JSON.stringify(buildEntry(capture, at, false, …))` and a
 * newline, byte for byte (its tests compare the two), without the entry object or the generic walk.
 */
export function metadataLine(c: PayloadCapture, at: number): string {
  const model = c.model ?? null;
  const variant = c.variant ?? null;
  return `{"requestId":${JSON.stringify(c.requestId)},"at":${jsonNumber(at)},"endpoint":${jsonName(c.endpoint)},"model":${model === null ? 'null' : jsonName(model)},"version":${jsonNumber(c.version ?? null)},"variant":${variant === null ? 'null' : jsonName(variant)},"latencyMs":${jsonNumber(storedLatency(c.latencyMs))},"status":${jsonNumber(c.status)},"method":${jsonName(c.method)},"path":${jsonName(c.path)}}\n`;
}
