/**
 * Model optimisation (docs/optimize.md): graph rewrites that make a registered ONNX model smaller
 * or faster — int8 quantisation (dynamic or weight-only) and magnitude pruning (unstructured or
 * structured) — each returning a new model and a report of what changed and what was skipped.
 */
export { OptimizeErrors } from './errors.js';
export {
  OPTIMIZE_METADATA_KEY,
  PRUNING_METADATA_KEY,
  QUANTIZATION_METADATA_KEY,
  type OptimizeStep,
  type SkippedNode,
} from './graph-edit.js';
export { defaultOpset, type OpsetChange } from './opset.js';
export {
  QUANTIZE_MODES,
  needsQdqDisable,
  quantizeModel,
  quantizeSymmetric,
  sessionConfigFor,
  type QuantizeMode,
  type QuantizeOptions,
  type QuantizeReport,
  type QuantizedNode,
  type QuantizedWeight,
} from './quantize.js';
export { pruneModel, sliceAxis, zeroSmallest, type PruneOptions, type PruneReport, type PrunedLayer, type PrunedTensor } from './prune.js';
export { createOptimizeService, defaultGates, type Optimization, type OptimizeRequest, type OptimizeService } from './service.js';
export { optimizeApi } from './api.js';
