/** The error table of model optimisation: quantising and pruning the weights of an ONNX graph. */
import { defineErrors } from '../core/index.js';

/** Factories for every OPTIMIZE_* error code. */
export const OptimizeErrors = defineErrors({
  OPTIMIZE_INVALID_OPTIONS: {
    kind: 'invalid',
    help: 'An optimisation option is missing or out of range: --quantize is `dynamic` or `weight-int8`, --prune a sparsity strictly between 0 and 1, minElements a whole number ≥ 1; the message names each field and what it expects.',
  },
  OPTIMIZE_NOTHING_TO_DO: {
    kind: 'conflict',
    help: 'The model has no weight the rewrite can change: no Gemm, MatMul or Conv with a float32 initializer weight of at least minElements values (it may already be quantised or pruned), or, for structured pruning, no layer whose outputs feed exactly one next layer; `details.skipped` lists each layer and why it was left alone.',
  },
  OPTIMIZE_UNSUPPORTED: {
    kind: 'invalid',
    help: 'The model cannot be rewritten as asked: it has no graph, keeps weights in external files, or declares an opset below what the new operators need and uses an operator whose meaning changed since then (re-export it at opset 13 or later); the message names the cause.',
  },
  OPTIMIZE_NOT_FOUND: {
    kind: 'not_found',
    help: 'No optimisation with this id on this server: they are kept in memory (the newest 100) until it stops; the new version and its validation report are stored, see `slipway validate MODEL:VERSION --report ID`.',
  },
});
