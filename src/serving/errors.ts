import { defineErrors } from '../core/index.js';

/** Errors of the data plane (Open Inference Protocol requests, endpoints, deployments). */
export const ServingErrors = defineErrors({
  SERVING_INVALID_REQUEST: {
    kind: 'invalid',
    help: 'The inference request does not follow the Open Inference Protocol or does not match the model: the message names the field and what was expected (see GET /v2/models/{name} for the inputs).',
  },
  SERVING_UNKNOWN_INPUT: { kind: 'invalid', help: 'The request names an input the model does not have; the message lists the model inputs.' },
  SERVING_MISSING_INPUT: { kind: 'invalid', help: 'The request lacks an input the model needs; the message names it.' },
  SERVING_UNKNOWN_OUTPUT: { kind: 'invalid', help: 'The request asks for an output the model does not produce; the message lists the model outputs.' },
  SERVING_DATATYPE_MISMATCH: { kind: 'invalid', help: 'An input tensor has a datatype other than the model declares; convert the data or change `datatype`.' },
  SERVING_SHAPE_MISMATCH: { kind: 'invalid', help: 'An input tensor has a rank or a fixed dimension that differs from the model (for example a batch of 2 sent to a model whose batch dimension is fixed at 1).' },
  SERVING_DATA_LENGTH_MISMATCH: { kind: 'invalid', help: 'The number of elements in `data` differs from the product of `shape`.' },
  SERVING_INVALID_DATA: { kind: 'invalid', help: 'An element of `data` is not a valid value for the datatype (a string in an FP32 tensor, 300 in a UINT8 tensor, …).' },
  SERVING_TENSOR_TOO_LARGE: {
    kind: 'too_large',
    help: 'The inputs declare more elements in total (the products of their shapes) than serving.maxTensorElements allows; the message names the input, its shape and the limit. Send fewer rows per request, or raise the limit.',
  },
  SERVING_ENDPOINT_NOT_FOUND: { kind: 'not_found', help: 'No endpoint has that name. List them with `slipway endpoints list` or GET /api/v1/endpoints.' },
  SERVING_VERSION_NOT_DEPLOYED: { kind: 'not_found', help: 'That version is not deployed on the endpoint; the message lists the deployed versions. Omit /versions/N to let the endpoint route.' },
  SERVING_ENDPOINT_UNAVAILABLE: { kind: 'unavailable', help: 'The endpoint has no ready version: it is loading (the request was held for holdTimeoutMs) or its version failed to load (see GET /api/v1/endpoints/{name}).' },
  SERVING_STARTING: { kind: 'unavailable', help: 'The server is starting; retry after the Retry-After delay.' },
  SERVING_DRAINING: { kind: 'unavailable', help: 'The server is shutting down and takes no new requests; retry against another instance or after restart.' },
  SERVING_TIMEOUT: { kind: 'timeout', help: 'The inference did not finish within serving.inferTimeoutMs.' },
  SERVING_CLIENT_GONE: { kind: 'unavailable', help: 'The client closed the connection before the answer was ready; the work was cancelled.' },
  SERVING_TRAFFIC_REFUSED: {
    kind: 'conflict',
    help: 'The traffic policy cannot be applied now: the endpoint has no ready stable version, `stable` is not its stable version, a version it names failed to load, or the endpoint changed meanwhile; the old policy stays in place.',
  },
  SERVING_AUTOSCALING_OFF: {
    kind: 'conflict',
    help: 'Autoscaling is switched off for the whole server (serving.autoscaling.enabled: false), so an endpoint has no autoscaler options to set; switch it on in the configuration first.',
  },
  SERVING_QUEUE_FULL: {
    kind: 'limited',
    help: 'Every replica of the version is busy and its batching queue holds serving.batching.maxQueueSize requests already; retry after the Retry-After delay, add replicas, or raise maxQueueSize.',
  },
  SERVING_QUEUE_TIMEOUT: {
    kind: 'limited',
    help: 'The request waited in the batching queue longer than serving.batching.queueTimeoutMs and was never run, so retrying is safe; the version is overloaded — add replicas or raise the timeout.',
  },
});
