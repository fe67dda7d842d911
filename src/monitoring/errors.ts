/** The monitoring domain's error table: feedback, prediction records and outcome queries. */
import { defineErrors } from '../core/index.js';

export const MonitoringErrors = defineErrors({
  MONITORING_PREDICTION_NOT_FOUND: {
    kind: 'not_found',
    help: 'No prediction with this request id is on record: Slipway did not answer it, or retention (monitoring.predictions.retentionDays, maxRecords) already pruned it; send feedback with the request id of a recent inference (its x-request-id header or parameters.request_id).',
  },
  MONITORING_INVALID_FEEDBACK: {
    kind: 'invalid',
    help: 'A feedback item is malformed: it needs a requestId and at least one of label (string or number), value (finite number) or event (a name); details.problems lists every problem with its field path.',
  },
  MONITORING_TOO_MANY_FEEDBACK_ITEMS: {
    kind: 'too_large',
    help: 'One feedback request carried more items than monitoring.feedback.maxItems (1000 by default); split it into smaller batches.',
  },
  MONITORING_INVALID_OUTCOME_QUERY: {
    kind: 'invalid',
    help: 'An outcome query is malformed: metric must be rate (with an event), mean (optionally with an event and missing=skip|zero) or accuracy, and since/until ISO-8601 times or epoch milliseconds; details.problems lists every problem.',
  },
  MONITORING_INVALID_PARAM: {
    kind: 'invalid',
    help: 'A path parameter is malformed: a request id is 16–128 letters, digits, ".", "_", ":" or "-", and an endpoint name is a DNS label; fix the part of the URL the message names.',
  },
  MONITORING_CLOSED: {
    kind: 'unavailable',
    help: 'Monitoring has been closed because the server is stopping; retry against a running server.',
  },
});
