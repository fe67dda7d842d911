/**
 * Where rules read their metrics: a port that returns the metric families as a scrape would, and
 * its adapter over a prom-client `Registry` (the server's own, so nothing goes over HTTP).
 */
import type { Registry } from 'prom-client';
import type { MetricFamily, MetricSample, MetricType } from './types.js';

/**
 * The signal source port. `samples()` is called once per evaluation; it may be slow-ish (a
 * registry collect) but must not throw for a single bad metric. The returned array is owned by
 * the caller, which only reads it.
 */
export interface SignalSource {
  samples(): Promise<readonly MetricFamily[]>;
}

export interface RegistrySignalSourceOptions {
  /**
   * Runs before each collection: for gauges that are refreshed outside prom-client's `collect`
   * (ServerMetrics refreshes its deployment gauges when it renders a scrape).
   */
  readonly before?: () => Promise<unknown>;
}

const TYPES: readonly MetricType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

interface JsonValue {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number | undefined>>;
  readonly metricName?: string;
}

function labelText(labels: JsonValue['labels']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (v !== undefined) out[k] = String(v);
  return out;
}

/** A source over a prom-client 15 registry, via `getMetricsAsJSON()` (which runs every metric's collect). */
export function createRegistrySignalSource(registry: Registry, options: RegistrySignalSourceOptions = {}): SignalSource {
  return {
    async samples() {
      await options.before?.();
      const json = await registry.getMetricsAsJSON();
      return json.map((family): MetricFamily => {
        // prom-client's typings say an enum; at run time the type is the exposition's word
        const raw = String(family.type);
        const type = (TYPES as readonly string[]).includes(raw) ? (raw as MetricType) : 'untyped';
        const samples = (family.values as readonly JsonValue[]).map(
          (v): MetricSample => ({ name: v.metricName ?? family.name, labels: labelText(v.labels), value: v.value }),
        );
        return { name: family.name, type, samples };
      });
    },
  };
}

/** A source that returns fixed families (tests, and feeding alerts from another system). */
export function createStaticSignalSource(families: () => readonly MetricFamily[]): SignalSource {
  return { samples: async () => families() };
}
