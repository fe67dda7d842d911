import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createServerMetrics, LATENCY_BUCKETS_SECONDS } from '../../../src/monitoring/metrics/index.js';
import type { EndpointDeployment } from '../../../src/serving/types.js';

const deployment: EndpointDeployment = {
  endpoint: 'fraud',
  ready: true,
  versions: [
    {
      model: 'fraud-model',
      version: 3,
      role: 'stable',
      state: 'ready',
      replicas: [
        { id: 'r1', state: 'ready', inFlight: 2, served: 10, failed: 0, busyMs: 1500, loadMs: 120, heapBytes: 0 },
        { id: 'r2', state: 'loading', inFlight: 0, served: 0, failed: 0, busyMs: 0, loadMs: 0, heapBytes: 0 },
      ],
      batching: { merging: true, queueDepth: 4, inFlightBatches: 1, batches: 7, requests: 12, rows: 14, meanBatchSize: 2, meanRequestsPerBatch: 12 / 7, rejected: 1 } as never,
    },
  ],
};

describe('server metrics', () => {
  test('request observations land in the counter and histogram children of their labels', async () => {
    const m = createServerMetrics({ deployments: async () => [] }, { defaultMetrics: false });
    m.observe('fraud', 3, 'stable', 200, 0.0004, undefined);
    m.observe('fraud', 3, 'stable', 200, 0.02, undefined);
    m.observe('fraud', null, 'unrouted', 404, 0.001, 'SERVING_VERSION_NOT_DEPLOYED');
    const text = await m.render();
    assert.match(text, /^slipway_requests_total\{endpoint="fraud",version="3",variant="stable",status="200"\} 2$/m);
    assert.match(text, /^slipway_requests_total\{endpoint="fraud",version="none",variant="unrouted",status="404"\} 1$/m);
    assert.match(text, /^slipway_request_duration_seconds_bucket\{le="0.0005",endpoint="fraud",version="3",variant="stable"\} 1$/m);
    assert.match(text, /^slipway_request_duration_seconds_bucket\{le="0.025",endpoint="fraud",version="3",variant="stable"\} 2$/m);
    assert.match(text, /^slipway_errors_total\{endpoint="fraud",code="SERVING_VERSION_NOT_DEPLOYED"\} 1$/m);
    assert.deepEqual([...LATENCY_BUCKETS_SECONDS].sort((a, b) => a - b), [...LATENCY_BUCKETS_SECONDS]);
  });

  test('deployment gauges are read at each scrape, and a version that is gone leaves no stale series', async () => {
    let deployments: EndpointDeployment[] = [deployment];
    const m = createServerMetrics({ deployments: async () => deployments, rollouts: async () => [{ endpoint: 'fraud', strategy: 'canary', phase: 'Paused', weight: 10 }] }, { defaultMetrics: false });
    const text = await m.render();
    const labels = 'endpoint="fraud",model="fraud-model",version="3",role="stable"';
    assert.match(text, new RegExp(`^slipway_in_flight_requests\\{${labels}\\} 2$`, 'm'));
    assert.match(text, new RegExp(`^slipway_replicas\\{${labels},state="ready"\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^slipway_replicas\\{${labels},state="loading"\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^slipway_queue_depth\\{${labels}\\} 4$`, 'm'));
    assert.match(text, new RegExp(`^slipway_inference_busy_seconds\\{${labels}\\} 1.5$`, 'm'));
    assert.match(text, new RegExp(`^slipway_model_load_seconds\\{${labels}\\} 0.12$`, 'm'));
    assert.match(text, new RegExp(`^slipway_requests_rejected_queue_full\\{${labels}\\} 1$`, 'm'));
    assert.match(text, /^slipway_rollout_candidate_weight_percent\{endpoint="fraud",strategy="canary",phase="Paused"\} 10$/m);
    deployments = [];
    const later = await m.render();
    assert.doesNotMatch(later, /^slipway_in_flight_requests\{/m);
  });
});
