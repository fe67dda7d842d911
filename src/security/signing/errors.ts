/** The error table of signing: Ed25519 key files, canonical JSON, artifact signatures and the checks at every load. */
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
  SECURITY_ARTIFACT_TAMPERED: {
    kind: 'internal',
    help: "A version's artifact no longer hashes to the digest recorded when it was pushed (its blob was altered, damaged or cannot be read back), so it was refused at load and is never served; restore <data-dir>/blobs from a backup or push the model again. The audit log holds an artifact.refused entry.",
  },
  SECURITY_SIGNATURE_REQUIRED: {
    kind: 'conflict',
    help: 'The endpoint requires signed artifacts (security.signing.requireSignature, or its endpoints.<name> override) and the version is unsigned or signed by a key the server does not trust; sign it (`slipway models sign`, then `slipway models attach-signature`) with a key listed in security.signing.trustedKeys or trustedKeysDir.',
  },
  SECURITY_SIGNATURE_REJECTED: {
    kind: 'conflict',
    help: "The version's stored signature does not hold for its artifact (the signature, its digest, model or metadata were altered), so it was refused at load even where signatures are not required; attach a fresh signature of the exact file.",
  },
});
