/**
 * The audit log's records and files: entries, checkpoints, their hashes, signatures and lines,
 * the segment files they live in, and `head.json`.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PlatformError } from '../../core/index.js';
import { canonicalJson, SIGNING_KEY_ID_PATTERN, signCanonical, verifyCanonical, type SigningKey } from '../signing/index.js';
import { writeFileAtomic } from '../../core/files.js';
import { AuditErrors } from './errors.js';

export type AuditOutcome = 'ok' | 'denied' | 'failed';
export const AUDIT_OUTCOMES: readonly AuditOutcome[] = ['ok', 'denied', 'failed'];

/** Something that happened, as the caller reports it. */
export interface AuditEvent {
  /** What was done, e.g. `alias.move` or `auth.login`. */
  readonly action: string;
  /** Who did it: a principal id, `anonymous`, or `system`. */
  readonly actor: string;
  readonly outcome: AuditOutcome;
  /** What it was done to, e.g. `model/fraud@3`. */
  readonly target?: string;
  readonly requestId?: string;
  readonly ip?: string;
  readonly details?: Record<string, unknown>;
}

/** An event as recorded: numbered, timed and chained to the entry before it. */
export interface AuditEntry extends AuditEvent {
  /** 1, 2, 3… across the whole log. */
  readonly seq: number;
  /** ISO-8601 time of the append call. */
  readonly at: string;
  /** The hash of the previous entry; 64 zeros for entry 1. */
  readonly prev: string;
  /** SHA-256 (hex) of the canonical JSON of this entry without its hash. */
  readonly hash: string;
}

/** A signed statement that the log held entries up to `seq`, the last of them hashing to `hash`. */
export interface AuditCheckpoint {
  readonly type: 'checkpoint';
  readonly seq: number;
  readonly hash: string;
  readonly at: string;
  readonly keyId: string;
  /** Ed25519 over the canonical JSON of the other fields, base64. */
  readonly signature: string;
}

export const ZERO_HASH = '0'.repeat(64);
export const HEAD_FILE = 'head.json';

const HEX64 = /^[0-9a-f]{64}$/;
const SIGNATURE_BASE64 = /^[A-Za-z0-9+/]{86}==$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const ENTRY_FIELDS = new Set(['seq', 'at', 'action', 'actor', 'outcome', 'target', 'requestId', 'ip', 'details', 'prev', 'hash']);
const CHECKPOINT_FIELDS = new Set(['type', 'seq', 'hash', 'at', 'keyId', 'signature']);

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The hash an entry must carry: SHA-256 hex of the canonical JSON of every field but `hash`. */
export function entryHashOf(entry: Record<string, unknown>): string {
  const { hash: _hash, ...rest } = entry;
  return createHash('sha256').update(canonicalJson(rest), 'utf8').digest('hex');
}

/** An entry's line (without newline), fields in reading order. */
export function entryLine(entry: AuditEntry): string {
  const { seq, at, action, actor, outcome, target, requestId, ip, details, prev, hash } = entry;
  return JSON.stringify({ seq, at, action, actor, outcome, target, requestId, ip, details, prev, hash });
}

/** A checkpoint's line (without newline). */
export function checkpointLine(checkpoint: AuditCheckpoint): string {
  const { type, seq, hash, at, keyId, signature } = checkpoint;
  return JSON.stringify({ type, seq, hash, at, keyId, signature });
}

/** Signs a checkpoint of entry `seq` (whose hash is `hash`) with the log's key. */
export function signCheckpoint(seq: number, hash: string, at: string, key: SigningKey): AuditCheckpoint {
  const unsigned = { type: 'checkpoint' as const, seq, hash, at, keyId: key.keyId };
  return { ...unsigned, signature: signCanonical(unsigned, key.privateKey) };
}

/** Whether a checkpoint's signature is by one of the trusted keys and valid. */
export function checkpointSignatureStatus(checkpoint: AuditCheckpoint, trusted: ReadonlyMap<string, KeyObject>): 'ok' | 'unknown-key' | 'bad-signature' {
  const publicKey = trusted.get(checkpoint.keyId);
  if (publicKey === undefined) return 'unknown-key';
  const { signature, ...unsigned } = checkpoint;
  return verifyCanonical(unsigned, signature, publicKey) ? 'ok' : 'bad-signature';
}

/** The seq a record claims, when it claims a whole number. */
export function seqOf(value: Record<string, unknown>): number | null {
  return Number.isSafeInteger(value.seq) ? (value.seq as number) : null;
}

function fieldProblem(value: Record<string, unknown>, allowed: ReadonlySet<string>): string | null {
  const unknown = Object.keys(value).find((key) => !allowed.has(key));
  return unknown === undefined ? null : `it has the unknown field "${unknown}"`;
}

function optionalString(value: Record<string, unknown>, field: string): string | null {
  return value[field] === undefined || typeof value[field] === 'string' ? null : `its ${field} is not a string`;
}

/** What is wrong with a parsed entry line, or null when it has the shape of an entry. */
export function entryProblem(value: Record<string, unknown>): string | null {
  const seq = seqOf(value);
  if (seq === null || seq < 1) return 'its seq is not a whole number from 1 up';
  if (typeof value.at !== 'string' || !ISO_TIME.test(value.at)) return 'its at is not an ISO-8601 UTC time';
  if (typeof value.action !== 'string' || value.action === '') return 'its action is not a non-empty string';
  if (typeof value.actor !== 'string' || value.actor === '') return 'its actor is not a non-empty string';
  if (!(AUDIT_OUTCOMES as readonly unknown[]).includes(value.outcome)) return 'its outcome is not ok, denied or failed';
  if (value.details !== undefined && !isPlainObject(value.details)) return 'its details are not an object';
  if (typeof value.prev !== 'string' || !HEX64.test(value.prev)) return 'its prev is not 64 hex digits';
  if (typeof value.hash !== 'string' || !HEX64.test(value.hash)) return 'its hash is not 64 hex digits';
  return optionalString(value, 'target') ?? optionalString(value, 'requestId') ?? optionalString(value, 'ip') ?? fieldProblem(value, ENTRY_FIELDS);
}

/** What is wrong with a parsed checkpoint, or null when it has the shape of one (seq at least `minSeq`). */
export function checkpointProblem(value: Record<string, unknown>, minSeq: number): string | null {
  const seq = seqOf(value);
  if (value.type !== 'checkpoint') return 'its type is not "checkpoint"';
  if (seq === null || seq < minSeq) return `its seq is not a whole number from ${minSeq} up`;
  if (typeof value.hash !== 'string' || !HEX64.test(value.hash)) return 'its hash is not 64 hex digits';
  if (typeof value.at !== 'string' || !ISO_TIME.test(value.at)) return 'its at is not an ISO-8601 UTC time';
  if (typeof value.keyId !== 'string' || !SIGNING_KEY_ID_PATTERN.test(value.keyId)) return 'its keyId is not "ed25519:" and 16 hex digits';
  if (typeof value.signature !== 'string' || !SIGNATURE_BASE64.test(value.signature)) return 'its signature is not 64 bytes of base64';
  return fieldProblem(value, CHECKPOINT_FIELDS);
}

/** A line parsed into an entry or checkpoint, or why it is neither. */
export type ParsedRecord =
  | { readonly kind: 'entry'; readonly entry: AuditEntry }
  | { readonly kind: 'checkpoint'; readonly checkpoint: AuditCheckpoint }
  | { readonly kind: 'invalid'; readonly seq: number | null; readonly problem: string };

/** Parses one line of a segment and checks its shape (not its hash or signature). */
export function parseRecord(text: string): ParsedRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'invalid', seq: null, problem: 'it is not valid JSON' };
  }
  if (!isPlainObject(value)) return { kind: 'invalid', seq: null, problem: 'it is not a JSON object' };
  if (value.type !== undefined) {
    const problem = checkpointProblem(value, 1);
    return problem === null ? { kind: 'checkpoint', checkpoint: value as unknown as AuditCheckpoint } : { kind: 'invalid', seq: seqOf(value), problem };
  }
  const problem = entryProblem(value);
  return problem === null ? { kind: 'entry', entry: value as unknown as AuditEntry } : { kind: 'invalid', seq: seqOf(value), problem };
}

/** A segment file of the log. */
export interface Segment {
  readonly index: number;
  readonly name: string;
  readonly path: string;
}

const SEGMENT_NAME = /^audit-(\d{6,})\.jsonl$/;

/** `audit-000001.jsonl` for 1. */
export function segmentName(index: number): string {
  return `audit-${String(index).padStart(6, '0')}.jsonl`;
}

/** The segment files in `dir`, in order. Throws SECURITY_AUDIT_NOT_FOUND when `dir` does not exist. */
export async function listSegments(dir: string): Promise<Segment[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw AuditErrors.SECURITY_AUDIT_NOT_FOUND(`the audit log directory ${dir} does not exist`, { details: { dir } });
    }
    throw error;
  }
  const segments: Segment[] = [];
  for (const name of names) {
    const match = SEGMENT_NAME.exec(name);
    if (match?.[1] !== undefined) segments.push({ index: Number(match[1]), name, path: join(dir, name) });
  }
  return segments.sort((a, b) => a.index - b.index);
}

/** One line of a file, numbered from 1; `complete` is false for text after the last newline. */
export interface FileLine {
  readonly line: number;
  readonly text: string;
  readonly complete: boolean;
}

/** The lines of a file, streamed. */
export async function* fileLines(path: string): AsyncGenerator<FileLine> {
  let pending: Buffer[] = [];
  let line = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      pending.push(chunk.subarray(start, nl));
      yield { line: ++line, text: Buffer.concat(pending).toString('utf8'), complete: true };
      pending = [];
      start = nl + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length > 0) yield { line: ++line, text: Buffer.concat(pending).toString('utf8'), complete: false };
}

/** `head.json`: missing (null), a checkpoint, or why it is not one. */
export type HeadState = null | { readonly checkpoint: AuditCheckpoint } | { readonly problem: string };

/** Reads `<dir>/head.json`. */
export async function readHead(dir: string): Promise<HeadState> {
  let text: string;
  try {
    text = await readFile(join(dir, HEAD_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'it is not valid JSON' };
  }
  if (!isPlainObject(value)) return { problem: 'it is not a JSON object' };
  const problem = checkpointProblem(value, 0);
  return problem === null ? { checkpoint: value as unknown as AuditCheckpoint } : { problem };
}

/** Replaces `<dir>/head.json` with `checkpoint`, atomically. */
export async function writeHead(dir: string, checkpoint: AuditCheckpoint): Promise<void> {
  await writeFileAtomic(join(dir, HEAD_FILE), `${JSON.stringify(checkpoint, null, 2)}\n`, 0o600);
}

/** Wraps a file system failure as SECURITY_AUDIT_UNWRITABLE, keeping PlatformErrors as they are. */
export function unwritable(what: string, error: unknown): PlatformError {
  if (error instanceof PlatformError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return AuditErrors.SECURITY_AUDIT_UNWRITABLE(`${what}: ${reason}`, { cause: error });
}
