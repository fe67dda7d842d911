export * from './replica-pool.js';
