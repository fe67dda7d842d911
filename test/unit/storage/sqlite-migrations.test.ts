import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createFakeClock, PlatformError } from '../../../src/core/index.js';
import {
  createSqliteRegistryStore,
  migrate,
  openSqliteDatabase,
  REGISTRY_COMPONENT,
  registryMigrations,
  schemaVersion,
  type Migration,
} from '../../../src/storage/index.js';

const table = (name: string): Migration['up'] => (db) => db.exec(`CREATE TABLE ${name} (id INTEGER PRIMARY KEY) STRICT`);

function tableNames(db: ReturnType<typeof openSqliteDatabase>): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
}

describe('schema migrations', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-migrate-'));
    path = join(dir, 'slipway.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('applies pending migrations in order, records them, and applies nothing the second time', () => {
    const db = openSqliteDatabase(path);
    const clock = createFakeClock(Date.UTC(2026, 2, 3));
    const migrations: Migration[] = [
      { version: 1, name: 'one', up: table('one') },
      { version: 2, name: 'two', up: table('two') },
    ];
    assert.deepEqual(migrate(db, 'demo', migrations, { clock }), { component: 'demo', from: 0, to: 2, applied: ['one', 'two'] });
    assert.deepEqual(migrate(db, 'demo', migrations, { clock }), { component: 'demo', from: 2, to: 2, applied: [] });
    const rows = db.prepare('SELECT component, version, name, applied_at FROM schema_migrations ORDER BY version').all();
    assert.deepEqual(
      rows.map((r) => ({ ...(r as object) })),
      [
        { component: 'demo', version: 1, name: 'one', applied_at: '2026-03-03T00:00:00.000Z' },
        { component: 'demo', version: 2, name: 'two', applied_at: '2026-03-03T00:00:00.000Z' },
      ],
    );
    db.close();
  });

  test('applies only the migrations added since the last run', () => {
    const db = openSqliteDatabase(path);
    migrate(db, 'demo', [{ version: 1, name: 'one', up: table('one') }]);
    const outcome = migrate(db, 'demo', [
      { version: 1, name: 'one', up: () => assert.fail('must not run again') },
      { version: 2, name: 'two', up: table('two') },
    ]);
    assert.deepEqual(outcome.applied, ['two']);
    assert.deepEqual(tableNames(db).filter((n) => n === 'one' || n === 'two'), ['one', 'two']);
    db.close();
  });

  test('rolls a failing migration back entirely and leaves the previous version in place', () => {
    const db = openSqliteDatabase(path);
    migrate(db, 'demo', [{ version: 1, name: 'one', up: table('one') }]);
    const failing: Migration[] = [
      { version: 1, name: 'one', up: table('one') },
      {
        version: 2,
        name: 'half-done',
        up(d) {
          d.exec('CREATE TABLE two (id INTEGER PRIMARY KEY) STRICT');
          d.exec('INSERT INTO one (id) VALUES (1)');
          throw new Error('disk on fire');
        },
      },
    ];
    assert.throws(
      () => migrate(db, 'demo', failing),
      (error: unknown) =>
        error instanceof PlatformError &&
        error.code === 'STORAGE_MIGRATION_FAILED' &&
        /demo #2 \(half-done\).*rolled back: disk on fire/.test(error.message),
    );
    assert.equal(schemaVersion(db, 'demo'), 1);
    assert.ok(!tableNames(db).includes('two'));
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM one').get() as { n: number }).n, 0);
    db.close();
  });

  test('refuses a database whose schema is newer than this build, with a clear error', () => {
    const db = openSqliteDatabase(path);
    migrate(db, REGISTRY_COMPONENT, [...registryMigrations, { version: registryMigrations.length + 1, name: 'from-the-future', up: table('future') }]);
    db.close();
    assert.throws(
      () => createSqliteRegistryStore({ path }),
      (error: unknown) => {
        assert.ok(error instanceof PlatformError);
        assert.equal(error.code, 'STORAGE_SCHEMA_TOO_NEW');
        assert.match(error.message, new RegExp(`has registry schema version ${registryMigrations.length + 1}`));
        assert.match(error.message, /newer Slipway/);
        assert.ok(error.message.includes(path));
        return true;
      },
    );
  });

  test('keeps the versions of each component apart', () => {
    const db = openSqliteDatabase(path);
    migrate(db, 'alpha', [{ version: 1, name: 'a1', up: table('a1') }]);
    migrate(db, 'beta', [
      { version: 1, name: 'b1', up: table('b1') },
      { version: 2, name: 'b2', up: table('b2') },
    ]);
    assert.equal(schemaVersion(db, 'alpha'), 1);
    assert.equal(schemaVersion(db, 'beta'), 2);
    db.close();
  });

  test('rejects a migration list that is not numbered 1, 2, 3 …', () => {
    const db = openSqliteDatabase(path);
    assert.throws(() => migrate(db, 'demo', [{ version: 2, name: 'two', up: table('two') }]), /numbered 1, 2, 3/);
    db.close();
  });

  test('creates the registry schema at its latest version on a fresh database', () => {
    const store = createSqliteRegistryStore({ path });
    assert.equal(schemaVersion(store.db, REGISTRY_COMPONENT), registryMigrations.length);
    assert.deepEqual(
      tableNames(store.db).filter((n) => !n.startsWith('sqlite_')),
      ['alias_events', 'aliases', 'endpoint_events', 'endpoints', 'models', 'schema_migrations', 'versions'],
    );
    store.close();
  });

  test('refuses a file that is not a SQLite database', () => {
    writeFileSync(path, 'this is not a database, just some text long enough to have a header '.repeat(20));
    assert.throws(
      () => openSqliteDatabase(path),
      (error: unknown) => error instanceof PlatformError && error.code === 'STORAGE_DATABASE_UNUSABLE' && error.message.includes(path),
    );
  });
});
