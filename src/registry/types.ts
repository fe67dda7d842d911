/**
 * The registry's vocabulary: models, immutable versions, aliases with history, and endpoints with
 * history. Times are ISO-8601 strings in UTC; `by` is the principal that made the change
 * (`key:<name>`, `jwt:<subject>`, or `anonymous` with authentication switched off).
 */
import type { ModelSignature } from '../core/index.js';

export interface Model {
  readonly name: string;
  readonly description: string;
  readonly owner: string;
  readonly createdAt: string;
  readonly createdBy: string;
  /** Highest version number registered so far (0 when none). */
  readonly latestVersion: number;
}

/** Facts read from the ONNX file at registration. */
export interface OnnxFacts {
  readonly irVersion: number;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly opsets: readonly { readonly domain: string; readonly version: number }[];
  readonly nodeCount: number;
  readonly initializerCount: number;
  readonly initializerBytes: number;
}

export interface Lineage {
  /** The version this one was derived from (fine-tuned, quantized, pruned…), if any. */
  readonly parentVersion?: number;
  /** Digest of the training data, as the trainer reports it (e.g. `sha256:…`). */
  readonly dataDigest?: string;
  /** Free-form figures the trainer reports (accuracy, rmse, …). */
  readonly metrics?: Readonly<Record<string, number>>;
}

/** An immutable registered version of a model. */
export interface ModelVersion {
  readonly model: string;
  readonly version: number;
  /** `sha256:<64 hex>` of the artifact bytes; the blob's address. */
  readonly digest: string;
  readonly sizeBytes: number;
  readonly signature: ModelSignature;
  readonly onnx: OnnxFacts;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly lineage: Lineage;
  readonly createdAt: string;
  readonly createdBy: string;
  /** The detached signature of the artifact, when one was pushed with it or attached later; absent when unsigned. */
  readonly artifactSignature?: VersionSignature;
}

/**
 * A detached Ed25519 signature of a version's artifact, as its signer wrote it (`slipway models
 * sign`): what was signed (the digest, and the model name and metadata when given) and the
 * signature record. The server keeps it with the version and checks it against its trusted keys
 * at every load (docs/security.md#signed-artifacts).
 */
export interface VersionSignature {
  /** `sha256:<64 hex>` of the signed bytes: always the version's own digest. */
  readonly digest: string;
  /** The model name, when the signer bound the signature to one. */
  readonly model?: string;
  /** Free-form facts the signer vouched for, when given. */
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly algorithm: 'ed25519';
  /** `ed25519:` and 16 hex digits: which key signed. */
  readonly keyId: string;
  /** ISO-8601 time of signing. */
  readonly signedAt: string;
  /** The 64-byte Ed25519 signature in base64. */
  readonly signature: string;
}

export interface Alias {
  readonly model: string;
  readonly alias: string;
  readonly version: number;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

/** One move of an alias, kept forever. `from`/`to` are null when the alias is created/deleted. */
export interface AliasEvent {
  readonly seq: number;
  readonly model: string;
  readonly alias: string;
  readonly from: number | null;
  readonly to: number | null;
  readonly at: string;
  readonly by: string;
  readonly reason: string;
}

/** What an endpoint serves: a pinned version, or whatever an alias points to. */
export type EndpointTarget =
  | { readonly kind: 'version'; readonly model: string; readonly version: number }
  | { readonly kind: 'alias'; readonly model: string; readonly alias: string };

export interface Endpoint {
  readonly name: string;
  readonly description: string;
  readonly target: EndpointTarget;
  /** The version the target resolves to now. */
  readonly model: string;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** One change of an endpoint's target, kept forever; rollback reads it. */
export interface EndpointEvent {
  readonly seq: number;
  readonly endpoint: string;
  /** null when the endpoint was created. */
  readonly from: { readonly target: EndpointTarget; readonly model: string; readonly version: number } | null;
  /** null when the endpoint was deleted. */
  readonly to: { readonly target: EndpointTarget; readonly model: string; readonly version: number } | null;
  readonly at: string;
  readonly by: string;
  readonly reason: string;
}

/** Who is acting and why: recorded in every history entry. */
export interface Actor {
  readonly by: string;
  readonly reason?: string;
}
