/**
 * HTTPS and mTLS: development certificates, writing them to disk, loading and checking the
 * configured certificate files, and the `server.tls` configuration section.
 */
export * from './errors.js';
export * from './certificates.js';
export * from './files.js';
export * from './load.js';
export * from './options.js';
