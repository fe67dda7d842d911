/**
 * How commands print: readable tables and fields by default, the API's raw JSON with `--json`.
 * Results go to stdout, errors and progress to stderr.
 */
import type { PlatformError, TensorSpec } from '../core/index.js';
import { formatBytes } from '../control/index.js';
import { renderTable } from '../core/text-table.js';
import type { TextOutput } from './io.js';

const MAX_CELL = 60;

/** Shortens a cell to what a table can hold. */
export function truncate(text: string, max = MAX_CELL): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** `2026-03-01T09:00:00.000Z` → `2026-03-01 09:00:00Z`. */
export function formatTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** A tensor's shape with symbolic dimension names: `[batch, 4]`; `?` for an unnamed dynamic one. */
export function formatShape(spec: Pick<TensorSpec, 'shape' | 'dimNames'>): string {
  return `[${spec.shape.map((d, i) => (d >= 0 ? String(d) : (spec.dimNames?.[i] ?? '?'))).join(', ')}]`;
}

/** `{team: risk}` → `team=risk`. */
export function formatTags(tags: Readonly<Record<string, string>>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

export { formatBytes };

export { renderTable };

/** Aligned `Label  value` lines; undefined values are left out. */
export function renderFields(pairs: readonly (readonly [string, string | undefined])[]): string {
  const shown = pairs.filter((p): p is readonly [string, string] => p[1] !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${k.padEnd(width)}  ${v}`.trimEnd()).join('\n') + '\n';
}

/** The printer every command uses. */
export class Output {
  constructor(
    readonly stdout: TextOutput,
    readonly stderr: TextOutput,
    readonly json: boolean,
  ) {}

  /** With --json prints `value` as the API returned it; otherwise runs the readable rendering. */
  result(value: unknown, readable: () => void): void {
    if (this.json) this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else readable();
  }

  line(text = ''): void {
    this.stdout.write(`${text}\n`);
  }

  table(headers: readonly string[], rows: readonly (readonly string[])[], empty: string): void {
    this.stdout.write(rows.length === 0 ? `${empty}\n` : renderTable(headers, rows));
  }

  fields(pairs: readonly (readonly [string, string | undefined])[]): void {
    this.stdout.write(renderFields(pairs));
  }

  /** A note for the person at the terminal (stderr, so stdout stays clean for pipes). */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  /** Reports a failure: a readable line, or the `{error, code, details}` body with --json. */
  error(error: PlatformError): void {
    if (this.json) {
      const body = { error: error.message, code: error.code, ...(error.details === undefined ? {} : { details: error.details }) };
      this.stderr.write(`${JSON.stringify(body)}\n`);
      return;
    }
    const retry = error.retryAfterSeconds === undefined ? '' : ` (retry after ${error.retryAfterSeconds} s)`;
    this.stderr.write(`slipway: ${error.message}${retry} [${error.code}]\n`);
  }
}

/**
 * An upload progress line on stderr, redrawn in place: only for a person watching (a TTY) and for
 * files large enough to take a moment.
 */
export function progressReporter(stderr: TextOutput, label: string, totalBytes: number, minBytes = 1024 * 1024): { update(sent: number): void; done(): void } {
  if (stderr.isTTY !== true || totalBytes < minBytes) return { update: () => undefined, done: () => undefined };
  let lastPercent = -1;
  let drawn = false;
  return {
    update(sent) {
      const percent = Math.floor((sent / totalBytes) * 100);
      if (percent === lastPercent) return;
      lastPercent = percent;
      drawn = true;
      stderr.write(`\r\x1b[KUploading ${label}  ${String(percent).padStart(3)}%  ${formatBytes(sent)} / ${formatBytes(totalBytes)}`);
    },
    done() {
      if (drawn) stderr.write('\r\x1b[K');
    },
  };
}
