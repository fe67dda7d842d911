/**
 * The control plane's error table: refusals of the /api/v1 routes (bad path parameters, bodies,
 * uploads) and failures of the typed client (server unreachable, unexpected answers, local files).
 * Registry refusals (unknown model, duplicate endpoint, …) keep their REGISTRY_* codes.
 */
import { defineErrors } from '../core/index.js';

export const ControlErrors = defineErrors({
  CONTROL_INVALID_PARAM: {
    kind: 'invalid',
    help: 'A path parameter is malformed: model, alias and endpoint names are DNS labels (lowercase letters, digits, "-"), versions are positive whole numbers; fix the part of the URL the message names.',
  },
  CONTROL_INVALID_QUERY: {
    kind: 'invalid',
    help: 'A query-string parameter is malformed (for example `at` that is not an ISO-8601 time); the message names it and what was expected.',
  },
  CONTROL_INVALID_BODY: {
    kind: 'invalid',
    help: 'The JSON body is missing fields, has unknown ones or values of the wrong type; details.problems lists every problem with its field path.',
  },
  CONTROL_INVALID_METADATA: {
    kind: 'invalid',
    help: 'The metadata of an upload (description, tag, parent, dataDigest, metrics, modelDescription — from the query string, X-Slipway-* headers or multipart fields) is malformed; details.problems lists every problem.',
  },
  CONTROL_INVALID_MULTIPART: {
    kind: 'invalid',
    help: 'A multipart/form-data upload is malformed or lacks its `file` part; send one part named `file` holding the ONNX bytes, or send the bytes as the raw body (application/octet-stream).',
  },
  CONTROL_UPLOAD_EMPTY: {
    kind: 'invalid',
    help: 'The upload carried no bytes; send the ONNX file as the request body (or as the multipart `file` part).',
  },
  CONTROL_UPLOAD_INCOMPLETE: {
    kind: 'invalid',
    help: 'The upload stopped before the body was complete (the client went away or the connection broke); nothing was registered, send it again.',
  },
  CONTROL_UPLOAD_TOO_LARGE: {
    kind: 'too_large',
    help: 'The uploaded model is larger than the server accepts (server.uploadLimitBytes, 2 GiB by default); shrink the model or raise the limit.',
  },
  CONTROL_CLIENT_INVALID_URL: {
    kind: 'invalid',
    help: 'The server address given to the client (--server, $SLIPWAY_SERVER) is not an http(s) URL; use something like http://127.0.0.1:8080.',
  },
  CONTROL_CLIENT_UNREACHABLE: {
    kind: 'unavailable',
    help: 'Nothing answers at the server address; start the server with `slipway serve`, or point --server / $SLIPWAY_SERVER at the right address.',
  },
  CONTROL_CLIENT_CONNECTION_LOST: {
    kind: 'unavailable',
    help: 'The connection to the server broke before the answer arrived; check the server log and retry.',
  },
  CONTROL_CLIENT_BAD_RESPONSE: {
    kind: 'internal',
    help: 'The server answered with something that is not a Slipway response (a proxy page, a different service); check that --server points at a Slipway server.',
  },
  CONTROL_CLIENT_FILE_NOT_FOUND: {
    kind: 'not_found',
    help: 'The local file named on the command line does not exist; check the path.',
  },
  CONTROL_CLIENT_FILE_UNREADABLE: {
    kind: 'invalid',
    help: 'The local file named on the command line cannot be read (a directory, no permission); check the path and its permissions.',
  },
});
