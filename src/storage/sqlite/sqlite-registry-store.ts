/**
 * The SQLite adapter of the RegistryStore port (better-sqlite3, synchronous). Every mutation is one
 * BEGIN IMMEDIATE transaction, so it is atomic, serialised across connections and processes, and,
 * with WAL and synchronous = FULL, durable once the promise resolves.
 */
import { systemClock, type Clock } from '../../core/index.js';
import {
  registryRefusals,
  type Alias,
  type AliasEvent,
  type Endpoint,
  type EndpointEvent,
  type EndpointTarget,
  type EndpointWriteResult,
  type InsertVersionResult,
  type Model,
  type ModelVersion,
  type RegistryStore,
  type SetAliasResult,
  type VersionSignature,
} from '../../registry/index.js';
import { checkDatabaseIntegrity, openSqliteDatabase, writeTransaction, type SqliteDatabase } from './database.js';
import { migrate, type MigrationOutcome } from './migrate.js';
import { REGISTRY_COMPONENT, registryMigrations } from './registry-migrations.js';

export interface SqliteRegistryStoreOptions {
  /** The database file to open (created if missing). Give this or `db`. */
  readonly path?: string;
  /** An already open database (see openSqliteDatabase), shared with other stores; not closed by `close()`. */
  readonly db?: SqliteDatabase;
  /** Busy timeout when opening `path`. Default 5000. */
  readonly busyTimeoutMs?: number;
  /** Stamps `schema_migrations.applied_at`. Default: the system clock. */
  readonly clock?: Clock;
}

/** The SQLite adapter, with what only a database has: its connection, migrations and a health check. */
export interface SqliteRegistryStore extends RegistryStore {
  readonly db: SqliteDatabase;
  /** What opening did to the registry schema. */
  readonly migration: MigrationOutcome;
  /** `['ok']` when SQLite's integrity and foreign-key checks pass, else the problems found. */
  checkIntegrity(): string[];
  /** Closes the connection if this store opened it. Idempotent. */
  close(): void;
}

interface ModelRow {
  name: string;
  description: string;
  owner: string;
  created_at: string;
  created_by: string;
  latest_version: number;
}

interface VersionRow {
  model: string;
  version: number;
  digest: string;
  size_bytes: number;
  signature: string;
  onnx: string;
  description: string;
  tags: string;
  lineage: string;
  created_at: string;
  created_by: string;
  /** JSON of the detached artifact signature; null when unsigned. */
  artifact_signature: string | null;
}

interface AliasRow {
  model: string;
  alias: string;
  version: number;
  updated_at: string;
  updated_by: string;
}

interface AliasEventRow {
  seq: number;
  model: string;
  alias: string;
  from_version: number | null;
  to_version: number | null;
  at: string;
  actor: string;
  reason: string;
}

interface EndpointRow {
  name: string;
  description: string;
  target_kind: 'version' | 'alias';
  model: string;
  alias: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

interface EndpointEventRow {
  seq: number;
  endpoint: string;
  from_state: string | null;
  to_state: string | null;
  at: string;
  actor: string;
  reason: string;
}

type EndpointState = NonNullable<EndpointEvent['to']>;

function toModel(row: ModelRow): Model {
  return {
    name: row.name,
    description: row.description,
    owner: row.owner,
    createdAt: row.created_at,
    createdBy: row.created_by,
    latestVersion: row.latest_version,
  };
}

function toVersion(row: VersionRow): ModelVersion {
  return {
    model: row.model,
    version: row.version,
    digest: row.digest,
    sizeBytes: row.size_bytes,
    signature: JSON.parse(row.signature) as ModelVersion['signature'],
    onnx: JSON.parse(row.onnx) as ModelVersion['onnx'],
    description: row.description,
    tags: JSON.parse(row.tags) as ModelVersion['tags'],
    lineage: JSON.parse(row.lineage) as ModelVersion['lineage'],
    createdAt: row.created_at,
    createdBy: row.created_by,
    ...(row.artifact_signature === null ? {} : { artifactSignature: JSON.parse(row.artifact_signature) as VersionSignature }),
  };
}

function toAlias(row: AliasRow): Alias {
  return { model: row.model, alias: row.alias, version: row.version, updatedAt: row.updated_at, updatedBy: row.updated_by };
}

function toAliasEvent(row: AliasEventRow): AliasEvent {
  return {
    seq: row.seq,
    model: row.model,
    alias: row.alias,
    from: row.from_version,
    to: row.to_version,
    at: row.at,
    by: row.actor,
    reason: row.reason,
  };
}

function targetOf(row: EndpointRow): EndpointTarget {
  return row.target_kind === 'alias' && row.alias !== null
    ? { kind: 'alias', model: row.model, alias: row.alias }
    : { kind: 'version', model: row.model, version: row.version };
}

function toEndpoint(row: EndpointRow): Endpoint {
  return {
    name: row.name,
    description: row.description,
    target: targetOf(row),
    model: row.model,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function stateOf(row: EndpointRow): EndpointState {
  return { target: targetOf(row), model: row.model, version: row.version };
}

function toEndpointEvent(row: EndpointEventRow): EndpointEvent {
  return {
    seq: row.seq,
    endpoint: row.endpoint,
    from: row.from_state === null ? null : (JSON.parse(row.from_state) as EndpointState),
    to: row.to_state === null ? null : (JSON.parse(row.to_state) as EndpointState),
    at: row.at,
    by: row.actor,
    reason: row.reason,
  };
}

function sameTarget(a: EndpointTarget, b: EndpointTarget): boolean {
  if (a.kind === 'version' && b.kind === 'version') return a.model === b.model && a.version === b.version;
  if (a.kind === 'alias' && b.kind === 'alias') return a.model === b.model && a.alias === b.alias;
  return false;
}

const MODEL_SELECT = `
  SELECT m.name, m.description, m.owner, m.created_at, m.created_by,
         COALESCE((SELECT MAX(v.version) FROM versions v WHERE v.model = m.name), 0) AS latest_version
  FROM models m`;

/**
 * Opens (or adopts) a SQLite database, brings the registry schema up to date and returns the
 * store. Throws STORAGE_SCHEMA_TOO_NEW for a database written by a newer Slipway.
 */
export function createSqliteRegistryStore(options: SqliteRegistryStoreOptions): SqliteRegistryStore {
  if ((options.db === undefined) === (options.path === undefined)) {
    throw new Error('createSqliteRegistryStore needs exactly one of `path` or `db`');
  }
  const owned = options.db === undefined;
  const db =
    options.db ??
    openSqliteDatabase(options.path ?? '', options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs });
  let migration: MigrationOutcome;
  try {
    migration = migrate(db, REGISTRY_COMPONENT, registryMigrations, { clock: options.clock ?? systemClock });
  } catch (error) {
    if (owned) db.close();
    throw error;
  }

  const sql = {
    modelByName: db.prepare(`${MODEL_SELECT} WHERE m.name = ?`),
    models: db.prepare(`${MODEL_SELECT} ORDER BY m.name`),
    insertModel: db.prepare(
      'INSERT INTO models (name, description, owner, created_at, created_by) VALUES (@name, @description, @owner, @createdAt, @createdBy)',
    ),
    modelExists: db.prepare('SELECT 1 AS one FROM models WHERE name = ?'),
    latestVersion: db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM versions WHERE model = ?'),
    version: db.prepare('SELECT * FROM versions WHERE model = ? AND version = ?'),
    versions: db.prepare('SELECT * FROM versions WHERE model = ? ORDER BY version'),
    versionByDigest: db.prepare('SELECT * FROM versions WHERE model = ? AND digest = ?'),
    insertVersion: db.prepare(`
      INSERT INTO versions (model, version, digest, size_bytes, signature, onnx, description, tags, lineage, parent_version, created_at, created_by, artifact_signature)
      VALUES (@model, @version, @digest, @sizeBytes, @signature, @onnx, @description, @tags, @lineage, @parentVersion, @createdAt, @createdBy, @artifactSignature)`),
    setVersionSignature: db.prepare('UPDATE versions SET artifact_signature = ? WHERE model = ? AND version = ?'),
    alias: db.prepare('SELECT * FROM aliases WHERE model = ? AND alias = ?'),
    aliases: db.prepare('SELECT * FROM aliases WHERE model = ? ORDER BY alias'),
    upsertAlias: db.prepare(`
      INSERT INTO aliases (model, alias, version, updated_at, updated_by) VALUES (@model, @alias, @version, @at, @by)
      ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at, updated_by = excluded.updated_by`),
    deleteAlias: db.prepare('DELETE FROM aliases WHERE model = ? AND alias = ?'),
    insertAliasEvent: db.prepare(`
      INSERT INTO alias_events (model, alias, from_version, to_version, at, actor, reason)
      VALUES (@model, @alias, @from, @to, @at, @by, @reason) RETURNING *`),
    aliasHistory: db.prepare('SELECT * FROM alias_events WHERE model = ? AND alias = ? ORDER BY seq'),
    aliasAt: db.prepare(
      'SELECT to_version FROM alias_events WHERE model = ? AND alias = ? AND at <= ? ORDER BY seq DESC LIMIT 1',
    ),
    endpoint: db.prepare('SELECT * FROM endpoints WHERE name = ?'),
    endpoints: db.prepare('SELECT * FROM endpoints ORDER BY name'),
    following: db.prepare("SELECT * FROM endpoints WHERE target_kind = 'alias' AND model = ? AND alias = ? ORDER BY name"),
    insertEndpoint: db.prepare(`
      INSERT INTO endpoints (name, description, target_kind, model, alias, version, created_at, updated_at)
      VALUES (@name, @description, @kind, @model, @alias, @version, @at, @at)`),
    updateEndpoint: db.prepare(`
      UPDATE endpoints SET target_kind = @kind, model = @model, alias = @alias, version = @version, updated_at = @at
      WHERE name = @name`),
    deleteEndpoint: db.prepare('DELETE FROM endpoints WHERE name = ?'),
    insertEndpointEvent: db.prepare(`
      INSERT INTO endpoint_events (endpoint, from_state, to_state, at, actor, reason)
      VALUES (@endpoint, @from, @to, @at, @by, @reason) RETURNING *`),
    endpointHistory: db.prepare('SELECT * FROM endpoint_events WHERE endpoint = ? ORDER BY seq'),
  };

  const getModelRow = (name: string): ModelRow | undefined => sql.modelByName.get(name) as ModelRow | undefined;
  const getVersionRow = (model: string, version: number): VersionRow | undefined =>
    sql.version.get(model, version) as VersionRow | undefined;
  const getAliasRow = (model: string, alias: string): AliasRow | undefined => sql.alias.get(model, alias) as AliasRow | undefined;
  const getEndpointRow = (name: string): EndpointRow | undefined => sql.endpoint.get(name) as EndpointRow | undefined;
  const latestOf = (model: string): number => (sql.latestVersion.get(model) as { v: number }).v;

  function requireVersion(model: string, version: number): void {
    if (getVersionRow(model, version) !== undefined) return;
    if (sql.modelExists.get(model) === undefined) throw registryRefusals.modelNotFound(model);
    throw registryRefusals.versionNotFound(model, version, latestOf(model));
  }

  /** The version a target points at now, inside the current transaction. */
  function resolve(target: EndpointTarget): EndpointState {
    if (target.kind === 'version') {
      requireVersion(target.model, target.version);
      return { target: { kind: 'version', model: target.model, version: target.version }, model: target.model, version: target.version };
    }
    if (sql.modelExists.get(target.model) === undefined) throw registryRefusals.modelNotFound(target.model);
    const alias = getAliasRow(target.model, target.alias);
    if (alias === undefined) throw registryRefusals.aliasNotFound(target.model, target.alias);
    return { target: { kind: 'alias', model: target.model, alias: target.alias }, model: target.model, version: alias.version };
  }

  function targetParams(state: EndpointState): { kind: string; model: string; alias: string | null; version: number } {
    return {
      kind: state.target.kind,
      model: state.model,
      alias: state.target.kind === 'alias' ? state.target.alias : null,
      version: state.version,
    };
  }

  function appendEndpointEvent(event: Omit<EndpointEvent, 'seq'>): EndpointEvent {
    const row = sql.insertEndpointEvent.get({
      endpoint: event.endpoint,
      from: event.from === null ? null : JSON.stringify(event.from),
      to: event.to === null ? null : JSON.stringify(event.to),
      at: event.at,
      by: event.by,
      reason: event.reason,
    }) as EndpointEventRow;
    return toEndpointEvent(row);
  }

  let closed = false;

  // The port is asynchronous (a remote store may come later); better-sqlite3 is synchronous.
  // Methods stay `async` so that a refusal thrown inside a transaction becomes a rejection.
  const store: SqliteRegistryStore = {
    db,
    migration,

    checkIntegrity: () => checkDatabaseIntegrity(db),

    close() {
      if (closed) return;
      closed = true;
      if (owned) db.close();
    },

    async createModel(model) {
      return writeTransaction(db, () => {
        if (sql.modelExists.get(model.name) !== undefined) throw registryRefusals.modelExists(model.name);
        sql.insertModel.run(model);
        return toModel(getModelRow(model.name) as ModelRow);
      });
    },

    async getModel(name) {
      const row = getModelRow(name);
      return row === undefined ? undefined : toModel(row);
    },

    async listModels() {
      return (sql.models.all() as ModelRow[]).map(toModel);
    },

    async insertVersion(input): Promise<InsertVersionResult> {
      return writeTransaction(db, () => {
        if (sql.modelExists.get(input.model) === undefined) {
          if (input.createModel === undefined) throw registryRefusals.modelNotFound(input.model);
          sql.insertModel.run({ name: input.model, ...input.createModel });
        }
        const same = sql.versionByDigest.get(input.model, input.digest) as VersionRow | undefined;
        if (same !== undefined) return { version: toVersion(same), created: false };
        const parent = input.lineage.parentVersion;
        if (parent !== undefined && getVersionRow(input.model, parent) === undefined) {
          throw registryRefusals.parentNotFound(input.model, parent);
        }
        const version = latestOf(input.model) + 1;
        sql.insertVersion.run({
          model: input.model,
          version,
          digest: input.digest,
          sizeBytes: input.sizeBytes,
          signature: JSON.stringify(input.signature),
          onnx: JSON.stringify(input.onnx),
          description: input.description,
          tags: JSON.stringify(input.tags),
          lineage: JSON.stringify(input.lineage),
          parentVersion: parent ?? null,
          createdAt: input.createdAt,
          createdBy: input.createdBy,
          artifactSignature: input.artifactSignature === undefined ? null : JSON.stringify(input.artifactSignature),
        });
        return { version: toVersion(getVersionRow(input.model, version) as VersionRow), created: true };
      });
    },

    async getVersion(model, version) {
      const row = getVersionRow(model, version);
      return row === undefined ? undefined : toVersion(row);
    },

    async listVersions(model) {
      return (sql.versions.all(model) as VersionRow[]).map(toVersion);
    },

    async findVersionByDigest(model, digest) {
      const row = sql.versionByDigest.get(model, digest) as VersionRow | undefined;
      return row === undefined ? undefined : toVersion(row);
    },

    async setVersionSignature(model, version, signature) {
      return writeTransaction(db, () => {
        requireVersion(model, version);
        sql.setVersionSignature.run(JSON.stringify(signature), model, version);
        return toVersion(getVersionRow(model, version) as VersionRow);
      });
    },

    async setAlias(input): Promise<SetAliasResult> {
      return writeTransaction(db, () => {
        requireVersion(input.model, input.version);
        const current = getAliasRow(input.model, input.alias);
        if (current?.version === input.version) return { alias: toAlias(current), event: null, endpointEvents: [] };
        sql.upsertAlias.run({ model: input.model, alias: input.alias, version: input.version, at: input.at, by: input.by });
        const event = toAliasEvent(
          sql.insertAliasEvent.get({
            model: input.model,
            alias: input.alias,
            from: current?.version ?? null,
            to: input.version,
            at: input.at,
            by: input.by,
            reason: input.reason,
          }) as AliasEventRow,
        );
        const endpointEvents: EndpointEvent[] = [];
        // an alias that did not exist has no followers (the foreign key guarantees it)
        if (current !== undefined) {
          const reason = input.followerReason(current.version, input.version);
          for (const row of sql.following.all(input.model, input.alias) as EndpointRow[]) {
            const from = stateOf(row);
            const to: EndpointState = { ...from, version: input.version };
            sql.updateEndpoint.run({ name: row.name, at: input.at, ...targetParams(to) });
            endpointEvents.push(appendEndpointEvent({ endpoint: row.name, from, to, at: input.at, by: input.by, reason }));
          }
        }
        return { alias: toAlias(getAliasRow(input.model, input.alias) as AliasRow), event, endpointEvents };
      });
    },

    async deleteAlias(input) {
      return writeTransaction(db, () => {
        if (sql.modelExists.get(input.model) === undefined) throw registryRefusals.modelNotFound(input.model);
        const current = getAliasRow(input.model, input.alias);
        if (current === undefined) throw registryRefusals.aliasNotFound(input.model, input.alias);
        const followers = sql.following.all(input.model, input.alias) as EndpointRow[];
        if (followers.length > 0) {
          throw registryRefusals.aliasInUse(
            input.model,
            input.alias,
            followers.map((r) => r.name),
          );
        }
        sql.deleteAlias.run(input.model, input.alias);
        return toAliasEvent(
          sql.insertAliasEvent.get({
            model: input.model,
            alias: input.alias,
            from: current.version,
            to: null,
            at: input.at,
            by: input.by,
            reason: input.reason,
          }) as AliasEventRow,
        );
      });
    },

    async getAlias(model, alias) {
      const row = getAliasRow(model, alias);
      return row === undefined ? undefined : toAlias(row);
    },

    async listAliases(model) {
      return (sql.aliases.all(model) as AliasRow[]).map(toAlias);
    },

    async aliasHistory(model, alias) {
      return (sql.aliasHistory.all(model, alias) as AliasEventRow[]).map(toAliasEvent);
    },

    async aliasAt(model, alias, at) {
      const row = sql.aliasAt.get(model, alias, at) as { to_version: number | null } | undefined;
      return row === undefined ? null : row.to_version;
    },

    async createEndpoint(input): Promise<EndpointWriteResult> {
      return writeTransaction(db, () => {
        if (getEndpointRow(input.name) !== undefined) throw registryRefusals.endpointExists(input.name);
        const to = resolve(input.target);
        sql.insertEndpoint.run({ name: input.name, description: input.description, at: input.at, ...targetParams(to) });
        const event = appendEndpointEvent({ endpoint: input.name, from: null, to, at: input.at, by: input.by, reason: input.reason });
        return { endpoint: toEndpoint(getEndpointRow(input.name) as EndpointRow), event };
      });
    },

    async updateEndpoint(input): Promise<EndpointWriteResult> {
      return writeTransaction(db, () => {
        const current = getEndpointRow(input.name);
        if (current === undefined) throw registryRefusals.endpointNotFound(input.name);
        const to = resolve(input.target);
        const from = stateOf(current);
        if (sameTarget(from.target, to.target) && from.version === to.version) return { endpoint: toEndpoint(current), event: null };
        sql.updateEndpoint.run({ name: input.name, at: input.at, ...targetParams(to) });
        const event = appendEndpointEvent({ endpoint: input.name, from, to, at: input.at, by: input.by, reason: input.reason });
        return { endpoint: toEndpoint(getEndpointRow(input.name) as EndpointRow), event };
      });
    },

    async deleteEndpoint(input) {
      return writeTransaction(db, () => {
        const current = getEndpointRow(input.name);
        if (current === undefined) throw registryRefusals.endpointNotFound(input.name);
        sql.deleteEndpoint.run(input.name);
        return appendEndpointEvent({
          endpoint: input.name,
          from: stateOf(current),
          to: null,
          at: input.at,
          by: input.by,
          reason: input.reason,
        });
      });
    },

    async getEndpoint(name) {
      const row = getEndpointRow(name);
      return row === undefined ? undefined : toEndpoint(row);
    },

    async listEndpoints() {
      return (sql.endpoints.all() as EndpointRow[]).map(toEndpoint);
    },

    async endpointHistory(name) {
      return (sql.endpointHistory.all(name) as EndpointEventRow[]).map(toEndpointEvent);
    },

    async listEndpointsFollowing(model, alias) {
      return (sql.following.all(model, alias) as EndpointRow[]).map(toEndpoint);
    },
  };
  return store;
}
