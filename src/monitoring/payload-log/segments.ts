/**
 * The payload log on disk: a directory of append-only JSONL segment files, one entry per line.
 * A segment holds entries of one UTC hour only (its name says which) and is closed beyond
 * `segmentMaxBytes`, so the hour in a name bounds the times inside it: exports skip whole segments
 * outside their time range, and retention by age deletes a segment once its hour is old enough.
 * Names sort in write order: `payloads-20260101T10Z-000042.jsonl` (hour, then a sequence number
 * that only grows, across restarts too).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDir } from '../../core/files.js';
import { completeLines, type Clock, type Logger } from '../../core/index.js';

export const HOUR_MS = 3_600_000;

const NAME = /^payloads-(\d{4})(\d{2})(\d{2})T(\d{2})Z-(\d{6,15})\.jsonl$/;

/** One segment file. */
export interface SegmentInfo {
  readonly name: string;
  /** Start of the UTC hour its entries fall in, ms since the epoch. */
  readonly hourMs: number;
  readonly seq: number;
  bytes: number;
}

/** The start of the UTC hour `ms` falls in. */
export function hourOf(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

export function segmentName(hourMs: number, seq: number): string {
  const iso = new Date(hourMs).toISOString(); // 2026-01-01T10:00:00.000Z
  return `payloads-${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}Z-${String(seq).padStart(6, '0')}.jsonl`;
}

export function parseSegmentName(name: string): { readonly hourMs: number; readonly seq: number } | undefined {
  const m = NAME.exec(name);
  if (m === null) return undefined;
  const hourMs = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
  return Number.isNaN(hourMs) ? undefined : { hourMs, seq: Number(m[5]) };
}

const bySeq = (a: SegmentInfo, b: SegmentInfo): number => a.seq - b.seq;

/** The segments in `dir`, oldest first (by sequence); an absent directory has none. */
export async function listSegments(dir: string): Promise<SegmentInfo[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const out: SegmentInfo[] = [];
  for (const name of names) {
    const parsed = parseSegmentName(name);
    if (parsed === undefined) continue;
    try {
      out.push({ name, ...parsed, bytes: (await stat(join(dir, name))).size });
    } catch {
      // deleted between the listing and the stat
    }
  }
  return out.sort(bySeq);
}

/**
 * The complete lines of a file, streamed. A final line without its newline is skipped: it is a
 * write still in progress, or one a crash cut short.
 */
export async function* readLines(path: string): AsyncGenerator<string> {
  let stream;
  try {
    const size = (await stat(path)).size;
    if (size === 0) return;
    // read what exists now; lines appended later belong to a later export
    stream = createReadStream(path, { start: 0, end: size - 1, encoding: 'utf8', highWaterMark: 256 * 1024 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    // a torn last line (a write in progress, or cut by a crash) is no entry: it is left out
    yield* completeLines(stream as AsyncIterable<string>);
  } catch (error) {
    // retention deleted the file while it was read: what was read stands
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  } finally {
    stream.destroy();
  }
}

/** A temporary file of {@link rewriteSegments} (never a segment name, so listings and exports skip it). */
const REWRITE_TEMP = /^\.payloads-.*\.rewrite-[0-9a-f]+\.tmp$/;

/** What {@link rewriteSegments} did. */
export interface RewriteResult {
  /** Segments read. */
  readonly segments: number;
  /** Segments replaced because at least one of their lines changed. */
  readonly rewritten: number;
}

/**
 * Rewrites `segments` of `dir` line by line through `edit` (undefined, or the line itself, keeps a
 * line as it is). A segment with a changed line is written to a temporary file beside it, fsynced
 * and renamed over it, so a reader or a crash sees the old segment or the new one, never a mix;
 * its `bytes` are updated. A segment whose lines all stay is left untouched. A rewritten segment
 * loses a torn last line (exports skip it anyway). Temporary files a crash left behind are removed
 * first. The caller keeps writers and retention away from these segments meanwhile.
 */
export async function rewriteSegments(dir: string, segments: readonly SegmentInfo[], edit: (line: string) => string | undefined): Promise<RewriteResult> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (REWRITE_TEMP.test(name)) await rm(join(dir, name), { force: true });
  }
  let rewritten = 0;
  for (const info of segments) {
    const path = join(dir, info.name);
    const temp = join(dir, `.${info.name}.rewrite-${randomBytes(6).toString('hex')}.tmp`);
    const out = await open(temp, 'wx', 0o600);
    let changed = false;
    let bytes = 0;
    try {
      let pending = '';
      for await (const line of readLines(path)) {
        const next = edit(line);
        if (next !== undefined && next !== line) changed = true;
        pending += `${next ?? line}\n`;
        if (pending.length >= 256 * 1024) {
          await out.appendFile(pending);
          bytes += Buffer.byteLength(pending);
          pending = '';
        }
      }
      if (pending !== '') {
        await out.appendFile(pending);
        bytes += Buffer.byteLength(pending);
      }
      if (changed) await out.sync();
    } catch (error) {
      await out.close().catch(() => undefined);
      await rm(temp, { force: true });
      throw error;
    }
    await out.close();
    if (!changed) {
      await rm(temp, { force: true });
      continue;
    }
    await rename(temp, path);
    info.bytes = bytes;
    rewritten++;
  }
  if (rewritten > 0) await syncDir(dir);
  return { segments: segments.length, rewritten };
}

export interface SegmentStoreOptions {
  readonly dir: string;
  readonly segmentMaxBytes: number;
  readonly maxAgeHours: number;
  readonly maxBytes: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** What the writer reports about the directory. */
export interface SegmentStoreStats {
  readonly bytesOnDisk: number;
  readonly segments: number;
  readonly bytesWritten: number;
  readonly segmentsDeleted: number;
}

/**
 * Lines to append, with the hour of their entries: one line as text, or whole lines (each ending
 * in a newline) already encoded as UTF-8 — the payload log's metadata lines, written into one
 * buffer as they are recorded.
 */
export type SegmentLine = { readonly hourMs: number; readonly text: string } | { readonly hourMs: number; readonly bytes: Uint8Array };

const NEWLINE = 0x0a;

/** Bytes up to and including the first line's newline (all of `data` without one). */
function firstLineBytes(data: Uint8Array): number {
  const end = data.indexOf(NEWLINE);
  return end < 0 ? data.length : end + 1;
}

/** The longest prefix of `data` that is whole lines and at most `room` bytes; 0 when not even its first line fits. */
function wholeLinesWithin(data: Uint8Array, room: number): number {
  if (room >= data.length) return data.length;
  return room <= 0 ? 0 : data.lastIndexOf(NEWLINE, room - 1) + 1;
}

/** The writing side of the directory. One writer per directory (the data directory's lock sees to it). */
export interface SegmentStore {
  /** Appends lines in order, rotating by hour and size; rejects when the disk refuses (the lines not written are lost). */
  append(lines: readonly SegmentLine[]): Promise<void>;
  /** Deletes segments past retention, oldest first. Never rejects. */
  applyRetention(): Promise<void>;
  /**
   * Closes the open segment (the next append starts a new one) and rewrites every segment there
   * was through `edit` ({@link rewriteSegments}), between retention passes. The caller must not
   * append meanwhile.
   */
  rewrite(edit: (line: string) => string | undefined): Promise<RewriteResult>;
  stats(): SegmentStoreStats;
  /** Closes the open segment. */
  close(): Promise<void>;
}

/**
 * Opens the directory (creating it), takes stock of the segments already there, and continues
 * their sequence: a restart starts a new segment rather than appending to one a crash may have
 * left with a torn last line.
 */
export async function openSegmentStore(options: SegmentStoreOptions): Promise<SegmentStore> {
  const { dir, clock, logger } = options;
  await mkdir(dir, { recursive: true });
  const segments = await listSegments(dir);
  let nextSeq = (segments[segments.length - 1]?.seq ?? 0) + 1;
  let current: { info: SegmentInfo; handle: FileHandle } | undefined;
  let bytesWritten = 0;
  let segmentsDeleted = 0;

  const closeCurrent = async (): Promise<void> => {
    const c = current;
    current = undefined;
    if (c !== undefined) await c.handle.close();
  };

  const openNew = async (hourMs: number): Promise<{ info: SegmentInfo; handle: FileHandle }> => {
    await closeCurrent();
    const info: SegmentInfo = { name: segmentName(hourMs, nextSeq++), hourMs, seq: nextSeq - 1, bytes: 0 };
    // 'wx': a name is never reused, so an existing file means another writer: refuse rather than interleave
    const handle = await open(join(dir, info.name), 'wx', 0o600);
    segments.push(info);
    current = { info, handle };
    return current;
  };

  const deleteSegment = async (info: SegmentInfo): Promise<void> => {
    if (current?.info === info) await closeCurrent();
    try {
      await unlink(join(dir, info.name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const i = segments.indexOf(info);
    if (i >= 0) segments.splice(i, 1);
    segmentsDeleted++;
  };

  let retaining: Promise<void> | undefined;
  const retain = async (): Promise<void> => {
    const cutoff = clock.now() - options.maxAgeHours * HOUR_MS;
    // by age: a segment's entries all fall before the end of its hour
    for (const info of [...segments]) {
      if (info.hourMs + HOUR_MS <= cutoff) await deleteSegment(info);
    }
    // by size: the oldest go first, but never the segment being written
    let total = segments.reduce((sum, s) => sum + s.bytes, 0);
    while (total > options.maxBytes) {
      const oldest = segments[0];
      if (oldest === undefined || oldest === current?.info) break;
      total -= oldest.bytes;
      await deleteSegment(oldest);
    }
  };

  const store: SegmentStore = {
    async append(lines) {
      // what goes into the segment being filled, written in one call once it is full or the lines end
      let seg = current;
      let parts: Uint8Array[] = [];
      let size = 0;
      let rotated = false;
      const writeParts = async (): Promise<void> => {
        if (seg === undefined || parts.length === 0) return;
        try {
          await writeAll(seg.handle, parts, size);
        } catch (error) {
          // the segment may now end in a torn line: start a fresh one next time
          await closeCurrent().catch(() => undefined);
          throw error;
        }
        seg.info.bytes += size;
        bytesWritten += size;
        parts = [];
        size = 0;
        if (rotated) {
          rotated = false;
          await store.applyRetention();
          // retention may have closed it (a segment of an hour already past its age)
          seg = current;
        }
      };
      for (const line of lines) {
        let data: Uint8Array = 'text' in line ? Buffer.from(line.text) : line.bytes;
        while (data.length > 0) {
          const used = seg === undefined ? 0 : seg.info.bytes + size;
          if (seg === undefined || seg.info.hourMs !== line.hourMs || (used > 0 && used + firstLineBytes(data) > options.segmentMaxBytes)) {
            await writeParts();
            seg = await openNew(line.hourMs);
            rotated = true;
          }
          // as many whole lines as fit; a line longer than a segment goes alone into an empty one
          const take = wholeLinesWithin(data, options.segmentMaxBytes - (seg.info.bytes + size)) || firstLineBytes(data);
          parts.push(take === data.length ? data : data.subarray(0, take));
          size += take;
          data = data.subarray(take);
        }
      }
      await writeParts();
    },
    applyRetention() {
      // one pass at a time; a call during a pass waits for it and runs its own
      const run = (retaining ?? Promise.resolve()).then(retain).catch((error: unknown) => {
        logger.warn({ err: (error as Error).message, dir }, 'payload log retention failed');
      });
      retaining = run;
      return run;
    },
    rewrite(edit) {
      const run = (retaining ?? Promise.resolve()).then(async () => {
        await closeCurrent();
        return rewriteSegments(dir, [...segments], edit);
      });
      retaining = run.then(
        () => undefined,
        () => undefined,
      );
      return run;
    },
    stats: () => ({
      bytesOnDisk: segments.reduce((sum, s) => sum + s.bytes, 0),
      segments: segments.length,
      bytesWritten,
      segmentsDeleted,
    }),
    async close() {
      await retaining;
      await closeCurrent();
    },
  };
  return store;
}

/**
 * Writes `parts` (`size` bytes together) at the handle's position, in order: one writev, rather than
 * copying them into one buffer first (a batch of metadata runs broken by sampled bodies is dozens of
 * parts); whatever a short write left is written after it. Exported for its test.
 */
export async function writeAll(handle: FileHandle, parts: readonly Uint8Array[], size: number): Promise<void> {
  const { bytesWritten } = await handle.writev(parts as Uint8Array[]);
  if (bytesWritten >= size) return;
  let skip = bytesWritten;
  const rest: Uint8Array[] = [];
  for (const part of parts) {
    if (skip >= part.length) skip -= part.length;
    else {
      rest.push(skip === 0 ? part : part.subarray(skip));
      skip = 0;
    }
  }
  await handle.appendFile(Buffer.concat(rest));
}
