import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { registeredErrorCodes } from '../../../src/core/index.js';
import { loadAllErrorTables, renderErrorDocs } from '../../support/error-docs.js';

test('docs/errors.md documents every error code the code declares, as generated', async () => {
  const committed = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const fresh = await renderErrorDocs();
  for (const code of registeredErrorCodes().keys()) assert.ok(committed.includes(`\`${code}\``), `docs/errors.md lacks ${code}; run npm run docs:errors`);
  assert.equal(committed, fresh, 'docs/errors.md is out of date; run npm run docs:errors');
});

test('every error code has help text of at least one sentence', async () => {
  await loadAllErrorTables();
  for (const [code, spec] of registeredErrorCodes()) assert.ok(spec.help.length >= 20 && /[.)]$/.test(spec.help.trim()), `${code} needs a help sentence`);
});
