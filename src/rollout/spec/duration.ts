/**
 * Durations in specs: the product's one grammar (src/core/time.ts) — a whole number of seconds
 * (`90`), or a string of whole days, hours, minutes and seconds in that order (`30s`, `5m`, `1h`,
 * `1h30m`). No fractions, no `ms`, no bare numeric strings.
 */
export { DURATION_RULE, formatDuration, parseDurationSeconds } from '../../core/time.js';
