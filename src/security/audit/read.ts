/**
 * Reading the audit log back, oldest first, for `slipway audit export` and `GET /api/v1/audit`.
 * Reading does not verify (see verifyAuditLog); it refuses lines that are not records at all.
 */
import { resolve } from 'node:path';
import { AuditErrors } from './errors.js';
import { fileLines, listSegments, parseRecord, type AuditCheckpoint, type AuditEntry } from './records.js';

export interface ReadAuditLogOptions {
  readonly dir: string;
  /** Only entries at or after this time (ms since the epoch). */
  readonly since?: number;
  /** Only entries before this time (ms since the epoch). */
  readonly until?: number;
  /** Only entries with exactly this action. */
  readonly action?: string;
  /** Only entries with exactly this actor. */
  readonly actor?: string;
  /** Also yield the checkpoints (those in the time range), in their places. Default false. */
  readonly checkpoints?: boolean;
}

function checkQuery(options: ReadAuditLogOptions): void {
  const invalid = (field: string, problem: string): Error => AuditErrors.SECURITY_AUDIT_INVALID_QUERY(`${field}: ${problem}`, { details: { field } });
  for (const field of ['since', 'until'] as const) {
    const value = options[field];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) throw invalid(field, 'expected milliseconds since the epoch');
  }
  for (const field of ['action', 'actor'] as const) {
    const value = options[field];
    if (value !== undefined && typeof value !== 'string') throw invalid(field, 'expected a string');
  }
}

/**
 * The entries of the audit log in `dir` that match every filter given, oldest first; with
 * `checkpoints: true` the checkpoints too. An incomplete last line (a write in progress) is
 * skipped; a line that is no record throws SECURITY_AUDIT_CORRUPT naming it, and a missing
 * directory SECURITY_AUDIT_NOT_FOUND.
 */
export function readAuditLog(options: ReadAuditLogOptions & { readonly checkpoints: true }): AsyncGenerator<AuditEntry | AuditCheckpoint>;
export function readAuditLog(options: ReadAuditLogOptions): AsyncGenerator<AuditEntry>;
export async function* readAuditLog(options: ReadAuditLogOptions): AsyncGenerator<AuditEntry | AuditCheckpoint> {
  checkQuery(options);
  const { since = -Infinity, until = Infinity, action, actor } = options;
  const inRange = (at: string): boolean => {
    const ms = Date.parse(at);
    return ms >= since && ms < until;
  };
  for (const segment of await listSegments(resolve(options.dir))) {
    for await (const { line, text, complete } of fileLines(segment.path)) {
      if (!complete) continue;
      const record = parseRecord(text);
      if (record.kind === 'invalid') {
        throw AuditErrors.SECURITY_AUDIT_CORRUPT(`line ${line} of ${segment.path} is not an audit record: ${record.problem}; run "slipway audit verify" for details`, {
          details: { segment: segment.name, line },
        });
      }
      if (record.kind === 'checkpoint') {
        if (options.checkpoints === true && inRange(record.checkpoint.at)) yield record.checkpoint;
        continue;
      }
      const entry = record.entry;
      if ((action === undefined || entry.action === action) && (actor === undefined || entry.actor === actor) && inRange(entry.at)) yield entry;
    }
  }
}
