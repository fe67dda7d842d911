/**
 * Wire shapes of the control API under /api/v1: what each route answers. The routes build them and
 * the typed client returns them unchanged, so `slipway … --json` prints exactly what the API sent.
 */
import type { PushVersionInput } from '../registry/index.js';
import type { Alias, AliasEvent, Endpoint, EndpointEvent, Model, ModelVersion } from '../registry/index.js';
import type { TrafficFigures } from '../serving/dataplane.js';
import type { TrafficPolicy } from '../serving/routing/index.js';
import type { EndpointAutoscaling } from '../serving/deployments.js';
import type { EndpointDeployment, EndpointScaling } from '../serving/types.js';
import type { ApplyOutcome, RollbackOutcome, RolloutStatus } from '../rollout/controller/index.js';
import type { Rollout, RolloutEvent } from '../rollout/state/index.js';

/** GET /models */
export interface ModelsListResponse {
  readonly models: readonly Model[];
}

/** GET /models/:model */
export interface ModelDetailResponse {
  readonly model: Model;
  readonly versions: readonly ModelVersion[];
  readonly aliases: readonly Alias[];
}

/**
 * A version's artifact signature as the API shows it: which key signed and when, and whether it
 * verifies against the server's trusted keys now (false for a key the server does not trust).
 */
export interface ArtifactSignatureView {
  readonly keyId: string;
  readonly signedAt: string;
  readonly verified: boolean;
}

/** POST /models/:model/versions (201 when created, 200 when the bytes were already registered). */
export interface PushVersionResponse {
  readonly version: ModelVersion;
  readonly created: boolean;
  /** The artifact signature (sent with this push or attached earlier); null when unsigned. */
  readonly signature: ArtifactSignatureView | null;
}

/** GET /models/:model/versions */
export interface VersionsListResponse {
  readonly versions: readonly ModelVersion[];
}

/** GET /models/:model/versions/:version, and POST …/signature (the version with its new signature). */
export interface VersionResponse {
  readonly version: ModelVersion;
  /** The artifact signature; null when the version is unsigned. */
  readonly signature: ArtifactSignatureView | null;
}

/** GET /models/:model/aliases */
export interface AliasesListResponse {
  readonly aliases: readonly Alias[];
}

/** GET and PUT /models/:model/aliases/:alias */
export interface AliasResponse {
  readonly alias: Alias;
}

/** DELETE /models/:model/aliases/:alias: the alias as it was just before deletion. */
export interface AliasDeletedResponse {
  readonly alias: Alias;
  readonly deleted: true;
}

/** GET /models/:model/aliases/:alias?at=ISO: the version the alias pointed to then (null: it did not exist). */
export interface AliasAtResponse {
  readonly model: string;
  readonly alias: string;
  /** The time asked about, normalised to ISO-8601 UTC. */
  readonly at: string;
  readonly version: number | null;
}

/** GET /models/:model/aliases/:alias/history, oldest first. */
export interface AliasHistoryResponse {
  readonly history: readonly AliasEvent[];
}

/** An endpoint as the API shows it: the registry record plus the data plane's live view (null: nothing deployed). */
export type EndpointView = Endpoint & { readonly deployment: EndpointDeployment | null };

/** GET /endpoints */
export interface EndpointsListResponse {
  readonly endpoints: readonly EndpointView[];
}

/** POST /endpoints (201), GET and PUT /endpoints/:name */
export interface EndpointResponse {
  readonly endpoint: EndpointView;
}

/** DELETE /endpoints/:name: the endpoint as it was just before deletion. */
export interface EndpointDeletedResponse {
  readonly endpoint: Endpoint;
  readonly deleted: true;
}

/** POST /apply: what each document did, or with `?dryRun=true` the documents that would be applied. */
export type ApplyResponse =
  | { readonly dryRun: false; readonly results: readonly ApplyOutcome[] }
  | { readonly dryRun: true; readonly endpoints: readonly { readonly endpoint: string; readonly model: string; readonly strategy: string | null }[] };

/** GET /endpoints/{name}/rollout */
export interface RolloutStatusResponse {
  readonly status: RolloutStatus;
}

/** GET /endpoints/{name}/rollouts */
export interface RolloutsListResponse {
  readonly rollouts: readonly Rollout[];
}

/** POST /endpoints/{name}/rollout/{verb}, GET /rollouts/{id} */
export interface RolloutResponse {
  readonly rollout: Rollout;
}

/** GET /rollouts/{id}/events */
export interface RolloutEventsResponse {
  readonly events: readonly RolloutEvent[];
}

/** POST /endpoints/{name}/rollback */
export interface RollbackResponse {
  readonly rollback: RollbackOutcome;
}

/** An endpoint's traffic policy and the per-variant figures since they were last reset. */
export interface EndpointTrafficResponse {
  readonly traffic: TrafficPolicy | null;
  readonly figures: TrafficFigures | null;
}

/** GET /api/v1/endpoints/{name}/scaling: null when autoscaling is off or nothing is deployed yet. */
export interface EndpointScalingResponse {
  readonly scaling: EndpointScaling | null;
  /** The endpoint's autoscaler options: its overrides and what applies; null when autoscaling is off. */
  readonly settings: EndpointAutoscaling | null;
}

/** GET /endpoints/:name/history, oldest first. */
export interface EndpointHistoryResponse {
  readonly history: readonly EndpointEvent[];
}

/** Body of POST /endpoints. Give `version` or `alias` (neither: the model's latest version, pinned). */
export interface CreateEndpointBody {
  readonly name: string;
  readonly model: string;
  readonly version?: number;
  readonly alias?: string;
  readonly description?: string;
  readonly reason?: string;
}

/** Body of PUT /endpoints/:name. Give `version` or `alias` (neither: the model's latest version, pinned). */
export interface UpdateEndpointBody {
  readonly model: string;
  readonly version?: number;
  readonly alias?: string;
  readonly reason?: string;
}

/** Body of PUT /models/:model/aliases/:alias. */
export interface SetAliasBody {
  readonly version: number;
  readonly reason?: string;
}

/** Metadata of an upload: query parameters / X-Slipway-* headers (raw body) or multipart fields. */
export type UploadMetadata = Omit<PushVersionInput, 'model' | 'artifactPath'>;

/** One input tensor of an Open Inference Protocol request with JSON data. */
export interface InferenceInputBody {
  readonly name: string;
  readonly shape: readonly number[];
  readonly datatype: string;
  readonly data: readonly unknown[];
  readonly parameters?: Readonly<Record<string, string | number | boolean>>;
}

/** An Open Inference Protocol inference request body (POST /v2/models/{name}/infer). */
export interface InferenceRequestBody {
  readonly id?: string;
  readonly parameters?: Readonly<Record<string, string | number | boolean>>;
  readonly inputs: readonly InferenceInputBody[];
  readonly outputs?: readonly { readonly name: string; readonly parameters?: Readonly<Record<string, string | number | boolean>> }[];
}
