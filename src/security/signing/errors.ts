/** The error table of signing: Ed25519 key files, canonical JSON and artifact signatures. */
import { defineErrors } from '../../core/index.js';

export const SigningErrors = defineErrors({
  SECURITY_SIGNATURE_BAD_KEY: {
    kind: 'invalid',
    help: 'The key file or key text the message names is not the Ed25519 key expected there (PKCS#8 PEM for a private key, SPKI PEM for a public one); replace it with the right key, or delete a generated private key file to have a new one created.',
  },
  SECURITY_SIGNATURE_KEY_UNREADABLE: {
    kind: 'invalid',
    help: 'The key file the message names cannot be read or written (missing, a directory, or no permission); fix the path or its permissions.',
  },
  SECURITY_SIGNATURE_NOT_CANONICAL: {
    kind: 'invalid',
    help: 'A value to be signed or hashed holds something canonical JSON cannot write (undefined, a non-finite number, a function, a class instance or a cycle); the message names its path.',
  },
  SECURITY_SIGNATURE_INVALID_SUBJECT: {
    kind: 'invalid',
    help: 'An artifact to sign must name its content as "sha256:" followed by 64 lowercase hex digits, with an optional model name and a metadata object.',
  },
  SECURITY_SIGNATURE_MALFORMED: {
    kind: 'invalid',
    help: 'A signature record must be {algorithm: "ed25519", keyId: "ed25519:<16 hex>", signedAt: <ISO time>, signature: <base64>} and nothing else; the message names the bad field.',
  },
});
