/**
 * A profile API test server: the control harness (the real registry over a memory store, real
 * ONNX add models y = x + k) with the profile plugin at /api/v1 over a memory profile store and a
 * stand-in runtime that computes the add model (y = x + 1 and its row sums) without onnxruntime.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor } from '../../../../src/core/index.js';
import { profileApi } from '../../../../src/monitoring/profiles/api.js';
import { createProfileService, type ProfileService } from '../../../../src/monitoring/profiles/index.js';
import type { LoadedModel, ModelRuntime } from '../../../../src/runtime/index.js';
import { createMemoryProfileStore, type MemoryProfileStore } from '../../../../src/storage/index.js';
import { startControlHarness, type ControlHarness } from '../../control/harness.js';

export interface ProfileHarness extends ControlHarness {
  readonly service: ProfileService;
  readonly store: MemoryProfileStore;
  /** Where the profile route writes CSV bodies (empty between requests). */
  readonly profileUploadDir: string;
  /** Rows of each inference the stand-in runtime ran. */
  readonly batches: number[];
}

/** y = x + 1 and sum = Σ y per row, for x FP32 [batch, k]: the add model with k = 1. */
function adderRuntime(batches: number[]): ModelRuntime {
  return {
    async load(options) {
      const model: LoadedModel = {
        label: options.label,
        signature: { inputs: [], outputs: [] },
        async infer(inputs) {
          const x = inputs[0] as Tensor;
          const [rows, cols] = x.shape as [number, number];
          batches.push(rows);
          const y = Float32Array.from(x.data as Float32Array, (v) => v + 1);
          const sum = new Float32Array(rows);
          for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) sum[r] = (sum[r] as number) + (y[r * cols + c] as number);
          return [
            { name: 'y', datatype: 'FP32', shape: [rows, cols], data: y },
            { name: 'sum', datatype: 'FP32', shape: [rows, 1], data: sum },
          ];
        },
        stats: () => [],
        async unload() {},
      };
      return model;
    },
    async probe() {},
    async close() {},
  };
}

export async function startProfileHarness(options: { maxUploadBytes?: number; maxRows?: number } = {}): Promise<ProfileHarness> {
  const store = createMemoryProfileStore();
  const batches: number[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'slipway-profile-api-'));
  const profileUploadDir = join(scratch, 'uploads');
  let service: ProfileService | undefined;
  const h = await startControlHarness({
    extraRoutes: (app, registry) => {
      service = createProfileService({ registry, runtime: adderRuntime(batches), store, ...(options.maxRows === undefined ? {} : { maxRows: options.maxRows }) });
      void app.register(profileApi({ service, uploadDir: profileUploadDir, maxUploadBytes: options.maxUploadBytes ?? 1024 * 1024 }), { prefix: '/api/v1' });
    },
  });
  if (service === undefined) throw new Error('the profile service was not created');
  const created = service;
  const closeControl = h.close.bind(h);
  return Object.assign(h, {
    service: created,
    store,
    profileUploadDir,
    batches,
    async close() {
      await created.close();
      await closeControl();
      rmSync(scratch, { recursive: true, force: true });
    },
  });
}
