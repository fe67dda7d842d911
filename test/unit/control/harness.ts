/**
 * A control-API test server: the real registry over the memory store and a file blob store in a
 * temporary directory, the control plugin mounted at /api/v1 of a real Fastify instance on
 * 127.0.0.1 (ephemeral port), with the same error handling and permission check as the app.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { createFakeClock, toHttpError, type FakeClock } from '../../../src/core/index.js';
import { controlApi } from '../../../src/control/index.js';
import { createRegistry, type ArtifactInspector, type Registry, type SignatureVerifier } from '../../../src/registry/index.js';
import { createArtifactInspector } from '../../../src/app/artifact-inspector.js';
import { isPermission } from '../../../src/security/index.js';
import type { DeploymentStatusView, EndpointDeployment } from '../../../src/serving/types.js';
import { createFileBlobStore, createMemoryRegistryStore } from '../../../src/storage/index.js';
import { addModel } from '../../support/models.js';

/** Reads signature and facts with the ONNX toolkit alone (no onnxruntime probe: unit tests stay light). */
const toolkitInspector: ArtifactInspector = createArtifactInspector({ probe: async () => undefined });

export interface ControlHarness {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly registry: Registry;
  readonly clock: FakeClock;
  readonly uploadDir: string;
  /** A scratch directory for files the test writes. */
  readonly dir: string;
  /** Live deployments the fake data plane reports, by endpoint. */
  readonly deployments: Map<string, EndpointDeployment>;
  /** Writes a real ONNX model (y = x + k) into the scratch directory and returns its path. */
  modelFile(k: number, name?: string): string;
  /** Files left in the upload directory (should be none between requests). */
  leftoverUploads(): string[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly maxUploadBytes?: number;
  readonly maxJsonBodyBytes?: number;
  readonly principal?: string;
  /** Registers more routes (e.g. a fake data plane) before the server listens. */
  readonly extraRoutes?: (app: FastifyInstance, registry: Registry) => void;
  /** Checks artifact signatures in the registry and for `verified` in answers; none by default. */
  readonly signatures?: SignatureVerifier;
}

export async function startControlHarness(options: HarnessOptions = {}): Promise<ControlHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-control-'));
  const uploadDir = join(dir, 'uploads');
  const clock = createFakeClock(Date.UTC(2026, 2, 1, 9, 0, 0));
  const registry = createRegistry({
    store: createMemoryRegistryStore(),
    blobs: createFileBlobStore({ dir: join(dir, 'blobs') }),
    inspector: toolkitInspector,
    clock,
    ...(options.signatures === undefined ? {} : { signatures: options.signatures }),
  });
  const deployments = new Map<string, EndpointDeployment>();
  const view: DeploymentStatusView = { deployment: (name) => deployments.get(name) };

  const app = Fastify();
  // the app refuses routes without a declared permission; so does the harness
  app.addHook('onRoute', (route) => {
    const permission = (route.config as { permission?: unknown } | undefined)?.permission;
    if (!isPermission(permission)) throw new Error(`route ${String(route.method)} ${route.url} declares no permission`);
  });
  app.setErrorHandler((error, _req, reply) => {
    const http = toHttpError(error);
    void reply.code(http.status).headers(http.headers).send(http.body);
  });
  await app.register(
    controlApi({
      registry,
      deployments: view,
      uploadDir,
      maxUploadBytes: options.maxUploadBytes ?? 64 * 1024 * 1024,
      ...(options.maxJsonBodyBytes === undefined ? {} : { maxJsonBodyBytes: options.maxJsonBodyBytes }),
      ...(options.principal === undefined ? {} : { principal: () => options.principal ?? 'anonymous' }),
      ...(options.signatures === undefined ? {} : { signatures: options.signatures }),
    }),
    { prefix: '/api/v1' },
  );
  options.extraRoutes?.(app, registry);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  return {
    url: `http://127.0.0.1:${port}`,
    app,
    registry,
    clock,
    uploadDir,
    dir,
    deployments,
    modelFile(k, name = `model-${k}.onnx`) {
      const path = join(dir, name);
      writeFileSync(path, addModel(k));
      return path;
    },
    leftoverUploads() {
      try {
        return readdirSync(uploadDir);
      } catch {
        return [];
      }
    },
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
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
  init: { json?: unknown; body?: string | Uint8Array; headers?: Record<string, string> } = {},
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
