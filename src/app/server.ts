/**
 * The composition root: config → data directory → stores → registry → runtime → data plane →
 * HTTP. The only place that names concrete adapters. `startServer` is what `slipway serve` runs.
 */
import { fileURLToPath } from 'node:url';
import type { FastifyBaseLogger } from 'fastify';
import { systemClock, toPlatformError, type Clock, type Logger } from '../core/index.js';
import { controlApi } from '../control/index.js';
import { monitoringApi } from '../monitoring/api.js';
import { createMonitoring } from '../monitoring/index.js';
import { profileApi } from '../monitoring/profiles/api.js';
import { createProfileService } from '../monitoring/profiles/index.js';
import { metricsApi } from '../monitoring/metrics/api.js';
import { driftApi } from '../monitoring/drift/api.js';
import { createDriftMonitor } from '../monitoring/drift/index.js';
import { createServerMetrics, type ServerMetrics } from '../monitoring/metrics/index.js';
import { createRegistry } from '../registry/index.js';
import { createRolloutController, RolloutControllerErrors, type RolloutController } from '../rollout/controller/index.js';
import { createOnnxRuntime, type ModelRuntime } from '../runtime/index.js';
import { createDataPlane, createDeploymentManager, oipRestRoutes } from '../serving/index.js';
import { createFileBlobStore, createSqliteEndpointSettingsStore, createSqliteMonitoringStore, createSqliteProfileStore, createSqliteRegistryStore, createSqliteEndpointStrategyStore, createSqliteRolloutStore, openDataDir } from '../storage/index.js';
import { createArtifactInspector } from './artifact-inspector.js';
import { loadConfig, type SlipwayConfig } from './config.js';
import { deployExamples } from './examples.js';
import { createHttpServer, type Lifecycle } from './http-server.js';

export interface StartServerOptions {
  readonly host?: string;
  readonly port?: number;
  readonly dataDir?: string;
  readonly configFile?: string;
  /** Deploy the example models (what `npm start` does). */
  readonly examples?: boolean;
  /** Further config values by dotted path, applied last (`serving.replicas`: 2). */
  readonly overrides?: Readonly<Record<string, unknown>>;
  readonly env?: NodeJS.ProcessEnv;
  readonly clock?: Clock;
  /** The inference runtime; default onnxruntime in worker threads. The server closes it on stop. */
  readonly runtime?: ModelRuntime;
}

export interface ServerHandle {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly port: number;
  readonly config: SlipwayConfig;
  /** Names of the example endpoints deployed at start (empty unless `examples`). */
  readonly examples: readonly string[];
  /** Resolves once every endpoint has finished its first load attempt. */
  readonly settled: Promise<void>;
  /** HTTP requests received and not yet answered. */
  inFlight(): number;
  /** Graceful stop: refuse new requests, finish in-flight ones, unload models, release the data directory. Idempotent. */
  close(): Promise<void>;
}

/** The repository root (holds examples/), from src/app or dist/app alike. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

function asLogger(log: FastifyBaseLogger): Logger {
  return {
    debug: (o, m) => log.debug(o, m),
    info: (o, m) => log.info(o, m),
    warn: (o, m) => log.warn(o, m),
    error: (o, m) => log.error(o, m),
  };
}

export async function startServer(options: StartServerOptions = {}): Promise<ServerHandle> {
  const config = loadConfig({
    ...(options.configFile === undefined ? {} : { file: options.configFile }),
    ...(options.env === undefined ? {} : { env: options.env }),
    overrides: {
      'server.host': options.host,
      'server.port': options.port,
      dataDir: options.dataDir,
      'examples.deploy': options.examples,
      ...options.overrides,
    },
  });
  const clock = options.clock ?? systemClock;
  let lifecycle: Lifecycle = 'starting';
  let settledOnce = false;

  const dataDir = await openDataDir(config.dataDir);
  const cleanups: (() => Promise<void> | void)[] = [() => dataDir.close()];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // keep releasing the rest
      }
    }
  };
  try {
    const store = createSqliteRegistryStore({ path: dataDir.dbPath });
    cleanups.push(() => store.close());
    const blobs = createFileBlobStore({ dir: dataDir.blobsDir, stagingDir: dataDir.tmpDir });
    const http = createHttpServer({ bodyLimitBytes: config.server.bodyLimitBytes, logLevel: config.log.level, lifecycle: () => lifecycle });
    const logger = asLogger(http.log);
    const runtime = options.runtime ?? createOnnxRuntime({ logger });
    cleanups.push(() => runtime.close());
    const registry = createRegistry({ store, blobs, inspector: createArtifactInspector(runtime), clock, logger });
    // the rollout controller holds the stable version of canary and blue-green endpoints; it is created below, after the data plane
    const strategies = createSqliteEndpointStrategyStore(store.db);
    const controllerRef: { current?: RolloutController } = {};
    const metricsRef: { current?: ServerMetrics } = {};
    const deployments = createDeploymentManager({
      batchObserver: (endpoint, model, version) => metricsRef.current?.batchObserver(endpoint, model, version),
      stableVersionOf: (endpoint, model, registryVersion) => controllerRef.current?.stableVersionOf(endpoint, model, registryVersion) ?? registryVersion,
      keepWarmMs: (endpoint) => controllerRef.current?.keepWarmMs(endpoint) ?? 0,
      registry,
      runtime,
      clock,
      logger,
      replicas: config.serving.replicas,
      ...(config.serving.intraOpThreads > 0 ? { intraOpThreads: config.serving.intraOpThreads } : {}),
      placement: config.serving.placement,
      sessionOptions: { allowSpinning: config.serving.allowSpinning },
      warmup: config.serving.warmup,
      holdTimeoutMs: config.serving.holdTimeoutMs,
      batching: config.serving.batching,
      ...(config.serving.autoscaling === undefined ? {} : { autoscaling: config.serving.autoscaling }),
      settings: createSqliteEndpointSettingsStore(store.db),
    });
    cleanups.push(() => deployments.close());
    // prediction records and feedback (docs/feedback.md), in slipway.db beside the registry
    const monitoring = createMonitoring({ store: createSqliteMonitoringStore({ db: store.db, clock }), clock, logger, options: config.monitoring });
    // closed after the data plane (its last shadow records get in) and before the database: writes what is buffered
    cleanups.push(() => monitoring.close());
    // reference profiles (docs/profiles.md): computed in a temporary session of their own; stopped before the runtime closes
    const profileStore = createSqliteProfileStore(store.db);
    // live drift windows against those profiles (docs/drift.md), per endpoint and version
    const drift = createDriftMonitor({ profile: (model, version) => profileStore.get(model, version), clock, logger });
    const profiles = createProfileService({
      registry,
      runtime,
      // a stored or deleted profile reaches the drift windows at once
      store: {
        get: (model, version) => profileStore.get(model, version),
        put: async (profile) => {
          await profileStore.put(profile);
          drift.profileChanged(profile.model, profile.version, profile);
        },
        delete: async (model, version) => {
          const had = await profileStore.delete(model, version);
          drift.profileChanged(model, version, undefined);
          return had;
        },
      },
      clock,
      logger,
      sessionOptions: { allowSpinning: config.serving.allowSpinning },
    });
    cleanups.push(() => profiles.close());
    // Prometheus metrics (docs/metrics.md): the request path counts, the scrape reads the rest
    const metrics = createServerMetrics({
      deployments: async () => (await registry.listEndpoints()).flatMap((e) => deployments.deployment(e.name) ?? []),
      rollouts: async () => (await rolloutStore.listActive()).map((r) => ({ endpoint: r.endpoint, strategy: r.strategy.kind, phase: r.phase, weight: r.currentWeight })),
    });
    metricsRef.current = metrics;
    const dataPlane = createDataPlane({
      registry,
      deployments,
      clock,
      metrics,
      drift,
      inferTimeoutMs: config.serving.inferTimeoutMs,
      // recording switched off: the request path does not even build the record's input
      ...(config.monitoring.predictions.enabled ? { predictions: monitoring } : {}),
    });
    cleanups.push(() => dataPlane.close());
    const rolloutStore = createSqliteRolloutStore({ db: store.db, clock });
    const rollouts = createRolloutController({ registry, serving: deployments, dataPlane, rollouts: rolloutStore, strategies, outcomes: monitoring, clock, logger, tickMs: config.rollouts.tickMs, experimentLookMs: config.rollouts.experimentLookMs });
    controllerRef.current = rollouts;
    // stopped before the data plane and the deployments it drives
    cleanups.push(() => rollouts.close());

    await http.register(oipRestRoutes({ dataPlane, serverReady: () => lifecycle === 'ready' && settledOnce }));
    await http.register(monitoringApi({ monitoring }), { prefix: '/api/v1' });
    await http.register(
      profileApi({ service: profiles, uploadDir: dataDir.tmpDir, maxUploadBytes: config.server.uploadLimitBytes, principal: (req) => req.principal.id, clock }),
      { prefix: '/api/v1' },
    );
    await http.register(metricsApi({ metrics }));
    await http.register(
      driftApi({
        drift,
        resolve: async (endpoint) => {
          const ep = await registry.getEndpoint(endpoint);
          return { model: ep.model, version: deployments.deployedVersions(endpoint)[0] ?? ep.version };
        },
      }),
      { prefix: '/api/v1' },
    );
    await http.register(
      controlApi({
        registry,
        deployments,
        uploadDir: dataDir.tmpDir,
        maxUploadBytes: config.server.uploadLimitBytes,
        maxJsonBodyBytes: config.server.bodyLimitBytes,
        clock,
        principal: (req) => req.principal.id,
        autoscaling: {
          get: (endpoint) => deployments.autoscalingOf(endpoint),
          set: (endpoint, overrides, by) => deployments.setAutoscaling(endpoint, overrides, by),
        },
        traffic: {
          get: (endpoint) => deployments.traffic(endpoint),
          set: async (endpoint, policy) => {
            const running = await rolloutStore.active(endpoint);
            if (running !== undefined) {
              throw RolloutControllerErrors.ROLLOUT_OWNS_TRAFFIC(`endpoint "${endpoint}" has rollout ${running.id} running (${running.phase}), which sets its traffic; use \`slipway rollout\` verbs, or abort it first`, {
                details: { endpoint, rolloutId: running.id },
              });
            }
            await deployments.setTraffic(endpoint, policy);
            // figures describe one policy: a new split starts them afresh
            dataPlane.resetTrafficFigures(endpoint);
          },
          figures: (endpoint) => dataPlane.trafficFigures(endpoint),
        },
        rollouts,
      }),
      { prefix: '/api/v1' },
    );
    cleanups.push(async () => {
      // Close the listener and whatever connections remain; requests in flight were drained first.
      const closed = http.close();
      http.server.closeAllConnections();
      await closed;
    });

    const examples = config.examples.deploy ? await deployExamples({ registry, examplesDir: `${PACKAGE_ROOT}examples`, logger }) : [];

    await http.listen({ host: config.server.host, port: config.server.port });
    const address = http.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.server.port;
    const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
    lifecycle = 'ready';
    // running rollouts resume (their split in place) before the server reports ready
    const settled = deployments.start().then(() => rollouts.start()).then(
      () => {
        settledOnce = true;
      },
      (error: unknown) => {
        settledOnce = true;
        logger.error({ err: toPlatformError(error).message }, 'initial deployment failed');
      },
    );

    let closing: Promise<void> | undefined;
    return {
      url: `http://${host}:${port}`,
      port,
      config,
      examples,
      settled,
      inFlight: () => http.inFlight(),
      close() {
        closing ??= (async () => {
          // new requests now get 503 SERVING_DRAINING with Connection: close; finish the rest
          lifecycle = 'draining';
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            http.whenIdle(),
            new Promise<void>((resolve) => {
              timer = setTimeout(resolve, config.server.shutdownTimeoutMs);
              timer.unref();
            }),
          ]);
          clearTimeout(timer);
          await cleanup();
          lifecycle = 'stopped';
        })();
        return closing;
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
