/** The payload log's error table: export queries. (Bad options are CORE_INVALID_CONFIG, by path.) */
import { defineErrors } from '../../core/index.js';

export const PayloadLogErrors = defineErrors({
  PAYLOAD_LOG_INVALID_QUERY: {
    kind: 'invalid',
    help: 'A payload export query is malformed: endpoint is an endpoint name, since/until ISO-8601 times, epoch milliseconds or relative durations (1h, 30m), status a class (5xx) or a code (404), comma-separated, and limit a whole number; details.problems names every bad parameter.',
  },
});
