/**
 * The runtime's error table. These errors cross the worker-thread boundary as serialized
 * PlatformErrors (see `PlatformError.toJSON` and `revivePlatformError`), so a replica's failure
 * reaches the caller with its code, kind and onnxruntime's own message.
 */
import { defineErrors } from '../core/index.js';

export const RuntimeErrors = defineErrors({
  RUNTIME_LOAD_FAILED: {
    kind: 'invalid',
    help: 'onnxruntime could not create a session from the artifact (not ONNX, an unsupported operator or opset, a corrupt file); the message carries onnxruntime\'s reason — fix or re-export the model.',
  },
  RUNTIME_UNSUPPORTED_MODEL: {
    kind: 'invalid',
    help: 'The model loads but has an input or output that is not a tensor (e.g. a ZipMap map or a sequence) or has an element type the Open Inference Protocol cannot carry; export it with tensor inputs and outputs only (for scikit-learn classifiers: zipmap=False).',
  },
  RUNTIME_INFERENCE_FAILED: {
    kind: 'invalid',
    help: 'onnxruntime refused the inputs or failed while running the model; the message carries its reason (usually a shape or value the model cannot handle).',
  },
  RUNTIME_TENSOR_INVALID: {
    kind: 'invalid',
    help: 'A tensor handed to the runtime is inconsistent (data of the wrong array type for its datatype, or an element count that does not match its shape); the message names the tensor.',
  },
  RUNTIME_INVALID_OPTIONS: {
    kind: 'invalid',
    help: 'A load option (replicas, intraOpThreads, hangTimeoutMs, label, artifactPath) is missing or out of range; the message names it and what is expected.',
  },
  RUNTIME_REPLICA_CRASHED: {
    kind: 'unavailable',
    help: 'The worker thread running the model died while the request was in flight; a replacement replica is being started, so retry the request.',
  },
  RUNTIME_REPLICA_HUNG: {
    kind: 'timeout',
    help: 'A replica made no progress for longer than hangTimeoutMs and was terminated and replaced; retry, and if the model is genuinely that slow raise hangTimeoutMs.',
  },
  RUNTIME_NO_REPLICA: {
    kind: 'unavailable',
    help: 'No replica of the model could serve the request because replacements failed to start; the message has the start error — retry later, and check the artifact and the server log.',
  },
  RUNTIME_UNLOADED: {
    kind: 'unavailable',
    help: 'The model version is being unloaded or the runtime is closing, so it takes no new requests; retry, and the request will reach whichever version now serves the endpoint.',
  },
  RUNTIME_ABORTED: {
    kind: 'unavailable',
    help: 'The request was cancelled (the client went away or a deadline passed) before the model answered; nothing to fix unless it happens for requests that were still wanted.',
  },
});
