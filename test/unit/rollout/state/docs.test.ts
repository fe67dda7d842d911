import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ROLLOUT_CONDITION_TYPES, ROLLOUT_PHASES, ROLLOUT_REASONS } from '../../../../src/rollout/state/index.js';

const DOC = readFileSync(new URL('../../../../docs/rollouts.md', import.meta.url), 'utf8');

/** The reason table as docs/rollouts.md must show it, rendered from the constants. */
function reasonTable(): string {
  return [
    '| reason | meaning |',
    '|---|---|',
    ...Object.entries(ROLLOUT_REASONS).map(([reason, meaning]) => `| \`${reason}\` | ${meaning.replace(/\|/g, '\\|')} |`),
  ].join('\n');
}

test('docs/rollouts.md shows the reason table exactly as the constants define it', () => {
  assert.ok(DOC.includes(`${reasonTable()}\n`), `docs/rollouts.md must contain, verbatim:\n${reasonTable()}`);
});

test('docs/rollouts.md describes every phase and condition type', () => {
  for (const phase of ROLLOUT_PHASES) assert.ok(DOC.includes(`| \`${phase}\` |`), `phase ${phase} has no row`);
  for (const type of ROLLOUT_CONDITION_TYPES) assert.ok(DOC.includes(`| \`${type}\` |`), `condition ${type} has no row`);
});
