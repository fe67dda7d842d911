export type * from './types.js';
export type * from './service.js';
