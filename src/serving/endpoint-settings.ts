/**
 * Per-endpoint serving settings that outlive a restart: today the endpoint's own autoscaler
 * options (KServe sets these per InferenceService; here `PUT /api/v1/endpoints/{name}/scaling`).
 * Only the keys a user set are stored; the server's `serving.autoscaling` fills the rest, so a
 * change of the server defaults still reaches every endpoint that did not override that key.
 */
import type { AutoscalerConfig } from '../scaling/index.js';

/** What a user set for one endpoint: a subset of the autoscaler's options. */
export type AutoscalingOverrides = Readonly<Partial<Record<keyof AutoscalerConfig, number>>>;

export interface EndpointSettings {
  readonly endpoint: string;
  readonly autoscaling: AutoscalingOverrides;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

/** Where endpoint settings live (SQLite in the server, memory in tests). Synchronous: both are. */
export interface EndpointSettingsStore {
  get(endpoint: string): EndpointSettings | undefined;
  put(settings: EndpointSettings): void;
  /** Forgets an endpoint's settings (it was deleted, or reset to the server's defaults). */
  delete(endpoint: string): void;
}

/** A store in memory: for tests and for servers without a database. */
export function createMemoryEndpointSettingsStore(): EndpointSettingsStore {
  const rows = new Map<string, EndpointSettings>();
  return {
    get: (endpoint) => rows.get(endpoint),
    put: (settings) => void rows.set(settings.endpoint, structuredClone(settings)),
    delete: (endpoint) => void rows.delete(endpoint),
  };
}
