/**
 * Signed artifacts on the command line (docs/security.md#signed-artifacts): `slipway models keygen`
 * and `slipway models sign` work locally without a server; `slipway models attach-signature` sends
 * a signature file for a version pushed earlier. `models push --signature` lives with push.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { isValidName, NAME_RULE, pathExists, PlatformError, systemClock, writeFileAtomic } from '../../core/index.js';
import { ControlErrors } from '../../control/index.js';
import type { ArtifactSignatureView } from '../../control/types.js';
import type { VersionSignature } from '../../registry/index.js';
import { generateSigningKeyPair, parseSignatureDocument, readSigningKey, signArtifactDocument } from '../../security/signing/index.js';
import { collect, commandContext, parseModelRef, parsePairs, type CommandContext } from '../context.js';
import { CliErrors } from '../errors.js';
import type { CliIo } from '../io.js';
import { formatTime } from '../output.js';

/** Whether a version is signed, in a few words: `no`, or who signed, when, and whether the server verifies it. */
export function signatureLine(view: ArtifactSignatureView | null | undefined): string | undefined {
  if (view === undefined) return undefined;
  if (view === null) return 'no';
  return `by ${view.keyId} at ${formatTime(view.signedAt)} (${view.verified ? 'verified' : 'not verified: the key is not trusted by the server'})`;
}

/** Reads a local file's bytes as `sha256:<hex>`, streaming; a missing file names itself. */
async function digestOfFile(path: string, shown: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw ControlErrors.CONTROL_CLIENT_FILE_NOT_FOUND(`cannot sign ${shown}: no such file`, { details: { path } });
    throw ControlErrors.CONTROL_CLIENT_FILE_UNREADABLE(`cannot read ${shown}: ${(error as Error).message}`, { details: { path } });
  }
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Reads a signature file given on the command line: a missing file is CONTROL_CLIENT_FILE_NOT_FOUND,
 * a malformed one SECURITY_SIGNATURE_MALFORMED naming the file and the field.
 */
export async function readSignatureFile(ctx: CommandContext, file: string): Promise<VersionSignature> {
  const path = ctx.path(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw ControlErrors.CONTROL_CLIENT_FILE_NOT_FOUND(`cannot read the signature file ${file}: no such file`, { details: { path } });
    throw ControlErrors.CONTROL_CLIENT_FILE_UNREADABLE(`cannot read the signature file ${file}: ${(error as Error).message}`, { details: { path } });
  }
  try {
    return parseSignatureDocument(text);
  } catch (error) {
    if (!(error instanceof PlatformError)) throw error;
    throw new PlatformError(error.code, error.kind, `signature file ${file}: ${error.message}`, { ...(error.details === undefined ? {} : { details: error.details }) });
  }
}

interface SignFlags {
  key: string;
  name?: string;
  meta: string[];
  out?: string;
}

interface KeygenFlags {
  out: string;
  name: string;
  force?: boolean;
}

interface AttachFlags {
  signature: string;
}

/** Adds `keygen`, `sign` and `attach-signature` under `slipway models`. */
export function registerSigningCommands(models: Command, io: CliIo): void {
  models
    .command('keygen')
    .description('write an Ed25519 key pair for signing models: NAME.key (private, mode 0600) and NAME.pub (give it to the server in security.signing.trustedKeys)')
    .requiredOption('--out <dir>', 'directory to write into (created if missing)')
    .option('--name <name>', 'file name of the pair, without extension', 'signing')
    .option('--force', 'overwrite existing files')
    .action(async (flags: KeygenFlags, command: Command) => {
      const ctx = commandContext(io, command);
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(flags.name)) throw CliErrors.CLI_USAGE(`--name must be a plain file name (letters, digits, ".", "_", "-"), got ${JSON.stringify(flags.name)}`);
      const dir = ctx.path(flags.out);
      const keyPath = join(dir, `${flags.name}.key`);
      const pubPath = join(dir, `${flags.name}.pub`);
      if (flags.force !== true) {
        for (const path of [keyPath, pubPath]) {
          if (await pathExists(path)) throw CliErrors.CLI_USAGE(`${path} exists already; pass --force to replace it (signatures made with the old key will no longer verify with the new one)`);
        }
      }
      const pair = generateSigningKeyPair();
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(keyPath, pair.privateKeyPem, 0o600);
      await writeFileAtomic(pubPath, pair.publicKeyPem, 0o644);
      ctx.out.result({ keyId: pair.keyId, privateKey: keyPath, publicKey: pubPath }, () => {
        ctx.out.line(`wrote ${keyPath} (private, mode 0600) and ${pubPath}`);
        ctx.out.line(`key id: ${pair.keyId}`);
        ctx.out.note(`sign with: slipway models sign FILE.onnx --key ${keyPath} --name MODEL; the server trusts it once ${pubPath} is listed in security.signing.trustedKeys (or lies in trustedKeysDir)`);
      });
    });

  models
    .command('sign')
    .description('sign a local ONNX file (Ed25519 over its sha256 digest, the model name and metadata) and write the signature file; no server needed')
    .argument('<file>', 'the .onnx file to sign')
    .requiredOption('--key <file>', 'the Ed25519 private key (PKCS#8 PEM, as `slipway models keygen` writes)')
    .option('--name <model>', 'bind the signature to this model name (a push to another model is refused)')
    .option('--meta <key=value>', 'a fact to sign with the artifact; repeat for more', collect, [])
    .option('--out <file>', 'where to write the signature (default: FILE.sig)')
    .action(async (file: string, flags: SignFlags, command: Command) => {
      const ctx = commandContext(io, command);
      if (flags.name !== undefined && !isValidName(flags.name)) throw CliErrors.CLI_USAGE(`--name ${JSON.stringify(flags.name)} is not ${NAME_RULE}`);
      const metadata = flags.meta.length === 0 ? undefined : parsePairs(flags.meta, '--meta');
      const key = await readSigningKey(ctx.path(flags.key));
      const digest = await digestOfFile(ctx.path(file), file);
      const document = signArtifactDocument({ digest, ...(flags.name === undefined ? {} : { model: flags.name }), ...(metadata === undefined ? {} : { metadata }) }, key.privateKey, systemClock);
      const out = ctx.path(flags.out ?? `${file}.sig`);
      try {
        await writeFile(out, `${JSON.stringify(document, null, 2)}\n`, { mode: 0o644 });
      } catch (error) {
        throw ControlErrors.CONTROL_CLIENT_FILE_UNREADABLE(`cannot write the signature file ${out}: ${(error as Error).message}`, { details: { path: out } });
      }
      ctx.out.result({ file: out, document }, () => {
        ctx.out.line(`signed ${file} (${digest}) with ${key.keyId}${flags.name === undefined ? '' : ` for model ${flags.name}`}`);
        ctx.out.line(`wrote ${out}`);
        ctx.out.note(`push with: slipway models push ${file} --name ${flags.name ?? 'MODEL'} --signature ${flags.out ?? `${file}.sig`}`);
      });
    });

  models
    .command('attach-signature')
    .description('attach a signature file to a version pushed earlier (replacing the one it had)')
    .argument('<model>', 'NAME:VERSION')
    .requiredOption('--signature <file>', 'the signature file `slipway models sign` wrote')
    .action(async (ref: string, flags: AttachFlags, command: Command) => {
      const ctx = commandContext(io, command);
      const target = parseModelRef(ref, 'model');
      if (target.version === undefined) throw CliErrors.CLI_USAGE(`give the version to sign as NAME:VERSION, got ${JSON.stringify(ref)}`);
      const signature = await readSignatureFile(ctx, flags.signature);
      const result = await ctx.client().attachSignature(target.model, target.version, signature);
      ctx.out.result(result, () => {
        ctx.out.line(`signed ${result.version.model}:${result.version.version} (${result.version.digest})`);
        ctx.out.line(`  signed:  ${signatureLine(result.signature) ?? 'no'}`);
      });
    });
}
