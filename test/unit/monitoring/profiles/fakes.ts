/**
 * Stand-ins for the profile service's neighbours: a registry of one-file versions and a model
 * runtime whose "model" is a small function of its inputs, recording every load, batch and unload.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ModelSignature, type Tensor } from '../../../../src/core/index.js';
import type { ProfileRegistry } from '../../../../src/monitoring/profiles/index.js';
import { buildModel } from '../../../../src/onnx/index.js';
import { RegistryErrors, type ModelVersion } from '../../../../src/registry/index.js';
import type { LoadedModel, LoadOptions, ModelRuntime } from '../../../../src/runtime/index.js';

/** x FP32 [batch, 2] → label INT64 [batch] (1 when x0 > x1) and probabilities FP32 [batch, 2]. */
export const CLASSIFIER: ModelSignature = {
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }],
  outputs: [
    { name: 'label', datatype: 'INT64', shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
  ],
};

/** x FP32 [batch, 2] → value FP32 [batch, 1] = x0 + x1. */
export const REGRESSOR: ModelSignature = {
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }],
  outputs: [{ name: 'value', datatype: 'FP32', shape: [-1, 1] }],
};

function run(signature: ModelSignature, inputs: readonly Tensor[]): Tensor[] {
  const x = inputs[0] as Tensor;
  const data = x.data as Float32Array;
  const rows = x.shape[0] as number;
  if (signature === REGRESSOR) {
    const value = new Float32Array(rows);
    for (let r = 0; r < rows; r++) value[r] = (data[2 * r] as number) + (data[2 * r + 1] as number);
    return [{ name: 'value', datatype: 'FP32', shape: [rows, 1], data: value }];
  }
  const label = new BigInt64Array(rows);
  const probabilities = new Float32Array(rows * 2);
  for (let r = 0; r < rows; r++) {
    const one = (data[2 * r] as number) > (data[2 * r + 1] as number);
    label[r] = one ? 1n : 0n;
    probabilities[2 * r] = one ? 0.2 : 0.8;
    probabilities[2 * r + 1] = one ? 0.8 : 0.2;
  }
  return [
    { name: 'label', datatype: 'INT64', shape: [rows], data: label },
    { name: 'probabilities', datatype: 'FP32', shape: [rows, 2], data: probabilities },
  ];
}

export interface FakeRuntime extends ModelRuntime {
  readonly loads: LoadOptions[];
  /** Rows of each inference, in order. */
  readonly batches: number[];
  unloads: number;
  /** When set, every inference waits for it first. */
  gate: Promise<void> | undefined;
}

/** A runtime whose models compute {@link CLASSIFIER} or {@link REGRESSOR}, by the artifact's name. */
export function fakeRuntime(): FakeRuntime {
  const runtime: FakeRuntime = {
    loads: [],
    batches: [],
    unloads: 0,
    gate: undefined,
    async load(options) {
      runtime.loads.push(options);
      const signature = options.artifactPath.includes('regressor') ? REGRESSOR : CLASSIFIER;
      const model: LoadedModel = {
        label: options.label,
        signature,
        async infer(inputs, _outputs, signal) {
          if (runtime.gate !== undefined) await runtime.gate;
          signal?.throwIfAborted();
          runtime.batches.push(inputs[0]?.shape[0] ?? 0);
          return run(signature, inputs);
        },
        stats: () => [],
        async unload() {
          runtime.unloads++;
        },
      };
      return model;
    },
    async probe() {},
    async close() {},
  };
  return runtime;
}

export interface FakeRegistry extends ProfileRegistry {
  readonly dir: string;
  /** Writes a CSV file into the scratch directory; returns its path. */
  csv(name: string, text: string): string;
  cleanup(): void;
}

/**
 * Versions: `clf` 1 (CLASSIFIER, no feature names), `clf` 2 (CLASSIFIER with feature_names
 * ["a", "b"]), `reg` 1 (REGRESSOR), `img` 1 (a rank-3 input).
 */
export function fakeRegistry(): FakeRegistry {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-profile-service-'));
  const artifact = (name: string, metadata?: Record<string, string>): string => {
    const path = join(dir, `${name}.onnx`);
    writeFileSync(
      path,
      buildModel({
        graph: {
          inputs: [{ name: 'x', elemType: 'FLOAT', shape: ['batch', 2] }],
          outputs: [{ name: 'y', elemType: 'FLOAT', shape: ['batch', 2] }],
          nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
        },
        ...(metadata === undefined ? {} : { metadata }),
      }),
    );
    return path;
  };
  const versions: Record<string, { signature: ModelSignature; path: string }> = {
    'clf:1': { signature: CLASSIFIER, path: artifact('classifier') },
    'clf:2': { signature: CLASSIFIER, path: artifact('classifier-named', { feature_names: '["a","b"]' }) },
    'reg:1': { signature: REGRESSOR, path: artifact('regressor') },
    'img:1': { signature: { inputs: [{ name: 'image', datatype: 'FP32', shape: [-1, 8, 8] }], outputs: CLASSIFIER.outputs }, path: artifact('image') },
  };
  const find = (model: string, version: number): { signature: ModelSignature; path: string } => {
    const v = versions[`${model}:${version}`];
    if (v === undefined) throw RegistryErrors.REGISTRY_VERSION_NOT_FOUND(`model "${model}" has no version ${version}`);
    return v;
  };
  return {
    dir,
    async getVersion(model, version) {
      const v = find(model, version);
      return { model, version, signature: v.signature } as unknown as ModelVersion;
    },
    async artifactPath(model, version) {
      return find(model, version).path;
    },
    csv(name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** CSV text: a header, then rows. */
export function csvText(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [header.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n';
}
