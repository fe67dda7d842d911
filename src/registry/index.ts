export type * from './types.js';
export type * from './service.js';
export type * from './ports.js';
export { RegistryErrors, registryRefusals } from './errors.js';
export { createRegistry, followerMoveReason, type RegistryOptions } from './registry.js';
export { LIMITS as REGISTRY_LIMITS } from './validate.js';
