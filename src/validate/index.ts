/**
 * Pre-deployment validation (docs/validation.md): accuracy, performance, robustness and edge cases
 * of a model version on labelled data, gates over the figures, stored reports, and the rule that
 * guards alias moves.
 */
export * from './types.js';
export { ValidateErrors } from './errors.js';
export { createValidationService, checkSettings, type ValidationService, type ValidationJob, type StartValidationInput } from './service.js';
export { createValidationClient, type ValidationClient, type StartValidationBody } from './client.js';
export { validationApi } from './api.js';
export { renderValidationHtml } from './html.js';
export { parseGates, evaluateGates, gatesPassed, type GatePolicy, type GateResult } from './gates.js';
export type { DatasetRecord, ValidationStore } from './ports.js';
