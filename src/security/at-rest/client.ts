/** The typed client of the encryption routes, on the control client's HTTP layer. */
import { createHttpCaller, type ControlClientOptions } from '../../control/client.js';
import type { EncryptionRewrapResponse, EncryptionStatusResponse } from './types.js';

export interface EncryptionClient {
  /** GET /api/v1/encryption. */
  status(): Promise<EncryptionStatusResponse>;
  /** POST /api/v1/encryption/rewrap. */
  rewrap(): Promise<EncryptionRewrapResponse>;
}

export function createEncryptionClient(options: ControlClientOptions): EncryptionClient {
  const { call } = createHttpCaller(options);
  return {
    status: () => call('GET', '/api/v1/encryption'),
    rewrap: () => call('POST', '/api/v1/encryption/rewrap'),
  };
}
