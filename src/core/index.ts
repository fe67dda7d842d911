export * from './errors.js';
export * from './clock.js';
export * from './ids.js';
export * from './names.js';
export * from './config.js';
export * from './logger.js';
export * from './version.js';
export * from './tensor.js';
