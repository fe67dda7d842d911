import { defineErrors } from '../../core/index.js';

/** Errors of the traffic router (policies handed to the data plane by the rollout controller). */
export const RoutingErrors = defineErrors({
  ROUTING_POLICY_INVALID: {
    kind: 'invalid',
    help: 'A traffic policy (weights, variants, stickiness, header routes or mirror) is inconsistent; the message lists every problem with its path. Policies normally come from a validated endpoint spec, so this points at the rollout that built it.',
  },
  ROUTING_MIRROR_OPTIONS_INVALID: {
    kind: 'invalid',
    help: 'The shadow mirror was created with a bad queue size, concurrency or timeout; the message names the option and the range expected.',
  },
});
