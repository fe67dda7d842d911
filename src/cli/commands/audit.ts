/**
 * `slipway audit verify` and `slipway audit export` (docs/security.md#audit-log). `verify` asks the
 * server, or with --data-dir reads the log from disk itself (no server needed): the check a
 * person runs when the server itself is in doubt, with a public key from a trusted copy.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { createAuditClient } from '../../security/client.js';
import { readPublicKey, verifyAuditLog, type AuditVerification } from '../../security/index.js';
import { commandContext, type CommandContext } from '../context.js';
import { CliErrors } from '../errors.js';
import type { CliIo } from '../io.js';
import { writeLines } from '../lines-output.js';
import { limitArg, timeArg } from './payloads.js';

function report(ctx: CommandContext, v: AuditVerification, where: string): void {
  ctx.out.result(v, () => {
    if (v.ok) {
      ctx.out.line(`audit log ${where}: intact — ${v.entries} entries, ${v.checkpoints} signed checkpoints, last entry ${v.lastSeq}`);
      return;
    }
    const bad = v.firstBad;
    ctx.out.line(`audit log ${where}: NOT intact`);
    if (bad !== undefined) {
      ctx.out.line(`  first bad entry: ${bad.seq === null ? '(none: a file)' : bad.seq} (${bad.segment}${bad.line > 0 ? `, line ${bad.line}` : ''})`);
      ctx.out.line(`  ${bad.reason}`);
    }
  });
  // a broken chain is a failed check, for scripts and CI
  if (!v.ok) throw CliErrors.CLI_CHECK_FAILED(`the audit log failed verification${v.firstBad === undefined ? '' : ` at entry ${String(v.firstBad.seq)}: ${v.firstBad.reason}`}`);
}

export function registerAuditCommands(program: Command, io: CliIo): void {
  const audit = program.command('audit').description('the tamper-evident audit log: verify its chain and signatures, export it (admin)');

  audit
    .command('verify')
    .description('check every entry\'s hash chain and every signed checkpoint; exits non-zero and names the first bad entry when one was edited, removed, reordered or cut')
    .option('--data-dir <dir>', 'verify the files of this data directory here, without a server')
    .option('--public-key <file>', 'the checkpoint signing key to trust (default: <data-dir>/keys/audit-signing.key.pub)')
    .action(async (flags: { dataDir?: string; publicKey?: string }, command: Command) => {
      const ctx = commandContext(io, command);
      if (flags.dataDir === undefined) {
        if (flags.publicKey !== undefined) throw CliErrors.CLI_USAGE('--public-key goes with --data-dir (a local check); the server checks with its own key');
        report(ctx, await createAuditClient(ctx.clientOptions).verify(), `at ${ctx.server}`);
        return;
      }
      const dir = ctx.path(flags.dataDir);
      const keyFile = flags.publicKey === undefined ? join(dir, 'keys', 'audit-signing.key.pub') : ctx.path(flags.publicKey);
      const key = await readPublicKey(keyFile);
      report(ctx, await verifyAuditLog({ dir: join(dir, 'audit'), trustedKeys: [key.publicKeyPem] }), `in ${join(dir, 'audit')}`);
    });

  audit
    .command('export')
    .description('stream audit entries as JSON lines, oldest first (GET /api/v1/audit)')
    .option('--since <time>', 'from this time: ISO-8601, epoch ms, or a time ago (30m, 24h, 7d)', timeArg)
    .option('--until <time>', 'before this time, in the same forms', timeArg)
    .option('--action <action>', 'only this action (e.g. "auth.denied", "POST /api/v1/keys")')
    .option('--actor <actor>', 'only this actor (e.g. key:admin)')
    .option('--limit <n>', 'at most this many entries', limitArg)
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .action(async (flags: { since?: string; until?: string; action?: string; actor?: string; limit?: number; output?: string }, command: Command) => {
      const ctx = commandContext(io, command);
      const { output, ...query } = flags;
      const count = await writeLines(ctx, createAuditClient(ctx.clientOptions).exportLines(query), output);
      if (output !== undefined) ctx.out.note(`Exported ${count} audit entr${count === 1 ? 'y' : 'ies'} to ${output}`);
    });
}
