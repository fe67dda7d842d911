/**
 * `slipway apply -f FILE.yaml [--dry-run]`: sends endpoint spec documents to POST /api/v1/apply.
 *
 * The file is checked here first with the server's own parser (`parseEndpointSpecs`), so a bad
 * file is refused before anything is sent, with the file's name and every problem by path. What is
 * sent is the YAML read as plain JSON — not the parsed documents, whose defaults and units are the
 * server's business — as a list, one entry per non-empty document.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { toPlatformError } from '../../core/index.js';
import { ControlErrors, type ApplyResponse } from '../../control/index.js';
import { parseEndpointSpecs } from '../../rollout/spec/index.js';
import { commandContext, type CommandContext } from '../context.js';
import type { CliIo } from '../io.js';

interface ApplyOptions {
  readonly file: string;
  readonly dryRun?: boolean;
}

/** What `-f` names: a file (relative to the working directory) or `-` for standard input. */
export interface SpecSource {
  /** The name problems are reported under: the path as typed, or `stdin`. */
  readonly name: string;
  readonly text: string;
}

/** Reads a whole stream as UTF-8 text. */
export async function readStream(stream: AsyncIterable<string | Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads the spec `-f` names; `-` reads standard input to its end. */
export async function readSpecSource(ctx: CommandContext, file: string, stdin: NodeJS.ReadableStream & AsyncIterable<string | Uint8Array> = process.stdin): Promise<SpecSource> {
  if (file === '-') {
    // a person at a terminal would otherwise see nothing happen while stdin waits for them
    if ((stdin as { isTTY?: boolean }).isTTY === true) ctx.out.note('Reading the spec from standard input; end it with Ctrl-D.');
    return { name: 'stdin', text: await readStream(stdin) };
  }
  const path = ctx.path(file);
  try {
    return { name: file, text: readFileSync(path, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw ControlErrors.CONTROL_CLIENT_FILE_NOT_FOUND(`cannot read ${file}: no such file`, { details: { path } });
    throw ControlErrors.CONTROL_CLIENT_FILE_UNREADABLE(`cannot read ${file}: ${(error as Error).message}`, { details: { path } });
  }
}

/**
 * Checks a YAML stream of endpoint specs and returns its documents as plain JSON values, ready to
 * POST. Throws ROLLOUT_SPEC_INVALID (naming `source` and every problem by path) when the server
 * would refuse them. Empty documents are left out, as the parser skips them.
 */
export function specDocumentsToSend(text: string, source: string): unknown[] {
  parseEndpointSpecs(text, { source });
  // the same reading options as the parser, so that what was checked is what is sent
  const stream = parseAllDocuments(text, { uniqueKeys: true });
  const out: unknown[] = [];
  for (const doc of stream) {
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

function printApplied(ctx: CommandContext, result: ApplyResponse): void {
  if (result.dryRun) {
    const n = result.endpoints.length;
    ctx.out.line(`Dry run: the server accepts ${n} document${n === 1 ? '' : 's'}; nothing was applied.`);
    ctx.out.table(
      ['ENDPOINT', 'MODEL', 'STRATEGY'],
      result.endpoints.map((e) => [e.endpoint, e.model, e.strategy ?? '- (switch at once)']),
      '',
    );
    return;
  }
  ctx.out.table(
    ['ENDPOINT', 'ACTION', 'TARGET', 'STABLE', 'ROLLOUT', 'MESSAGE'],
    result.results.map((r) => [
      r.endpoint,
      r.action,
      `v${r.targetVersion}`,
      `v${r.stableVersion}`,
      r.rollout === null ? '-' : `${r.rollout.id} (${r.rollout.strategy.kind})`,
      r.message,
    ]),
    'Nothing applied.',
  );
}

export function registerApplyCommand(program: Command, io: CliIo): void {
  program
    .command('apply')
    .description("set endpoints' target versions and rollout strategies from a spec file (POST /api/v1/apply; see docs/rollout-spec.md)")
    .requiredOption('-f, --file <file>', 'YAML (or JSON) with one or more Endpoint documents separated by ---; "-" reads standard input')
    .option('--dry-run', 'have the server check the documents without applying them')
    .action(async (options: ApplyOptions, command: Command) => {
      const ctx = commandContext(io, command);
      const source = await readSpecSource(ctx, options.file);
      const documents = specDocumentsToSend(source.text, source.name);
      let result: ApplyResponse;
      try {
        result = await ctx.client().apply(documents, { dryRun: options.dryRun === true });
      } catch (error) {
        // the server checks every document against the registry first, so a refused version, alias
        // or clash changed nothing; only a failure while applying leaves the documents before it applied
        const kind = toPlatformError(error).kind;
        if (documents.length > 1 && options.dryRun !== true && kind !== 'not_found' && kind !== 'conflict' && kind !== 'invalid') {
          ctx.out.note('The server applies documents in order; those before the one that failed may have been applied (`slipway rollout status ENDPOINT` shows each).');
        }
        throw error;
      }
      ctx.out.result(result, () => printApplied(ctx, result));
    });
}
