/**
 * A stand-in for the app's ONNX inspector: artifacts are small JSON descriptions. A file
 * `{ "fakeOnnx": { "inputs": […], "outputs": […] }, "salt": … }` inspects to that signature; a file
 * `{ "fail": { "code", "kind", "message" } }` throws that PlatformError; anything else throws
 * ONNX_NOT_ONNX, as the real toolkit refuses a file that is not ONNX.
 */
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PlatformError, type ErrorKind, type ModelSignature } from '../../../src/core/index.js';
import type { ArtifactInspection, ArtifactInspector, OnnxFacts } from '../../../src/registry/index.js';

export const FAKE_ONNX_FACTS: OnnxFacts = {
  irVersion: 8,
  producerName: 'fake',
  producerVersion: '0',
  opsets: [{ domain: '', version: 17 }],
  nodeCount: 1,
  initializerCount: 0,
  initializerBytes: 0,
};

export const FAKE_SIGNATURE: ModelSignature = {
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }],
};

export interface FakeInspector extends ArtifactInspector {
  /** Paths inspected so far. */
  readonly calls: string[];
}

export function createFakeInspector(): FakeInspector {
  const calls: string[] = [];
  return {
    calls,
    async inspect(path): Promise<ArtifactInspection> {
      calls.push(path);
      const text = await readFile(path, 'utf8');
      let parsed: { fakeOnnx?: ModelSignature; fail?: { code: string; kind: ErrorKind; message: string } } | undefined;
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        parsed = undefined;
      }
      if (parsed?.fail !== undefined) throw new PlatformError(parsed.fail.code, parsed.fail.kind, parsed.fail.message);
      if (parsed?.fakeOnnx === undefined) throw new PlatformError('ONNX_NOT_ONNX', 'invalid', `"${path}" is not an ONNX model`);
      return { signature: parsed.fakeOnnx, onnx: FAKE_ONNX_FACTS };
    },
  };
}

/** Writes a fake artifact; different `salt`s give different bytes (and digests). */
export function writeFakeModel(dir: string, name: string, salt: string | number = name, signature: ModelSignature = FAKE_SIGNATURE): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ fakeOnnx: signature, salt }));
  return path;
}

export function writeFailingModel(dir: string, name: string, fail: { code: string; kind: ErrorKind; message: string }): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ fail }));
  return path;
}
