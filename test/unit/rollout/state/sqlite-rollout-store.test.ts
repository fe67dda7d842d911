import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PlatformError } from '../../../../src/core/index.js';
import { transition, trafficPolicyOf } from '../../../../src/rollout/state/index.js';
import { createRouter } from '../../../../src/serving/routing/index.js';
import { createSqliteRegistryStore, createSqliteRolloutStore, openSqliteDatabase } from '../../../../src/storage/index.js';
import { start, T0 } from './fixtures.js';
import { act, created, rolloutStoreContract } from './rollout-store.contract.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'slipway-rollouts-'));
}

rolloutStoreContract('sqlite', () => {
  const dir = tempDir();
  const store = createSqliteRolloutStore({ path: join(dir, 'slipway.db') });
  return {
    store,
    cleanup: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteRolloutStore', () => {
  test('resumes after a restart with the same state, history, split and sticky assignment', async () => {
    const dir = tempDir();
    const path = join(dir, 'slipway.db');
    try {
      const first = createSqliteRolloutStore({ path });
      assert.deepEqual(first.migration.applied, ['initial']);
      let canary = await created(first, 'CANARY', 'fraud');
      canary = await act(first, canary, { type: 'candidateReady' });
      canary = await act(first, canary, { type: 'pauseExpired' }, canary.pauseUntil ?? 0);
      let experiment = await created(first, 'EXPERIMENT', 'shop', T0 + 1);
      experiment = await act(first, experiment, { type: 'candidateReady' });
      const finished = await act(first, await act(first, await created(first, 'SHADOW', 'old'), { type: 'abort' }), { type: 'finalized' });
      const before = { active: await first.listActive(), canaryEvents: await first.events(canary.id) };
      first.close();

      const second = createSqliteRolloutStore({ path });
      assert.deepEqual(second.migration.applied, []);
      const active = await second.listActive();
      assert.deepEqual(active, before.active);
      assert.deepEqual(active.map((r) => r.id).sort(), [canary.id, experiment.id].sort());
      assert.equal(active.some((r) => r.id === finished.id), false);
      assert.deepEqual(await second.events(canary.id), before.canaryEvents);

      const resumed = active.find((r) => r.id === canary.id);
      assert.ok(resumed);
      assert.deepEqual(trafficPolicyOf(resumed), trafficPolicyOf(canary));
      assert.equal(trafficPolicyOf(resumed).candidate?.weight, 10);
      const routerBefore = createRouter(trafficPolicyOf(canary));
      const routerAfter = createRouter(trafficPolicyOf(resumed));
      for (let i = 0; i < 200; i++) {
        const headers = { 'x-user-id': `u${i}` };
        assert.equal(routerAfter.route(headers).variant, routerBefore.route(headers).variant);
      }
      // and it carries on from where it was
      const next = transition(resumed, { type: 'promote' }, T0 + 100_000, 'bob');
      assert.ok(next.record);
      assert.equal((await second.update(next.rollout, resumed.revision, next.record)).stepIndex, 4);
      second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('shares one database with the registry, each with its own migrations, and leaves it open on close', async () => {
    const dir = tempDir();
    try {
      const db = openSqliteDatabase(join(dir, 'slipway.db'));
      const registry = createSqliteRegistryStore({ db });
      const rollouts = createSqliteRolloutStore({ db });
      await created(rollouts);
      rollouts.close();
      registry.close();
      assert.equal(db.open, true);
      const components = db.prepare('SELECT component, version, name FROM schema_migrations ORDER BY component').all();
      assert.deepEqual(components.map((r) => ({ ...(r as object) })), [
        { component: 'registry', version: 1, name: 'initial' },
        { component: 'registry', version: 2, name: 'artifact-signatures' },
        { component: 'rollouts', version: 1, name: 'initial' },
      ]);
      assert.deepEqual(createSqliteRolloutStore({ db }).checkIntegrity(), ['ok']);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('has STRICT tables and a partial unique index that refuses a second active row by itself', async () => {
    const dir = tempDir();
    try {
      const store = createSqliteRolloutStore({ path: join(dir, 'slipway.db') });
      const r = await created(store);
      const strict = store.db.prepare("SELECT name, strict FROM pragma_table_list WHERE name IN ('rollouts', 'rollout_events') ORDER BY name").all();
      assert.deepEqual(strict.map((row) => ({ ...(row as object) })), [
        { name: 'rollout_events', strict: 1 },
        { name: 'rollouts', strict: 1 },
      ]);
      const copy = (id: string, phase: string, finished: string): string =>
        `INSERT INTO rollouts SELECT '${id}', endpoint, model, strategy_kind, strategy, stable_version, candidate_version, variants, '${phase}', step_index,
           step_started_at, candidate_ready_at, current_weight, paused_at, pause_until, pause_reason, winner, promotion, conditions, analysis,
           sticky_salt, created_at, created_by, updated_at, ${finished}, superseded_by, revision FROM rollouts WHERE id = '${r.id}'`;
      assert.throws(() => store.db.exec(copy('SECOND', 'Progressing', 'NULL')), /UNIQUE constraint failed: rollouts.endpoint/);
      store.db.exec(copy('FINISHED', 'Aborted', '1')); // finished rollouts do not count
      assert.throws(() => store.db.exec(copy('BAD', 'Aborted', 'NULL')), /CHECK constraint failed/);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('lets one of two connections win a race from the same revision', async () => {
    const dir = tempDir();
    const path = join(dir, 'slipway.db');
    try {
      const a = createSqliteRolloutStore({ path });
      const b = createSqliteRolloutStore({ path });
      const r = await created(a);
      const viaA = transition(r, { type: 'abort' }, T0 + 1, 'bob');
      const viaB = transition(r, { type: 'pause' }, T0 + 1, 'carol');
      assert.ok(viaA.record && viaB.record);
      await a.update(viaA.rollout, 1, viaA.record);
      await assert.rejects(b.update(viaB.rollout, 1, viaB.record), (e: unknown) => e instanceof PlatformError && e.code === 'ROLLOUT_STATE_REVISION_CONFLICT');
      assert.equal((await b.get(r.id))?.phase, 'Aborting');
      // and a second active rollout is refused across connections too
      const shadow = start('SHADOW');
      await assert.rejects(b.create(shadow.rollout, shadow.record), (e: unknown) => e instanceof PlatformError && e.code === 'ROLLOUT_STATE_ACTIVE_EXISTS');
      a.close();
      b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const WRITER = fileURLToPath(new URL('./fixtures/rollout-writer.ts', import.meta.url));

describe('SQLite rollout crash safety', () => {
  test('a writer killed mid-rollout, three times over, leaves every committed change and never half of one', async () => {
    const dir = tempDir();
    const path = join(dir, 'slipway.db');
    try {
      let lastReported = 0;
      for (let round = 1; round <= 3; round++) {
        const child = spawn(process.execPath, ['--import', 'tsx', WRITER, path], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        const exit = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
        const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
        const killAt = lastReported + 40 + round * 13;
        let seen = lastReported;
        for (;;) {
          const next = await lines.next();
          if (next.done === true) assert.fail(`the writer stopped by itself before it was killed: ${stderr}`);
          const match = /^revision (\d+)$/.exec(next.value);
          if (match !== null && (seen = Number(match[1])) >= killAt) break;
        }
        child.kill('SIGKILL');
        assert.equal(await exit, 'SIGKILL');
        lastReported = seen;

        const store = createSqliteRolloutStore({ path });
        try {
          assert.deepEqual(store.checkIntegrity(), ['ok'], `round ${round}`);
          const [rollout, ...others] = await store.listActive();
          assert.ok(rollout !== undefined && others.length === 0);
          assert.ok(rollout.revision >= lastReported, `round ${round}: reported revision ${lastReported} committed, found ${rollout.revision}`);
          const events = await store.events(rollout.id, { limit: 10_000 });
          assert.deepEqual(events.map((e) => e.seq), Array.from({ length: rollout.revision }, (_, i) => i + 1), 'one event per revision, no gap');
          assert.equal(events.at(-1)?.toPhase, rollout.phase);
          // the state row and its event are one transaction: the looks in the state match the looks recorded
          const looks = events.filter((e) => e.type === 'analysisResult').length;
          assert.equal(rollout.analysis.background?.state.checks['error-rate']?.looks, looks);
          assert.equal(rollout.analysis.background?.input?.metrics.scores?.baseline?.kind, 'histogram');
          assert.equal(rollout.currentWeight, 10, 'the split survives');
        } finally {
          store.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
