/**
 * Monitoring's schema, as numbered migrations (component `monitoring`) on the database the registry
 * shares. Released migrations are never edited; a schema change is a new entry at the end.
 */
import type { Migration } from './migrate.js';

export const MONITORING_COMPONENT = 'monitoring';

/** The second a record's `at` (ms since the epoch) falls in, rounded down (before 1970 too), as SQL; {@link secondOf} in JavaScript. */
export const SECOND_OF_AT = 'CASE WHEN at >= 0 THEN at / 1000 ELSE -((999 - at) / 1000) END';

/** The second `at` falls in, rounded down: as {@link SECOND_OF_AT}. */
export const secondOf = (at: number): number => Math.floor(at / 1000);

export const monitoringMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'predictions-and-feedback',
    up(db) {
      db.exec(`
        -- One row per answer: the primary (shadow = 0) and, when mirrored, the shadow's (shadow = 1).
        -- seq orders rows by insertion, which is what count-based retention removes first.
        -- predicted is the one-row prediction as text (labels compare with it as text).
        CREATE TABLE monitoring_predictions (
          seq INTEGER PRIMARY KEY,
          request_id TEXT NOT NULL,
          shadow INTEGER NOT NULL CHECK (shadow IN (0, 1)),
          at INTEGER NOT NULL,
          endpoint TEXT NOT NULL,
          model TEXT,
          version INTEGER,
          variant TEXT NOT NULL,
          latency_ms REAL NOT NULL,
          status INTEGER NOT NULL,
          predicted TEXT,
          outputs TEXT NOT NULL CHECK (json_valid(outputs)),
          UNIQUE (request_id, shadow)
        ) STRICT;
        CREATE INDEX monitoring_predictions_by_endpoint ON monitoring_predictions (endpoint, at);
        CREATE INDEX monitoring_predictions_by_at ON monitoring_predictions (at);

        -- Feedback has no foreign key to predictions: a request id may have two rows there (primary
        -- and shadow). Retention deletes feedback together with the last row of its request id.
        CREATE TABLE monitoring_labels (
          request_id TEXT PRIMARY KEY,
          label TEXT NOT NULL,
          label_type TEXT NOT NULL CHECK (label_type IN ('string', 'number')),
          at INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;

        -- event '' holds a value sent without an event.
        CREATE TABLE monitoring_outcomes (
          request_id TEXT NOT NULL,
          event TEXT NOT NULL,
          value REAL,
          at INTEGER NOT NULL,
          PRIMARY KEY (request_id, event)
        ) STRICT, WITHOUT ROWID;
      `);
    },
  },
  {
    version: 2,
    name: 'predictions-without-time-index',
    up(db) {
      // Retention by age reads the (endpoint, at) index, endpoint by endpoint, instead: one B-tree
      // fewer for the prediction writer to update per prediction.
      db.exec('DROP INDEX IF EXISTS monitoring_predictions_by_at;');
    },
  },
  {
    version: 3,
    name: 'prediction-counts-per-second',
    up(db) {
      // The prediction records counted per endpoint, second, variant and version (version -1: none),
      // kept by the writes that add and remove records, in their transactions: a window's counts
      // read one row per second of it, not one per record (see countsOf in monitoring-ops.ts).
      db.exec(`
        CREATE TABLE monitoring_prediction_seconds (
          endpoint TEXT NOT NULL,
          second INTEGER NOT NULL,
          variant TEXT NOT NULL,
          version INTEGER NOT NULL,
          predictions INTEGER NOT NULL,
          answered INTEGER NOT NULL,
          PRIMARY KEY (endpoint, second, variant, version)
        ) STRICT, WITHOUT ROWID;
        INSERT INTO monitoring_prediction_seconds (endpoint, second, variant, version, predictions, answered)
          SELECT endpoint, ${SECOND_OF_AT}, variant, COALESCE(version, -1), COUNT(*), SUM(status BETWEEN 200 AND 299)
          FROM monitoring_predictions GROUP BY 1, 2, 3, 4;
      `);
    },
  },
];
