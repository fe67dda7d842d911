/**
 * What every command action gets: the resolved global options (server, API key, --json), the
 * printer, and the client — created on first use so that local commands never need a server.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { createControlClient, type ControlClient, type ControlClientOptions } from '../control/index.js';
import { CliErrors } from './errors.js';
import type { CliIo } from './io.js';
import { Output } from './output.js';

/** Where the CLI looks for a server when neither --server nor $SLIPWAY_SERVER says. */
export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

export interface GlobalOptions {
  readonly server?: string;
  readonly apiKey?: string;
  readonly json?: boolean;
}

export interface CommandContext {
  readonly io: CliIo;
  readonly out: Output;
  /** The server address in use. */
  readonly server: string;
  client(): ControlClient;
  /** What `client()` is built from (address, API key, fetch), for the other typed clients (monitoring). */
  readonly clientOptions: ControlClientOptions;
  /** Resolves a path given on the command line against the working directory. */
  path(file: string): string;
}

/** The local server's admin key (`<data-dir>/admin.key`), if this machine has one. */
function localAdminKey(io: CliIo): string | undefined {
  const dataDir = io.env.SLIPWAY_DATA_DIR ?? '.slipway';
  try {
    const key = readFileSync(resolve(io.cwd, dataDir, 'admin.key'), 'utf8').trim();
    return key === '' ? undefined : key;
  } catch {
    return undefined;
  }
}

/** Builds the context of one command invocation from its merged global options. */
export function commandContext(io: CliIo, command: Command): CommandContext {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const explicitServer = globals.server ?? io.env.SLIPWAY_SERVER;
  const server = explicitServer ?? DEFAULT_SERVER;
  // the local admin.key is only offered to the default local server, never to an address someone typed
  const apiKey = globals.apiKey ?? io.env.SLIPWAY_API_KEY ?? (explicitServer === undefined ? localAdminKey(io) : undefined);
  const out = new Output(io.stdout, io.stderr, globals.json === true);
  const clientOptions: ControlClientOptions = {
    baseUrl: server,
    ...(apiKey === undefined ? {} : { apiKey }),
    ...(io.fetch === undefined ? {} : { fetch: io.fetch }),
  };
  let client: ControlClient | undefined;
  return {
    io,
    out,
    server,
    client() {
      client ??= createControlClient(clientOptions);
      return client;
    },
    clientOptions,
    path: (file) => (isAbsolute(file) ? file : join(io.cwd, file)),
  };
}

/** A model reference on the command line: `NAME`, `NAME:VERSION` or `NAME@ALIAS`. */
export interface ModelRef {
  readonly model: string;
  readonly version?: number;
  readonly alias?: string;
}

/** Reads `NAME`, `NAME:VERSION` or `NAME@ALIAS` (the server checks the names themselves). */
export function parseModelRef(text: string, what: string): ModelRef {
  const m = /^([^:@\s]+)(?::([^:@\s]+)|@([^:@\s]+))?$/.exec(text);
  if (m?.[1] === undefined) {
    throw CliErrors.CLI_USAGE(`${what} must be NAME, NAME:VERSION or NAME@ALIAS, got ${JSON.stringify(text)}`);
  }
  if (m[2] !== undefined) {
    if (!/^[1-9]\d*$/.test(m[2])) throw CliErrors.CLI_USAGE(`${what}: version ${JSON.stringify(m[2])} must be a positive whole number`);
    return { model: m[1], version: Number(m[2]) };
  }
  return m[3] === undefined ? { model: m[1] } : { model: m[1], alias: m[3] };
}

/** Reads `key=value` pairs given with a repeatable flag. */
export function parsePairs(values: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of values) {
    const eq = raw.indexOf('=');
    if (eq <= 0) throw CliErrors.CLI_USAGE(`${flag} must be key=value, got ${JSON.stringify(raw)}`);
    out[raw.slice(0, eq)] = raw.slice(eq + 1);
  }
  return out;
}

/** Commander helper: collects a repeatable option's values. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
