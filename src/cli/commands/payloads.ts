/**
 * `slipway payloads export [--endpoint E] [--since T] [--until T] [--status S] [--request-id ID]
 * [--limit N] [-o FILE]` (the payload log as JSONL, streamed) and `slipway payloads stats`.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { createPayloadLogClient, type PayloadExportQuery } from '../../monitoring/payload-log/client.js';
import { parsePayloadTime, parseStatusFilter, STATUS_RULE, TIME_RULE } from '../../monitoring/payload-log/query.js';
import type { PayloadLogStats } from '../../monitoring/payload-log/types.js';
import { commandContext, type CommandContext } from '../context.js';
import type { CliIo } from '../io.js';
import { writeLines } from '../lines-output.js';
import { formatBytes } from '../output.js';

interface ExportOptions {
  endpoint?: string;
  since?: string;
  until?: string;
  status?: string;
  requestId?: string;
  limit?: number;
  output?: string;
}

/** Commander parser for --since/--until: checked here, sent as typed (the server reads `1h` against its own clock). */
export function timeArg(value: string): string {
  if (parsePayloadTime(value, Date.now()) === undefined) throw new InvalidArgumentError(`must be ${TIME_RULE}`);
  return value;
}

/** Commander parser for --status. */
export function statusArg(value: string): string {
  if (parseStatusFilter(value) === undefined) throw new InvalidArgumentError(`must be ${STATUS_RULE}`);
  return value;
}

/** Commander parser for --limit: a whole number ≥ 1. */
export function limitArg(value: string): number {
  if (!/^[1-9]\d{0,11}$/.test(value)) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return Number(value);
}

async function runExport(ctx: CommandContext, options: ExportOptions): Promise<void> {
  const query: PayloadExportQuery = {
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.since === undefined ? {} : { since: options.since }),
    ...(options.until === undefined ? {} : { until: options.until }),
    ...(options.status === undefined ? {} : { status: options.status }),
    ...(options.requestId === undefined ? {} : { requestId: options.requestId }),
    ...(options.limit === undefined ? {} : { limit: options.limit }),
  };
  const count = await writeLines(ctx, createPayloadLogClient(ctx.clientOptions).exportLines(query), options.output);
  if (options.output !== undefined) ctx.out.note(`Exported ${count} payload entr${count === 1 ? 'y' : 'ies'} to ${options.output}`);
}

function printStats(ctx: CommandContext, s: PayloadLogStats): void {
  const drops = (d: Readonly<Record<string, number>>): string => {
    const parts = Object.entries(d).filter(([, n]) => n > 0);
    return parts.length === 0 ? '0' : parts.map(([reason, n]) => `${n} ${reason.replace(/_/g, ' ')}`).join(', ');
  };
  ctx.out.fields([
    ['Recording', s.enabled ? 'on' : 'off'],
    ['Recorded', String(s.recorded)],
    ['Written', String(s.written)],
    ['Buffered', String(s.buffered)],
    ['Bodies sampled', `${s.bodiesSampled} (${s.bodiesTruncated} bodies truncated, ${s.redactions} values redacted)`],
    ['Dropped', drops(s.dropped)],
    ['On disk', `${formatBytes(s.bytesOnDisk)} in ${s.segments} segment${s.segments === 1 ? '' : 's'} (${s.segmentsDeleted} deleted by retention)`],
    ['Webhook', s.webhook === null ? 'none' : `${s.webhook.sent} sent in ${s.webhook.batchesSent} batches, ${s.webhook.buffered} buffered, ${s.webhook.failedAttempts} failed attempts, ${s.webhook.retries} retries, dropped ${drops(s.webhook.dropped)}`],
  ]);
}

export function registerPayloadsCommands(program: Command, io: CliIo): void {
  const payloads = program.command('payloads').description('the payload log: every inference request, with sampled and redacted bodies (docs/payload-log.md)');

  payloads
    .command('export')
    .description('stream stored payload entries as JSON lines, oldest first (GET /api/v1/payloads)')
    .option('--endpoint <name>', 'only this endpoint')
    .option('--since <time>', 'from this time: ISO-8601, epoch ms, or a time ago (30m, 1h, 168h)', timeArg)
    .option('--until <time>', 'before this time, in the same forms', timeArg)
    .option('--status <filter>', 'only these statuses: 5xx, 404, 4xx,5xx', statusArg)
    .option('--request-id <id>', 'only this request')
    .option('--limit <n>', 'at most this many entries', limitArg)
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .action(async (options: ExportOptions, command: Command) => {
      await runExport(commandContext(io, command), options);
    });

  payloads
    .command('stats')
    .description("the payload log's counters: entries written and dropped, bytes on disk, webhook figures (GET /api/v1/payloads/stats)")
    .action(async (_options: object, command: Command) => {
      const ctx = commandContext(io, command);
      const body = await createPayloadLogClient(ctx.clientOptions).stats();
      ctx.out.result(body, () => printStats(ctx, body.stats));
    });
}
