/** Feature names read from a model held in memory (an artifact decrypted by the blob store), as from its file. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readOnnxMetadata, readOnnxMetadataFromBytes } from '../../../../src/monitoring/profiles/feature-names.js';
import { buildModel } from '../../../../src/onnx/index.js';

void test('the metadata of a model in memory equals that of its file; junk reads as none', async () => {
  const bytes = buildModel({
    graph: {
      inputs: [{ name: 'x', elemType: 'FLOAT', shape: ['batch', 2] }],
      outputs: [{ name: 'y', elemType: 'FLOAT', shape: ['batch', 2] }],
      initializers: [{ name: 'w', elemType: 'FLOAT', dims: [64], values: new Float32Array(64).fill(1) }],
      nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
    },
    metadata: { feature_names: '["height","weight"]', author: 'me' },
  });
  const dir = mkdtempSync(join(tmpdir(), 'slipway-meta-bytes-'));
  try {
    writeFileSync(join(dir, 'm.onnx'), bytes);
    const fromFile = await readOnnxMetadata(join(dir, 'm.onnx'));
    assert.deepEqual(fromFile, { feature_names: '["height","weight"]', author: 'me' });
    assert.deepEqual(await readOnnxMetadataFromBytes(new Uint8Array(bytes)), fromFile);
    assert.deepEqual(await readOnnxMetadataFromBytes(Buffer.from('SLWENC01 not a model')), {});
    assert.deepEqual(await readOnnxMetadataFromBytes(new Uint8Array(0)), {});
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
