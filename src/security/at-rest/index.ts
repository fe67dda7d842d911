/**
 * Encryption at rest as the server wires it (docs/security.md#encryption-at-rest): the master
 * keyring from `security.encryption.masterKeyFile` or SLIPWAY_MASTER_KEYS, the blob store's
 * status and rewrap port, and the `/api/v1/encryption` routes. The primitives are in ../encryption.
 */
export { AtRestErrors } from './errors.js';
export { loadAtRestKeyring, MASTER_KEYS_ENV, type AtRestKeyringSources } from './keyring-source.js';
export { encryptionApi, type EncryptionApiOptions } from './api.js';
export type * from './types.js';
