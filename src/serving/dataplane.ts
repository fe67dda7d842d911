/**
 * The protocol-agnostic data plane (as in KServe's dataplane.py): server and model metadata,
 * readiness and inference, in terms of endpoints and versions. Thin protocol layers (OIP REST
 * today, gRPC later) translate wire formats to and from it.
 */
import { httpStatusFor, PlatformError, SLIPWAY_VERSION, toPlatformError, type Clock, type ModelSignature, type Tensor } from '../core/index.js';
import { SHADOW_VARIANT, UNROUTED_VARIANT, type PredictionSink } from '../monitoring/index.js';
import type { RequestObserver } from '../monitoring/metrics/metrics.js';
import { createLatencyArm, createRateArm, type LatencyArmAccumulator, type RateArmAccumulator } from '../rollout/analysis/arms.js';
import type { LatencyArm, RateArm } from '../rollout/analysis/types.js';
import type { Registry } from '../registry/index.js';
import type { DeploymentManager, Lease } from './deployments.js';
import { ServingErrors } from './errors.js';
import type { EndpointGuards, InferenceGuards } from './guards.js';
import type { DecodeOptions, InferenceContext, InferenceRequest, InferenceResult } from './inference.js';
import { compareResponses, createMirror, createShadowAggregate, type Mirror, type MirrorStats, type ShadowAggregate, type ShadowSummary } from './routing/index.js';

export interface DataPlaneOptions {
  readonly registry: Registry;
  readonly deployments: DeploymentManager;
  readonly clock: Clock;
  /** Longest an inference may run before 504 (0 disables). */
  readonly inferTimeoutMs: number;
  /**
   * Where every inference is reported once it is answered or has failed (monitoring's prediction
   * record), and every shadow copy as variant `shadow` under the same request id. One synchronous,
   * bounded call that never throws; absent: nothing is recorded.
   */
  readonly predictions?: PredictionSink;
  /** Prometheus metrics of every inference (src/monitoring/metrics); none when absent. */
  readonly metrics?: RequestObserver;
  /** Live drift windows (src/monitoring/drift): every answered request's rows; none when absent. */
  readonly drift?: { observe(endpoint: string, model: string, version: number, inputs: readonly Tensor[], outputs: readonly Tensor[]): void };
  /**
   * Input guards and output hardening (src/security/guards): checked after decoding and before the
   * model runs; outputs hardened after monitoring has taken the model's own. None when absent.
   */
  readonly guards?: InferenceGuards;
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
   * signature is known (it throws the protocol's validation errors), reading it as `options` say
   * (the data plane always passes them; absent means the protocol's strict reading).
   */
  infer(
    endpoint: string,
    version: number | undefined,
    decode: (signature: ModelSignature, options?: DecodeOptions) => InferenceRequest,
    ctx: InferenceContext,
  ): Promise<InferenceResult & { request: InferenceRequest }>;
  /**
   * Requests, errors and latency per variant of an endpoint since its traffic figures were last
   * reset (the rollout analysis reads them), and the shadow comparison when a policy mirrors.
   */
  trafficFigures(endpoint: string): TrafficFigures | undefined;
  /** Starts the endpoint's figures afresh (a new rollout step, a new policy). */
  resetTrafficFigures(endpoint: string): void;
  /**
   * The per-variant figures since the last take, and starts them afresh — the rollout controller's
   * read, which adds them to its analyses. The shadow comparison is not reset (it is cumulative
   * for as long as the mirror runs). In one synchronous step, so no request is counted twice or lost.
   */
  takeTrafficFigures(endpoint: string): TrafficFigures | undefined;
  /**
   * Serves `name` as another name for one version of an endpoint (blue-green's preview endpoint,
   * Argo's previewService): requests to it go to that version, counted in the endpoint's figures.
   * undefined removes the name. The caller checks that the name is not an endpoint of its own.
   */
  setPreview(name: string, target: { readonly endpoint: string; readonly version: number } | undefined): void;
  /** Stops mirroring (pending shadow calls are abandoned). */
  close(): Promise<void>;
}

/** One variant's figures: error rate and latency as the analysis engine's arm summaries. */
export interface VariantFigures {
  readonly variant: string;
  readonly version: number;
  readonly requests: number;
  /** Failed requests (any error but the client leaving), as a rate arm: successes = failures. */
  readonly errors: RateArm;
  /** Latency of answered requests, milliseconds. */
  readonly latency: LatencyArm;
}

export interface TrafficFigures {
  readonly endpoint: string;
  readonly sinceMs: number;
  readonly variants: readonly VariantFigures[];
  /** Shadow comparisons per shadow version, with the mirror's own counters. */
  readonly shadow?: { readonly version: number; readonly summary: ShadowSummary; readonly mirror: MirrorStats };
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

  // ---- per-variant figures and the shadow mirror, per endpoint ----

  interface VariantAccumulator {
    readonly variant: string;
    readonly version: number;
    requests: number;
    readonly errors: RateArmAccumulator;
    readonly latency: LatencyArmAccumulator;
  }
  interface EndpointTraffic {
    sinceMs: number;
    readonly variants: Map<string, Map<number, VariantAccumulator>>;
    shadow?: { readonly version: number; readonly aggregate: ShadowAggregate; readonly mirror: Mirror<MirrorRequest, readonly Tensor[]> };
  }
  const traffic = new Map<string, EndpointTraffic>();
  const previews = new Map<string, { readonly endpoint: string; readonly version: number }>();
  /** A preview name's endpoint and version; the endpoint itself otherwise. */
  const resolve = (endpoint: string, version: number | undefined): { endpoint: string; version: number | undefined } => {
    const preview = previews.size === 0 ? undefined : previews.get(endpoint);
    if (preview === undefined) return { endpoint, version };
    if (version !== undefined && version !== preview.version) {
      throw ServingErrors.SERVING_VERSION_NOT_DEPLOYED(`'${endpoint}' is the preview of endpoint '${preview.endpoint}' and serves version ${preview.version} only, not ${version}`, {
        details: { endpoint, version, deployed: [preview.version] },
      });
    }
    return preview;
  };
  const trafficOf = (endpoint: string): EndpointTraffic => {
    let t = traffic.get(endpoint);
    if (t === undefined) {
      t = { sinceMs: clock.now(), variants: new Map() };
      traffic.set(endpoint, t);
    }
    return t;
  };
  const count = (endpoint: string, variant: string, version: number, ok: boolean, latencyMs: number): void => {
    const t = trafficOf(endpoint);
    // by variant, then version: no key to build on the request path
    let byVersion = t.variants.get(variant);
    if (byVersion === undefined) {
      byVersion = new Map();
      t.variants.set(variant, byVersion);
    }
    let v = byVersion.get(version);
    if (v === undefined) {
      v = { variant, version, requests: 0, errors: createRateArm(), latency: createLatencyArm() };
      byVersion.set(version, v);
    }
    v.requests++;
    v.errors.add(!ok);
    if (ok) v.latency.add(latencyMs);
  };

  const sink = options.predictions;
  const metrics = options.metrics;
  const drift = options.drift;
  const guards = options.guards;
  /**
   * Reports one answer or failure to the prediction sink. Positional, so a request allocates only
   * the input object the sink takes; the sink summarises and buffers it synchronously (never I/O).
   */
  const record = (
    requestId: string,
    endpoint: string,
    model: string | null,
    version: number | null,
    variant: string,
    latencyMs: number,
    status: number,
    outputs: readonly Tensor[] | undefined,
  ): void => {
    if (sink === undefined) return;
    try {
      sink.recordPrediction({ requestId, endpoint, model, version, variant, latencyMs, status, outputs });
    } catch {
      // the sink's contract is never to throw; if one does, the request still must not fail because of it
    }
  };

  const mirrorFor = (endpoint: string, version: number): Mirror<MirrorRequest, readonly Tensor[]> => {
    const t = trafficOf(endpoint);
    if (t.shadow?.version === version) return t.shadow.mirror;
    void t.shadow?.mirror.close();
    const aggregate = createShadowAggregate();
    const mirror = createMirror<MirrorRequest, readonly Tensor[]>({
      maxQueue: MIRROR_QUEUE,
      concurrency: MIRROR_CONCURRENCY,
      clock,
      infer: async (req, signal) => {
        const startedMs = clock.monotonicMs();
        // The mirror aborts a call when it times out (recorded as the timeout: the shadow was too
        // slow, even if an answer comes later) and when it closes (not recorded: the server
        // stopping says nothing about the shadow).
        const recordFailure = (error: unknown): void => {
          const kind = toPlatformError(signal.aborted ? signal.reason : error).kind;
          if (!signal.aborted || kind === 'timeout') record(req.requestId, endpoint, req.model, version, SHADOW_VARIANT, clock.monotonicMs() - startedMs, httpStatusFor(kind), undefined);
        };
        let lease: Lease | undefined;
        try {
          lease = await deployments.acquire(endpoint, version, signal);
          const outputs = await lease.loaded.infer(req.inputs, req.outputs, signal);
          if (signal.aborted) recordFailure(signal.reason);
          else record(req.requestId, endpoint, req.model, version, SHADOW_VARIANT, clock.monotonicMs() - startedMs, 200, outputs);
          return outputs;
        } catch (error) {
          recordFailure(error);
          throw error;
        } finally {
          lease?.release();
        }
      },
      onResult: (r) => aggregate.add(compareResponses({ outputs: r.primary, latencyMs: r.primaryLatencyMs }, { outputs: r.shadow, latencyMs: r.shadowLatencyMs })),
    });
    t.shadow = { version, aggregate, mirror };
    return mirror;
  };

  return {
    serverName: 'slipway',
    serverVersion: SLIPWAY_VERSION,
    extensions: [],
    async modelMetadata(name, requested) {
      const { endpoint, version } = resolve(name, requested);
      const ep = await endpointOrThrow(endpoint);
      if (version !== undefined) checkDeployed(endpoint, version);
      const deployed = deployments.deployedVersions(endpoint);
      const shown = version ?? deployed[0] ?? ep.version;
      const v = await registry.getVersion(ep.model, shown);
      return { endpoint, model: ep.model, versions: deployed.length > 0 ? deployed : [ep.version], signature: v.signature };
    },
    async modelReady(name, requested) {
      const { endpoint, version } = resolve(name, requested);
      await endpointOrThrow(endpoint);
      if (version !== undefined) {
        checkDeployed(endpoint, version);
        return deployments.deployment(endpoint)?.versions.some((d) => d.version === version && d.state === 'ready') ?? false;
      }
      return deployments.deployment(endpoint)?.ready ?? false;
    },
    async infer(name, requested, decode, ctx) {
      const arrivedMs = clock.monotonicMs();
      const { endpoint, version } = resolve(name, requested);
      let lease: Lease;
      try {
        lease = await deployments.acquire(endpoint, version, ctx.signal, ctx.headers);
        // the lease carries model, version and variant: no object is made for the note
        ctx.routed = lease;
      } catch (error) {
        // Refused before a version was chosen (version not deployed, nothing loaded, client gone).
        // A name that is no endpoint is not recorded: nothing could join to it, and any client
        // could otherwise write records under names it makes up.
        const code = toPlatformError(error).code;
        if (code !== 'SERVING_ENDPOINT_NOT_FOUND') {
          const status = statusOf(error, ctx.signal);
          const ms = clock.monotonicMs() - arrivedMs;
          record(ctx.requestId, endpoint, null, null, UNROUTED_VARIANT, ms, status, undefined);
          metrics?.observe(endpoint, null, UNROUTED_VARIANT, status, ms / 1000, code);
        }
        throw error;
      }
      const started = clock.monotonicMs();
      const guard: EndpointGuards | undefined = guards?.forEndpoint(endpoint);
      let outcome: 'ok' | 'failed' | 'client-gone' = 'failed';
      let status = 500;
      let errorCode: string | undefined;
      let answer: readonly Tensor[] | undefined;
      try {
        const request = decode(lease.signature, guard?.acceptNonFinite === true ? LENIENT_DECODE : STRICT_DECODE);
        // a guard set to reject throws here, before the model runs
        const parameters = guard?.checksInputs === true ? guard.check(endpoint, lease.model, lease.version, request) : undefined;
        // the client leaving or the timeout both abort ctx.signal, which takes the request out of any queue
        const run = lease.loaded.infer(request.inputs, request.outputs, ctx.signal);
        const outputs = options.inferTimeoutMs > 0 ? await withTimeout(run, options.inferTimeoutMs, clock, ctx) : await run;
        outcome = 'ok';
        status = 200;
        answer = outputs;
        drift?.observe(endpoint, lease.model, lease.version, request.inputs, outputs);
        if (lease.mirrorVersion !== undefined) {
          // a copy for the shadow, compared later; never awaited, so it cannot delay or change this answer
          mirrorFor(endpoint, lease.mirrorVersion).submit({
            request: { requestId: ctx.requestId, model: lease.model, inputs: request.inputs, outputs: request.outputs },
            primary: outputs,
            primaryLatencyMs: clock.monotonicMs() - started,
          });
        }
        // monitoring above keeps the model's own outputs; the client gets the hardened ones
        const result: { -readonly [K in keyof InferenceResult]: InferenceResult[K] } & { request: InferenceRequest } = {
          endpoint,
          model: lease.model,
          version: lease.version,
          variant: lease.variant,
          outputs: guard?.harden === undefined ? outputs : guard.harden(outputs),
          request,
        };
        if (parameters !== undefined) result.parameters = parameters;
        if (guard !== undefined && guard.roundDigits > 0) result.roundDigits = guard.roundDigits;
        return result;
      } catch (error) {
        status = statusOf(error, ctx.signal);
        errorCode = toPlatformError(error).code;
        if (status === CLIENT_CLOSED_STATUS) outcome = 'client-gone';
        throw error;
      } finally {
        lease.release();
        const now = clock.monotonicMs();
        // a client that left says nothing about the version; every other failure counts against it
        if (outcome !== 'client-gone') count(endpoint, lease.variant, lease.version, outcome === 'ok', now - started);
        // the record's latency includes any wait for a loading version: it is what the client saw
        record(ctx.requestId, endpoint, lease.model, lease.version, lease.variant, now - arrivedMs, status, answer);
        metrics?.observe(endpoint, lease.version, lease.variant, status, (now - arrivedMs) / 1000, errorCode);
      }
    },
    trafficFigures(endpoint) {
      const t = traffic.get(endpoint);
      if (t === undefined) return undefined;
      return {
        endpoint,
        sinceMs: t.sinceMs,
        variants: [...t.variants.values()].flatMap((byVersion) => [...byVersion.values()]).map((v) => ({ variant: v.variant, version: v.version, requests: v.requests, errors: v.errors.summary(), latency: v.latency.summary() })),
        ...(t.shadow === undefined ? {} : { shadow: { version: t.shadow.version, summary: t.shadow.aggregate.summary(), mirror: t.shadow.mirror.stats() } }),
      };
    },
    setPreview(name, target) {
      if (target === undefined) previews.delete(name);
      else previews.set(name, { endpoint: target.endpoint, version: target.version });
    },
    takeTrafficFigures(endpoint) {
      const figures = this.trafficFigures(endpoint);
      const t = traffic.get(endpoint);
      if (t !== undefined) {
        t.variants.clear();
        t.sinceMs = clock.now();
      }
      return figures;
    },
    resetTrafficFigures(endpoint) {
      const t = traffic.get(endpoint);
      traffic.delete(endpoint);
      void t?.shadow?.mirror.close();
    },
    async close() {
      await Promise.all([...traffic.values()].map((t) => t.shadow?.mirror.close() ?? Promise.resolve()));
      traffic.clear();
    },
  };
}

/** What the mirror sends the shadow: the decoded inputs and the outputs asked for, and what its record needs. */
interface MirrorRequest {
  /** The primary's request id: the shadow's record is kept under it. */
  readonly requestId: string;
  readonly model: string;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly string[] | undefined;
}

/** How requests are decoded without a guard that lets non-finite numbers through (the protocol's strict reading). */
const STRICT_DECODE: DecodeOptions = Object.freeze({ acceptNonFinite: false });
const LENIENT_DECODE: DecodeOptions = Object.freeze({ acceptNonFinite: true });

/** Shadow copies waiting at most; beyond it copies are dropped (and counted), never queued without bound. */
const MIRROR_QUEUE = 256;
/** Shadow calls in flight at once per endpoint. */
const MIRROR_CONCURRENCY = 4;

/**
 * The status a prediction record carries for a request the client abandoned: no answer was sent,
 * so none of the protocol's statuses fits; 499 is what nginx logs for "client closed request".
 */
const CLIENT_CLOSED_STATUS = 499;

/**
 * The HTTP status an error is answered with (the edge's one mapping, httpStatusFor), or
 * {@link CLIENT_CLOSED_STATUS} when the client went away, whichever error the run ended with.
 */
function statusOf(error: unknown, signal: AbortSignal): number {
  const reason: unknown = signal.aborted ? signal.reason : undefined;
  const e = toPlatformError(error);
  if (e.code === 'SERVING_CLIENT_GONE' || (reason instanceof PlatformError && reason.code === 'SERVING_CLIENT_GONE')) return CLIENT_CLOSED_STATUS;
  return httpStatusFor(e.kind);
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
