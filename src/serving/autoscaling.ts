/**
 * Attaches an autoscaler to one deployed version: it samples the requests the version holds (in
 * flight and queued, counted as requests, not batches), resizes the version's replica pool, and
 * wakes it from zero when a request arrives — the request is held meanwhile (DESIGN.md, "Holding,
 * not rejecting").
 */
import type { Clock, Logger } from '../core/index.js';
import { readyReplicasOf, type LoadedModel } from '../runtime/index.js';
import { createAutoscaler, type Autoscaler, type AutoscalerConfig } from '../scaling/index.js';

export interface VersionAutoscaling {
  readonly autoscaler: Autoscaler;
  /** Call for every request routed to the version: counts arrivals and activates from zero. */
  onRequest(): void;
  stop(): Promise<void>;
}

export interface AttachAutoscalerOptions {
  readonly endpoint: string;
  readonly loaded: LoadedModel;
  /** Requests holding the version right now (leases): in the batcher's queue, the pool's or running. */
  readonly inFlight: () => number;
  readonly config: AutoscalerConfig;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Starts an autoscaler for a loaded version, or returns undefined when its runtime cannot resize. */
export function attachAutoscaler(options: AttachAutoscalerOptions): VersionAutoscaling | undefined {
  const { loaded } = options;
  const resize = loaded.resize?.bind(loaded);
  const replicaCount = loaded.replicaCount?.bind(loaded);
  if (resize === undefined || replicaCount === undefined) return undefined;
  let arrivals = 0;
  const observedLoadMs = Math.max(0, ...loaded.stats().map((s) => s.loadMs));
  // a runtime may run fewer replicas than configured (one session on the main thread): scale within that
  const config = loaded.maxReplicas === undefined ? options.config : capReplicas(options.config, loaded.maxReplicas);
  const autoscaler = createAutoscaler(config, {
    endpoint: options.endpoint,
    observe: () => {
      // arrivals since the last sample: a request that starts and ends between two ticks still counts as traffic
      const sample = {
        inFlight: options.inFlight(),
        queued: 0,
        readyReplicas: readyReplicasOf(loaded),
        arrivals,
      };
      arrivals = 0;
      return sample;
    },
    scale: (replicas) => resize(replicas),
    initialReplicas: replicaCount(),
    ...(observedLoadMs > 0 ? { observedLoadMs } : {}),
    clock: options.clock,
    logger: options.logger,
  });
  autoscaler.start();
  return {
    autoscaler,
    onRequest() {
      arrivals++;
      if (replicaCount() === 0) void autoscaler.activate();
    },
    stop: () => autoscaler.stop(),
  };
}

/** The options a runtime that runs at most `most` replicas can follow (a main-thread version: one). */
export function capReplicas(config: AutoscalerConfig, most: number): AutoscalerConfig {
  const maxReplicas = Math.min(config.maxReplicas, most);
  return { ...config, maxReplicas, minReplicas: Math.min(config.minReplicas, maxReplicas) };
}
