/**
 * The payload log: metadata of every inference request (any status, a refused one included) and,
 * for a sampled share, its request and response bodies — redacted, size-capped, and appended to
 * JSONL segments in the data directory, with retention by age and size, an export, and an
 * optional webhook. The request path makes one synchronous O(1) call ({@link PayloadLog.record});
 * a timer does the rest, so serving never waits for the disk or the webhook: when the buffer is
 * full an entry is dropped and counted.
 */
import { silentLogger, systemClock, type Clock, type Logger, type TimerHandle } from '../../core/index.js';
import { AtRestErrors } from '../../security/at-rest/errors.js';
import type { EncryptedPayloadLog, PayloadRewrapFailure, PayloadRewrapReport } from '../../security/at-rest/types.js';
import { createValueOpener, createValueSealer, type MasterKeyring } from '../../security/encryption/index.js';
import { buildEntry, metadataLine } from './entry.js';
import { readPayloadEntries, type ExportCounters } from './export.js';
import type { PayloadLogConfig } from './options.js';
import { createRedactor } from './redact.js';
import { openEntry, resealLine, sealEntry } from './sealing.js';
import { hourOf, listSegments, openSegmentStore, rewriteSegments, type RewriteResult, type SegmentLine, type SegmentStore } from './segments.js';
import type { PayloadCapture, PayloadDropReason, PayloadEntry, PayloadLogStats, PayloadQuery, PayloadRecorder } from './types.js';
import { createWebhookSink, type WebhookSink } from './webhook.js';

/** How often retention runs besides after each rotation. */
export const RETENTION_INTERVAL_MS = 60_000;
/** Entries turned into lines and written per step, so a big buffer does not hold the event loop. */
const WRITE_CHUNK = 256;
/** Entries buffered at which a write starts without waiting for the interval. */
const SOON_ENTRIES = 4 * WRITE_CHUNK;

export interface PayloadLogOptions {
  /** The log's own directory, e.g. `<dataDir>/payloads`; created when missing, continued when present. */
  readonly dir: string;
  readonly config: PayloadLogConfig;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Decides body sampling; default Math.random. Tests pass a seeded one. */
  readonly random?: () => number;
  /** For the webhook; default the global fetch. */
  readonly fetch?: typeof fetch;
  /**
   * The master keyring of encryption at rest: sampled bodies are stored sealed under its active
   * key (metadata stays clear), and the export opens them. Without one, bodies are stored as they
   * are, and an export meeting sealed ones fails naming their key. The webhook always gets plaintext.
   */
  readonly keyring?: MasterKeyring;
}

export interface PayloadLog extends PayloadRecorder, EncryptedPayloadLog {
  readonly config: PayloadLogConfig;
  readonly dir: string;
  /** Resolves once every entry recorded before the call has been written (or has failed). Never rejects. */
  flush(): Promise<void>;
  /**
   * The stored entries matching `query`, oldest first, streamed from disk. Entries still in the
   * buffer are not included: call {@link flush} first to see them. Bodies stored sealed
   * (encryption at rest) come back opened; one that cannot be opened (its master key missing from
   * the keyring, no keyring, a changed value) throws a SECURITY_ENCRYPTION_* error naming the entry
   * and the key id, and the iteration ends there.
   */
  entries(query?: PayloadQuery, counters?: ExportCounters): AsyncGenerator<PayloadEntry>;
  /** Deletes segments past retention now (a timer also does, every minute and after each rotation). */
  applyRetention(): Promise<void>;
  stats(): PayloadLogStats;
  /** Writes what is buffered, closes the webhook (sending with its deadline) and stops the timers. Later records are dropped. Idempotent. */
  close(): Promise<void>;
}

/** An entry recorded with its bodies, or for the webhook: built into its line when written. */
interface Pending {
  readonly capture: PayloadCapture;
  readonly at: number;
  readonly bodies: boolean;
  /** Characters of body text held for this entry. */
  readonly bodyChars: number;
}

/** Metadata lines of one hour recorded one after another: bytes [start, end) of the batch's {@link LineArena}. */
interface LineRun {
  readonly hourMs: number;
  readonly start: number;
  end: number;
  count: number;
}

/**
 * The buffer of metadata lines: encoded as UTF-8 when recorded, so what the log holds until its
 * next write is bytes in one buffer — no object per entry that would outlive the young generation
 * and be copied by the garbage collector — and what it writes needs no further encoding.
 */
class LineArena {
  bytes: Buffer;
  length = 0;
  constructor(capacity: number) {
    this.bytes = Buffer.allocUnsafe(capacity);
  }
  /** Appends `text`, growing the buffer when it might not fit; returns the new length. */
  append(text: string): number {
    // UTF-8 takes at most 3 bytes per UTF-16 unit
    const need = this.length + text.length * 3;
    if (need > this.bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.bytes.length * 2));
      this.bytes.copy(bigger, 0, 0, this.length);
      this.bytes = bigger;
    }
    this.length += this.bytes.write(text, this.length, 'utf8');
    return this.length;
  }
}

/** The first arena's size, and the least a later one starts with. */
const ARENA_MIN_BYTES = 64 * 1024;

/** Opens the log over `dir` (see {@link PayloadLogOptions}); with `config.enabled` false it records nothing but still exports. */
export async function openPayloadLog(options: PayloadLogOptions): Promise<PayloadLog> {
  const { config, dir } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const random = options.random ?? Math.random;
  const redactor = createRedactor(config.redact, config.hashSalt);
  // one data key per 10 000 bodies (see createValueSealer); the opener keeps recent data keys unwrapped
  const sealer = options.keyring === undefined ? undefined : createValueSealer(options.keyring);
  const opener = options.keyring === undefined ? undefined : createValueOpener(options.keyring);
  const store: SegmentStore | undefined = config.enabled
    ? await openSegmentStore({ dir, segmentMaxBytes: config.segmentMaxBytes, maxAgeHours: config.retention.maxAgeHours, maxBytes: config.retention.maxBytes, clock, logger })
    : undefined;
  const webhook: WebhookSink | undefined =
    config.enabled && config.webhook !== null ? createWebhookSink({ config: config.webhook, clock, logger, random, ...(options.fetch === undefined ? {} : { fetch: options.fetch }) }) : undefined;

  // entries in the order recorded: runs of metadata lines in `arena`, and entries built when written
  let buffer: (Pending | LineRun)[] = [];
  let arena = new LineArena(ARENA_MIN_BYTES);
  let bufferedEntries = 0;
  let bufferedBodyChars = 0;
  let closed = !config.enabled;
  let writing: Promise<void> | undefined;
  let flushTimer: TimerHandle | undefined;
  let retentionTimer: TimerHandle | undefined;
  let soonScheduled = false;
  const counts = { recorded: 0, written: 0, bodiesSampled: 0, bodiesTruncated: 0, redactions: 0 };
  /** The most failures a rewrap report lists (all are counted). */
  const MAX_REPORTED_FAILURES = 100;
  const dropped: Record<PayloadDropReason, number> = { buffer_full: 0, body_buffer_full: 0, write_failed: 0, closed: 0 };
  let lastWarnMs = Number.NEGATIVE_INFINITY;

  const warn = (message: string, fields: Record<string, unknown>): void => {
    const now = clock.now();
    if (now - lastWarnMs < 60_000) return;
    lastWarnMs = now;
    logger.warn({ dir, ...fields }, message);
  };

  /** Writes one taken buffer (with the arena its runs are in): entries built chunk by chunk, each chunk appended in order. */
  const writeBatch = async (batch: readonly (Pending | LineRun)[], bytes: Buffer): Promise<void> => {
    for (let start = 0; start < batch.length; start += WRITE_CHUNK) {
      const chunk = batch.slice(start, start + WRITE_CHUNK);
      const entries: PayloadEntry[] = [];
      const lines: SegmentLine[] = [];
      let count = 0;
      for (const p of chunk) {
        if (!('capture' in p)) {
          lines.push({ hourMs: p.hourMs, bytes: bytes.subarray(p.start, p.end) });
          count += p.count;
          continue;
        }
        count++;
        let entry: PayloadEntry;
        try {
          entry = buildEntry(p.capture, p.at, p.bodies, redactor, config.bodies.maxBytes);
        } catch (error) {
          // a body the builder cannot handle costs its bodies, never the entry
          warn('payload log could not encode a body; kept metadata only', { err: (error as Error).message });
          entry = buildEntry(p.capture, p.at, false, redactor, config.bodies.maxBytes);
        }
        if (entry.truncated?.request === true) counts.bodiesTruncated++;
        if (entry.truncated?.response === true) counts.bodiesTruncated++;
        counts.redactions += entry.redacted ?? 0;
        entries.push(entry);
        // sealed on disk; the webhook below still gets the plaintext entry (the operator's own receiver)
        lines.push({ hourMs: hourOf(entry.at), text: `${JSON.stringify(sealer === undefined ? entry : sealEntry(entry, sealer))}\n` });
      }
      try {
        await store?.append(lines);
        counts.written += count;
      } catch (error) {
        dropped.write_failed += count;
        warn('payload log write failed; entries dropped', { err: (error as Error).message, entries: count });
        continue;
      }
      if (webhook !== undefined) for (const e of entries) webhook.offer(e);
    }
  };

  /**
   * Takes the buffer and writes it. One write at a time: while one runs the buffer keeps filling
   * (and drops when full), so a slow disk costs entries, never unbounded memory.
   */
  const flushNow = (): Promise<void> => {
    if (writing !== undefined) return writing.then(flushNow);
    const batch = buffer;
    if (batch.length === 0) return Promise.resolve();
    const bytes = arena.bytes;
    buffer = [];
    arena = new LineArena(Math.max(ARENA_MIN_BYTES, arena.length));
    bufferedEntries = 0;
    let chars = 0;
    for (const p of batch) if ('capture' in p) chars += p.bodyChars;
    writing = writeBatch(batch, bytes)
      .catch((error: unknown) => warn('payload log flush failed', { err: (error as Error).message }))
      .finally(() => {
        writing = undefined;
        bufferedBodyChars -= chars;
      });
    return writing;
  };

  const onFlushTimer = (): void => {
    flushTimer = undefined;
    if (writing === undefined) void flushNow();
    if (!closed) flushTimer = clock.setTimeout(onFlushTimer, config.flushIntervalMs);
  };
  const onRetentionTimer = (): void => {
    retentionTimer = undefined;
    void store?.applyRetention();
    if (!closed) retentionTimer = clock.setTimeout(onRetentionTimer, RETENTION_INTERVAL_MS);
  };
  if (store !== undefined) {
    await store.applyRetention();
    flushTimer = clock.setTimeout(onFlushTimer, config.flushIntervalMs);
    retentionTimer = clock.setTimeout(onRetentionTimer, RETENTION_INTERVAL_MS);
  }

  /** Runs a rewrite of the segments in the writer's place: after the write in progress, and writes wait for it. */
  const rewriteInPlace = (segments: SegmentStore, edit: (line: string) => string | undefined): Promise<RewriteResult> => {
    if (writing !== undefined) return writing.then(() => rewriteInPlace(segments, edit));
    const job = segments.rewrite(edit);
    writing = job
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        writing = undefined;
      });
    return job;
  };

  /**
   * Master-key rotation of the stored bodies: every line sealed under another key than the active
   * one is opened and sealed again, segment by segment. It runs in the writer's place: new entries
   * wait in the buffer meanwhile (dropped and counted past bufferSize), and the open segment is
   * closed first, so they go to a new one.
   */
  const rewrapBodies = (): Promise<PayloadRewrapReport> => {
    const ring = options.keyring;
    if (ring === undefined || opener === undefined) {
      return Promise.reject(AtRestErrors.SECURITY_ENCRYPTION_NOT_CONFIGURED('cannot rewrap payload-log bodies: encryption at rest is off (no master keyring)'));
    }
    const run = (async (): Promise<PayloadRewrapReport> => {
      // a sealer of its own: each rewrap draws fresh data keys under the active key
      const resealer = createValueSealer(ring);
      let resealed = 0;
      let failedCount = 0;
      const failed: PayloadRewrapFailure[] = [];
      const edit = (line: string): string | undefined => {
        const outcome = resealLine(line, opener, resealer);
        if (outcome.kind === 'resealed') {
          resealed++;
          return outcome.line;
        }
        if (outcome.kind === 'failed') {
          failedCount++;
          if (failed.length < MAX_REPORTED_FAILURES) failed.push({ requestId: outcome.requestId, code: outcome.code, message: outcome.message });
        }
        return undefined;
      };
      // with recording off nothing else writes the directory
      const result = store !== undefined ? await rewriteInPlace(store, edit) : await rewriteSegments(dir, await listSegments(dir), edit);
      return { segments: result.segments, rewritten: result.rewritten, resealed, failedCount, failed, activeKeyId: ring.active.id };
    })();
    return run;
  };

  const bodyChars = (c: PayloadCapture): number => (c.requestBody?.length ?? 0) + (c.responseBody?.length ?? 0);

  let closing: Promise<void> | undefined;
  return {
    config,
    dir,
    record(capture) {
      if (closed) {
        if (config.enabled) dropped.closed++;
        return false;
      }
      if (bufferedEntries >= config.bufferSize) {
        dropped.buffer_full++;
        return false;
      }
      const at = capture.at ?? clock.now();
      const rate = capture.status >= 400 ? config.bodies.errorSampleRate : config.bodies.sampleRate;
      // `< rate`: a rate of 0 never samples and a rate of 1 always does, whatever random() returns in [0, 1)
      let bodies = rate > 0 && random() < rate;
      let chars = 0;
      if (bodies) {
        chars = bodyChars(capture);
        if (bufferedBodyChars + chars > config.bodies.maxBufferedBytes) {
          bodies = false;
          chars = 0;
          dropped.body_buffer_full++;
        } else {
          bufferedBodyChars += chars;
          counts.bodiesSampled++;
        }
      }
      if (!bodies && webhook === undefined) {
        // metadata only, and no webhook to hand an entry to: its line now, into the arena
        const hourMs = hourOf(at);
        const start = arena.length;
        const end = arena.append(metadataLine(capture, at));
        const last = buffer[buffer.length - 1];
        if (last !== undefined && !('capture' in last) && last.hourMs === hourMs && last.end === start) {
          last.end = end;
          last.count++;
        } else buffer.push({ hourMs, start, end, count: 1 });
      } else {
        // an entry without sampled bodies must not hold the request's texts until the next write:
        // held for a second they outlive the young generation and cost full garbage collections
        buffer.push({ capture: bodies || (capture.requestBody === undefined && capture.responseBody === undefined) ? capture : withoutBodies(capture), at, bodies, bodyChars: chars });
      }
      bufferedEntries++;
      counts.recorded++;
      if ((bufferedEntries >= SOON_ENTRIES || bufferedEntries * 2 >= config.bufferSize) && !soonScheduled) {
        // a few writes' worth (or half full): write from a timer turn now rather than wait for the
        // interval, so entries are short-lived (cheap to collect) and the buffer stays far from full
        soonScheduled = true;
        clock.setTimeout(() => {
          soonScheduled = false;
          void flushNow();
        }, 0);
      }
      return true;
    },
    flush: () => flushNow(),
    rewrapBodies,
    entries: (query = {}, counters) => openEntries(readPayloadEntries(dir, query, counters), opener),
    applyRetention: async () => {
      await store?.applyRetention();
    },
    stats() {
      const s = store?.stats();
      return {
        enabled: config.enabled,
        ...counts,
        buffered: bufferedEntries,
        dropped: { ...dropped },
        bytesOnDisk: s?.bytesOnDisk ?? 0,
        segments: s?.segments ?? 0,
        bytesWritten: s?.bytesWritten ?? 0,
        segmentsDeleted: s?.segmentsDeleted ?? 0,
        webhook: webhook?.stats() ?? null,
      };
    },
    close() {
      closing ??= (async () => {
        closed = true;
        flushTimer?.cancel();
        retentionTimer?.cancel();
        await flushNow();
        await webhook?.close();
        await store?.close();
      })();
      return closing;
    },
  };
}

/** Stored entries as exported: sealed bodies opened; the first that cannot be opened ends the export with its error. */
async function* openEntries(stored: AsyncGenerator<PayloadEntry>, opener: Parameters<typeof openEntry>[1]): AsyncGenerator<PayloadEntry> {
  for await (const entry of stored) yield openEntry(entry, opener);
}

/** The capture's metadata alone. */
function withoutBodies(c: PayloadCapture): PayloadCapture {
  return { requestId: c.requestId, endpoint: c.endpoint, model: c.model ?? null, version: c.version ?? null, variant: c.variant ?? null, latencyMs: c.latencyMs, status: c.status, method: c.method, path: c.path };
}
