/**
 * `slipway abuse list`: the callers abuse detection tracks on each endpoint, with their query
 * count, Shapiro–Wilk W and p-value, and since when they are flagged as a suspected model-extraction
 * attack (docs/security.md#abuse-detection; admin).
 */
import type { Command } from 'commander';
import { createAbuseClient } from '../../security/abuse/client.js';
import { commandContext } from '../context.js';
import type { CliIo } from '../io.js';
import { formatTime } from '../output.js';

interface ListFlags {
  flagged?: boolean;
  endpoint?: string;
  key?: string;
}

function fixed(value: number | null, digits: number): string {
  return value === null ? '-' : value.toFixed(digits);
}

function pValueText(p: number | null): string {
  if (p === null) return '-';
  return p < 1e-4 ? p.toExponential(1) : p.toFixed(4);
}

export function registerAbuseCommands(program: Command, io: CliIo): void {
  const abuse = program.command('abuse').description('abuse detection: callers whose queries look like a model-extraction attack (admin; docs/security.md)');

  abuse
    .command('list')
    .description('every tracked caller (key:<name>, jwt:<subject>, ip:<address>) per endpoint, flagged first, with W, p-value and since when it is flagged')
    .option('--flagged', 'only flagged callers')
    .option('--endpoint <name>', 'only this endpoint')
    .option('--key <caller>', 'only this caller, e.g. key:fraud-app')
    .action(async (flags: ListFlags, command: Command) => {
      const ctx = commandContext(io, command);
      const body = await createAbuseClient(ctx.clientOptions).list({
        ...(flags.flagged === true ? { flagged: true } : {}),
        ...(flags.endpoint === undefined ? {} : { endpoint: flags.endpoint }),
        ...(flags.key === undefined ? {} : { key: flags.key }),
      });
      ctx.out.result(body, () => {
        const d = body.detection;
        if (!d.enabled) {
          ctx.out.note('abuse detection is off (security.abuse.enabled: false)');
          return;
        }
        ctx.out.table(
          ['KEY', 'ENDPOINT', 'QUERIES', 'N', 'W', 'P-VALUE', 'FLAGGED SINCE', 'THROTTLED', 'LAST SEEN'],
          body.keys.map((t) => [
            t.key,
            t.endpoint,
            String(t.queries),
            String(t.n),
            fixed(t.w, 4),
            pValueText(t.pValue),
            t.flaggedSince === null ? '-' : formatTime(t.flaggedSince),
            t.throttled ? 'yes' : 'no',
            formatTime(t.lastSeenAt),
          ]),
          'No callers tracked yet.',
        );
        ctx.out.note(
          `${body.flagged} of ${body.tracked} tracked flagged: W < ${d.threshold} once more than ${d.minQueries} distances are kept (PRADA); throttling ${d.throttle ? `on, ${d.throttleRatePerSecond} request${d.throttleRatePerSecond === 1 ? '' : 's'}/s` : 'off'}`,
        );
      });
    });
}
