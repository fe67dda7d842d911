/**
 * Crash safety: a writer process killed with SIGKILL in the middle of its write loop must leave a
 * database that passes SQLite's integrity check, holds every version it reported committed, intact
 * and numbered without gaps, and never shows half of a transaction.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createSqliteRegistryStore } from '../../../src/storage/index.js';
import { digestOfText, PAYLOAD } from './fixtures/registry-writer-data.js';

const WRITER = fileURLToPath(new URL('./fixtures/registry-writer.ts', import.meta.url));

function startWriter(args: string[]): { child: ChildProcess; lines: AsyncIterableIterator<string>; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  return { child, lines, exit };
}

describe('SQLite registry crash safety', () => {
  test('survives a writer killed mid-write, three times over, with every committed version intact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-crash-'));
    const path = join(dir, 'slipway.db');
    try {
      let lastReported = 0;
      for (let round = 1; round <= 3; round++) {
        const writer = startWriter(['loop', path]);
        const killAt = lastReported + 60 + round * 17; // a different point in the loop each round
        let seen = 0;
        for (;;) {
          const next = await writer.lines.next();
          if (next.done === true) {
            const { code, stderr } = await writer.exit;
            assert.fail(`the writer stopped by itself (exit ${code}) before it was killed: ${stderr}`);
          }
          const match = /^version (\d+)$/.exec(next.value);
          if (match !== null) {
            seen = Number(match[1]);
            if (seen >= killAt) break;
          }
        }
        writer.child.kill('SIGKILL');
        const { signal } = await writer.exit;
        assert.equal(signal, 'SIGKILL');
        lastReported = seen;

        const store = createSqliteRegistryStore({ path });
        try {
          assert.deepEqual(store.checkIntegrity(), ['ok'], `round ${round}`);
          const versions = await store.listVersions('crash');
          const latest = versions.length;
          assert.ok(latest >= lastReported, `round ${round}: reported ${lastReported} committed, found ${latest}`);
          versions.forEach((v, i) => {
            assert.equal(v.version, i + 1, 'numbers are contiguous');
            assert.equal(v.tags.key, String(v.version));
            assert.equal(v.digest, digestOfText(`crash-${v.version}`));
            assert.equal(v.description, PAYLOAD);
            assert.deepEqual(v.lineage, { metrics: { n: String(v.version).length } });
          });
          // an alias move and its follower's move are one transaction: never one without the other
          const alias = await store.getAlias('crash', 'latest');
          const endpoint = await store.getEndpoint('crash');
          assert.ok(alias && endpoint);
          assert.ok(alias.version === latest || alias.version === latest - 1, `alias at ${alias.version}, latest ${latest}`);
          assert.equal(endpoint.version, alias.version);
          // the histories are unbroken chains, and every alias move has exactly one follower move
          const aliasHistory = await store.aliasHistory('crash', 'latest');
          const endpointHistory = await store.endpointHistory('crash');
          assert.equal(endpointHistory.length, aliasHistory.length);
          aliasHistory.forEach((event, i) => {
            assert.equal(event.from, i === 0 ? null : aliasHistory[i - 1]?.to);
            assert.equal(endpointHistory[i]?.to?.version, event.to);
          });
          assert.equal(aliasHistory.at(-1)?.to, alias.version);
        } finally {
          store.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('gives two writer processes on one database distinct, gap-free version numbers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-concurrent-'));
    const path = join(dir, 'slipway.db');
    try {
      // create the schema first, so the writers do not race to migrate an empty file
      createSqliteRegistryStore({ path }).close();
      const writers = ['a', 'b'].map((id) => startWriter(['count', path, id, '120']));
      for (const writer of writers) {
        const { code, stderr } = await writer.exit;
        assert.equal(code, 0, stderr);
      }
      const store = createSqliteRegistryStore({ path });
      try {
        const versions = await store.listVersions('shared');
        assert.equal(versions.length, 240);
        versions.forEach((v, i) => assert.equal(v.version, i + 1));
        assert.equal(new Set(versions.map((v) => v.digest)).size, 240);
        assert.equal(versions.filter((v) => v.tags.key?.startsWith('a-')).length, 120);
        assert.deepEqual(store.checkIntegrity(), ['ok']);
      } finally {
        store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
