/**
 * Readers for what a control request carries: path parameters (one clear 400 naming the parameter),
 * query parameters, and JSON bodies and upload metadata (every problem collected with its path and
 * reported at once, in the style of the config toolkit).
 */
import { ConfigReader, describe, isValidName, NAME_RULE, PlatformError, type ConfigProblem } from '../core/index.js';
import type { VersionSignature } from '../registry/index.js';
import { parseSignatureDocument } from '../security/signing/index.js';
import { ControlErrors } from './errors.js';
import type { CreateEndpointBody, SetAliasBody, UpdateEndpointBody, UploadMetadata } from './types.js';

/** Which kind of name a path parameter holds, for messages. */
export type NameParam = 'model' | 'alias' | 'endpoint';

/** Reads a model, alias or endpoint name from the path; a 400 naming the parameter otherwise. */
export function nameParam(param: NameParam, value: string): string {
  if (isValidName(value)) return value;
  throw ControlErrors.CONTROL_INVALID_PARAM(`path parameter "${param}": ${describe(value)} is not a valid ${param} name; expected ${NAME_RULE}`, {
    details: { param, value },
  });
}

const POSITIVE_INT = /^[1-9]\d{0,14}$/;

/** Reads a version number from the path; a 400 naming the parameter otherwise. */
export function versionParam(value: string): number {
  if (POSITIVE_INT.test(value)) return Number(value);
  throw ControlErrors.CONTROL_INVALID_PARAM(`path parameter "version": ${describe(value)} is not a version number; expected a positive whole number (1, 2, 3 …)`, {
    details: { param: 'version', value },
  });
}

type Query = Record<string, string | string[] | undefined>;

/** Reads an optional single-valued query parameter. */
export function queryString(query: unknown, key: string): string | undefined {
  const value = (query as Query | undefined)?.[key];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    throw ControlErrors.CONTROL_INVALID_QUERY(`query parameter "${key}" is given ${value.length} times; give it once`, { details: { param: key } });
  }
  return value;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Reads an ISO-8601 time from the query (`at`), normalised to UTC `…Z`. */
export function queryTime(query: unknown, key: string): string | undefined {
  const raw = queryString(query, key);
  if (raw === undefined) return undefined;
  const ms = ISO_TIME.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(ms)) {
    throw ControlErrors.CONTROL_INVALID_QUERY(
      `query parameter "${key}": ${describe(raw)} is not an ISO-8601 time; expected e.g. 2026-03-03T12:00:00Z or 2026-03-03`,
      { details: { param: key, value: raw } },
    );
  }
  return new Date(ms).toISOString();
}

export function invalidBody(problems: readonly ConfigProblem[]): PlatformError {
  const list = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  return ControlErrors.CONTROL_INVALID_BODY(`invalid request body (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${list}`, {
    details: { problems: problems.map((p) => ({ path: p.path, message: p.message })) },
  });
}

/** A ConfigReader that reports its problems as CONTROL_INVALID_BODY. */
class BodyReader extends ConfigReader {
  root(body: unknown): Record<string, unknown> {
    if (body === undefined || body === null) return {};
    if (typeof body !== 'object' || Array.isArray(body)) {
      this.problem('body', `must be a JSON object, got ${describe(body)}`);
      return {};
    }
    return body as Record<string, unknown>;
  }

  requiredName(value: unknown, path: string): string {
    if (value === undefined) {
      this.problem(path, `is required (${NAME_RULE})`);
      return '';
    }
    return this.string(value, path, '', (v) => (isValidName(v) ? undefined : `${describe(v)} is not ${NAME_RULE}`));
  }

  optionalName(value: unknown, path: string): string | undefined {
    if (value === undefined) return undefined;
    return this.string(value, path, '', (v) => (isValidName(v) ? undefined : `${describe(v)} is not ${NAME_RULE}`)) || undefined;
  }

  requiredVersion(value: unknown, path: string): number {
    if (value === undefined) {
      this.problem(path, 'is required (a positive whole number)');
      return 0;
    }
    return this.integer(value, path, 0, 1);
  }

  optionalVersion(value: unknown, path: string): number | undefined {
    if (value === undefined) return undefined;
    const n = this.integer(value, path, 0, 1);
    return n === 0 ? undefined : n;
  }

  optionalText(value: unknown, path: string): string | undefined {
    return this.optionalString(value, path);
  }

  finishBody(): void {
    if (this.problems.length > 0) throw invalidBody(this.problems);
  }
}

/** What an endpoint should serve, as read from a body: a pinned version, an alias, or (neither) the latest version. */
export interface TargetChoice {
  readonly model: string;
  readonly version?: number;
  readonly alias?: string;
}

function readTarget(r: BodyReader, o: Record<string, unknown>): TargetChoice {
  const model = r.requiredName(o.model, 'model');
  const version = r.optionalVersion(o.version, 'version');
  const alias = r.optionalName(o.alias, 'alias');
  if (o.version !== undefined && o.alias !== undefined) r.problem('alias', 'give either version or alias, not both');
  return { model, ...(version === undefined ? {} : { version }), ...(alias === undefined ? {} : { alias }) };
}

/** Reads the body of POST /endpoints, reporting every problem at once. */
export function readCreateEndpointBody(body: unknown): CreateEndpointBody {
  const r = new BodyReader();
  const o = r.root(body);
  r.onlyKeys(o, '', ['name', 'model', 'version', 'alias', 'description', 'reason']);
  const name = r.requiredName(o.name, 'name');
  const target = readTarget(r, o);
  const description = r.optionalText(o.description, 'description');
  const reason = r.optionalText(o.reason, 'reason');
  r.finishBody();
  return { name, ...target, ...(description === undefined ? {} : { description }), ...(reason === undefined ? {} : { reason }) };
}

/** Reads the body of PUT /endpoints/:name, reporting every problem at once. */
export function readUpdateEndpointBody(body: unknown): UpdateEndpointBody {
  const r = new BodyReader();
  const o = r.root(body);
  r.onlyKeys(o, '', ['model', 'version', 'alias', 'reason']);
  const target = readTarget(r, o);
  const reason = r.optionalText(o.reason, 'reason');
  r.finishBody();
  return { ...target, ...(reason === undefined ? {} : { reason }) };
}

/** Reads the body of PUT /models/:model/aliases/:alias, reporting every problem at once. */
export function readSetAliasBody(body: unknown): SetAliasBody {
  const r = new BodyReader();
  const o = r.root(body);
  r.onlyKeys(o, '', ['version', 'reason']);
  const version = r.requiredVersion(o.version, 'version');
  const reason = r.optionalText(o.reason, 'reason');
  r.finishBody();
  return { version, ...(reason === undefined ? {} : { reason }) };
}

/** Upload metadata names, as query parameters and multipart fields, with their X-Slipway-* header. */
export const UPLOAD_FIELDS = {
  description: 'x-slipway-description',
  tag: 'x-slipway-tag',
  parent: 'x-slipway-parent',
  dataDigest: 'x-slipway-data-digest',
  metrics: 'x-slipway-metrics',
  modelDescription: 'x-slipway-model-description',
  signature: 'x-slipway-signature',
} as const;
export type UploadField = keyof typeof UPLOAD_FIELDS;
const FIELD_NAMES = Object.keys(UPLOAD_FIELDS) as UploadField[];

/** Raw metadata values by field, as many as were given, from one source. */
export type RawMetadata = Partial<Record<UploadField, string[]>>;

/** One place upload metadata can come from, with the name of each field there (for messages). */
export interface MetadataSource {
  readonly label: 'query' | 'header' | 'field';
  readonly values: RawMetadata;
}

/** Collects metadata from a parsed query string; unknown parameters are problems. */
export function metadataFromQuery(query: unknown, problems: ConfigProblem[]): MetadataSource {
  const values: RawMetadata = {};
  for (const [key, value] of Object.entries((query ?? {}) as Query)) {
    if (value === undefined) continue;
    if (!(FIELD_NAMES as string[]).includes(key)) {
      problems.push({ path: key, message: `unknown query parameter (known: ${FIELD_NAMES.join(', ')})` });
      continue;
    }
    values[key as UploadField] = Array.isArray(value) ? value : [value];
  }
  return { label: 'query', values };
}

/** Collects metadata from X-Slipway-* headers (each header given as many times as needed). */
export function metadataFromHeaders(headers: Record<string, string[] | undefined>, problems: ConfigProblem[]): MetadataSource {
  const values: RawMetadata = {};
  const known = Object.values(UPLOAD_FIELDS) as string[];
  for (const [header, list] of Object.entries(headers)) {
    if (!header.startsWith('x-slipway-') || list === undefined) continue;
    const field = FIELD_NAMES.find((f) => UPLOAD_FIELDS[f] === header);
    if (field === undefined) {
      problems.push({ path: header, message: `unknown header (known: ${known.join(', ')})` });
      continue;
    }
    values[field] = list;
  }
  return { label: 'header', values };
}

const TAG = /^([^=]+)=(.*)$/s;

/**
 * Turns metadata from its sources into upload metadata. For each field the first source that has
 * it wins (multipart fields, then the query string, then headers); every problem is collected.
 */
export function readUploadMetadata(sources: readonly MetadataSource[], problems: ConfigProblem[]): UploadMetadata {
  const pick = (field: UploadField): string[] | undefined => {
    for (const s of sources) {
      const v = s.values[field];
      if (v !== undefined && v.length > 0) return v;
    }
    return undefined;
  };
  const single = (field: UploadField): string | undefined => {
    const v = pick(field);
    if (v === undefined) return undefined;
    if (v.length > 1) {
      problems.push({ path: field, message: `given ${v.length} times; give it once` });
      return undefined;
    }
    return v[0];
  };

  const description = single('description');
  const modelDescription = single('modelDescription');

  let tags: Record<string, string> | undefined;
  const tagList = pick('tag');
  if (tagList !== undefined) {
    tags = {};
    tagList.forEach((raw, i) => {
      const m = TAG.exec(raw);
      const key = m?.[1]?.trim() ?? '';
      if (m === null || key === '') {
        problems.push({ path: `tag[${i}]`, message: `expected key=value, got ${describe(raw)}` });
        return;
      }
      if (tags !== undefined && key in tags) {
        problems.push({ path: `tag[${i}]`, message: `tag "${key}" is given twice` });
        return;
      }
      if (tags !== undefined) tags[key] = m[2] ?? '';
    });
  }

  let parentVersion: number | undefined;
  const parent = single('parent');
  if (parent !== undefined) {
    if (POSITIVE_INT.test(parent.trim())) parentVersion = Number(parent.trim());
    else problems.push({ path: 'parent', message: `must be a positive whole number (a version of this model), got ${describe(parent)}` });
  }

  let dataDigest = single('dataDigest');
  if (dataDigest !== undefined && dataDigest.trim() === '') {
    problems.push({ path: 'dataDigest', message: 'must not be empty' });
    dataDigest = undefined;
  }

  let metrics: Record<string, number> | undefined;
  const metricsText = single('metrics');
  if (metricsText !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(metricsText);
    } catch (error) {
      problems.push({ path: 'metrics', message: `must be a JSON object of numbers (e.g. {"accuracy":0.97}): ${(error as Error).message}` });
    }
    if (parsed !== undefined) {
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        problems.push({ path: 'metrics', message: `must be a JSON object of numbers (e.g. {"accuracy":0.97}), got ${describe(parsed)}` });
      } else {
        metrics = {};
        for (const [k, v] of Object.entries(parsed)) {
          if (typeof v === 'number' && Number.isFinite(v)) metrics[k] = v;
          else problems.push({ path: `metrics.${k}`, message: `must be a finite number, got ${describe(v)}` });
        }
      }
    }
  }

  let artifactSignature: VersionSignature | undefined;
  const signatureText = single('signature');
  if (signatureText !== undefined) {
    const read = readSignature(signatureText, 'signature');
    if ('problem' in read) problems.push(read.problem);
    else artifactSignature = read.signature;
  }

  return {
    ...(artifactSignature === undefined ? {} : { artifactSignature }),
    ...(description === undefined ? {} : { description }),
    ...(tags === undefined ? {} : { tags }),
    ...(parentVersion === undefined ? {} : { parentVersion }),
    ...(dataDigest === undefined ? {} : { dataDigest }),
    ...(metrics === undefined ? {} : { metrics }),
    ...(modelDescription === undefined ? {} : { modelDescription }),
  };
}

/**
 * Reads a signature file (JSON text or a parsed value): the signature, or the problem with the
 * field it names under `path` (`signature.keyId`; the document's own fields when `path` is empty).
 */
function readSignature(value: unknown, path: string): { readonly signature: VersionSignature } | { readonly problem: ConfigProblem } {
  try {
    return { signature: parseSignatureDocument(value) };
  } catch (error) {
    if (!(error instanceof PlatformError)) throw error;
    const field = typeof error.details?.field === 'string' ? error.details.field : '(document)';
    const message = error.message.startsWith(`${field}: `) ? error.message.slice(field.length + 2) : error.message;
    const at = field === '(document)' ? (path === '' ? 'body' : path) : path === '' ? field : `${path}.${field}`;
    return { problem: { path: at, message } };
  }
}

/**
 * Reads the body of POST /models/:model/versions/:version/signature: a signature file as
 * `slipway models sign` writes it. A bad field is CONTROL_INVALID_BODY naming it.
 */
export function readSignatureBody(body: unknown): VersionSignature {
  if (body === undefined || body === null) {
    throw invalidBody([{ path: 'body', message: 'is required: the signature file `slipway models sign` writes (digest, algorithm, keyId, signedAt, signature)' }]);
  }
  const read = readSignature(body, '');
  if ('problem' in read) throw invalidBody([read.problem]);
  return read.signature;
}

/** Throws CONTROL_INVALID_METADATA listing every problem, or does nothing. */
export function finishMetadata(problems: readonly ConfigProblem[]): void {
  if (problems.length === 0) return;
  const list = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  throw ControlErrors.CONTROL_INVALID_METADATA(`invalid upload metadata (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${list}`, {
    details: { problems: problems.map((p) => ({ path: p.path, message: p.message })) },
  });
}
