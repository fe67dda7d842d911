/**
 * The control-plane HTTP API (JSON under /api/v1): models, versions, aliases with history, and
 * endpoints with history. A Fastify plugin over the Registry service and the data plane's
 * deployment view; errors are thrown as PlatformErrors for the app's error handler to answer.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { HttpErrors, systemClock, type Clock, type PlatformError } from '../core/index.js';
import type { Actor, Endpoint, EndpointTarget, ModelVersion, Registry, SignatureVerifier } from '../registry/index.js';
import type { RouteSecurity } from '../security/index.js';
import type { DeploymentStatusView } from '../serving/types.js';
import { bodyChunks } from './body.js';
import { formatBytes } from './bytes.js';
import { ControlErrors } from './errors.js';
import { closeAfterEarlyAnswer, lingerOnClose } from './linger.js';
import type {
  ArtifactSignatureView,
  AliasAtResponse,
  AliasDeletedResponse,
  AliasesListResponse,
  AliasHistoryResponse,
  AliasResponse,
  EndpointDeletedResponse,
  EndpointHistoryResponse,
  EndpointScalingResponse,
  EndpointTrafficResponse,
  EndpointResponse,
  EndpointsListResponse,
  EndpointView,
  ModelDetailResponse,
  ModelsListResponse,
  PushVersionResponse,
  VersionResponse,
  VersionsListResponse,
} from './types.js';
import { receiveUpload } from './upload.js';
import {
  nameParam,
  queryString,
  queryTime,
  readCreateEndpointBody,
  readSetAliasBody,
  readSignatureBody,
  readUpdateEndpointBody,
  versionParam,
  type TargetChoice,
} from './validate.js';
import { readAutoscalingBody, readTrafficBody, type TrafficControl } from './traffic.js';
import { registerRolloutRoutes, type RolloutControl } from './rollouts.js';
import type { AutoscalingOverrides, EndpointAutoscaling } from '../serving/index.js';

/** What the control API needs from the rest of the app. */
export interface ControlApiDeps {
  readonly registry: Registry;
  /** The data plane's live view of each endpoint's deployment. */
  readonly deployments: DeploymentStatusView;
  /** Where uploads are streamed before the registry takes them; created if missing. */
  readonly uploadDir: string;
  /** Largest model upload accepted, in bytes. */
  readonly maxUploadBytes: number;
  /** Largest JSON body accepted, in bytes. Default 1 MiB. */
  readonly maxJsonBodyBytes?: number;
  /** The actor id recorded in history for a request. Default: `anonymous`. */
  readonly principal?: (req: FastifyRequest) => string;
  /** Times the lingering close after an early answer to an upload. Default: the system clock. */
  readonly clock?: Clock;
  /** Reads and sets endpoints' traffic policies; without it the traffic routes answer 404. */
  readonly traffic?: TrafficControl;
  /** Reads and sets endpoints' autoscaler options; without it PUT/DELETE …/scaling answer 404. */
  readonly autoscaling?: AutoscalingControl;
  /** The rollout controller; without it /apply, the rollout verbs and /rollouts answer 404. */
  readonly rollouts?: RolloutControl;
  /** Checks artifact signatures against the trusted keys, for `verified` in version answers; without it none verifies. */
  readonly signatures?: SignatureVerifier;
  /** Told after a signature is attached to a version, so endpoints whose load of it was refused can try again. */
  readonly onSignatureAttached?: (model: string, version: number) => void;
}

/** What the control API needs to read and set an endpoint's autoscaler options. */
export interface AutoscalingControl {
  get(endpoint: string): EndpointAutoscaling | undefined;
  set(endpoint: string, overrides: AutoscalingOverrides | undefined, by: string): Promise<EndpointAutoscaling>;
}

const DEFAULT_MAX_JSON_BODY_BYTES = 1024 * 1024;

const read = { permission: 'models:read' } satisfies RouteSecurity;
const writeModels = { permission: 'models:write' } satisfies RouteSecurity;
const writeAliases = { permission: 'aliases:write' } satisfies RouteSecurity;
const writeEndpoints = { permission: 'endpoints:write' } satisfies RouteSecurity;

interface ModelParams {
  model: string;
}
interface VersionParams extends ModelParams {
  version: string;
}
interface AliasParams extends ModelParams {
  alias: string;
}
interface EndpointParams {
  name: string;
}

/**
 * Reads a JSON body up to `limit` bytes; an empty body reads as undefined (the field checks then
 * name what is missing). Past the limit the rest of the body is drained, not reset (lingerOnClose).
 */
async function readJsonBody(payload: IncomingMessage, limit: number, clock: Clock): Promise<unknown> {
  const tooLarge = (): PlatformError => {
    if (!payload.complete) lingerOnClose(payload, clock);
    return HttpErrors.HTTP_BODY_TOO_LARGE(`the request body is larger than ${formatBytes(limit)} (${limit} bytes), the limit for control API bodies`, {
      details: { limitBytes: limit },
    });
  };
  const declared = Number(payload.headers['content-length']);
  if (declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let total = 0;
  const broken = (cause?: unknown): Error => HttpErrors.HTTP_BAD_REQUEST('the request body ended before it was complete (the connection closed)', { cause });
  for await (const chunk of bodyChunks(payload, broken)) {
    total += chunk.length;
    if (total > limit) throw tooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw HttpErrors.HTTP_INVALID_JSON(`the request body is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * The control API as a Fastify plugin, to be registered under the prefix `/api/v1`. Every route
 * declares its permission in `config`; the upload route streams to `uploadDir`.
 */
export function controlApi(deps: ControlApiDeps): FastifyPluginAsync {
  const { registry, deployments } = deps;
  const principal = deps.principal ?? (() => 'anonymous');
  const maxJsonBodyBytes = deps.maxJsonBodyBytes ?? DEFAULT_MAX_JSON_BODY_BYTES;
  const clock = deps.clock ?? systemClock;

  const actor = (req: FastifyRequest, reason?: string): Actor => ({ by: principal(req), ...(reason === undefined ? {} : { reason }) });
  const view = (endpoint: Endpoint): EndpointView => ({ ...endpoint, deployment: deployments.deployment(endpoint.name) ?? null });
  /** A version's signature as answers show it, verified against the trusted keys now. */
  const signatureView = (version: ModelVersion): ArtifactSignatureView | null => {
    const signature = version.artifactSignature;
    if (signature === undefined) return null;
    return { keyId: signature.keyId, signedAt: signature.signedAt, verified: deps.signatures?.check(signature).status === 'verified' };
  };

  /** Turns a body's choice into a registry target; neither version nor alias pins the latest version. */
  const targetOf = async (choice: TargetChoice): Promise<EndpointTarget> => {
    if (choice.alias !== undefined) return { kind: 'alias', model: choice.model, alias: choice.alias };
    if (choice.version !== undefined) return { kind: 'version', model: choice.model, version: choice.version };
    const model = await registry.getModel(choice.model);
    if (model.latestVersion === 0) {
      throw ControlErrors.CONTROL_INVALID_BODY(`invalid request body (1 problem): version: model "${model.name}" has no versions yet; push one first`, {
        details: { problems: [{ path: 'version', message: `model "${model.name}" has no versions yet; push one first` }] },
      });
    }
    return { kind: 'version', model: model.name, version: model.latestVersion };
  };

  /** JSON routes: every body is JSON, whatever Content-Type `curl -d` sent, except obvious file uploads. */
  const jsonRoutes = (app: FastifyInstance, _options: unknown, done: (error?: Error) => void): void => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', async (req: FastifyRequest, payload: IncomingMessage) => {
      const type = req.headers['content-type'] ?? '';
      if (/^(multipart\/form-data|application\/octet-stream)\b/i.test(type)) {
        throw HttpErrors.HTTP_UNSUPPORTED_MEDIA_TYPE(
          `this route takes a JSON body (Content-Type: application/json), not ${type.split(';')[0] ?? type}; model files go to POST /api/v1/models/{model}/versions`,
        );
      }
      return readJsonBody(payload, maxJsonBodyBytes, clock);
    });

    app.get('/models', { config: read }, async (): Promise<ModelsListResponse> => ({ models: await registry.listModels() }));

    app.get<{ Params: ModelParams }>('/models/:model', { config: read }, async (req): Promise<ModelDetailResponse> => {
      const name = nameParam('model', req.params.model);
      const model = await registry.getModel(name);
      const [versions, aliases] = await Promise.all([registry.listVersions(name), registry.listAliases(name)]);
      return { model, versions, aliases };
    });

    app.get<{ Params: ModelParams }>('/models/:model/versions', { config: read }, async (req): Promise<VersionsListResponse> => ({
      versions: await registry.listVersions(nameParam('model', req.params.model)),
    }));

    app.get<{ Params: VersionParams }>('/models/:model/versions/:version', { config: read }, async (req): Promise<VersionResponse> => {
      const model = nameParam('model', req.params.model);
      const version = await registry.getVersion(model, versionParam(req.params.version));
      return { version, signature: signatureView(version) };
    });

    app.post<{ Params: VersionParams }>('/models/:model/versions/:version/signature', { config: writeModels }, async (req): Promise<VersionResponse> => {
      const model = nameParam('model', req.params.model);
      const number = versionParam(req.params.version);
      const signature = readSignatureBody(req.body);
      const version = await registry.attachSignature(model, number, signature, actor(req));
      deps.onSignatureAttached?.(version.model, version.version);
      return { version, signature: signatureView(version) };
    });

    app.get<{ Params: ModelParams }>('/models/:model/aliases', { config: read }, async (req): Promise<AliasesListResponse> => ({
      aliases: await registry.listAliases(nameParam('model', req.params.model)),
    }));

    app.get<{ Params: AliasParams }>('/models/:model/aliases/:alias', { config: read }, async (req): Promise<AliasResponse | AliasAtResponse> => {
      const model = nameParam('model', req.params.model);
      const alias = nameParam('alias', req.params.alias);
      const at = queryTime(req.query, 'at');
      if (at === undefined) return { alias: await registry.getAlias(model, alias) };
      return { model, alias, at, version: await registry.aliasAt(model, alias, at) };
    });

    app.put<{ Params: AliasParams }>('/models/:model/aliases/:alias', { config: writeAliases }, async (req): Promise<AliasResponse> => {
      const model = nameParam('model', req.params.model);
      const alias = nameParam('alias', req.params.alias);
      const body = readSetAliasBody(req.body);
      return { alias: await registry.setAlias(model, alias, body.version, actor(req, body.reason)) };
    });

    app.delete<{ Params: AliasParams }>('/models/:model/aliases/:alias', { config: writeAliases }, async (req): Promise<AliasDeletedResponse> => {
      const model = nameParam('model', req.params.model);
      const alias = nameParam('alias', req.params.alias);
      const reason = queryString(req.query, 'reason');
      const before = await registry.getAlias(model, alias);
      await registry.deleteAlias(model, alias, actor(req, reason));
      return { alias: before, deleted: true };
    });

    app.get<{ Params: AliasParams }>('/models/:model/aliases/:alias/history', { config: read }, async (req): Promise<AliasHistoryResponse> => {
      const model = nameParam('model', req.params.model);
      const alias = nameParam('alias', req.params.alias);
      return { history: await registry.aliasHistory(model, alias) };
    });

    app.get('/endpoints', { config: read }, async (): Promise<EndpointsListResponse> => ({
      endpoints: (await registry.listEndpoints()).map(view),
    }));

    app.post('/endpoints', { config: writeEndpoints }, async (req, reply): Promise<EndpointResponse> => {
      const body = readCreateEndpointBody(req.body);
      const target = await targetOf(body);
      const endpoint = await registry.createEndpoint(body.name, target, {
        ...actor(req, body.reason),
        ...(body.description === undefined ? {} : { description: body.description }),
      });
      reply.code(201);
      return { endpoint: view(endpoint) };
    });

    app.get<{ Params: EndpointParams }>('/endpoints/:name', { config: read }, async (req): Promise<EndpointResponse> => ({
      endpoint: view(await registry.getEndpoint(nameParam('endpoint', req.params.name))),
    }));

    app.put<{ Params: EndpointParams }>('/endpoints/:name', { config: writeEndpoints }, async (req): Promise<EndpointResponse> => {
      const name = nameParam('endpoint', req.params.name);
      const body = readUpdateEndpointBody(req.body);
      const target = await targetOf(body);
      return { endpoint: view(await registry.updateEndpoint(name, target, actor(req, body.reason))) };
    });

    app.delete<{ Params: EndpointParams }>('/endpoints/:name', { config: writeEndpoints }, async (req): Promise<EndpointDeletedResponse> => {
      const name = nameParam('endpoint', req.params.name);
      const reason = queryString(req.query, 'reason');
      const before = await registry.getEndpoint(name);
      await registry.deleteEndpoint(name, actor(req, reason));
      return { endpoint: before, deleted: true };
    });

    app.get<{ Params: EndpointParams }>('/endpoints/:name/history', { config: read }, async (req): Promise<EndpointHistoryResponse> => ({
      history: await registry.endpointHistory(nameParam('endpoint', req.params.name)),
    }));

    const trafficControl = (): TrafficControl => {
      if (deps.traffic === undefined) throw HttpErrors.HTTP_ROUTE_NOT_FOUND('traffic policies are not available on this server');
      return deps.traffic;
    };
    const trafficView = (name: string): EndpointTrafficResponse => ({ traffic: trafficControl().get(name) ?? null, figures: trafficControl().figures(name) ?? null });
    app.get<{ Params: EndpointParams }>('/endpoints/:name/traffic', { config: read }, async (req): Promise<EndpointTrafficResponse> => {
      const name = nameParam('endpoint', req.params.name);
      await registry.getEndpoint(name); // 404 for an unknown endpoint
      return trafficView(name);
    });
    app.put<{ Params: EndpointParams }>('/endpoints/:name/traffic', { config: writeEndpoints }, async (req): Promise<EndpointTrafficResponse> => {
      const name = nameParam('endpoint', req.params.name);
      const endpoint = await registry.getEndpoint(name);
      const policy = readTrafficBody(req.body, name, endpoint.version);
      await trafficControl().set(name, policy);
      return trafficView(name);
    });
    app.delete<{ Params: EndpointParams }>('/endpoints/:name/traffic', { config: writeEndpoints }, async (req): Promise<EndpointTrafficResponse> => {
      const name = nameParam('endpoint', req.params.name);
      await registry.getEndpoint(name);
      await trafficControl().set(name, undefined);
      return trafficView(name);
    });

    const scalingView = (name: string): EndpointScalingResponse => ({ scaling: deployments.scaling?.(name) ?? null, settings: deps.autoscaling?.get(name) ?? null });
    app.get<{ Params: EndpointParams }>('/endpoints/:name/scaling', { config: read }, async (req): Promise<EndpointScalingResponse> => {
      const name = nameParam('endpoint', req.params.name);
      await registry.getEndpoint(name); // 404 for an unknown endpoint
      return scalingView(name);
    });
    const autoscalingControl = (): AutoscalingControl => {
      if (deps.autoscaling === undefined) throw HttpErrors.HTTP_ROUTE_NOT_FOUND('per-endpoint autoscaler options are not available on this server');
      return deps.autoscaling;
    };
    app.put<{ Params: EndpointParams }>('/endpoints/:name/scaling', { config: writeEndpoints }, async (req): Promise<EndpointScalingResponse> => {
      const name = nameParam('endpoint', req.params.name);
      await registry.getEndpoint(name);
      await autoscalingControl().set(name, readAutoscalingBody(req.body), principal(req));
      return scalingView(name);
    });
    app.delete<{ Params: EndpointParams }>('/endpoints/:name/scaling', { config: writeEndpoints }, async (req): Promise<EndpointScalingResponse> => {
      const name = nameParam('endpoint', req.params.name);
      await registry.getEndpoint(name);
      await autoscalingControl().set(name, undefined, principal(req));
      return scalingView(name);
    });

    registerRolloutRoutes(app, { registry, rollouts: deps.rollouts, principal });
    done();
  };

  /** The upload route: the body is streamed by the handler itself, never parsed or buffered by Fastify. */
  const uploadRoutes = (app: FastifyInstance, _options: unknown, done: (error?: Error) => void): void => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

    app.post<{ Params: ModelParams }>('/models/:model/versions', { config: writeModels }, async (req, reply): Promise<PushVersionResponse> => {
      const artifactPath = join(deps.uploadDir, `upload-${randomUUID()}.onnx.part`);
      try {
        const model = nameParam('model', req.params.model);
        await mkdir(deps.uploadDir, { recursive: true });
        const upload = await receiveUpload(req.raw, req.query, artifactPath, { maxUploadBytes: deps.maxUploadBytes });
        const result = await registry.pushVersion({ model, artifactPath, ...upload.metadata }, actor(req));
        reply.code(result.created ? 201 : 200);
        return { version: result.version, created: result.created, signature: signatureView(result.version) };
      } catch (error) {
        // the client may still be sending: stop storing the upload and drop the rest
        closeAfterEarlyAnswer(req.raw, reply, clock);
        throw error;
      } finally {
        await rm(artifactPath, { force: true });
      }
    });
    done();
  };

  return async (app: FastifyInstance) => {
    await app.register(jsonRoutes);
    await app.register(uploadRoutes);
  };
}
