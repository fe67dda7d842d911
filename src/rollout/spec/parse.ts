/**
 * Parses and checks endpoint specs: a YAML stream of one or more `kind: Endpoint` documents
 * (`slipway apply -f FILE.yaml`), or the same documents already parsed from a JSON body
 * (POST /api/v1/apply). Every problem of every document is collected with its path — prefixed
 * `documents[i].` when there is more than one document — and reported in one ROLLOUT_SPEC_INVALID;
 * nothing is returned unless all documents are valid. The result is typed, defaulted and frozen.
 */
import { parseAllDocuments } from 'yaml';
import { deepFreeze, describe, join, type ConfigProblem } from '../../core/index.js';
import { invalidSpecError, SpecReader } from './reader.js';
import { readStrategy, readTarget } from './strategies.js';
import { SPEC_API_VERSION, SPEC_KINDS, type EndpointSpecDocument } from './types.js';

export interface ParseSpecOptions {
  /** Where the text came from (a file name), for the error message. */
  readonly source?: string;
}

/** Most documents one apply may carry: a guard against a runaway generator, far above real use. */
export const MAX_SPEC_DOCUMENTS = 1000;

const TOP_KEYS = ['apiVersion', 'kind', 'metadata', 'spec'] as const;

/** Reads one document at `path` ('' for a lone document). Problems go to `r`. */
function readDocument(r: SpecReader, value: unknown, path: string): EndpointSpecDocument | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    r.problem(path === '' ? '(document)' : path, `must be a mapping with apiVersion, kind, metadata and spec, got ${describe(value)}`);
    return undefined;
  }
  const doc = value as Record<string, unknown>;
  r.onlyKeys(doc, path, TOP_KEYS);
  const at = (key: string): string => join(path, key);

  let ok = true;
  if (r.require(doc.apiVersion, at('apiVersion'), SPEC_API_VERSION) && doc.apiVersion !== SPEC_API_VERSION) {
    r.problem(at('apiVersion'), `must be ${SPEC_API_VERSION}, got ${describe(doc.apiVersion)}`);
    ok = false;
  }
  let kindKnown = false;
  if (r.require(doc.kind, at('kind'), SPEC_KINDS.join(', '))) {
    kindKnown = (SPEC_KINDS as readonly unknown[]).includes(doc.kind);
    if (!kindKnown) r.problem(at('kind'), `must be one of ${SPEC_KINDS.join(', ')}, got ${describe(doc.kind)}`);
  }

  let name = '';
  if (r.require(doc.metadata, at('metadata'), 'a mapping with the endpoint name')) {
    const meta = r.mapping(doc.metadata, at('metadata'), ['name']);
    if (meta !== undefined) name = r.name(meta.name, join(at('metadata'), 'name'), 'endpoint');
  }
  // a document of an unknown kind has no spec shape to check against
  if (!kindKnown) return undefined;

  if (!r.require(doc.spec, at('spec'), 'a mapping with model, version or alias, and an optional strategy')) return undefined;
  const spec = r.mapping(doc.spec, at('spec'), ['model', 'version', 'alias', 'description', 'strategy']);
  if (spec === undefined) return undefined;
  const model = r.name(spec.model, join(at('spec'), 'model'), 'model');
  const target = readTarget(r, spec, at('spec'), model);
  const description = spec.description === undefined ? undefined : r.optionalString(spec.description, join(at('spec'), 'description'));
  const strategy = readStrategy(r, spec.strategy, join(at('spec'), 'strategy'), { endpoint: name, model, target });
  if (!ok || target === undefined || name === '' || model === '') return undefined;
  return { apiVersion: SPEC_API_VERSION, kind: 'Endpoint', metadata: { name }, spec: { model, target, description, strategy } };
}

/** Cross-document rules: one document per endpoint, and no preview endpoint that another document defines. */
function checkAcross(r: SpecReader, docs: readonly (EndpointSpecDocument | undefined)[], paths: readonly string[]): void {
  const byName = new Map<string, number>();
  docs.forEach((d, i) => {
    if (d === undefined) return;
    const earlier = byName.get(d.metadata.name);
    if (earlier !== undefined) r.problem(join(join(paths[i] ?? '', 'metadata'), 'name'), `endpoint "${d.metadata.name}" is already defined by ${paths[earlier] ?? 'another document'}`);
    else byName.set(d.metadata.name, i);
  });
  docs.forEach((d, i) => {
    const strategy = d?.spec.strategy;
    if (strategy?.kind !== 'blueGreen' || strategy.previewEndpoint === undefined) return;
    const other = byName.get(strategy.previewEndpoint);
    if (other !== undefined && other !== i) {
      r.problem(`${paths[i] === '' ? '' : `${paths[i]}.`}spec.strategy.blueGreen.previewEndpoint`, `"${strategy.previewEndpoint}" is defined as an endpoint by ${paths[other] ?? 'another document'}; a preview endpoint is Slipway's to manage`);
    }
  });
}

/**
 * Checks already-parsed documents (a JSON body): one document, or a list of them. Throws
 * ROLLOUT_SPEC_INVALID listing every problem; returns the documents, deep-frozen.
 */
export function readEndpointSpecs(value: unknown, options: ParseSpecOptions = {}): readonly EndpointSpecDocument[] {
  const values = Array.isArray(value) ? value : [value];
  const r = new SpecReader();
  if (values.length === 0) r.problem('documents', 'must hold at least one document');
  if (values.length > MAX_SPEC_DOCUMENTS) r.problem('documents', `must hold at most ${MAX_SPEC_DOCUMENTS} documents, got ${values.length}`);
  r.finishSpec(options.source);
  const paths = values.map((_, i) => (values.length === 1 && !Array.isArray(value) ? '' : join('documents', i)));
  const docs = values.map((v, i) => readDocument(r, v, paths[i] ?? ''));
  checkAcross(r, docs, paths);
  r.finishSpec(options.source);
  return deepFreeze(docs as EndpointSpecDocument[]);
}

/**
 * Parses a YAML stream (JSON is YAML too) of one or more documents separated by `---`. Empty
 * documents are skipped; `documents[i]` counts every document in the stream, as an editor shows
 * them. Throws ROLLOUT_SPEC_INVALID listing YAML syntax errors and every rule broken.
 */
export function parseEndpointSpecs(text: string, options: ParseSpecOptions = {}): readonly EndpointSpecDocument[] {
  const r = new SpecReader();
  // YAML 1.2 core schema: `yes` stays a string and a repeated key is an error
  const stream = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true });
  const parsed: { index: number; value: unknown }[] = [];
  let count = 0;
  for (const doc of stream) {
    const index = count++;
    if (count > MAX_SPEC_DOCUMENTS) {
      r.problem('documents', `must hold at most ${MAX_SPEC_DOCUMENTS} documents`);
      break;
    }
    const problems: ConfigProblem[] = doc.errors.map((e) => ({ path: `documents[${index}]`, message: `YAML syntax error: ${firstLine(e.message)}` }));
    if (problems.length > 0) {
      for (const p of problems) r.problem(p.path, p.message);
      continue;
    }
    let value: unknown;
    try {
      // maxAliasCount guards against alias bombs ("billion laughs")
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      r.problem(`documents[${index}]`, `YAML could not be read: ${firstLine(error instanceof Error ? error.message : String(error))}`);
      continue;
    }
    if (value === null || value === undefined) continue;
    parsed.push({ index, value });
  }
  if (parsed.length === 0 && r.problems.length === 0) r.problem('documents', 'the text holds no document: expected apiVersion, kind, metadata and spec');
  // with one document in the stream, paths are plain (`spec.model`); with several, prefixed
  const single = count === 1 && parsed.length === 1;
  const paths = parsed.map((p) => (single ? '' : `documents[${p.index}]`));
  const docs = parsed.map((p, i) => readDocument(r, p.value, paths[i] ?? ''));
  checkAcross(r, docs, paths);
  r.finishSpec(options.source);
  return deepFreeze(docs as EndpointSpecDocument[]);
}

function firstLine(message: string): string {
  return (message.split('\n', 1)[0] ?? message).replace(/:$/, '');
}

/** Re-exported for callers that collect problems of their own around a spec. */
export { invalidSpecError };
