/** `slipway rollback ENDPOINT [--to-version N] [-m MESSAGE]`: one step back to the previous stable version, at once. */
import type { Command } from 'commander';
import { commandContext } from '../context.js';
import type { CliIo } from '../io.js';
import { versionArg } from './models.js';

interface RollbackOptions {
  readonly toVersion?: number;
  readonly message?: string;
}

export function registerRollbackCommand(program: Command, io: CliIo): void {
  program
    .command('rollback')
    .description("switch an endpoint back to its previous stable version (from its history) at once, aborting a running rollout first")
    .argument('<endpoint>', 'endpoint name')
    .option('--to-version <n>', 'the version to go back to (default: the stable version before the current one)', versionArg)
    .option('-m, --message <text>', 'why, kept in the endpoint and rollout histories')
    .action(async (endpoint: string, options: RollbackOptions, command: Command) => {
      const ctx = commandContext(io, command);
      const result = await ctx.client().rollback(endpoint, {
        ...(options.toVersion === undefined ? {} : { toVersion: options.toVersion }),
        ...(options.message === undefined ? {} : { message: options.message }),
      });
      ctx.out.result(result, () => {
        const rb = result.rollback;
        // the server's message says it in full (and whether an alias is no longer followed)
        ctx.out.line(rb.message.charAt(0).toUpperCase() + rb.message.slice(1));
        if (rb.aborted !== null) ctx.out.line(`Aborted rollout ${rb.aborted.id} (${rb.aborted.strategy.kind}, ${rb.aborted.stableVersion} → ${rb.aborted.candidateVersion ?? 'variants'}) first.`);
      });
    });
}
