/**
 * The one mapping from error kinds to HTTP statuses, shared by both HTTP edges (the Open Inference
 * Protocol under /v2 and the control API under /api/v1), and the error body both return.
 */
import { defineErrors, toPlatformError, type ErrorKind, type PlatformError } from './errors.js';

const STATUS: Readonly<Record<ErrorKind, number>> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  limited: 429,
  unavailable: 503,
  timeout: 504,
  internal: 500,
};

export function httpStatusFor(kind: ErrorKind): number {
  return STATUS[kind];
}

/** The body of every error response: `{ error, code }`, plus `details` when the error has them. */
export interface ErrorBody {
  readonly error: string;
  readonly code: string;
  readonly details?: Record<string, unknown>;
}

export interface HttpError {
  readonly status: number;
  readonly body: ErrorBody;
  readonly headers: Record<string, string>;
  readonly error: PlatformError;
}

/** Turns anything thrown into a status, an error body and headers (Retry-After where it applies). */
export function toHttpError(thrown: unknown): HttpError {
  const error = toPlatformError(thrown);
  const status = httpStatusFor(error.kind);
  const headers: Record<string, string> = {};
  const retry = error.retryAfterSeconds ?? (status === 503 || status === 429 ? 1 : undefined);
  if (retry !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(retry)));
  // internal faults never leak their cause or stack to clients
  const message = error.kind === 'internal' ? 'internal error' : error.message;
  const body: ErrorBody =
    error.details !== undefined && error.kind !== 'internal'
      ? { error: message, code: error.code, details: error.details }
      : { error: message, code: error.code };
  return { status, body, headers, error };
}

/** Errors raised by the HTTP layer itself, before a route's handler runs. */
export const HttpErrors = defineErrors({
  HTTP_INVALID_JSON: { kind: 'invalid', help: 'The request body is not valid JSON. Send one JSON object (Content-Type: application/json).' },
  HTTP_BODY_TOO_LARGE: {
    kind: 'too_large',
    help: 'The request body exceeds its limit: server.bodyLimitBytes (16 MiB by default) for JSON, server.uploadLimitBytes (2 GiB) for model uploads.',
  },
  HTTP_UNSUPPORTED_MEDIA_TYPE: { kind: 'invalid', help: 'The Content-Type is not accepted on this route; JSON routes take application/json, uploads application/octet-stream.' },
  HTTP_ROUTE_NOT_FOUND: { kind: 'not_found', help: 'No route matches that method and path. See docs/api.md, and the Open Inference Protocol routes under /v2.' },
  HTTP_BAD_REQUEST: { kind: 'invalid', help: 'The HTTP request itself is malformed (headers, encoding or framing).' },
});

/** The longest a Retry-After is waited: a receiver asking for an hour should not hold a sender that long. */
export const MAX_RETRY_AFTER_MS = 300_000;

/** A Retry-After header in ms: seconds, or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
