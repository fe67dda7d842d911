/** The tamper-evident audit log: writing it, verifying it and reading it back. */
export { AuditErrors } from './errors.js';
export { openAuditLog, type AuditLog, type AuditLogOptions, type AuditLogStats } from './log.js';
export { verifyAuditLog, type AuditProblem, type AuditVerification, type VerifyAuditLogOptions } from './verify.js';
export { readAuditLog, type ReadAuditLogOptions } from './read.js';
export { AUDIT_OUTCOMES, type AuditCheckpoint, type AuditEntry, type AuditEvent, type AuditOutcome } from './records.js';
