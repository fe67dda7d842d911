export * from './errors.js';
export * from './routes.js';
export * from './client.js';
export * from './bytes.js';
export type * from './types.js';
export { closeAfterEarlyAnswer, lingerOnClose, DEFAULT_LINGER_MS } from './linger.js';
