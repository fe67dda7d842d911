import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { registerAlertMetrics } from '../../../src/monitoring/alerts/index.js';
import { createBusinessMetrics } from '../../../src/monitoring/business/index.js';
import { registerBusinessMetrics } from '../../../src/monitoring/business/metrics.js';
import { createServerMetrics } from '../../../src/monitoring/metrics/index.js';
import { registerPayloadLogMetrics } from '../../../src/monitoring/payload-log/index.js';

const unused = (): never => {
  throw new Error('not read by this test');
};

const dashboard = JSON.parse(readFileSync(new URL('../../../docs/grafana/slipway-dashboard.json', import.meta.url), 'utf8')) as {
  panels: { title: string; gridPos: { x: number; y: number; w: number; h: number }; targets: { expr: string }[] }[];
};

describe('the Grafana dashboard (docs/grafana/slipway-dashboard.json)', () => {
  test('every metric it queries is one Slipway serves', async () => {
    const metrics = createServerMetrics({ deployments: async () => [] });
    // the server registers these beside the request metrics
    const business = createBusinessMetrics({ monitoring: { outcomeReports: async () => unused() } });
    const gauges = registerBusinessMetrics(metrics.registry, { business, endpoints: async () => [], autoRefresh: false });
    registerAlertMetrics(metrics.registry, { active: () => [], stats: () => unused() });
    registerPayloadLogMetrics(metrics.registry, { stats: () => unused() });
    // names only: collecting would read sources this test does not build
    const served = new Set(metrics.registry.getMetricsAsArray().map((m) => (m as unknown as { name: string }).name));
    await gauges.close();
    const used = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => [...t.expr.matchAll(/\bslipway_[a-z0-9_]+/g)].map((m) => m[0]))));
    assert.ok(used.size >= 10, `queries ${used.size} metrics`);
    for (const name of used) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      assert.ok(served.has(name) || served.has(base), `${name} is not a metric Slipway serves`);
    }
  });

  test('panels do not overlap on the 24-column grid', () => {
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      assert.ok(p.gridPos.x + p.gridPos.w <= 24, p.title);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          const key = `${x},${y}`;
          assert.ok(!cells.has(key), `${p.title} overlaps another panel at ${key}`);
          cells.add(key);
        }
      }
    }
  });
});
