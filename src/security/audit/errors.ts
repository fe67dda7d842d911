/** The error table of the audit log: appending to it, opening it, and reading it back. */
import { defineErrors } from '../../core/index.js';

export const AuditErrors = defineErrors({
  SECURITY_AUDIT_INVALID_EVENT: {
    kind: 'invalid',
    help: 'An audit event needs a non-empty action and actor, an outcome of ok, denied or failed, optional target, requestId and ip strings, and details that canonical JSON can write; the message names the bad field.',
  },
  SECURITY_AUDIT_UNWRITABLE: {
    kind: 'internal',
    help: 'The audit log directory or one of its files could not be created, written or flushed (disk full, permissions, read-only file system); the action that was being audited did not count as recorded. Fix the cause named in the message.',
  },
  SECURITY_AUDIT_CORRUPT: {
    kind: 'conflict',
    help: 'The audit log on disk is inconsistent in a way that no crash explains (an edited or truncated tail, a missing head.json); run "slipway audit verify" to see the first bad entry, and keep the directory as evidence before moving it aside.',
  },
  SECURITY_AUDIT_CLOSED: {
    kind: 'unavailable',
    help: 'The audit log was closed because the server is stopping, so it takes no more entries.',
  },
  SECURITY_AUDIT_NOT_FOUND: {
    kind: 'not_found',
    help: 'The audit log directory named in the message does not exist; check the data directory path.',
  },
  SECURITY_AUDIT_INVALID_QUERY: {
    kind: 'invalid',
    help: 'An audit query takes since and until as milliseconds since the epoch and action and actor as exact strings; the message names the bad one.',
  },
});
