export * from './types.js';
export * from './tokens.js';
export * from './service.js';
