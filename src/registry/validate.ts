/**
 * Checks on what callers send to the registry. Inputs arrive from JSON bodies, so every check
 * takes `unknown` and names the field it refused.
 */
import { isValidName, NAME_RULE } from '../core/index.js';
import { RegistryErrors } from './errors.js';
import type { Actor, EndpointTarget } from './types.js';

export const LIMITS = {
  maxTags: 64,
  maxTagKeyLength: 128,
  maxTagValueLength: 1024,
  maxMetrics: 256,
  maxDescriptionLength: 4096,
  maxReasonLength: 1024,
  maxActorLength: 256,
  maxDataDigestLength: 256,
} as const;

/** Tag and metric keys: letters, digits and `._/-`, starting and ending with a letter or digit. */
const KEY_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._/-]*[A-Za-z0-9])?$/;
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value.length > 80 ? `${value.slice(0, 77)}...` : value}"`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${value}`;
  if (value === undefined) return 'nothing';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A model, alias or endpoint name; `field` names it in the error (`model`, `alias`, `endpoint`, `target.model`). */
export function checkName(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isValidName(value)) {
    throw RegistryErrors.REGISTRY_INVALID_NAME(`${field}: ${describe(value)} is not ${NAME_RULE}`, {
      details: { field, value: typeof value === 'string' ? value : null, rule: NAME_RULE },
    });
  }
  return value;
}

/** A version number: a positive safe integer. */
export function checkVersionNumber(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw RegistryErrors.REGISTRY_INVALID_FIELD(`${field}: must be a positive integer version number, got ${describe(value)}`, {
      details: { field },
    });
  }
  return value;
}

/** Free text with a length bound; undefined reads as the empty string. */
export function checkText(value: unknown, field: string, maxLength: number): string {
  if (value === undefined) return '';
  if (typeof value !== 'string') {
    throw RegistryErrors.REGISTRY_INVALID_FIELD(`${field}: must be a string, got ${describe(value)}`, { details: { field } });
  }
  if (value.length > maxLength) {
    throw RegistryErrors.REGISTRY_INVALID_FIELD(`${field}: must be at most ${maxLength} characters, got ${value.length}`, {
      details: { field, maxLength },
    });
  }
  return value;
}

export function checkActor(actor: unknown): Required<Actor> {
  if (!isPlainObject(actor)) {
    throw RegistryErrors.REGISTRY_INVALID_FIELD(`actor: must be an object with "by", got ${describe(actor)}`, {
      details: { field: 'actor' },
    });
  }
  const by = checkText(actor.by, 'actor.by', LIMITS.maxActorLength);
  if (by.length === 0) {
    throw RegistryErrors.REGISTRY_INVALID_FIELD('actor.by: must name who is acting (e.g. "anonymous")', {
      details: { field: 'actor.by' },
    });
  }
  return { by, reason: checkText(actor.reason, 'actor.reason', LIMITS.maxReasonLength) };
}

export function checkTags(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  const field = 'tags';
  if (!isPlainObject(value)) {
    throw RegistryErrors.REGISTRY_INVALID_TAGS(`tags: must be an object of string keys to string values, got ${describe(value)}`, {
      details: { field },
    });
  }
  const entries = Object.entries(value);
  if (entries.length > LIMITS.maxTags) {
    throw RegistryErrors.REGISTRY_INVALID_TAGS(`tags: at most ${LIMITS.maxTags} tags are allowed, got ${entries.length}`, {
      details: { field, maxTags: LIMITS.maxTags },
    });
  }
  const out: Record<string, string> = {};
  for (const [key, tagValue] of entries) {
    if (key.length > LIMITS.maxTagKeyLength || !KEY_PATTERN.test(key)) {
      throw RegistryErrors.REGISTRY_INVALID_TAGS(
        `tags: key ${describe(key)} must be 1–${LIMITS.maxTagKeyLength} letters, digits or "._/-", starting and ending with a letter or digit`,
        { details: { field: `tags.${key}` } },
      );
    }
    if (typeof tagValue !== 'string') {
      throw RegistryErrors.REGISTRY_INVALID_TAGS(`tags.${key}: must be a string, got ${describe(tagValue)}`, {
        details: { field: `tags.${key}` },
      });
    }
    if (tagValue.length > LIMITS.maxTagValueLength || CONTROL_CHARS.test(tagValue)) {
      throw RegistryErrors.REGISTRY_INVALID_TAGS(
        `tags.${key}: must be at most ${LIMITS.maxTagValueLength} characters without control characters`,
        { details: { field: `tags.${key}` } },
      );
    }
    out[key] = tagValue;
  }
  return out;
}

export function checkMetrics(value: unknown): Record<string, number> | undefined {
  if (value === undefined) return undefined;
  const field = 'metrics';
  if (!isPlainObject(value)) {
    throw RegistryErrors.REGISTRY_INVALID_FIELD(`metrics: must be an object of names to numbers, got ${describe(value)}`, {
      details: { field },
    });
  }
  const entries = Object.entries(value);
  if (entries.length > LIMITS.maxMetrics) {
    throw RegistryErrors.REGISTRY_INVALID_FIELD(`metrics: at most ${LIMITS.maxMetrics} metrics are allowed, got ${entries.length}`, {
      details: { field },
    });
  }
  const out: Record<string, number> = {};
  for (const [key, metric] of entries) {
    if (key.length > LIMITS.maxTagKeyLength || !KEY_PATTERN.test(key)) {
      throw RegistryErrors.REGISTRY_INVALID_FIELD(
        `metrics: name ${describe(key)} must be 1–${LIMITS.maxTagKeyLength} letters, digits or "._/-", starting and ending with a letter or digit`,
        { details: { field: `metrics.${key}` } },
      );
    }
    if (typeof metric !== 'number' || !Number.isFinite(metric)) {
      throw RegistryErrors.REGISTRY_INVALID_FIELD(`metrics.${key}: must be a finite number, got ${describe(metric)}`, {
        details: { field: `metrics.${key}` },
      });
    }
    out[key] = metric;
  }
  return out;
}

export function checkDataDigest(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const field = 'dataDigest';
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > LIMITS.maxDataDigestLength ||
    /\s/.test(value) ||
    CONTROL_CHARS.test(value)
  ) {
    throw RegistryErrors.REGISTRY_INVALID_FIELD(
      `dataDigest: must be 1–${LIMITS.maxDataDigestLength} characters without spaces (e.g. "sha256:…"), got ${describe(value)}`,
      { details: { field } },
    );
  }
  return value;
}

export function checkTarget(value: unknown): EndpointTarget {
  if (!isPlainObject(value)) {
    throw RegistryErrors.REGISTRY_INVALID_FIELD(`target: must be { kind: "version" | "alias", model, … }, got ${describe(value)}`, {
      details: { field: 'target' },
    });
  }
  const model = checkName(value.model, 'target.model');
  if (value.kind === 'version') return { kind: 'version', model, version: checkVersionNumber(value.version, 'target.version') };
  if (value.kind === 'alias') return { kind: 'alias', model, alias: checkName(value.alias, 'target.alias') };
  throw RegistryErrors.REGISTRY_INVALID_FIELD(`target.kind: must be "version" or "alias", got ${describe(value.kind)}`, {
    details: { field: 'target.kind' },
  });
}

/** An ISO-8601 time, normalised to `Date#toISOString()` form so stores can compare it as a string. */
export function checkTime(value: unknown, field: string): string {
  let ms = Number.NaN;
  if (typeof value === 'string' && ISO_TIME.test(value)) {
    const isoT = value.replace(' ', 'T');
    // a time without an offset means UTC here, never the server's local zone
    const hasTime = isoT.includes('T');
    const hasOffset = /(?:Z|[+-]\d{2}:?\d{2})$/.test(isoT);
    ms = Date.parse(hasTime && !hasOffset ? `${isoT}Z` : isoT);
  }
  if (Number.isNaN(ms)) {
    throw RegistryErrors.REGISTRY_INVALID_FIELD(`${field}: must be an ISO-8601 time such as 2026-03-03T12:00:00Z, got ${describe(value)}`, {
      details: { field },
    });
  }
  return new Date(ms).toISOString();
}
