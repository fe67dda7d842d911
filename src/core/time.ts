/**
 * Durations and times as people write them, one grammar for the whole product: a duration is whole
 * days, hours, minutes and seconds in that order (`30s`, `5m`, `1h30m`, `7d`) or a whole number of
 * seconds; a time is ISO-8601, milliseconds since the epoch, or a duration ago (`24h`).
 */

export const DURATION_RULE = "a duration such as '30s', '5m', '1h', '1h30m', '7d', or a whole number of seconds";

/** The time forms, for messages and help. */
export const TIME_RULE = 'an ISO-8601 time (2026-03-03T12:00:00Z, 2026-03-03), milliseconds since the epoch, or a duration ago (30m, 24h, 7d, 1d12h)';

const DURATION = /^(?:(\d{1,6})d)?(?:(\d{1,7})h)?(?:(\d{1,9})m)?(?:(\d{1,9})s)?$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const EPOCH_MS = /^\d{1,15}$/;

/**
 * The number of seconds a duration stands for, or undefined when `value` is not one. A number must
 * be a whole number of seconds; a string must use the units (a bare `'5'` is refused, so that `5`
 * and `'5'` cannot mean different things by accident).
 */
export function parseDurationSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string' || value === '') return undefined;
  const m = DURATION.exec(value);
  if (m === null) return undefined;
  const [, d, h, min, s] = m;
  return Number(d ?? 0) * 86_400 + Number(h ?? 0) * 3600 + Number(min ?? 0) * 60 + Number(s ?? 0);
}

/** Seconds written back as a duration (`90` → `1m30s`, `90000` → `1d1h`, `0` → `0s`). */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${d > 0 ? `${d}d` : ''}${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 ? `${s}s` : ''}`;
}

/** A time as given ({@link TIME_RULE}) in ms since the epoch — a duration counts back from `nowMs` — or undefined when it is none. */
export function parseTime(text: string, nowMs: number): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  // whole numbers are epoch milliseconds here, never seconds ago
  if (EPOCH_MS.test(t)) return Number(t);
  if (ISO_TIME.test(t)) {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? undefined : ms;
  }
  const seconds = parseDurationSeconds(t);
  return seconds === undefined ? undefined : nowMs - seconds * 1000;
}
