import { defineErrors } from '../../core/index.js';

/** Errors of endpoint specs (`slipway apply`, POST /api/v1/apply). */
export const RolloutSpecErrors = defineErrors({
  ROLLOUT_SPEC_INVALID: {
    kind: 'invalid',
    help: 'The endpoint spec is not valid YAML or breaks a rule; the message lists every problem with its path (documents[i].spec.…) and what was expected, and nothing was applied. See docs/rollout-spec.md.',
  },
});
