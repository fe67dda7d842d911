/** The error table of request limits: rate limits and quotas of API keys and endpoints (docs/security.md, Limits). */
import { defineErrors } from '../../core/index.js';

export const LimitErrors = defineErrors({
  SECURITY_LIMIT_RATE: {
    kind: 'limited',
    help: 'The API key or endpoint the message names sent requests faster than its rate limit allows; wait the Retry-After seconds, send more slowly, or raise its ratePerSecond and burst.',
  },
  SECURITY_LIMIT_QUOTA: {
    kind: 'limited',
    help: 'The API key or endpoint the message names has used up its request quota for the current UTC minute, hour or day; retry after the Retry-After seconds, when the quota resets, or raise its quota.',
  },
  SECURITY_LIMIT_EXTRACTION: {
    kind: 'limited',
    help: 'Abuse detection flagged the caller the message names: its queries to this endpoint look like a model-extraction attack, so its requests there are throttled (security.abuse.throttle); an admin can see why with `slipway abuse list`.',
  },
});
