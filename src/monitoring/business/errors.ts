/** The business metrics' error table: report queries. */
import { defineErrors } from '../../core/index.js';

export const BusinessErrors = defineErrors({
  BUSINESS_INVALID_QUERY: {
    kind: 'invalid',
    help: 'A business report query is malformed: since and until are ISO-8601 times, milliseconds since the epoch, or a duration ago (24h, 90m, 7d), and until must be after since; details.problems lists every problem.',
  },
});
