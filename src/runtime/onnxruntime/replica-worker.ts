/**
 * The replica worker: one onnxruntime session inside one worker thread. `session.run` blocks the
 * thread it runs on, so it runs here rather than on the HTTP thread. Messages are handled strictly
 * one after another in arrival order, so a `close` runs after every `infer` sent before it.
 */
import v8 from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import { PlatformError, toPlatformError, type Tensor } from '../../core/index.js';
import { RuntimeErrors } from '../errors.js';
import type { OrtModelInfo } from './metadata.js';
import { forTransfer, type FromReplica, type ReplicaTestHook, type ReplicaWorkerData, type ToReplica } from './protocol.js';
import { createSession, describeError, runSession, warmSession } from './session.js';

const port = parentPort;
if (port === null) throw new Error('replica-worker must run inside a worker thread');
const data = workerData as ReplicaWorkerData;

let session: ort.InferenceSession | undefined;
let info: OrtModelInfo | undefined;

// V8 heap statistics cost microseconds per call: read them at most every 100 ms, not per reply
let heapAt = -Infinity;
let heapCached = 0;

/** V8 heap in use plus memory held outside it by ArrayBuffers, for this worker's isolate. */
function heapBytes(): number {
  const now = performance.now();
  if (now - heapAt >= 100) {
    const h = v8.getHeapStatistics();
    heapCached = h.used_heap_size + h.external_memory;
    heapAt = now;
  }
  return heapCached;
}

function post(message: FromReplica, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

function requireSession(): ort.InferenceSession {
  if (session === undefined) throw RuntimeErrors.RUNTIME_UNLOADED(`replica ${data.replicaId} has no session`);
  return session;
}

function run(inputs: readonly Tensor[], outputs: readonly string[] | undefined): Promise<Tensor[]> {
  return runSession(requireSession(), inputs, outputs);
}

async function load(message: Extract<ToReplica, { type: 'load' }>): Promise<void> {
  const started = performance.now();
  try {
    const created = await createSession(message.artifactPath, message.intraOpThreads, message.sessionOptions, message.model);
    session = created.session;
    info = created.info;
  } catch (error) {
    post({ type: 'load-failed', error: toPlatformError(error).toJSON(), heapBytes: heapBytes() });
    return;
  }
  post({ type: 'loaded', info, loadMs: performance.now() - started, heapBytes: heapBytes() });
}

async function warmup(message: Extract<ToReplica, { type: 'warmup' }>): Promise<void> {
  const started = performance.now();
  try {
    const timing = await warmSession(requireSession(), info ?? { inputs: [], outputs: [] }, message.measureBatch, message.stopAboveMs);
    post({ type: 'warmed', warmupMs: performance.now() - started, ...(timing === undefined ? {} : { timing }), heapBytes: heapBytes() });
  } catch (error) {
    post({ type: 'warmed', warmupMs: performance.now() - started, error: toPlatformError(error).toJSON(), heapBytes: heapBytes() });
  }
}

async function infer(message: Extract<ToReplica, { type: 'infer' }>): Promise<void> {
  const started = performance.now();
  try {
    const outputs = await run(message.inputs, message.outputs);
    // the outputs belong to nobody else here: move their buffers instead of copying them
    const moved = forTransfer(outputs, false);
    post({ type: 'result', id: message.id, outputs: moved.tensors, runMs: performance.now() - started, heapBytes: heapBytes() }, moved.transfer);
  } catch (error) {
    const e = error instanceof PlatformError ? error : RuntimeErrors.RUNTIME_INFERENCE_FAILED(describeError(error));
    post({ type: 'failed', id: message.id, error: e.toJSON(), runMs: performance.now() - started, heapBytes: heapBytes() });
  }
}

async function close(): Promise<void> {
  const s = session;
  session = undefined;
  try {
    await s?.release();
  } finally {
    post({ type: 'closed', heapBytes: heapBytes() });
    // with the port closed and the session released nothing is left to keep this thread alive
    port?.close();
  }
}

function testHook(hook: ReplicaTestHook): void {
  if (!data.testHooks) return;
  switch (hook.hook) {
    case 'block':
      // Atomics.wait blocks the thread the way a long native call does (and terminate() still interrupts it)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, hook.ms);
      if (hook.exitCode !== undefined) process.exit(hook.exitCode);
      return;
    case 'exit':
      process.exit(hook.exitCode);
      return;
    case 'throw':
      setImmediate(() => {
        throw new Error(hook.message);
      });
      return;
  }
}

async function handle(message: ToReplica): Promise<void> {
  switch (message.type) {
    case 'load':
      return load(message);
    case 'warmup':
      return warmup(message);
    case 'infer':
      return infer(message);
    case 'close':
      return close();
    case 'test':
      return testHook(message.test);
  }
}

let chain: Promise<void> = Promise.resolve();
port.on('message', (message: ToReplica) => {
  chain = chain.then(() => handle(message)).catch((error: unknown) => {
    // handle() answers every request itself; reaching here is a fault in this file
    throw toPlatformError(error);
  });
});
