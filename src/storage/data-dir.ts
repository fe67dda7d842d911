/**
 * The data directory: where a Slipway server keeps its database, artifacts, audit log and keys.
 * Only `slipway serve` opens it, and only one process at a time: an exclusive lock file holds the
 * owner's pid, so a second server on the same directory refuses to start.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { PlatformError, systemClock, type Clock } from '../core/index.js';
import { StorageErrors } from './errors.js';

/** What the lock file records about its owner. */
export interface DataDirLock {
  /** Path of the lock file, `<root>/slipway.lock`. */
  readonly path: string;
  readonly pid: number;
  readonly hostname: string;
  readonly acquiredAt: string;
  /** The pid of a dead owner whose stale lock this open took over, if any. */
  readonly tookOverFromPid?: number;
}

/** An open data directory. Every path is absolute. */
export interface DataDir {
  readonly root: string;
  /** `<root>/slipway.db`, the SQLite database. */
  readonly dbPath: string;
  /** `<root>/blobs`; artifacts live under `blobs/sha256/<hex>`. */
  readonly blobsDir: string;
  /** `<root>/tmp`: uploads and staged blobs in progress; emptied on open. Same file system as blobs. */
  readonly tmpDir: string;
  /** `<root>/audit`, for the audit log. */
  readonly auditDir: string;
  /** The payload log's JSONL segments (docs/payload-log.md). */
  readonly payloadsDir: string;
  readonly lock: DataDirLock;
  /** Releases the lock (only if this process still owns it). Idempotent. */
  close(): Promise<void>;
}

export interface OpenDataDirOptions {
  /** Stamps the lock's `acquiredAt`. Default: the system clock. */
  readonly clock?: Clock;
}

export const DATA_DIR_LAYOUT = {
  db: 'slipway.db',
  blobs: 'blobs',
  tmp: 'tmp',
  audit: 'audit',
  payloads: 'payloads',
  lock: 'slipway.lock',
} as const;

interface LockContent {
  readonly pid: number;
  readonly hostname: string;
  readonly acquiredAt: string;
  readonly token: string;
}

/** Tokens of the locks this process holds: tells "this process holds it" from "a dead process with my pid did". */
const heldTokens = new Set<string>();

function parseLock(raw: string): LockContent | undefined {
  try {
    const value = JSON.parse(raw) as Partial<LockContent>;
    if (
      typeof value.pid === 'number' &&
      Number.isSafeInteger(value.pid) &&
      value.pid > 0 &&
      typeof value.hostname === 'string' &&
      typeof value.token === 'string'
    ) {
      return { pid: value.pid, hostname: value.hostname, acquiredAt: String(value.acquiredAt), token: value.token };
    }
  } catch {
    // an unreadable lock is treated as stale below
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else — still alive
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function unusable(root: string, why: string, cause?: unknown): Error {
  return StorageErrors.STORAGE_DATA_DIR_UNUSABLE(`data directory "${root}": ${why}`, {
    details: { path: root },
    ...(cause === undefined ? {} : { cause }),
  });
}

function lockedBy(root: string, lockPath: string, holder: LockContent, why: string): Error {
  return StorageErrors.STORAGE_DATA_DIR_LOCKED(
    `data directory "${root}" is locked by process ${holder.pid} on ${holder.hostname} (${why}; lock file ${lockPath}); stop that server or use another --data-dir, and delete the lock file only if no Slipway server uses this directory`,
    { details: { path: root, lockPath, pid: holder.pid, hostname: holder.hostname } },
  );
}

async function ensureDir(root: string, path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true, mode: 0o700 });
    if (!(await stat(path)).isDirectory()) throw unusable(root, `"${path}" exists and is not a directory`);
  } catch (error) {
    if (error instanceof PlatformError) throw error;
    throw unusable(root, `cannot create "${path}": ${(error as Error).message}`, error);
  }
}

/** Takes the lock or throws STORAGE_DATA_DIR_LOCKED; a stale lock (dead owner on this host) is taken over. */
async function acquireLock(root: string, lockPath: string, clock: Clock): Promise<{ content: LockContent; tookOverFromPid?: number }> {
  const content: LockContent = {
    pid: process.pid,
    hostname: hostname(),
    acquiredAt: new Date(clock.now()).toISOString(),
    token: randomBytes(16).toString('hex'),
  };
  let tookOverFromPid: number | undefined;
  // bounded: each round either takes the lock, refuses, or removes one stale lock
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      // 'wx' = O_CREAT | O_EXCL: exactly one process can create the file
      await writeFile(lockPath, `${JSON.stringify(content)}\n`, { flag: 'wx', mode: 0o644 });
      heldTokens.add(content.token);
      return tookOverFromPid === undefined ? { content } : { content, tookOverFromPid };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw unusable(root, `cannot create lock file "${lockPath}": ${(error as Error).message}`, error);
      }
    }
    const raw = await readIfExists(lockPath);
    if (raw === undefined) continue; // released in between: try again
    const holder = parseLock(raw);
    if (holder !== undefined) {
      if (holder.hostname !== content.hostname) throw lockedBy(root, lockPath, holder, 'another host; its liveness cannot be checked');
      if (holder.pid === process.pid) {
        if (heldTokens.has(holder.token)) throw lockedBy(root, lockPath, holder, 'this very process has it open');
        // a previous process that had our pid (containers restart as pid 1) died holding it
      } else if (isAlive(holder.pid)) {
        throw lockedBy(root, lockPath, holder, 'it is running');
      }
      tookOverFromPid = holder.pid;
    }
    // Stale: its owner is dead (or the file is unreadable, e.g. a crash between create and write).
    // Remove it only if it is still the file we judged, to narrow the race with another taker.
    if ((await readIfExists(lockPath)) === raw) await unlink(lockPath).catch(() => undefined);
  }
  throw StorageErrors.STORAGE_DATA_DIR_LOCKED(
    `data directory "${root}": could not take the lock file ${lockPath}; another process keeps re-creating it`,
    { details: { path: root, lockPath } },
  );
}

/**
 * Opens a data directory: creates it and its folders as needed (mode 0700), takes the exclusive
 * lock, and empties `tmp/` of leftovers from a previous run. Throws STORAGE_DATA_DIR_LOCKED when a
 * live process holds the lock, STORAGE_DATA_DIR_UNUSABLE when the path cannot be used.
 */
export async function openDataDir(path: string, options: OpenDataDirOptions = {}): Promise<DataDir> {
  const root = resolve(path);
  const clock = options.clock ?? systemClock;
  await ensureDir(root, root);
  const lockPath = join(root, DATA_DIR_LAYOUT.lock);
  const { content, tookOverFromPid } = await acquireLock(root, lockPath, clock);

  const dataDir: DataDir = {
    root,
    dbPath: join(root, DATA_DIR_LAYOUT.db),
    blobsDir: join(root, DATA_DIR_LAYOUT.blobs),
    tmpDir: join(root, DATA_DIR_LAYOUT.tmp),
    auditDir: join(root, DATA_DIR_LAYOUT.audit),
    payloadsDir: join(root, DATA_DIR_LAYOUT.payloads),
    lock: {
      path: lockPath,
      pid: content.pid,
      hostname: content.hostname,
      acquiredAt: content.acquiredAt,
      ...(tookOverFromPid === undefined ? {} : { tookOverFromPid }),
    },
    async close() {
      if (!heldTokens.delete(content.token)) return;
      const raw = await readIfExists(lockPath);
      if (raw !== undefined && parseLock(raw)?.token === content.token) await unlink(lockPath).catch(() => undefined);
    },
  };

  try {
    for (const dir of [dataDir.blobsDir, dataDir.tmpDir, dataDir.auditDir]) await ensureDir(root, dir);
    // we hold the lock, so nothing in tmp/ belongs to a running operation: it is debris of a crash
    for (const entry of await readdir(dataDir.tmpDir)) {
      await rm(join(dataDir.tmpDir, entry), { recursive: true, force: true });
    }
  } catch (error) {
    await dataDir.close();
    throw error;
  }
  return dataDir;
}
