/**
 * Verifying the audit log end to end: every entry's hash, the chain of prev hashes and seqs across
 * segments, every checkpoint's signature and the entry it seals, and `head.json` against the end of
 * the log. The first problem found is reported in a sentence, with where it is.
 */
import { resolve } from 'node:path';
import { toTrustedKeys, type TrustedKeys } from '../signing/index.js';
import {
  checkpointProblem,
  checkpointSignatureStatus,
  entryHashOf,
  entryProblem,
  fileLines,
  HEAD_FILE,
  isPlainObject,
  listSegments,
  readHead,
  segmentName,
  seqOf,
  ZERO_HASH,
  type AuditCheckpoint,
  type AuditEntry,
  type Segment,
} from './records.js';

export interface VerifyAuditLogOptions {
  readonly dir: string;
  /** The public keys checkpoints may be signed with (PEM or KeyObject), e.g. the `.pub` beside the server's key. */
  readonly trustedKeys: TrustedKeys;
}

/** The first thing found wrong, and where. */
export interface AuditProblem {
  /** The entry at fault (for a missing run, the first missing one); null when it cannot be told. */
  readonly seq: number | null;
  /** The segment file name, or `head.json`. */
  readonly segment: string;
  /** The line in that file, from 1; 0 when the problem is a whole file. */
  readonly line: number;
  readonly reason: string;
}

export interface AuditVerification {
  readonly ok: boolean;
  /** Entries and checkpoints checked and found good, up to the first problem. */
  readonly entries: number;
  readonly checkpoints: number;
  readonly lastSeq: number;
  readonly firstBad?: AuditProblem;
}

type LogLine =
  | { readonly kind: 'line'; readonly segment: string; readonly line: number; readonly text: string; readonly complete: boolean }
  | { readonly kind: 'missing'; readonly segment: string; readonly before: string };

/** Every line of every segment in order, with a `missing` item where a segment number is skipped. */
async function* logLines(segments: readonly Segment[]): AsyncGenerator<LogLine> {
  let expected = 1;
  for (const segment of segments) {
    if (segment.index !== expected) yield { kind: 'missing', segment: segmentName(expected), before: segment.name };
    for await (const line of fileLines(segment.path)) yield { kind: 'line', segment: segment.name, ...line };
    expected = segment.index + 1;
  }
}

/** `entry 5` or `entries 5 to 7`. */
const entryRange = (from: number, to: number): string => (from === to ? `entry ${from}` : `entries ${from} to ${to}`);
/** `Entry 5 is` or `Entries 5 to 7 are`, to begin a sentence. */
const entriesAre = (from: number, to: number): string => (from === to ? `Entry ${from} is` : `Entries ${from} to ${to} are`);

/**
 * Reads the rest of the log looking for entry `seq`, to tell a moved entry from a missing one.
 * Returns where it is, or null.
 */
async function findLater(lines: AsyncGenerator<LogLine>, seq: number): Promise<string | null> {
  for await (const item of lines) {
    if (item.kind !== 'line' || !item.complete) continue;
    try {
      const value: unknown = JSON.parse(item.text);
      if (isPlainObject(value) && value.type === undefined && value.seq === seq) return `line ${item.line} of ${item.segment}`;
    } catch {
      // unparseable lines cannot be the entry looked for
    }
  }
  return null;
}

/**
 * Verifies the audit log in `dir` against the trusted keys and reports the first bad entry, line
 * or file: an edited entry, a missing, moved or copied one, a forged checkpoint or one by an
 * untrusted key, a missing segment, a torn or unparseable line, entries no checkpoint seals, and a
 * log that ends before `head.json` says it does. Throws SECURITY_AUDIT_NOT_FOUND when `dir` does
 * not exist.
 */
export async function verifyAuditLog(options: VerifyAuditLogOptions): Promise<AuditVerification> {
  const dir = resolve(options.dir);
  const trusted = toTrustedKeys(options.trustedKeys);
  const segments = await listSegments(dir);
  const head = await readHead(dir);
  const headSeq = head !== null && 'checkpoint' in head ? head.checkpoint.seq : null;

  let entryCount = 0;
  let checkpointCount = 0;
  let last: { seq: number; hash: string; segment: string; line: number } | null = null;
  let unsealed: { seq: number; segment: string; line: number } | null = null;
  let end = { segment: segments.at(-1)?.name ?? segmentName(1), line: 0 };
  let hashAtHead = headSeq === 0 ? ZERO_HASH : null;
  const report = (firstBad?: AuditProblem): AuditVerification => ({
    ok: firstBad === undefined,
    entries: entryCount,
    checkpoints: checkpointCount,
    lastSeq: last?.seq ?? 0,
    ...(firstBad === undefined ? {} : { firstBad }),
  });

  const lines = logLines(segments);
  try {
    for (let next = await lines.next(); next.done !== true; next = await lines.next()) {
      const item = next.value;
      const expected = (last?.seq ?? 0) + 1;
      if (item.kind === 'missing') {
        return report({
          seq: expected,
          segment: item.segment,
          line: 0,
          reason: `Segment ${item.segment} is missing (the next one is ${item.before}), so the entries from ${expected} on that it held are gone.`,
        });
      }
      const at = { segment: item.segment, line: item.line };
      const where = `line ${item.line} of ${item.segment}`;
      const Where = `Line ${item.line} of ${item.segment}`;
      end = at;
      const bad = (seq: number | null, reason: string, place = at): AuditVerification => report({ seq, ...place, reason });
      if (!item.complete) {
        const claimed = /"seq":(\d+)/.exec(item.text)?.[1];
        return bad(claimed === undefined ? null : Number(claimed), `${Where} is incomplete: the log was cut off in the middle of a line, by a torn write or a truncation.`);
      }
      let value: unknown;
      try {
        value = JSON.parse(item.text);
      } catch {
        return bad(null, `${Where} is not valid JSON, so it was damaged or edited.`);
      }
      if (!isPlainObject(value)) return bad(null, `${Where} is not a JSON object, so it was damaged or edited.`);

      if (value.type !== undefined) {
        const problem = checkpointProblem(value, 1);
        if (problem !== null) return bad(seqOf(value), `${Where} is not a valid checkpoint: ${problem}.`);
        const checkpoint = value as unknown as AuditCheckpoint;
        const sealedSeq = last?.seq ?? 0;
        if (checkpoint.seq > sealedSeq) {
          const before = sealedSeq === 0 ? 'no entry comes before it' : `the entry before it is entry ${sealedSeq}`;
          const context = `the checkpoint on ${where} seals entry ${checkpoint.seq}, but ${before}`;
          const later = await findLater(lines, expected);
          return bad(expected, later === null ? `${entriesAre(expected, checkpoint.seq)} missing: ${context}.` : `Entry ${expected} was moved to ${later}: ${context}.`);
        }
        if (checkpoint.seq < sealedSeq) return bad(checkpoint.seq, `The checkpoint of entry ${checkpoint.seq} on ${where} comes after entry ${sealedSeq}, so it was moved or copied.`);
        if (unsealed === null) return bad(checkpoint.seq, `The checkpoint of entry ${checkpoint.seq} on ${where} repeats the one before it, so it was copied.`);
        const status = checkpointSignatureStatus(checkpoint, trusted);
        if (status === 'unknown-key') {
          return bad(checkpoint.seq, `The checkpoint of entry ${checkpoint.seq} on ${where} was signed by key ${checkpoint.keyId}, which is not one of the trusted keys.`);
        }
        if (status === 'bad-signature') return bad(checkpoint.seq, `The checkpoint of entry ${checkpoint.seq} on ${where} has an invalid signature, so it was forged or altered.`);
        if (last !== null && checkpoint.hash !== last.hash) {
          return bad(checkpoint.seq, `Entry ${checkpoint.seq} was rewritten after it was sealed: its hash differs from the one its checkpoint on ${where} signed.`, last);
        }
        checkpointCount += 1;
        unsealed = null;
        continue;
      }

      const seq = seqOf(value);
      if (seq !== null && typeof value.hash === 'string' && entryHashOf(value) !== value.hash) {
        return bad(seq, `Entry ${seq} on ${where} was edited: its hash does not match its content.`);
      }
      const problem = entryProblem(value);
      if (problem !== null) return bad(seq, `${Where} is not a valid audit entry: ${problem}.`);
      const entry = value as unknown as AuditEntry;
      if (entry.seq > expected) {
        const context = `${where} holds entry ${entry.seq} where entry ${expected} belongs`;
        const later = await findLater(lines, expected);
        return bad(expected, later === null ? `${entriesAre(expected, entry.seq - 1)} missing: ${context}.` : `Entry ${expected} was moved to ${later}: ${context}.`);
      }
      if (entry.seq < expected) return bad(entry.seq, `Entry ${entry.seq} on ${where} comes after entry ${expected - 1}, so it was moved or copied.`);
      if (entry.prev !== (last?.hash ?? ZERO_HASH)) {
        return bad(
          entry.seq,
          entry.seq === 1
            ? `Entry 1 on ${where} does not start the chain: its prev hash is not 64 zeros, so it was forged.`
            : `Entry ${entry.seq} on ${where} does not follow entry ${entry.seq - 1}: its prev hash is not entry ${entry.seq - 1}'s hash, so entry ${entry.seq - 1} was rewritten or entry ${entry.seq} was forged.`,
        );
      }
      entryCount += 1;
      last = { seq: entry.seq, hash: entry.hash, ...at };
      unsealed ??= { seq: entry.seq, ...at };
      if (entry.seq === headSeq) hashAtHead = entry.hash;
    }
  } finally {
    await lines.return(undefined);
  }

  const lastSeq = last?.seq ?? 0;
  if (unsealed !== null) {
    return report({
      seq: unsealed.seq,
      segment: unsealed.segment,
      line: unsealed.line,
      reason: `${entriesAre(unsealed.seq, lastSeq)} at the end of the log sealed by no checkpoint: the last write was torn, or ${unsealed.seq === lastSeq ? 'it was' : 'they were'} added outside Slipway.`,
    });
  }
  const atHead = (seq: number | null, reason: string): AuditVerification => report({ seq, segment: HEAD_FILE, line: 0, reason });
  if (head === null) {
    return lastSeq === 0 ? report() : atHead(null, `The file ${HEAD_FILE} is missing, so whole batches cut off the end of the log would go unnoticed; it was deleted.`);
  }
  if ('problem' in head) return atHead(null, `The file ${HEAD_FILE} is not a valid checkpoint: ${head.problem}.`);
  const checkpoint = head.checkpoint;
  const status = checkpointSignatureStatus(checkpoint, trusted);
  if (status === 'unknown-key') return atHead(checkpoint.seq, `The file ${HEAD_FILE} was signed by key ${checkpoint.keyId}, which is not one of the trusted keys.`);
  if (status === 'bad-signature') return atHead(checkpoint.seq, `The file ${HEAD_FILE} has an invalid signature, so it was forged or altered.`);
  if (checkpoint.seq > lastSeq) {
    return report({
      seq: lastSeq + 1,
      segment: end.segment,
      line: end.line + 1,
      reason: `The log was truncated: it ends at entry ${lastSeq}, but ${HEAD_FILE} records a checkpoint of entry ${checkpoint.seq}, so ${entryRange(lastSeq + 1, checkpoint.seq)} ${lastSeq + 1 === checkpoint.seq ? 'is' : 'are'} missing.`,
    });
  }
  if (hashAtHead !== checkpoint.hash) {
    return atHead(checkpoint.seq, `Entry ${checkpoint.seq} does not match ${HEAD_FILE}: its hash differs from the one signed there, so it was rewritten.`);
  }
  return report();
}
