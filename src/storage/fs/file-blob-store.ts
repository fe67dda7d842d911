/**
 * The file-system adapter of the BlobStore port: artifacts under `<dir>/sha256/<hex>`, written by
 * copying into a staging file while hashing, fsyncing it, and renaming it into place (then fsyncing
 * the directory), so a blob is either absent or complete, even across a crash or power loss.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { syncDir } from '../../core/files.js';
import type { BlobRef, BlobStore, BlobVerification, StagedBlob } from '../../registry/index.js';
import { StorageErrors } from '../errors.js';

export interface FileBlobStoreOptions {
  /** The blobs directory, e.g. `<data-dir>/blobs`. Created if missing. */
  readonly dir: string;
  /**
   * Where staged copies are written before they are renamed into place. Must be on the same file
   * system as `dir` (rename is only atomic within one). Default `<dir>/.staging`.
   */
  readonly stagingDir?: string;
}

/** The file-system BlobStore, plus where it keeps its files. */
export interface FileBlobStore extends BlobStore {
  readonly dir: string;
  readonly stagingDir: string;
}

const DIGEST = /^sha256:([0-9a-f]{64})$/;
const CHUNK_BYTES = 1024 * 1024;

function hexOf(digest: string): string {
  const match = DIGEST.exec(digest);
  if (match?.[1] === undefined) {
    throw StorageErrors.STORAGE_INVALID_DIGEST(`digest: expected "sha256:" and 64 lowercase hex digits, got "${digest}"`, {
      details: { field: 'digest', value: digest },
    });
  }
  return match[1];
}


/** Hashes a whole file, chunk by chunk. Returns null when it does not exist. */
async function hashFile(path: string): Promise<{ digest: string; sizeBytes: number } | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let sizeBytes = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      sizeBytes += bytesRead;
    }
    return { digest: `sha256:${hash.digest('hex')}`, sizeBytes };
  } finally {
    await handle.close();
  }
}

/** Creates a blob store rooted at `options.dir`. */
export function createFileBlobStore(options: FileBlobStoreOptions): FileBlobStore {
  const dir = resolve(options.dir);
  const stagingDir = resolve(options.stagingDir ?? join(dir, '.staging'));
  const shaDir = join(dir, 'sha256');
  let ready: Promise<void> | undefined;

  const ensureDirs = (): Promise<void> =>
    (ready ??= (async () => {
      await mkdir(shaDir, { recursive: true });
      await mkdir(stagingDir, { recursive: true });
    })().catch((error: unknown) => {
      ready = undefined; // let the next call retry, e.g. after permissions are fixed
      throw error;
    }));

  const pathOf = (digest: string): string => join(shaDir, hexOf(digest));

  async function stage(sourcePath: string): Promise<StagedBlob> {
    await ensureDirs();
    const source = await open(sourcePath, 'r');
    const stagedPath = join(stagingDir, `blob-${process.pid}-${randomBytes(8).toString('hex')}`);
    let target: FileHandle | undefined;
    let digest: string;
    let sizeBytes = 0;
    try {
      if (!(await source.stat()).isFile()) {
        throw Object.assign(new Error(`"${sourcePath}" is not a regular file`), { code: 'EISDIR' });
      }
      target = await open(stagedPath, 'wx', 0o600);
      const hash = createHash('sha256');
      const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
      for (;;) {
        const { bytesRead } = await source.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) break;
        const chunk = buffer.subarray(0, bytesRead);
        hash.update(chunk);
        let written = 0;
        while (written < bytesRead) {
          const { bytesWritten } = await target.write(chunk, written, bytesRead - written);
          written += bytesWritten;
        }
        sizeBytes += bytesRead;
      }
      // the bytes must be on disk before a rename can make them visible under their digest
      await target.sync();
      digest = `sha256:${hash.digest('hex')}`;
    } catch (error) {
      await target?.close().catch(() => undefined);
      target = undefined;
      await rm(stagedPath, { force: true });
      throw error;
    } finally {
      await target?.close();
      await source.close();
    }

    let settled = false;
    const discard = async (): Promise<void> => {
      settled = true;
      await rm(stagedPath, { force: true }).catch(() => undefined);
    };
    return {
      digest,
      sizeBytes,
      path: stagedPath,
      async commit(): Promise<BlobRef> {
        if (settled) throw new Error(`staged blob ${digest} was already committed or discarded`);
        settled = true;
        const finalPath = pathOf(digest);
        // identical content is stored once: the existing blob is complete (it got there by rename)
        if ((await existence(finalPath)) === 'present') {
          await rm(stagedPath, { force: true });
        } else {
          await chmod(stagedPath, 0o444);
          await rename(stagedPath, finalPath);
          await syncDir(shaDir);
        }
        return { digest, sizeBytes, path: finalPath };
      },
      discard,
    };
  }

  async function existence(path: string): Promise<'present' | 'missing'> {
    try {
      return (await stat(path)).isFile() ? 'present' : 'missing';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw error;
    }
  }

  return {
    dir,
    stagingDir,
    stage,

    async putFile(sourcePath) {
      const staged = await stage(sourcePath);
      try {
        return await staged.commit();
      } finally {
        await staged.discard();
      }
    },

    path: pathOf,

    async has(digest) {
      return (await existence(pathOf(digest))) === 'present';
    },

    async verify(digest): Promise<BlobVerification> {
      const actual = await hashFile(pathOf(digest));
      return { digest, ok: actual?.digest === digest, actualDigest: actual?.digest ?? null };
    },
  };
}
