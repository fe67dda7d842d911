/**
 * `security.signing`: which public keys the server trusts for artifact signatures, and whether an
 * endpoint may load only signed artifacts (docs/security.md#signed-artifacts).
 */
import { describe, isValidName, join, NAME_RULE, type ConfigReader } from '../../core/index.js';

/** An endpoint's own signature policy (`security.signing.endpoints.<name>`). */
export interface EndpointSigningPolicy {
  readonly requireSignature: boolean;
}

/** The compiled `security.signing` subsection. */
export interface ArtifactSigningConfig {
  /** Public key files (Ed25519, SPKI PEM) whose signatures are trusted. Set in the file only (a list). */
  readonly trustedKeys: readonly string[];
  /** A directory whose `*.pub` files are trusted too; empty for none. */
  readonly trustedKeysDir: string;
  /** Every endpoint loads only artifacts signed by a trusted key (unless its own policy says otherwise). */
  readonly requireSignature: boolean;
  /** Policies of single endpoints, by endpoint name; they win over `requireSignature`. Set in the file only. */
  readonly endpoints: Readonly<Record<string, EndpointSigningPolicy>>;
}

/** Keys of `security.signing` that environment variables and flags may set (the lists and maps are file-only). */
export const SIGNING_OPTION_KEYS: readonly string[] = Object.freeze(['trustedKeysDir', 'requireSignature']);

/** The subsection when nothing is configured: nothing trusted, nothing required. */
export const DEFAULT_SIGNING_CONFIG: ArtifactSigningConfig = Object.freeze({ trustedKeys: Object.freeze([]), trustedKeysDir: '', requireSignature: false, endpoints: Object.freeze({}) });

/** Reads `security.signing` at `path` into `r` (problems join the reader's). */
export function readSigningOptions(r: ConfigReader, input: unknown, path: string): ArtifactSigningConfig {
  const o = r.section(input, path, ['trustedKeys', 'trustedKeysDir', 'requireSignature', 'endpoints']);
  const keysPath = join(path, 'trustedKeys');
  const trustedKeys: string[] = [];
  if (o.trustedKeys !== undefined) {
    if (!Array.isArray(o.trustedKeys)) {
      r.problem(keysPath, `must be a list of public key files (set in the config file), got ${describe(o.trustedKeys)}`);
    } else {
      (o.trustedKeys as unknown[]).forEach((value, i) => {
        if (typeof value !== 'string' || value.trim() === '') r.problem(join(keysPath, i), `must be the path of a public key file, got ${describe(value)}`);
        else trustedKeys.push(value);
      });
    }
  }
  const trustedKeysDir = r.string(o.trustedKeysDir, join(path, 'trustedKeysDir'), '', (v) => (v !== '' && v.trim() === '' ? 'must be a directory path, or empty for none' : undefined));
  const requireSignature = r.boolean(o.requireSignature, join(path, 'requireSignature'), false);
  const endpointsPath = join(path, 'endpoints');
  const endpoints: Record<string, EndpointSigningPolicy> = {};
  for (const [name, value] of Object.entries(r.object(o.endpoints, endpointsPath))) {
    const at = join(endpointsPath, name);
    if (!isValidName(name)) {
      r.problem(at, `is not an endpoint name: ${NAME_RULE}`);
      continue;
    }
    const e = r.section(value, at, ['requireSignature']);
    endpoints[name] = { requireSignature: r.boolean(e.requireSignature, join(at, 'requireSignature'), requireSignature) };
  }
  return { trustedKeys, trustedKeysDir, requireSignature, endpoints };
}

/** Whether `endpoint` may load only signed artifacts, and the setting that says so (for messages). */
export function signaturePolicyOf(config: ArtifactSigningConfig, endpoint: string): { readonly required: boolean; readonly setting: string } {
  const own = Object.prototype.hasOwnProperty.call(config.endpoints, endpoint) ? config.endpoints[endpoint] : undefined;
  if (own !== undefined) return { required: own.requireSignature, setting: `security.signing.endpoints.${endpoint}.requireSignature` };
  return { required: config.requireSignature, setting: 'security.signing.requireSignature' };
}
