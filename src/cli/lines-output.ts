/**
 * Writes a stream of JSON lines (an export) to standard output or a file without holding it in
 * memory: lines are gathered into writes of about 64 KiB, and a full pipe is waited for.
 */
import { once } from 'node:events';
import type { WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { CommandContext } from './context.js';
import { CliErrors } from './errors.js';
import type { TextOutput } from './io.js';

/** Lines gathered into writes of about this many characters. */
const WRITE_CHARS = 64 * 1024;

type Drainable = TextOutput & { once(event: 'drain', listener: () => void): unknown };
const drainable = (out: TextOutput): out is Drainable => typeof (out as { once?: unknown }).once === 'function';

/** Writes to stdout, waiting when a pipe is full so a large export is not held in memory. */
async function writeOut(out: TextOutput, text: string): Promise<void> {
  if (out.write(text) === false && drainable(out)) await new Promise<void>((resolve) => out.once('drain', resolve));
}

/**
 * Writes every line to `output` (a path) or standard output and resolves with their count. The
 * first line (or the server's refusal) is awaited before the file is created, so a refused export
 * leaves no file.
 */
export async function writeLines(ctx: CommandContext, lines: AsyncGenerator<string>, output: string | undefined): Promise<number> {
  let next = await lines.next();
  let count = 0;
  let file: WriteStream | undefined;
  let failed: Error | undefined;
  if (output !== undefined) {
    // opened first, so a path that cannot be written is a clear error, never an unhandled stream event
    const handle = await open(ctx.path(output), 'w').catch((error: unknown) => {
      throw CliErrors.CLI_USAGE(`cannot write ${output}: ${(error as Error).message}`);
    });
    file = handle.createWriteStream();
    file.on('error', (error) => (failed = error));
  }
  const write = async (text: string): Promise<void> => {
    if (file === undefined) return writeOut(ctx.io.stdout, text);
    if (failed !== undefined) throw CliErrors.CLI_USAGE(`cannot write ${output ?? ''}: ${failed.message}`);
    if (!file.write(text)) await once(file, 'drain');
  };
  try {
    let pending = '';
    while (next.done !== true) {
      pending += `${next.value}\n`;
      count++;
      if (pending.length >= WRITE_CHARS) {
        await write(pending);
        pending = '';
      }
      next = await lines.next();
    }
    if (pending !== '') await write(pending);
  } finally {
    if (file !== undefined) {
      file.end();
      await once(file, 'close');
    }
  }
  return count;
}
