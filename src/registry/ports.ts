/**
 * The ports the registry needs from outside: a transactional store for its records, a
 * content-addressed blob store for artifacts, and an inspector that reads an artifact's facts.
 * Adapters live in src/storage (memory, SQLite, file system) and src/app (the inspector); every
 * RegistryStore adapter passes the contract suite in test/unit/storage/registry-store.contract.ts.
 */
import type { ModelSignature } from '../core/index.js';
import type {
  Alias,
  AliasEvent,
  Endpoint,
  EndpointEvent,
  EndpointTarget,
  Model,
  ModelVersion,
  OnnxFacts,
  VersionSignature,
} from './types.js';

// ─── RegistryStore ──────────────────────────────────────────────────────────────────────────────

/** A model to create. */
export interface NewModel {
  readonly name: string;
  readonly description: string;
  readonly owner: string;
  readonly createdAt: string;
  readonly createdBy: string;
}

/** A version to insert; the store assigns its number. */
export interface NewVersion extends Omit<ModelVersion, 'version'> {
  /**
   * Creates the model in the same transaction when it does not exist yet. Without it, inserting a
   * version of an unknown model throws REGISTRY_MODEL_NOT_FOUND.
   */
  readonly createModel?: Omit<NewModel, 'name'>;
}

export interface InsertVersionResult {
  readonly version: ModelVersion;
  /** false when the model already had a version with this digest; that version is returned. */
  readonly created: boolean;
}

/** Who made a change, when, and why; recorded on the history entry the change appends. */
export interface ChangeStamp {
  /** ISO-8601 UTC as `Date#toISOString()` writes it; stores may order and compare these as strings. */
  readonly at: string;
  readonly by: string;
  readonly reason: string;
}

export interface SetAliasInput extends ChangeStamp {
  readonly model: string;
  readonly alias: string;
  readonly version: number;
  /**
   * The reason recorded on the EndpointEvent of every endpoint that follows this alias when it
   * moves from `from` to `to`. A pure function; the store calls it inside its transaction.
   */
  readonly followerReason: (from: number, to: number) => string;
}

export interface SetAliasResult {
  readonly alias: Alias;
  /** null when the alias already pointed at this version: nothing was written. */
  readonly event: AliasEvent | null;
  /** One event per endpoint that followed the alias and moved with it, ordered by endpoint name. */
  readonly endpointEvents: readonly EndpointEvent[];
}

export interface DeleteAliasInput extends ChangeStamp {
  readonly model: string;
  readonly alias: string;
}

export interface CreateEndpointInput extends ChangeStamp {
  readonly name: string;
  readonly description: string;
  readonly target: EndpointTarget;
}

export interface UpdateEndpointInput extends ChangeStamp {
  readonly name: string;
  readonly target: EndpointTarget;
}

export interface EndpointWriteResult {
  readonly endpoint: Endpoint;
  /** null when an update changed nothing (same target, same resolved version): nothing was written. */
  readonly event: EndpointEvent | null;
}

export interface DeleteEndpointInput extends ChangeStamp {
  readonly name: string;
}

/**
 * The registry's records. Contract, shared by every adapter:
 *
 * - **Atomic.** Every mutating method is one transaction: it either applies all of its writes
 *   (the record and the history event it appends, and for an alias move every follower endpoint
 *   and its event) or none, whether it throws or the process dies. A resolved promise means the
 *   change is committed (durable for durable adapters).
 * - **Serialised.** Mutations behave as if run one at a time, even when called concurrently or
 *   from several processes sharing one database: version numbers come out 1, 2, 3 … per model with
 *   no gap and no duplicate, and preconditions are checked inside the transaction.
 * - **Refusals** are PlatformErrors from RegistryErrors, identical across adapters: unknown model
 *   (REGISTRY_MODEL_NOT_FOUND), version (REGISTRY_VERSION_NOT_FOUND), parent (REGISTRY_PARENT_NOT_FOUND),
 *   alias (REGISTRY_ALIAS_NOT_FOUND), endpoint (REGISTRY_ENDPOINT_NOT_FOUND); duplicates
 *   (REGISTRY_MODEL_EXISTS, REGISTRY_ENDPOINT_EXISTS); a followed alias (REGISTRY_ALIAS_IN_USE).
 *   The store does not validate names or field formats: the registry service does that first.
 * - **History is append-only.** Events are never changed or removed, not even when their alias or
 *   endpoint is deleted; a name re-created later continues the same history. `seq` increases
 *   strictly across all events of a kind in the store, so within one history a higher seq is later.
 * - **Ordering.** Lists are sorted: models, endpoints and aliases by name, versions by number,
 *   histories by seq (oldest first).
 * - **Reads** return `undefined` for a missing record and never throw for it. Returned objects are
 *   snapshots: mutating them (they are readonly by type) never changes the store.
 * - **Idempotency.** Inserting a digest the model already has, setting an alias to the version it
 *   already points to, or updating an endpoint to its current target and version writes nothing and
 *   reports so (`created: false`, `event: null`). Other mutations are not idempotent: creating twice
 *   is refused, deleting twice is refused with not-found.
 */
export interface RegistryStore {
  /** Creates a model with no versions; REGISTRY_MODEL_EXISTS if the name is taken. */
  createModel(model: NewModel): Promise<Model>;
  getModel(name: string): Promise<Model | undefined>;
  listModels(): Promise<Model[]>;

  /**
   * Inserts a version numbered one above the model's highest, or returns the model's existing
   * version with the same digest (`created: false`). Checks `lineage.parentVersion` inside the
   * transaction (REGISTRY_PARENT_NOT_FOUND) and creates the model first if asked.
   */
  insertVersion(version: NewVersion): Promise<InsertVersionResult>;
  getVersion(model: string, version: number): Promise<ModelVersion | undefined>;
  /** Every version of the model, by number; empty for an unknown model. */
  listVersions(model: string): Promise<ModelVersion[]>;
  findVersionByDigest(model: string, digest: string): Promise<ModelVersion | undefined>;
  /**
   * Attaches an artifact signature to an existing version, replacing the one it had, and returns
   * the version with it. The only change a version ever takes: its bytes, digest and facts stay as
   * they were. Refuses an unknown model (REGISTRY_MODEL_NOT_FOUND) or version
   * (REGISTRY_VERSION_NOT_FOUND). The store does not check the signature: the registry does.
   */
  setVersionSignature(model: string, version: number, signature: VersionSignature): Promise<ModelVersion>;

  /**
   * Creates or moves an alias to an existing version and appends an AliasEvent; every endpoint
   * following the alias moves to the new version with its own EndpointEvent, in the same
   * transaction. A no-op when the alias already points there.
   */
  setAlias(input: SetAliasInput): Promise<SetAliasResult>;
  /**
   * Deletes an alias and appends an AliasEvent with `to: null`. Refuses with REGISTRY_ALIAS_IN_USE,
   * naming them, while endpoints follow it.
   */
  deleteAlias(input: DeleteAliasInput): Promise<AliasEvent>;
  getAlias(model: string, alias: string): Promise<Alias | undefined>;
  listAliases(model: string): Promise<Alias[]>;
  /** Every event of this alias name, including those before a delete and re-create. */
  aliasHistory(model: string, alias: string): Promise<AliasEvent[]>;
  /**
   * The version the alias pointed to at `at` (same string form as ChangeStamp.at): the `to` of the
   * latest event (highest seq) of this alias with `event.at <= at`, or null when there is none or
   * that event deleted it.
   */
  aliasAt(model: string, alias: string, at: string): Promise<number | null>;

  /**
   * Creates an endpoint, resolving its target inside the transaction (a version must exist, an
   * alias must exist and gives the version), and appends an EndpointEvent with `from: null`.
   */
  createEndpoint(input: CreateEndpointInput): Promise<EndpointWriteResult>;
  /** Re-points an endpoint (target resolved as for create); a no-op when target and version are unchanged. */
  updateEndpoint(input: UpdateEndpointInput): Promise<EndpointWriteResult>;
  /** Deletes an endpoint and appends an EndpointEvent with `to: null`. */
  deleteEndpoint(input: DeleteEndpointInput): Promise<EndpointEvent>;
  getEndpoint(name: string): Promise<Endpoint | undefined>;
  listEndpoints(): Promise<Endpoint[]>;
  /** Every event of this endpoint name, including those before a delete and re-create. */
  endpointHistory(name: string): Promise<EndpointEvent[]>;
  /** The endpoints whose target is `{ kind: 'alias', model, alias }`, by name. */
  listEndpointsFollowing(model: string, alias: string): Promise<Endpoint[]>;
}

// ─── BlobStore ──────────────────────────────────────────────────────────────────────────────────

/** A stored artifact. */
export interface BlobRef {
  /** `sha256:<64 lowercase hex>` of the bytes. */
  readonly digest: string;
  readonly sizeBytes: number;
  /** Absolute path of the stored file. Read it; never write it. */
  readonly path: string;
}

/**
 * Bytes copied into the blob store's staging area and hashed, not yet visible under their digest.
 * The staged copy is what gets committed, so it can be inspected first without a race against
 * changes to the source file. Exactly one of commit or discard must be called.
 */
export interface StagedBlob {
  readonly digest: string;
  readonly sizeBytes: number;
  /** Path of the staged copy (read-only use), valid until commit or discard. */
  readonly path: string;
  /** Makes the bytes durable under their digest (a no-op if identical bytes are stored already). */
  commit(): Promise<BlobRef>;
  /** Removes the staged copy. Idempotent, never throws. */
  discard(): Promise<void>;
}

/** The outcome of re-hashing a stored blob. */
export interface BlobVerification {
  readonly digest: string;
  /** True when the file exists and hashes to its digest. */
  readonly ok: boolean;
  /** The digest the file hashes to now, or null when the file is missing. */
  readonly actualDigest: string | null;
}

/**
 * Content-addressed artifact storage. Contract:
 *
 * - Blobs are immutable and addressed by the SHA-256 of their bytes; identical content is stored
 *   once. Blobs are never deleted by the registry (versions are immutable).
 * - Writes are atomic and durable: a blob becomes visible under its digest only once its bytes are
 *   complete and flushed; a crash leaves either no blob or the whole blob (a staged copy may be left
 *   in the staging area, which the data directory clears on open).
 * - The source file passed to {@link BlobStore.stage} or {@link BlobStore.putFile} is only read,
 *   never moved or changed; it still belongs to the caller.
 * - A digest that is not `sha256:<64 lowercase hex>` is refused with STORAGE_INVALID_DIGEST.
 */
export interface BlobStore {
  /** Copies a file into the staging area while hashing it. */
  stage(sourcePath: string): Promise<StagedBlob>;
  /** Stages and commits in one call. */
  putFile(sourcePath: string): Promise<BlobRef>;
  /**
   * Where the blob with this digest lives (whether or not it exists). With encryption at rest the
   * file holds the `SLWENC01` ciphertext, not the model: read models through the runtime's artifact
   * reader (FileBlobStore.readArtifact), never by handing this path to a parser.
   */
  path(digest: string): string;
  has(digest: string): Promise<boolean>;
  /**
   * Re-hashes the stored file, to detect tampering or disk corruption. A blob stored encrypted
   * (encryption at rest) is decrypted as it is hashed, so the digest compared is still the
   * plaintext's; one that cannot be decrypted (its master key missing from the keyring or
   * different, no keyring at all, the file damaged) rejects with that SECURITY_ENCRYPTION_* error
   * rather than resolve.
   */
  verify(digest: string): Promise<BlobVerification>;
}

// ─── SignatureVerifier ──────────────────────────────────────────────────────────────────────────

/** What a check of an artifact signature against the trusted keys found. */
export type SignatureCheck =
  /** Signed by a trusted key, and the signature holds for the digest, model and metadata. */
  | { readonly status: 'verified'; readonly keyId: string }
  /** Signed by a key that is not trusted here: it cannot be checked (nor relied on). */
  | { readonly status: 'untrusted'; readonly keyId: string; readonly message: string }
  /** The record is malformed, or a trusted key's signature does not hold: altered or forged. */
  | { readonly status: 'invalid'; readonly keyId: string | null; readonly message: string };

/**
 * Checks artifact signatures against the keys the server trusts. Implemented by the security
 * domain (src/security/signing); the registry refuses a signature whose check is `invalid`.
 */
export interface SignatureVerifier {
  check(signature: VersionSignature): SignatureCheck;
}

// ─── ArtifactInspector ──────────────────────────────────────────────────────────────────────────

export interface ArtifactInspection {
  readonly signature: ModelSignature;
  readonly onnx: OnnxFacts;
}

/**
 * Reads an artifact's signature and ONNX facts and checks the runtime can load it. Implemented by
 * the app from the ONNX toolkit and the runtime's probe. Rejects with the toolkit's or runtime's
 * PlatformError (ONNX_*, RUNTIME_*) for a file that is not ONNX, has non-tensor inputs or outputs,
 * or cannot be loaded; the registry passes these through unchanged. Must not modify the file.
 */
export interface ArtifactInspector {
  inspect(path: string): Promise<ArtifactInspection>;
}
