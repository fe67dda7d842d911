/**
 * The registry's schema, as numbered migrations (component `registry`). Released migrations are
 * never edited; a schema change is a new entry at the end.
 */
import type { Migration } from './migrate.js';

export const REGISTRY_COMPONENT = 'registry';

export const registryMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    up(db) {
      db.exec(`
        CREATE TABLE models (
          name TEXT PRIMARY KEY,
          description TEXT NOT NULL,
          owner TEXT NOT NULL,
          created_at TEXT NOT NULL,
          created_by TEXT NOT NULL
        ) STRICT;

        -- Versions are immutable; the JSON columns hold the signature, ONNX facts, tags and lineage.
        -- parent_version repeats lineage.parentVersion so that the database itself enforces it.
        CREATE TABLE versions (
          model TEXT NOT NULL REFERENCES models (name),
          version INTEGER NOT NULL CHECK (version >= 1),
          digest TEXT NOT NULL,
          size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
          signature TEXT NOT NULL CHECK (json_valid(signature)),
          onnx TEXT NOT NULL CHECK (json_valid(onnx)),
          description TEXT NOT NULL,
          tags TEXT NOT NULL CHECK (json_valid(tags)),
          lineage TEXT NOT NULL CHECK (json_valid(lineage)),
          parent_version INTEGER,
          created_at TEXT NOT NULL,
          created_by TEXT NOT NULL,
          PRIMARY KEY (model, version),
          UNIQUE (model, digest),
          FOREIGN KEY (model, parent_version) REFERENCES versions (model, version)
        ) STRICT;
        CREATE INDEX versions_by_digest ON versions (digest);

        CREATE TABLE aliases (
          model TEXT NOT NULL,
          alias TEXT NOT NULL,
          version INTEGER NOT NULL,
          updated_at TEXT NOT NULL,
          updated_by TEXT NOT NULL,
          PRIMARY KEY (model, alias),
          FOREIGN KEY (model, version) REFERENCES versions (model, version)
        ) STRICT;

        -- Append-only. AUTOINCREMENT: a seq is never reused, even after the highest row is gone.
        CREATE TABLE alias_events (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          model TEXT NOT NULL REFERENCES models (name),
          alias TEXT NOT NULL,
          from_version INTEGER,
          to_version INTEGER,
          at TEXT NOT NULL,
          actor TEXT NOT NULL,
          reason TEXT NOT NULL
        ) STRICT;
        CREATE INDEX alias_events_by_alias ON alias_events (model, alias, seq);

        -- The target is (target_kind, model, alias | version); version is what it resolves to now.
        -- The alias foreign key makes the database refuse to delete an alias an endpoint follows.
        CREATE TABLE endpoints (
          name TEXT PRIMARY KEY,
          description TEXT NOT NULL,
          target_kind TEXT NOT NULL CHECK (target_kind IN ('version', 'alias')),
          model TEXT NOT NULL,
          alias TEXT,
          version INTEGER NOT NULL,
          created_at TEXT NOT NULL,
          updated_at TEXT NOT NULL,
          CHECK ((target_kind = 'alias') = (alias IS NOT NULL)),
          FOREIGN KEY (model, version) REFERENCES versions (model, version),
          FOREIGN KEY (model, alias) REFERENCES aliases (model, alias)
        ) STRICT;
        CREATE INDEX endpoints_by_alias ON endpoints (model, alias);

        CREATE TABLE endpoint_events (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          endpoint TEXT NOT NULL,
          from_state TEXT CHECK (from_state IS NULL OR json_valid(from_state)),
          to_state TEXT CHECK (to_state IS NULL OR json_valid(to_state)),
          at TEXT NOT NULL,
          actor TEXT NOT NULL,
          reason TEXT NOT NULL
        ) STRICT;
        CREATE INDEX endpoint_events_by_endpoint ON endpoint_events (endpoint, seq);
      `);
    },
  },
  {
    version: 2,
    name: 'artifact-signatures',
    up(db) {
      // A version's detached artifact signature (docs/security.md#signed-artifacts) as JSON; NULL: unsigned.
      db.exec(`
        ALTER TABLE versions ADD COLUMN artifact_signature TEXT CHECK (artifact_signature IS NULL OR json_valid(artifact_signature));
      `);
    },
  },
];
