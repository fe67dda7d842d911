/**
 * The file-system adapter of the BlobStore port: artifacts under `<dir>/sha256/<hex>`, written by
 * copying into a staging file while hashing, fsyncing it, and renaming it into place (then fsyncing
 * the directory), so a blob is either absent or complete, even across a crash or power loss.
 *
 * With a master keyring (encryption at rest, docs/security.md#encryption-at-rest) a committed blob
 * is stored encrypted instead: the staged plaintext is encrypted into a temporary file in the
 * staging directory that is renamed into place (the `SLWENC01` format of src/security/encryption,
 * a data key of its own wrapped by the active master key). The address stays the sha256 of the
 * plaintext, `verify` hashes the decrypted plaintext, and {@link FileBlobStore.readArtifact} hands
 * the runtime the model bytes in memory, so the plaintext of a stored model never reaches the disk.
 * Blobs written before encryption was switched on stay readable (told apart by their first bytes)
 * until {@link FileBlobStore.rewrap} encrypts them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { syncDir } from '../../core/files.js';
import { toPlatformError } from '../../core/index.js';
import type { BlobRef, BlobStore, BlobVerification, StagedBlob } from '../../registry/index.js';
import { AtRestErrors } from '../../security/at-rest/errors.js';
import type { BlobEncryptionStatus, BlobRewrapReport, EncryptedBlobStore, RewrapFailure } from '../../security/at-rest/types.js';
import {
  createDecryptStream,
  encryptFile,
  EncryptionErrors,
  ENCRYPTED_FILE_MAGIC,
  isEncrypted,
  readEncryptedFileHeader,
  rewrapFile,
  type MasterKeyring,
} from '../../security/encryption/index.js';
import { StorageErrors } from '../errors.js';

export interface FileBlobStoreOptions {
  /** The blobs directory, e.g. `<data-dir>/blobs`. Created if missing. */
  readonly dir: string;
  /**
   * Where staged copies are written before they are renamed into place. Must be on the same file
   * system as `dir` (rename is only atomic within one). Default `<dir>/.staging`.
   */
  readonly stagingDir?: string;
  /**
   * The master keyring of encryption at rest: when given, committed blobs are stored encrypted
   * under its active key, and encrypted blobs are read with it. Default: none (plaintext blobs;
   * an encrypted blob met then fails with SECURITY_ENCRYPTION_NOT_CONFIGURED).
   */
  readonly keyring?: MasterKeyring;
}

/** The file-system BlobStore, plus where it keeps its files and its encryption at rest. */
export interface FileBlobStore extends BlobStore, EncryptedBlobStore {
  readonly dir: string;
  readonly stagingDir: string;
  /** Whether new blobs are stored encrypted (a keyring was given). */
  readonly encrypted: boolean;
  /**
   * The bytes of the model file at `path` (a blob, a staged upload, an example), read whole into a
   * buffer of their own, for the runtime to create a session from memory. An encrypted file is
   * decrypted in memory (every chunk authenticated before the bytes are returned, so a wrong key or
   * a damaged file rejects with SECURITY_ENCRYPTION_* and nothing is returned). Without a keyring a
   * plaintext file resolves undefined (the engine reads it from disk itself), and an encrypted one
   * rejects with SECURITY_ENCRYPTION_NOT_CONFIGURED naming its key id. A file that cannot be opened
   * also resolves undefined, so the engine reports it as before.
   */
  readonly readArtifact: (path: string) => Promise<Uint8Array | undefined>;
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


/** Opens a file for reading; null when it does not exist. */
async function openExisting(path: string): Promise<FileHandle | null> {
  try {
    return await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** The first bytes of an open file (as many as there are, up to the magic's length). */
async function headOf(handle: FileHandle): Promise<Buffer> {
  const head = Buffer.alloc(ENCRYPTED_FILE_MAGIC.length);
  const { bytesRead } = await handle.read(head, 0, head.length, 0);
  return head.subarray(0, bytesRead);
}

/** The master key id an encrypted file names, or "(unreadable header)". */
async function keyIdOf(path: string): Promise<string> {
  try {
    return (await readEncryptedFileHeader(path)).keyId;
  } catch {
    return '(unreadable header)';
  }
}

/**
 * Hashes the plaintext of the encrypted file open as `handle` as it is decrypted and authenticated,
 * a chunk at a time (nothing kept). Rejects with the SECURITY_ENCRYPTION_* error of a wrong key or
 * a damaged file.
 */
async function hashEncrypted(handle: FileHandle, path: string, keyring: MasterKeyring): Promise<string> {
  const source = `encrypted blob "${path}"`;
  const hash = createHash('sha256');
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback();
    },
  });
  try {
    await pipeline(handle.createReadStream({ start: 0, autoClose: false }), createDecryptStream(keyring, { source }), sink);
  } catch (error) {
    throw toPlatformError(error);
  }
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Decrypts the encrypted file open as `handle` into one buffer of exactly its plaintext size. The
 * buffer is returned only when the whole file authenticated; on failure it is zeroed and the
 * SECURITY_ENCRYPTION_* error rethrown.
 */
async function decryptWhole(handle: FileHandle, path: string, keyring: MasterKeyring): Promise<Uint8Array> {
  const source = `encrypted blob "${path}"`;
  const { plaintextBytes } = await readEncryptedFileHeader(path);
  const out = new Uint8Array(plaintextBytes);
  let filled = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (filled + chunk.length > out.length) {
        callback(EncryptionErrors.SECURITY_ENCRYPTION_INTEGRITY_FAILED(`${source}: holds more plaintext than its length promised; the file changed while it was read, or is damaged`, { details: { source } }));
        return;
      }
      out.set(chunk, filled);
      filled += chunk.length;
      callback();
    },
  });
  try {
    await pipeline(handle.createReadStream({ start: 0, autoClose: false }), createDecryptStream(keyring, { source }), sink);
    if (filled !== out.length) {
      throw EncryptionErrors.SECURITY_ENCRYPTION_INTEGRITY_FAILED(`${source}: holds ${filled} bytes of plaintext where its length promised ${out.length}; the file changed while it was read, or is damaged`, {
        details: { source },
      });
    }
    return out;
  } catch (error) {
    out.fill(0);
    throw toPlatformError(error);
  }
}

/** Reads a whole plaintext file into a buffer that owns its memory (so it can be transferred to a worker). */
async function readWhole(handle: FileHandle): Promise<Uint8Array> {
  const size = (await handle.stat()).size;
  const out = new Uint8Array(size);
  let filled = 0;
  while (filled < size) {
    const { bytesRead } = await handle.read(out, filled, size - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === size ? out : out.subarray(0, filled).slice();
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
  const keyring = options.keyring;
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
        } else if (keyring !== undefined) {
          // encrypted into a temporary file in the staging directory, renamed into place (and the directory fsynced)
          await encryptFile(stagedPath, finalPath, keyring, { tempDir: stagingDir, mode: 0o444 });
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

  const notConfigured = async (path: string, what: string): Promise<never> => {
    const keyId = await keyIdOf(path);
    throw AtRestErrors.SECURITY_ENCRYPTION_NOT_CONFIGURED(
      `${what} "${path}" is encrypted under master key "${keyId}", but this server has no master keyring; set security.encryption.masterKeyFile or SLIPWAY_MASTER_KEYS`,
      { details: { path, keyId } },
    );
  };

  async function readArtifact(path: string): Promise<Uint8Array | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch {
      return undefined; // the engine names the problem with the path, as it always did
    }
    try {
      if (!isEncrypted(await headOf(handle))) return keyring === undefined ? undefined : await readWhole(handle);
      if (keyring === undefined) return await notConfigured(path, 'model file');
      return await decryptWhole(handle, path, keyring);
    } finally {
      await handle.close();
    }
  }

  /** The blob files: names of 64 hex digits under sha256/ (temporary files live in the staging directory). */
  async function blobNames(): Promise<string[]> {
    try {
      return (await readdir(shaDir)).filter((name) => /^[0-9a-f]{64}$/.test(name)).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  async function isEncryptedBlob(path: string): Promise<boolean | null> {
    const handle = await openExisting(path);
    if (handle === null) return null;
    try {
      return isEncrypted(await headOf(handle));
    } finally {
      await handle.close();
    }
  }

  async function rewrapOne(name: string, ring: MasterKeyring): Promise<'rewrapped' | 'encrypted' | 'unchanged' | RewrapFailure> {
    const path = join(shaDir, name);
    const digest = `sha256:${name}`;
    try {
      const encrypted = await isEncryptedBlob(path);
      if (encrypted === null) return 'unchanged'; // gone meanwhile: nothing to move
      if (encrypted) return (await rewrapFile(path, ring, { tempDir: stagingDir })).rewrapped ? 'rewrapped' : 'unchanged';
      // a plaintext blob from before encryption: sealed only if it still is what its address says
      const actual = await hashFile(path);
      if (actual === null) return 'unchanged';
      if (actual.digest !== digest) {
        throw AtRestErrors.SECURITY_ENCRYPTION_BLOB_MISMATCH(`plaintext blob "${path}" hashes to ${actual.digest}, not its digest ${digest}; left unencrypted`, {
          details: { digest, actualDigest: actual.digest },
        });
      }
      await encryptFile(path, path, ring, { tempDir: stagingDir, mode: 0o444 });
      return 'encrypted';
    } catch (error) {
      const e = toPlatformError(error);
      return { digest, code: e.code, message: e.message };
    }
  }

  // one rewrap at a time: a second request waits for the first, then finds little left to do
  let rewrapping: Promise<unknown> = Promise.resolve();

  return {
    dir,
    stagingDir,
    encrypted: keyring !== undefined,
    stage,
    readArtifact,

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
      const path = pathOf(digest);
      const handle = await openExisting(path);
      if (handle === null) return { digest, ok: false, actualDigest: null };
      let actual: string;
      try {
        if (!isEncrypted(await headOf(handle))) {
          await handle.close();
          const plain = await hashFile(path);
          return { digest, ok: plain?.digest === digest, actualDigest: plain?.digest ?? null };
        }
        if (keyring === undefined) return await notConfigured(path, 'blob');
        // the plaintext is hashed as it is authenticated, a chunk at a time, and never kept
        actual = await hashEncrypted(handle, path, keyring);
      } finally {
        await handle.close().catch(() => undefined);
      }
      return { digest, ok: actual === digest, actualDigest: actual };
    },

    async encryptionStatus(): Promise<BlobEncryptionStatus> {
      const byKey: Record<string, number> = {};
      let total = 0;
      let plaintext = 0;
      let unreadable = 0;
      for (const name of await blobNames()) {
        const path = join(shaDir, name);
        const encrypted = await isEncryptedBlob(path).catch(() => null);
        if (encrypted === null) continue;
        total++;
        if (!encrypted) {
          plaintext++;
          continue;
        }
        try {
          const { keyId } = await readEncryptedFileHeader(path);
          byKey[keyId] = (byKey[keyId] ?? 0) + 1;
        } catch {
          unreadable++;
        }
      }
      return { total, plaintext, byKey, unreadable };
    },

    rewrap(): Promise<BlobRewrapReport> {
      const ring = keyring;
      if (ring === undefined) {
        return Promise.reject(
          AtRestErrors.SECURITY_ENCRYPTION_NOT_CONFIGURED('cannot rewrap: encryption at rest is off (no master keyring); set security.encryption.masterKeyFile or SLIPWAY_MASTER_KEYS and restart'),
        );
      }
      const run = rewrapping.then(async (): Promise<BlobRewrapReport> => {
        await ensureDirs();
        const counts = { rewrapped: 0, encrypted: 0, unchanged: 0 };
        const failed: RewrapFailure[] = [];
        const names = await blobNames();
        for (const name of names) {
          const outcome = await rewrapOne(name, ring);
          if (typeof outcome === 'string') counts[outcome]++;
          else failed.push(outcome);
        }
        return { total: names.length, ...counts, failed, activeKeyId: ring.active.id };
      });
      rewrapping = run.catch(() => undefined);
      return run;
    },
  };
}
