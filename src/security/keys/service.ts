/**
 * API keys: created (the token shown once), listed, revoked and rotated through the API without a
 * restart, and checked on every request. All keys are held in memory by their hash, so a check is
 * one map lookup; every change goes to the store first and then to memory, so the next request
 * sees it. The server is the only writer of its data directory, so memory cannot go stale.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describe, isValidName, NAME_RULE, systemClock, writeFileAtomic, type Clock, type Logger } from '../../core/index.js';
import { SecurityErrors } from '../errors.js';
import { isRole, ROLE_NAMES, type Principal, type Role, type Scope } from '../permissions.js';
import { BOOTSTRAP_KEY_PATTERN, hashToken, newApiKeyToken, newKeyId, tokenHint } from './tokens.js';
import type { ApiKeyRecord, ApiKeyView, KeyLimits, KeyStore } from './types.js';

/** What a caller asks for when creating a key (the API body, checked by {@link readKeySpec}). */
export interface KeySpec {
  readonly name: string;
  readonly roles: readonly Role[];
  readonly scope: Scope | null;
  readonly expiresAt: string | null;
  readonly limits: KeyLimits | null;
}

/** Checks a key's own limits; the server passes the limits module's parser. */
export type LimitsParser = (value: unknown, path: string) => KeyLimits;

/** A glob in a scope: a name that may hold `*`. */
const SCOPE_GLOB = /^[a-z0-9*][a-z0-9*-]{0,62}$/;

function readGlobs(value: unknown, path: string): string[] {
  if (value === undefined || value === null) return ['*'];
  if (!Array.isArray(value) || value.length === 0 || !value.every((g): g is string => typeof g === 'string' && SCOPE_GLOB.test(g))) {
    throw SecurityErrors.SECURITY_INVALID_KEY_SPEC(`${path} must be a non-empty list of names or globs (${NAME_RULE}, "*" matching within a name), got ${describe(value)}`, { details: { field: path } });
  }
  return [...new Set(value)];
}

/** Reads and checks a create-key body; every problem names its field. */
export function readKeySpec(body: unknown, nowMs: number, parseLimits?: LimitsParser): KeySpec {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw SecurityErrors.SECURITY_INVALID_KEY_SPEC(`the body must be a JSON object with name and roles, got ${describe(body)}`);
  }
  const b = body as Record<string, unknown>;
  const known = ['name', 'roles', 'scope', 'expiresAt', 'expiresInSeconds', 'limits'];
  for (const k of Object.keys(b)) {
    if (!known.includes(k)) throw SecurityErrors.SECURITY_INVALID_KEY_SPEC(`unknown field "${k}" (known: ${known.join(', ')})`, { details: { field: k } });
  }
  if (typeof b.name !== 'string' || !isValidName(b.name)) {
    throw SecurityErrors.SECURITY_INVALID_KEY_SPEC(`name must be ${NAME_RULE}, got ${describe(b.name)}`, { details: { field: 'name' } });
  }
  const roles = b.roles;
  if (!Array.isArray(roles) || roles.length === 0 || !roles.every(isRole)) {
    throw SecurityErrors.SECURITY_INVALID_KEY_SPEC(`roles must be a non-empty list of ${ROLE_NAMES.join(', ')}, got ${describe(roles)}`, { details: { field: 'roles' } });
  }
  let scope: Scope | null = null;
  if (b.scope !== undefined && b.scope !== null) {
    if (typeof b.scope !== 'object' || Array.isArray(b.scope)) {
      throw SecurityErrors.SECURITY_INVALID_KEY_SPEC(`scope must be an object {models, endpoints} of name globs, got ${describe(b.scope)}`, { details: { field: 'scope' } });
    }
    const s = b.scope as Record<string, unknown>;
    for (const k of Object.keys(s)) {
      if (k !== 'models' && k !== 'endpoints') throw SecurityErrors.SECURITY_INVALID_KEY_SPEC(`unknown field "scope.${k}" (known: models, endpoints)`, { details: { field: `scope.${k}` } });
    }
    scope = { models: readGlobs(s.models, 'scope.models'), endpoints: readGlobs(s.endpoints, 'scope.endpoints') };
  }
  let expiresAt: string | null = null;
  if (b.expiresAt !== undefined && b.expiresInSeconds !== undefined) {
    throw SecurityErrors.SECURITY_INVALID_KEY_SPEC('give expiresAt or expiresInSeconds, not both', { details: { field: 'expiresAt' } });
  }
  if (b.expiresInSeconds !== undefined) {
    const s = b.expiresInSeconds;
    if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) {
      throw SecurityErrors.SECURITY_INVALID_KEY_SPEC(`expiresInSeconds must be a positive number of seconds, got ${describe(s)}`, { details: { field: 'expiresInSeconds' } });
    }
    expiresAt = new Date(nowMs + s * 1000).toISOString();
  } else if (b.expiresAt !== undefined && b.expiresAt !== null) {
    const t = typeof b.expiresAt === 'string' ? Date.parse(b.expiresAt) : NaN;
    if (!Number.isFinite(t) || t <= nowMs) {
      throw SecurityErrors.SECURITY_INVALID_KEY_SPEC(`expiresAt must be an ISO-8601 time in the future, got ${describe(b.expiresAt)}`, { details: { field: 'expiresAt' } });
    }
    expiresAt = new Date(t).toISOString();
  }
  let limits: KeyLimits | null = null;
  if (b.limits !== undefined && b.limits !== null) {
    if (parseLimits === undefined) throw SecurityErrors.SECURITY_INVALID_KEY_SPEC('limits are not supported here', { details: { field: 'limits' } });
    try {
      limits = parseLimits(b.limits, 'limits');
    } catch (error) {
      throw SecurityErrors.SECURITY_INVALID_KEY_SPEC((error as Error).message, { details: { field: 'limits' } });
    }
  }
  return { name: b.name, roles: [...new Set(roles)], scope, expiresAt, limits };
}

export function keyState(record: ApiKeyRecord, nowMs: number): ApiKeyView['state'] {
  if (record.revokedAt !== null) return 'revoked';
  if (record.expiresAt !== null && Date.parse(record.expiresAt) <= nowMs) return 'expired';
  return 'active';
}

export function viewOf(record: ApiKeyRecord, nowMs: number): ApiKeyView {
  const { hash: _hash, ...rest } = record;
  return { ...rest, state: keyState(record, nowMs) };
}

/** Why a presented token was refused (never told to the caller beyond "unknown, revoked or expired"). */
export type KeyRefusal = 'unknown' | 'revoked' | 'expired';

export interface KeyService {
  /** Reads every key into memory; call once before serving. */
  load(): Promise<void>;
  /** The key a token belongs to, if it is active. */
  authenticate(token: string): { ok: true; key: ApiKeyRecord; principal: Principal } | { ok: false; reason: KeyRefusal; key?: ApiKeyRecord };
  create(spec: KeySpec, by: string): Promise<{ key: ApiKeyView; token: string }>;
  list(): ApiKeyView[];
  get(id: string): ApiKeyView;
  revoke(id: string, by: string): Promise<ApiKeyView>;
  /**
   * A new key with the same name, roles, scope and limits; the old one stops working after
   * `graceSeconds` (0: at once), so clients can switch without a gap.
   */
  rotate(id: string, graceSeconds: number, by: string): Promise<{ key: ApiKeyView; token: string; previous: ApiKeyView }>;
  /**
   * On a server with no keys: creates the admin key (from `bootstrapToken` or generated) and
   * writes it to `keyFile` with mode 0600. Returns the token when it made one, else undefined.
   */
  bootstrap(options: { keyFile: string; bootstrapToken?: string }): Promise<{ token: string; generated: boolean } | undefined>;
  /** Writes the last-used times that changed since the last flush. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface KeyServiceOptions {
  readonly store: KeyStore;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** How often last-used times are written (they are kept in memory between). Default 60 s. */
  readonly flushIntervalMs?: number;
}

export function principalOf(key: ApiKeyRecord): Principal {
  return { id: `key:${key.name}`, roles: key.roles, scope: key.scope, keyId: key.id, limits: key.limits };
}

/** Writes a secret file atomically with mode 0600 (temp file, then rename). */
export async function writeSecretFile(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, content, 0o600);
}

/** Tokens whose hashes are remembered; past it the memory starts afresh (unknown tokens cannot grow it forever). */
const HASH_CACHE_SIZE = 1024;

export function createKeyService(options: KeyServiceOptions): KeyService {
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const byHash = new Map<string, ApiKeyRecord>();
  const byId = new Map<string, ApiKeyRecord>();
  const principals = new Map<string, Principal>();
  // last use per key id (ms), kept apart from the records so a request allocates nothing; written by flush
  const lastUsed = new Map<string, number>();
  const dirty = new Set<string>();
  // the hashes of tokens seen lately: a busy client's token is hashed once, not on every request
  const hashes = new Map<string, string>();
  const hashOf = (token: string): string => {
    let hash = hashes.get(token);
    if (hash === undefined) {
      hash = hashToken(token);
      if (hashes.size >= HASH_CACHE_SIZE) hashes.clear();
      hashes.set(token, hash);
    }
    return hash;
  };
  let timer: ReturnType<Clock['setTimeout']> | undefined;

  const remember = (r: ApiKeyRecord): void => {
    byHash.set(r.hash, r);
    byId.set(r.id, r);
    principals.set(r.id, principalOf(r));
  };
  const record = (id: string): ApiKeyRecord => {
    const r = byId.get(id);
    if (r === undefined) throw SecurityErrors.SECURITY_KEY_NOT_FOUND(`no API key has id "${id}"`, { details: { id } });
    return r;
  };
  const save = async (r: ApiKeyRecord): Promise<void> => {
    await store.update(r);
    remember(r);
  };
  const schedule = (): void => {
    if (timer !== undefined) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      service.flush().catch((error: unknown) => options.logger?.warn({ err: (error as Error).message }, 'could not write API key last-used times'));
    }, options.flushIntervalMs ?? 60_000);
  };
  /** The record with its last use from memory. */
  const current = (r: ApiKeyRecord): ApiKeyRecord => {
    const used = lastUsed.get(r.id);
    return used === undefined ? r : { ...r, lastUsedAt: new Date(used).toISOString() };
  };
  const newRecord = (spec: KeySpec, token: string, by: string, rotatedFrom: string | null): ApiKeyRecord => ({
    id: newKeyId(),
    name: spec.name,
    roles: spec.roles,
    scope: spec.scope,
    hash: hashToken(token),
    hint: tokenHint(token),
    createdAt: new Date(clock.now()).toISOString(),
    createdBy: by,
    expiresAt: spec.expiresAt,
    revokedAt: null,
    revokedBy: null,
    rotatedFrom,
    rotatedTo: null,
    limits: spec.limits,
    lastUsedAt: null,
  });

  const service: KeyService = {
    async load() {
      byHash.clear();
      byId.clear();
      principals.clear();
      lastUsed.clear();
      for (const r of await store.list()) remember(r);
    },
    authenticate(token) {
      const key = byHash.get(hashOf(token));
      if (key === undefined) return { ok: false, reason: 'unknown' };
      const now = clock.now();
      const state = keyState(key, now);
      if (state !== 'active') return { ok: false, reason: state, key };
      // to the second: a busy key does not mark itself dirty on every request
      if (now - (lastUsed.get(key.id) ?? 0) >= 1000) {
        lastUsed.set(key.id, now);
        dirty.add(key.id);
        schedule();
      }
      return { ok: true, key, principal: principals.get(key.id) ?? principalOf(key) };
    },
    async create(spec, by) {
      const token = newApiKeyToken();
      const r = newRecord(spec, token, by, null);
      await store.insert(r);
      remember(r);
      return { key: viewOf(r, clock.now()), token };
    },
    list() {
      const now = clock.now();
      return [...byId.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)).map((r) => viewOf(current(r), now));
    },
    get(id) {
      return viewOf(current(record(id)), clock.now());
    },
    async revoke(id, by) {
      const r = current(record(id));
      if (r.revokedAt !== null) return viewOf(r, clock.now());
      const next = { ...r, revokedAt: new Date(clock.now()).toISOString(), revokedBy: by };
      await save(next);
      return viewOf(next, clock.now());
    },
    async rotate(id, graceSeconds, by) {
      const old = current(record(id));
      const now = clock.now();
      if (keyState(old, now) !== 'active') {
        throw SecurityErrors.SECURITY_KEY_REVOKED(`key "${id}" (${old.name}) is ${keyState(old, now)}; only an active key can be rotated`, { details: { id } });
      }
      const token = newApiKeyToken();
      const fresh = newRecord({ name: old.name, roles: old.roles, scope: old.scope, expiresAt: old.expiresAt, limits: old.limits }, token, by, old.id);
      const endsAt = new Date(now + graceSeconds * 1000).toISOString();
      const retired: ApiKeyRecord =
        graceSeconds > 0
          ? { ...old, rotatedTo: fresh.id, expiresAt: old.expiresAt !== null && old.expiresAt < endsAt ? old.expiresAt : endsAt }
          : { ...old, rotatedTo: fresh.id, revokedAt: endsAt, revokedBy: by };
      await store.insert(fresh);
      await save(retired);
      remember(fresh);
      return { key: viewOf(fresh, now), token, previous: viewOf(retired, now) };
    },
    async bootstrap({ keyFile, bootstrapToken }) {
      if (byId.size > 0) return undefined;
      if (bootstrapToken !== undefined && !BOOTSTRAP_KEY_PATTERN.test(bootstrapToken)) {
        throw SecurityErrors.SECURITY_BOOTSTRAP_KEY_INVALID(`SLIPWAY_BOOTSTRAP_ADMIN_KEY must be 24–512 characters of letters, digits, ".", "_" or "-" (got ${bootstrapToken.length} characters)`);
      }
      const token = bootstrapToken ?? newApiKeyToken();
      // the file first: a key nobody can read back would lock the owner out
      await writeSecretFile(keyFile, token + '\n');
      const r = newRecord({ name: 'admin', roles: ['admin'], scope: null, expiresAt: null, limits: null }, token, 'bootstrap', null);
      await store.insert(r);
      remember(r);
      return { token, generated: bootstrapToken === undefined };
    },
    async flush() {
      const ids = [...dirty];
      dirty.clear();
      for (const id of ids) {
        const r = byId.get(id);
        if (r !== undefined) await save(current(r));
      }
    },
    async close() {
      timer?.cancel();
      timer = undefined;
      await service.flush();
    },
  };
  return service;
}
