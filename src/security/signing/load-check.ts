/**
 * The integrity check before every load of a version (docs/security.md#signed-artifacts): the
 * artifact must still hash to the digest recorded at push, a signature it carries must hold, and
 * an endpoint that requires signatures loads only artifacts signed by a trusted key. The decision
 * is a pure function ({@link decideArtifactLoad}); {@link createArtifactLoadCheck} gathers its
 * inputs from the registry, reports each refusal, and throws the error the deployment shows.
 */
import type { KeyObject } from 'node:crypto';
import { toPlatformError, type Logger, type PlatformError } from '../../core/index.js';
import type { Registry, VersionSignature } from '../../registry/index.js';
import { verifySignatureDocument } from './document.js';
import { SigningErrors } from './errors.js';
import { signaturePolicyOf, type ArtifactSigningConfig } from './options.js';

/** Why a load was refused. */
export type ArtifactRefusalReason =
  /** The blob hashes to another digest than the one recorded at push. */
  | 'digest-mismatch'
  /** The blob is missing or cannot be read back (e.g. it no longer decrypts). */
  | 'unreadable'
  /** The stored signature is for other bytes, or bound to another model. */
  | 'signature-mismatch'
  /** A trusted key's signature does not hold, or the record is malformed. */
  | 'bad-signature'
  /** A signature is required and there is none. */
  | 'unsigned'
  /** A signature is required and its key is not trusted. */
  | 'untrusted-key';

/** The refusal's error code, by reason. */
export type ArtifactRefusalCode = 'SECURITY_ARTIFACT_TAMPERED' | 'SECURITY_SIGNATURE_REJECTED' | 'SECURITY_SIGNATURE_REQUIRED';

/** What {@link decideArtifactLoad} is given. */
export interface ArtifactLoadFacts {
  readonly endpoint: string;
  readonly model: string;
  readonly version: number;
  /** The digest the registry recorded at push. */
  readonly digest: string;
  /** What the stored blob hashes to now; null when it is missing or cannot be read. */
  readonly actualDigest: string | null;
  /** Why the blob could not be read, when `actualDigest` is null. */
  readonly readError?: string;
  /** The version's stored signature, if it has one. */
  readonly signature: VersionSignature | undefined;
  /** Whether the endpoint requires a signature by a trusted key. */
  readonly requireSignature: boolean;
  /** The setting that decides `requireSignature`, named in messages. */
  readonly policySetting?: string;
  readonly trustedKeys: ReadonlyMap<string, KeyObject>;
}

/** A refused load: its code, reason and a sentence saying what is wrong and what to do. */
export interface ArtifactRefusal {
  readonly code: ArtifactRefusalCode;
  readonly reason: ArtifactRefusalReason;
  readonly message: string;
  /** The key that signed, when there is a signature. */
  readonly keyId?: string;
}

/** Load it (`signedBy`: the trusted key whose signature holds, or null), or refuse it. */
export type ArtifactLoadDecision = { readonly allowed: true; readonly signedBy: string | null } | ({ readonly allowed: false } & ArtifactRefusal);

/**
 * Decides whether a version may be loaded. In order: the bytes must hash to the recorded digest
 * (else SECURITY_ARTIFACT_TAMPERED); a signature the version carries must be for those bytes and
 * model and, when its key is trusted, must hold (else SECURITY_SIGNATURE_REJECTED, required or
 * not); and when the endpoint requires signatures, there must be one by a trusted key (else
 * SECURITY_SIGNATURE_REQUIRED). A signature by an untrusted key is ignored where none is required.
 */
export function decideArtifactLoad(facts: ArtifactLoadFacts): ArtifactLoadDecision {
  const what = `${facts.model}:${facts.version}`;
  const refuse = (code: ArtifactRefusalCode, reason: ArtifactRefusalReason, message: string, keyId?: string): ArtifactLoadDecision => ({
    allowed: false,
    code,
    reason,
    message,
    ...(keyId === undefined ? {} : { keyId }),
  });
  if (facts.actualDigest === null) {
    const why = facts.readError === undefined ? 'it is missing' : facts.readError;
    return refuse('SECURITY_ARTIFACT_TAMPERED', 'unreadable', `the artifact of ${what} (${facts.digest}) cannot be read back intact (${why}); it is not loaded. Restore <data-dir>/blobs from a backup or push the model again`);
  }
  if (facts.actualDigest !== facts.digest) {
    return refuse(
      'SECURITY_ARTIFACT_TAMPERED',
      'digest-mismatch',
      `the artifact of ${what} has been altered: it hashes to ${facts.actualDigest}, but ${facts.digest} was recorded when it was pushed; it is not loaded. Restore <data-dir>/blobs from a backup or push the model again`,
    );
  }
  const signature = facts.signature;
  const policy = facts.policySetting ?? 'security.signing.requireSignature';
  if (signature !== undefined) {
    const keyId = typeof signature.keyId === 'string' ? signature.keyId : undefined;
    if (signature.digest !== facts.digest) {
      return refuse('SECURITY_SIGNATURE_REJECTED', 'signature-mismatch', `the signature of ${what} is for ${String(signature.digest)}, not for its artifact ${facts.digest}; it is not loaded`, keyId);
    }
    if (signature.model !== undefined && signature.model !== facts.model) {
      return refuse('SECURITY_SIGNATURE_REJECTED', 'signature-mismatch', `the signature of ${what} is bound to model "${signature.model}", not "${facts.model}"; it is not loaded`, keyId);
    }
    const result = verifySignatureDocument(signature, facts.trustedKeys);
    if (result.ok) return { allowed: true, signedBy: result.keyId };
    if (result.reason !== 'unknown-key') {
      return refuse('SECURITY_SIGNATURE_REJECTED', 'bad-signature', `the signature of ${what} does not hold, so it is not loaded: ${result.message}`, keyId);
    }
    if (facts.requireSignature) {
      return refuse(
        'SECURITY_SIGNATURE_REQUIRED',
        'untrusted-key',
        `endpoint "${facts.endpoint}" loads only artifacts signed by a trusted key (${policy}), and ${what} is signed by ${keyId ?? 'an unknown key'}, which is not one of the ${facts.trustedKeys.size} trusted keys (security.signing.trustedKeys, trustedKeysDir)`,
        keyId,
      );
    }
    return { allowed: true, signedBy: null };
  }
  if (facts.requireSignature) {
    return refuse(
      'SECURITY_SIGNATURE_REQUIRED',
      'unsigned',
      `endpoint "${facts.endpoint}" loads only artifacts signed by a trusted key (${policy}), and ${what} is not signed; sign it with \`slipway models sign\` and attach it with \`slipway models attach-signature ${what} --signature FILE.sig\``,
    );
  }
  return { allowed: true, signedBy: null };
}

/** A refused load, as reported to {@link ArtifactLoadCheckOptions.onRefused} (the server appends it to the audit log). */
export interface ArtifactRefusalEvent extends ArtifactRefusal {
  readonly endpoint: string;
  readonly model: string;
  readonly version: number;
  readonly digest: string;
  readonly actualDigest: string | null;
}

export interface ArtifactLoadCheckOptions {
  /** Where versions, their signatures and their blobs' digests are read. */
  readonly registry: Pick<Registry, 'getVersion' | 'verifyArtifact'>;
  readonly config: ArtifactSigningConfig;
  readonly trustedKeys: ReadonlyMap<string, KeyObject>;
  /** Told of every refusal before the load fails; awaited, and a failure of it is logged, never thrown. */
  readonly onRefused?: (event: ArtifactRefusalEvent) => Promise<void> | void;
  readonly logger?: Logger;
}

/** Checks a version before it is loaded for an endpoint; rejects with the refusal's PlatformError. */
export type ArtifactLoadCheck = (endpoint: string, model: string, version: number) => Promise<void>;

/**
 * Creates the check the deployment manager runs before every load: re-hashes the blob through the
 * registry (never reading the file itself), decides with {@link decideArtifactLoad}, and for a
 * refusal reports it, then rejects with SECURITY_ARTIFACT_TAMPERED, SECURITY_SIGNATURE_REJECTED or
 * SECURITY_SIGNATURE_REQUIRED carrying the endpoint, version, reason and digests in its details.
 */
export function createArtifactLoadCheck(options: ArtifactLoadCheckOptions): ArtifactLoadCheck {
  const { registry, config, trustedKeys } = options;
  return async (endpoint, model, version) => {
    const found = await registry.getVersion(model, version);
    let actualDigest: string | null;
    let readError: string | undefined;
    try {
      const verification = await registry.verifyArtifact(model, version);
      actualDigest = verification.actualDigest;
    } catch (error) {
      // a key the keyring lacks, or a file that does not decrypt, is said as such: it is not tampering
      if (toPlatformError(error).code.startsWith('SECURITY_ENCRYPTION_')) throw error;
      actualDigest = null;
      readError = error instanceof Error ? error.message : String(error);
    }
    const policy = signaturePolicyOf(config, endpoint);
    const decision = decideArtifactLoad({
      endpoint,
      model,
      version,
      digest: found.digest,
      actualDigest,
      ...(readError === undefined ? {} : { readError }),
      signature: found.artifactSignature,
      requireSignature: policy.required,
      policySetting: policy.setting,
      trustedKeys,
    });
    if (decision.allowed) return;
    const { allowed: _allowed, ...refusal } = decision;
    const event: ArtifactRefusalEvent = { ...refusal, endpoint, model, version, digest: found.digest, actualDigest };
    try {
      await options.onRefused?.(event);
    } catch (error) {
      options.logger?.error({ endpoint, model, version, err: toPlatformError(error).message }, 'could not report a refused artifact');
    }
    throw refusalError(event);
  };
}

function refusalError(event: ArtifactRefusalEvent): PlatformError {
  return SigningErrors[event.code](event.message, {
    details: {
      endpoint: event.endpoint,
      model: event.model,
      version: event.version,
      reason: event.reason,
      digest: event.digest,
      actualDigest: event.actualDigest,
      ...(event.keyId === undefined ? {} : { keyId: event.keyId }),
    },
  });
}
