/**
 * The encryption routes, a Fastify plugin to register under /api/v1 (permission `admin`):
 *
 * - `GET /encryption` — whether encryption at rest is on, the active master key id, the keyring's
 *   ids, and the stored blobs by the key they are wrapped with (plaintext ones counted apart);
 * - `POST /encryption/rewrap` — master-key rotation: every blob's data key re-wrapped with the
 *   active key (headers rewritten, no data re-encrypted) and plaintext blobs encrypted, then every
 *   payload-log body sealed under another key sealed again under the active one; answers the
 *   counts and what it could not move. 409 SECURITY_ENCRYPTION_NOT_CONFIGURED when encryption is
 *   off. Safe to interrupt and to run again.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { silentLogger, type Logger } from '../../core/index.js';
import type { LoadedMasterKeyring } from '../encryption/index.js';
import type { RouteSecurity } from '../permissions.js';
import type { EncryptedBlobStore, EncryptedPayloadLog, EncryptionRewrapResponse, EncryptionStatusResponse } from './types.js';

const admin = { permission: 'admin' } satisfies RouteSecurity;

export interface EncryptionApiOptions {
  /** The server's keyring and where it came from; undefined when encryption at rest is off. */
  readonly keyring: LoadedMasterKeyring | undefined;
  readonly blobs: EncryptedBlobStore;
  /** The payload log, whose sealed bodies a rewrap seals again under the active key. */
  readonly payloads: EncryptedPayloadLog;
  readonly logger?: Logger;
}

export function encryptionApi(options: EncryptionApiOptions): FastifyPluginAsync {
  const { keyring, blobs, payloads } = options;
  const logger = options.logger ?? silentLogger;
  return async (app: FastifyInstance) => {
    app.get('/encryption', { config: admin }, async (): Promise<EncryptionStatusResponse> => ({
      enabled: keyring !== undefined,
      source: keyring?.source ?? null,
      activeKeyId: keyring?.keyring.active.id ?? null,
      keyIds: keyring?.keyring.ids ?? [],
      blobs: await blobs.encryptionStatus(),
    }));

    app.post('/encryption/rewrap', { config: admin }, async (): Promise<EncryptionRewrapResponse> => {
      const report = await blobs.rewrap();
      const bodies = await payloads.rewrapBodies();
      const summary = {
        activeKeyId: report.activeKeyId,
        blobs: { total: report.total, rewrapped: report.rewrapped, encrypted: report.encrypted, unchanged: report.unchanged, failed: report.failed.length },
        payloads: { segments: bodies.segments, rewritten: bodies.rewritten, resealed: bodies.resealed, failed: bodies.failedCount },
      };
      if (report.failed.length > 0 || bodies.failedCount > 0) {
        logger.warn({ ...summary, firstBlobFailure: report.failed[0], firstPayloadFailure: bodies.failed[0] }, 'master-key rewrap left data it could not move');
      } else logger.info(summary, 'master-key rewrap done');
      return { blobs: report, payloads: bodies };
    });
  };
}
