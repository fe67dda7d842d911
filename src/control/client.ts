/**
 * The typed client of Slipway's HTTP API: one method per control route (/api/v1), plus the two
 * Open Inference Protocol calls the CLI needs (model metadata and infer). It uses the global
 * fetch, streams uploads from disk, and turns every failure into a PlatformError: the server's
 * `{error, code}` bodies come back with their code, and a server that cannot be reached is
 * CONTROL_CLIENT_UNREACHABLE.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { completeLines, decodeUtf8, PlatformError, type ErrorKind } from '../core/index.js';
import type { VersionSignature } from '../registry/index.js';
import type { OipInferenceResponse, OipModelMetadata } from '../serving/index.js';
import { ControlErrors } from './errors.js';
import type {
  ApplyResponse,
  RollbackResponse,
  RolloutEventsResponse,
  RolloutResponse,
  RolloutsListResponse,
  RolloutStatusResponse,
  AliasAtResponse,
  AliasDeletedResponse,
  AliasesListResponse,
  AliasHistoryResponse,
  AliasResponse,
  CreateEndpointBody,
  EndpointDeletedResponse,
  EndpointHistoryResponse,
  EndpointScalingResponse,
  EndpointTrafficResponse,
  EndpointResponse,
  EndpointsListResponse,
  InferenceRequestBody,
  ModelDetailResponse,
  ModelsListResponse,
  PushVersionResponse,
  UpdateEndpointBody,
  UploadMetadata,
  VersionResponse,
  VersionsListResponse,
} from './types.js';

export interface ControlClientOptions {
  /** The server's base address, e.g. `http://127.0.0.1:8080` (a path prefix is kept). */
  readonly baseUrl: string;
  /** Sent as `Authorization: Bearer <key>` when set. */
  readonly apiKey?: string;
  /** The fetch to use; default the global one (Node ≥ 20). */
  readonly fetch?: typeof fetch;
}

/** Called while an upload is sent: bytes read from the file so far, and the file's size. */
export type UploadProgress = (sentBytes: number, totalBytes: number) => void;

/** The typed client; see {@link createControlClient}. Each method resolves to its route's response body. */
export interface ControlClient {
  /** The normalised base address (no trailing slash). */
  readonly baseUrl: string;
  listModels(): Promise<ModelsListResponse>;
  getModel(model: string): Promise<ModelDetailResponse>;
  /** Streams the file at `filePath` as a new version of `model` (the model is created on first push). */
  pushVersion(model: string, filePath: string, meta?: UploadMetadata, onProgress?: UploadProgress): Promise<PushVersionResponse>;
  listVersions(model: string): Promise<VersionsListResponse>;
  getVersion(model: string, version: number): Promise<VersionResponse>;
  /** POST /api/v1/models/{model}/versions/{version}/signature: attaches a signature file's content to a version pushed earlier. */
  attachSignature(model: string, version: number, signature: VersionSignature): Promise<VersionResponse>;
  listAliases(model: string): Promise<AliasesListResponse>;
  getAlias(model: string, alias: string): Promise<AliasResponse>;
  /** Which version the alias pointed to at `at` (ISO-8601); `version` is null if it did not exist then. */
  aliasAt(model: string, alias: string, at: string): Promise<AliasAtResponse>;
  setAlias(model: string, alias: string, version: number, reason?: string): Promise<AliasResponse>;
  deleteAlias(model: string, alias: string, reason?: string): Promise<AliasDeletedResponse>;
  aliasHistory(model: string, alias: string): Promise<AliasHistoryResponse>;
  listEndpoints(): Promise<EndpointsListResponse>;
  createEndpoint(body: CreateEndpointBody): Promise<EndpointResponse>;
  getEndpoint(name: string): Promise<EndpointResponse>;
  updateEndpoint(name: string, body: UpdateEndpointBody): Promise<EndpointResponse>;
  deleteEndpoint(name: string, reason?: string): Promise<EndpointDeletedResponse>;
  endpointHistory(name: string): Promise<EndpointHistoryResponse>;
  /** The endpoint's autoscaler state and recent decisions (null when autoscaling is off). */
  endpointScaling(name: string): Promise<EndpointScalingResponse>;
  /** PUT /api/v1/endpoints/{name}/scaling (the endpoint's autoscaler options), or DELETE with undefined to reset them to the server's. */
  setEndpointScaling(name: string, body: Record<string, unknown> | undefined): Promise<EndpointScalingResponse>;
  /** GET /api/v1/endpoints/{name}/traffic: the traffic policy and per-variant figures. */
  endpointTraffic(name: string): Promise<EndpointTrafficResponse>;
  /** PUT /api/v1/endpoints/{name}/traffic (a policy body), or DELETE with undefined to clear it. */
  setEndpointTraffic(name: string, body: Record<string, unknown> | undefined): Promise<EndpointTrafficResponse>;
  /** POST /api/v1/apply: endpoint spec documents (as parsed from YAML); `dryRun` checks them on the server without applying. */
  apply(documents: readonly unknown[], options?: { readonly dryRun?: boolean }): Promise<ApplyResponse>;
  /** GET /api/v1/endpoints/{name}/rollout: strategy, stable version, latest rollout, observed figures. */
  rolloutStatus(endpoint: string): Promise<RolloutStatusResponse>;
  /** GET /api/v1/endpoints/{name}/rollouts: the endpoint's rollouts, newest first. */
  listRollouts(endpoint: string, limit?: number): Promise<RolloutsListResponse>;
  /** POST /api/v1/endpoints/{name}/rollout/{verb}. */
  rolloutVerb(endpoint: string, verb: 'pause' | 'resume' | 'promote' | 'abort' | 'retry', body?: { readonly message?: string; readonly full?: boolean; readonly variant?: string }): Promise<RolloutResponse>;
  /** POST /api/v1/endpoints/{name}/rollback. */
  rollback(endpoint: string, body?: { readonly toVersion?: number; readonly message?: string }): Promise<RollbackResponse>;
  /** GET /api/v1/rollouts/{id}/events. */
  rolloutEvents(id: string, options?: { readonly afterSeq?: number; readonly limit?: number }): Promise<RolloutEventsResponse>;
  /** GET /v2/models/{endpoint}[/versions/{version}]: the Open Inference Protocol model metadata. */
  modelMetadata(endpoint: string, version?: number): Promise<OipModelMetadata>;
  /** POST /v2/models/{endpoint}[/versions/{version}]/infer. */
  infer(endpoint: string, request: InferenceRequestBody, version?: number): Promise<OipInferenceResponse>;
}

/** HTTP statuses back to error kinds (the inverse of src/core/http.ts). */
const KIND_BY_STATUS: Readonly<Record<number, ErrorKind>> = {
  400: 'invalid',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'too_large',
  429: 'limited',
  503: 'unavailable',
  504: 'timeout',
  500: 'internal',
};

function kindForStatus(status: number): ErrorKind {
  return KIND_BY_STATUS[status] ?? (status >= 500 ? 'internal' : 'invalid');
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'EADDRNOTAVAIL']);

/** The code of the innermost cause of a fetch failure (undici nests them). */
function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const errors = (current as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) current = errors[0] as unknown;
    else current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function normaliseBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw ControlErrors.CONTROL_CLIENT_INVALID_URL(`server address ${JSON.stringify(raw)} is not a URL; expected e.g. http://127.0.0.1:8080`, {
      details: { baseUrl: raw },
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw ControlErrors.CONTROL_CLIENT_INVALID_URL(`server address ${JSON.stringify(raw)} must start with http:// or https://`, { details: { baseUrl: raw } });
  }
  return url.href.replace(/\/+$/, '');
}

/** Encodes a path segment (names are DNS labels, but a bad one must reach the server intact to be refused clearly). */
const seg = (value: string | number): string => encodeURIComponent(String(value));

function query(params: Record<string, string | readonly string[] | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    for (const v of typeof value === 'string' ? [value] : value) search.append(key, v);
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/** The query string carrying an upload's metadata. */
function uploadQuery(meta: UploadMetadata): string {
  return query({
    description: meta.description,
    tag: meta.tags === undefined ? undefined : Object.entries(meta.tags).map(([k, v]) => `${k}=${v}`),
    parent: meta.parentVersion === undefined ? undefined : String(meta.parentVersion),
    dataDigest: meta.dataDigest,
    metrics: meta.metrics === undefined ? undefined : JSON.stringify(meta.metrics),
    modelDescription: meta.modelDescription,
    signature: meta.artifactSignature === undefined ? undefined : JSON.stringify(meta.artifactSignature),
  });
}

/** The size of a file about to be uploaded; CONTROL_CLIENT_FILE_* when it is missing, not a file, or unreadable. */
export async function fileSize(filePath: string): Promise<number> {
  try {
    const s = await stat(filePath);
    if (!s.isFile()) {
      throw ControlErrors.CONTROL_CLIENT_FILE_UNREADABLE(`cannot read ${filePath}: it is not a regular file`, { details: { path: filePath } });
    }
    return s.size;
  } catch (error) {
    if (error instanceof PlatformError) throw error;
    const code = causeCode(error);
    if (code === 'ENOENT') throw ControlErrors.CONTROL_CLIENT_FILE_NOT_FOUND(`cannot upload ${filePath}: no such file`, { details: { path: filePath } });
    throw ControlErrors.CONTROL_CLIENT_FILE_UNREADABLE(`cannot read ${filePath}: ${(error as Error).message}`, { details: { path: filePath }, cause: error });
  }
}

/** A web ReadableStream over a file, reporting progress as chunks are handed to fetch. */
export function fileBody(filePath: string, total: number, onProgress?: UploadProgress): { body: ReadableStream<Uint8Array>; close: () => void } {
  const file = createReadStream(filePath, { highWaterMark: 256 * 1024 });
  const chunks = file[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done === true) {
        controller.close();
        return;
      }
      sent += next.value.length;
      controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.length));
      onProgress?.(sent, total);
    },
    cancel() {
      file.destroy();
    },
  });
  return { body, close: () => file.destroy() };
}

/** The HTTP layer the typed clients share: the server's base URL, raw requests, and JSON calls. */
export interface HttpCaller {
  readonly baseUrl: string;
  /** Sends a request (headers include the API key); rejects with CONTROL_CLIENT_* when the server cannot be reached. */
  readonly send: (method: string, path: string, init?: { body?: RequestInit['body']; headers?: Record<string, string>; duplex?: boolean }) => Promise<Response>;
  /** Reads a JSON answer, turning the server's `{error, code}` bodies into PlatformErrors. */
  readonly decode: <T>(method: string, path: string, response: Response) => Promise<T>;
  /** `send` with an optional JSON body, then `decode`. */
  readonly call: <T>(method: string, path: string, json?: unknown) => Promise<T>;
  /** GETs a JSON-lines answer and yields its lines as they arrive (`what` names it in errors: "the payload export"). */
  readonly lines: (path: string, what: string) => AsyncGenerator<string>;
}

/**
 * The HTTP layer of Slipway's typed clients (control, monitoring): every call rejects with a
 * PlatformError — the server's own error (code and message from its `{error, code}` body, kind
 * from the status), or CONTROL_CLIENT_* when the server cannot be reached or is not Slipway.
 */
export function createHttpCaller(options: ControlClientOptions): HttpCaller {
  const baseUrl = normaliseBaseUrl(options.baseUrl);
  const doFetch = options.fetch ?? globalThis.fetch;

  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({
    accept: 'application/json',
    ...(options.apiKey === undefined || options.apiKey === '' ? {} : { authorization: `Bearer ${options.apiKey}` }),
    ...extra,
  });

  async function send(method: string, path: string, init: { body?: RequestInit['body']; headers?: Record<string, string>; duplex?: boolean } = {}): Promise<Response> {
    const requestInit: RequestInit & { duplex?: 'half' } = {
      method,
      headers: headers(init.headers),
      ...(init.body === undefined ? {} : { body: init.body }),
      ...(init.duplex === true ? { duplex: 'half' } : {}),
    };
    try {
      return await doFetch(`${baseUrl}${path}`, requestInit);
    } catch (error) {
      const code = causeCode(error);
      if (code !== undefined && UNREACHABLE_CODES.has(code)) {
        throw ControlErrors.CONTROL_CLIENT_UNREACHABLE(`cannot reach Slipway at ${baseUrl} — is \`slipway serve\` running?`, {
          details: { baseUrl, cause: code },
          cause: error,
        });
      }
      const detail = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined;
      if (detail === 'bad port') {
        throw ControlErrors.CONTROL_CLIENT_INVALID_URL(`cannot call ${baseUrl}: fetch refuses that port (reserved for other protocols); use another port`, {
          details: { baseUrl },
          cause: error,
        });
      }
      const reason = code ?? (error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error));
      throw ControlErrors.CONTROL_CLIENT_CONNECTION_LOST(`the connection to Slipway at ${baseUrl} broke before the answer arrived (${reason})`, {
        details: { baseUrl, cause: reason },
        cause: error,
      });
    }
  }

  async function decode<T>(method: string, path: string, response: Response): Promise<T> {
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw ControlErrors.CONTROL_CLIENT_CONNECTION_LOST(`the connection to Slipway at ${baseUrl} broke while reading the answer to ${method} ${path}`, {
        details: { baseUrl },
        cause: error,
      });
    }
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (response.ok) {
      if (body === undefined || typeof body !== 'object' || body === null) {
        throw ControlErrors.CONTROL_CLIENT_BAD_RESPONSE(`${method} ${baseUrl}${path} answered ${response.status} without a JSON body; is ${baseUrl} a Slipway server?`, {
          details: { status: response.status },
        });
      }
      return body as T;
    }
    const error = body as { error?: unknown; code?: unknown; details?: unknown } | undefined;
    if (typeof error?.error === 'string' && typeof error.code === 'string') {
      const retry = Number(response.headers.get('retry-after'));
      throw new PlatformError(error.code, kindForStatus(response.status), error.error, {
        ...(typeof error.details === 'object' && error.details !== null ? { details: error.details as Record<string, unknown> } : {}),
        ...(Number.isFinite(retry) && retry > 0 ? { retryAfterSeconds: retry } : {}),
      });
    }
    const excerpt = text.length > 200 ? `${text.slice(0, 200)}…` : text;
    throw ControlErrors.CONTROL_CLIENT_BAD_RESPONSE(
      `${method} ${baseUrl}${path} answered ${response.status} ${response.statusText} without a Slipway error body; is ${baseUrl} a Slipway server?${excerpt === '' ? '' : ` (body: ${excerpt})`}`,
      { details: { status: response.status } },
    );
  }

  async function call<T>(method: string, path: string, json?: unknown): Promise<T> {
    const response = await send(method, path, json === undefined ? {} : { body: JSON.stringify(json), headers: { 'content-type': 'application/json' } });
    return decode<T>(method, path, response);
  }
  async function* lines(path: string, what: string): AsyncGenerator<string> {
    const response = await send('GET', path);
    // an error answer is JSON like every other: decode turns it into the server's error
    if (!response.ok || response.body === null) {
      await decode('GET', path, response);
      return;
    }
    let rest = '';
    try {
      yield* completeLines(decodeUtf8(response.body as AsyncIterable<Uint8Array>), (r) => (rest = r));
    } catch (error) {
      throw ControlErrors.CONTROL_CLIENT_CONNECTION_LOST(`the connection to Slipway at ${baseUrl} broke during ${what}`, { details: { baseUrl }, cause: error });
    }
    // the server ends every line with a newline: anything left is an answer cut short
    if (rest !== '') throw ControlErrors.CONTROL_CLIENT_CONNECTION_LOST(`${what} from ${baseUrl} ended in the middle of a line`, { details: { baseUrl } });
  }

  return { baseUrl, send, decode, call, lines };
}

/**
 * Creates the typed client. Every method rejects with a PlatformError: the server's own error
 * (code and message from its `{error, code}` body, kind from the status), or CONTROL_CLIENT_*
 * when the server cannot be reached or answers something that is not Slipway.
 */
export function createControlClient(options: ControlClientOptions): ControlClient {
  const { baseUrl, send, decode, call } = createHttpCaller(options);

  const api = (path: string): string => `/api/v1${path}`;
  const model = (name: string): string => api(`/models/${seg(name)}`);
  const aliasPath = (m: string, a: string): string => `${model(m)}/aliases/${seg(a)}`;
  const endpointPath = (name: string): string => api(`/endpoints/${seg(name)}`);
  const oip = (endpoint: string, version: number | undefined): string =>
    `/v2/models/${seg(endpoint)}${version === undefined ? '' : `/versions/${seg(version)}`}`;

  return {
    baseUrl,
    listModels: () => call('GET', api('/models')),
    getModel: (name) => call('GET', model(name)),
    async pushVersion(name, filePath, meta = {}, onProgress) {
      const total = await fileSize(filePath);
      const path = `${model(name)}/versions${uploadQuery(meta)}`;
      const file = fileBody(filePath, total, onProgress);
      try {
        const response = await send('POST', path, {
          body: file.body,
          duplex: true,
          // a declared length lets the server refuse an oversized file before reading it
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(total) },
        });
        return await decode<PushVersionResponse>('POST', path, response);
      } finally {
        file.close();
      }
    },
    listVersions: (name) => call('GET', `${model(name)}/versions`),
    getVersion: (name, version) => call('GET', `${model(name)}/versions/${seg(version)}`),
    attachSignature: (name, version, signature) => call('POST', `${model(name)}/versions/${seg(version)}/signature`, signature),
    listAliases: (name) => call('GET', `${model(name)}/aliases`),
    getAlias: (m, a) => call('GET', aliasPath(m, a)),
    aliasAt: (m, a, at) => call('GET', `${aliasPath(m, a)}${query({ at })}`),
    setAlias: (m, a, version, reason) => call('PUT', aliasPath(m, a), { version, ...(reason === undefined ? {} : { reason }) }),
    deleteAlias: (m, a, reason) => call('DELETE', `${aliasPath(m, a)}${query({ reason })}`),
    aliasHistory: (m, a) => call('GET', `${aliasPath(m, a)}/history`),
    listEndpoints: () => call('GET', api('/endpoints')),
    createEndpoint: (body) => call('POST', api('/endpoints'), body),
    getEndpoint: (name) => call('GET', endpointPath(name)),
    updateEndpoint: (name, body) => call('PUT', endpointPath(name), body),
    deleteEndpoint: (name, reason) => call('DELETE', `${endpointPath(name)}${query({ reason })}`),
    endpointHistory: (name) => call('GET', `${endpointPath(name)}/history`),
    endpointScaling: (name) => call('GET', `${endpointPath(name)}/scaling`),
    setEndpointScaling: (name, body) => (body === undefined ? call('DELETE', `${endpointPath(name)}/scaling`) : call('PUT', `${endpointPath(name)}/scaling`, body)),
    endpointTraffic: (name) => call('GET', `${endpointPath(name)}/traffic`),
    setEndpointTraffic: (name, body) => (body === undefined ? call('DELETE', `${endpointPath(name)}/traffic`) : call('PUT', `${endpointPath(name)}/traffic`, body)),
    apply: (documents, opts) => call('POST', api(`/apply${opts?.dryRun === true ? '?dryRun=true' : ''}`), documents),
    rolloutStatus: (endpoint) => call('GET', `${endpointPath(endpoint)}/rollout`),
    listRollouts: (endpoint, limit) => call('GET', `${endpointPath(endpoint)}/rollouts${limit === undefined ? '' : `?limit=${limit}`}`),
    rolloutVerb: (endpoint, verb, body) => call('POST', `${endpointPath(endpoint)}/rollout/${verb}`, body ?? {}),
    rollback: (endpoint, body) => call('POST', `${endpointPath(endpoint)}/rollback`, body ?? {}),
    rolloutEvents: (id, opts) => {
      const query = new URLSearchParams();
      if (opts?.afterSeq !== undefined) query.set('afterSeq', String(opts.afterSeq));
      if (opts?.limit !== undefined) query.set('limit', String(opts.limit));
      const q = query.toString();
      return call('GET', api(`/rollouts/${seg(id)}/events${q === '' ? '' : `?${q}`}`));
    },
    modelMetadata: (endpoint, version) => call('GET', oip(endpoint, version)),
    infer: (endpoint, request, version) => call('POST', `${oip(endpoint, version)}/infer`, request),
  };
}
