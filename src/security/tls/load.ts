/**
 * Reads the configured certificate, key and CA files into the options `https.createServer`
 * takes, checking everything that would otherwise surface as an obscure OpenSSL error at the
 * first handshake: each file readable and PEM, the key the certificate's own, the certificate
 * valid now (by the injected Clock), a CA given when client certificates are asked for.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, systemClock, type Clock } from '../../core/index.js';
import { oneLine } from './certificates.js';
import { TlsErrors } from './errors.js';

/** Whether the server asks clients for a certificate: never, optionally, or as a condition of the handshake. */
export type ClientCertificateMode = 'none' | 'request' | 'require';

/** The modes of {@link ClientCertificateMode}, for validation and help. */
export const CLIENT_CERTIFICATE_MODES: readonly ClientCertificateMode[] = Object.freeze(['none', 'request', 'require']);

/** The files to load: paths to PEM files. An empty `ca` counts as none (the compiled config's default). */
export interface TlsFiles {
  /** The server certificate, optionally followed by its intermediate certificates. */
  readonly cert: string;
  /** The certificate's private key, unencrypted. */
  readonly key: string;
  /** CA certificates that client certificates must chain to. */
  readonly ca?: string;
  /** Default `none`; `request` and `require` need `ca`. */
  readonly clientCertificates?: ClientCertificateMode;
}

/** Where the files came from and what time it is. */
export interface LoadTlsContext {
  /** Where now comes from. Default the system clock. */
  readonly clock?: Clock;
  /** Dotted path of the TLS section in the configuration, prefixed to field names in errors. Default `server.tls`. */
  readonly path?: string;
}

/** The `https.ServerOptions` subset, plus facts about the certificate for logs and warnings. */
export interface LoadedTlsOptions {
  /** PEM text of the certificate file (certificate and chain). */
  readonly cert: string;
  /** PEM text of the private key. */
  readonly key: string;
  /** PEM text of the CA file, when one is set. */
  readonly ca?: string;
  /** Ask clients for a certificate (`request` and `require`). */
  readonly requestCert: boolean;
  /** Refuse the handshake without a certificate that chains to `ca` (`require`). */
  readonly rejectUnauthorized: boolean;
  /** The leaf certificate's expiry. */
  readonly notAfter: Date;
  /** The leaf certificate's start of validity. */
  readonly notBefore: Date;
  /** The leaf certificate's subject on one line (`CN=localhost`). */
  readonly subject: string;
  /** SHA-256 fingerprint of the leaf certificate, colon-separated hex as Node prints it. */
  readonly fingerprint256: string;
}

/** Options of {@link certificateExpiryWarning}. */
export interface ExpiryWarningOptions {
  /** Where now comes from. Default the system clock. */
  readonly clock?: Clock;
  /** Warn when the certificate expires within this many days. Default 30. */
  readonly withinDays?: number;
}

const DAY_MS = 86_400_000;
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/**
 * Loads and checks the TLS files. Every problem is a PlatformError naming the setting (such as
 * `server.tls.key`) and the file: SECURITY_TLS_FILE_UNREADABLE, SECURITY_TLS_NOT_PEM,
 * SECURITY_TLS_KEY_MISMATCH, SECURITY_TLS_CERT_EXPIRED, SECURITY_TLS_CERT_NOT_YET_VALID,
 * SECURITY_TLS_CA_REQUIRED or SECURITY_TLS_INVALID_ARGUMENT.
 */
export function loadTlsOptions(files: TlsFiles, context: LoadTlsContext = {}): LoadedTlsOptions {
  const base = context.path ?? 'server.tls';
  const clock = context.clock ?? systemClock;
  const field = (key: string): string => join(base, key);
  const mode = files.clientCertificates ?? 'none';
  if (!CLIENT_CERTIFICATE_MODES.includes(mode)) {
    throw TlsErrors.SECURITY_TLS_INVALID_ARGUMENT(`${field('clientCertificates')} must be one of ${CLIENT_CERTIFICATE_MODES.join(', ')}, got ${JSON.stringify(mode)}`, {
      details: { path: field('clientCertificates') },
    });
  }
  const caFile = files.ca === undefined || files.ca === '' ? undefined : files.ca;
  if (mode !== 'none' && caFile === undefined) {
    throw TlsErrors.SECURITY_TLS_CA_REQUIRED(`${field('clientCertificates')} is ${mode}, but ${field('ca')} is not set: client certificates can only be verified against a CA file`, {
      details: { path: field('ca') },
    });
  }

  const certText = readTlsFile(files.cert, field('cert'));
  const keyText = readTlsFile(files.key, field('key'));
  const caText = caFile === undefined ? undefined : readTlsFile(caFile, field('ca'));

  const chain = parseCertificates(certText, field('cert'), files.cert);
  const leaf = chain[0] as X509Certificate;
  const key = parsePrivateKey(keyText, field('key'), files.key);
  if (caText !== undefined && caFile !== undefined) parseCertificates(caText, field('ca'), caFile);

  const subject = oneLine(leaf.subject);
  if (!leaf.checkPrivateKey(key)) {
    throw TlsErrors.SECURITY_TLS_KEY_MISMATCH(`${field('key')} (${files.key}) is not the private key of the certificate ${subject} in ${field('cert')} (${files.cert})`, {
      details: { path: field('key'), file: files.key, certificate: files.cert },
    });
  }

  const notBefore = certificateTime(leaf.validFrom, field('cert'), files.cert);
  const notAfter = certificateTime(leaf.validTo, field('cert'), files.cert);
  const now = clock.now();
  if (now > notAfter.getTime()) {
    throw TlsErrors.SECURITY_TLS_CERT_EXPIRED(`the certificate ${subject} in ${field('cert')} (${files.cert}) expired on ${notAfter.toISOString()}`, {
      details: { path: field('cert'), file: files.cert, notAfter: notAfter.toISOString() },
    });
  }
  if (now < notBefore.getTime()) {
    throw TlsErrors.SECURITY_TLS_CERT_NOT_YET_VALID(`the certificate ${subject} in ${field('cert')} (${files.cert}) is not valid before ${notBefore.toISOString()}`, {
      details: { path: field('cert'), file: files.cert, notBefore: notBefore.toISOString() },
    });
  }

  return {
    cert: certText,
    key: keyText,
    ...(caText === undefined ? {} : { ca: caText }),
    requestCert: mode !== 'none',
    rejectUnauthorized: mode === 'require',
    notAfter,
    notBefore,
    subject,
    fingerprint256: leaf.fingerprint256,
  };
}

/**
 * A line to log when the certificate expires within `withinDays` days (default 30) or already has,
 * else undefined. Meant for start-up and for a periodic check of a long-running server.
 */
export function certificateExpiryWarning(certificate: Pick<LoadedTlsOptions, 'notAfter' | 'subject'>, options: ExpiryWarningOptions = {}): string | undefined {
  const now = (options.clock ?? systemClock).now();
  const withinDays = options.withinDays ?? 30;
  const left = certificate.notAfter.getTime() - now;
  const when = certificate.notAfter.toISOString();
  if (left <= 0) return `the TLS certificate ${certificate.subject} expired on ${when}; renew it now`;
  if (left > withinDays * DAY_MS) return undefined;
  const days = Math.floor(left / DAY_MS);
  const inWords = days === 0 ? 'in less than a day' : `in ${days} day${days === 1 ? '' : 's'}`;
  return `the TLS certificate ${certificate.subject} expires ${inWords} (${when}); renew it`;
}

function readTlsFile(file: string, field: string): string {
  if (typeof file !== 'string' || file === '') {
    throw TlsErrors.SECURITY_TLS_FILE_UNREADABLE(`${field} is not set: it must name a PEM file`, { details: { path: field } });
  }
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw TlsErrors.SECURITY_TLS_FILE_UNREADABLE(`${field}: cannot read ${file}: ${why}`, { details: { path: field, file }, cause: error });
  }
}

function pemBlocks(text: string): { label: string; text: string }[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1] ?? '', text: m[0] }));
}

function parseCertificates(text: string, field: string, file: string): X509Certificate[] {
  const blocks = pemBlocks(text);
  const notPem = (what: string, cause?: unknown): Error =>
    TlsErrors.SECURITY_TLS_NOT_PEM(`${field} (${file}) ${what}`, { details: { path: field, file }, ...(cause === undefined ? {} : { cause }) });
  if (blocks.length === 0) throw notPem('holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)');
  const other = blocks.find((b) => b.label !== 'CERTIFICATE');
  if (other !== undefined) {
    throw notPem(`holds a ${other.label} block where only certificates belong${other.label.endsWith('PRIVATE KEY') ? ' (are the cert and key files swapped?)' : ''}`);
  }
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b.text);
    } catch (error) {
      throw notPem(`certificate ${i + 1} is not a valid PEM certificate: ${(error as Error).message}`, error);
    }
  });
}

function parsePrivateKey(text: string, field: string, file: string): KeyObject {
  const blocks = pemBlocks(text);
  const notPem = (what: string, cause?: unknown): Error =>
    TlsErrors.SECURITY_TLS_NOT_PEM(`${field} (${file}) ${what}`, { details: { path: field, file }, ...(cause === undefined ? {} : { cause }) });
  const keys = blocks.filter((b) => b.label.endsWith('PRIVATE KEY'));
  if (keys.length === 0) {
    const swapped = blocks.some((b) => b.label === 'CERTIFICATE') ? ' but a certificate (are the cert and key files swapped?)' : '';
    throw notPem(`holds no PEM private key (expected -----BEGIN PRIVATE KEY-----)${swapped}`);
  }
  if (keys.length > 1) throw notPem(`holds ${keys.length} private keys; it must hold exactly one`);
  const block = keys[0] as { label: string; text: string };
  if (block.label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(block.text)) {
    throw notPem('holds an encrypted private key; Slipway needs it unencrypted (decrypt it with openssl pkey, and keep the file mode 0600)');
  }
  try {
    return createPrivateKey(block.text);
  } catch (error) {
    throw notPem(`is not a valid PEM private key: ${(error as Error).message}`, error);
  }
}

function certificateTime(text: string, field: string, file: string): Date {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw TlsErrors.SECURITY_TLS_NOT_PEM(`${field} (${file}) has an unreadable validity time ${JSON.stringify(text)}`, { details: { path: field, file } });
  return new Date(ms);
}
