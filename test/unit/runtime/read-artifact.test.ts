/**
 * The runtime's artifact reader (encryption at rest): when it hands over the model's bytes, every
 * replica's session is created from them — in a worker (the bytes moved there) or on the main
 * thread — and the file itself is never read; when it rejects, the load fails with its error.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { PlatformError, type Tensor } from '../../../src/core/index.js';
import { createOnnxRuntime, type OnnxModelRuntime } from '../../../src/runtime/index.js';
import { AtRestErrors } from '../../../src/security/at-rest/index.js';
import { addModel } from '../../support/models.js';

/** A path that does not exist: a load that reads it fails, so a load that works used the bytes. */
const NOWHERE = '/nonexistent/slipway/blob/sha256/0000';
const x = (): Tensor[] => [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: Float32Array.from([1, 2, 3, 4]) }];

const runtimes: OnnxModelRuntime[] = [];
after(async () => {
  await Promise.all(runtimes.map((r) => r.close()));
});

function runtimeWith(readArtifact: (path: string) => Promise<Uint8Array | undefined>): OnnxModelRuntime {
  const runtime = createOnnxRuntime({ readArtifact, cores: 1 });
  runtimes.push(runtime);
  return runtime;
}

describe('the runtime with an artifact reader', () => {
  test('creates worker sessions from the bytes it is given, moved to the worker, once per replica', async () => {
    const handed: Uint8Array[] = [];
    const runtime = runtimeWith(async (path) => {
      assert.equal(path, NOWHERE);
      const bytes = new Uint8Array(addModel(2)); // a buffer of its own, as the blob store hands over
      handed.push(bytes);
      return bytes;
    });
    const loaded = await runtime.load({ label: 'bytes/worker', artifactPath: NOWHERE, replicas: 2, placement: 'worker' });
    try {
      const [y] = await loaded.infer(x(), undefined);
      assert.deepEqual([...(y?.data as Float32Array)], [3, 4, 5, 6]);
      assert.equal(handed.length, 2, 'one read per replica');
      for (const bytes of handed) assert.equal(bytes.byteLength, 0, 'the bytes were transferred, not copied');
    } finally {
      await loaded.unload();
    }
  });

  test('creates a main-thread session from the bytes, and zeroes them once onnxruntime has its copy', async () => {
    let handed: Uint8Array | undefined;
    const runtime = runtimeWith(async () => (handed = new Uint8Array(addModel(5))));
    const loaded = await runtime.load({ label: 'bytes/main', artifactPath: NOWHERE, replicas: 1, placement: 'main-thread' });
    try {
      const [y] = await loaded.infer(x(), undefined);
      assert.deepEqual([...(y?.data as Float32Array)], [6, 7, 8, 9]);
      assert.ok(handed !== undefined && handed.length > 0 && handed.every((b) => b === 0));
    } finally {
      await loaded.unload();
    }
  });

  test('a reader that rejects fails the load with its own error', async () => {
    const runtime = runtimeWith(async () => {
      throw AtRestErrors.SECURITY_ENCRYPTION_NOT_CONFIGURED('model file is encrypted under master key "k9"');
    });
    await assert.rejects(runtime.load({ label: 'bytes/refused', artifactPath: NOWHERE, replicas: 1, placement: 'worker' }), (error: unknown) => {
      assert.ok(error instanceof PlatformError);
      assert.equal(error.code, 'SECURITY_ENCRYPTION_NOT_CONFIGURED');
      assert.match(error.message, /"k9"/);
      return true;
    });
    await assert.rejects(runtime.probe(NOWHERE), /"k9"/);
  });

  test('a reader that answers undefined leaves the file to onnxruntime', async () => {
    const runtime = runtimeWith(async () => undefined);
    await assert.rejects(runtime.load({ label: 'bytes/file', artifactPath: NOWHERE, replicas: 1, placement: 'worker' }), (error: unknown) => {
      assert.ok(error instanceof PlatformError);
      assert.equal(error.code, 'RUNTIME_LOAD_FAILED');
      return true;
    });
  });
});
