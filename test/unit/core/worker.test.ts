import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withoutTsxImport } from '../../../src/core/index.js';

test('a worker started under tsx does not inherit `--import tsx`, and keeps every other option', () => {
  assert.deepEqual(withoutTsxImport(['--import', 'tsx', '--max-old-space-size=512']), ['--max-old-space-size=512']);
  assert.deepEqual(withoutTsxImport(['--import=tsx', '--enable-source-maps']), ['--enable-source-maps']);
  assert.deepEqual(withoutTsxImport(['--import', './other.mjs', '--import', 'tsx']), ['--import', './other.mjs']);
  assert.deepEqual(withoutTsxImport([]), []);
});
