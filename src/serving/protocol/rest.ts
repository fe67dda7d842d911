/**
 * Open Inference Protocol (KServe V2) REST routes over the data plane. Paths, bodies and the
 * health semantics follow the spec (kserve/open-inference-protocol, inference_rest.md); where the
 * spec is silent, docs/api.md says what Slipway does.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { HttpErrors, type Tensor } from '../../core/index.js';
import type { RouteSecurity } from '../../security/index.js';
import type { DataPlane, ModelMetadata } from '../dataplane.js';
import type { InferenceContext, InferenceRoute } from '../inference.js';
import { ServingErrors } from '../errors.js';
import { RAW_BODY } from '../../monitoring/payload-log/raw-body.js';
import { decodeInferenceRequest, DEFAULT_MAX_TENSOR_ELEMENTS, encodeOutputs } from './oip-json.js';
import type { OipInferenceResponse, OipModelMetadata, OipServerMetadata } from './oip-types.js';

export interface OipRestOptions {
  readonly dataPlane: DataPlane;
  /** Whether the server as a whole is ready (started, not draining). */
  readonly serverReady: () => boolean;
  /** Most elements one request's inputs may declare in total (serving.maxTensorElements); default the decoder's. */
  readonly maxTensorElements?: number;
}

interface ModelParams {
  name: string;
  version?: string;
}

const health = { permission: 'health:read' } satisfies RouteSecurity;
const call = { permission: 'inference:call' } satisfies RouteSecurity;

/** `/versions/N` → N; anything that is not a positive integer cannot be deployed, so it is a 404. */
function parseVersion(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[1-9]\d{0,8}$/.test(raw)) {
    throw ServingErrors.SERVING_VERSION_NOT_DEPLOYED(`version '${raw}' is not deployed on endpoint '${name}': versions are positive whole numbers`, {
      details: { endpoint: name, version: raw },
    });
  }
  return Number(raw);
}

function toOipMetadata(m: ModelMetadata): OipModelMetadata {
  const meta = (t: { name: string; datatype: string; shape: readonly number[] }) => ({ name: t.name, datatype: t.datatype, shape: [...t.shape] });
  return {
    name: m.endpoint,
    versions: m.versions.map(String),
    platform: 'onnx_onnxv1',
    inputs: m.signature.inputs.map(meta),
    outputs: m.signature.outputs.map(meta),
    parameters: { model: m.model },
  };
}

/** Aborts when the client disconnects before the answer is written. */
/** One controller per request: aborted when the client closes the connection before the answer (or by the data plane on timeout). */
function requestController(reply: FastifyReply): AbortController {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(ServingErrors.SERVING_CLIENT_GONE('the client closed the connection'));
  });
  return controller;
}

/** Where the OIP routes leave a request's inference context, whose `routed` note says who answered. */
export const INFERENCE_CONTEXT: unique symbol = Symbol('slipway.inferenceContext');

declare module 'fastify' {
  interface FastifyRequest {
    [INFERENCE_CONTEXT]?: InferenceContext;
  }
}

/** The model, version and variant an inference request was routed to; undefined when it never was (bad body, unknown endpoint). */
export function inferenceRouteOf(req: FastifyRequest): InferenceRoute | undefined {
  return req[INFERENCE_CONTEXT]?.routed;
}

/** Where the OIP routes leave an answered request's decoded inputs, for hooks that run after the answer (abuse detection). */
export const INFERENCE_INPUTS: unique symbol = Symbol('slipway.inferenceInputs');

declare module 'fastify' {
  interface FastifyRequest {
    [INFERENCE_INPUTS]?: readonly Tensor[];
  }
}

/** The decoded input tensors of an inference request that was answered; undefined for one that failed. */
export function inferenceInputsOf(req: FastifyRequest): readonly Tensor[] | undefined {
  return req[INFERENCE_INPUTS];
}

export function oipRestRoutes(options: OipRestOptions): FastifyPluginAsync {
  const { dataPlane } = options;
  const maxTensorElements = options.maxTensorElements ?? DEFAULT_MAX_TENSOR_ELEMENTS;
  return async (app: FastifyInstance) => {
    // OIP clients (and `curl -d`) do not always send Content-Type: application/json. Every body on
    // these routes is JSON; the binary tensor extension is refused with a clear message.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, (req, body, done) => {
      if (req.headers['inference-header-content-length'] !== undefined) {
        done(ServingErrors.SERVING_INVALID_REQUEST('the binary tensor extension (Inference-Header-Content-Length) is not supported yet; send JSON tensor data'), undefined);
        return;
      }
      const text = typeof body === 'string' ? body : body.toString('utf8');
      // kept (a reference) for the payload log, which samples bodies of valid and invalid requests alike
      req[RAW_BODY] = text;
      if (text.trim() === '') {
        done(HttpErrors.HTTP_INVALID_JSON('request body is empty: expected a JSON inference request'), undefined);
        return;
      }
      try {
        done(null, JSON.parse(text) as unknown);
      } catch (error) {
        done(HttpErrors.HTTP_INVALID_JSON(`request body is not valid JSON: ${(error as Error).message}`), undefined);
      }
    });

    app.get('/v2/health/live', { config: health }, async () => ({ live: true }));
    app.get('/v2/health/ready', { config: health }, async (_req, reply) => {
      const ready = options.serverReady();
      if (!ready) reply.code(503).header('retry-after', '1');
      return { ready };
    });
    app.get('/v2', { config: health }, async (): Promise<OipServerMetadata> => ({
      name: dataPlane.serverName,
      version: dataPlane.serverVersion,
      extensions: [...dataPlane.extensions],
    }));

    const metadata = async (req: FastifyRequest<{ Params: ModelParams }>) => {
      const version = parseVersion(req.params.name, req.params.version);
      return toOipMetadata(await dataPlane.modelMetadata(req.params.name, version));
    };
    app.get<{ Params: ModelParams }>('/v2/models/:name', { config: call }, metadata);
    app.get<{ Params: ModelParams }>('/v2/models/:name/versions/:version', { config: call }, metadata);

    const ready = async (req: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
      const version = parseVersion(req.params.name, req.params.version);
      const isReady = await dataPlane.modelReady(req.params.name, version);
      if (!isReady) reply.code(503).header('retry-after', '1');
      return { name: req.params.name, ready: isReady };
    };
    app.get<{ Params: ModelParams }>('/v2/models/:name/ready', { config: health }, ready);
    app.get<{ Params: ModelParams }>('/v2/models/:name/versions/:version/ready', { config: health }, ready);

    const infer = async (req: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply): Promise<OipInferenceResponse> => {
      const { name } = req.params;
      const version = parseVersion(name, req.params.version);
      const controller = requestController(reply);
      const ctx: InferenceContext = {
        requestId: req.id,
        signal: controller.signal,
        abort: (reason) => controller.abort(reason),
        headers: req.headers,
      };
      // hooks that run after the answer (the payload log) read who answered from here
      req[INFERENCE_CONTEXT] = ctx;
      const result = await dataPlane.infer(
        name,
        version,
        (signature, decoding) => decodeInferenceRequest(req.body, signature, { maxTensorElements, acceptNonFinite: decoding?.acceptNonFinite === true }),
        ctx,
      );
      // a reference for hooks after the answer (abuse detection reads the caller's queries from it)
      req[INFERENCE_INPUTS] = result.request.inputs;
      // which variant of the endpoint's traffic policy answered (stable, candidate, an experiment arm)
      void reply.header('x-slipway-variant', result.variant);
      return {
        model_name: name,
        model_version: String(result.version),
        ...(result.request.id === undefined ? {} : { id: result.request.id }),
        // the guards' parameters (outlier score, flags) beside the request id, which always wins
        parameters: result.parameters === undefined ? { request_id: req.id } : { ...result.parameters, request_id: req.id },
        outputs: encodeOutputs(result.outputs, result.roundDigits ?? 0),
      };
    };
    app.post<{ Params: ModelParams }>('/v2/models/:name/infer', { config: call }, infer);
    app.post<{ Params: ModelParams }>('/v2/models/:name/versions/:version/infer', { config: call }, infer);
  };
}
