/** The problems a config compiler reports: runs `fn`, expects CORE_INVALID_CONFIG, returns its problems. */
import assert from 'node:assert/strict';
import { PlatformError } from '../../src/core/index.js';

export function problemsOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof PlatformError);
    assert.equal(error.code, 'CORE_INVALID_CONFIG');
    return (error.details?.problems ?? []) as { path: string; message: string }[];
  }
  assert.fail('expected CORE_INVALID_CONFIG');
}
