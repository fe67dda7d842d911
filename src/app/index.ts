export { startServer, PACKAGE_ROOT, type StartServerOptions, type ServerHandle } from './server.js';
export { loadConfig, compileConfig, CONFIG_KEYS, envNameFor, type SlipwayConfig } from './config.js';
