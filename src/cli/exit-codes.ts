/**
 * The CLI's exit codes: the one mapping from an error to the code a script sees. Documented in
 * docs/cli.md; a script can rely on them.
 */
import { CommanderError } from 'commander';
import { toPlatformError, type ErrorKind } from '../core/index.js';

export const EXIT = {
  ok: 0,
  /** An unexpected fault (a bug, or the server's 500). */
  internal: 1,
  /** The command line is wrong: unknown command or option, missing or malformed argument. */
  usage: 2,
  notFound: 3,
  conflict: 4,
  /** The server (or the CLI, for local files) refused the input as invalid. */
  invalid: 5,
  /** The server cannot be reached, or is starting, draining or loading (503). */
  unavailable: 6,
  /** No or bad credentials (401), or not allowed (403). */
  auth: 7,
  tooLarge: 8,
  /** Over a rate limit or a full queue (429). */
  limited: 9,
  timeout: 10,
  /** A check the command ran failed (the audit log does not verify). */
  checkFailed: 11,
} as const;

const BY_KIND: Readonly<Record<ErrorKind, number>> = {
  internal: EXIT.internal,
  invalid: EXIT.invalid,
  not_found: EXIT.notFound,
  conflict: EXIT.conflict,
  unavailable: EXIT.unavailable,
  unauthenticated: EXIT.auth,
  forbidden: EXIT.auth,
  too_large: EXIT.tooLarge,
  limited: EXIT.limited,
  timeout: EXIT.timeout,
};

/** The exit code for anything a command threw: usage errors are 2, everything else follows its kind. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  const platform = toPlatformError(error);
  if (platform.code === 'CLI_USAGE') return EXIT.usage;
  if (platform.code === 'CLI_CHECK_FAILED') return EXIT.checkFailed;
  return BY_KIND[platform.kind];
}
