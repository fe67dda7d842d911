export * from './types.js';
export * from './errors.js';
export {
  createOnnxRuntime,
  defaultIntraOpThreads,
  MAIN_THREAD_BUDGET,
  type OnnxLoadedModel,
  type OnnxModelRuntime,
  type OnnxRuntimeOptions,
} from './onnxruntime/onnx-runtime.js';
export { datatypeOfOrtType, ORT_TYPE_BY_DATATYPE, signatureFromOrt, type OrtModelInfo, type OrtValueInfo } from './onnxruntime/metadata.js';
export type { InferRequest, WorkerReplica } from './onnxruntime/worker-replica.js';
export type { RunTiming } from './onnxruntime/session.js';
export type { ReplicaTestHook } from './onnxruntime/protocol.js';
