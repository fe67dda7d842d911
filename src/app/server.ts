/**
 * The composition root: config → data directory → stores → registry → runtime → data plane →
 * HTTP. The only place that names concrete adapters. `startServer` is what `slipway serve` runs.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyBaseLogger } from 'fastify';
import { systemClock, toPlatformError, type Clock, type Logger } from '../core/index.js';
import { controlApi } from '../control/index.js';
import { monitoringApi } from '../monitoring/api.js';
import { createMonitoring } from '../monitoring/index.js';
import { createPlanService, planApi } from '../optimize/plan/index.js';
import { createOptimizeService, optimizeApi } from '../optimize/index.js';
import { validationApi } from '../validate/api.js';
import { createValidationService, type ValidationService } from '../validate/service.js';
import { profileApi } from '../monitoring/profiles/api.js';
import { createProfileService } from '../monitoring/profiles/index.js';
import { metricsApi } from '../monitoring/metrics/api.js';
import { driftApi } from '../monitoring/drift/api.js';
import { alertsApi } from '../monitoring/alerts/api.js';
import { createAlerting, createRegistrySignalSource, registerAlertMetrics } from '../monitoring/alerts/index.js';
import { openPayloadLog, payloadLogApi, payloadLogHooks, registerPayloadLogMetrics } from '../monitoring/payload-log/index.js';
import { businessApi } from '../monitoring/business/api.js';
import { createBusinessMetrics, createUsageMeter } from '../monitoring/business/index.js';
import { registerBusinessMetrics } from '../monitoring/business/metrics.js';
import { createDriftMonitor } from '../monitoring/drift/index.js';
import { createServerMetrics, type ServerMetrics } from '../monitoring/metrics/index.js';
import { createRegistry } from '../registry/index.js';
import { createRolloutController, RolloutControllerErrors, type RolloutController } from '../rollout/controller/index.js';
import { createOnnxRuntime, type ModelRuntime } from '../runtime/index.js';
import { createDataPlane, createDeploymentManager, inferenceInputsOf, inferenceRouteOf, oipRestRoutes } from '../serving/index.js';
import { createSqliteKeyStore, createFileBlobStore, createSqliteEndpointSettingsStore, createSqliteMonitoringStore, createSqliteProfileStore, createSqliteRegistryStore, createSqliteEndpointStrategyStore, createSqliteRolloutStore, createSqliteDriftResultStore, createSqliteAlertStore, createSqliteValidationStore, createSqlitePlanStore, openDataDir, startStoreThread, type StoreThread } from '../storage/index.js';
import { createArtifactInspector } from './artifact-inspector.js';
import { loadConfig, type SlipwayConfig } from './config.js';
import { deployExamples } from './examples.js';
import { createHttpServer, type Lifecycle, type RouteEntry } from './http-server.js';
import {
  abuseApi,
  abuseCallerOf,
  abuseHooks,
  auditApi,
  createAuthenticator,
  createExtractionDetector,
  createJwtVerifier,
  createKeyService,
  createRequestLimiter,
  keysApi,
  loadOrCreateSigningKey,
  openAuditLog,
  parseLimitSpec,
  recordAudit,
  registerAbuseMetrics,
  registerSecurityMetrics,
  type Authenticator,
  type AuthRequest,
  type Principal,
} from '../security/index.js';
import { certificateExpiryWarning, loadTlsOptions } from '../security/tls/index.js';
import { encryptionApi, loadAtRestKeyring, MASTER_KEYS_ENV } from '../security/at-rest/index.js';
import { createArtifactLoadCheck, createSignatureVerifier, loadTrustedSigningKeys } from '../security/signing/index.js';
import { createInferenceGuards, registerGuardMetrics } from '../security/guards/index.js';

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
  /** Every registered route and the permission it needs. */
  routes(): readonly RouteEntry[];
  /** How requests are authenticated, and the admin key if this start created it (printed once by `slipway serve`). */
  readonly auth: ServerAuthInfo;
  /** Graceful stop: refuse new requests, finish in-flight ones, unload models, release the data directory. Idempotent. */
  close(): Promise<void>;
}

export interface ServerAuthInfo {
  readonly enabled: boolean;
  readonly dataPlane: 'required' | 'open';
  /** `<data-dir>/admin.key`. */
  readonly adminKeyFile: string;
  /** Set only on the start that created the first admin key. */
  readonly createdAdminKey?: { readonly token: string; readonly generated: boolean };
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
    // encryption at rest (docs/security.md#encryption-at-rest): the master keyring from a file or SLIPWAY_MASTER_KEYS; a bad one stops the start
    const atRest = await loadAtRestKeyring({ masterKeyFile: config.security.encryption.masterKeyFile, envValue: (options.env ?? process.env)[MASTER_KEYS_ENV] });
    const blobs = createFileBlobStore({ dir: dataDir.blobsDir, stagingDir: dataDir.tmpDir, ...(atRest === undefined ? {} : { keyring: atRest.keyring }) });
    // set below, once the key service has loaded; nothing is served before
    const authRef: { current?: Authenticator } = {};
    // HTTPS when configured: files checked now (missing, not PEM, key not matching, expired) and named in the error
    const tls = config.server.tls.enabled ? loadTlsOptions(config.server.tls, { clock }) : undefined;
    const http = createHttpServer({
      ...(tls === undefined ? {} : { https: { cert: tls.cert, key: tls.key, ...(tls.ca === undefined ? {} : { ca: tls.ca }), requestCert: tls.requestCert, rejectUnauthorized: tls.rejectUnauthorized } }),
      auth: {
        check: (req) => {
          // the lifecycle gate answers 503 until the server is ready, so this never runs before
          if (authRef.current === undefined) throw new Error('authentication is not ready');
          const principal = authRef.current.check(req);
          return principal instanceof Promise ? principal.then((p) => withinLimits(req, p)) : withinLimits(req, principal);
        },
      },
      bodyLimitBytes: config.server.bodyLimitBytes,
      logLevel: config.log.level,
      lifecycle: () => lifecycle,
    });
    const logger = asLogger(http.log);
    const expiring = tls === undefined ? undefined : certificateExpiryWarning(tls, { clock });
    if (expiring !== undefined) logger.warn({ certificate: config.server.tls.cert }, expiring);
    if (atRest !== undefined) {
      for (const warning of atRest.warnings) logger.warn({ keyring: atRest.source }, warning);
      logger.info({ keyring: atRest.source, activeKeyId: atRest.keyring.active.id, keys: atRest.keyring.ids.length }, 'encryption at rest is on');
    }
    // API keys (docs/security.md): all in memory by hash; the first start creates the admin key
    const keyService = createKeyService({ store: createSqliteKeyStore(store.db), clock, logger });
    await keyService.load();
    cleanups.push(() => keyService.close());
    const security = config.security;
    const adminKeyFile = join(dataDir.root, 'admin.key');
    const env = options.env ?? process.env;
    const bootstrapToken = env.SLIPWAY_BOOTSTRAP_ADMIN_KEY;
    const createdAdminKey = security.auth.enabled
      ? await keyService.bootstrap({ keyFile: adminKeyFile, ...(bootstrapToken === undefined || bootstrapToken === '' ? {} : { bootstrapToken }) })
      : undefined;
    // the tamper-evident audit log (docs/security.md#audit-log): changes, refusals, and inference when asked
    const auditSigningKey = security.audit.enabled ? await loadOrCreateSigningKey(join(dataDir.root, 'keys', 'audit-signing.key')) : undefined;
    const auditLog = auditSigningKey === undefined ? undefined : await openAuditLog({ dir: dataDir.auditDir, clock, signingKey: auditSigningKey });
    if (auditLog !== undefined) {
      // closed after the HTTP drain (pushed earlier, so it runs later): the last answers get in
      cleanups.push(() => auditLog.close());
      http.addHook('onResponse', (req, reply, done) => {
        recordAudit(auditLog, req, reply.statusCode, { inference: security.audit.inference, logger });
        done();
      });
    }
    // rate limits and quotas per key and per endpoint (429 with Retry-After); unlimited by default
    const limiter = createRequestLimiter({ clock, config: security.limits });
    // model-extraction detection per key and endpoint (docs/security.md#abuse-detection): PRADA over each caller's
    // answered queries, fed after the answer; a flagged key is audited once and, with throttling on, limited below
    const abuse = createExtractionDetector({
      config: security.abuse,
      clock,
      logger,
      // the drift monitor's cached per-version profile lookup: the features' scale when the version has a profile
      profile: (endpoint, model, version) => drift.profileOf(endpoint, model, version),
      onFlagged: (e) => {
        auditLog
          ?.append({
            action: 'abuse.suspected',
            actor: e.caller.startsWith('ip:') ? 'anonymous' : e.caller,
            outcome: 'ok',
            target: `endpoint/${e.endpoint}`,
            ...(e.requestId === undefined ? {} : { requestId: e.requestId }),
            ...(e.ip === undefined ? {} : { ip: e.ip }),
            details: { caller: e.caller, endpoint: e.endpoint, model: e.model, version: e.version, method: 'prada', w: e.w, pValue: e.pValue, tested: e.n, queries: e.queries, threshold: e.threshold },
          })
          .catch((error: unknown) => logger.error({ err: (error as Error).message }, 'could not append to the audit log'));
      },
    });
    const withinLimits = (req: AuthRequest, principal: Principal): Principal => {
      const endpoint = req.permission === 'inference:call' && req.resource.endpoint !== undefined ? (req.params[req.resource.endpoint] ?? null) : null;
      const who = principal.id === 'anonymous' ? null : principal.id.replace(/^key:/, '');
      const throttle = endpoint === null ? undefined : abuse.throttleFor(abuseCallerOf(principal.id, req.ip), endpoint);
      const refused = limiter.check({ principal: who, endpoint, keyLimits: principal.limits ?? null, throttle: throttle ?? null });
      if (refused !== undefined) throw refused;
      return principal;
    };
    const authFailures = { unauthenticated: 0, forbidden: 0 };
    authRef.current = createAuthenticator({
      onFailure: (failure) => {
        authFailures[failure.status === 401 ? 'unauthenticated' : 'forbidden']++;
      },
      enabled: security.auth.enabled,
      dataPlane: security.auth.dataPlane,
      keys: keyService,
      ...(security.auth.jwt === undefined ? {} : { jwt: await createJwtVerifier(security.auth.jwt) }),
    });
    // with encryption at rest every replica's model comes from the blob store's reader, decrypted in memory
    const runtime = options.runtime ?? createOnnxRuntime({ logger, readArtifact: blobs.readArtifact });
    cleanups.push(() => runtime.close());
    // signed artifacts (docs/security.md#signed-artifacts): the trusted keys are read now, so a bad key file stops the start
    const trustedSigningKeys = await loadTrustedSigningKeys(security.signing);
    const signatures = createSignatureVerifier(trustedSigningKeys.keys);
    // validation reports (docs/validation.md): the store exists before the registry, whose alias moves it guards
    const validationStore = createSqliteValidationStore(store.db);
    const validationRef: { current: ValidationService | undefined } = { current: undefined };
    const registry = createRegistry({
      store,
      blobs,
      inspector: createArtifactInspector(runtime),
      clock,
      logger,
      signatures,
      aliasGuard: async (model, alias, version) => validationRef.current?.checkAliasMove(model, alias, version),
    });
    // every load re-hashes the artifact and checks its signature; a refusal is audited and shown on the endpoint
    const checkArtifact = createArtifactLoadCheck({
      registry,
      config: security.signing,
      trustedKeys: trustedSigningKeys.keys,
      logger,
      onRefused: async (refused) => {
        await auditLog?.append({
          action: 'artifact.refused',
          actor: 'system',
          outcome: 'denied',
          target: `${refused.model}:${refused.version}`,
          details: {
            endpoint: refused.endpoint,
            code: refused.code,
            reason: refused.reason,
            message: refused.message,
            digest: refused.digest,
            actualDigest: refused.actualDigest,
            ...(refused.keyId === undefined ? {} : { keyId: refused.keyId }),
          },
        });
      },
    });
    // the rollout controller holds the stable version of canary and blue-green endpoints; it is created below, after the data plane
    const strategies = createSqliteEndpointStrategyStore(store.db);
    const controllerRef: { current?: RolloutController } = {};
    const metricsRef: { current?: ServerMetrics } = {};
    const deployments = createDeploymentManager({
      batchObserver: (endpoint, model, version) => metricsRef.current?.batchObserver(endpoint, model, version),
      stableVersionOf: (endpoint, model, registryVersion) => controllerRef.current?.stableVersionOf(endpoint, model, registryVersion) ?? registryVersion,
      keepWarmMs: (endpoint) => controllerRef.current?.keepWarmMs(endpoint) ?? 0,
      checkArtifact,
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
    // reference profiles (docs/profiles.md): computed in a temporary session of their own; stopped before the runtime closes
    const profileStore = createSqliteProfileStore(store.db);
    // live drift windows against those profiles (docs/drift.md), per endpoint and version; closed windows' checks kept in slipway.db
    const d = config.monitoring.drift;
    const drift = createDriftMonitor({
      profile: (model, version) => profileStore.get(model, version),
      results: createSqliteDriftResultStore(store.db),
      maxRows: d.windowRows,
      maxAgeMs: d.windowMinutes === 0 ? null : d.windowMinutes * 60_000,
      checkIntervalMs: d.checkIntervalSeconds * 1000,
      keepResults: d.keepResults,
      // windows of versions an endpoint no longer serves (deleted, replaced) are dropped at the next check
      isServed: (endpoint, version) => deployments.deployedVersions(endpoint).includes(version),
      checkOptions: { alpha: d.alpha, driftShare: d.driftShare, performanceRelativeTolerance: d.performanceRelativeTolerance },
      clock,
      logger,
    });
    cleanups.push(() => drift.close());
    // prediction records and feedback (docs/feedback.md), in slipway.db beside the registry; labels also join the drift windows' performance
    // off the request thread, each on its own connection to slipway.db: a writer thread (prediction
    // records, feedback, retention) and a reader thread (the aggregates of business reports and analysis)
    const storeThreads: { writer?: StoreThread; reader?: StoreThread } = {};
    if (config.monitoring.predictions.enabled) {
      for (const role of ['writer', 'reader'] as const) {
        const thread = await startStoreThread({ path: dataDir.dbPath, role, logger });
        cleanups.push(() => thread.close());
        storeThreads[role] = thread;
      }
    }
    const monitoring = createMonitoring({
      store: createSqliteMonitoringStore({ db: store.db, clock, ...storeThreads }),
      clock,
      logger,
      options: config.monitoring,
      onLabels: (labelled) => {
        for (const { record, label } of labelled) {
          if (record.model !== null && record.version !== null && record.outputs.predicted !== null) drift.label(record.endpoint, record.model, record.version, record.outputs.predicted.value, label);
        }
      },
    });
    // closed after the data plane (its last shadow records get in) and before the database: writes what is buffered
    cleanups.push(() => monitoring.close());
    // the payload log (docs/payload-log.md): every inference request's metadata, sampled bodies, JSONL under payloads/
    const payloadLog = await openPayloadLog({ dir: dataDir.payloadsDir, config: config.monitoring.payloadLog, clock, logger, ...(atRest === undefined ? {} : { keyring: atRest.keyring }) });
    // runs after the HTTP drain (registered earlier, so later in the reversed order): the last answers get in
    cleanups.push(() => payloadLog.close());
    const predictionSink = config.monitoring.predictions.enabled ? monitoring : undefined;
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
      readArtifact: blobs.readArtifact,
    });
    cleanups.push(() => profiles.close());
    // validation runs (docs/validation.md): temporary sessions of their own, one run at a time, reports kept in slipway.db
    const validation = createValidationService({
      registry,
      runtime,
      store: validationStore,
      blobs,
      clock,
      logger,
      maxRows: config.validation.maxRows,
      requiredForAliases: config.validation.requiredForAliases,
      sessionOptions: { allowSpinning: config.serving.allowSpinning },
    });
    validationRef.current = validation;
    cleanups.push(() => validation.close());
    // capacity plans (docs/plan.md): measured with the server's runtime, one at a time, finished ones kept in slipway.db
    const plans = createPlanService({
      registry,
      runtime,
      datasets: { text: (digest) => validation.datasetText(digest), featureNames: (path) => validation.featureNames(path) },
      clock,
      logger,
      sessionOptions: { allowSpinning: config.serving.allowSpinning },
      store: createSqlitePlanStore(store.db),
    });
    cleanups.push(() => plans.close());
    // optimisation (docs/optimize.md): a rewritten graph becomes a new version, validated against its parent
    const optimizer = createOptimizeService({ registry, validation, readArtifact: blobs.readArtifact, tmpDir: dataDir.tmpDir, logger });
    // Prometheus metrics (docs/metrics.md): the request path counts, the scrape reads the rest
    const metrics = createServerMetrics({
      deployments: async () => (await registry.listEndpoints()).flatMap((e) => deployments.deployment(e.name) ?? []),
      rollouts: async () => (await rolloutStore.listActive()).map((r) => ({ endpoint: r.endpoint, strategy: r.strategy.kind, phase: r.phase, weight: r.currentWeight })),
      drift: () => drift.latest(),
    });
    metricsRef.current = metrics;
    const dataPlane = createDataPlane({
      registry,
      deployments,
      clock,
      metrics,
      drift,
      // input guards (finite numbers, ranges and outlier score against the profile the drift monitor caches) and output hardening
      guards: createInferenceGuards({
        inputs: config.security.inputGuards,
        outputs: config.security.outputs,
        profileOf: (endpoint, model, version) => drift.profileOf(endpoint, model, version),
        metrics: registerGuardMetrics(metrics.registry),
        logger,
      }),
      inferTimeoutMs: config.serving.inferTimeoutMs,
      // recording switched off: the request path does not even build the record's input
      ...(predictionSink === undefined ? {} : { predictions: predictionSink }),
    });
    cleanups.push(() => dataPlane.close());
    const rolloutStore = createSqliteRolloutStore({ db: store.db, clock });
    const rollouts = createRolloutController({ registry, serving: deployments, dataPlane, rollouts: rolloutStore, strategies, outcomes: monitoring, clock, logger, tickMs: config.rollouts.tickMs, experimentLookMs: config.rollouts.experimentLookMs });
    controllerRef.current = rollouts;
    // stopped before the data plane and the deployments it drives
    cleanups.push(() => rollouts.close());

    // business metrics (docs/business-metrics.md): outcomes from feedback, CPU measured and apportioned by replica busy time
    const businessConfig = config.monitoring.business;
    const usage = businessConfig.enabled
      ? createUsageMeter({
          clock,
          logger,
          sampleIntervalSeconds: businessConfig.sampleIntervalSeconds,
          historyHours: businessConfig.historyHours,
          // per replica (busy time is cumulative per replica lifetime), so a scale-down drops a reading instead of looking like a restart
          busy: async () =>
            (await registry.listEndpoints()).flatMap((e) =>
              (deployments.deployment(e.name)?.versions ?? []).flatMap((v) => v.replicas.map((r) => ({ endpoint: e.name, model: v.model, version: v.version, replica: r.id, busySeconds: r.busyMs / 1000 }))),
            ),
        })
      : undefined;
    if (usage !== undefined) cleanups.push(() => usage.close());
    const business = createBusinessMetrics({ monitoring, ...(usage === undefined ? {} : { usage }), options: businessConfig, clock });
    if (businessConfig.enabled) {
      const gauges = registerBusinessMetrics(metrics.registry, { business, endpoints: async () => (await registry.listEndpoints()).map((e) => e.name), ...(usage === undefined ? {} : { usage }), clock, logger });
      cleanups.push(() => gauges.close());
    }

    /**
     * An alert's rollback. With a rollout running it aborts it, so traffic returns to its stable
     * version (Argo's abort) — unless the alert is about the stable version itself. With none, the
     * endpoint goes back one step in its history (as `slipway rollback`), and only when the alert is
     * about the version it serves now: a late or repeated alert never rolls back a version it did not judge.
     */
    const rollbackFor = async (endpoint: string, reason: string, version: number | null): Promise<string> => {
      const running = await rolloutStore.active(endpoint);
      if (running !== undefined) {
        if (version !== null && version === running.stableVersion && version !== running.candidateVersion) {
          return `not rolled back: the alert is about version ${version}, the stable version of running rollout ${running.id}; pause or abort it by hand`;
        }
        await rollouts.act(endpoint, { type: 'abort', message: reason }, 'alerts');
        return `rollout ${running.id} aborted: traffic returns to version ${running.stableVersion}`;
      }
      const serving = deployments.deployedVersions(endpoint)[0];
      if (version !== null && serving !== undefined && version !== serving) return `not rolled back: the alert is about version ${version}, and the endpoint serves version ${serving}`;
      return (await rollouts.rollback(endpoint, 'alerts', { message: reason })).message;
    };

    // alerts (docs/alerts.md): rules over the metrics above, webhooks, and (when switched on) rollout actions
    const alerting = createAlerting({
      config: config.monitoring.alerts,
      source: createRegistrySignalSource(metrics.registry, { before: () => metrics.refresh() }),
      store: createSqliteAlertStore(store.db),
      clock,
      logger,
      actions: {
        pauseRollout: (endpoint, reason) => rollouts.act(endpoint, { type: 'pause', message: reason }, 'alerts'),
        rollback: (endpoint, reason, version) => rollbackFor(endpoint, reason, version),
      },
      // a drift alert carries the drifted features and the performance verdict of the version it names
      evidence: async (a) => {
        if (!a.rule.metric.startsWith('slipway_drift') || a.endpoint === null || a.model === null || a.version === null) return undefined;
        const r = await drift.report(a.endpoint, a.model, Number(a.version));
        const p = r.current.performance;
        return {
          driftedFeatures: r.current.dataset.driftedFeatures,
          driftedShare: r.current.dataset.driftedShare,
          predictionsDrifted: r.current.predictions?.drifted ?? null,
          ...(p === null ? {} : { performance: { metric: p.metric, value: p.value, reference: p.reference, relativeChange: p.relativeChange, pValue: p.pValue, degraded: p.degraded } }),
        };
      },
    });
    registerAlertMetrics(metrics.registry, alerting);
    registerPayloadLogMetrics(metrics.registry, payloadLog);
    // stopped before the rollout controller its actions drive
    cleanups.push(() => alerting.close());

    // the payload log's hooks join the OIP routes as they are declared (so before them), and see their answers, errors included
    if (config.monitoring.payloadLog.enabled) await http.register(payloadLogHooks({ log: payloadLog, routeOf: (req) => inferenceRouteOf(req) }));
    // abuse detection's hook sits at the root too, so it sees every answered inference with its caller and decoded inputs
    if (security.abuse.enabled) await http.register(abuseHooks({ detector: abuse, inputsOf: (req) => inferenceInputsOf(req), routeOf: (req) => inferenceRouteOf(req) }));
    await http.register(oipRestRoutes({ dataPlane, serverReady: () => lifecycle === 'ready' && settledOnce, maxTensorElements: config.serving.maxTensorElements }));
    await http.register(keysApi({ keys: keyService, clock, principal: (req) => req.principal.id, parseLimits: (value, path) => parseLimitSpec(value, path) }), { prefix: '/api/v1' });
    if (auditLog !== undefined && auditSigningKey !== undefined) await http.register(auditApi({ log: auditLog, trustedKeys: [auditSigningKey.publicKeyPem], clock }), { prefix: '/api/v1' });
    await http.register(encryptionApi({ keyring: atRest, blobs, payloads: payloadLog, logger }), { prefix: '/api/v1' });
    registerSecurityMetrics(metrics.registry, { limiter, authFailures: () => authFailures, keys: () => keyService.list() });
    registerAbuseMetrics(metrics.registry, abuse);
    await http.register(abuseApi({ detector: abuse }), { prefix: '/api/v1' });
    await http.register(payloadLogApi({ log: payloadLog, clock }), { prefix: '/api/v1' });
    await http.register(alertsApi({ alerting, principal: (req) => req.principal.id }), { prefix: '/api/v1' });
    await http.register(businessApi({ business, clock, endpointExists: (name) => registry.getEndpoint(name) }), { prefix: '/api/v1' });
    await http.register(monitoringApi({ monitoring, clock }), { prefix: '/api/v1' });
    await http.register(
      profileApi({ service: profiles, uploadDir: dataDir.tmpDir, maxUploadBytes: config.server.uploadLimitBytes, principal: (req) => req.principal.id, clock }),
      { prefix: '/api/v1' },
    );
    await http.register(
      validationApi({ service: validation, uploadDir: dataDir.tmpDir, maxUploadBytes: config.server.uploadLimitBytes, principal: (req) => req.principal.id, clock }),
      { prefix: '/api/v1' },
    );
    await http.register(planApi({ service: plans }), { prefix: '/api/v1' });
    await http.register(optimizeApi({ service: optimizer, principal: (req) => req.principal.id }), { prefix: '/api/v1' });
    await http.register(metricsApi({ metrics }));
    await http.register(
      driftApi({
        drift,
        clock,
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
        signatures,
        // a newly signed version gets another chance on the endpoints of its model whose load was refused (a no-op where it serves)
        onSignatureAttached: (model) => {
          void registry
            .listEndpoints()
            .then((endpoints) => Promise.all(endpoints.filter((e) => e.model === model).map((e) => deployments.reconcile(e.name).catch(() => undefined))))
            .catch((error: unknown) => logger.warn({ model, err: toPlatformError(error).message }, 'could not reload endpoints after a signature was attached'));
        },
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
    // alerts evaluate from the start, whatever the first loads do (a slow or failed load is what they are for)
    alerting.start().catch((error: unknown) => logger.error({ err: toPlatformError(error).message }, 'alert evaluation could not start'));
    const settled = deployments
      .start()
      .then(() => rollouts.start())
      .then(
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
      url: `${tls === undefined ? 'http' : 'https'}://${host}:${port}`,
      port,
      config,
      examples,
      settled,
      inFlight: () => http.inFlight(),
      routes: () => http.routeTable(),
      auth: { enabled: security.auth.enabled, dataPlane: security.auth.dataPlane, adminKeyFile, ...(createdAdminKey === undefined ? {} : { createdAdminKey }) },
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
