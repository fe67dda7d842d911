/**
 * `slipway tls self-signed --out DIR`: a certificate and key for HTTPS in development (and, with
 * --client NAME, a client certificate signed by it for mTLS). Local: needs no server.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { createSelfSignedCertificate, DEFAULT_ALT_NAMES, issueClientCertificate, writeCertificatePair } from '../../security/tls/index.js';
import { collect, commandContext } from '../context.js';
import type { CliIo } from '../io.js';

function daysArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 3650) throw new InvalidArgumentError('must be a whole number of days from 1 to 3650');
  return n;
}

interface SelfSignedFlags {
  out: string;
  name: string;
  altName: string[];
  days: number;
  client?: string;
  force?: boolean;
}

export function registerTlsCommands(program: Command, io: CliIo): void {
  const tls = program.command('tls').description('certificates for HTTPS and mTLS (docs/security.md)');
  tls
    .command('self-signed')
    .description('write cert.pem and key.pem (mode 0600) for development HTTPS; the certificate can also sign client certificates')
    .requiredOption('--out <dir>', 'directory to write into')
    .option('--name <cn>', 'the certificate\'s common name', 'localhost')
    .option('--alt-name <name>', `a DNS name or IP address it is valid for (repeatable; default ${DEFAULT_ALT_NAMES.join(', ')})`, collect, [])
    .option('--days <n>', 'validity in days', daysArg, 365)
    .option('--client <cn>', 'also write client.pem and client-key.pem: a client certificate for mTLS signed by this one')
    .option('--force', 'overwrite existing files')
    .action(async (flags: SelfSignedFlags, command: Command) => {
      const ctx = commandContext(io, command);
      const dir = ctx.path(flags.out);
      const pair = await createSelfSignedCertificate({ commonName: flags.name, altNames: flags.altName.length > 0 ? flags.altName : DEFAULT_ALT_NAMES, days: flags.days });
      const written = await writeCertificatePair(dir, pair, { ...(flags.force === true ? { force: true } : {}) });
      const client = flags.client === undefined ? undefined : await issueClientCertificate({ ca: pair, commonName: flags.client, days: flags.days });
      const clientFiles = client === undefined ? undefined : await writeCertificatePair(dir, client, { names: { cert: 'client.pem', key: 'client-key.pem' }, ...(flags.force === true ? { force: true } : {}) });
      ctx.out.result({ cert: written.certPath, key: written.keyPath, ...(clientFiles === undefined ? {} : { clientCert: clientFiles.certPath, clientKey: clientFiles.keyPath }) }, () => {
        ctx.out.line(`wrote ${written.certPath} and ${written.keyPath}`);
        if (clientFiles !== undefined) ctx.out.line(`wrote ${clientFiles.certPath} and ${clientFiles.keyPath} (client certificate "${flags.client ?? ''}")`);
        ctx.out.note(`serve with: slipway serve --config FILE where FILE sets server.tls: {enabled: true, cert: ${written.certPath}, key: ${written.keyPath}}; clients trust it with NODE_EXTRA_CA_CERTS=${written.certPath} (curl --cacert)`);
      });
    });
}
