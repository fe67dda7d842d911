/**
 * The registry's ArtifactInspector, built from the ONNX toolkit (signature, facts) and the
 * runtime (can onnxruntime create a session from it?). Registration refuses what either rejects.
 */
import { readFile } from 'node:fs/promises';
import { inspectModel, readModel, toSignature } from '../onnx/index.js';
import type { ArtifactInspector } from '../registry/ports.js';
import type { ModelRuntime } from '../runtime/index.js';

/** `runtime` only needs `probe`; unit tests pass a no-op probe to skip onnxruntime. */
export function createArtifactInspector(runtime: Pick<ModelRuntime, 'probe'>): ArtifactInspector {
  return {
    async inspect(path) {
      const bytes = await readFile(path);
      const model = readModel(bytes);
      const inspection = inspectModel(model);
      const signature = toSignature(inspection);
      await runtime.probe(path);
      return {
        signature,
        onnx: {
          irVersion: inspection.irVersion,
          producerName: inspection.producerName,
          producerVersion: inspection.producerVersion,
          opsets: inspection.opsets.map((o) => ({ domain: o.domain, version: o.version })),
          nodeCount: inspection.nodeCount,
          initializerCount: inspection.initializers.count,
          initializerBytes: inspection.initializers.bytes,
        },
      };
    },
  };
}
