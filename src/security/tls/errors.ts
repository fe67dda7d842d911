/** The TLS error table: certificate and key files, their validity, and development certificates. */
import { defineErrors } from '../../core/index.js';

export const TlsErrors = defineErrors({
  SECURITY_TLS_FILE_UNREADABLE: {
    kind: 'invalid',
    help: 'A TLS certificate, key or CA file named in the configuration is not set, does not exist or cannot be read; the message names the setting and the file.',
  },
  SECURITY_TLS_NOT_PEM: {
    kind: 'invalid',
    help: 'A TLS file does not hold a PEM certificate or an unencrypted PEM private key as its setting requires; the message names the setting, the file and what was found.',
  },
  SECURITY_TLS_KEY_MISMATCH: {
    kind: 'invalid',
    help: 'The private key does not belong to the certificate; point the key setting at the key the certificate was issued for.',
  },
  SECURITY_TLS_CERT_EXPIRED: {
    kind: 'invalid',
    help: 'The certificate is past its notAfter date; renew it (or create a fresh development certificate) and restart.',
  },
  SECURITY_TLS_CERT_NOT_YET_VALID: {
    kind: 'invalid',
    help: 'The certificate is before its notBefore date; check the system clock, or wait until the certificate becomes valid.',
  },
  SECURITY_TLS_CA_REQUIRED: {
    kind: 'invalid',
    help: 'Requesting or requiring client certificates needs a CA file to verify them against; set the ca setting, or set clientCertificates to none.',
  },
  SECURITY_TLS_FILE_EXISTS: {
    kind: 'conflict',
    help: 'A certificate or key file to be written already exists and is never overwritten silently; remove it, choose another directory, or pass force.',
  },
  SECURITY_TLS_WRITE_FAILED: {
    kind: 'invalid',
    help: 'A certificate or key file could not be written (directory missing or not writable, disk full); the message names the file and the cause.',
  },
  SECURITY_TLS_INVALID_ARGUMENT: {
    kind: 'invalid',
    help: 'A TLS setting or certificate request has a value that cannot be used (unknown clientCertificates mode, empty common name, bad validity days, a CA that is no CA, an unsupported key type); the message says which.',
  },
});
