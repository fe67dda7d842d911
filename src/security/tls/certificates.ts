/**
 * Development certificates: a self-signed certificate that serves HTTPS and doubles as the CA for
 * client certificates, and client certificates issued by it for mTLS in development and in tests.
 * Keys are ECDSA P-256, which every TLS client accepts; validity is computed from an injected Clock.
 */
import { createPrivateKey, randomBytes, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { systemClock, type Clock } from '../../core/index.js';
import { TlsErrors } from './errors.js';
import { x509 } from './x509.js';

type WebCryptoKey = webcrypto.CryptoKey;

/** A certificate and its private key, both PEM (the key unencrypted PKCS#8). */
export interface CertificatePair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** What {@link createSelfSignedCertificate} makes. */
export interface SelfSignedCertificateOptions {
  /** Subject common name. Default `localhost`. */
  readonly commonName?: string;
  /** subjectAltName entries; IP addresses (v4 or v6) become IP entries, the rest DNS entries. Default localhost, 127.0.0.1, ::1. */
  readonly altNames?: readonly string[];
  /** Days from now until the certificate expires. Default 365. */
  readonly days?: number;
  /** Where now comes from. Default the system clock. */
  readonly clock?: Clock;
}

/** What {@link issueClientCertificate} makes. */
export interface ClientCertificateOptions {
  /** The issuing CA: a certificate with basicConstraints CA:true and its key. */
  readonly ca: CertificatePair;
  /** Subject common name of the client (a service or user name). */
  readonly commonName: string;
  /** Days from now until the certificate expires. Default 365. */
  readonly days?: number;
  /** Where now comes from. Default the system clock. */
  readonly clock?: Clock;
}

/** The default subjectAltName entries of a development certificate. */
export const DEFAULT_ALT_NAMES: readonly string[] = Object.freeze(['localhost', '127.0.0.1', '::1']);

const DAY_MS = 86_400_000;
const MAX_DAYS = 36_500;
const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

/**
 * A self-signed ECDSA P-256 certificate for `commonName` with the given subjectAltNames, usable
 * for serverAuth and clientAuth and marked CA:true, so in development it also serves as the CA
 * that client certificates from {@link issueClientCertificate} chain to. Valid from now (whole
 * seconds) for exactly `days` days.
 */
export async function createSelfSignedCertificate(options: SelfSignedCertificateOptions = {}): Promise<CertificatePair> {
  const commonName = checkCommonName(options.commonName ?? 'localhost');
  const altNames = checkAltNames(options.altNames ?? DEFAULT_ALT_NAMES);
  const { notBefore, notAfter } = validity(options.days ?? 365, options.clock ?? systemClock);
  const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ CN: [commonName] }],
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(altNames.map((value): { type: 'dns' | 'ip'; value: string } => ({ type: isIP(value) === 0 ? 'dns' : 'ip', value }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await privateKeyPem(keys.privateKey) };
}

/**
 * A client certificate (ECDSA P-256, clientAuth only, CA:false) for `commonName`, signed by `ca`,
 * valid from now (whole seconds) for `days` days. Refuses a CA that is no CA, whose key does not
 * match its certificate, or that has expired.
 */
export async function issueClientCertificate(options: ClientCertificateOptions): Promise<CertificatePair> {
  const commonName = checkCommonName(options.commonName);
  const clock = options.clock ?? systemClock;
  const { notBefore, notAfter } = validity(options.days ?? 365, clock);
  const { caCert, caKey } = readCa(options.ca, clock);
  const signingKey = await importSigningKey(caKey);
  const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const issuer = new x509.X509Certificate(caCert.raw);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: [{ CN: [commonName] }],
    issuer: issuer.subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: signingKey.key,
    signingAlgorithm: signingKey.algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await privateKeyPem(keys.privateKey) };
}

function checkCommonName(commonName: string): string {
  if (typeof commonName !== 'string' || commonName.trim() === '' || commonName.length > 64) {
    throw TlsErrors.SECURITY_TLS_INVALID_ARGUMENT(`commonName must be 1 to 64 characters, got ${JSON.stringify(commonName)}`);
  }
  return commonName;
}

function checkAltNames(altNames: readonly string[]): string[] {
  const given: unknown = altNames;
  if (!Array.isArray(given) || altNames.length === 0) throw TlsErrors.SECURITY_TLS_INVALID_ARGUMENT('altNames must list at least one DNS name or IP address');
  for (const name of altNames) {
    if (typeof name !== 'string' || (isIP(name) === 0 && !/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(name))) {
      throw TlsErrors.SECURITY_TLS_INVALID_ARGUMENT(`altNames: ${JSON.stringify(name)} is neither a DNS name nor an IP address`);
    }
  }
  return [...altNames];
}

function validity(days: number, clock: Clock): { notBefore: Date; notAfter: Date } {
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) throw TlsErrors.SECURITY_TLS_INVALID_ARGUMENT(`days must be a whole number from 1 to ${MAX_DAYS}, got ${String(days)}`);
  // X.509 times have whole seconds; truncating keeps notBefore at or before now
  const start = Math.floor(clock.now() / 1000) * 1000;
  return { notBefore: new Date(start), notAfter: new Date(start + days * DAY_MS) };
}

/** 16 random bytes, the top bit clear so the DER integer stays positive. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f | 0x01;
  return bytes.toString('hex');
}

async function privateKeyPem(key: WebCryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`;
}

function readCa(ca: CertificatePair, clock: Clock): { caCert: X509Certificate; caKey: KeyObject } {
  let caCert: X509Certificate;
  let caKey: KeyObject;
  try {
    caCert = new X509Certificate(ca.certPem);
  } catch (error) {
    throw TlsErrors.SECURITY_TLS_NOT_PEM(`ca.certPem is not a PEM certificate: ${(error as Error).message}`, { cause: error });
  }
  try {
    caKey = createPrivateKey(ca.keyPem);
  } catch (error) {
    throw TlsErrors.SECURITY_TLS_NOT_PEM(`ca.keyPem is not an unencrypted PEM private key: ${(error as Error).message}`, { cause: error });
  }
  if (!caCert.ca) throw TlsErrors.SECURITY_TLS_INVALID_ARGUMENT(`ca.certPem (${oneLine(caCert.subject)}) is not a CA certificate (basicConstraints CA:true)`);
  if (!caCert.checkPrivateKey(caKey)) throw TlsErrors.SECURITY_TLS_KEY_MISMATCH(`ca.keyPem is not the private key of ca.certPem (${oneLine(caCert.subject)})`);
  const notAfter = Date.parse(caCert.validTo);
  if (clock.now() > notAfter) throw TlsErrors.SECURITY_TLS_CERT_EXPIRED(`ca.certPem (${oneLine(caCert.subject)}) expired on ${new Date(notAfter).toISOString()}`);
  return { caCert, caKey };
}

/** The CA's key as a WebCrypto signing key, with the signature algorithm that goes with it. */
async function importSigningKey(key: KeyObject): Promise<{ key: WebCryptoKey; algorithm: webcrypto.AlgorithmIdentifier | webcrypto.EcdsaParams }> {
  const der = key.export({ type: 'pkcs8', format: 'der' });
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }[String(key.asymmetricKeyDetails?.namedCurve)];
    const hash = { 'P-256': 'SHA-256', 'P-384': 'SHA-384', 'P-521': 'SHA-512' }[curve ?? ''];
    if (curve !== undefined && hash !== undefined) {
      return { key: await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: curve }, false, ['sign']), algorithm: { name: 'ECDSA', hash } };
    }
  } else if (type === 'rsa') {
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    return { key: await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']), algorithm };
  } else if (type === 'ed25519') {
    return { key: await webcrypto.subtle.importKey('pkcs8', der, { name: 'Ed25519' }, false, ['sign']), algorithm: { name: 'Ed25519' } };
  }
  const detail = type === 'ec' ? `ec ${String(key.asymmetricKeyDetails?.namedCurve)}` : String(type);
  throw TlsErrors.SECURITY_TLS_INVALID_ARGUMENT(`the CA key type ${detail} is not supported for signing (use ECDSA P-256/P-384/P-521, RSA or Ed25519)`);
}

/** Node's multi-line distinguished name on one line (`CN=a, O=b`). */
export function oneLine(name: string): string {
  return name.split('\n').filter((part) => part !== '').join(', ');
}
