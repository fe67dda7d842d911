/**
 * `slipway encryption status|rewrap|generate-key` (docs/security.md#encryption-at-rest). `status`
 * and `rewrap` ask the server (permission admin); `generate-key` is local and needs no server.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { writeFileAtomic } from '../../core/files.js';
import { createEncryptionClient } from '../../security/at-rest/client.js';
import { generateMasterKeyLine, parseMasterKeyring } from '../../security/encryption/index.js';
import { commandContext } from '../context.js';
import { CliErrors } from '../errors.js';
import type { CliIo } from '../io.js';

/** The text of a keyring file, or undefined when there is none yet. */
async function existingKeyring(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export function registerEncryptionCommands(program: Command, io: CliIo): void {
  const encryption = program.command('encryption').description('encryption at rest of artifacts and payload-log bodies: status, master-key rotation (admin)');

  encryption
    .command('status')
    .description('whether encryption at rest is on, the active master key, and the stored blobs by the key they are wrapped with (GET /api/v1/encryption)')
    .action(async (_flags: unknown, command: Command) => {
      const ctx = commandContext(io, command);
      const status = await createEncryptionClient(ctx.clientOptions).status();
      ctx.out.result(status, () => {
        const b = status.blobs;
        ctx.out.fields([
          ['encryption at rest', status.enabled ? 'on' : 'off'],
          ['keyring', status.source ?? undefined],
          ['active key', status.activeKeyId ?? undefined],
          ['keys', status.keyIds.length === 0 ? undefined : status.keyIds.join(', ')],
          ['blobs', String(b.total)],
          ['plaintext blobs', String(b.plaintext)],
          ...Object.entries(b.byKey).map(([id, n]): [string, string] => [`under key ${id}`, String(n)]),
          ...(b.unreadable > 0 ? [['unreadable headers', String(b.unreadable)] as [string, string]] : []),
        ]);
        const stale = Object.keys(b.byKey).filter((id) => id !== status.activeKeyId).length + (status.enabled ? b.plaintext : 0);
        if (status.enabled && stale > 0) ctx.out.note('some blobs are not on the active key: run `slipway encryption rewrap`');
      });
    });

  encryption
    .command('rewrap')
    .description(
      'move everything to the active master key: re-wrap every blob\'s data key (no data re-encrypted), encrypt blobs stored before encryption was on, seal payload-log bodies under older keys again; safe to interrupt and run again (POST /api/v1/encryption/rewrap)',
    )
    .action(async (_flags: unknown, command: Command) => {
      const ctx = commandContext(io, command);
      const answer = await createEncryptionClient(ctx.clientOptions).rewrap();
      const { blobs, payloads } = answer;
      ctx.out.result(answer, () => {
        ctx.out.line(
          `rewrap to master key ${blobs.activeKeyId}: ${blobs.total} blobs, ${blobs.rewrapped} re-wrapped, ${blobs.encrypted} encrypted, ${blobs.unchanged} already on it, ${blobs.failed.length} failed`,
        );
        ctx.out.line(`payload log: ${payloads.resealed} entries sealed again in ${payloads.rewritten} of ${payloads.segments} segments, ${payloads.failedCount} failed`);
        if (blobs.failed.length > 0) ctx.out.table(['digest', 'code', 'message'], blobs.failed.map((f) => [f.digest, f.code, f.message]), '');
        if (payloads.failed.length > 0) ctx.out.table(['request id', 'code', 'message'], payloads.failed.map((f) => [f.requestId, f.code, f.message]), '');
      });
      if (blobs.failed.length > 0 || payloads.failedCount > 0) {
        const first = blobs.failed[0] ?? payloads.failed[0];
        throw CliErrors.CLI_CHECK_FAILED(
          `${blobs.failed.length} blob(s) and ${payloads.failedCount} payload-log entr${payloads.failedCount === 1 ? 'y' : 'ies'} could not be moved to master key ${blobs.activeKeyId}; the first: ${first?.message ?? ''}`,
        );
      }
    });

  encryption
    .command('generate-key')
    .argument('<keyId>', 'the new key\'s id: letters, digits, ".", "_" and "-" (e.g. 2025-06)')
    .description('a new master key line "<keyId>:<base64 of 32 random bytes>"; printed, or with --out put first in a keyring file (created 0600, or the active key of an existing one)')
    .option('--out <file>', 'write the key into this keyring file as its first (active) line, keeping the keys already there')
    .action(async (keyId: string, flags: { out?: string }, command: Command) => {
      const ctx = commandContext(io, command);
      const line = generateMasterKeyLine(keyId);
      if (flags.out === undefined) {
        ctx.out.line(line);
        ctx.out.note('keep it secret: put it first in the keyring (security.encryption.masterKeyFile, mode 0600, or SLIPWAY_MASTER_KEYS), keep the old keys after it, restart, then run `slipway encryption rewrap`');
        return;
      }
      const path = ctx.path(flags.out);
      const before = await existingKeyring(path);
      if (before !== undefined) {
        const ring = parseMasterKeyring(before, `keyring file "${path}"`);
        if (ring.has(keyId)) throw CliErrors.CLI_USAGE(`keyring file "${path}" already has a key "${keyId}"; choose another id`);
      }
      await writeFileAtomic(path, before === undefined ? `${line}\n` : `${line}\n${before.endsWith('\n') || before === '' ? before : `${before}\n`}`, 0o600);
      ctx.out.result({ keyId, file: path, created: before === undefined }, () => {
        ctx.out.line(before === undefined ? `wrote ${path} (mode 0600) with master key ${keyId}` : `master key ${keyId} is now the first (active) key of ${path}; the older keys follow it`);
        ctx.out.note('restart the server to use it, then run `slipway encryption rewrap`; keep the old keys until the rewrap reports nothing failed (and, for payload-log bodies, until retention has removed what they sealed)');
      });
    });
}
