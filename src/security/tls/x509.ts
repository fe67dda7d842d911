/**
 * @peculiar/x509, loaded after the Reflect metadata polyfill its dependency injection (tsyringe)
 * needs, and bound to Node's WebCrypto. Every use of the library in Slipway imports it from here.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

export { x509 };
