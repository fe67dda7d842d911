/**
 * What encryption at rest reports, and the port the blob store implements for the encryption routes
 * (status and master-key rotation).
 */

/** How the stored artifacts are encrypted now. */
export interface BlobEncryptionStatus {
  /** Blob files in the store. */
  readonly total: number;
  /** Blobs written before encryption was switched on, still plaintext (a rewrap encrypts them). */
  readonly plaintext: number;
  /** Encrypted blobs by the master key id their data key is wrapped with. */
  readonly byKey: Readonly<Record<string, number>>;
  /** Blobs whose header could not be read (damaged); the rest of the report still holds. */
  readonly unreadable: number;
}

/** One blob a rewrap could not move, and why (the error's code and message). */
export interface RewrapFailure {
  readonly digest: string;
  readonly code: string;
  readonly message: string;
}

/** What a rewrap did: every blob is counted once. */
export interface BlobRewrapReport {
  /** Blob files looked at. */
  readonly total: number;
  /** Data keys re-wrapped with the active key (no data re-encrypted). */
  readonly rewrapped: number;
  /** Plaintext blobs encrypted under the active key. */
  readonly encrypted: number;
  /** Blobs already on the active key, left untouched. */
  readonly unchanged: number;
  /** Blobs that could not be moved (a key missing from the keyring, a damaged file); left as they were. */
  readonly failed: readonly RewrapFailure[];
  /** The active master key every moved blob is now wrapped with. */
  readonly activeKeyId: string;
}

/** The blob store's side of the encryption routes. */
export interface EncryptedBlobStore {
  /** Counts blobs by master key (headers only: no key needed, nothing decrypted). */
  encryptionStatus(): Promise<BlobEncryptionStatus>;
  /**
   * Re-wraps every encrypted blob's data key with the keyring's active master key (headers only)
   * and encrypts plaintext blobs. Each file is replaced atomically, so an interrupted run leaves
   * every blob readable and a second run finishes the rest. Rejects with
   * SECURITY_ENCRYPTION_NOT_CONFIGURED when the store has no keyring.
   */
  rewrap(): Promise<BlobRewrapReport>;
}

/** A payload-log entry whose bodies a rewrap could not seal again, and why. */
export interface PayloadRewrapFailure {
  readonly requestId: string;
  readonly code: string;
  readonly message: string;
}

/** What a rewrap of the payload log's sealed bodies did. */
export interface PayloadRewrapReport {
  /** Segment files read. */
  readonly segments: number;
  /** Segment files replaced (at least one of their entries was sealed again). */
  readonly rewritten: number;
  /** Entries whose bodies were opened and sealed again under the active key. */
  readonly resealed: number;
  /** Entries whose bodies could not be opened; they are kept as they were. */
  readonly failedCount: number;
  /** The first failures (at most 100). */
  readonly failed: readonly PayloadRewrapFailure[];
  /** The active master key every resealed body is now under. */
  readonly activeKeyId: string;
}

/** The payload log's side of the rewrap route. */
export interface EncryptedPayloadLog {
  /**
   * Seals again, under the keyring's active master key, every stored body sealed under another
   * key (segment files replaced atomically). Rejects with SECURITY_ENCRYPTION_NOT_CONFIGURED
   * without a keyring.
   */
  rewrapBodies(): Promise<PayloadRewrapReport>;
}

/** `GET /api/v1/encryption`. */
export interface EncryptionStatusResponse {
  /** Whether encryption at rest is on (a keyring was given). */
  readonly enabled: boolean;
  /** Where the keyring came from: the file path or SLIPWAY_MASTER_KEYS; null when off. */
  readonly source: string | null;
  /** The key new objects are wrapped with; null when off. */
  readonly activeKeyId: string | null;
  /** Every key id of the keyring, the active one first (ids only, never key material). */
  readonly keyIds: readonly string[];
  readonly blobs: BlobEncryptionStatus;
}

/** `POST /api/v1/encryption/rewrap`. */
export interface EncryptionRewrapResponse {
  readonly blobs: BlobRewrapReport;
  /** The payload log's sealed bodies. */
  readonly payloads: PayloadRewrapReport;
}
