/** `slipway alias set | list | history | delete`. */
import type { Command } from 'commander';
import { commandContext } from '../context.js';
import type { CliIo } from '../io.js';
import { formatTime, truncate } from '../output.js';
import { versionArg } from './models.js';

interface ReasonOptions {
  reason?: string;
}

const orDash = (n: number | null): string => (n === null ? '-' : String(n));

export function registerAliasCommands(program: Command, io: CliIo): void {
  const alias = program.command('alias').description('move, list and audit aliases (production, staging, …)');

  alias
    .command('set')
    .description('point an alias at a version (created if new); endpoints that follow it move too')
    .argument('<model>', 'model name')
    .argument('<alias>', 'alias name')
    .argument('<version>', 'version number', versionArg)
    .option('--reason <text>', 'why, kept in the history')
    .action(async (model: string, name: string, version: number, options: ReasonOptions, command: Command) => {
      const ctx = commandContext(io, command);
      const result = await ctx.client().setAlias(model, name, version, options.reason);
      ctx.out.result(result, () => ctx.out.line(`${result.alias.model}@${result.alias.alias} → version ${result.alias.version}`));
    });

  alias
    .command('list')
    .description("list a model's aliases")
    .argument('<model>', 'model name')
    .action(async (model: string, _options: object, command: Command) => {
      const ctx = commandContext(io, command);
      const result = await ctx.client().listAliases(model);
      ctx.out.result(result, () =>
        ctx.out.table(
          ['ALIAS', 'VERSION', 'UPDATED', 'BY'],
          result.aliases.map((a) => [a.alias, String(a.version), formatTime(a.updatedAt), a.updatedBy]),
          `Model ${model} has no aliases. Set one with \`slipway alias set ${model} production VERSION\`.`,
        ),
      );
    });

  alias
    .command('history')
    .description('every move of an alias: when, who, from which version to which, and why')
    .argument('<model>', 'model name')
    .argument('<alias>', 'alias name')
    .action(async (model: string, name: string, _options: object, command: Command) => {
      const ctx = commandContext(io, command);
      const result = await ctx.client().aliasHistory(model, name);
      ctx.out.result(result, () =>
        ctx.out.table(
          ['SEQ', 'AT', 'BY', 'FROM', 'TO', 'REASON'],
          result.history.map((e) => [String(e.seq), formatTime(e.at), e.by, orDash(e.from), orDash(e.to), truncate(e.reason)]),
          'No history.',
        ),
      );
    });

  alias
    .command('delete')
    .description('remove an alias (refused while endpoints follow it)')
    .argument('<model>', 'model name')
    .argument('<alias>', 'alias name')
    .option('--reason <text>', 'why, kept in the history')
    .action(async (model: string, name: string, options: ReasonOptions, command: Command) => {
      const ctx = commandContext(io, command);
      const result = await ctx.client().deleteAlias(model, name, options.reason);
      ctx.out.result(result, () => ctx.out.line(`Deleted ${result.alias.model}@${result.alias.alias} (was version ${result.alias.version})`));
    });
}
