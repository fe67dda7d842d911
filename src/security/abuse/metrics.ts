/**
 * Abuse detection as Prometheus gauges, read at scrape time, so alert rules can fire on them
 * (docs/alerts.md; examples/alerts/extraction.yaml): `slipway_extraction_suspected{key,endpoint}`
 * (1 while flagged, else 0) for every tracked caller, and `slipway_extraction_w{key,endpoint}`
 * (the latest Shapiro–Wilk W) for those tested. At most `maxKeys` series each.
 */
import { Gauge, type Registry } from 'prom-client';
import type { ExtractionDetector } from './detector.js';

export function registerAbuseMetrics(registry: Registry, detector: ExtractionDetector): void {
  new Gauge({
    name: 'slipway_extraction_suspected',
    help: 'Whether abuse detection (PRADA) flags the caller (key) on the endpoint as a suspected model-extraction attack: 1 flagged, 0 not.',
    labelNames: ['key', 'endpoint'],
    registers: [registry],
    collect() {
      this.reset();
      for (const t of detector.list()) this.set({ key: t.key, endpoint: t.endpoint }, t.flagged ? 1 : 0);
    },
  });
  new Gauge({
    name: 'slipway_extraction_w',
    help: 'The latest Shapiro–Wilk W of the distances between the caller\'s (key) queries on the endpoint; below security.abuse.threshold it is flagged.',
    labelNames: ['key', 'endpoint'],
    registers: [registry],
    collect() {
      this.reset();
      for (const t of detector.list()) if (t.w !== null) this.set({ key: t.key, endpoint: t.endpoint }, t.w);
    },
  });
}
