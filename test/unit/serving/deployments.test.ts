import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFakeClock, PlatformError, silentLogger, type ModelSignature, type Tensor } from '../../../src/core/index.js';
import type { Endpoint, EndpointChange, Registry } from '../../../src/registry/index.js';
import type { LoadedModel, LoadOptions, ModelRuntime } from '../../../src/runtime/index.js';
import { createDeploymentManager } from '../../../src/serving/index.js';

const signature: ModelSignature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }] };

/** A registry holding endpoint targets in a map; only what the manager calls. */
function fakeRegistry() {
  const endpoints = new Map<string, { model: string; version: number }>();
  const listeners = new Set<(c: EndpointChange) => void>();
  const registry = {
    async getEndpoint(name: string): Promise<Endpoint> {
      const t = endpoints.get(name);
      if (t === undefined) throw new PlatformError('REGISTRY_ENDPOINT_NOT_FOUND', 'not_found', `no ${name}`);
      return { name, description: '', target: { kind: 'version', ...t }, ...t, createdAt: '', updatedAt: '' };
    },
    async listEndpoints(): Promise<Endpoint[]> {
      return Promise.all([...endpoints.keys()].map((n) => registry.getEndpoint(n)));
    },
    async artifactPath(model: string, version: number) {
      return `/blobs/${model}/${version}`;
    },
    onEndpointChange(l: (c: EndpointChange) => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  const point = (name: string, model: string, version: number) => {
    endpoints.set(name, { model, version });
    for (const l of listeners) l({ endpoint: name, event: {} as EndpointChange['event'] });
  };
  const remove = (name: string) => {
    endpoints.delete(name);
    for (const l of listeners) l({ endpoint: name, event: {} as EndpointChange['event'] });
  };
  return { registry: registry as unknown as Registry, point, remove };
}

/** A runtime whose loads finish only when the test says so. */
function controllableRuntime() {
  const pending = new Map<string, { resolve: (m: LoadedModel) => void; reject: (e: Error) => void }>();
  const unloaded: string[] = [];
  const runtime: ModelRuntime = {
    load(options: LoadOptions) {
      return new Promise<LoadedModel>((resolve, reject) => pending.set(options.artifactPath, { resolve, reject }));
    },
    probe: async () => undefined,
    close: async () => undefined,
  };
  const model = (path: string): LoadedModel => ({
    label: path,
    signature,
    infer: async (): Promise<Tensor[]> => [{ name: 'y', datatype: 'FP32', shape: [1], data: new Float32Array([1]) }],
    stats: () => [],
    unload: async () => void unloaded.push(path),
  });
  const finish = async (path: string, error?: Error) => {
    for (let i = 0; i < 50 && !pending.has(path); i++) await new Promise((r) => setImmediate(r));
    const p = pending.get(path);
    assert.ok(p, `no load pending for ${path}`);
    pending.delete(path);
    if (error) p.reject(error);
    else p.resolve(model(path));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  return { runtime, finish, unloaded };
}

const tick = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

function setup(holdTimeoutMs = 1000) {
  const clock = createFakeClock(0);
  const reg = fakeRegistry();
  const rt = controllableRuntime();
  const manager = createDeploymentManager({ registry: reg.registry, runtime: rt.runtime, clock, logger: silentLogger, replicas: 1, warmup: true, holdTimeoutMs });
  return { clock, ...reg, ...rt, manager };
}

describe('deployment manager', () => {
  test('holds a request while the first version loads, then serves it', async () => {
    const { manager, point, finish } = setup();
    point('ep', 'm', 1);
    const leased = manager.acquire('ep', undefined, new AbortController().signal);
    await tick();
    await finish('/blobs/m/1');
    const lease = await leased;
    assert.equal(lease.version, 1);
    lease.release();
    assert.equal(manager.deployment('ep')?.ready, true);
  });

  test('answers 503 after holdTimeoutMs when the version is still loading', async () => {
    const { manager, point, clock } = setup(500);
    point('ep', 'm', 1);
    const leased = manager.acquire('ep', undefined, new AbortController().signal);
    await tick();
    await clock.advance(499);
    let settled = false;
    leased.then(() => (settled = true), () => (settled = true));
    await tick();
    assert.equal(settled, false);
    await clock.advance(1);
    await assert.rejects(leased, (e: unknown) => e instanceof PlatformError && e.code === 'SERVING_ENDPOINT_UNAVAILABLE' && /still loading/.test(e.message));
  });

  test('keeps serving the old version while the new one loads, switches, then unloads the old one after its last request', async () => {
    const { manager, point, finish, unloaded } = setup();
    point('ep', 'm', 1);
    await finish('/blobs/m/1');
    const old = await manager.acquire('ep', undefined, new AbortController().signal);
    point('ep', 'm', 2);
    await tick();
    // v2 loading: new requests still go to v1
    const during = await manager.acquire('ep', undefined, new AbortController().signal);
    assert.equal(during.version, 1);
    during.release();
    assert.deepEqual(manager.deployment('ep')?.versions.map((v) => [v.version, v.role, v.state]), [[1, 'stable', 'ready'], [2, 'pending', 'loading']]);
    await finish('/blobs/m/2');
    const after = await manager.acquire('ep', undefined, new AbortController().signal);
    assert.equal(after.version, 2);
    after.release();
    assert.deepEqual(unloaded, [], 'v1 still has a request in flight');
    old.release();
    await tick();
    assert.deepEqual(unloaded, ['/blobs/m/1']);
  });

  test('a version that fails to load leaves the old one serving and is reported', async () => {
    const { manager, point, finish } = setup();
    point('ep', 'm', 1);
    await finish('/blobs/m/1');
    point('ep', 'm', 2);
    await finish('/blobs/m/2', new PlatformError('RUNTIME_LOAD_FAILED', 'invalid', 'broken graph'));
    const lease = await manager.acquire('ep', undefined, new AbortController().signal);
    assert.equal(lease.version, 1);
    lease.release();
    const failed = manager.deployment('ep')?.versions.find((v) => v.version === 2);
    assert.equal(failed?.state, 'failed');
    assert.equal(failed?.error?.code, 'RUNTIME_LOAD_FAILED');
  });

  test('a first version that fails to load makes requests fail with 503 naming the load error', async () => {
    const { manager, point, finish } = setup();
    point('ep', 'm', 1);
    await finish('/blobs/m/1', new PlatformError('RUNTIME_LOAD_FAILED', 'invalid', 'broken graph'));
    await assert.rejects(manager.acquire('ep', undefined, new AbortController().signal), /failed to load \(RUNTIME_LOAD_FAILED: broken graph\)/);
  });

  test('names the deployed versions when a request asks for another one', async () => {
    const { manager, point, finish } = setup();
    point('ep', 'm', 3);
    await finish('/blobs/m/3');
    await assert.rejects(manager.acquire('ep', 7, new AbortController().signal), (e: unknown) => e instanceof PlatformError && e.code === 'SERVING_VERSION_NOT_DEPLOYED' && /deployed: 3/.test(e.message));
    await assert.rejects(manager.acquire('nope', undefined, new AbortController().signal), /endpoint 'nope' does not exist/);
  });

  test('a deleted endpoint stops routing and unloads its version', async () => {
    const { manager, point, remove, finish, unloaded } = setup();
    point('ep', 'm', 1);
    await finish('/blobs/m/1');
    remove('ep');
    await tick();
    assert.equal(manager.has('ep'), false);
    assert.deepEqual(unloaded, ['/blobs/m/1']);
  });
});
