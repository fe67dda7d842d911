/**
 * The payload log's vocabulary: what is stored about each inference request (metadata always,
 * bodies when sampled), what the HTTP edge hands over, the export query and the counters.
 */

/** A JSON value as stored: what a body parsed to, or its text when it did not parse. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** One stored line of the payload log. Times are milliseconds since the epoch. */
export interface PayloadEntry {
  /** The server request id (x-request-id, `parameters.request_id`). */
  readonly requestId: string;
  /** When it was answered. */
  readonly at: number;
  /** The endpoint named in the path (`/v2/models/<endpoint>/infer`). */
  readonly endpoint: string;
  /** The model and version that answered; null when the request was refused before one was chosen. */
  readonly model: string | null;
  readonly version: number | null;
  /** `stable`, `candidate`, an experiment variant, `unrouted`; null when unknown. */
  readonly variant: string | null;
  /** What the client waited, from the request's arrival to the last byte sent. */
  readonly latencyMs: number;
  /** The HTTP status answered. */
  readonly status: number;
  readonly method: string;
  /** The request path, without its query string. */
  readonly path: string;
  /** The request body (after redaction): parsed JSON, or text when it is not JSON or was cut. */
  readonly request?: JsonValue;
  /** The response body (after redaction), likewise. */
  readonly response?: JsonValue;
  /** Which bodies were cut at `bodies.maxBytes` (a cut body is stored as text). */
  readonly truncated?: { readonly request?: true; readonly response?: true };
  /** Values masked, dropped or hashed by the redaction rules. */
  readonly redacted?: number;
  /**
   * On disk only, with encryption at rest: `request` and `response` are sealed values
   * (`enc:v1:…`). The export opens them and leaves this out.
   */
  readonly sealed?: true;
}

/** The route of an answered request, as the data plane chose it. */
export interface PayloadRoute {
  readonly model: string | null;
  readonly version: number | null;
  readonly variant: string | null;
}

/** What the HTTP edge hands to {@link PayloadRecorder.record}: references only, nothing copied or parsed. */
export interface PayloadCapture {
  readonly requestId: string;
  readonly endpoint: string;
  readonly model?: string | null;
  readonly version?: number | null;
  readonly variant?: string | null;
  readonly latencyMs: number;
  readonly status: number;
  readonly method: string;
  readonly path: string;
  /** The raw request text, if the request had one. */
  readonly requestBody?: string;
  /** The serialized response payload. */
  readonly responseBody?: string | Buffer;
  /** Default: the clock's now. */
  readonly at?: number;
}

/** The one call the request path makes. */
export interface PayloadRecorder {
  /**
   * Records one inference request. Synchronous, O(1), never throws, never waits: the sampling
   * decision is made here, everything else (parsing, redaction, writing) happens off the request
   * path. Returns false when the entry was dropped (buffer full, log disabled or closed).
   */
  record(capture: PayloadCapture): boolean;
}

/** Why an entry (or a webhook batch's entries) was dropped. */
export type PayloadDropReason =
  /** the in-memory buffer was full */
  | 'buffer_full'
  /** the bodies waiting in memory were over `bodies.maxBufferedBytes`: the entry was kept without bodies */
  | 'body_buffer_full'
  /** writing to disk failed */
  | 'write_failed'
  /** recorded after close */
  | 'closed';

export type WebhookDropReason =
  /** the sink's buffer (`webhook.maxBuffer`) was full */
  | 'buffer_full'
  /** network errors, timeouts, 5xx or 429 on every attempt */
  | 'retries_exhausted'
  /** the receiver refused the batch with a 4xx other than 408 and 429: retrying cannot help */
  | 'rejected'
  /** still buffered when close's deadline passed */
  | 'closed';

/** The webhook sink's counters since start. */
export interface WebhookStats {
  /** Entries the receiver accepted (2xx). */
  readonly sent: number;
  readonly batchesSent: number;
  /** Attempts that failed (network error, timeout, non-2xx). */
  readonly failedAttempts: number;
  /** Attempts repeated after a failure. */
  readonly retries: number;
  /** Entries waiting, including the batch in flight. */
  readonly buffered: number;
  readonly dropped: Readonly<Record<WebhookDropReason, number>>;
}

/** The payload log's cumulative counters, for `/api/v1/payloads/stats` and Prometheus. */
export interface PayloadLogStats {
  readonly enabled: boolean;
  /** Entries taken into the buffer. */
  readonly recorded: number;
  /** Entries written to disk. */
  readonly written: number;
  /** Entries whose bodies were sampled (kept). */
  readonly bodiesSampled: number;
  /** Bodies cut at `bodies.maxBytes`. */
  readonly bodiesTruncated: number;
  /** Values redacted (masked, dropped or hashed). */
  readonly redactions: number;
  /** Entries waiting in memory. */
  readonly buffered: number;
  readonly dropped: Readonly<Record<PayloadDropReason, number>>;
  /** Bytes of every stored segment. */
  readonly bytesOnDisk: number;
  readonly segments: number;
  /** Bytes appended since start. */
  readonly bytesWritten: number;
  /** Segments deleted by retention since start. */
  readonly segmentsDeleted: number;
  /** null without a webhook. */
  readonly webhook: WebhookStats | null;
}

/** A status filter: a class (`5` for 5xx) or an exact code. */
export type StatusFilter = { readonly class: number } | { readonly code: number };

/** Which stored entries an export yields. Every field optional; all given ones must match. */
export interface PayloadQuery {
  readonly endpoint?: string;
  /** Inclusive, ms since the epoch. */
  readonly since?: number;
  /** Exclusive, ms since the epoch. */
  readonly until?: number;
  /** Any of these (`5xx,404`). */
  readonly status?: readonly StatusFilter[];
  readonly requestId?: string;
  /** At most this many entries. Default: all. */
  readonly limit?: number;
}
