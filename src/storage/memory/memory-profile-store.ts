/**
 * An in-memory ProfileStore for unit tests and throw-away runs. Profiles are kept as JSON text, so
 * what goes in and what comes out never alias each other (as with the SQLite adapter).
 */
import type { ProfileStore, ReferenceProfile } from '../../monitoring/profiles/index.js';

/** The memory adapter of the ProfileStore port. */
export type MemoryProfileStore = ProfileStore;

/** Creates an empty in-memory profile store. */
export function createMemoryProfileStore(): MemoryProfileStore {
  const profiles = new Map<string, string>();
  const key = (model: string, version: number): string => `${model}\u0000${version}`;
  return {
    async get(model, version) {
      const text = profiles.get(key(model, version));
      return text === undefined ? undefined : (JSON.parse(text) as ReferenceProfile);
    },
    async put(profile) {
      profiles.set(key(profile.model, profile.version), JSON.stringify(profile));
    },
    async delete(model, version) {
      return profiles.delete(key(model, version));
    },
  };
}
