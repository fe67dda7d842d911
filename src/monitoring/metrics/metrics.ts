/**
 * Prometheus metrics at `/metrics` (prom-client), names `slipway_*`, latencies as histograms in
 * seconds (DESIGN.md, Interfaces). Two kinds of source:
 *
 * - the request path calls {@link ServerMetrics.observe} once per answered or failed inference —
 *   a counter and a histogram child looked up in nested maps, so no label string is built per
 *   request;
 * - everything a deployment already counts (replicas, in-flight requests, queue depth, batches,
 *   busy time, load time, rejections) and rollout state are read when Prometheus scrapes, so they
 *   cost the request path nothing.
 *
 * Process CPU, memory and event-loop lag come from prom-client's default collectors, prefixed
 * `slipway_`.
 */
import type { LatestDriftCheck } from '../drift/monitor.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BatchObserver } from '../../serving/batching/index.js';
import type { EndpointDeployment } from '../../serving/types.js';

/** Rows per model run: powers of two up to the largest batch sizes in use. */
export const BATCH_SIZE_BUCKETS: readonly number[] = Object.freeze([1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);

/** Request latency buckets in seconds: from a tenth of a millisecond to ten seconds. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = Object.freeze([0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

/** The `feature` label under which the predictions' drift is exported. */
export const PREDICTIONS_FEATURE = '(predictions)';

const driftLabels = ['endpoint', 'model', 'version'] as const;

/** What the request path reports, once per inference. */
export interface RequestObserver {
  /**
   * One inference: the version and variant that answered (`null` / `unrouted` when none was
   * chosen), the HTTP status answered, seconds from arrival to answer, and the error code of a
   * failure (undefined on success).
   */
  observe(endpoint: string, version: number | null, variant: string, status: number, seconds: number, errorCode: string | undefined): void;
}

/** What the scrape reads from the rest of the server. */
export interface MetricsSources {
  /** Every endpoint's deployment (versions, replicas, batching). */
  deployments(): Promise<readonly EndpointDeployment[]>;
  /** Running rollouts: endpoint, strategy, phase and the candidate's weight. */
  rollouts?(): Promise<readonly { readonly endpoint: string; readonly strategy: string; readonly phase: string; readonly weight: number }[]>;
  /** The latest periodic drift check of each monitored endpoint version. */
  drift?(): readonly LatestDriftCheck[];
}

export interface ServerMetrics extends RequestObserver {
  readonly registry: Registry;
  /** The observer of one version's batch scheduler: queue waits, run times and rows per run. */
  batchObserver(endpoint: string, model: string, version: number): BatchObserver;
  /** Brings the scrape-time gauges up to date (render does it first; so must any other reader of the registry). */
  refresh(): Promise<void>;
  /** The Prometheus text exposition. */
  render(): Promise<string>;
  readonly contentType: string;
}

interface Children {
  readonly requests: ReturnType<Counter<'endpoint' | 'version' | 'variant' | 'status'>['labels']>;
  readonly latency: ReturnType<Histogram<'endpoint' | 'version' | 'variant'>['labels']>;
}

export function createServerMetrics(sources: MetricsSources, options: { readonly defaultMetrics?: boolean } = {}): ServerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'slipway_' });

  const requests = new Counter({
    name: 'slipway_requests_total',
    help: 'Inference requests answered, by endpoint, version, variant and HTTP status (version "none" and variant "unrouted" for requests refused before a version was chosen).',
    labelNames: ['endpoint', 'version', 'variant', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'slipway_request_duration_seconds',
    help: 'Time from a request reaching the data plane to its answer (queueing, batching and inference included), by endpoint, version and variant.',
    labelNames: ['endpoint', 'version', 'variant'] as const,
    buckets: [...LATENCY_BUCKETS_SECONDS],
    registers: [registry],
  });
  const versionOnly = ['endpoint', 'model', 'version'] as const;
  const queueWait = new Histogram({
    name: 'slipway_queue_duration_seconds',
    help: 'Time a request waited in its version\'s batch queue before its model run started (0 when a replica was free).',
    labelNames: versionOnly,
    buckets: [0, ...LATENCY_BUCKETS_SECONDS],
    registers: [registry],
  });
  const inference = new Histogram({
    name: 'slipway_inference_duration_seconds',
    help: 'Time of one model run of a version (a merged batch counts once), from dispatch to its replica until its answer.',
    labelNames: versionOnly,
    buckets: [...LATENCY_BUCKETS_SECONDS],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'slipway_batch_size',
    help: 'Rows per model run of a version (Triton\'s batch size).',
    labelNames: versionOnly,
    buckets: [...BATCH_SIZE_BUCKETS],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'slipway_errors_total',
    help: 'Failed inference requests by endpoint and error code (SERVING_*, RUNTIME_*); rejected inputs are the codes answered with 4xx.',
    labelNames: ['endpoint', 'code'] as const,
    registers: [registry],
  });

  const versionLabels = ['endpoint', 'model', 'version', 'role'] as const;
  const gauges = {
    inFlight: new Gauge({ name: 'slipway_in_flight_requests', help: 'Requests running on a version\'s replicas now.', labelNames: versionLabels, registers: [registry] }),
    queueDepth: new Gauge({ name: 'slipway_queue_depth', help: 'Requests waiting in a version\'s batch queue now.', labelNames: versionLabels, registers: [registry] }),
    replicas: new Gauge({ name: 'slipway_replicas', help: 'Replicas of a version by state (loading, ready, draining, failed).', labelNames: [...versionLabels, 'state'] as const, registers: [registry] }),
    loadSeconds: new Gauge({ name: 'slipway_model_load_seconds', help: 'Time the slowest ready replica of a version took to load and warm.', labelNames: versionLabels, registers: [registry] }),
    meanBatch: new Gauge({ name: 'slipway_batch_size_mean', help: 'Rows per model run on average since the version loaded (Triton\'s batch size).', labelNames: versionLabels, registers: [registry] }),
    busy: new Gauge({ name: 'slipway_inference_busy_seconds', help: 'Replica time spent running the model since the version loaded, summed over its replicas (a counter per version lifetime).', labelNames: versionLabels, registers: [registry] }),
    served: new Gauge({ name: 'slipway_replica_requests_served', help: 'Requests a version\'s replicas answered since it loaded (a counter per version lifetime).', labelNames: versionLabels, registers: [registry] }),
    batches: new Gauge({ name: 'slipway_batches_run', help: 'Model runs of a version\'s batcher since it loaded (a counter per version lifetime).', labelNames: versionLabels, registers: [registry] }),
    rejected: new Gauge({ name: 'slipway_requests_rejected_queue_full', help: 'Requests refused because a version\'s batch queue was full since it loaded (a counter per version lifetime).', labelNames: versionLabels, registers: [registry] }),
    ready: new Gauge({ name: 'slipway_endpoint_ready', help: '1 when the endpoint has a ready stable version.', labelNames: ['endpoint'] as const, registers: [registry] }),
    driftStatus: new Gauge({ name: 'slipway_drift_detected', help: '1 when the latest check of a version\'s open drift window found drift (inputs, predictions or performance), 0 when not; absent while it has too little data.', labelNames: driftLabels, registers: [registry] }),
    driftShare: new Gauge({ name: 'slipway_drift_share', help: 'Share of a version\'s evaluated features that drifted in the latest check of its open window.', labelNames: driftLabels, registers: [registry] }),
    driftRows: new Gauge({ name: 'slipway_drift_window_rows', help: 'Rows in a version\'s open drift window at the latest check.', labelNames: driftLabels, registers: [registry] }),
    featureEffect: new Gauge({ name: 'slipway_drift_feature_effect', help: 'Effect size of a feature\'s drift (the method\'s distance, D or Cramér\'s V) in the latest check; feature "(predictions)" for the predictions.', labelNames: [...driftLabels, 'feature', 'method'] as const, registers: [registry] }),
    featureDrifted: new Gauge({ name: 'slipway_drift_feature_drifted', help: '1 when a feature (or "(predictions)") drifted in the latest check, 0 when not.', labelNames: [...driftLabels, 'feature'] as const, registers: [registry] }),
    performance: new Gauge({ name: 'slipway_drift_performance', help: 'The live window\'s performance on labels from feedback (accuracy or MAE unless configured), by metric.', labelNames: [...driftLabels, 'metric'] as const, registers: [registry] }),
    performanceChange: new Gauge({ name: 'slipway_drift_performance_relative_change', help: 'Relative worsening of the live performance against the profile\'s (positive: worse).', labelNames: [...driftLabels, 'metric'] as const, registers: [registry] }),
    performanceDegraded: new Gauge({ name: 'slipway_drift_performance_degraded', help: '1 when the live performance is significantly worse than the profile\'s by more than the tolerance.', labelNames: [...driftLabels, 'metric'] as const, registers: [registry] }),
    rollout: new Gauge({ name: 'slipway_rollout_candidate_weight_percent', help: 'Share of an endpoint\'s traffic its running rollout sends to the candidate, by strategy and phase.', labelNames: ['endpoint', 'strategy', 'phase'] as const, registers: [registry] }),
  };

  // Refreshed on every scrape (and before every alert evaluation): what the deployments count
  // already, the running rollouts, the drift checks. The sources are read first; the gauges are then
  // reset and set in one synchronous step, so a reader never sees them half-filled. Concurrent
  // callers share one refresh.
  let refreshing: Promise<void> | undefined;
  const refresh = (): Promise<void> => {
    refreshing ??= refreshOnce().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  };
  const refreshOnce = async (): Promise<void> => {
    const [deployments, active] = await Promise.all([sources.deployments(), sources.rollouts?.() ?? Promise.resolve([])]);
    for (const g of Object.values(gauges)) g.reset();
    for (const d of deployments) {
      gauges.ready.set({ endpoint: d.endpoint }, d.ready ? 1 : 0);
      for (const v of d.versions) {
        const labels = { endpoint: d.endpoint, model: v.model, version: String(v.version), role: v.role };
        const byState = new Map<string, number>();
        let inFlight = 0;
        let busyMs = 0;
        let served = 0;
        let loadMs = 0;
        for (const r of v.replicas) {
          byState.set(r.state, (byState.get(r.state) ?? 0) + 1);
          inFlight += r.inFlight;
          busyMs += r.busyMs;
          served += r.served;
          if (r.state === 'ready') loadMs = Math.max(loadMs, r.loadMs);
        }
        for (const [state, n] of byState) gauges.replicas.set({ ...labels, state }, n);
        gauges.inFlight.set(labels, inFlight);
        gauges.busy.set(labels, busyMs / 1000);
        gauges.served.set(labels, served);
        if (loadMs > 0) gauges.loadSeconds.set(labels, loadMs / 1000);
        if (v.batching !== undefined) {
          gauges.queueDepth.set(labels, v.batching.queueDepth);
          gauges.meanBatch.set(labels, v.batching.meanBatchSize);
          gauges.batches.set(labels, v.batching.batches);
          gauges.rejected.set(labels, v.batching.rejected);
        }
      }
    }
    for (const r of active) gauges.rollout.set({ endpoint: r.endpoint, strategy: r.strategy, phase: r.phase }, r.weight);
    for (const d of sources.drift?.() ?? []) {
      const labels = { endpoint: d.endpoint, model: d.model, version: String(d.version) };
      const { report } = d;
      if (report.status !== 'insufficient_data') gauges.driftStatus.set(labels, report.status === 'drift' ? 1 : 0);
      // a share of nothing evaluated is no figure
      if (report.dataset.evaluated > 0) gauges.driftShare.set(labels, report.dataset.driftedShare);
      gauges.driftRows.set(labels, report.window.rows);
      for (const f of [...report.features, ...(report.predictions === null ? [] : [{ ...report.predictions, name: PREDICTIONS_FEATURE }])]) {
        if (f.status === 'insufficient_data') continue;
        if (f.effectSize !== null) gauges.featureEffect.set({ ...labels, feature: f.name, method: f.method }, f.effectSize);
        gauges.featureDrifted.set({ ...labels, feature: f.name }, f.drifted ? 1 : 0);
      }
      const p = report.performance;
      if (p !== null && p.value !== null) {
        gauges.performance.set({ ...labels, metric: p.metric }, p.value);
        if (p.relativeChange !== null) gauges.performanceChange.set({ ...labels, metric: p.metric }, p.relativeChange);
        if (p.degraded !== null) gauges.performanceDegraded.set({ ...labels, metric: p.metric }, p.degraded ? 1 : 0);
      }
    }
  };

  // children per endpoint → variant → version → status, so a request builds no label string
  const children = new Map<string, Map<string, Map<number | null, Map<number, Children>>>>();
  const childOf = (endpoint: string, version: number | null, variant: string, status: number): Children => {
    let byVariant = children.get(endpoint);
    if (byVariant === undefined) children.set(endpoint, (byVariant = new Map<string, Map<number | null, Map<number, Children>>>()));
    let byVersion = byVariant.get(variant);
    if (byVersion === undefined) byVariant.set(variant, (byVersion = new Map<number | null, Map<number, Children>>()));
    let byStatus = byVersion.get(version);
    if (byStatus === undefined) byVersion.set(version, (byStatus = new Map<number, Children>()));
    let c = byStatus.get(status);
    if (c === undefined) {
      const v = version === null ? 'none' : String(version);
      c = { requests: requests.labels(endpoint, v, variant, String(status)), latency: latency.labels(endpoint, v, variant) };
      byStatus.set(status, c);
    }
    return c;
  };

  return {
    registry,
    contentType: registry.contentType,
    observe(endpoint, version, variant, status, seconds, errorCode) {
      const c = childOf(endpoint, version, variant, status);
      c.requests.inc();
      c.latency.observe(seconds);
      if (errorCode !== undefined) errors.inc({ endpoint, code: errorCode });
    },
    batchObserver(endpoint, model, version) {
      const labels = [endpoint, model, String(version)] as const;
      const queued = queueWait.labels(...labels);
      const ran = inference.labels(...labels);
      const rows = batchSize.labels(...labels);
      return {
        queued: (seconds) => queued.observe(seconds),
        ran: (n, seconds) => {
          ran.observe(seconds);
          rows.observe(n);
        },
      };
    },
    refresh,
    async render() {
      await refresh();
      return registry.metrics();
    },
  };
}
