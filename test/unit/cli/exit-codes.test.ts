import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommanderError } from 'commander';
import { PlatformError, type ErrorKind } from '../../../src/core/index.js';
import { CliErrors, EXIT, exitCodeFor } from '../../../src/cli/main.js';

void test('maps every error kind to its documented exit code', () => {
  const expected: Record<ErrorKind, number> = {
    internal: 1,
    invalid: 5,
    not_found: 3,
    conflict: 4,
    unavailable: 6,
    unauthenticated: 7,
    forbidden: 7,
    too_large: 8,
    limited: 9,
    timeout: 10,
  };
  for (const [kind, code] of Object.entries(expected)) assert.equal(exitCodeFor(new PlatformError('X_Y', kind as ErrorKind, 'm')), code, kind);
});

void test('maps usage mistakes to 2, help and version to 0, and anything unknown to 1', () => {
  assert.equal(exitCodeFor(CliErrors.CLI_USAGE('bad flag')), EXIT.usage);
  assert.equal(exitCodeFor(new CommanderError(1, 'commander.unknownOption', 'x')), 2);
  assert.equal(exitCodeFor(new CommanderError(0, 'commander.helpDisplayed', 'x')), 0);
  assert.equal(exitCodeFor(new Error('boom')), 1);
});
