/**
 * Redaction rules over request and response JSON. A rule names field paths with a small syntax
 * made for Open Inference Protocol bodies:
 *
 * - `parameters.user_id` — a key below a key;
 * - `*` — any one key of an object or element of a list; `**` — any depth, including none;
 * - `inputs[name=ssn].data` — the elements of a list whose `name` equals `ssn`, then their `data`;
 * - `outputs[*].data`, `inputs[0]` — every element, or one by index.
 *
 * and an action: `mask` (the value becomes "[REDACTED]"), `drop` (the key or element is removed)
 * or `hash` (the value becomes the hex SHA-256 of the salt followed by its JSON text, so equal
 * values still join). Rules are parsed once, when options are compiled.
 */
import { createHash } from 'node:crypto';
import type { JsonValue } from './types.js';

export const REDACTION_ACTIONS = ['mask', 'drop', 'hash'] as const;
export type RedactionAction = (typeof REDACTION_ACTIONS)[number];

export const REDACTION_TARGETS = ['request', 'response', 'both'] as const;
export type RedactionTarget = (typeof REDACTION_TARGETS)[number];

/** One rule as configured (and as compiled options keep it). */
export interface RedactionRule {
  readonly path: string;
  readonly action: RedactionAction;
  /** Which bodies the rule applies to. Default `both`. */
  readonly in: RedactionTarget;
}

/** What a masked value is replaced with. */
export const REDACTED = '[REDACTED]';

/** What is said about an invalid path, after the problem itself. */
export const REDACTION_PATH_RULE = 'a path such as parameters.user_id, inputs[name=ssn].data, outputs[*].data, *.password or **.token';

/** One step of a parsed path. */
export type PathStep =
  | { readonly kind: 'key'; readonly key: string }
  | { readonly kind: 'wildcard' }
  | { readonly kind: 'deep' }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'where'; readonly key: string; readonly value: string };

/** Parses a rule path; returns the steps, or why it is not a path. */
export function parseRedactionPath(path: string): { readonly steps: readonly PathStep[] } | { readonly error: string } {
  if (path.trim() === '') return { error: 'is empty' };
  const steps: PathStep[] = [];
  let i = 0;
  const fail = (why: string): { error: string } => ({ error: `${why} at character ${i + 1}` });
  let expectSegment = true;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      if (expectSegment) return fail("unexpected '.' (an empty key)");
      expectSegment = true;
      i++;
      continue;
    }
    if (c === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) return fail("'[' without its ']'");
      const inner = path.slice(i + 1, close);
      if (inner === '*') steps.push({ kind: 'wildcard' });
      else if (/^\d{1,9}$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else {
        const eq = inner.indexOf('=');
        const key = eq < 0 ? '' : inner.slice(0, eq).trim();
        if (eq <= 0 || key === '' || /[[\]]/.test(key)) return fail(`selector [${inner}] must be [*], [N] or [key=value]`);
        let value = inner.slice(eq + 1).trim();
        // a quoted value may hold spaces at its ends
        if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
        steps.push({ kind: 'where', key, value });
      }
      i = close + 1;
      expectSegment = false;
      continue;
    }
    if (!expectSegment) return fail(`expected '.' or '[' before ${JSON.stringify(c)}`);
    let end = i;
    while (end < path.length && path[end] !== '.' && path[end] !== '[') {
      if (path[end] === ']') {
        i = end;
        return fail("unexpected ']'");
      }
      end++;
    }
    const key = path.slice(i, end);
    if (key === '*') steps.push({ kind: 'wildcard' });
    else if (key === '**') steps.push({ kind: 'deep' });
    else if (key.includes('*')) return fail(`'*' must stand alone as a key (${JSON.stringify(key)})`);
    else steps.push({ kind: 'key', key });
    i = end;
    expectSegment = false;
  }
  if (expectSegment) return { error: 'ends with a dot' };
  if (steps[steps.length - 1]?.kind === 'deep') return { error: "must not end with '**' (name what to redact below it)" };
  return { steps };
}

interface CompiledRule {
  readonly steps: readonly PathStep[];
  readonly action: RedactionAction;
  readonly request: boolean;
  readonly response: boolean;
}

/** Applies the configured rules to parsed bodies, in place. */
export interface Redactor {
  /** True when no rule exists (nothing to do, and unparsed text may be kept). */
  readonly empty: boolean;
  /** Redacts a parsed body in place (a path always has a step, so the root itself stays); returns how many values it changed. */
  apply(value: JsonValue, which: 'request' | 'response'): number;
}

type Container = Record<string, JsonValue> | JsonValue[];

function isContainer(v: JsonValue | undefined): v is Container {
  return typeof v === 'object' && v !== null;
}

/**
 * Sets an own property. Plain assignment would not do for a key named `__proto__` (JSON.parse
 * makes it an own property; assigning to it changes the prototype and leaves the value in place).
 */
function setOwn(obj: Record<string, JsonValue>, key: string, value: JsonValue): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Every (container, key) the steps reach from `node`; deduplicated by the caller. */
function collect(node: JsonValue, steps: readonly PathStep[], at: number, out: Map<Container, Set<string | number>>): void {
  const step = steps[at];
  if (step === undefined || !isContainer(node)) return;
  const last = at === steps.length - 1;
  const hit = (container: Container, key: string | number): void => {
    if (last) {
      let keys = out.get(container);
      if (keys === undefined) out.set(container, (keys = new Set()));
      keys.add(key);
    } else {
      const child = Array.isArray(container) ? container[key as number] : (container)[key as string];
      if (child !== undefined) collect(child, steps, at + 1, out);
    }
  };
  const array = Array.isArray(node) ? (node) : undefined;
  switch (step.kind) {
    case 'key':
      if (array === undefined && Object.hasOwn(node, step.key)) hit(node, step.key);
      return;
    case 'index':
      if (array !== undefined && step.index < array.length) hit(array, step.index);
      return;
    case 'wildcard':
      if (array !== undefined) for (let k = 0; k < array.length; k++) hit(array, k);
      else for (const k of Object.keys(node)) hit(node, k);
      return;
    case 'where':
      if (array === undefined) return;
      for (let k = 0; k < array.length; k++) {
        const el = array[k];
        if (!isContainer(el) || Array.isArray(el)) continue;
        const v = (el as Record<string, JsonValue>)[step.key];
        if ((typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && String(v) === step.value) hit(array, k);
      }
      return;
    case 'deep': {
      // zero levels: the next step applies here; more: to every child, still under '**'
      collect(node, steps, at + 1, out);
      const children = array ?? Object.values(node);
      for (const child of children) collect(child, steps, at, out);
      return;
    }
  }
}

/** Compiles the rules once (paths were checked when options were compiled; a bad one throws here). */
export function createRedactor(rules: readonly RedactionRule[], hashSalt = ''): Redactor {
  const compiled: CompiledRule[] = rules.map((rule, index) => {
    const parsed = parseRedactionPath(rule.path);
    if ('error' in parsed) throw new Error(`redaction rule ${index}: path ${parsed.error}; expected ${REDACTION_PATH_RULE}`);
    return { steps: parsed.steps, action: rule.action, request: rule.in !== 'response', response: rule.in !== 'request' };
  });
  const hash = (v: JsonValue): string => createHash('sha256').update(hashSalt).update(JSON.stringify(v)).digest('hex');

  return {
    empty: compiled.length === 0,
    apply(value, which) {
      let count = 0;
      for (const rule of compiled) {
        if (which === 'request' ? !rule.request : !rule.response) continue;
        const targets = new Map<Container, Set<string | number>>();
        collect(value, rule.steps, 0, targets);
        for (const [container, keys] of targets) {
          if (Array.isArray(container)) {
            // from the highest index down, so a drop does not shift the ones still to do
            const indices = [...keys].map(Number).sort((a, b) => b - a);
            for (const k of indices) {
              if (rule.action === 'drop') container.splice(k, 1);
              else container[k] = rule.action === 'mask' ? REDACTED : hash(container[k] ?? null);
              count++;
            }
          } else {
            const obj = container;
            for (const k of keys as Set<string>) {
              if (rule.action === 'drop') delete obj[k];
              else setOwn(obj, k, rule.action === 'mask' ? REDACTED : hash(obj[k] ?? null));
              count++;
            }
          }
        }
      }
      return count;
    },
  };
}
