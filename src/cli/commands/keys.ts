/**
 * `slipway keys create|list|show|revoke|rotate`: API keys of a running server (docs/security.md).
 * A new token is printed once, by `create` and `rotate`; the server keeps only its hash.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { DURATION_RULE, parseDurationSeconds } from '../../core/index.js';
import { createKeysClient, type KeysClient } from '../../security/client.js';
import { SecurityErrors } from '../../security/errors.js';
import { CliErrors } from '../errors.js';
import type { ApiKeyView } from '../../security/keys/types.js';
import { collect, commandContext } from '../context.js';
import type { CliIo } from '../io.js';
import { formatTime } from '../output.js';

function durationArg(value: string): number {
  const s = parseDurationSeconds(value);
  if (s === undefined) throw new InvalidArgumentError(`must be ${DURATION_RULE}`);
  return s;
}

function positiveNumberArg(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

function scopeText(k: ApiKeyView): string {
  if (k.scope === null) return 'all';
  return `models ${k.scope.models.join(',')}; endpoints ${k.scope.endpoints.join(',')}`;
}

function keyFields(k: ApiKeyView): [string, string | undefined][] {
  return [
    ['id', k.id],
    ['name', k.name],
    ['roles', k.roles.join(', ')],
    ['scope', scopeText(k)],
    ['state', k.state],
    ['token', k.hint],
    ['created', `${formatTime(k.createdAt)} by ${k.createdBy}`],
    ['expires', k.expiresAt === null ? 'never' : formatTime(k.expiresAt)],
    ['revoked', k.revokedAt === null ? undefined : `${formatTime(k.revokedAt)} by ${k.revokedBy ?? '?'}`],
    ['rotated from', k.rotatedFrom ?? undefined],
    ['rotated to', k.rotatedTo ?? undefined],
    ['limits', k.limits === null ? undefined : JSON.stringify(k.limits)],
    ['last used', k.lastUsedAt === null ? 'never' : formatTime(k.lastUsedAt)],
  ];
}

/** A key named on the command line: its id (`key_…`), or the name of exactly one active key. */
async function resolveKeyId(client: KeysClient, ref: string): Promise<string> {
  if (/^key_[0-9a-f]{16}$/.test(ref)) return ref;
  const active = (await client.list()).keys.filter((k) => k.name === ref && k.state === 'active');
  if (active.length === 1 && active[0] !== undefined) return active[0].id;
  if (active.length === 0) throw SecurityErrors.SECURITY_KEY_NOT_FOUND(`no active key is named "${ref}" (and it is not a key id); \`slipway keys list\` shows them`, { details: { key: ref } });
  throw CliErrors.CLI_USAGE(`${active.length} active keys are named "${ref}" (a rotation in its grace period); give the id: ${active.map((k) => k.id).join(', ')}`);
}

interface CreateFlags {
  role: string[];
  model: string[];
  endpoint: string[];
  expires?: number;
  rate?: number;
  burst?: number;
}

export function registerKeysCommands(program: Command, io: CliIo): void {
  const keys = program.command('keys').description('API keys: create, list, revoke and rotate them without a restart (admin; docs/security.md)');

  keys
    .command('create <name>')
    .description('create a key; its token is printed once and never again')
    .option('--role <role>', 'admin, deployer, viewer or predictor (repeatable)', collect, [])
    .option('--model <glob>', 'limit the key to these models (repeatable; "*" matches within a name)', collect, [])
    .option('--endpoint <glob>', 'limit the key to these endpoints (repeatable)', collect, [])
    .option('--expires <duration>', `the key stops working after this long (${DURATION_RULE})`, durationArg)
    .option('--rate <perSecond>', 'the key\'s own rate limit, requests per second', positiveNumberArg)
    .option('--burst <n>', 'the key\'s own burst (default: its rate)', positiveNumberArg)
    .action(async (name: string, flags: CreateFlags, command: Command) => {
      const ctx = commandContext(io, command);
      if (flags.burst !== undefined && flags.rate === undefined) throw CliErrors.CLI_USAGE('--burst goes with --rate (the key\'s own rate limit)');
      const scoped = flags.model.length > 0 || flags.endpoint.length > 0;
      const body: Record<string, unknown> = {
        name,
        roles: flags.role.length === 0 ? ['viewer'] : flags.role,
        ...(scoped ? { scope: { ...(flags.model.length > 0 ? { models: flags.model } : {}), ...(flags.endpoint.length > 0 ? { endpoints: flags.endpoint } : {}) } } : {}),
        ...(flags.expires === undefined ? {} : { expiresInSeconds: flags.expires }),
        ...(flags.rate === undefined ? {} : { limits: { ratePerSecond: flags.rate, ...(flags.burst === undefined ? {} : { burst: flags.burst }) } }),
      };
      const created = await createKeysClient(ctx.clientOptions).create(body);
      ctx.out.result(created, () => {
        ctx.out.line(created.token);
        ctx.out.note(`key ${created.key.id} (${created.key.name}, ${created.key.roles.join(', ')}): the token above is shown only now; store it as a secret`);
      });
    });

  keys
    .command('list')
    .description('every key with its state (tokens are never shown, only their first characters)')
    .action(async (_flags: object, command: Command) => {
      const ctx = commandContext(io, command);
      const body = await createKeysClient(ctx.clientOptions).list();
      ctx.out.result(body, () =>
        ctx.out.table(
          ['ID', 'NAME', 'ROLES', 'SCOPE', 'STATE', 'TOKEN', 'EXPIRES', 'LAST USED'],
          body.keys.map((k) => [k.id, k.name, k.roles.join(','), scopeText(k), k.state, k.hint, k.expiresAt === null ? 'never' : formatTime(k.expiresAt), k.lastUsedAt === null ? 'never' : formatTime(k.lastUsedAt)]),
          'No keys.',
        ),
      );
    });

  keys
    .command('show <key>')
    .description('one key in full (by id, or by the name of an active key)')
    .action(async (ref: string, _flags: object, command: Command) => {
      const ctx = commandContext(io, command);
      const client = createKeysClient(ctx.clientOptions);
      const body = await client.get(await resolveKeyId(client, ref));
      ctx.out.result(body, () => ctx.out.fields(keyFields(body.key)));
    });

  keys
    .command('revoke <key>')
    .description('revoke a key (by id, or by the name of an active key): the next request with it is refused')
    .action(async (ref: string, _flags: object, command: Command) => {
      const ctx = commandContext(io, command);
      const client = createKeysClient(ctx.clientOptions);
      const body = await client.revoke(await resolveKeyId(client, ref));
      ctx.out.result(body, () => ctx.out.line(`key ${body.key.id} (${body.key.name}) is ${body.key.state}`));
    });

  keys
    .command('rotate <key>')
    .description('a new token for the same name, roles and scope (by id, or by the name of an active key); the old one stops after --grace')
    .option('--grace <duration>', `how long the old token keeps working (default 0: at once; ${DURATION_RULE})`, durationArg, 0)
    .action(async (ref: string, flags: { grace: number }, command: Command) => {
      const ctx = commandContext(io, command);
      const client = createKeysClient(ctx.clientOptions);
      const body = await client.rotate(await resolveKeyId(client, ref), flags.grace);
      ctx.out.result(body, () => {
        ctx.out.line(body.token);
        ctx.out.note(
          `key ${body.key.id} replaces ${body.previous.id} (${body.key.name}); the old token ${body.previous.state === 'revoked' ? 'no longer works' : `works until ${formatTime(body.previous.expiresAt ?? '')}`}. The new token is shown only now.`,
        );
      });
    });
}
