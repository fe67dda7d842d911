/**
 * Encryption at rest: envelope encryption with AES-256-GCM (node:crypto only).
 *
 * - Master keys: a keyring of `<keyId>:<base64 of 32 bytes>` lines ({@link loadMasterKeyring}); the
 *   first key is active, later ones still unwrap older objects.
 * - Every object gets a fresh random data key, wrapped with the active master key and recorded in
 *   the object's header, so rotating master keys rewrites headers only ({@link rewrapFile}).
 * - Artifacts use the chunked `SLWENC01` file format (file.ts), streamed both ways with memory
 *   bounded by the chunk size: {@link createEncryptStream}, {@link createDecryptStream}.
 * - Small values (payload-log bodies) are sealed into `enc:v1:<keyId>:<base64url>` strings (value.ts).
 *
 * Fit with the file blob store (blobs under `<dir>/sha256/<hex>`, staged then renamed): a blob keeps
 * the sha256 of its plaintext as its address. On commit the server encrypts the staged file into
 * the final path, `encryptFile(staged.path, finalPath, keyring, { tempDir: stagingDir, mode: 0o444 })`,
 * which writes a temporary file in the staging directory and renames it into place, so a blob is
 * still either absent or complete. On read it pipes the blob through
 * `createDecryptStream(keyring, { source: path })`, and checks an encrypted blob's digest by hashing
 * that plaintext stream. {@link isEncryptedFile} tells blobs written before encryption was switched
 * on from encrypted ones (ONNX files begin with protobuf field tags, never with `SLWENC01`).
 */
export { EncryptionErrors } from './errors.js';
export {
  createMasterKeyring,
  generateMasterKeyLine,
  loadMasterKeyring,
  parseMasterKeyring,
  KEY_ID_PATTERN,
  type LoadMasterKeyringOptions,
  type LoadedMasterKeyring,
  type MasterKeyring,
} from './keyring.js';
export {
  createDecryptStream,
  createEncryptStream,
  decryptFile,
  encryptFile,
  isEncrypted,
  isEncryptedFile,
  readEncryptedFileHeader,
  rewrapFile,
  DEFAULT_CHUNK_BYTES,
  ENCRYPTED_FILE_MAGIC,
  MAX_CHUNK_BYTES,
  MIN_CHUNK_BYTES,
  type AtomicWriteOptions,
  type DecryptStreamOptions,
  type EncryptedFileInfo,
  type EncryptStreamOptions,
  type FileCryptResult,
  type RewrapResult,
} from './file.js';
export {
  createValueOpener,
  createValueSealer,
  isSealedValue,
  openValue,
  sealValue,
  DEFAULT_VALUES_PER_DATA_KEY,
  MAX_VALUES_PER_DATA_KEY,
  SEALED_VALUE_PREFIX,
  type SealOptions,
  type ValueOpener,
  type ValueOpenerOptions,
  type ValueSealer,
  type ValueSealerOptions,
} from './value.js';
