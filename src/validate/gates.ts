/**
 * Gate policies: the YAML that says which figures of a validation report a version must reach
 * before it may ship (`slipway validate … --gates gates.yaml`), and its evaluation against the
 * report's figures and, for relative gates, a baseline version's figures.
 *
 * ```yaml
 * gates:
 *   - accuracy >= baseline - 0.01
 *   - latency.p99_ms <= 20
 *   - name: robust to noise
 *     check: robustness.noise_0.1.accuracy_drop <= 0.05
 * ```
 *
 * A check is `<figure> <op> <rhs>`. The figure is everything before the operator: a dotted name of
 * letters, digits and `_` (so `noise_0.1` is one figure name, dots and all). The operator is one of
 * `>= <= > < == !=`. The right-hand side is a number, or `baseline` (the same figure measured on
 * the baseline version) or `baseline.<figure>` (another figure of the baseline), either optionally
 * followed by `+ n`, `- n` or `* n`. docs/validation.md describes the language with examples.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { deepFreeze, describe, type PlatformError } from '../core/index.js';
import { ValidateErrors } from './errors.js';

/** The comparison of a check. */
export type GateOperator = '>=' | '<=' | '>' | '<' | '==' | '!=';

export const GATE_OPERATORS: readonly GateOperator[] = ['>=', '<=', '>', '<', '==', '!='];

/** The right-hand side of a check: a fixed number, or a baseline figure with optional arithmetic. */
export type GateRhs =
  | { readonly kind: 'number'; readonly value: number }
  | {
      readonly kind: 'baseline';
      /** The baseline figure compared with: the check's own figure unless written `baseline.<figure>`. */
      readonly figure: string;
      readonly adjust?: { readonly op: '+' | '-' | '*'; readonly operand: number };
    };

/** A parsed check: `<figure> <op> <rhs>`. */
export interface GateCheck {
  readonly figure: string;
  readonly operator: GateOperator;
  readonly rhs: GateRhs;
}

/** One gate of a policy: a check and the name results are reported under (the check itself by default). */
export interface Gate extends GateCheck {
  readonly name: string;
  /** The check as written (trimmed). */
  readonly check: string;
}

/** A parsed, checked and frozen gate policy. */
export interface GatePolicy {
  readonly gates: readonly Gate[];
  /** Where the policy came from (a file name), when known. */
  readonly source?: string;
}

/** The verdict of one gate. */
export interface GateResult {
  readonly name: string;
  readonly check: string;
  readonly passed: boolean;
  /** The report's value of the figure; null when the report lacks it or it is not a number. */
  readonly actual: number | null;
  /** The value compared with (baseline arithmetic applied); null when it could not be computed. */
  readonly threshold: number | null;
  /** Why the gate passed or failed, in a sentence for a person. */
  readonly reason: string;
}

/** Figures by dotted name: a report flattened by {@link flattenFigures}, as a Map or a plain object. */
export type Figures = ReadonlyMap<string, number> | Readonly<Record<string, number>>;

/** One problem of a policy, with the entry's path (`gates[2].check`) and its line when known. */
export interface GateProblem {
  readonly path: string;
  readonly line?: number;
  readonly message: string;
}

/** Most gates one policy may hold: a guard against a runaway generator, far above real use. */
export const MAX_GATES = 1000;

/**
 * Numbers within this relative distance compare as equal, so rounding in the policy's own
 * arithmetic (0.92 − 0.01 = 0.9100000000000001) never decides a gate.
 */
export const GATE_RELATIVE_TOLERANCE = 1e-9;

const FIGURE = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$/;
export const FIGURE_RULE = 'a dotted name of letters, digits and "_" starting with a letter or "_" (e.g. macro.f1, robustness.noise_0.1.accuracy_drop)';
const NUMBER = String.raw`(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?`;
const NUMBER_RHS = new RegExp(`^[+-]?${NUMBER}$`);
const BASELINE_RHS = new RegExp(String.raw`^baseline(?:\.([^\s+*-]+))?(?:\s*([+*-])\s*(${NUMBER}))?$`);
const RHS_RULE = 'a number, baseline, baseline + n, baseline - n, baseline * n, or baseline.<figure> with the same arithmetic';
const CHECK_RULE = `<figure> <op> <rhs> with op one of ${GATE_OPERATORS.join(' ')}`;

/** Parses one check; a string is the problem with it. */
function readCheck(text: string): GateCheck | string {
  const check = text.trim();
  if (check === '') return `the check is empty; expected ${CHECK_RULE}`;
  const at = check.search(/[<>=!]/);
  if (at < 0) return `"${check}" has no comparison operator; expected ${CHECK_RULE}`;
  const run = /^[<>=!]+/.exec(check.slice(at))?.[0] ?? '';
  const operator = GATE_OPERATORS.find((op) => op === run);
  if (operator === undefined) {
    const hint = run === '=' ? ' (did you mean ==?)' : run === '=>' ? ' (did you mean >=?)' : run === '=<' ? ' (did you mean <=?)' : '';
    return `"${run}" is not an operator${hint}; expected one of ${GATE_OPERATORS.join(' ')}`;
  }
  const figure = check.slice(0, at).trim();
  if (figure === '') return `"${check}" has no figure before ${operator}; expected ${CHECK_RULE}`;
  if (!FIGURE.test(figure)) {
    const hint = NUMBER_RHS.test(figure) ? '; write the figure on the left (accuracy >= 0.9, not 0.9 <= accuracy)' : '';
    return `figure "${figure}" must be ${FIGURE_RULE}${hint}`;
  }
  const rhsText = check.slice(at + run.length).trim();
  if (rhsText === '') return `"${check}" has nothing after ${operator}; expected ${RHS_RULE}`;
  if (NUMBER_RHS.test(rhsText)) {
    const value = Number(rhsText);
    if (!Number.isFinite(value)) return `right-hand side "${rhsText}" is too large; expected a finite number`;
    return { figure, operator, rhs: { kind: 'number', value } };
  }
  const m = BASELINE_RHS.exec(rhsText);
  if (m === null) return `right-hand side "${rhsText}" must be ${RHS_RULE}`;
  const [, other, op, operandText] = m;
  if (other !== undefined && !FIGURE.test(other)) return `baseline figure "${other}" must be ${FIGURE_RULE}`;
  const operand = Number(operandText);
  if (operandText !== undefined && !Number.isFinite(operand)) return `operand "${operandText}" is too large; expected a finite number`;
  return {
    figure,
    operator,
    rhs: {
      kind: 'baseline',
      figure: other ?? figure,
      ...(op === undefined ? {} : { adjust: { op: op as '+' | '-' | '*', operand } }),
    },
  };
}

/** Parses one check (`accuracy >= baseline - 0.01`), e.g. from a command-line flag. Throws VALIDATE_INVALID_GATES. */
export function parseGateCheck(text: string): GateCheck {
  const check = readCheck(text);
  if (typeof check === 'string') throw invalidGatesError([{ path: 'check', message: check }]);
  return deepFreeze(check);
}

/** The error for a refused policy: every problem on its own line, and as `details.problems`. */
export function invalidGatesError(problems: readonly GateProblem[], source?: string): PlatformError {
  const where = source === undefined ? '' : ` in ${source}`;
  const lines = problems.map((p) => `  ${p.path}${p.line === undefined ? '' : ` (line ${p.line})`}: ${p.message}`).join('\n');
  return ValidateErrors.VALIDATE_INVALID_GATES(`invalid gate policy${where} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines}`, {
    details: { problems: problems.map((p) => ({ path: p.path, ...(p.line === undefined ? {} : { line: p.line }), message: p.message })) },
  });
}

type PathSegment = string | number;

function pathText(path: readonly PathSegment[]): string {
  let out = '';
  for (const s of path) out += typeof s === 'number' ? `[${s}]` : out === '' ? s : `.${s}`;
  return out === '' ? '(document)' : out;
}

/** Collects problems with their paths and lines; `lineOf` knows the YAML source when there is one. */
class PolicyReader {
  readonly problems: GateProblem[] = [];
  constructor(private readonly lineOf: (path: readonly PathSegment[], key: boolean) => number | undefined) {}

  /** `key`: point at the key of the last segment (an unknown key) rather than at its value. */
  problem(path: readonly PathSegment[], message: string, key = false): void {
    // a missing key has no line of its own: point at the nearest enclosing node instead
    let line = this.lineOf(path, key);
    for (let up = path.length - 1; line === undefined && up >= 0; up--) line = this.lineOf(path.slice(0, up), false);
    this.problems.push({ path: pathText(path), ...(line === undefined ? {} : { line }), message });
  }

  mapping(value: unknown, path: readonly PathSegment[], known: readonly string[], what: string): Record<string, unknown> | undefined {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.problem(path, `must be ${what}, got ${describe(value)}`);
      return undefined;
    }
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (!known.includes(key)) this.problem([...path, key], `unknown key (known: ${known.join(', ')})`, true);
    }
    return obj;
  }
}

function readGate(r: PolicyReader, value: unknown, i: number): Gate | undefined {
  const path = ['gates', i];
  let name: string | undefined;
  let checkText: string;
  let checkPath: PathSegment[] = path;
  if (typeof value === 'string') {
    checkText = value;
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entry = r.mapping(value, path, ['name', 'check'], 'a mapping');
    if (entry === undefined) return undefined;
    if (entry.name !== undefined) {
      if (typeof entry.name !== 'string' || entry.name.trim() === '' || /[\r\n]/.test(entry.name)) {
        r.problem([...path, 'name'], `must be a one-line, non-empty string, got ${describe(entry.name)}`);
      } else {
        name = entry.name.trim();
      }
    }
    checkPath = [...path, 'check'];
    if (entry.check === undefined || entry.check === null) {
      const stray = Object.keys(entry).filter((k) => k !== 'name');
      const hint =
        stray.length === 1 && entry.name === undefined
          ? `; "${stray[0]}: ${String(entry[stray[0] ?? ''])}" reads as a mapping, write the check as one string: - ${stray[0]} ${String(entry[stray[0] ?? ''])}`
          : '';
      r.problem(checkPath, `is required: ${CHECK_RULE}, e.g. accuracy >= 0.9${hint}`);
      return undefined;
    }
    if (typeof entry.check !== 'string') {
      r.problem(checkPath, `must be a string ${CHECK_RULE}, got ${describe(entry.check)}`);
      return undefined;
    }
    checkText = entry.check;
  } else {
    r.problem(path, `must be a check string (${CHECK_RULE}) or a mapping {name, check}, got ${describe(value)}`);
    return undefined;
  }
  const parsed = readCheck(checkText);
  if (typeof parsed === 'string') {
    r.problem(checkPath, parsed);
    return undefined;
  }
  const check = checkText.trim();
  return { name: name ?? check, check, ...parsed };
}

function readPolicy(r: PolicyReader, value: unknown, source: string | undefined): GatePolicy {
  if (value === null || value === undefined) {
    r.problem([], 'the policy is empty; expected a mapping with a non-empty `gates` list, e.g. gates: ["accuracy >= 0.9"]');
    throw invalidGatesError(r.problems, source);
  }
  const top = r.mapping(value, [], ['gates'], 'a mapping with a `gates` list');
  if (top === undefined) throw invalidGatesError(r.problems, source);
  const list = top.gates;
  if (list === undefined || list === null) {
    r.problem(['gates'], 'is required: a non-empty list of checks, e.g. - accuracy >= 0.9');
  } else if (!Array.isArray(list)) {
    r.problem(['gates'], `must be a list of checks, got ${describe(list)}`);
  } else if (list.length === 0) {
    r.problem(['gates'], 'must hold at least one gate; an empty policy would pass every version');
  } else if (list.length > MAX_GATES) {
    r.problem(['gates'], `must hold at most ${MAX_GATES} gates, got ${list.length}`);
  } else {
    const gates: Gate[] = [];
    const byName = new Map<string, number>();
    (list as unknown[]).forEach((entry, i) => {
      const gate = readGate(r, entry, i);
      if (gate === undefined) return;
      const earlier = byName.get(gate.name);
      if (earlier !== undefined) {
        const named = typeof entry === 'object' && entry !== null && (entry as { name?: unknown }).name !== undefined;
        r.problem(named ? ['gates', i, 'name'] : ['gates', i], `gate name "${gate.name}" is already used by gates[${earlier}]; give each gate its own name`);
        return;
      }
      byName.set(gate.name, i);
      gates.push(gate);
    });
    if (r.problems.length === 0) return deepFreeze({ gates, ...(source === undefined ? {} : { source }) });
  }
  throw invalidGatesError(r.problems, source);
}

/** The line (1-based) of the node at `path` in a YAML document, or of its key. */
function yamlLine(doc: Document, lines: LineCounter, path: readonly PathSegment[], key: boolean): number | undefined {
  let node: unknown = doc.contents;
  let keyNode: unknown;
  for (const segment of path) {
    keyNode = undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === segment);
      if (pair === undefined) return undefined;
      keyNode = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
    } else {
      return undefined;
    }
  }
  const target = key && keyNode !== undefined ? keyNode : node;
  const range = (target as { range?: readonly number[] } | null | undefined)?.range;
  return range === undefined || range[0] === undefined ? undefined : lines.linePos(range[0]).line;
}

/**
 * Parses a gate policy from YAML text (JSON is YAML too). Throws VALIDATE_INVALID_GATES listing
 * every problem with the entry's path and line: YAML syntax, unknown keys, an empty policy, a
 * check that does not parse, a gate name used twice. Returns the policy, deep-frozen.
 */
export function parseGates(text: string, source?: string): GatePolicy {
  const lines = new LineCounter();
  // YAML 1.2 core schema; a repeated key is an error
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, lineCounter: lines });
  if (doc.errors.length > 0) {
    throw invalidGatesError(
      doc.errors.map((e) => ({
        path: '(document)',
        ...(e.linePos === undefined ? {} : { line: e.linePos[0].line }),
        message: `YAML syntax error: ${(e.message.split('\n', 1)[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '')}`,
      })),
      source,
    );
  }
  let value: unknown;
  try {
    // maxAliasCount guards against alias bombs ("billion laughs")
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw invalidGatesError([{ path: '(document)', message: `YAML could not be read: ${error instanceof Error ? error.message : String(error)}` }], source);
  }
  return readPolicy(new PolicyReader((path, key) => yamlLine(doc, lines, path, key)), value, source);
}

/** Checks a policy that is already parsed (a JSON body): the same rules as {@link parseGates}, without lines. */
export function readGatePolicy(value: unknown, source?: string): GatePolicy {
  return readPolicy(new PolicyReader(() => undefined), value, source);
}

/** Whether some gate of the policy compares with a baseline version. */
export function needsBaseline(policy: GatePolicy): boolean {
  return policy.gates.some((g) => g.rhs.kind === 'baseline');
}

// ---------------------------------------------------------------------------------------------
// evaluation

function lookup(figures: Figures, name: string): number | undefined {
  if (figures instanceof Map) return (figures as ReadonlyMap<string, number>).get(name);
  const record = figures as Readonly<Record<string, number>>;
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

function namesOf(figures: Figures): string[] {
  return figures instanceof Map ? [...(figures as ReadonlyMap<string, number>).keys()] : Object.keys(figures);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost));
    }
    previous = current;
  }
  return previous[b.length] as number;
}

const SUGGESTIONS = 5;

/**
 * Why a figure is missing, with a few names of `figures` near `name`: close in spelling or
 * holding it, else under the same first segment, else the first few in order.
 */
function missingFigureReason(name: string, figures: Figures, where: string): string {
  const known = namesOf(figures);
  if (known.length === 0) return `figure "${name}" is not in ${where}, which has no figures at all`;
  const limit = Math.max(2, Math.floor(name.length / 3));
  const close = known
    .map((k) => ({ k, d: editDistance(name, k) }))
    .filter((c) => c.d <= limit || (name.length >= 2 && c.k.includes(name)))
    .sort((a, b) => a.d - b.d || (a.k < b.k ? -1 : 1))
    .slice(0, SUGGESTIONS)
    .map((c) => c.k);
  if (close.length > 0) return `figure "${name}" is not in ${where}; did you mean ${close.join(', ')}?`;
  const head = name.split('.', 1)[0] ?? name;
  const sibling = known.filter((k) => k.startsWith(`${head}.`)).sort();
  const list = sibling.length > 0 ? sibling : [...known].sort();
  const more = list.length > SUGGESTIONS ? ` (and ${list.length - SUGGESTIONS} more)` : '';
  return `figure "${name}" is not in ${where}; ${sibling.length > 0 ? `${head} has` : 'known figures include'} ${list.slice(0, SUGGESTIONS).join(', ')}${more}`;
}

function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}

/** Compares with {@link GATE_RELATIVE_TOLERANCE}; false whenever a side is NaN. */
function compare(actual: number, op: GateOperator, threshold: number): boolean {
  if (Number.isNaN(actual) || Number.isNaN(threshold)) return false;
  const scale = Math.max(Math.abs(actual), Math.abs(threshold));
  const tolerance = Number.isFinite(scale) ? GATE_RELATIVE_TOLERANCE * scale : 0;
  const equal = actual === threshold || Math.abs(actual - threshold) <= tolerance;
  switch (op) {
    case '>=':
      return equal || actual > threshold;
    case '<=':
      return equal || actual < threshold;
    case '>':
      return !equal && actual > threshold;
    case '<':
      return !equal && actual < threshold;
    case '==':
      return equal;
    case '!=':
      return !equal;
  }
}

function evaluateGate(gate: Gate, figures: Figures, baseline: Figures | undefined): GateResult {
  const fail = (reason: string, actual: number | null, threshold: number | null): GateResult => ({
    name: gate.name,
    check: gate.check,
    passed: false,
    actual,
    threshold,
    reason,
  });
  const rawActual = lookup(figures, gate.figure);
  const fixed = gate.rhs.kind === 'number' ? gate.rhs.value : null;
  if (rawActual === undefined) return fail(missingFigureReason(gate.figure, figures, 'the report'), null, fixed);
  const actual = typeof rawActual === 'number' && !Number.isNaN(rawActual) ? rawActual : null;
  if (actual === null) return fail(`${gate.figure} is not a number (it is not defined for this data), and NaN never passes`, null, fixed);

  let threshold: number;
  let explain = '';
  const rhs = gate.rhs;
  if (rhs.kind === 'number') {
    threshold = rhs.value;
  } else {
    if (baseline === undefined) return fail(`needs --baseline: the check compares with the baseline version's ${rhs.figure}, and no baseline was given`, actual, null);
    const base = lookup(baseline, rhs.figure);
    if (base === undefined) return fail(missingFigureReason(rhs.figure, baseline, 'the baseline report'), actual, null);
    if (typeof base !== 'number' || Number.isNaN(base)) return fail(`the baseline's ${rhs.figure} is not a number (it is not defined for the baseline's data), and NaN never passes`, actual, null);
    const adjust = rhs.adjust;
    threshold = adjust === undefined ? base : adjust.op === '+' ? base + adjust.operand : adjust.op === '-' ? base - adjust.operand : base * adjust.operand;
    const named = rhs.figure === gate.figure ? 'baseline' : `baseline.${rhs.figure}`;
    explain = ` (${named} ${formatNumber(base)}${adjust === undefined ? '' : ` ${adjust.op} ${formatNumber(adjust.operand)}`})`;
    if (Number.isNaN(threshold)) return fail(`the threshold${explain} is not a number, and NaN never passes`, actual, null);
  }
  const passed = compare(actual, gate.operator, threshold);
  return {
    name: gate.name,
    check: gate.check,
    passed,
    actual,
    threshold,
    reason: `${gate.figure} is ${formatNumber(actual)}: ${passed ? 'meets' : 'fails'} ${gate.operator} ${formatNumber(threshold)}${explain}`,
  };
}

/**
 * Evaluates every gate of a policy against a report's figures (and a baseline version's, for
 * `baseline` checks), in policy order. A figure missing from the report fails its gate with a
 * reason naming close figure names; a baseline check without baseline figures fails with "needs
 * --baseline"; NaN never passes. Numbers within {@link GATE_RELATIVE_TOLERANCE} compare as equal.
 */
export function evaluateGates(policy: GatePolicy, figures: Figures, baseline?: Figures): GateResult[] {
  return policy.gates.map((gate) => evaluateGate(gate, figures, baseline));
}

/** Whether every gate passed. */
export function gatesPassed(results: readonly GateResult[]): boolean {
  return results.every((r) => r.passed);
}

// ---------------------------------------------------------------------------------------------
// figures

const UNSAFE_SEGMENT = /[^A-Za-z0-9_.]+/g;

/**
 * Turns a nested report object into figures by dotted name, the names gates check:
 * `{ macro: { f1: 0.9 }, latency: { p99_ms: 12 } }` gives `macro.f1` and `latency.p99_ms`.
 *
 * - Keys are joined with `.`, as they are (a key `noise_0.1` gives `robustness.noise_0.1.…`);
 *   each run of characters other than letters, digits, `_` and `.` becomes `_`, so a class named
 *   `high risk` gives `per_class.high_risk.f1`; repeated dots merge and dots at a key's ends go.
 *   When two paths give one name, the first one wins.
 * - Numbers are figures; `null` becomes NaN (a figure the data leaves undefined, which fails
 *   every gate on it with a reason that says so); `undefined` is skipped.
 * - Lists (the confusion matrix, reliability bins, slices), strings and booleans are not figures
 *   and are skipped, as are objects that are not plain (class instances, typed arrays).
 */
export function flattenFigures(report: unknown): Map<string, number> {
  const out = new Map<string, number>();
  const seen = new Set<object>();
  const walk = (value: unknown, path: string): void => {
    if (typeof value === 'number') {
      if (path !== '' && !out.has(path)) out.set(path, value);
      return;
    }
    if (value === null) {
      if (path !== '' && !out.has(path)) out.set(path, Number.NaN);
      return;
    }
    if (typeof value !== 'object' || Array.isArray(value) || seen.has(value)) return;
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return;
    seen.add(value);
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const segment = key.replace(UNSAFE_SEGMENT, '_').replace(/\.{2,}/g, '.').replace(/^\.|\.$/g, '') || '_';
      walk(child, path === '' ? segment : `${path}.${segment}`);
    }
    seen.delete(value);
  };
  walk(report, '');
  return out;
}
