/**
 * The optional webhook sink: redacted entries are POSTed in batches as `{"entries": [...]}`, one
 * batch in flight at a time, in order. Offering an entry is synchronous and O(1); the sink has its
 * own bounded buffer, so a slow or dead receiver costs dropped (and counted) entries, never
 * memory or serving time. Network errors, timeouts, 5xx, 408 and 429 are retried with exponential
 * backoff and full jitter (a 429's or 503's Retry-After is honoured); other 4xx drop the batch at
 * once, since sending it again cannot help.
 */
import { silentLogger, type Clock, type Logger, type TimerHandle } from '../../core/index.js';
import { MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../core/http.js';
import type { WebhookConfig } from './options.js';
import type { PayloadEntry, WebhookDropReason, WebhookStats } from './types.js';

export interface WebhookSinkOptions {
  readonly config: WebhookConfig;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** Default the global fetch (undici in Node 20). */
  readonly fetch?: typeof fetch;
  /** For the jitter; default Math.random. */
  readonly random?: () => number;
}

export interface WebhookSink {
  /** Takes an entry for sending; false when the buffer was full (counted) or the sink is closed. Never throws. */
  offer(entry: PayloadEntry): boolean;
  stats(): WebhookStats;
  /**
   * Stops taking entries and sends what is buffered until `config.closeTimeoutMs` passes; whatever
   * is left then is dropped as `closed`. Idempotent; never rejects.
   */
  close(): Promise<void>;
}


const isRetryableStatus = (status: number): boolean => status >= 500 || status === 429 || status === 408;

class Closed extends Error {}

export function createWebhookSink(options: WebhookSinkOptions): WebhookSink {
  const { config, clock } = options;
  const logger = options.logger ?? silentLogger;
  const doFetch = options.fetch ?? globalThis.fetch;
  const random = options.random ?? Math.random;

  let buffer: PayloadEntry[] = [];
  let inFlight = 0;
  let sending: Promise<void> | undefined;
  let closed = false;
  let timer: TimerHandle | undefined;
  // aborted when close's deadline passes: cuts a POST or a backoff short
  const stop = new AbortController();
  const counts = { sent: 0, batchesSent: 0, failedAttempts: 0, retries: 0 };
  const dropped: Record<WebhookDropReason, number> = { buffer_full: 0, retries_exhausted: 0, rejected: 0, closed: 0 };
  let lastWarnMs = Number.NEGATIVE_INFINITY;

  const warn = (message: string, fields: Record<string, unknown>): void => {
    // one line a minute at most: a dead receiver must not flood the log
    const now = clock.now();
    if (now - lastWarnMs < 60_000) return;
    lastWarnMs = now;
    logger.warn({ url: config.url, ...fields }, message);
  };

  /** One POST; resolves with what to do next. */
  const attempt = async (body: string): Promise<{ ok: true } | { ok: false; retry: boolean; retryAfterMs?: number; why: string }> => {
    const controller = new AbortController();
    const onStop = (): void => controller.abort(new Closed());
    stop.signal.addEventListener('abort', onStop, { once: true });
    const timeout = clock.setTimeout(() => controller.abort(new Error(`timed out after ${config.timeoutMs} ms`)), config.timeoutMs);
    try {
      const response = await doFetch(config.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...config.headers },
        body,
        signal: controller.signal,
      });
      // the body is not needed, but must be read (or cancelled) to free the connection
      await response.body?.cancel().catch(() => undefined);
      if (response.ok) return { ok: true };
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), clock.now());
      return { ok: false, retry: isRetryableStatus(response.status), ...(retryAfterMs === undefined ? {} : { retryAfterMs }), why: `status ${response.status}` };
    } catch (error) {
      if (stop.signal.aborted) throw new Closed();
      const reason = controller.signal.aborted ? (controller.signal.reason as Error).message : error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      return { ok: false, retry: true, why: reason };
    } finally {
      timeout.cancel();
      stop.signal.removeEventListener('abort', onStop);
    }
  };

  const backoffMs = (retry: number, retryAfterMs: number | undefined): number => {
    if (retryAfterMs !== undefined) return Math.min(retryAfterMs, MAX_RETRY_AFTER_MS);
    const ceiling = Math.min(config.retryMaxMs, config.retryBaseMs * 2 ** Math.min(retry, 30));
    // full jitter (AWS architecture blog): spreads the retries of many senders
    return Math.floor(random() * ceiling);
  };

  const sendBatch = async (batch: readonly PayloadEntry[]): Promise<void> => {
    const body = JSON.stringify({ entries: batch });
    for (let tries = 0; ; tries++) {
      const result = await attempt(body);
      if (result.ok) {
        counts.sent += batch.length;
        counts.batchesSent++;
        return;
      }
      counts.failedAttempts++;
      if (!result.retry) {
        dropped.rejected += batch.length;
        warn('payload webhook refused a batch; dropped', { why: result.why, entries: batch.length });
        return;
      }
      if (tries >= config.maxRetries) {
        dropped.retries_exhausted += batch.length;
        warn('payload webhook failed after every retry; batch dropped', { why: result.why, entries: batch.length, attempts: tries + 1 });
        return;
      }
      counts.retries++;
      await clock.sleep(backoffMs(tries, result.retryAfterMs), stop.signal).catch(() => {
        throw new Closed();
      });
    }
  };

  /** Sends batches while the buffer holds any (while closing) or a full one (otherwise). */
  const drain = async (all: boolean): Promise<void> => {
    while (buffer.length > 0 && (all || closed || buffer.length >= config.batchSize)) {
      const batch = buffer.length <= config.batchSize ? buffer : buffer.slice(0, config.batchSize);
      buffer = batch === buffer ? [] : buffer.slice(config.batchSize);
      inFlight = batch.length;
      try {
        await sendBatch(batch);
      } catch (error) {
        if (!(error instanceof Closed)) throw error;
        dropped.closed += batch.length;
        return;
      } finally {
        inFlight = 0;
      }
      all = false;
    }
  };

  const kick = (all: boolean): void => {
    if (sending !== undefined) return;
    sending = drain(all)
      .catch((error: unknown) => warn('payload webhook sink failed', { err: (error as Error).message }))
      .finally(() => {
        sending = undefined;
      });
  };

  const tick = (): void => {
    timer = undefined;
    if (closed) return;
    kick(true);
    timer = clock.setTimeout(tick, config.flushIntervalMs);
  };
  timer = clock.setTimeout(tick, config.flushIntervalMs);

  let closing: Promise<void> | undefined;
  return {
    offer(entry) {
      if (closed) return false;
      if (buffer.length + inFlight >= config.maxBuffer) {
        dropped.buffer_full++;
        return false;
      }
      buffer.push(entry);
      if (buffer.length >= config.batchSize && sending === undefined) {
        // sent from a timer turn, not from the caller's
        clock.setTimeout(() => kick(false), 0);
      }
      return true;
    },
    stats: () => ({ ...counts, buffered: buffer.length + inFlight, dropped: { ...dropped } }),
    close() {
      closing ??= (async () => {
        closed = true;
        timer?.cancel();
        const deadline = clock.setTimeout(() => stop.abort(), config.closeTimeoutMs);
        try {
          // the batch in flight finishes (or is cut at the deadline); then the rest, batch by batch
          if (sending !== undefined) await sending;
          if (!stop.signal.aborted) {
            kick(true);
            await sending;
          }
        } finally {
          deadline.cancel();
          dropped.closed += buffer.length;
          buffer = [];
        }
      })();
      return closing;
    },
  };
}
