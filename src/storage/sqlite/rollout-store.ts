/**
 * The SQLite adapter of the RolloutStore port (better-sqlite3, synchronous). Every write is one
 * BEGIN IMMEDIATE transaction holding the state row and its event row, so a process killed at any
 * moment leaves either both or neither, and with WAL and synchronous = FULL a resolved write
 * survives the restart that `listActive()` resumes from.
 */
import { systemClock, type Clock } from '../../core/index.js';
import {
  checkCreate,
  checkUpdate,
  eventsOptions,
  isActiveRollout,
  isRolloutReason,
  jsonFrozen,
  listOptions,
  ROLLOUT_PHASES,
  RolloutStateErrors,
  rolloutRefusals,
  type Rollout,
  type RolloutEvent,
  type RolloutPhase,
  type RolloutStore,
} from '../../rollout/state/index.js';
import { checkDatabaseIntegrity, openSqliteDatabase, writeTransaction, type SqliteDatabase } from './database.js';
import { migrate, type MigrationOutcome } from './migrate.js';
import { ROLLOUTS_COMPONENT, rolloutMigrations } from './rollout-migrations.js';

export interface SqliteRolloutStoreOptions {
  /** An already open database (see openSqliteDatabase), usually shared with the registry; not closed by `close()`. Give this or `path`. */
  readonly db?: SqliteDatabase;
  /** A database file to open (created if missing), for tools and tests. */
  readonly path?: string;
  /** Busy timeout when opening `path`. Default 5000. */
  readonly busyTimeoutMs?: number;
  /** Stamps `schema_migrations.applied_at`. Default: the system clock. */
  readonly clock?: Clock;
}

/** The SQLite adapter, with its connection, what opening did to the schema, and a health check. */
export interface SqliteRolloutStore extends RolloutStore {
  readonly db: SqliteDatabase;
  readonly migration: MigrationOutcome;
  /** `['ok']` when SQLite's integrity and foreign-key checks pass, else the problems found. */
  checkIntegrity(): string[];
  /** Closes the connection if this store opened it. Idempotent. */
  close(): void;
}

interface RolloutRow {
  id: string;
  endpoint: string;
  model: string;
  strategy_kind: string;
  strategy: string;
  stable_version: number;
  candidate_version: number | null;
  variants: string | null;
  phase: string;
  step_index: number;
  step_started_at: number | null;
  candidate_ready_at: number | null;
  current_weight: number;
  paused_at: number | null;
  pause_until: number | null;
  pause_reason: string | null;
  winner: string | null;
  promotion: string | null;
  conditions: string;
  analysis: string;
  sticky_salt: string;
  created_at: number;
  created_by: string;
  updated_at: number;
  finished_at: number | null;
  superseded_by: string | null;
  revision: number;
}

interface EventRow {
  rollout_id: string;
  seq: number;
  at: number;
  actor: string;
  type: string;
  from_phase: string | null;
  to_phase: string;
  reason: string;
  message: string;
  step_index: number;
  weight: number;
  evidence: string | null;
}

function corrupt(id: string, what: string, cause?: unknown): Error {
  return RolloutStateErrors.ROLLOUT_STATE_CORRUPT(`stored rollout ${id} cannot be read: ${what}`, { details: { rolloutId: id }, cause });
}

function parse<T>(id: string, column: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw corrupt(id, `column ${column} is not JSON`, error);
  }
}

function phaseOf(id: string, value: string | null): RolloutPhase {
  if (!ROLLOUT_PHASES.includes(value as RolloutPhase)) throw corrupt(id, `unknown phase ${String(value)}`);
  return value as RolloutPhase;
}

function toRollout(row: RolloutRow): Rollout {
  const id = row.id;
  return jsonFrozen<Rollout>({
    id,
    endpoint: row.endpoint,
    model: row.model,
    strategy: parse(id, 'strategy', row.strategy),
    stableVersion: row.stable_version,
    candidateVersion: row.candidate_version,
    variants: row.variants === null ? null : parse(id, 'variants', row.variants),
    phase: phaseOf(id, row.phase),
    stepIndex: row.step_index,
    stepStartedAt: row.step_started_at,
    candidateReadyAt: row.candidate_ready_at,
    currentWeight: row.current_weight,
    pausedAt: row.paused_at,
    pauseUntil: row.pause_until,
    pauseReason: row.pause_reason as Rollout['pauseReason'],
    winner: row.winner,
    promotion: row.promotion === null ? null : parse(id, 'promotion', row.promotion),
    conditions: parse(id, 'conditions', row.conditions),
    analysis: parse(id, 'analysis', row.analysis),
    stickySalt: row.sticky_salt,
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    supersededBy: row.superseded_by,
    revision: row.revision,
  });
}

function toEvent(row: EventRow): RolloutEvent {
  if (!isRolloutReason(row.reason)) throw corrupt(row.rollout_id, `event ${row.seq} has an unknown reason ${row.reason}`);
  return jsonFrozen<RolloutEvent>({
    rolloutId: row.rollout_id,
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    type: row.type as RolloutEvent['type'],
    fromPhase: row.from_phase === null ? null : phaseOf(row.rollout_id, row.from_phase),
    toPhase: phaseOf(row.rollout_id, row.to_phase),
    reason: row.reason,
    message: row.message,
    stepIndex: row.step_index,
    weight: row.weight,
    evidence: row.evidence === null ? null : parse(row.rollout_id, 'evidence', row.evidence),
  });
}

/** The named parameters of a rollout row. */
function rolloutParams(r: Rollout): Record<string, string | number | null> {
  return {
    id: r.id,
    endpoint: r.endpoint,
    model: r.model,
    strategyKind: r.strategy.kind,
    strategy: JSON.stringify(r.strategy),
    stableVersion: r.stableVersion,
    candidateVersion: r.candidateVersion,
    variants: r.variants === null ? null : JSON.stringify(r.variants),
    phase: r.phase,
    stepIndex: r.stepIndex,
    stepStartedAt: r.stepStartedAt,
    candidateReadyAt: r.candidateReadyAt,
    currentWeight: r.currentWeight,
    pausedAt: r.pausedAt,
    pauseUntil: r.pauseUntil,
    pauseReason: r.pauseReason,
    winner: r.winner,
    promotion: r.promotion === null ? null : JSON.stringify(r.promotion),
    conditions: JSON.stringify(r.conditions),
    analysis: JSON.stringify(r.analysis),
    stickySalt: r.stickySalt,
    createdAt: r.createdAt,
    createdBy: r.createdBy,
    updatedAt: r.updatedAt,
    finishedAt: r.finishedAt,
    supersededBy: r.supersededBy,
    revision: r.revision,
  };
}

function eventParams(e: RolloutEvent): Record<string, string | number | null> {
  return {
    rolloutId: e.rolloutId,
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    type: e.type,
    fromPhase: e.fromPhase,
    toPhase: e.toPhase,
    reason: e.reason,
    message: e.message,
    stepIndex: e.stepIndex,
    weight: e.weight,
    evidence: e.evidence === null ? null : JSON.stringify(e.evidence),
  };
}

const COLUMNS = `id, endpoint, model, strategy_kind, strategy, stable_version, candidate_version, variants, phase, step_index,
  step_started_at, candidate_ready_at, current_weight, paused_at, pause_until, pause_reason, winner, promotion, conditions,
  analysis, sticky_salt, created_at, created_by, updated_at, finished_at, superseded_by, revision`;
const VALUES = `@id, @endpoint, @model, @strategyKind, @strategy, @stableVersion, @candidateVersion, @variants, @phase, @stepIndex,
  @stepStartedAt, @candidateReadyAt, @currentWeight, @pausedAt, @pauseUntil, @pauseReason, @winner, @promotion, @conditions,
  @analysis, @stickySalt, @createdAt, @createdBy, @updatedAt, @finishedAt, @supersededBy, @revision`;
const ACTIVE = `phase NOT IN ('Promoted', 'Aborted')`;

/**
 * Adopts an open database (or opens `path`), brings the `rollouts` schema up to date and returns
 * the store. Throws STORAGE_SCHEMA_TOO_NEW for a database written by a newer Slipway.
 */
export function createSqliteRolloutStore(options: SqliteRolloutStoreOptions): SqliteRolloutStore {
  if ((options.db === undefined) === (options.path === undefined)) {
    throw new Error('createSqliteRolloutStore needs exactly one of `db` or `path`');
  }
  const owned = options.db === undefined;
  const db =
    options.db ??
    openSqliteDatabase(options.path ?? '', options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs });
  let migration: MigrationOutcome;
  try {
    migration = migrate(db, ROLLOUTS_COMPONENT, rolloutMigrations, { clock: options.clock ?? systemClock });
  } catch (error) {
    if (owned) db.close();
    throw error;
  }

  const sql = {
    get: db.prepare(`SELECT * FROM rollouts WHERE id = ?`),
    active: db.prepare(`SELECT * FROM rollouts WHERE endpoint = ? AND ${ACTIVE}`),
    activeOther: db.prepare(`SELECT id, phase FROM rollouts WHERE endpoint = ? AND id <> ? AND ${ACTIVE}`),
    list: db.prepare(`SELECT * FROM rollouts ORDER BY created_at DESC, id DESC LIMIT ?`),
    listByEndpoint: db.prepare(`SELECT * FROM rollouts WHERE endpoint = ? ORDER BY created_at DESC, id DESC LIMIT ?`),
    listActive: db.prepare(`SELECT * FROM rollouts WHERE ${ACTIVE} ORDER BY created_at DESC, id DESC`),
    revision: db.prepare(`SELECT revision, endpoint FROM rollouts WHERE id = ?`),
    insert: db.prepare(`INSERT INTO rollouts (${COLUMNS}) VALUES (${VALUES})`),
    update: db.prepare(`
      UPDATE rollouts SET
        model = @model, strategy_kind = @strategyKind, strategy = @strategy, stable_version = @stableVersion,
        candidate_version = @candidateVersion, variants = @variants, phase = @phase, step_index = @stepIndex,
        step_started_at = @stepStartedAt, candidate_ready_at = @candidateReadyAt, current_weight = @currentWeight,
        paused_at = @pausedAt, pause_until = @pauseUntil, pause_reason = @pauseReason, winner = @winner,
        promotion = @promotion, conditions = @conditions, analysis = @analysis, sticky_salt = @stickySalt,
        created_at = @createdAt, created_by = @createdBy, updated_at = @updatedAt, finished_at = @finishedAt,
        superseded_by = @supersededBy, revision = @revision
      WHERE id = @id AND revision = @expectedRevision`),
    insertEvent: db.prepare(`
      INSERT INTO rollout_events (rollout_id, seq, at, actor, type, from_phase, to_phase, reason, message, step_index, weight, evidence)
      VALUES (@rolloutId, @seq, @at, @actor, @type, @fromPhase, @toPhase, @reason, @message, @stepIndex, @weight, @evidence)`),
    events: db.prepare(`SELECT * FROM rollout_events WHERE rollout_id = ? AND seq > ? ORDER BY seq LIMIT ?`),
  };

  /** Inside a transaction: refuses if another rollout holds the endpoint's active slot. */
  function requireFreeSlot(rollout: Rollout): void {
    if (!isActiveRollout(rollout)) return;
    const other = sql.activeOther.get(rollout.endpoint, rollout.id) as { id: string; phase: RolloutPhase } | undefined;
    if (other !== undefined) throw rolloutRefusals.activeExists(rollout.endpoint, other.id, other.phase);
  }

  function insert(rollout: Rollout, event: RolloutEvent): Rollout {
    checkCreate(rollout, event);
    if (sql.revision.get(rollout.id) !== undefined) throw rolloutRefusals.exists(rollout.id);
    requireFreeSlot(rollout);
    const stored = jsonFrozen(rollout);
    sql.insert.run(rolloutParams(stored));
    sql.insertEvent.run(eventParams(event));
    return stored;
  }

  function replace(rollout: Rollout, expectedRevision: number, event: RolloutEvent): Rollout {
    checkUpdate(rollout, expectedRevision, event);
    const current = sql.revision.get(rollout.id) as { revision: number; endpoint: string } | undefined;
    if (current === undefined) throw rolloutRefusals.notFound(rollout.id);
    if (current.revision !== expectedRevision) throw rolloutRefusals.revisionConflict(rollout.id, expectedRevision, current.revision);
    if (current.endpoint !== rollout.endpoint) {
      throw rolloutRefusals.badWrite(`rollout ${rollout.id} belongs to endpoint "${current.endpoint}", not "${rollout.endpoint}"`, { rolloutId: rollout.id });
    }
    requireFreeSlot(rollout);
    const stored = jsonFrozen(rollout);
    const changed = sql.update.run({ ...rolloutParams(stored), expectedRevision }).changes;
    // the revision was read under the write lock just above, so this cannot miss; checked anyway
    if (changed !== 1) throw rolloutRefusals.revisionConflict(rollout.id, expectedRevision, current.revision);
    sql.insertEvent.run(eventParams(event));
    return stored;
  }

  let closed = false;

  // The port is asynchronous; better-sqlite3 is synchronous. Methods stay `async` so that a
  // refusal thrown inside a transaction becomes a rejection.
  const store: SqliteRolloutStore = {
    db,
    migration,
    checkIntegrity: () => checkDatabaseIntegrity(db),
    close() {
      if (closed) return;
      closed = true;
      if (owned) db.close();
    },

    async create(rollout, event) {
      return writeTransaction(db, () => insert(rollout, event));
    },

    async get(id) {
      const row = sql.get.get(id) as RolloutRow | undefined;
      return row === undefined ? undefined : toRollout(row);
    },

    async active(endpoint) {
      const row = sql.active.get(endpoint) as RolloutRow | undefined;
      return row === undefined ? undefined : toRollout(row);
    },

    async list(options) {
      const { endpoint, limit } = listOptions(options);
      const rows = (endpoint === undefined ? sql.list.all(limit) : sql.listByEndpoint.all(endpoint, limit)) as RolloutRow[];
      return rows.map(toRollout);
    },

    async listActive() {
      return (sql.listActive.all() as RolloutRow[]).map(toRollout);
    },

    async update(rollout, expectedRevision, event) {
      return writeTransaction(db, () => replace(rollout, expectedRevision, event));
    },

    async supersede(current, next) {
      return writeTransaction(db, () => {
        replace(current.rollout, current.expectedRevision, current.record);
        return insert(next.rollout, next.record);
      });
    },

    async events(rolloutId, options) {
      const { afterSeq, limit } = eventsOptions(options);
      return (sql.events.all(rolloutId, afterSeq, limit) as EventRow[]).map(toEvent);
    },
  };
  return store;
}
