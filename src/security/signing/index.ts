/** Ed25519 signing: keys, canonical JSON, and signatures of model artifacts. */
export { SigningErrors } from './errors.js';
export { canonicalJson } from './canonical-json.js';
export {
  SIGNING_KEY_ID_PATTERN,
  generateSigningKeyPair,
  keyIdOf,
  loadOrCreateSigningKey,
  readPublicKey,
  signCanonical,
  toTrustedKeys,
  verifyCanonical,
  type PublicSigningKey,
  type SigningKey,
  type SigningKeyPair,
  type TrustedKeys,
} from './keys.js';
export {
  parseArtifactSignature,
  signArtifact,
  verifyArtifactSignature,
  type ArtifactSignature,
  type ArtifactSubject,
  type ArtifactVerification,
} from './artifact.js';
