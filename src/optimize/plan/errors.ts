/**
 * The error table of capacity planning (`slipway plan`): bad targets, bad measurement options, and
 * a model that cannot be run with the inputs the planner was given. Aborting a measurement rejects
 * with the shared CORE_ABORTED; runtime failures (a model that does not load) pass through as the
 * runtime's own RUNTIME_* errors.
 */
import { defineErrors } from '../../core/index.js';

export const PlanErrors = defineErrors({
  OPTIMIZE_PLAN_INVALID_TARGET: {
    kind: 'invalid',
    help: 'A planning target is missing or out of range: `rps` and `p99Ms` must be finite numbers above 0, `pricePerCoreHour` a finite number ≥ 0 (0 or absent: no cost), `headroom` a number in (0, 1]; the message names each field and the value given.',
  },
  OPTIMIZE_PLAN_INVALID_OPTIONS: {
    kind: 'invalid',
    help: 'A measurement option is out of range (cores, grid lists of thread counts, replica counts, batch sizes or queue delays, durations, the budget); the message lists every problem with its path and what is expected.',
  },
  OPTIMIZE_PLAN_INPUTS_REFUSED: {
    kind: 'invalid',
    help: 'The model refused the inputs the planner ran it with (zero-filled inputs by default) at a batch of one request, so nothing could be measured; give sample rows that the model accepts. The message carries onnxruntime\'s reason.',
  },
  OPTIMIZE_PLAN_NOT_FOUND: {
    kind: 'not_found',
    help: 'No capacity plan with this id on this server: neither a running job nor a stored plan has it (`slipway plans list MODEL:VERSION` shows the ids kept); run `slipway plan` again.',
  },
  OPTIMIZE_PLAN_BUSY: {
    kind: 'limited',
    help: 'The server is measuring a capacity plan already (a plan uses every core while it measures), or it is stopping; retry after the Retry-After delay.',
  },
});
