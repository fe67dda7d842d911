/**
 * Signed artifacts: the signature file, the trusted keys, the verifier the registry uses, and the
 * policy that decides at every load (decideArtifactLoad) with the check around it.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createFakeClock, PlatformError } from '../../../src/core/index.js';
import type { ModelVersion, VersionSignature } from '../../../src/registry/index.js';
import { compileSecurityOptions } from '../../../src/security/index.js';
import {
  createArtifactLoadCheck,
  createSignatureVerifier,
  decideArtifactLoad,
  DEFAULT_SIGNING_CONFIG,
  generateSigningKeyPair,
  loadTrustedSigningKeys,
  parseSignatureDocument,
  readSigningKey,
  signArtifactDocument,
  signaturePolicyOf,
  type ArtifactLoadFacts,
  type ArtifactRefusalEvent,
  type ArtifactSigningConfig,
} from '../../../src/security/signing/index.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const OTHER = `sha256:${'cd'.repeat(32)}`;
const clock = createFakeClock(Date.UTC(2026, 2, 1, 9));

function keyPair(): { privateKey: KeyObject; publicKey: KeyObject; keyId: string; publicKeyPem: string; privateKeyPem: string } {
  const pair = generateSigningKeyPair();
  return { ...pair, privateKey: createPrivateKey(pair.privateKeyPem), publicKey: createPublicKey(pair.publicKeyPem) };
}

const trusted = keyPair();
const stranger = keyPair();
const TRUSTED = new Map([[trusted.keyId, trusted.publicKey]]);

function sign(digest = DIGEST, by = trusted, extra: { model?: string; metadata?: Record<string, unknown> } = { model: 'fraud' }): VersionSignature {
  return signArtifactDocument({ digest, ...extra }, by.privateKey, clock);
}

function facts(overrides: Partial<ArtifactLoadFacts> = {}): ArtifactLoadFacts {
  return { endpoint: 'scorer', model: 'fraud', version: 2, digest: DIGEST, actualDigest: DIGEST, signature: undefined, requireSignature: false, trustedKeys: TRUSTED, ...overrides };
}

function refusalOf(decision: ReturnType<typeof decideArtifactLoad>): { code: string; reason: string; message: string } {
  assert.equal(decision.allowed, false, 'expected a refusal');
  if (decision.allowed) throw new Error('unreachable');
  return decision;
}

describe('the signature file', () => {
  test('signs the digest, model and metadata and reads back what it wrote', () => {
    const document = sign(DIGEST, trusted, { model: 'fraud', metadata: { commit: 'abc123', stage: 'prod' } });
    assert.deepEqual(Object.keys(document).sort(), ['algorithm', 'digest', 'keyId', 'metadata', 'model', 'signature', 'signedAt']);
    assert.equal(document.keyId, trusted.keyId);
    assert.equal(document.signedAt, '2026-03-01T09:00:00.000Z');
    assert.deepEqual(parseSignatureDocument(JSON.stringify(document)), document);
    assert.equal(createSignatureVerifier(TRUSTED).check(document).status, 'verified');
  });

  test('refuses a malformed file naming the field', () => {
    const good = sign();
    const cases: [unknown, string][] = [
      ['{not json', '(document)'],
      [[1, 2], '(document)'],
      [{ ...good, extra: 1 }, 'extra'],
      [{ ...good, digest: 'sha256:xyz' }, 'digest'],
      [{ ...good, model: 7 }, 'model'],
      [{ ...good, metadata: 'text' }, 'metadata'],
      [{ ...good, metadata: { big: 'x'.repeat(5000) } }, 'metadata'],
      [{ ...good, keyId: 'rsa:1' }, 'keyId'],
      [{ ...good, signedAt: 'yesterday' }, 'signedAt'],
      [{ ...good, signature: 'short' }, 'signature'],
      [{ ...good, algorithm: 'rsa' }, 'algorithm'],
    ];
    for (const [value, field] of cases) {
      assert.throws(
        () => parseSignatureDocument(value),
        (error: unknown) => error instanceof PlatformError && error.code === 'SECURITY_SIGNATURE_MALFORMED' && error.details?.field === field,
        `field ${field}`,
      );
    }
  });
});

describe('the verifier the registry and the API use', () => {
  const verifier = createSignatureVerifier(TRUSTED);

  test('verifies a trusted key, calls an unknown key untrusted, and an altered signature invalid', () => {
    assert.deepEqual(verifier.check(sign()), { status: 'verified', keyId: trusted.keyId });
    const foreign = verifier.check(sign(DIGEST, stranger));
    assert.equal(foreign.status, 'untrusted');
    assert.equal(foreign.keyId, stranger.keyId);
    const altered = verifier.check({ ...sign(), model: 'other-model' });
    assert.equal(altered.status, 'invalid');
    assert.match(altered.status === 'invalid' ? altered.message : '', /does not match/);
    assert.equal(verifier.check({ ...sign(), digest: OTHER }).status, 'invalid');
    assert.equal(verifier.check({ ...sign(), signedAt: '2030-01-01T00:00:00.000Z' }).status, 'invalid');
  });
});

describe('decideArtifactLoad: the policy at every load', () => {
  test('loads an unsigned artifact whose bytes are intact where no signature is required', () => {
    assert.deepEqual(decideArtifactLoad(facts()), { allowed: true, signedBy: null });
  });

  test('loads a signed artifact and names the trusted key that signed it', () => {
    assert.deepEqual(decideArtifactLoad(facts({ signature: sign(), requireSignature: true })), { allowed: true, signedBy: trusted.keyId });
  });

  test('refuses bytes that no longer hash to the recorded digest, signed or not, required or not', () => {
    for (const signature of [undefined, sign()]) {
      for (const requireSignature of [false, true]) {
        const r = refusalOf(decideArtifactLoad(facts({ actualDigest: OTHER, signature, requireSignature })));
        assert.equal(r.code, 'SECURITY_ARTIFACT_TAMPERED');
        assert.equal(r.reason, 'digest-mismatch');
        assert.match(r.message, new RegExp(`fraud:2 has been altered: it hashes to ${OTHER}, but ${DIGEST} was recorded`));
      }
    }
  });

  test('refuses a blob that is missing or cannot be read back, saying why', () => {
    const r = refusalOf(decideArtifactLoad(facts({ actualDigest: null, readError: 'the data key does not decrypt' })));
    assert.equal(r.code, 'SECURITY_ARTIFACT_TAMPERED');
    assert.equal(r.reason, 'unreadable');
    assert.match(r.message, /cannot be read back intact \(the data key does not decrypt\)/);
  });

  test('refuses a signature that does not hold even where none is required', () => {
    const altered = { ...sign(), metadata: { injected: true } };
    const r = refusalOf(decideArtifactLoad(facts({ signature: altered })));
    assert.equal(r.code, 'SECURITY_SIGNATURE_REJECTED');
    assert.equal(r.reason, 'bad-signature');
  });

  test('refuses a stored signature made for other bytes or another model', () => {
    const forOther = refusalOf(decideArtifactLoad(facts({ signature: sign(OTHER) })));
    assert.equal(forOther.code, 'SECURITY_SIGNATURE_REJECTED');
    assert.equal(forOther.reason, 'signature-mismatch');
    const otherModel = refusalOf(decideArtifactLoad(facts({ signature: sign(DIGEST, trusted, { model: 'churn' }) })));
    assert.equal(otherModel.reason, 'signature-mismatch');
    assert.match(otherModel.message, /bound to model "churn"/);
  });

  test('requires a signature where the policy says so: unsigned and untrusted keys are refused', () => {
    const unsigned = refusalOf(decideArtifactLoad(facts({ requireSignature: true, policySetting: 'security.signing.endpoints.scorer.requireSignature' })));
    assert.equal(unsigned.code, 'SECURITY_SIGNATURE_REQUIRED');
    assert.equal(unsigned.reason, 'unsigned');
    assert.match(unsigned.message, /endpoint "scorer" loads only artifacts signed by a trusted key \(security\.signing\.endpoints\.scorer\.requireSignature\), and fraud:2 is not signed/);
    const foreign = refusalOf(decideArtifactLoad(facts({ requireSignature: true, signature: sign(DIGEST, stranger) })));
    assert.equal(foreign.code, 'SECURITY_SIGNATURE_REQUIRED');
    assert.equal(foreign.reason, 'untrusted-key');
    assert.match(foreign.message, new RegExp(`signed by ${stranger.keyId}, which is not one of the 1 trusted keys`));
  });

  test('ignores a signature by an untrusted key where none is required', () => {
    assert.deepEqual(decideArtifactLoad(facts({ signature: sign(DIGEST, stranger) })), { allowed: true, signedBy: null });
  });

  test('with no trusted keys at all, a required signature can never be met', () => {
    const r = refusalOf(decideArtifactLoad(facts({ requireSignature: true, signature: sign(), trustedKeys: new Map() })));
    assert.equal(r.reason, 'untrusted-key');
  });
});

describe('the signing configuration', () => {
  test('defaults to nothing trusted and nothing required', () => {
    assert.deepEqual(compileSecurityOptions(undefined).signing, DEFAULT_SIGNING_CONFIG);
  });

  test('reads keys, the directory, the global policy and per-endpoint overrides', () => {
    const config = compileSecurityOptions({
      signing: { trustedKeys: ['a.pub', '/keys/b.pub'], trustedKeysDir: '/etc/slipway/keys', requireSignature: 'true', endpoints: { open: { requireSignature: false }, strict: {} } },
    }).signing;
    assert.deepEqual(config, {
      trustedKeys: ['a.pub', '/keys/b.pub'],
      trustedKeysDir: '/etc/slipway/keys',
      requireSignature: true,
      endpoints: { open: { requireSignature: false }, strict: { requireSignature: true } },
    });
    assert.deepEqual(signaturePolicyOf(config, 'open'), { required: false, setting: 'security.signing.endpoints.open.requireSignature' });
    assert.deepEqual(signaturePolicyOf(config, 'other'), { required: true, setting: 'security.signing.requireSignature' });
    assert.deepEqual(signaturePolicyOf(config, 'constructor'), { required: true, setting: 'security.signing.requireSignature' });
  });

  test('reports every problem by its path', () => {
    assert.throws(
      () => compileSecurityOptions({ signing: { trustedKeys: 'one.pub', requireSignature: 'maybe', endpoints: { Bad_Name: {}, ok: { requireSignature: 1, other: true } }, extra: 1 } }),
      (error: unknown) => {
        assert.ok(error instanceof PlatformError);
        const paths = (error.details?.problems as { path: string }[]).map((p) => p.path).sort();
        assert.deepEqual(paths, [
          'signing.endpoints.Bad_Name',
          'signing.endpoints.ok.other',
          'signing.endpoints.ok.requireSignature',
          'signing.extra',
          'signing.requireSignature',
          'signing.trustedKeys',
        ]);
        return true;
      },
    );
  });
});

describe('trusted keys from files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-trust-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  test('reads the listed files and the .pub files of the directory', async () => {
    await writeFile(join(dir, 'listed.pem'), trusted.publicKeyPem);
    await mkdir(join(dir, 'keys'));
    await writeFile(join(dir, 'keys', 'team.pub'), stranger.publicKeyPem);
    await writeFile(join(dir, 'keys', 'README'), 'not a key');
    const keys = await loadTrustedSigningKeys({ trustedKeys: [join(dir, 'listed.pem')], trustedKeysDir: join(dir, 'keys') });
    assert.deepEqual([...keys.keys.keys()].sort(), [trusted.keyId, stranger.keyId].sort());
    assert.equal(keys.files.get(stranger.keyId), join(dir, 'keys', 'team.pub'));
  });

  test('fails naming the file that is missing, not a public key, or a private key', async () => {
    const named = (file: string, code: string) => (error: unknown) => error instanceof PlatformError && error.code === code && error.message.includes(file);
    const missing = join(dir, 'missing.pub');
    await assert.rejects(loadTrustedSigningKeys({ trustedKeys: [missing], trustedKeysDir: '' }), named(missing, 'SECURITY_SIGNATURE_KEY_UNREADABLE'));
    const junk = join(dir, 'junk.pub');
    await writeFile(junk, 'hello');
    await assert.rejects(loadTrustedSigningKeys({ trustedKeys: [junk], trustedKeysDir: '' }), named(junk, 'SECURITY_SIGNATURE_BAD_KEY'));
    await mkdir(join(dir, 'keys'));
    const secret = join(dir, 'keys', 'oops.pub');
    await writeFile(secret, trusted.privateKeyPem);
    await assert.rejects(loadTrustedSigningKeys({ trustedKeys: [], trustedKeysDir: join(dir, 'keys') }), named(secret, 'SECURITY_SIGNATURE_BAD_KEY'));
    const noDir = join(dir, 'no-such-dir');
    await assert.rejects(loadTrustedSigningKeys({ trustedKeys: [], trustedKeysDir: noDir }), named(noDir, 'SECURITY_SIGNATURE_KEY_UNREADABLE'));
  });

  test('reads a private key to sign with, and refuses a missing file instead of creating one', async () => {
    const path = join(dir, 'signing.key');
    await writeFile(path, trusted.privateKeyPem);
    await chmod(path, 0o600);
    assert.equal((await readSigningKey(path)).keyId, trusted.keyId);
    await assert.rejects(readSigningKey(join(dir, 'nope.key')), (error: unknown) => error instanceof PlatformError && error.code === 'SECURITY_SIGNATURE_KEY_UNREADABLE');
    await writeFile(join(dir, 'pub.key'), trusted.publicKeyPem);
    await assert.rejects(readSigningKey(join(dir, 'pub.key')), (error: unknown) => error instanceof PlatformError && error.code === 'SECURITY_SIGNATURE_BAD_KEY');
  });
});

describe('the check before every load', () => {
  const version = (signature?: VersionSignature): ModelVersion =>
    ({ model: 'fraud', version: 2, digest: DIGEST, ...(signature === undefined ? {} : { artifactSignature: signature }) }) as unknown as ModelVersion;

  function setup(options: { signature?: VersionSignature; actual?: string | null; verifyThrows?: boolean; config?: Partial<ArtifactSigningConfig>; reportThrows?: boolean }) {
    const events: ArtifactRefusalEvent[] = [];
    const logged: string[] = [];
    const calls: string[] = [];
    const check = createArtifactLoadCheck({
      registry: {
        getVersion: async () => version(options.signature),
        verifyArtifact: async (model, v) => {
          calls.push(`${model}:${v}`);
          if (options.verifyThrows === true) throw new Error('authentication tag mismatch');
          const actualDigest = options.actual === undefined ? DIGEST : options.actual;
          return { digest: DIGEST, ok: actualDigest === DIGEST, actualDigest };
        },
      },
      config: { ...DEFAULT_SIGNING_CONFIG, ...options.config },
      trustedKeys: TRUSTED,
      onRefused: async (event) => {
        if (options.reportThrows === true) throw new Error('audit log closed');
        events.push(event);
      },
      logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (_o, m) => void logged.push(m ?? '') },
    });
    return { check, events, logged, calls };
  }

  test('re-hashes through the registry and lets an intact, unsigned artifact load', async () => {
    const s = setup({});
    await s.check('scorer', 'fraud', 2);
    assert.deepEqual(s.calls, ['fraud:2']);
    assert.deepEqual(s.events, []);
  });

  test('refuses a tampered artifact with its error, after reporting the refusal', async () => {
    const s = setup({ actual: OTHER });
    await assert.rejects(s.check('scorer', 'fraud', 2), (error: unknown) => {
      assert.ok(error instanceof PlatformError);
      assert.equal(error.code, 'SECURITY_ARTIFACT_TAMPERED');
      assert.deepEqual(error.details, { endpoint: 'scorer', model: 'fraud', version: 2, reason: 'digest-mismatch', digest: DIGEST, actualDigest: OTHER });
      return true;
    });
    assert.equal(s.events.length, 1);
    assert.equal(s.events[0]?.code, 'SECURITY_ARTIFACT_TAMPERED');
    assert.equal(s.events[0]?.actualDigest, OTHER);
  });

  test('treats a blob that cannot be read back as tampered', async () => {
    const s = setup({ verifyThrows: true });
    await assert.rejects(s.check('scorer', 'fraud', 2), /cannot be read back intact \(authentication tag mismatch\)/);
    assert.equal(s.events[0]?.reason, 'unreadable');
  });

  test('applies the endpoint’s own policy over the global one', async () => {
    const config = { requireSignature: true, endpoints: { lenient: { requireSignature: false } } };
    await assert.rejects(setup({ config }).check('scorer', 'fraud', 2), (error: unknown) => error instanceof PlatformError && error.code === 'SECURITY_SIGNATURE_REQUIRED');
    await setup({ config }).check('lenient', 'fraud', 2);
    await setup({ config, signature: sign() }).check('scorer', 'fraud', 2);
  });

  test('still refuses when reporting fails, and logs that it could not report', async () => {
    const s = setup({ actual: OTHER, reportThrows: true });
    await assert.rejects(s.check('scorer', 'fraud', 2), (error: unknown) => error instanceof PlatformError && error.code === 'SECURITY_ARTIFACT_TAMPERED');
    assert.deepEqual(s.logged, ['could not report a refused artifact']);
  });
});
