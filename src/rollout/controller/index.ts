/** The rollout controller: applied specs to rollouts, driven to promotion or abort. See docs/rollouts.md. */
export * from './controller.js';
export * from './endpoint-strategies.js';
export * from './errors.js';
export { lookAtExperiment, experimentCheckName, EXPERIMENT_MINIMUM_SAMPLE, type ExperimentLook } from './experiment.js';
