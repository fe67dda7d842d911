/**
 * The audit log writer: an append-only, hash-chained JSONL log in numbered segment files. Appends
 * are group-committed: entries that arrive while a write is in flight go out together in the next
 * write, which ends with a checkpoint signed by the server's key and is fsynced before the appends
 * resolve. `head.json` keeps the latest checkpoint, so that cutting whole batches off the end of the
 * log is noticed too.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { mkdir, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CoreErrors, type Clock, type PlatformError } from '../../core/index.js';
import { canonicalJson, keyIdOf, SigningErrors, type SigningKey } from '../signing/index.js';
import { requireEd25519 } from '../signing/keys.js';
import { syncDir } from '../../core/files.js';
import { AuditErrors } from './errors.js';
import {
  AUDIT_OUTCOMES,
  checkpointLine,
  checkpointSignatureStatus,
  entryHashOf,
  entryLine,
  HEAD_FILE,
  isPlainObject,
  listSegments,
  parseRecord,
  readHead,
  segmentName,
  signCheckpoint,
  unwritable,
  writeHead,
  ZERO_HASH,
  type AuditCheckpoint,
  type AuditEntry,
  type AuditEvent,
  type Segment,
} from './records.js';

export interface AuditLogOptions {
  /** The log's directory, e.g. `<data-dir>/audit`; created if missing. */
  readonly dir: string;
  readonly clock: Clock;
  /** Signs the checkpoints. */
  readonly signingKey: SigningKey;
  /** A segment file is closed and the next one begun before it would grow past this. Default 64 MiB. */
  readonly maxSegmentBytes?: number;
  /** The most entries one write (and so one checkpoint) holds; more waiting entries go in the next write. Default 1000. */
  readonly checkpointEvery?: number;
}

export interface AuditLogStats {
  readonly entries: number;
  readonly segments: number;
  readonly lastSeq: number;
}

export interface AuditLog {
  readonly dir: string;
  /**
   * Records an event. Resolves with its entry once the entry and the checkpoint after it are on
   * disk (fsynced); rejects with SECURITY_AUDIT_INVALID_EVENT for a malformed event and
   * SECURITY_AUDIT_UNWRITABLE when the write fails, in which case the event was not recorded.
   */
  append(event: AuditEvent): Promise<AuditEntry>;
  stats(): AuditLogStats;
  /** Resolves once every append made so far is on disk (or failed): an export after it sees them. */
  settled(): Promise<void>;
  /** Waits for the appends already made, then closes the file. Later appends reject with SECURITY_AUDIT_CLOSED. */
  close(): Promise<void>;
}

const DEFAULT_MAX_SEGMENT_BYTES = 64 * 1024 * 1024;
const DEFAULT_CHECKPOINT_EVERY = 1000;
const TAIL_WINDOW_BYTES = 64 * 1024;

interface Pending {
  readonly event: AuditEvent;
  readonly at: string;
  readonly resolve: (entry: AuditEntry) => void;
  readonly reject: (error: PlatformError) => void;
}

/** Where the chain stands: the last sealed entry. */
interface ChainState {
  readonly seq: number;
  readonly prev: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function corrupt(message: string): PlatformError {
  return AuditErrors.SECURITY_AUDIT_CORRUPT(`${message}; run "slipway audit verify" for details`);
}

/** Checks an event and returns it with only its known, defined fields, in reading order. */
function normalizeEvent(event: AuditEvent): AuditEvent {
  const invalid = (field: string, problem: string): PlatformError =>
    AuditErrors.SECURITY_AUDIT_INVALID_EVENT(`${field}: ${problem}`, { details: { field } });
  if (!isPlainObject(event)) throw invalid('(event)', 'expected an object');
  const { action, actor, outcome, target, requestId, ip, details } = event;
  if (typeof action !== 'string' || action === '') throw invalid('action', 'expected a non-empty string');
  if (typeof actor !== 'string' || actor === '') throw invalid('actor', 'expected a non-empty string');
  if (!AUDIT_OUTCOMES.includes(outcome)) throw invalid('outcome', `expected one of ${AUDIT_OUTCOMES.join(', ')}, got ${JSON.stringify(outcome) ?? 'nothing'}`);
  for (const [field, value] of [['target', target], ['requestId', requestId], ['ip', ip]] as const) {
    if (value !== undefined && typeof value !== 'string') throw invalid(field, 'expected a string');
  }
  if (details !== undefined) {
    if (!isPlainObject(details)) throw invalid('details', 'expected a plain object');
    try {
      canonicalJson(details);
    } catch (error) {
      throw invalid('details', error instanceof Error ? error.message.replace(/^\$/, 'details') : String(error));
    }
  }
  return {
    action,
    actor,
    outcome,
    ...(target === undefined ? {} : { target }),
    ...(requestId === undefined ? {} : { requestId }),
    ...(ip === undefined ? {} : { ip }),
    ...(details === undefined ? {} : { details }),
  };
}

/** Reads `length` bytes at `position`. */
async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

/** The sealed end of a segment: the byte just past its last checkpoint, and that checkpoint. */
interface SegmentTail {
  readonly size: number;
  readonly end: number;
  readonly checkpoint: AuditCheckpoint | null;
}

/** The [start, end) byte ranges of the complete lines of `buffer`; a first line that may begin before the buffer is left out. */
function lineRanges(buffer: Buffer, fromFileStart: boolean): [number, number][] {
  const ranges: [number, number][] = [];
  let start = fromFileStart ? 0 : buffer.indexOf(10) + 1;
  if (start === 0 && !fromFileStart) return ranges;
  for (let nl = buffer.indexOf(10, start); nl !== -1; nl = buffer.indexOf(10, start)) {
    ranges.push([start, nl]);
    start = nl + 1;
  }
  return ranges;
}

/**
 * Finds the last checkpoint of a segment, reading backwards from its end in growing windows, and
 * checks it against the entry it seals (and its signature, when made with `ownKey`). What follows it
 * (a torn line, the entries of a write that never finished) lies past `end`. Throws
 * SECURITY_AUDIT_CORRUPT when the checkpoint or its entry do not hold up.
 */
async function findTail(path: string, ownKey: ReadonlyMap<string, KeyObject>): Promise<SegmentTail> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    for (let window = TAIL_WINDOW_BYTES; ; window *= 4) {
      const start = Math.max(0, size - window);
      const buffer = await readAt(handle, start, size - start);
      const ranges = lineRanges(buffer, start === 0);
      const textOf = (i: number): string => buffer.toString('utf8', ranges[i]?.[0], ranges[i]?.[1]);
      let found = -1;
      let checkpoint: AuditCheckpoint | null = null;
      for (let i = ranges.length - 1; i >= 0 && checkpoint === null; i--) {
        const record = parseRecord(textOf(i));
        if (record.kind === 'checkpoint') [found, checkpoint] = [i, record.checkpoint];
      }
      if (checkpoint === null || found === 0) {
        if (start > 0) continue; // the checkpoint, or the entry before it, lies further back
        if (checkpoint === null) return { size, end: 0, checkpoint: null };
        throw corrupt(`${path} begins with a checkpoint that seals no entry`);
      }
      const entry = parseRecord(textOf(found - 1));
      if (entry.kind !== 'entry' || entry.entry.seq !== checkpoint.seq || entry.entry.hash !== checkpoint.hash || entryHashOf({ ...entry.entry }) !== entry.entry.hash) {
        throw corrupt(`the last checkpoint of ${path} (entry ${checkpoint.seq}) does not match the entry before it`);
      }
      if (ownKey.has(checkpoint.keyId) && checkpointSignatureStatus(checkpoint, ownKey) !== 'ok') {
        throw corrupt(`the last checkpoint of ${path} (entry ${checkpoint.seq}) has an invalid signature`);
      }
      return { size, end: start + (ranges[found]?.[1] ?? 0) + 1, checkpoint };
    }
  } finally {
    await handle.close();
  }
}

/** Where appends continue: the segment to write to, its sealed size, and the chain's last entry. */
interface Recovered extends ChainState {
  readonly index: number;
  readonly size: number;
}

/**
 * Recovers the chain from the tail of the log and checks it against `head.json`. A torn last line
 * and the entries of a write that never finished (no checkpoint after them) were never
 * acknowledged: they are cut off. A log that ends before `head.json` says it does, or that has
 * lost `head.json`, is refused rather than appended to.
 */
async function recover(dir: string, clock: Clock, key: SigningKey): Promise<Recovered> {
  const ownKey = new Map([[key.keyId, createPublicKey(key.privateKey)]]);
  for (const name of await readdir(dir)) {
    if (name.startsWith(`${HEAD_FILE}.tmp-`)) await rm(join(dir, name), { force: true }); // left by a crash mid-rename
  }
  const segments = await listSegments(dir);
  const head = await readHead(dir);
  if (head !== null && 'problem' in head) throw corrupt(`${join(dir, HEAD_FILE)} is damaged: ${head.problem}`);
  const last = segments.at(-1);
  if (last === undefined) {
    if (head !== null && head.checkpoint.seq > 0) {
      throw corrupt(`the audit log in ${dir} has no segment files, but ${HEAD_FILE} records a checkpoint of entry ${head.checkpoint.seq}`);
    }
    if (head === null) await writeHead(dir, signCheckpoint(0, ZERO_HASH, iso(clock.now()), key));
    return { index: 1, size: 0, seq: 0, prev: ZERO_HASH };
  }

  const lastTail = await findTail(last.path, ownKey);
  let sealed = lastTail.checkpoint;
  for (let i = segments.length - 2; sealed === null && i >= 0; i--) {
    const segment = segments[i] as Segment;
    const tail = await findTail(segment.path, ownKey);
    if (tail.end !== tail.size) throw corrupt(`${segment.path} ends with lines that no checkpoint seals, but it is not the last segment`);
    sealed = tail.checkpoint;
  }
  const chain: ChainState = { seq: sealed?.seq ?? 0, prev: sealed?.hash ?? ZERO_HASH };

  if (head === null) {
    if (chain.seq > 0) throw corrupt(`${join(dir, HEAD_FILE)} is missing, although the audit log holds entries up to ${chain.seq}`);
    await writeHead(dir, signCheckpoint(0, ZERO_HASH, iso(clock.now()), key));
  } else if (head.checkpoint.seq > chain.seq) {
    throw corrupt(`the audit log in ${dir} ends at entry ${chain.seq}, but ${HEAD_FILE} records a checkpoint of entry ${head.checkpoint.seq}: entries were removed`);
  } else if (head.checkpoint.seq === chain.seq && head.checkpoint.hash !== chain.prev) {
    throw corrupt(`entry ${chain.seq} of the audit log in ${dir} does not match the checkpoint in ${HEAD_FILE}`);
  }

  if (lastTail.end < lastTail.size) {
    // a write that was never acknowledged: its appends rejected or never returned
    const handle = await open(last.path, 'r+');
    try {
      await handle.truncate(lastTail.end);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  return { index: last.index, size: lastTail.end, ...chain };
}

/**
 * Opens the audit log in `options.dir`, creating it when missing, and continues its chain. The
 * tail is checked first: an unacknowledged torn write is cut off, and a log whose end does not hold
 * up is refused with SECURITY_AUDIT_CORRUPT. Only one process may have a log open at a time (the
 * data directory lock sees to that).
 */
export async function openAuditLog(options: AuditLogOptions): Promise<AuditLog> {
  const dir = resolve(options.dir);
  const { clock, signingKey: key } = options;
  const maxSegmentBytes = options.maxSegmentBytes ?? DEFAULT_MAX_SEGMENT_BYTES;
  const checkpointEvery = options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
  if (!Number.isSafeInteger(maxSegmentBytes) || maxSegmentBytes < 1) {
    throw CoreErrors.CORE_INVALID_CONFIG(`maxSegmentBytes: expected a whole number of bytes from 1 up, got ${maxSegmentBytes}`);
  }
  if (!Number.isSafeInteger(checkpointEvery) || checkpointEvery < 1) {
    throw CoreErrors.CORE_INVALID_CONFIG(`checkpointEvery: expected a whole number from 1 up, got ${checkpointEvery}`);
  }
  requireEd25519(key.privateKey, 'private', 'the audit signing key');
  const actualKeyId = keyIdOf(key.privateKey);
  if (actualKeyId !== key.keyId) {
    throw SigningErrors.SECURITY_SIGNATURE_BAD_KEY(`the audit signing key says its id is ${key.keyId}, but its private key has the id ${actualKeyId}`);
  }

  let handle: FileHandle;
  let state: Recovered;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    state = await recover(dir, clock, key);
    handle = await open(join(dir, segmentName(state.index)), 'a', 0o600);
    await syncDir(dir);
  } catch (error) {
    throw unwritable(`cannot open the audit log in ${dir}`, error);
  }
  let { index, size, seq, prev } = state;
  const queue: Pending[] = [];
  let flushing: Promise<void> | null = null;
  let closing: Promise<void> | null = null;
  let broken: PlatformError | null = null;

  /** Starts the next segment file; the old one stays as it is. */
  async function rollOver(): Promise<void> {
    const next = await open(join(dir, segmentName(index + 1)), 'a', 0o600);
    try {
      await syncDir(dir);
    } catch (error) {
      await next.close();
      throw error;
    }
    await handle.close().catch(() => undefined);
    handle = next;
    index += 1;
    size = 0;
  }

  /** Writes one batch and its checkpoint, fsyncs them, then updates head.json. */
  async function writeBatch(batch: readonly Pending[]): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    let hash = prev;
    for (const pending of batch) {
      const body = { seq: seq + entries.length + 1, at: pending.at, ...pending.event, prev: hash };
      hash = entryHashOf(body);
      entries.push({ ...body, hash });
    }
    const lastSeq = seq + entries.length;
    const checkpoint = signCheckpoint(lastSeq, hash, iso(clock.now()), key);
    const data = Buffer.from(`${entries.map(entryLine).join('\n')}\n${checkpointLine(checkpoint)}\n`, 'utf8');

    const segmentPath = (): string => join(dir, segmentName(index));
    try {
      if (size > 0 && size + data.length > maxSegmentBytes) await rollOver();
    } catch (error) {
      throw unwritable(`cannot start the audit log segment ${join(dir, segmentName(index + 1))}`, error);
    }
    try {
      for (let done = 0; done < data.length; ) done += (await handle.write(data, done, data.length - done)).bytesWritten;
      await handle.sync();
    } catch (error) {
      const failure = unwritable(`cannot write to the audit log ${segmentPath()}`, error);
      try {
        await handle.truncate(size);
        await handle.sync();
      } catch {
        broken = unwritable(`the audit log ${segmentPath()} may hold a partial write that could not be removed, so it takes no more entries until the server restarts`, error);
        throw broken;
      }
      throw failure;
    }
    size += data.length;
    seq = lastSeq;
    prev = hash;
    try {
      await writeHead(dir, checkpoint);
    } catch (error) {
      throw unwritable(`entries ${entries[0]?.seq}-${lastSeq} were written to ${segmentPath()}, but ${join(dir, HEAD_FILE)} could not be updated`, error);
    }
    return entries;
  }

  async function flush(): Promise<void> {
    await Promise.resolve(); // appends made in the same turn join the first write
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, checkpointEvery);
        try {
          const entries = await writeBatch(batch);
          batch.forEach((pending, i) => pending.resolve(entries[i] as AuditEntry));
        } catch (error) {
          const failure = unwritable('cannot append to the audit log', error);
          for (const pending of batch) pending.reject(failure);
          if (broken !== null) for (const pending of queue.splice(0)) pending.reject(broken);
        }
      }
    } finally {
      flushing = null;
    }
  }

  return {
    dir,
    append(event) {
      if (closing !== null) return Promise.reject(AuditErrors.SECURITY_AUDIT_CLOSED(`the audit log in ${dir} is closed`));
      if (broken !== null) return Promise.reject(broken);
      return new Promise<AuditEntry>((resolve, reject) => {
        const normalized = normalizeEvent(event); // a throw here rejects the promise
        queue.push({ event: normalized, at: iso(clock.now()), resolve, reject });
        flushing ??= flush();
      });
    },
    stats: () => ({ entries: seq, segments: index, lastSeq: seq }),
    async settled() {
      while (flushing !== null) await flushing;
    },
    close() {
      closing ??= (async () => {
        while (flushing !== null) await flushing;
        await handle.close();
      })();
      return closing;
    },
  };
}
