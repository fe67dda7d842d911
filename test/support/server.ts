/**
 * Boots the real Slipway server on 127.0.0.1 with an ephemeral port and a temporary data
 * directory, and speaks HTTP to it. Every integration test goes through here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type ServerHandle } from '../../src/app/index.js';
import type { ModelRuntime } from '../../src/runtime/index.js';

/** The admin key every test server starts with (SLIPWAY_BOOTSTRAP_ADMIN_KEY); `call` and `push` send it. */
export const TEST_ADMIN_KEY = 'slipway-test-admin-key-0123456789';

/** The environment that makes the CLI authenticate as the test admin (`runCli(argv, { env: ADMIN_ENV })`). */
export const ADMIN_ENV: Readonly<Record<string, string>> = { SLIPWAY_API_KEY: TEST_ADMIN_KEY };

/** Headers that authenticate as the test admin, for tests that fetch the server directly. */
export function adminHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${TEST_ADMIN_KEY}`, ...extra };
}

export interface TestServer extends ServerHandle {
  readonly dataDir: string;
  /** fetch against the server as the test admin: `call('GET', '/v2')` (a given `authorization` header replaces the admin's). */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }>;
  /** `call` with another key, or none (undefined). */
  callAs(key: string | undefined, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }>;
  /** Uploads ONNX bytes as a new version; returns the version number. */
  push(model: string, bytes: Uint8Array): Promise<number>;
  /** Creates or re-points an endpoint at model:version, then waits until that version serves. */
  deploy(endpoint: string, model: string, version: number): Promise<void>;
  /** Waits until the endpoint's stable version is `version` and ready, nothing else loading. */
  waitForVersion(endpoint: string, version: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestServer(
  options: { overrides?: Record<string, unknown>; examples?: boolean; runtime?: ModelRuntime; dataDir?: string; env?: Record<string, string> } = {},
): Promise<TestServer> {
  // a given data directory outlives the server (restart tests); a temporary one is removed on stop
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'slipway-it-'));
  const handle = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    examples: options.examples ?? false,
    env: { SLIPWAY_BOOTSTRAP_ADMIN_KEY: TEST_ADMIN_KEY, ...options.env },
    overrides: { 'log.level': 'silent', ...options.overrides },
    ...(options.runtime === undefined ? {} : { runtime: options.runtime }),
  });
  const callAs: TestServer['callAs'] = async (key, method, path, body, headers = {}) => {
    const res = await fetch(handle.url + path, {
      method,
      headers: {
        ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      json = { raw: text };
    }
    return { status: res.status, headers: res.headers, json };
  };
  const call: TestServer['call'] = (method, path, body, headers) => callAs(TEST_ADMIN_KEY, method, path, body, headers);
  const waitForVersion: TestServer['waitForVersion'] = async (endpoint, version, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await call('GET', `/api/v1/endpoints/${endpoint}`);
      const dep = (r.json.endpoint as { deployment?: { ready: boolean; versions: { version: number; role: string; state: string }[] } } | undefined)?.deployment;
      const stable = dep?.versions.find((v) => v.role === 'stable');
      if (dep?.ready === true && stable?.version === version && dep.versions.every((v) => v.role === 'stable' || v.role === 'retiring' || v.role === 'warm')) return;
      if (dep?.versions.some((v) => v.version === version && v.state === 'failed')) throw new Error(`version ${version} failed to load: ${JSON.stringify(dep)}`);
      if (Date.now() > deadline) throw new Error(`endpoint ${endpoint} did not reach version ${version}: ${JSON.stringify(r.json)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return {
    ...handle,
    dataDir,
    call,
    callAs,
    async push(model, bytes) {
      const res = await fetch(`${handle.url}/api/v1/models/${model}/versions`, {
        method: 'POST',
        headers: adminHeaders({ 'content-type': 'application/octet-stream' }),
        body: bytes,
      });
      const json = (await res.json()) as { version?: { version: number }; error?: string };
      if (res.status !== 201 && res.status !== 200) throw new Error(`push ${model} failed: ${res.status} ${JSON.stringify(json)}`);
      return json.version?.version ?? NaN;
    },
    async deploy(endpoint, model, version) {
      const existing = await call('GET', `/api/v1/endpoints/${endpoint}`);
      const r =
        existing.status === 404
          ? await call('POST', '/api/v1/endpoints', { name: endpoint, model, version })
          : await call('PUT', `/api/v1/endpoints/${endpoint}`, { model, version });
      if (r.status >= 300) throw new Error(`deploy ${endpoint} failed: ${r.status} ${JSON.stringify(r.json)}`);
      await waitForVersion(endpoint, version);
    },
    waitForVersion,
    async stop() {
      await handle.close();
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A JSON inference body for the add model: `rows` rows of 4 values. */
export function addRequest(rows: number[][], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { inputs: [{ name: 'x', shape: [rows.length, 4], datatype: 'FP32', data: rows.flat() }], ...extra };
}
