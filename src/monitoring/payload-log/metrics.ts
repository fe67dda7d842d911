/**
 * The payload log's figures as Prometheus metrics, read from its cumulative `stats()` at scrape
 * time: counters of entries recorded, written and dropped by reason, bodies sampled, webhook
 * deliveries; gauges of what is on disk.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PayloadLogStats } from './types.js';

/** Registers the payload log's metrics on `registry`; `source` is read on every scrape. */
export function registerPayloadLogMetrics(registry: Registry, source: { stats(): PayloadLogStats }): void {
  // prom-client counters cannot be set: each scrape resets them and adds the cumulative figure
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[], read: (s: PayloadLogStats, add: (value: number, labels?: Partial<Record<L, string>>) => void) => void): void => {
    new Counter<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        read(source.stats(), (value, labels) => {
          if (labels === undefined) this.inc(value);
          else this.inc(labels, value);
        });
      },
    });
  };
  counter('slipway_payload_log_entries_total', 'Inference requests the payload log took in (every status).', [], (s, add) => add(s.recorded));
  counter('slipway_payload_log_written_total', 'Payload log entries written to disk.', [], (s, add) => add(s.written));
  counter('slipway_payload_log_bodies_sampled_total', 'Payload log entries whose request and response bodies were kept.', [], (s, add) => add(s.bodiesSampled));
  counter('slipway_payload_log_dropped_total', 'Payload log entries dropped, by reason (never waited for: serving does not block).', ['reason'], (s, add) => {
    for (const [reason, n] of Object.entries(s.dropped)) add(n, { reason });
  });
  counter('slipway_payload_log_webhook_sent_total', 'Payload log entries delivered to the webhook.', [], (s, add) => add(s.webhook?.sent ?? 0));
  counter('slipway_payload_log_webhook_retries_total', 'Webhook deliveries retried.', [], (s, add) => add(s.webhook?.retries ?? 0));
  counter('slipway_payload_log_webhook_dropped_total', 'Payload log entries the webhook dropped, by reason.', ['reason'], (s, add) => {
    for (const [reason, n] of Object.entries(s.webhook?.dropped ?? {})) add(n, { reason });
  });
  new Gauge({
    name: 'slipway_payload_log_bytes',
    help: 'Bytes of the payload log\'s segments on disk.',
    registers: [registry],
    collect() {
      this.set(source.stats().bytesOnDisk);
    },
  });
  new Gauge({
    name: 'slipway_payload_log_segments',
    help: 'Segment files of the payload log on disk.',
    registers: [registry],
    collect() {
      this.set(source.stats().segments);
    },
  });
}
