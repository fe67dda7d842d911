/** A registry over the memory store, a file blob store in a temp folder, the fake inspector and a fake clock. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeClock, PlatformError, type FakeClock, type Logger } from '../../../src/core/index.js';
import { createRegistry, type Actor, type PushVersionInput, type PushVersionResult, type Registry } from '../../../src/registry/index.js';
import { createFileBlobStore, createMemoryRegistryStore, type FileBlobStore, type MemoryRegistryStore } from '../../../src/storage/index.js';
import { createFakeInspector, writeFakeModel, type FakeInspector } from './fake-inspector.js';

export interface LogEntry {
  readonly level: string;
  readonly obj: Record<string, unknown>;
  readonly msg: string | undefined;
}

export interface Harness {
  readonly dir: string;
  readonly uploads: string;
  readonly blobs: FileBlobStore;
  readonly store: MemoryRegistryStore;
  readonly inspector: FakeInspector;
  readonly clock: FakeClock;
  readonly logs: LogEntry[];
  readonly registry: Registry;
  /** Pushes a fake model whose bytes are determined by `salt`. */
  push(model: string, salt: string | number, extra?: Partial<PushVersionInput>, actor?: Actor): Promise<PushVersionResult>;
  cleanup(): void;
}

export const ALICE: Actor = { by: 'alice', reason: 'testing' };

export function createHarness(): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-registry-'));
  const uploads = join(dir, 'uploads');
  mkdirSync(uploads);
  const blobs = createFileBlobStore({ dir: join(dir, 'blobs'), stagingDir: join(dir, 'tmp') });
  const store = createMemoryRegistryStore();
  const inspector = createFakeInspector();
  const clock = createFakeClock(Date.UTC(2026, 2, 3, 12));
  const logs: LogEntry[] = [];
  const record =
    (level: string) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      logs.push({ level, obj, msg });
    };
  const logger: Logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
  const registry = createRegistry({ store, blobs, inspector, clock, logger });
  return {
    dir,
    uploads,
    blobs,
    store,
    inspector,
    clock,
    logs,
    registry,
    push(model, salt, extra = {}, actor = ALICE) {
      const artifactPath = writeFakeModel(uploads, `${model}-${salt}.onnx`, salt);
      return registry.pushVersion({ model, artifactPath, ...extra }, actor);
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Asserts a promise rejects with the PlatformError `code` and returns it. */
export async function refused(promise: Promise<unknown>, code: string): Promise<PlatformError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PlatformError, `expected PlatformError ${code}, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}, but the call succeeded`);
}
