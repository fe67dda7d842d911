/** The encryption-at-rest error table: master keyrings, encrypted files and sealed values. */
import { defineErrors } from '../../core/index.js';

/** Factories for the SECURITY_ENCRYPTION_* codes; none of their messages carries key material or plaintext. */
export const EncryptionErrors = defineErrors({
  SECURITY_ENCRYPTION_KEYRING_INVALID: {
    kind: 'invalid',
    help: 'The master keyring is malformed: it needs one "<keyId>:<base64 of 32 bytes>" line per key (the first is the active key, ids of letters, digits, ".", "_" and "-", each id once); the message names the line and what was wrong.',
  },
  SECURITY_ENCRYPTION_KEYRING_UNREADABLE: {
    kind: 'invalid',
    help: 'The master keyring file could not be read (missing, a directory or no permission), or neither or both of a file and an environment value were given; fix the path or its permissions.',
  },
  SECURITY_ENCRYPTION_UNKNOWN_KEY: {
    kind: 'internal',
    help: 'The object was encrypted under a master key id the keyring does not hold; add that key (as a later line) back to the keyring, the message names the id.',
  },
  SECURITY_ENCRYPTION_UNWRAP_FAILED: {
    kind: 'internal',
    help: 'The data key of an object could not be unwrapped: the keyring holds a different key under the same id than the one that encrypted it, or the stored header was modified; restore the right key or the object.',
  },
  SECURITY_ENCRYPTION_INTEGRITY_FAILED: {
    kind: 'internal',
    help: 'Encrypted data failed authentication: it was modified, truncated or had chunks removed or reordered, so nothing of the damaged part was returned; restore the object from a backup.',
  },
  SECURITY_ENCRYPTION_FORMAT_INVALID: {
    kind: 'internal',
    help: 'The data is not a Slipway encrypted file or sealed value of a version this build knows (wrong magic bytes, a malformed header, an unsupported version or algorithm); the message says which part.',
  },
  SECURITY_ENCRYPTION_INVALID_OPTION: {
    kind: 'invalid',
    help: 'An encryption option is out of range (a chunk size, a key id or a value sealer bound); the message names the option and its allowed range.',
  },
});
