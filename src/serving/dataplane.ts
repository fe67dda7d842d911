/**
 * The protocol-agnostic data plane (as in KServe's dataplane.py): server and model metadata,
 * readiness and inference, in terms of endpoints and versions. Thin protocol layers (OIP REST
 * today, gRPC later) translate wire formats to and from it.
 */
import { SLIPWAY_VERSION, toPlatformError, type Clock, type ModelSignature } from '../core/index.js';
import type { Registry } from '../registry/index.js';
import type { DeploymentManager } from './deployments.js';
import { ServingErrors } from './errors.js';
import type { InferenceContext, InferenceRequest, InferenceResult } from './inference.js';

export interface DataPlaneOptions {
  readonly registry: Registry;
  readonly deployments: DeploymentManager;
  readonly clock: Clock;
  /** Longest an inference may run before 504 (0 disables). */
  readonly inferTimeoutMs: number;
}

export interface ModelMetadata {
  readonly endpoint: string;
  readonly model: string;
  /** Deployed versions, stable first; the registry target while nothing is deployed yet. */
  readonly versions: readonly number[];
  readonly signature: ModelSignature;
}

export interface DataPlane {
  readonly serverName: string;
  readonly serverVersion: string;
  readonly extensions: readonly string[];
  modelMetadata(endpoint: string, version?: number): Promise<ModelMetadata>;
  modelReady(endpoint: string, version?: number): Promise<boolean>;
  /**
   * Runs one inference. `decode` turns the wire request into tensors once the serving version's
   * signature is known (it throws the protocol's validation errors).
   */
  infer(endpoint: string, version: number | undefined, decode: (signature: ModelSignature) => InferenceRequest, ctx: InferenceContext): Promise<InferenceResult & { request: InferenceRequest }>;
}

export function createDataPlane(options: DataPlaneOptions): DataPlane {
  const { registry, deployments, clock } = options;

  const endpointOrThrow = async (endpoint: string) => {
    try {
      return await registry.getEndpoint(endpoint);
    } catch (error) {
      const e = toPlatformError(error);
      if (e.kind === 'not_found') throw ServingErrors.SERVING_ENDPOINT_NOT_FOUND(`endpoint '${endpoint}' does not exist`, { details: { endpoint } });
      throw e;
    }
  };

  const checkDeployed = (endpoint: string, version: number): void => {
    const deployed = deployments.deployedVersions(endpoint);
    if (!deployed.includes(version)) {
      throw ServingErrors.SERVING_VERSION_NOT_DEPLOYED(
        `version ${version} is not deployed on endpoint '${endpoint}' (deployed: ${deployed.length === 0 ? 'none' : deployed.join(', ')})`,
        { details: { endpoint, version, deployed } },
      );
    }
  };

  return {
    serverName: 'slipway',
    serverVersion: SLIPWAY_VERSION,
    extensions: [],
    async modelMetadata(endpoint, version) {
      const ep = await endpointOrThrow(endpoint);
      if (version !== undefined) checkDeployed(endpoint, version);
      const deployed = deployments.deployedVersions(endpoint);
      const shown = version ?? deployed[0] ?? ep.version;
      const v = await registry.getVersion(ep.model, shown);
      return { endpoint, model: ep.model, versions: deployed.length > 0 ? deployed : [ep.version], signature: v.signature };
    },
    async modelReady(endpoint, version) {
      await endpointOrThrow(endpoint);
      if (version !== undefined) {
        checkDeployed(endpoint, version);
        return deployments.deployment(endpoint)?.versions.some((d) => d.version === version && d.state === 'ready') ?? false;
      }
      return deployments.deployment(endpoint)?.ready ?? false;
    },
    async infer(endpoint, version, decode, ctx) {
      const lease = await deployments.acquire(endpoint, version, ctx.signal);
      try {
        const request = decode(lease.signature);
        // the client leaving or the timeout both abort ctx.signal, which takes the request out of any queue
        const run = lease.loaded.infer(request.inputs, request.outputs, ctx.signal);
        const outputs = options.inferTimeoutMs > 0 ? await withTimeout(run, options.inferTimeoutMs, clock, ctx) : await run;
        return { endpoint, model: lease.model, version: lease.version, outputs, request };
      } finally {
        lease.release();
      }
    },
  };
}

/**
 * Answers 504 after `ms` or 503 when the client leaves, even if the replica keeps working; on
 * timeout it aborts the request's signal so a request still queued never runs.
 */
function withTimeout<T>(work: Promise<T>, ms: number, clock: Clock, ctx: InferenceContext): Promise<T> {
  const signal = ctx.signal;
  return new Promise<T>((resolve, reject) => {
    let timedOut = false;
    const timer = clock.setTimeout(() => {
      timedOut = true;
      const timeout = ServingErrors.SERVING_TIMEOUT(`inference did not finish within ${ms} ms`);
      reject(timeout);
      ctx.abort(timeout);
    }, ms);
    const onAbort = (): void => {
      if (!timedOut) reject(ServingErrors.SERVING_CLIENT_GONE('the client went away before the answer was ready'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        timer.cancel();
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        timer.cancel();
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : toPlatformError(e));
      },
    );
  });
}
