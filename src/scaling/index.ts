export * from './replica-pool.js';
export * from './autoscaler.js';
export * from './autoscaler-events.js';
export * from './autoscaler-options.js';
export * from './autoscaler-window.js';
