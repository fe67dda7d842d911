/** API keys as stored, as shown, and the storage port their service writes through. */
import type { LimitOverrides } from '../limits/index.js';
import type { Role, Scope } from '../permissions.js';

/** A key's own rate limit and quota (docs/security.md, Limits); absent fields use the server's defaults. */
export type KeyLimits = LimitOverrides;

/** One API key as stored. The token itself is never stored, only its SHA-256. */
export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly Role[];
  /** Models and endpoints the key may act on (globs); null = all. */
  readonly scope: Scope | null;
  /** Lowercase hex SHA-256 of the token. */
  readonly hash: string;
  /** The token's first characters, for recognising it in listings. */
  readonly hint: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly revokedBy: string | null;
  /** The key this one replaced (rotation), and the key that replaced it. */
  readonly rotatedFrom: string | null;
  readonly rotatedTo: string | null;
  readonly limits: KeyLimits | null;
  readonly lastUsedAt: string | null;
}

/** What the API shows of a key: everything but its hash. */
export type ApiKeyView = Omit<ApiKeyRecord, 'hash'> & { readonly state: 'active' | 'expired' | 'revoked' };

/** Where keys live: `slipway.db` (table api_keys) in the server, memory in unit tests. */
export interface KeyStore {
  list(): Promise<ApiKeyRecord[]>;
  insert(record: ApiKeyRecord): Promise<void>;
  /** Replaces the record with the same id; false when there is none. */
  update(record: ApiKeyRecord): Promise<boolean>;
}
