/**
 * The public keys the server trusts for artifact signatures (`security.signing.trustedKeys` and
 * the `*.pub` files of `trustedKeysDir`), read once at start, and the verifier the registry and
 * the control API check signatures with.
 */
import type { KeyObject } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { SignatureCheck, SignatureVerifier, VersionSignature } from '../../registry/index.js';
import { verifySignatureDocument } from './document.js';
import { SigningErrors } from './errors.js';
import { readPublicKey } from './keys.js';
import type { ArtifactSigningConfig } from './options.js';

/** The trusted keys by key id, and the file each came from. */
export interface TrustedSigningKeys {
  readonly keys: ReadonlyMap<string, KeyObject>;
  /** Key id → the file it was read from. */
  readonly files: ReadonlyMap<string, string>;
}

/**
 * Reads every trusted public key: each file of `trustedKeys`, then each `*.pub` file of
 * `trustedKeysDir` (in name order). A file that is missing or is not an Ed25519 public key, or a
 * directory that cannot be listed, fails with the SECURITY_SIGNATURE_* error naming it, so a bad
 * key file stops the start. Relative paths are resolved against the working directory.
 */
export async function loadTrustedSigningKeys(config: Pick<ArtifactSigningConfig, 'trustedKeys' | 'trustedKeysDir'>): Promise<TrustedSigningKeys> {
  const keys = new Map<string, KeyObject>();
  const files = new Map<string, string>();
  const add = async (file: string): Promise<void> => {
    const key = await readPublicKey(file);
    keys.set(key.keyId, key.publicKey);
    files.set(key.keyId, file);
  };
  for (const file of config.trustedKeys) await add(resolve(file));
  if (config.trustedKeysDir !== '') {
    const dir = resolve(config.trustedKeysDir);
    let names: string[];
    try {
      names = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.isDirectory() && e.name.endsWith('.pub')).map((e) => e.name);
    } catch (error) {
      throw SigningErrors.SECURITY_SIGNATURE_KEY_UNREADABLE(
        `cannot list security.signing.trustedKeysDir ${dir}: ${error instanceof Error ? error.message : String(error)}`,
        { details: { path: dir }, cause: error },
      );
    }
    for (const name of names.sort()) await add(join(dir, name));
  }
  return { keys, files };
}

/**
 * A verifier over a fixed set of trusted keys: `verified` when a trusted key's signature holds for
 * the signature's digest, model and metadata; `untrusted` when its key is not among them; `invalid`
 * for a malformed record or a trusted key's signature that does not hold.
 */
export function createSignatureVerifier(trusted: ReadonlyMap<string, KeyObject>): SignatureVerifier {
  return {
    check(signature: VersionSignature): SignatureCheck {
      const result = verifySignatureDocument(signature, trusted);
      const keyId = typeof signature.keyId === 'string' ? signature.keyId : null;
      if (result.ok) return { status: 'verified', keyId: result.keyId };
      if (result.reason === 'unknown-key' && keyId !== null) return { status: 'untrusted', keyId, message: result.message };
      return { status: 'invalid', keyId, message: result.message };
    },
  };
}
