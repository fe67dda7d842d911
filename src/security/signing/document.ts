/**
 * The signature file of an artifact (`slipway models sign` writes it, `models push --signature`
 * and `POST …/versions/{n}/signature` send it): one JSON object holding what was signed (the
 * digest, and the model name and metadata when given) beside the detached signature record.
 *
 * ```json
 * {"digest": "sha256:…", "model": "fraud", "algorithm": "ed25519", "keyId": "ed25519:…",
 *  "signedAt": "2026-03-01T09:00:00.000Z", "signature": "…base64…"}
 * ```
 */
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../../core/index.js';
import { PlatformError } from '../../core/index.js';
import { signArtifact, parseArtifactSignature, verifyArtifactSignature, type ArtifactSignature, type ArtifactSubject, type ArtifactVerification } from './artifact.js';
import { canonicalJson } from './canonical-json.js';
import { SigningErrors } from './errors.js';
import type { TrustedKeys } from './keys.js';

/** A signature file: the signed subject and the signature record, side by side. */
export interface SignatureDocument extends ArtifactSignature {
  readonly digest: string;
  readonly model?: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** Fields a signature file may hold. */
export const SIGNATURE_DOCUMENT_FIELDS: readonly string[] = Object.freeze(['digest', 'model', 'metadata', 'algorithm', 'keyId', 'signedAt', 'signature']);

const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** Largest canonical JSON of a signature's metadata, in bytes: a push sends the signature in its query string, which must stay well under HTTP's header limits. */
export const MAX_SIGNATURE_METADATA_BYTES = 4 * 1024;
const MAX_MODEL_LENGTH = 256;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function malformed(field: string, problem: string): PlatformError {
  return SigningErrors.SECURITY_SIGNATURE_MALFORMED(`${field}: ${problem}`, { details: { field } });
}

/** The subject a signature file says was signed. */
export function subjectOf(document: SignatureDocument): ArtifactSubject {
  return {
    digest: document.digest,
    ...(document.model === undefined ? {} : { model: document.model }),
    ...(document.metadata === undefined ? {} : { metadata: document.metadata }),
  };
}

/** The detached signature record inside a signature file. */
export function recordOf(document: SignatureDocument): ArtifactSignature {
  return { algorithm: document.algorithm, keyId: document.keyId, signedAt: document.signedAt, signature: document.signature };
}

/** Signs a subject with an Ed25519 private key and returns the signature file's content. */
export function signArtifactDocument(subject: ArtifactSubject, privateKey: KeyObject, clock: Clock): SignatureDocument {
  const record = signArtifact(subject, privateKey, clock);
  return {
    digest: subject.digest,
    ...(subject.model === undefined ? {} : { model: subject.model }),
    ...(subject.metadata === undefined ? {} : { metadata: subject.metadata }),
    ...record,
  };
}

/**
 * Checks that a value (parsed JSON, or its text) is a signature file and returns it typed, with
 * only its own fields. Throws SECURITY_SIGNATURE_MALFORMED naming the first bad field
 * (`details.field`: `digest`, `metadata`, `keyId` …).
 */
export function parseSignatureDocument(json: unknown): SignatureDocument {
  let value = json;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch (error) {
      throw malformed('(document)', `not valid JSON (${(error as Error).message})`);
    }
  }
  if (!isPlainObject(value)) throw malformed('(document)', 'expected a JSON object with digest, algorithm, keyId, signedAt and signature (what `slipway models sign` writes)');
  const unknownField = Object.keys(value).find((key) => !SIGNATURE_DOCUMENT_FIELDS.includes(key));
  if (unknownField !== undefined) throw malformed(unknownField, `not a field of a signature file (known: ${SIGNATURE_DOCUMENT_FIELDS.join(', ')})`);
  const { digest, model, metadata, algorithm, keyId, signedAt, signature } = value;
  if (typeof digest !== 'string' || !DIGEST.test(digest)) {
    throw malformed('digest', `expected "sha256:" and 64 lowercase hex digits, got ${JSON.stringify(digest) ?? 'nothing'}`);
  }
  if (model !== undefined && (typeof model !== 'string' || model === '' || model.length > MAX_MODEL_LENGTH)) {
    throw malformed('model', `expected a model name (1–${MAX_MODEL_LENGTH} characters), got ${JSON.stringify(model)}`);
  }
  if (metadata !== undefined) {
    if (!isPlainObject(metadata)) throw malformed('metadata', 'expected a JSON object');
    let size: number;
    try {
      size = Buffer.byteLength(canonicalJson(metadata), 'utf8');
    } catch (error) {
      throw malformed('metadata', error instanceof Error ? error.message : String(error));
    }
    if (size > MAX_SIGNATURE_METADATA_BYTES) throw malformed('metadata', `is ${size} bytes of JSON; at most ${MAX_SIGNATURE_METADATA_BYTES} are kept with a signature`);
  }
  const record = parseArtifactSignature({ algorithm, keyId, signedAt, signature });
  return {
    digest,
    ...(model === undefined ? {} : { model }),
    ...(metadata === undefined ? {} : { metadata }),
    ...record,
  };
}

/**
 * Verifies a signature file against the trusted keys: the signature must hold for its own digest,
 * model and metadata. Never throws for a bad file or signature: the result says why it failed.
 */
export function verifySignatureDocument(document: SignatureDocument, trustedKeys: TrustedKeys): ArtifactVerification {
  try {
    return verifyArtifactSignature(subjectOf(document), recordOf(document), trustedKeys);
  } catch (error) {
    if (!(error instanceof PlatformError)) throw error;
    return { ok: false, reason: 'malformed', message: `The signature of artifact ${document.digest} cannot be checked: ${error.message}.` };
  }
}
