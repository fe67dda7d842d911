export * from './options.js';
export * from './merge.js';
export * from './scheduler.js';
