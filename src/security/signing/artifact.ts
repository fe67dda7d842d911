/**
 * Signatures of model artifacts: a detached Ed25519 signature over the canonical JSON of the
 * artifact's digest, model name and metadata, when it was signed and by which key.
 */
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../../core/index.js';
import { PlatformError } from '../../core/index.js';
import { SigningErrors } from './errors.js';
import { SIGNING_KEY_ID_PATTERN, keyIdOf, requireEd25519, signCanonical, toTrustedKeys, verifyCanonical, type TrustedKeys } from './keys.js';

/** What is signed about an artifact. */
export interface ArtifactSubject {
  /** `sha256:` and 64 lowercase hex digits. */
  readonly digest: string;
  readonly model?: string;
  readonly metadata?: Record<string, unknown>;
}

/** A detached signature of an artifact, stored next to it. */
export interface ArtifactSignature {
  readonly algorithm: 'ed25519';
  readonly keyId: string;
  /** ISO-8601 time of signing. */
  readonly signedAt: string;
  /** The Ed25519 signature (64 bytes) in base64. */
  readonly signature: string;
}

export type ArtifactVerification =
  | { readonly ok: true; readonly keyId: string }
  | { readonly ok: false; readonly reason: 'unsigned' | 'unknown-key' | 'bad-signature' | 'malformed'; readonly message: string };

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const SIGNATURE_BASE64 = /^[A-Za-z0-9+/]{86}==$/;
const FIELDS = ['algorithm', 'keyId', 'signedAt', 'signature'];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The object whose canonical JSON is signed; checks the subject on the way. */
function signedPayload(subject: ArtifactSubject, signedAt: string, keyId: string): Record<string, unknown> {
  const invalid = (message: string, field: string): PlatformError =>
    SigningErrors.SECURITY_SIGNATURE_INVALID_SUBJECT(message, { details: { field } });
  if (typeof subject.digest !== 'string' || !DIGEST.test(subject.digest)) {
    throw invalid(`digest: expected "sha256:" and 64 lowercase hex digits, got ${JSON.stringify(subject.digest)}`, 'digest');
  }
  if (subject.model !== undefined && typeof subject.model !== 'string') throw invalid('model: expected a string', 'model');
  if (subject.metadata !== undefined && !isPlainObject(subject.metadata)) throw invalid('metadata: expected a plain object', 'metadata');
  return {
    digest: subject.digest,
    ...(subject.model === undefined ? {} : { model: subject.model }),
    ...(subject.metadata === undefined ? {} : { metadata: subject.metadata }),
    signedAt,
    keyId,
  };
}

/**
 * Signs an artifact with an Ed25519 private key. The signature covers the canonical JSON of
 * `{digest, model, metadata, signedAt, keyId}` (model and metadata only when given); `signedAt`
 * is the clock's current time.
 */
export function signArtifact(subject: ArtifactSubject, privateKey: KeyObject, clock: Clock): ArtifactSignature {
  requireEd25519(privateKey, 'private', 'the signing key');
  const keyId = keyIdOf(privateKey);
  const signedAt = new Date(clock.now()).toISOString();
  return { algorithm: 'ed25519', keyId, signedAt, signature: signCanonical(signedPayload(subject, signedAt, keyId), privateKey) };
}

/**
 * Checks that a value (parsed JSON, or its text) is a signature record of the right shape and
 * returns it typed. Throws SECURITY_SIGNATURE_MALFORMED naming the first bad field.
 */
export function parseArtifactSignature(json: unknown): ArtifactSignature {
  const malformed = (field: string, problem: string): PlatformError =>
    SigningErrors.SECURITY_SIGNATURE_MALFORMED(`${field}: ${problem}`, { details: { field } });
  let value = json;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch (error) {
      throw malformed('(record)', `not valid JSON (${(error as Error).message})`);
    }
  }
  if (!isPlainObject(value)) throw malformed('(record)', 'expected an object with algorithm, keyId, signedAt and signature');
  const unknownField = Object.keys(value).find((key) => !FIELDS.includes(key));
  if (unknownField !== undefined) throw malformed(unknownField, 'not a field of a signature record');
  const { algorithm, keyId, signedAt, signature } = value;
  if (algorithm !== 'ed25519') throw malformed('algorithm', `expected "ed25519", got ${JSON.stringify(algorithm) ?? 'nothing'}`);
  if (typeof keyId !== 'string' || !SIGNING_KEY_ID_PATTERN.test(keyId)) {
    throw malformed('keyId', `expected "ed25519:" and 16 lowercase hex digits, got ${JSON.stringify(keyId) ?? 'nothing'}`);
  }
  if (typeof signedAt !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(signedAt) || Number.isNaN(Date.parse(signedAt))) {
    throw malformed('signedAt', `expected an ISO-8601 time, got ${JSON.stringify(signedAt) ?? 'nothing'}`);
  }
  if (typeof signature !== 'string' || !SIGNATURE_BASE64.test(signature)) {
    throw malformed('signature', 'expected the 64 bytes of an Ed25519 signature in base64 (88 characters)');
  }
  return { algorithm, keyId, signedAt, signature };
}

/**
 * Verifies an artifact's signature against the trusted keys. `signature` may be a parsed record,
 * its JSON text, or null/undefined for an artifact that has none. Never throws for a bad
 * signature: the result says why it failed, in a sentence naming the digest and key id.
 */
export function verifyArtifactSignature(subject: ArtifactSubject, signature: unknown, trustedKeys: TrustedKeys): ArtifactVerification {
  const trusted = toTrustedKeys(trustedKeys);
  if (signature === undefined || signature === null) {
    return { ok: false, reason: 'unsigned', message: `Artifact ${subject.digest} is not signed.` };
  }
  let parsed: ArtifactSignature;
  try {
    parsed = parseArtifactSignature(signature);
  } catch (error) {
    if (!(error instanceof PlatformError)) throw error;
    return { ok: false, reason: 'malformed', message: `The signature of artifact ${subject.digest} is malformed: ${error.message}.` };
  }
  const publicKey = trusted.get(parsed.keyId);
  if (publicKey === undefined) {
    return {
      ok: false,
      reason: 'unknown-key',
      message: `Artifact ${subject.digest} was signed by key ${parsed.keyId}, which is not one of the ${trusted.size} trusted keys.`,
    };
  }
  if (!verifyCanonical(signedPayload(subject, parsed.signedAt, parsed.keyId), parsed.signature, publicKey)) {
    return {
      ok: false,
      reason: 'bad-signature',
      message: `The signature by key ${parsed.keyId} does not match artifact ${subject.digest}: its digest, model or metadata differ from what was signed, or the signature was altered.`,
    };
  }
  return { ok: true, keyId: parsed.keyId };
}
