/**
 * Writes a certificate and its key to disk the way a server expects to find them: the certificate
 * world-readable (0644), the key owner-only (0600), each file appearing whole or not at all
 * (written to a temporary file, then linked or renamed into place), existing files never replaced
 * unless asked to.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { pathExists, PlatformError } from '../../core/index.js';
import type { CertificatePair } from './certificates.js';
import { TlsErrors } from './errors.js';

/** Options of {@link writeCertificatePair}. */
export interface WriteCertificatePairOptions {
  /** File names inside the directory. Default `cert.pem` and `key.pem`. */
  readonly names?: { readonly cert?: string; readonly key?: string };
  /** Replace files that exist. Default false: an existing file is an error. */
  readonly force?: boolean;
}

/** Where {@link writeCertificatePair} put the files (absolute paths). */
export interface WrittenCertificatePair {
  readonly certPath: string;
  readonly keyPath: string;
}

const CERT_MODE = 0o644;
const KEY_MODE = 0o600;

/**
 * Writes `pair` into `dir` (created when missing): the certificate with mode 0644, the key with
 * mode 0600, each atomically. Without `force`, refuses with SECURITY_TLS_FILE_EXISTS naming the
 * file when either exists, before writing anything; other failures are SECURITY_TLS_WRITE_FAILED.
 */
export async function writeCertificatePair(dir: string, pair: CertificatePair, options: WriteCertificatePairOptions = {}): Promise<WrittenCertificatePair> {
  const certName = checkName(options.names?.cert ?? 'cert.pem', 'names.cert');
  const keyName = checkName(options.names?.key ?? 'key.pem', 'names.key');
  if (certName === keyName) throw TlsErrors.SECURITY_TLS_INVALID_ARGUMENT(`names.cert and names.key must differ, both are ${JSON.stringify(certName)}`);
  const force = options.force ?? false;
  const root = resolve(dir);
  const certPath = join(root, certName);
  const keyPath = join(root, keyName);
  try {
    await mkdir(root, { recursive: true });
  } catch (error) {
    throw writeFailed(root, error);
  }
  if (!force) {
    for (const path of [certPath, keyPath]) if (await exists(path)) throw fileExists(path);
  }

  const keyTemp = await writeTemp(root, keyName, pair.keyPem, KEY_MODE);
  let certTemp: string;
  try {
    certTemp = await writeTemp(root, certName, pair.certPem, CERT_MODE);
  } catch (error) {
    await unlink(keyTemp).catch(() => undefined);
    throw error;
  }
  const placed: string[] = [];
  try {
    for (const [temp, path] of [
      [keyTemp, keyPath],
      [certTemp, certPath],
    ] as const) {
      await place(temp, path, force);
      placed.push(path);
    }
  } catch (error) {
    // leave no half pair behind when the second file could not be placed
    if (!force) for (const path of placed) await unlink(path).catch(() => undefined);
    throw error;
  } finally {
    for (const temp of [keyTemp, certTemp]) await unlink(temp).catch(() => undefined);
  }
  return { certPath, keyPath };
}

function checkName(name: string, what: string): string {
  if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || basename(name) !== name) {
    throw TlsErrors.SECURITY_TLS_INVALID_ARGUMENT(`${what} must be a plain file name, got ${JSON.stringify(name)}`);
  }
  return name;
}

async function exists(path: string): Promise<boolean> {
  return pathExists(path).catch((error: unknown) => {
    throw writeFailed(path, error);
  });
}

/** Writes `text` to a new temporary file next to the target, with `mode` set regardless of the umask, and syncs it. */
async function writeTemp(dir: string, name: string, text: string, mode: number): Promise<string> {
  const temp = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'wx', mode);
    await handle.chmod(mode);
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw writeFailed(join(dir, name), error);
  }
  await handle.close();
  return temp;
}

/**
 * Moves the temporary file to `path`. With force, a rename (replacing atomically). Without, a hard
 * link, which fails when `path` exists, so a file created meanwhile is not clobbered either; where
 * the file system has no hard links, a rename after a fresh existence check.
 */
async function place(temp: string, path: string, force: boolean): Promise<void> {
  try {
    if (force) {
      await rename(temp, path);
      return;
    }
    try {
      await link(temp, path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw fileExists(path);
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
      if (await exists(path)) throw fileExists(path);
      await rename(temp, path);
    }
  } catch (error) {
    if (error instanceof PlatformError) throw error;
    throw writeFailed(path, error);
  }
}

function fileExists(path: string): Error {
  return TlsErrors.SECURITY_TLS_FILE_EXISTS(`${path} already exists; remove it or pass force to overwrite it`, { details: { file: path } });
}

function writeFailed(path: string, error: unknown): Error {
  return TlsErrors.SECURITY_TLS_WRITE_FAILED(`cannot write ${path}: ${(error as Error).message}`, { details: { file: path }, cause: error });
}
