/**
 * The typed client of the profile routes, built on the same options as the control client and
 * failing the same way: the server's `{error, code}` bodies come back as PlatformErrors with their
 * code, an unreachable server as CONTROL_CLIENT_UNREACHABLE. The CSV is streamed from disk.
 */
import { createHttpCaller, fileBody, fileSize, type ControlClientOptions } from '../../control/index.js';
import type { ProfileDeletedResponse, ProfileResponse } from './api-types.js';

export interface ComputeProfileOptions {
  /** A column of the file to leave out (the label). */
  readonly target?: string;
  /** What the profile records as its source; default the file's name as given. */
  readonly source?: string;
}

export interface ProfileClient {
  /** PUT /api/v1/models/{model}/versions/{version}/profile with the CSV file at `filePath` as the body. */
  computeProfile(model: string, version: number, filePath: string, options?: ComputeProfileOptions): Promise<ProfileResponse>;
  /** GET /api/v1/models/{model}/versions/{version}/profile. */
  getProfile(model: string, version: number): Promise<ProfileResponse>;
  /** DELETE /api/v1/models/{model}/versions/{version}/profile. */
  deleteProfile(model: string, version: number): Promise<ProfileDeletedResponse>;
}

/** Creates the client; `options` are the control client's (base URL, API key, fetch). */
export function createProfileClient(options: ControlClientOptions): ProfileClient {
  const { send, decode, call } = createHttpCaller(options);
  const path = (model: string, version: number): string => `/api/v1/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(String(version))}/profile`;

  return {
    async computeProfile(model, version, filePath, computeOptions = {}) {
      const size = await fileSize(filePath);
      const search = new URLSearchParams();
      if (computeOptions.target !== undefined) search.set('target', computeOptions.target);
      search.set('source', computeOptions.source ?? filePath);
      const url = `${path(model, version)}?${search.toString()}`;
      const file = fileBody(filePath, size);
      try {
        const response = await send('PUT', url, {
          body: file.body,
          duplex: true,
          // a declared length lets the server refuse an oversized file before reading it
          headers: { 'content-type': 'text/csv', 'content-length': String(size) },
        });
        return await decode<ProfileResponse>('PUT', url, response);
      } finally {
        file.close();
      }
    },
    getProfile: (model, version) => call('GET', path(model, version)),
    deleteProfile: (model, version) => call('DELETE', path(model, version)),
  };
}
