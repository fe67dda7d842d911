/**
 * The port reference profiles need from storage: one profile per model version. Adapters live in
 * src/storage (memory for tests, SQLite by default); every adapter passes the contract suite in
 * test/unit/monitoring/profiles/profile-store.contract.ts.
 *
 * Every method is atomic. A profile handed to `put` is copied (the caller may keep changing its
 * own object); what `get` returns is the caller's and never aliases the store's state.
 */
import type { ReferenceProfile } from './types.js';

export interface ProfileStore {
  /** The profile of `model` version `version`, or undefined when it has none. */
  get(model: string, version: number): Promise<ReferenceProfile | undefined>;
  /** Stores the profile of `profile.model` version `profile.version`, replacing the one it had. Idempotent. */
  put(profile: ReferenceProfile): Promise<void>;
  /** Removes the profile of `model` version `version`; resolves true when there was one. */
  delete(model: string, version: number): Promise<boolean>;
}
