/** Ed25519 signing: keys, canonical JSON, and signatures of model artifacts. */
export { SigningErrors } from './errors.js';
export { canonicalJson } from './canonical-json.js';
export {
  SIGNING_KEY_ID_PATTERN,
  generateSigningKeyPair,
  keyIdOf,
  loadOrCreateSigningKey,
  readPublicKey,
  readSigningKey,
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
export {
  MAX_SIGNATURE_METADATA_BYTES,
  SIGNATURE_DOCUMENT_FIELDS,
  parseSignatureDocument,
  recordOf,
  signArtifactDocument,
  subjectOf,
  verifySignatureDocument,
  type SignatureDocument,
} from './document.js';
export { DEFAULT_SIGNING_CONFIG, SIGNING_OPTION_KEYS, readSigningOptions, signaturePolicyOf, type ArtifactSigningConfig, type EndpointSigningPolicy } from './options.js';
export { createSignatureVerifier, loadTrustedSigningKeys, type TrustedSigningKeys } from './trust.js';
export {
  createArtifactLoadCheck,
  decideArtifactLoad,
  type ArtifactLoadCheck,
  type ArtifactLoadCheckOptions,
  type ArtifactLoadDecision,
  type ArtifactLoadFacts,
  type ArtifactRefusal,
  type ArtifactRefusalCode,
  type ArtifactRefusalEvent,
  type ArtifactRefusalReason,
} from './load-check.js';
