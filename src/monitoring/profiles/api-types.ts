/** Wire shapes of the profile routes under /api/v1: what each answers, as the client returns it. */
import type { ReferenceProfile } from './types.js';

/** GET and PUT /models/{model}/versions/{version}/profile. */
export interface ProfileResponse {
  readonly profile: ReferenceProfile;
}

/** DELETE /models/{model}/versions/{version}/profile: the profile as it was just before. */
export interface ProfileDeletedResponse {
  readonly profile: ReferenceProfile;
  readonly deleted: true;
}
