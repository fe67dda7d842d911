/**
 * The rollouts' schema, as numbered migrations (component `rollouts`). Released migrations are
 * never edited; a schema change is a new entry at the end.
 */
import type { Migration } from './migrate.js';

export const ROLLOUTS_COMPONENT = 'rollouts';

export const rolloutMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    up(db) {
      db.exec(`
        -- One row per rollout, its current state. Scalars are columns (so the database checks them
        -- and a person can query them); the strategy, variants, promotion, conditions and analysis
        -- are JSON. Times are milliseconds since the epoch.
        CREATE TABLE rollouts (
          id TEXT PRIMARY KEY,
          endpoint TEXT NOT NULL,
          model TEXT NOT NULL,
          strategy_kind TEXT NOT NULL CHECK (strategy_kind IN ('canary', 'blueGreen', 'experiment', 'shadow')),
          strategy TEXT NOT NULL CHECK (json_valid(strategy)),
          stable_version INTEGER NOT NULL CHECK (stable_version >= 1),
          candidate_version INTEGER CHECK (candidate_version IS NULL OR candidate_version >= 1),
          variants TEXT CHECK (variants IS NULL OR json_valid(variants)),
          phase TEXT NOT NULL CHECK (phase IN ('Progressing', 'Paused', 'Promoting', 'Promoted', 'Aborting', 'Aborted')),
          step_index INTEGER NOT NULL CHECK (step_index >= 0),
          step_started_at INTEGER,
          candidate_ready_at INTEGER,
          current_weight REAL NOT NULL CHECK (current_weight >= 0 AND current_weight <= 100),
          paused_at INTEGER,
          pause_until INTEGER,
          pause_reason TEXT,
          winner TEXT,
          promotion TEXT CHECK (promotion IS NULL OR json_valid(promotion)),
          conditions TEXT NOT NULL CHECK (json_valid(conditions)),
          analysis TEXT NOT NULL CHECK (json_valid(analysis)),
          sticky_salt TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          created_by TEXT NOT NULL,
          updated_at INTEGER NOT NULL,
          finished_at INTEGER,
          superseded_by TEXT,
          revision INTEGER NOT NULL CHECK (revision >= 1),
          CHECK ((phase = 'Paused') = (pause_reason IS NOT NULL)),
          CHECK ((phase IN ('Promoted', 'Aborted')) = (finished_at IS NOT NULL))
        ) STRICT;

        -- At most one unfinished rollout per endpoint, enforced by the database itself.
        CREATE UNIQUE INDEX rollouts_one_active_per_endpoint ON rollouts (endpoint) WHERE phase NOT IN ('Promoted', 'Aborted');
        CREATE INDEX rollouts_by_endpoint ON rollouts (endpoint, created_at, id);
        CREATE INDEX rollouts_by_created ON rollouts (created_at, id);

        -- Append-only: one row per recorded change; seq is the revision the change produced.
        CREATE TABLE rollout_events (
          rollout_id TEXT NOT NULL REFERENCES rollouts (id),
          seq INTEGER NOT NULL CHECK (seq >= 1),
          at INTEGER NOT NULL,
          actor TEXT NOT NULL,
          type TEXT NOT NULL,
          from_phase TEXT CHECK (from_phase IS NULL OR from_phase IN ('Progressing', 'Paused', 'Promoting', 'Promoted', 'Aborting', 'Aborted')),
          to_phase TEXT NOT NULL CHECK (to_phase IN ('Progressing', 'Paused', 'Promoting', 'Promoted', 'Aborting', 'Aborted')),
          reason TEXT NOT NULL,
          message TEXT NOT NULL,
          step_index INTEGER NOT NULL,
          weight REAL NOT NULL,
          evidence TEXT CHECK (evidence IS NULL OR json_valid(evidence)),
          PRIMARY KEY (rollout_id, seq)
        ) STRICT;
      `);
    },
  },
];
