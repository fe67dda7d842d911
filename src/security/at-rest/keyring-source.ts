/**
 * Where the server's master keyring comes from: `security.encryption.masterKeyFile` or the
 * SLIPWAY_MASTER_KEYS environment variable, exactly one. Encryption at rest is on when one is set.
 */
import { EncryptionErrors, loadMasterKeyring, parseMasterKeyring, type LoadedMasterKeyring } from '../encryption/index.js';

/** The environment variable that may hold the keyring text itself (`<keyId>:<base64>` lines, first active). */
export const MASTER_KEYS_ENV = 'SLIPWAY_MASTER_KEYS';

/** The two possible sources; empty or undefined means not given. */
export interface AtRestKeyringSources {
  /** `security.encryption.masterKeyFile`. */
  readonly masterKeyFile?: string;
  /** The value of SLIPWAY_MASTER_KEYS. */
  readonly envValue?: string | undefined;
}

/**
 * Loads the master keyring, or resolves with undefined when neither source is set (encryption at
 * rest off). Both set, a file that cannot be read or a malformed keyring reject with a
 * SECURITY_ENCRYPTION_KEYRING_* error naming the file or the variable; nothing of the keys is
 * echoed. Warnings (a key file others may read) are returned for the caller to log.
 */
export async function loadAtRestKeyring(sources: AtRestKeyringSources): Promise<LoadedMasterKeyring | undefined> {
  const file = sources.masterKeyFile ?? '';
  const env = sources.envValue ?? '';
  if (file !== '' && env !== '') {
    throw EncryptionErrors.SECURITY_ENCRYPTION_KEYRING_UNREADABLE(
      `master keyring: both security.encryption.masterKeyFile ("${file}") and ${MASTER_KEYS_ENV} are set; give exactly one`,
      { details: { field: 'security.encryption.masterKeyFile', variable: MASTER_KEYS_ENV } },
    );
  }
  if (file !== '') return loadMasterKeyring({ file });
  if (env === '') return undefined;
  return { keyring: parseMasterKeyring(env, `master keyring in ${MASTER_KEYS_ENV}`), source: MASTER_KEYS_ENV, warnings: [] };
}
