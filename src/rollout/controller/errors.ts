/** The error table of the rollout controller: what `slipway apply`, the rollout verbs and `slipway rollback` refuse. */
import { defineErrors } from '../../core/index.js';

export const RolloutControllerErrors = defineErrors({
  ROLLOUT_NOT_RUNNING: {
    kind: 'not_found',
    help: 'The endpoint has never had a rollout, so there is nothing to pause, resume, promote or abort; `slipway apply -f FILE.yaml` with a strategy starts one.',
  },
  ROLLOUT_ROLLBACK_TO_CURRENT: {
    kind: 'conflict',
    help: 'The rollback names the version the endpoint serves as stable already, so there is nothing to go back to; name another version, or none for the previous stable version.',
  },
  ROLLOUT_RUNNING: {
    kind: 'conflict',
    help: 'A rollout is running on the endpoint, so it cannot be retried; promote or abort it first.',
  },
  ROLLOUT_SWITCH_PENDING: {
    kind: 'unavailable',
    help: 'The promoted version is not serving as stable yet (it is still loading, or its load failed); the controller retries on its next tick and the rollout stays Promoting until the switch is done.',
  },
  ROLLOUT_OWNS_TRAFFIC: {
    kind: 'conflict',
    help: 'A rollout is running on the endpoint and sets its traffic split; change it with the rollout verbs (`slipway rollout promote|pause|abort`), or abort the rollout before setting a split by hand.',
  },
  ROLLOUT_APPLY_CONFLICT: {
    kind: 'conflict',
    help: 'The spec is valid on its own but does not fit what the registry holds (an endpoint of another model, a preview endpoint name that is a real endpoint, a shadow of the version the endpoint serves); the message names the field and what it collides with. Nothing was changed.',
  },
  ROLLOUT_NO_PREVIOUS_VERSION: {
    kind: 'conflict',
    help: 'The endpoint\'s history has no stable version before the current one to roll back to (it has only ever served one); name a version with `--to-version`.',
  },
});
