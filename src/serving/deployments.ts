/**
 * The deployment manager: keeps, for every endpoint, the version its registry target resolves to
 * loaded and ready. A new target is loaded and warmed next to the old one, traffic switches in one
 * step, and the old version unloads only after its last in-flight request — so a switch under
 * load drops nothing. Requests for an endpoint whose first version is still loading are held up
 * to `holdTimeoutMs`.
 */
import { toPlatformError, type Clock, type Logger, type TimerHandle, type ModelSignature, type PlatformError } from '../core/index.js';
import type { Registry } from '../registry/index.js';
import type { LoadedModel, ModelRuntime, Placement, RuntimeSessionOptions } from '../runtime/index.js';
import { compileAutoscalerOptions, type AutoscalerConfig } from '../scaling/index.js';
import { attachAutoscaler, capReplicas, type VersionAutoscaling } from './autoscaling.js';
import { createBatchScheduler, withBatching, type BatchObserver, type BatchScheduler, type BatchSchedulerOptions } from './batching/index.js';
import { createMemoryEndpointSettingsStore, type AutoscalingOverrides, type EndpointSettingsStore } from './endpoint-settings.js';
import { ServingErrors } from './errors.js';
import { CANDIDATE_VARIANT, createRouter, STABLE_VARIANT, type RouteHeaders, type Router, type TrafficPolicy } from './routing/index.js';
import type { DeployedVersion, DeploymentStatusView, EndpointDeployment, EndpointScaling } from './types.js';

export interface DeploymentManagerOptions {
  readonly registry: Registry;
  readonly runtime: ModelRuntime;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Replicas per deployed version. */
  readonly replicas: number;
  readonly intraOpThreads?: number;
  /** Where sessions run (LoadOptions.placement); the runtime's default when undefined. */
  readonly placement?: Placement;
  /** Engine session settings for every version. */
  readonly sessionOptions?: RuntimeSessionOptions;
  readonly warmup: boolean;
  /** How long a request waits for a loading version before 503. */
  readonly holdTimeoutMs: number;
  /** Dynamic batching in front of every loaded version (see docs/batching.md); off when undefined or `enabled` is false. */
  readonly batching?: BatchSchedulerOptions & { readonly enabled: boolean };
  /** An autoscaler per loaded version (see docs/autoscaling.md); off when undefined. */
  readonly autoscaling?: AutoscalerConfig;
  /** Per-endpoint settings (autoscaler overrides) that outlive a restart; in memory when undefined. */
  readonly settings?: EndpointSettingsStore;
  /**
   * Which version an endpoint serves as stable, when something other than the registry decides:
   * the rollout controller holds the old version while a canary or blue-green rollout of the
   * registry's new target runs. Given the registry's model and resolved version; returns the
   * version to serve. Default: the registry's.
   */
  readonly stableVersionOf?: (endpoint: string, model: string, registryVersion: number) => number;
  /**
   * How long a version that stops being stable stays loaded (not routed) so that switching back is
   * instant — blue-green's `scaleDownDelaySeconds`, and `slipway rollback` within that window.
   * Default: none (it drains and unloads at once).
   */
  readonly keepWarmMs?: (endpoint: string) => number;
  /** Observes each version's batch scheduler (queue waits, runs, rows) for metrics; none by default. */
  readonly batchObserver?: (endpoint: string, model: string, version: number) => BatchObserver | undefined;
  /**
   * Runs before every load of a version for an endpoint (the artifact's integrity and signature,
   * docs/security.md#signed-artifacts); a rejection refuses the load, which then fails with that
   * error and is never served. None by default.
   */
  readonly checkArtifact?: (endpoint: string, model: string, version: number) => Promise<void>;
}

/** An endpoint's autoscaler options: what it overrides and what applies (the server's options filled in). */
export interface EndpointAutoscaling {
  readonly overrides: AutoscalingOverrides;
  readonly effective: AutoscalerConfig;
  readonly updatedAt: string | null;
  readonly updatedBy: string | null;
}

/** The variant name of a mirror-only version. */
export const SHADOW_VARIANT = 'shadow';

/** A request's hold on one deployed version; release it when the answer is sent. */
export interface Lease {
  readonly endpoint: string;
  readonly model: string;
  readonly version: number;
  readonly signature: ModelSignature;
  readonly loaded: LoadedModel;
  /** The traffic policy's variant that answers (`stable` without a policy). */
  readonly variant: string;
  /** The shadow version to send a copy to, when the policy mirrors this request. */
  readonly mirrorVersion: number | undefined;
  release(): void;
}

type State = 'loading' | 'ready' | 'failed' | 'draining';

class VersionDeployment {
  state: State = 'loading';
  loaded: LoadedModel | undefined;
  /** What requests call: `loaded`, or `loaded` behind its batch scheduler. */
  served: LoadedModel | undefined;
  scheduler: BatchScheduler | undefined;
  scaling: VersionAutoscaling | undefined;
  error: PlatformError | undefined;
  inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readyWaiters: (() => void)[] = [];

  constructor(
    readonly model: string,
    readonly version: number,
  ) {}

  settle(loaded: LoadedModel | undefined, error: PlatformError | undefined): void {
    this.loaded = loaded;
    this.error = error;
    this.state = loaded !== undefined ? 'ready' : 'failed';
    for (const w of this.readyWaiters.splice(0)) w();
  }

  /** Resolves once the version is ready or failed (never rejects). */
  whenSettled(): Promise<void> {
    if (this.state !== 'loading') return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  acquire(): void {
    this.inFlight++;
  }

  release(): void {
    this.inFlight--;
    if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

interface EndpointSlot {
  readonly name: string;
  stable: VersionDeployment | undefined;
  pending: VersionDeployment | undefined;
  /** The last version that failed to load while another kept serving (for status). */
  failed: VersionDeployment | undefined;
  readonly retiring: Set<VersionDeployment>;
  /** Versions loaded beside stable for the traffic policy (candidate, variants, shadow), by number. */
  readonly extras: Map<number, VersionDeployment>;
  /** Former stable versions kept loaded, unrouted, until their timer unloads them (keepWarmMs). */
  readonly warm: Map<number, { readonly dep: VersionDeployment; readonly timer: TimerHandle }>;
  /** How requests are split between stable and the extras; undefined: everything to stable. */
  traffic: { readonly policy: TrafficPolicy; readonly router: Router } | undefined;
  /** Reconciles run one after another per endpoint. */
  chain: Promise<void>;
  deleted: boolean;
}

export interface DeploymentManager extends DeploymentStatusView {
  /** Reconciles every endpoint in the registry; resolves when each has finished its first load attempt. */
  start(): Promise<void>;
  /** Brings one endpoint in line with its registry target (idempotent). */
  reconcile(endpoint: string): Promise<void>;
  /**
   * Picks the version that answers a request and holds it until `release`. Holds the request while
   * the endpoint's first version loads (up to holdTimeoutMs), then 503.
   */
  acquire(endpoint: string, version: number | undefined, signal: AbortSignal, headers?: RouteHeaders): Promise<Lease>;
  /**
   * Installs a traffic policy on an endpoint (or clears it with undefined): loads every version it
   * names first, then switches routing in one step. Rejects, leaving the old policy in place, when
   * a version fails to load, the endpoint does not exist, or `policy.stable` is not its stable version.
   */
  setTraffic(endpoint: string, policy: TrafficPolicy | undefined): Promise<void>;
  /** The endpoint's traffic policy, if any. */
  traffic(endpoint: string): TrafficPolicy | undefined;
  /** The endpoint's autoscaler options; undefined when autoscaling is off on this server. */
  autoscalingOf(endpoint: string): EndpointAutoscaling | undefined;
  /**
   * Sets (or, with undefined, resets to the server's) the endpoint's autoscaler options: checks
   * them with the server's filled in (CORE_INVALID_CONFIG naming every problem), stores them, and
   * restarts the autoscaler of every loaded version of the endpoint with them.
   */
  setAutoscaling(endpoint: string, overrides: AutoscalingOverrides | undefined, by: string): Promise<EndpointAutoscaling>;
  /** Whether the endpoint exists in the data plane. */
  has(endpoint: string): boolean;
  /** Version numbers currently deployed on an endpoint (stable first). */
  deployedVersions(endpoint: string): number[];
  /** Waits for in-flight requests, then unloads every version. */
  close(): Promise<void>;
}

const NO_HEADERS: RouteHeaders = Object.freeze({});

/** The variant name a policy gives a version (`shadow` for the mirror target). */
function variantOf(policy: TrafficPolicy, version: number): string {
  if (policy.candidate?.version === version) return CANDIDATE_VARIANT;
  const v = policy.variants?.find((x) => x.version === version);
  if (v !== undefined) return v.name;
  if (policy.mirror?.version === version) return SHADOW_VARIANT;
  return STABLE_VARIANT;
}

/** Every version a policy routes to or mirrors to. */
function policyVersions(policy: TrafficPolicy): number[] {
  return [policy.stable, ...(policy.candidate === undefined ? [] : [policy.candidate.version]), ...(policy.variants ?? []).map((v) => v.version), ...(policy.mirror === undefined ? [] : [policy.mirror.version])];
}

export function createDeploymentManager(options: DeploymentManagerOptions): DeploymentManager {
  const { registry, runtime, clock, logger } = options;
  const settings = options.settings ?? createMemoryEndpointSettingsStore();

  /** The server's autoscaler options with the endpoint's overrides; undefined when autoscaling is off. */
  const effectiveAutoscaling = (endpoint: string, overrides = settings.get(endpoint)?.autoscaling): AutoscalerConfig | undefined => {
    const server = options.autoscaling;
    if (server === undefined) return undefined;
    if (overrides === undefined || Object.keys(overrides).length === 0) return server;
    try {
      return compileAutoscalerOptions({ ...server, ...overrides }, { what: `autoscaler options of endpoint '${endpoint}'` });
    } catch (error) {
      // stored overrides that the server's current options make invalid (e.g. a lower maxReplicas): serve with the server's
      logger.warn({ endpoint, err: toPlatformError(error).message }, 'endpoint autoscaler overrides no longer valid; using the server options');
      return server;
    }
  };
  const slots = new Map<string, EndpointSlot>();
  let closed = false;

  const slotFor = (name: string): EndpointSlot => {
    let slot = slots.get(name);
    if (slot === undefined) {
      slot = { name, stable: undefined, pending: undefined, failed: undefined, retiring: new Set(), extras: new Map(), warm: new Map(), traffic: undefined, chain: Promise.resolve(), deleted: false };
      slots.set(name, slot);
    }
    return slot;
  };

  const retire = (slot: EndpointSlot, dep: VersionDeployment | undefined): void => {
    if (dep === undefined) return;
    dep.state = 'draining';
    slot.retiring.add(dep);
    void (async () => {
      await dep.whenIdle();
      try {
        await stopVersion(dep);
      } catch (error) {
        logger.warn({ endpoint: slot.name, version: dep.version, err: toPlatformError(error).message }, 'unload failed');
      }
      slot.retiring.delete(dep);
      logger.info({ endpoint: slot.name, model: dep.model, version: dep.version }, 'version unloaded');
    })();
  };

  /** Retires a former stable version, or keeps it loaded for the endpoint's keep-warm time so that switching back is instant. */
  const retireOrKeepWarm = (slot: EndpointSlot, dep: VersionDeployment | undefined): void => {
    if (dep === undefined) return;
    const ms = closed || slot.deleted ? 0 : (options.keepWarmMs?.(slot.name) ?? 0);
    if (!(ms > 0) || dep.state !== 'ready') {
      retire(slot, dep);
      return;
    }
    dropWarm(slot, dep.version);
    const timer = clock.setTimeout(() => {
      if (slot.warm.get(dep.version)?.dep !== dep) return;
      slot.warm.delete(dep.version);
      retire(slot, dep);
    }, ms);
    slot.warm.set(dep.version, { dep, timer });
    logger.info({ endpoint: slot.name, model: dep.model, version: dep.version, keepWarmMs: ms }, 'version kept warm');
  };

  /** Takes a warm version out of the warm set (its timer cancelled); retires it unless `keep`. */
  const dropWarm = (slot: EndpointSlot, version: number, keep = false): VersionDeployment | undefined => {
    const warm = slot.warm.get(version);
    if (warm === undefined) return undefined;
    warm.timer.cancel();
    slot.warm.delete(version);
    if (!keep) retire(slot, warm.dep);
    return warm.dep;
  };

  /** Stops what runs beside a version (autoscaler ticks, scheduler timers), then unloads it. */
  const stopVersion = async (dep: VersionDeployment): Promise<void> => {
    await dep.scaling?.stop();
    dep.scheduler?.close();
    await dep.loaded?.unload();
  };

  const load = async (slot: EndpointSlot, dep: VersionDeployment): Promise<void> => {
    const started = clock.monotonicMs();
    try {
      const artifactPath = await registry.artifactPath(dep.model, dep.version);
      // re-hashed and its signature checked at every load, never per request
      if (options.checkArtifact !== undefined) await options.checkArtifact(slot.name, dep.model, dep.version);
      const loaded = await runtime.load({
        label: `${slot.name}/${dep.model}:${dep.version}`,
        artifactPath,
        replicas: options.replicas,
        ...(options.intraOpThreads === undefined ? {} : { intraOpThreads: options.intraOpThreads }),
        ...(options.placement === undefined ? {} : { placement: options.placement }),
        ...(options.sessionOptions === undefined ? {} : { sessionOptions: options.sessionOptions }),
        // `auto` placement times the largest batch the batcher may send
        batchSizeHint: options.batching?.enabled === true ? options.batching.maxBatchSize : 1,
        warmup: options.warmup,
      });
      const batching = options.batching;
      const observer = options.batchObserver?.(slot.name, dep.model, dep.version);
      dep.scheduler = batching?.enabled === true ? createBatchScheduler(loaded, observer === undefined ? batching : { ...batching, observer }, clock, logger) : undefined;
      dep.served = dep.scheduler === undefined ? loaded : withBatching(loaded, dep.scheduler);
      if (options.autoscaling !== undefined) {
        // leases count requests (queued in the batcher or the pool, or running), which is the demand
        dep.scaling = attachAutoscaler({ endpoint: slot.name, loaded, inFlight: () => dep.inFlight, config: effectiveAutoscaling(slot.name) ?? options.autoscaling, clock, logger });
      }
      dep.settle(loaded, undefined);
      logger.info({ endpoint: slot.name, model: dep.model, version: dep.version, loadMs: Math.round(clock.monotonicMs() - started) }, 'version ready');
    } catch (error) {
      const e = toPlatformError(error);
      dep.settle(undefined, e);
      logger.error({ endpoint: slot.name, model: dep.model, version: dep.version, code: e.code, err: e.message }, 'version failed to load');
    }
  };

  const reconcileNow = async (slot: EndpointSlot): Promise<void> => {
    if (closed) return;
    let desired: { model: string; version: number } | undefined;
    try {
      const ep = await registry.getEndpoint(slot.name);
      desired = { model: ep.model, version: options.stableVersionOf?.(slot.name, ep.model, ep.version) ?? ep.version };
    } catch (error) {
      const e = toPlatformError(error);
      if (e.kind !== 'not_found') throw e;
    }
    if (desired === undefined) {
      // the endpoint was deleted: stop routing to it, then unload what it had
      slot.deleted = true;
      slots.delete(slot.name);
      settings.delete(slot.name);
      retire(slot, slot.stable);
      retire(slot, slot.pending);
      for (const extra of slot.extras.values()) retire(slot, extra);
      slot.extras.clear();
      for (const v of [...slot.warm.keys()]) dropWarm(slot, v);
      slot.traffic = undefined;
      slot.stable = slot.pending = undefined;
      return;
    }
    const same = (d: VersionDeployment | undefined): boolean => d !== undefined && d.model === desired.model && d.version === desired.version;
    if (same(slot.stable) && slot.stable?.state !== 'failed') return;
    const loadedExtra = slot.extras.get(desired.version);
    const warmed = slot.warm.get(desired.version)?.dep;
    const ready = loadedExtra !== undefined && same(loadedExtra) && loadedExtra.state === 'ready' ? loadedExtra : warmed !== undefined && same(warmed) && warmed.state === 'ready' ? warmed : undefined;
    if (ready !== undefined) {
      // promotion of a version that already serves traffic (a canary's candidate, blue-green's
      // green), or a switch back to a version kept warm: at once, no load; the old stable leaves
      // with the policy that named it
      const old = slot.stable;
      if (ready === loadedExtra) slot.extras.delete(desired.version);
      else dropWarm(slot, desired.version, true);
      slot.stable = ready;
      slot.failed = undefined;
      slot.traffic = undefined;
      retireOrKeepWarm(slot, old);
      for (const extra of [...slot.extras.values()]) {
        slot.extras.delete(extra.version);
        retire(slot, extra);
      }
      return;
    }
    const dep = new VersionDeployment(desired.model, desired.version);
    const replacing = slot.stable !== undefined && slot.stable.state === 'ready';
    if (replacing) slot.pending = dep;
    else {
      // nothing serves yet (first deploy, or the current version failed): requests wait for this one
      // a failure of the version this retry replaces is no longer news while it loads
      if (slot.failed !== undefined && slot.failed === slot.stable) slot.failed = undefined;
      slot.stable = dep;
    }
    await load(slot, dep);
    if (closed) {
      await stopVersion(dep);
      return;
    }
    if (!replacing) {
      if (dep.state === 'failed') slot.failed = dep;
      else slot.failed = undefined;
      return;
    }
    slot.pending = undefined;
    if (dep.state === 'ready') {
      const old = slot.stable;
      slot.stable = dep; // the switch: every request routed from now on goes to the new version
      slot.failed = undefined;
      // a traffic policy splits around the stable version; with another stable it no longer applies
      slot.traffic = undefined;
      for (const extra of [...slot.extras.values()]) {
        slot.extras.delete(extra.version);
        retire(slot, extra);
      }
      retireOrKeepWarm(slot, old);
    } else {
      slot.failed = dep; // the old version keeps serving
    }
  };

  /** Loads what a policy names, then installs it (or clears the policy) and retires extras it no longer names. */
  const applyTraffic = async (slot: EndpointSlot, policy: TrafficPolicy | undefined): Promise<void> => {
    const stable = slot.stable;
    if (policy !== undefined) {
      if (stable === undefined || stable.state !== 'ready') {
        throw ServingErrors.SERVING_TRAFFIC_REFUSED(`endpoint '${slot.name}' has no ready stable version to split traffic around`, { details: { endpoint: slot.name } });
      }
      if (policy.stable !== stable.version) {
        throw ServingErrors.SERVING_TRAFFIC_REFUSED(`policy.stable is ${policy.stable} but endpoint '${slot.name}' serves version ${stable.version} as stable`, {
          details: { endpoint: slot.name, stable: stable.version },
        });
      }
      const router = createRouter(policy);
      const wanted = new Set(policyVersions(policy).filter((v) => v !== stable.version));
      for (const v of wanted) {
        const warmDep = dropWarm(slot, v, true);
        if (warmDep !== undefined) slot.extras.set(v, warmDep);
        const have = slot.extras.get(v);
        if (have !== undefined && have.state === 'ready') continue;
        if (have !== undefined) {
          slot.extras.delete(v);
          retire(slot, have);
        }
        await registry.getVersion(stable.model, v); // not found → 404 naming the version
        const dep = new VersionDeployment(stable.model, v);
        slot.extras.set(v, dep);
        await load(slot, dep);
        if (dep.state !== 'ready') {
          slot.extras.delete(v);
          throw ServingErrors.SERVING_TRAFFIC_REFUSED(
            `version ${v} of ${stable.model} failed to load, so the traffic policy was not applied (${dep.error?.code ?? 'unknown'}: ${dep.error?.message ?? 'no detail'})`,
            { details: { endpoint: slot.name, version: v, loadError: dep.error?.code } },
          );
        }
      }
      if (slot.deleted || slot.stable !== stable) {
        throw ServingErrors.SERVING_TRAFFIC_REFUSED(`endpoint '${slot.name}' changed while its traffic policy was loading; apply it again`, { details: { endpoint: slot.name } });
      }
      slot.traffic = { policy, router };
      for (const [v, extra] of [...slot.extras]) {
        if (wanted.has(v)) continue;
        slot.extras.delete(v);
        retire(slot, extra);
      }
      logger.info({ endpoint: slot.name, policy }, 'traffic policy applied');
      return;
    }
    slot.traffic = undefined;
    for (const extra of [...slot.extras.values()]) {
      slot.extras.delete(extra.version);
      retire(slot, extra);
    }
    logger.info({ endpoint: slot.name }, 'traffic policy cleared');
  };

  const reconcile = (endpoint: string): Promise<void> => {
    const slot = slotFor(endpoint);
    const run = slot.chain.then(() => reconcileNow(slot));
    slot.chain = run.catch((error: unknown) => {
      logger.error({ endpoint, err: toPlatformError(error).message }, 'reconcile failed');
    });
    return run;
  };

  const unsubscribe = registry.onEndpointChange((change) => {
    void reconcile(change.endpoint).catch(() => undefined);
  });

  const describe = (dep: VersionDeployment, role: DeployedVersion['role']): DeployedVersion => ({
    model: dep.model,
    version: dep.version,
    role,
    state: dep.state,
    ...(dep.error === undefined ? {} : { error: { code: dep.error.code, message: dep.error.message } }),
    replicas: dep.loaded?.stats() ?? [],
    ...(dep.loaded?.placement === undefined ? {} : { placement: dep.loaded.placement }),
    ...(dep.scheduler === undefined ? {} : { batching: dep.scheduler.stats() }),
  });

  /** Waits for `settled`, the hold timeout (measured from `startedMs`) or the client leaving, whichever is first. */
  const hold = async (settled: Promise<void>, startedMs: number, signal: AbortSignal): Promise<void> => {
    const remaining = options.holdTimeoutMs - (clock.monotonicMs() - startedMs);
    if (remaining <= 0 || signal.aborted) return;
    let timer: { cancel(): void } | undefined;
    let onAbort: (() => void) | undefined;
    try {
      await Promise.race([
        settled,
        new Promise<void>((resolve) => {
          timer = clock.setTimeout(resolve, remaining);
        }),
        new Promise<void>((resolve) => {
          onAbort = resolve;
          signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      timer?.cancel();
      if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
    }
  };

  return {
    start: async () => {
      const endpoints = await registry.listEndpoints();
      await Promise.all(endpoints.map((ep) => reconcile(ep.name).catch(() => undefined)));
    },
    reconcile,
    has: (endpoint) => slots.has(endpoint),
    deployedVersions(endpoint) {
      const slot = slots.get(endpoint);
      if (slot?.stable === undefined || slot.stable.state === 'failed') return [];
      const extras = [...slot.extras.values()].filter((d) => d.state === 'ready').map((d) => d.version);
      return [slot.stable.version, ...extras];
    },
    traffic: (endpoint) => slots.get(endpoint)?.traffic?.policy,
    autoscalingOf(endpoint) {
      const configured = effectiveAutoscaling(endpoint);
      if (configured === undefined) return undefined;
      // what the stable version's autoscaler follows: a main-thread version runs one replica at most
      const most = slots.get(endpoint)?.stable?.loaded?.maxReplicas;
      const effective = most === undefined ? configured : capReplicas(configured, most);
      const stored = settings.get(endpoint);
      return { overrides: stored?.autoscaling ?? {}, effective, updatedAt: stored?.updatedAt ?? null, updatedBy: stored?.updatedBy ?? null };
    },
    async setAutoscaling(endpoint, overrides, by) {
      const slot = slots.get(endpoint);
      if (slot === undefined || slot.deleted) throw ServingErrors.SERVING_ENDPOINT_NOT_FOUND(`endpoint '${endpoint}' does not exist`, { details: { endpoint } });
      const server = options.autoscaling;
      if (server === undefined) {
        throw ServingErrors.SERVING_AUTOSCALING_OFF(`autoscaling is switched off on this server (serving.autoscaling.enabled: false), so endpoint '${endpoint}' has no autoscaler to configure`);
      }
      if (overrides !== undefined) {
        // every problem at once, with the server's options filled in; the grace period is checked against the load time seen
        const loadMs = Math.max(0, ...(slot.stable?.loaded?.stats().map((r) => r.loadMs) ?? [0]));
        compileAutoscalerOptions({ ...server, ...overrides }, { what: `autoscaler options of endpoint '${endpoint}'`, ...(loadMs > 0 ? { observedLoadMs: loadMs } : {}) });
        settings.put({ endpoint, autoscaling: overrides, updatedAt: new Date(clock.now()).toISOString(), updatedBy: by });
      } else settings.delete(endpoint);
      const config = effectiveAutoscaling(endpoint) ?? server;
      for (const dep of [slot.stable, ...slot.extras.values()]) {
        const loaded = dep?.loaded;
        if (dep === undefined || loaded === undefined || dep.state !== 'ready') continue;
        await dep.scaling?.stop();
        dep.scaling = attachAutoscaler({ endpoint, loaded, inFlight: () => dep.inFlight, config, clock, logger });
      }
      logger.info({ endpoint, overrides: overrides ?? null, by }, 'endpoint autoscaler options set');
      return this.autoscalingOf(endpoint) ?? { overrides: {}, effective: config, updatedAt: null, updatedBy: null };
    },
    async setTraffic(endpoint, policy) {
      const slot = slots.get(endpoint);
      if (slot === undefined || slot.deleted) throw ServingErrors.SERVING_ENDPOINT_NOT_FOUND(`endpoint '${endpoint}' does not exist`, { details: { endpoint } });
      // one change at a time per endpoint, in order with reconciles (a promotion cannot interleave)
      const run = slot.chain.then(() => applyTraffic(slot, policy));
      slot.chain = run.catch(() => undefined);
      return run;
    },
    async acquire(endpoint, version, signal, headers) {
      const slot = slots.get(endpoint);
      if (slot === undefined) throw ServingErrors.SERVING_ENDPOINT_NOT_FOUND(`endpoint '${endpoint}' does not exist`, { details: { endpoint } });
      const startedMs = clock.monotonicMs();
      let dep = slot.stable;
      let variant = STABLE_VARIANT;
      let mirrorVersion: number | undefined;
      if (dep === undefined && version === undefined) {
        // the endpoint exists but its first reconcile has not picked a version yet
        await hold(slot.chain, startedMs, signal);
        dep = slot.stable;
      }
      const traffic = slot.traffic;
      if (traffic !== undefined && dep !== undefined && dep.state === 'ready') {
        if (version === undefined) {
          const decision = traffic.router.route(headers ?? NO_HEADERS);
          const extra = decision.version === dep.version ? undefined : slot.extras.get(decision.version);
          if (extra?.state === 'ready') dep = extra;
          variant = dep.version === decision.version ? decision.variant : STABLE_VARIANT;
          if (decision.mirror) mirrorVersion = decision.mirrorVersion;
        } else if (version !== dep.version) {
          // /versions/N of a version the policy serves beside stable
          const extra = slot.extras.get(version);
          if (extra?.state === 'ready') {
            dep = extra;
            variant = variantOf(traffic.policy, version);
          }
        }
      }
      if (version !== undefined && (dep === undefined || dep.version !== version || dep.state === 'failed')) {
        const deployed = this.deployedVersions(endpoint);
        throw ServingErrors.SERVING_VERSION_NOT_DEPLOYED(
          `version ${version} is not deployed on endpoint '${endpoint}' (deployed: ${deployed.length === 0 ? 'none' : deployed.join(', ')})`,
          { details: { endpoint, version, deployed } },
        );
      }
      if (dep === undefined) {
        throw ServingErrors.SERVING_ENDPOINT_UNAVAILABLE(`endpoint '${endpoint}' has no version loading or loaded yet`, { retryAfterSeconds: 1, details: { endpoint } });
      }
      dep.acquire();
      try {
        if (dep.state === 'loading') {
          await hold(dep.whenSettled(), startedMs, signal);
          if (signal.aborted) throw ServingErrors.SERVING_CLIENT_GONE('the client went away while the version was loading');
          // the version may have been swapped while we waited: route to whatever is stable now
          const now = slot.stable;
          if (now !== dep && now !== undefined && now.state === 'ready' && version === undefined) {
            dep.release();
            dep = now;
            dep.acquire();
          }
        }
        if (dep.state === 'loading') {
          throw ServingErrors.SERVING_ENDPOINT_UNAVAILABLE(
            `endpoint '${endpoint}' is still loading ${dep.model}:${dep.version} after ${options.holdTimeoutMs} ms; retry shortly`,
            { retryAfterSeconds: 2, details: { endpoint } },
          );
        }
        if (dep.state === 'failed' || dep.loaded === undefined) {
          throw ServingErrors.SERVING_ENDPOINT_UNAVAILABLE(
            `endpoint '${endpoint}' has no ready version: ${dep.model}:${dep.version} failed to load (${dep.error?.code ?? 'unknown'}: ${dep.error?.message ?? 'no detail'})`,
            { retryAfterSeconds: 5, details: { endpoint, loadError: dep.error?.code } },
          );
        }
      } catch (error) {
        dep.release();
        throw error;
      }
      const held = dep;
      const loaded = dep.served ?? dep.loaded;
      // counts the arrival, and starts a replica if the version had scaled to zero (the request waits in the queue)
      held.scaling?.onRequest();
      let released = false;
      return {
        endpoint,
        model: held.model,
        version: held.version,
        signature: loaded.signature,
        loaded,
        variant,
        mirrorVersion,
        release() {
          if (released) return;
          released = true;
          held.release();
        },
      };
    },
    scaling(endpoint): EndpointScaling | undefined {
      const dep = slots.get(endpoint)?.stable;
      const autoscaler = dep?.scaling?.autoscaler;
      if (dep === undefined || autoscaler === undefined) return undefined;
      return { endpoint, model: dep.model, version: dep.version, status: autoscaler.status(), events: autoscaler.events() };
    },
    deployment(endpoint): EndpointDeployment | undefined {
      const slot = slots.get(endpoint);
      if (slot === undefined) return undefined;
      const versions: DeployedVersion[] = [];
      if (slot.stable !== undefined) versions.push(describe(slot.stable, 'stable'));
      if (slot.pending !== undefined) versions.push(describe(slot.pending, 'pending'));
      if (slot.failed !== undefined && slot.failed !== slot.stable) versions.push(describe(slot.failed, 'pending'));
      const policy = slot.traffic?.policy;
      for (const extra of slot.extras.values()) {
        const name = policy === undefined ? undefined : variantOf(policy, extra.version);
        versions.push({ ...describe(extra, name === SHADOW_VARIANT ? 'shadow' : 'candidate'), ...(name === undefined ? {} : { variant: name }) });
      }
      for (const w of slot.warm.values()) versions.push(describe(w.dep, 'warm'));
      for (const r of slot.retiring) versions.push(describe(r, 'retiring'));
      return { endpoint, ready: slot.stable?.state === 'ready', versions, ...(policy === undefined ? {} : { traffic: policy }) };
    },
    async close() {
      closed = true;
      unsubscribe();
      const all: VersionDeployment[] = [];
      for (const slot of slots.values()) {
        for (const w of slot.warm.values()) w.timer.cancel();
        for (const d of [slot.stable, slot.pending, ...slot.extras.values(), ...[...slot.warm.values()].map((w) => w.dep), ...slot.retiring]) if (d !== undefined) all.push(d);
      }
      await Promise.all(
        all.map(async (d) => {
          await d.whenIdle();
          await stopVersion(d).catch(() => undefined);
        }),
      );
      slots.clear();
    },
  };
}
