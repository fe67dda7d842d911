/**
 * Durations in specs: a whole number of seconds (`90`), or a string of whole hours, minutes and
 * seconds in that order (`30s`, `5m`, `1h`, `1h30m`). Nothing else — no fractions, no `ms`, no
 * days, no bare numeric strings — so that `5` and `'5'` cannot mean different things by accident.
 */

export const DURATION_RULE = "a duration such as '30s', '5m', '1h', '1h30m', or a whole number of seconds";

const PATTERN = /^(?:(\d{1,9})h)?(?:(\d{1,9})m)?(?:(\d{1,9})s)?$/;

/** The number of seconds a duration stands for, or undefined when `value` is not one. */
export function parseDurationSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string' || value === '') return undefined;
  const m = PATTERN.exec(value);
  if (m === null) return undefined;
  const [, h, min, s] = m;
  return Number(h ?? 0) * 3600 + Number(min ?? 0) * 60 + Number(s ?? 0);
}

/** Writes seconds back in the spec's form (`90` → `1m30s`), for messages and `slipway rollout status`. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 ? `${s}s` : ''}`;
}
