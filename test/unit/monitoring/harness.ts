/**
 * A monitoring API test server: the app's own Fastify assembly (request ids, the permission check,
 * the error handler) on 127.0.0.1 with an ephemeral port, the monitoring plugin at /api/v1 over a
 * memory store, and a stand-in inference route that records its answers the way the OIP REST
 * handler is meant to.
 */
import type { FastifyInstance } from 'fastify';
import { createHttpServer } from '../../../src/app/http-server.js';
import { createFakeClock, type FakeClock, type Tensor } from '../../../src/core/index.js';
import { monitoringApi } from '../../../src/monitoring/api.js';
import { createMonitoring, type Monitoring, type MonitoringOptions } from '../../../src/monitoring/index.js';
import { createMemoryMonitoringStore } from '../../../src/storage/index.js';
import { probabilities, T0 } from './fixtures.js';

export interface MonitoringHarness {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly monitoring: Monitoring;
  readonly clock: FakeClock;
  /** Routes registered, with the permission each declared. */
  readonly routes: readonly { method: string; url: string; permission: unknown }[];
  /**
   * Calls the stand-in inference route: it answers class `predicted` as variant `variant` and
   * records the prediction; resolves to the request id the server assigned.
   */
  infer(endpoint: string, predicted: number, variant?: string, version?: number): Promise<string>;
  close(): Promise<void>;
}

export interface MonitoringHarnessOptions {
  readonly options?: MonitoringOptions;
  readonly maxBodyBytes?: number;
}

export async function startMonitoringHarness(options: MonitoringHarnessOptions = {}): Promise<MonitoringHarness> {
  const clock = createFakeClock(T0);
  const monitoring = createMonitoring({ store: createMemoryMonitoringStore(), clock, ...(options.options === undefined ? {} : { options: options.options }) });
  const app = createHttpServer({ bodyLimitBytes: 16 * 1024 * 1024, logLevel: 'silent', lifecycle: () => 'ready' });
  const routes: { method: string; url: string; permission: unknown }[] = [];
  app.addHook('onRoute', (route) => {
    routes.push({ method: String(route.method), url: route.url, permission: (route.config as { permission?: unknown } | undefined)?.permission });
  });
  await app.register(monitoringApi({ monitoring, ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }) }), { prefix: '/api/v1' });

  // A stand-in for the data plane, which makes this one synchronous call once the answer is known.
  app.post<{ Params: { name: string }; Querystring: { predicted?: string; variant?: string; version?: string } }>(
    '/v2/models/:name/infer',
    { config: { permission: 'inference:call' } },
    async (req, reply) => {
      const outputs: Tensor[] = [probabilities([Number(req.query.predicted ?? 0)])];
      monitoring.recordPrediction({
        requestId: req.id,
        endpoint: req.params.name,
        model: req.params.name,
        version: Number(req.query.version ?? 1),
        variant: req.query.variant ?? 'stable',
        latencyMs: reply.elapsedTime,
        status: 200,
        outputs,
      });
      return { model_name: req.params.name, model_version: req.query.version ?? '1', parameters: { request_id: req.id }, outputs: [] };
    },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    app,
    monitoring,
    clock,
    routes,
    async infer(endpoint, predicted, variant = 'stable', version = 1) {
      const res = await fetch(`${url}/v2/models/${endpoint}/infer?predicted=${predicted}&variant=${variant}&version=${version}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"inputs":[]}',
      });
      const body = (await res.json()) as { parameters: { request_id: string } };
      return body.parameters.request_id;
    },
    async close() {
      await monitoring.close();
      await app.close();
    },
  };
}

/** A JSON response: status, headers and parsed body. */
export interface JsonResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

/** fetch against the harness, JSON in and out. */
export async function request(
  url: string,
  method: string,
  path: string,
  init: { json?: unknown; body?: string; headers?: Record<string, string> } = {},
): Promise<JsonResponse> {
  const headers = { ...(init.json === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers };
  const body = init.json === undefined ? init.body : JSON.stringify(init.json);
  const res = await fetch(url + path, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, headers: res.headers, body: parsed };
}
