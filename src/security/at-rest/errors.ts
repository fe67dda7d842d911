/** The error table of encryption at rest as the server wires it: configuration and data it cannot open. */
import { defineErrors } from '../../core/index.js';

/** Factories for the at-rest wiring's codes; like the primitives' messages, none carries key material or plaintext. */
export const AtRestErrors = defineErrors({
  SECURITY_ENCRYPTION_NOT_CONFIGURED: {
    kind: 'conflict',
    help: 'Encryption at rest is not configured on this server (neither security.encryption.masterKeyFile nor SLIPWAY_MASTER_KEYS is set), so encrypted data cannot be read and a rewrap has nothing to wrap with; give the server its master keyring and restart it.',
  },
  SECURITY_ENCRYPTION_UNREADABLE: {
    kind: 'conflict',
    help: "Stored data is encrypted under a master key this server's keyring cannot open it with (the key id is missing, another key stands under that id, or the data was modified); the message names the key id and the data. Add the old key back as a later keyring line and restart.",
  },
  SECURITY_ENCRYPTION_BLOB_MISMATCH: {
    kind: 'internal',
    help: 'A plaintext blob no longer hashes to its digest (changed on disk), so the rewrap left it unencrypted rather than seal altered bytes; restore the blob from a backup and run the rewrap again.',
  },
});
