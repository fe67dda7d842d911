/**
 * The registry service contract. Implemented by `createRegistry` (src/registry/registry.ts) over a
 * RegistryStore and a BlobStore; used by the control API, serving and the CLI-facing routes.
 */
import type { BlobVerification } from './ports.js';
import type { Actor, Alias, AliasEvent, Endpoint, EndpointEvent, EndpointTarget, Model, ModelVersion, VersionSignature } from './types.js';

export interface PushVersionInput {
  readonly model: string;
  /** Path of a file holding the uploaded bytes (the control API streams uploads to disk first). */
  readonly artifactPath: string;
  readonly description?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly parentVersion?: number;
  readonly dataDigest?: string;
  readonly metrics?: Readonly<Record<string, number>>;
  /** Description and owner used when this push creates the model. */
  readonly modelDescription?: string;
  /**
   * A detached signature of the uploaded bytes (`slipway models push --signature`): its digest must
   * be the upload's, its model (when set) the one pushed to, and when its key is trusted it must
   * verify. Stored with the version; identical bytes pushed again get it attached.
   */
  readonly artifactSignature?: VersionSignature;
}

export interface PushVersionResult {
  readonly version: ModelVersion;
  /** false when identical bytes were already registered for this model: the existing version is returned. */
  readonly created: boolean;
}

/** An endpoint's target changed (created, re-pointed, alias moved, or deleted). */
export interface EndpointChange {
  readonly endpoint: string;
  readonly event: EndpointEvent;
}

export interface Registry {
  /**
   * Registers a new immutable version. Refuses (nothing written) a file that is not ONNX, one that
   * onnxruntime cannot load, one with non-tensor inputs or outputs, or an invalid name. Identical
   * bytes for the same model return the existing version with `created: false`.
   */
  pushVersion(input: PushVersionInput, actor: Actor): Promise<PushVersionResult>;
  listModels(): Promise<Model[]>;
  getModel(name: string): Promise<Model>;
  listVersions(model: string): Promise<ModelVersion[]>;
  getVersion(model: string, version: number): Promise<ModelVersion>;
  /** Absolute path of the version's artifact in the blob store. */
  artifactPath(model: string, version: number): Promise<string>;
  /**
   * Re-hashes the version's artifact in the blob store: `ok` when its bytes still hash to the
   * version's digest; a missing blob gives `actualDigest` null. Rejects when the blob exists but
   * cannot be read back (a stored form that no longer decrypts, say), and for an unknown version.
   */
  verifyArtifact(model: string, version: number): Promise<BlobVerification>;
  /**
   * Attaches a detached signature to a version pushed earlier (replacing one it had). Refuses with
   * REGISTRY_SIGNATURE_MISMATCH, naming the field, a signature for other bytes or another model,
   * or one a trusted key made that does not verify.
   */
  attachSignature(model: string, version: number, signature: VersionSignature, actor: Actor): Promise<ModelVersion>;

  setAlias(model: string, alias: string, version: number, actor: Actor): Promise<Alias>;
  deleteAlias(model: string, alias: string, actor: Actor): Promise<void>;
  getAlias(model: string, alias: string): Promise<Alias>;
  listAliases(model: string): Promise<Alias[]>;
  aliasHistory(model: string, alias: string): Promise<AliasEvent[]>;
  /** The version the alias pointed to at `at` (ISO time), or null if it did not exist then. */
  aliasAt(model: string, alias: string, at: string): Promise<number | null>;

  createEndpoint(name: string, target: EndpointTarget, actor: Actor & { description?: string }): Promise<Endpoint>;
  /** Points an existing endpoint at a new target; a no-op (no history entry) when nothing changes. */
  updateEndpoint(name: string, target: EndpointTarget, actor: Actor): Promise<Endpoint>;
  deleteEndpoint(name: string, actor: Actor): Promise<void>;
  getEndpoint(name: string): Promise<Endpoint>;
  listEndpoints(): Promise<Endpoint[]>;
  endpointHistory(name: string): Promise<EndpointEvent[]>;

  /** Subscribes to endpoint target changes; returns the unsubscribe function. */
  onEndpointChange(listener: (change: EndpointChange) => void): () => void;
}
