export * from './authenticator.js';
