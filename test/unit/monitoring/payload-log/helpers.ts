/** Shared helpers of the payload log tests: temp directories, compiled options, captures, a seeded random. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../../../src/core/index.js';
import { compilePayloadLogOptions, type PayloadCapture, type PayloadEntry, type PayloadLogConfig, type PayloadLogOptions } from '../../../../src/monitoring/payload-log/index.js';

/** A fresh directory under the OS temp dir, removed by the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-payloads-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function config(options: PayloadLogOptions = {}): PayloadLogConfig {
  return compilePayloadLogOptions(options);
}

let seq = 0;
/** A capture of one inference request; unique request id unless given. */
export function capture(over: Partial<PayloadCapture> = {}): PayloadCapture {
  seq++;
  return {
    requestId: `req-${String(seq).padStart(12, '0')}`,
    endpoint: 'fraud',
    model: 'fraud-model',
    version: 3,
    variant: 'stable',
    latencyMs: 1.5,
    status: 200,
    method: 'POST',
    path: '/v2/models/fraud/infer',
    requestBody: '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[1,2]}]}',
    responseBody: '{"model_name":"fraud","outputs":[{"name":"y","datatype":"FP32","shape":[1],"data":[0.9]}]}',
    ...over,
  };
}

/** mulberry32: a small seeded generator in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

export const ids = (entries: readonly PayloadEntry[]): string[] => entries.map((e) => e.requestId);

/** The system clock, except that sleeps resolve at once and are written down (backoffs, Retry-After). */
export function instantSleepClock(sleeps: number[]): Clock {
  return {
    ...systemClock,
    sleep(ms, signal) {
      sleeps.push(ms);
      if (signal?.aborted === true) return Promise.reject(signal.reason as Error);
      return Promise.resolve();
    },
  };
}

/** Waits (bounded) until `check` holds; fails the test with `what` otherwise. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A text sink that keeps what the CLI writes. */
export function output(): { text: string; write(chunk: string): boolean } {
  const out = {
    text: '',
    write(chunk: string): boolean {
      out.text += chunk;
      return true;
    },
  };
  return out;
}
