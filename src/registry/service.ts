/**
 * The registry service contract. Implemented by `createRegistry` (src/registry/registry.ts) over a
 * RegistryStore and a BlobStore; used by the control API, serving and the CLI-facing routes.
 */
import type { Actor, Alias, AliasEvent, Endpoint, EndpointEvent, EndpointTarget, Model, ModelVersion } from './types.js';

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
