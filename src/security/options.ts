/**
 * The `security` section of Slipway's configuration (docs/security.md): authentication, the audit
 * log, limits. Compiled like every other section: every problem reported by its path at once.
 */
import { ConfigReader, deepFreeze, join, type ConfigProblem, type PlatformError } from '../core/index.js';
import { compileLimitOptions, LIMIT_OPTION_KEYS, type LimitsConfig } from './limits/index.js';
import { readSigningOptions, SIGNING_OPTION_KEYS, type ArtifactSigningConfig } from './signing/options.js';
import { compileInputGuardOptions, compileOutputOptions, INPUT_GUARD_OPTION_KEYS, OUTPUT_OPTION_KEYS, type InputGuardsConfig, type OutputHardeningConfig } from './guards/options.js';
import { ABUSE_OPTION_KEYS, readAbuseOptions, type AbuseConfig } from './abuse/options.js';

export interface JwtConfig {
  /** Expected `iss`; empty = not checked. */
  readonly issuer: string;
  /** Expected `aud`; empty = not checked. */
  readonly audience: string;
  /** A JWKS address (fetched and cached), or … */
  readonly jwksUrl: string;
  /** … a PEM public key file (SPKI or X.509 certificate). */
  readonly publicKeyFile: string;
  /** The claim holding Slipway role names (a list or a space-separated string). */
  readonly rolesClaim: string;
  /** Allowed clock difference for exp/nbf, seconds. */
  readonly clockToleranceSeconds: number;
}

export interface AuthConfig {
  /** Keys (or tokens) required; off only for trusted single-user set-ups. */
  readonly enabled: boolean;
  /** `required`: the data plane needs a key like the control plane; `open`: inference without one. */
  readonly dataPlane: 'required' | 'open';
  /** JWT bearer tokens besides API keys; undefined when not configured. */
  readonly jwt: JwtConfig | undefined;
}

export interface AuditConfig {
  readonly enabled: boolean;
  /** Also record every inference call (who called which endpoint), not only changes and auth failures. */
  readonly inference: boolean;
}

export interface SecurityConfig {
  readonly auth: AuthConfig;
  readonly audit: AuditConfig;
  /** Rate limits and quotas per key and per endpoint (429 with Retry-After). */
  readonly limits: LimitsConfig;
  /** Encryption at rest of artifacts and payload-log bodies (docs/security.md#encryption-at-rest). */
  readonly encryption: EncryptionAtRestConfig;
  /** Trusted keys for artifact signatures and where signatures are required (docs/security.md#signed-artifacts). */
  readonly signing: ArtifactSigningConfig;
  /** Checks of inference inputs against the signature's finite numbers and the version's reference profile (docs/security.md#input-guards). */
  readonly inputGuards: InputGuardsConfig;
  /** Rounding and top-k of inference outputs (docs/security.md#output-hardening). */
  readonly outputs: OutputHardeningConfig;
  /** Model-extraction detection per key and endpoint, and the optional throttle of a flagged key (docs/security.md#abuse-detection). */
  readonly abuse: AbuseConfig;
}

/**
 * Where the master keyring comes from. The keys themselves never enter the configuration: a file
 * path here, or the keyring text in the SLIPWAY_MASTER_KEYS environment variable (exactly one).
 */
export interface EncryptionAtRestConfig {
  /** A keyring file (`<keyId>:<base64 of 32 bytes>` lines, the first active); empty when not set. */
  readonly masterKeyFile: string;
}

export const SECURITY_OPTION_KEYS: readonly string[] = Object.freeze([
  'auth.enabled',
  'auth.dataPlane',
  'auth.jwt.issuer',
  'auth.jwt.audience',
  'auth.jwt.jwksUrl',
  'auth.jwt.publicKeyFile',
  'auth.jwt.rolesClaim',
  'auth.jwt.clockToleranceSeconds',
  'audit.enabled',
  'audit.inference',
  'encryption.masterKeyFile',
  ...LIMIT_OPTION_KEYS.map((k) => `limits.${k}`),
  ...SIGNING_OPTION_KEYS.map((k) => `signing.${k}`),
  ...INPUT_GUARD_OPTION_KEYS.map((k) => `inputGuards.${k}`),
  ...OUTPUT_OPTION_KEYS.map((k) => `outputs.${k}`),
  ...ABUSE_OPTION_KEYS.map((k) => `abuse.${k}`),
]);

export interface SecurityOptionsContext {
  readonly path?: string;
  readonly reader?: ConfigReader;
}

/** Reads the section into `reader` (problems join the caller's), or throws CORE_INVALID_CONFIG alone. */
export function compileSecurityOptions(input: unknown, context: SecurityOptionsContext = {}): SecurityConfig {
  const base = context.path ?? '';
  const r = context.reader ?? new ConfigReader();
  const o = r.section(input, base, ['auth', 'audit', 'limits', 'encryption', 'signing', 'inputGuards', 'outputs', 'abuse']);
  const aPath = join(base, 'auth');
  const a = r.section(o.auth, aPath, ['enabled', 'dataPlane', 'jwt']);
  const jPath = join(aPath, 'jwt');
  const j = r.section(a.jwt, jPath, ['issuer', 'audience', 'jwksUrl', 'publicKeyFile', 'rolesClaim', 'clockToleranceSeconds']);
  const auPath = join(base, 'audit');
  const au = r.section(o.audit, auPath, ['enabled', 'inference']);
  const jwksUrl = r.string(j.jwksUrl, join(jPath, 'jwksUrl'), '', (v) => (v === '' || /^https?:\/\//.test(v) ? undefined : 'must be an http(s) address'));
  const publicKeyFile = r.string(j.publicKeyFile, join(jPath, 'publicKeyFile'), '');
  if (jwksUrl !== '' && publicKeyFile !== '') r.problem(join(jPath, 'jwksUrl'), 'give jwksUrl or publicKeyFile, not both');
  const jwtConfigured = jwksUrl !== '' || publicKeyFile !== '';
  const jwt: JwtConfig = {
    issuer: r.string(j.issuer, join(jPath, 'issuer'), ''),
    audience: r.string(j.audience, join(jPath, 'audience'), ''),
    jwksUrl,
    publicKeyFile,
    rolesClaim: r.string(j.rolesClaim, join(jPath, 'rolesClaim'), 'roles', (v) => (v.trim() === '' ? 'must not be empty' : undefined)),
    clockToleranceSeconds: r.integer(j.clockToleranceSeconds, join(jPath, 'clockToleranceSeconds'), 30, 0, 3600),
  };
  const config: SecurityConfig = {
    auth: {
      enabled: r.boolean(a.enabled, join(aPath, 'enabled'), true),
      dataPlane: r.oneOf(a.dataPlane, join(aPath, 'dataPlane'), 'required', ['required', 'open']),
      jwt: jwtConfigured ? jwt : undefined,
    },
    audit: {
      enabled: r.boolean(au.enabled, join(auPath, 'enabled'), true),
      inference: r.boolean(au.inference, join(auPath, 'inference'), false),
    },
    limits: readLimits(r, o.limits, join(base, 'limits')),
    encryption: readEncryption(r, o.encryption, join(base, 'encryption')),
    signing: readSigningOptions(r, o.signing, join(base, 'signing')),
    inputGuards: compileInputGuardOptions(r, o.inputGuards, join(base, 'inputGuards')),
    outputs: compileOutputOptions(r, o.outputs, join(base, 'outputs')),
    abuse: readAbuseOptions(r, o.abuse, join(base, 'abuse')),
  };
  if (context.reader === undefined) r.finish('security configuration');
  return deepFreeze(config);
}

/** The encryption subsection: only where the master keyring file is (the keys are never config values). */
function readEncryption(r: ConfigReader, input: unknown, path: string): EncryptionAtRestConfig {
  const e = r.section(input, path, ['masterKeyFile']);
  return { masterKeyFile: r.string(e.masterKeyFile, join(path, 'masterKeyFile'), '', (v) => (v !== '' && v.trim() === '' ? 'must be a file path, or empty for none' : undefined)) };
}

/** The limits subsection, checked by its own compiler; its problems join the reader's. */
function readLimits(r: ConfigReader, input: unknown, path: string): LimitsConfig {
  try {
    return compileLimitOptions(input as Record<string, unknown> | undefined, { path, what: path });
  } catch (error) {
    const problems = (error as PlatformError).details?.problems;
    if (!Array.isArray(problems)) throw error;
    for (const p of problems as ConfigProblem[]) r.problem(p.path, p.message);
    return compileLimitOptions(undefined);
  }
}
