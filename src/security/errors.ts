/** The security domain's error table: authentication, authorization and API keys (docs/security.md). */
import { defineErrors } from '../core/index.js';

export const SecurityErrors = defineErrors({
  SECURITY_UNAUTHENTICATED: {
    kind: 'unauthenticated',
    help: 'The request carries no credentials, or a key or token that is unknown, revoked, expired or malformed; send `Authorization: Bearer <key>` with a valid key (the CLI reads --api-key, $SLIPWAY_API_KEY or the local admin.key).',
  },
  SECURITY_FORBIDDEN: {
    kind: 'forbidden',
    help: 'The key is valid but its roles do not grant the permission this route needs, or its scope does not cover the model or endpoint named; use a key with the role and scope the message names.',
  },
  SECURITY_KEY_NOT_FOUND: {
    kind: 'not_found',
    help: 'No API key has that id; `slipway keys list` shows the ids.',
  },
  SECURITY_KEY_REVOKED: {
    kind: 'conflict',
    help: 'The key was revoked already (or has expired); create a new key instead of rotating this one.',
  },
  SECURITY_INVALID_KEY_SPEC: {
    kind: 'invalid',
    help: 'The key description is not valid: the message names the field (name, roles, scope, expiresAt, limits) and what it must be.',
  },
  SECURITY_BOOTSTRAP_KEY_INVALID: {
    kind: 'invalid',
    help: 'SLIPWAY_BOOTSTRAP_ADMIN_KEY must be at least 24 characters of letters, digits, "-", "_" or "."; set a longer random value or unset it to have one generated.',
  },
  SECURITY_INVALID_TOKEN: {
    kind: 'unauthenticated',
    help: 'The bearer token is a JWT that failed verification (signature, issuer, audience, expiry) or carries no role Slipway knows; the message says which check failed.',
  },
});
