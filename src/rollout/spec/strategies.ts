/**
 * Readers for the four strategies under `spec.strategy`: exactly one of blueGreen, canary,
 * experiment, shadow. Names and defaults follow Argo Rollouts where it has the same knob.
 */
import { describe, isDatatype, join } from '../../core/index.js';
import type { EndpointTarget } from '../../registry/index.js';
import { readAnalysisTemplate, readEvent, FEEDBACK_METRIC_KINDS, METRIC_DIRECTIONS } from './analysis.js';
import { MAX_SPEC_SECONDS, type SpecReader } from './reader.js';
import type {
  AnalysisTemplate,
  BlueGreenStrategy,
  CanaryStep,
  CanaryStrategy,
  ExperimentMetric,
  ExperimentStrategy,
  ExperimentVariant,
  FeedbackMetricKind,
  HeaderRouteSpec,
  MetricDirection,
  RolloutStrategy,
  ShadowStrategy,
  SmokeInput,
  SmokeRequest,
  StickinessSpec,
  StoppingRule,
} from './types.js';

export const STRATEGY_KEYS = ['blueGreen', 'canary', 'experiment', 'shadow'] as const;

export const BLUE_GREEN_DEFAULTS = { autoPromote: true, autoPromotionSeconds: 0, scaleDownDelaySeconds: 30 } as const;
export const CANARY_DEFAULTS = { mirrorPercent: 0 } as const;
export const HEADER_ROUTE_DEFAULTS = { header: 'x-slipway-variant', value: 'canary' } as const;
export const EXPERIMENT_DEFAULTS = { alpha: 0.05, stopOnSignificance: true } as const;
export const SHADOW_DEFAULTS = { mirrorPercent: 100 } as const;

/** The variant name `stable` belongs to the endpoint's stable version in the router. */
const RESERVED_VARIANT = 'stable';

/** Context a strategy needs from the rest of the document. */
export interface StrategyContext {
  readonly endpoint: string;
  readonly model: string;
  readonly target: EndpointTarget | undefined;
}

/** Reads `version: N` or `alias: NAME` (exactly one) as a target of `model`. */
export function readTarget(r: SpecReader, obj: Record<string, unknown>, path: string, model: string): EndpointTarget | undefined {
  const which = r.exactlyOne(obj, path, ['version', 'alias'], 'a version to serve');
  if (which === 'version') {
    const v = obj.version;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
      r.problem(join(path, 'version'), `must be a version number (a whole number ≥ 1), got ${describe(v)}`);
      return undefined;
    }
    return { kind: 'version', model, version: v };
  }
  if (which === 'alias') {
    const alias = r.name(obj.alias, join(path, 'alias'), 'alias');
    return alias === '' ? undefined : { kind: 'alias', model, alias };
  }
  return undefined;
}

const sameTarget = (a: EndpointTarget, b: EndpointTarget): boolean =>
  a.kind === 'version' ? b.kind === 'version' && a.version === b.version : b.kind === 'alias' && a.alias === b.alias;

function readStickiness(r: SpecReader, value: unknown, path: string): StickinessSpec | undefined {
  const s = r.mapping(value, path, ['header', 'cookie']);
  if (s === undefined) return undefined;
  const which = r.exactlyOne(s, path, ['header', 'cookie'], 'where the sticky key is read');
  if (which === 'header') {
    const name = r.token(s.header, join(path, 'header'), 'a header name');
    return name === '' ? undefined : { kind: 'header', name: name.toLowerCase() };
  }
  if (which === 'cookie') {
    const name = r.token(s.cookie, join(path, 'cookie'), 'a cookie name');
    return name === '' ? undefined : { kind: 'cookie', name };
  }
  return undefined;
}

function readHeaderRoute(r: SpecReader, value: unknown, path: string): HeaderRouteSpec | undefined {
  const h = value === null ? {} : r.mapping(value, path, ['header', 'value']);
  if (h === undefined) return undefined;
  const header = h.header === undefined ? HEADER_ROUTE_DEFAULTS.header : r.token(h.header, join(path, 'header'), 'a header name').toLowerCase();
  const v = r.nonEmptyString(h.value, join(path, 'value'), HEADER_ROUTE_DEFAULTS.value);
  return { header, value: v };
}

/** Counts the leaves of OIP `data`, flat or nested; undefined when an element is itself a mapping. */
function leafCount(data: readonly unknown[]): number | undefined {
  let n = 0;
  for (const item of data) {
    if (Array.isArray(item)) {
      const inner = leafCount(item);
      if (inner === undefined) return undefined;
      n += inner;
    } else if (item !== null && typeof item === 'object') {
      return undefined;
    } else {
      n++;
    }
  }
  return n;
}

function readSmokeInput(r: SpecReader, value: unknown, path: string): SmokeInput | undefined {
  const inp = r.mapping(value, path, ['name', 'datatype', 'shape', 'data']);
  if (inp === undefined) {
    if (value === undefined || value === null) r.problem(path, 'must be an OIP input: {name, datatype, shape, data}');
    return undefined;
  }
  let ok = r.require(inp.name, join(path, 'name'), 'the input tensor name');
  const name = r.nonEmptyString(inp.name, join(path, 'name'), '');
  if (!r.require(inp.datatype, join(path, 'datatype'), 'an OIP datatype such as FP32')) ok = false;
  else if (!isDatatype(inp.datatype)) {
    r.problem(join(path, 'datatype'), `must be an OIP datatype (BOOL, INT8 … INT64, UINT8 … UINT64, FP16, FP32, FP64, BYTES), got ${describe(inp.datatype)}`);
    ok = false;
  }
  const shapeList = r.require(inp.shape, join(path, 'shape'), 'the tensor shape, e.g. [1, 30]') ? r.list(inp.shape, join(path, 'shape')) : undefined;
  const shape: number[] = [];
  if (shapeList === undefined) ok = false;
  else {
    shapeList.forEach((d, i) => {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
        r.problem(join(join(path, 'shape'), i), `must be a whole number ≥ 0, got ${describe(d)}`);
        ok = false;
      } else shape.push(d);
    });
  }
  const data = r.require(inp.data, join(path, 'data'), 'the tensor elements, flat or nested') ? r.list(inp.data, join(path, 'data')) : undefined;
  if (data === undefined) ok = false;
  if (ok && data !== undefined) {
    const leaves = leafCount(data);
    const expected = shape.reduce((a, b) => a * b, 1);
    if (leaves === undefined) r.problem(join(path, 'data'), 'must hold only values or lists of values');
    else if (leaves !== expected) r.problem(join(path, 'data'), `has ${leaves} element${leaves === 1 ? '' : 's'} but shape [${shape.join(', ')}] needs ${expected}`);
  }
  return ok && data !== undefined ? { name, datatype: String(inp.datatype), shape, data } : undefined;
}

function readSmokeRequest(r: SpecReader, value: unknown, path: string): SmokeRequest | undefined {
  const s = r.mapping(value, path, ['inputs', 'outputs', 'expectStatus']);
  if (s === undefined) {
    if (value === undefined || value === null) r.problem(path, 'must be a mapping with `inputs`');
    return undefined;
  }
  const inputs: SmokeInput[] = [];
  if (r.require(s.inputs, join(path, 'inputs'), 'the OIP inputs to send')) {
    const list = r.list(s.inputs, join(path, 'inputs'));
    if (list !== undefined && list.length === 0) r.problem(join(path, 'inputs'), 'must list at least one input');
    list?.forEach((item, i) => {
      const input = readSmokeInput(r, item, join(join(path, 'inputs'), i));
      if (input !== undefined) inputs.push(input);
    });
  }
  let outputs: { name: string }[] | undefined;
  const outList = r.list(s.outputs, join(path, 'outputs'));
  if (outList !== undefined) {
    outputs = [];
    outList.forEach((item, i) => {
      const o = r.mapping(item, join(join(path, 'outputs'), i), ['name']);
      if (o === undefined) return;
      const name = r.nonEmptyString(o.name, join(join(join(path, 'outputs'), i), 'name'), '');
      if (o.name === undefined) r.problem(join(join(join(path, 'outputs'), i), 'name'), 'is required: the output tensor name');
      if (name !== '') outputs?.push({ name });
    });
  }
  const expectStatus = r.num(s.expectStatus, join(path, 'expectStatus'), 200, 200, 599, true);
  return { inputs, outputs, expectStatus };
}

function readBlueGreen(r: SpecReader, value: unknown, path: string, ctx: StrategyContext): BlueGreenStrategy | undefined {
  const b = value === null ? {} : r.mapping(value, path, ['autoPromote', 'autoPromotionSeconds', 'scaleDownDelaySeconds', 'previewEndpoint', 'smokeRequests', 'prePromotionAnalysis']);
  if (b === undefined) return undefined;
  const autoPromote = r.bool(b.autoPromote, join(path, 'autoPromote'), BLUE_GREEN_DEFAULTS.autoPromote);
  const autoPromotionSeconds = r.num(b.autoPromotionSeconds, join(path, 'autoPromotionSeconds'), BLUE_GREEN_DEFAULTS.autoPromotionSeconds, 0, MAX_SPEC_SECONDS, true);
  if (!autoPromote && b.autoPromotionSeconds !== undefined) {
    r.problem(join(path, 'autoPromotionSeconds'), 'applies only when autoPromote is true (with autoPromote false, green waits for `slipway rollout promote`)');
  }
  const scaleDownDelaySeconds = r.num(b.scaleDownDelaySeconds, join(path, 'scaleDownDelaySeconds'), BLUE_GREEN_DEFAULTS.scaleDownDelaySeconds, 0, MAX_SPEC_SECONDS, true);
  let previewEndpoint: string | undefined;
  if (b.previewEndpoint !== undefined) {
    previewEndpoint = r.name(b.previewEndpoint, join(path, 'previewEndpoint'), 'preview endpoint') || undefined;
    if (previewEndpoint !== undefined && previewEndpoint === ctx.endpoint) {
      r.problem(join(path, 'previewEndpoint'), `must differ from the endpoint's own name "${ctx.endpoint}"`);
    }
  }
  const smokeRequests: SmokeRequest[] = [];
  r.list(b.smokeRequests, join(path, 'smokeRequests'))?.forEach((item, i) => {
    const s = readSmokeRequest(r, item, join(join(path, 'smokeRequests'), i));
    if (s !== undefined) smokeRequests.push(s);
  });
  let prePromotionAnalysis: AnalysisTemplate | undefined;
  if (b.prePromotionAnalysis !== undefined) {
    prePromotionAnalysis = readAnalysisTemplate(r, b.prePromotionAnalysis, join(path, 'prePromotionAnalysis'));
    prePromotionAnalysis?.checks.forEach((c, i) => {
      if (c.metric === 'shadow-disagreement') {
        r.problem(join(join(join(path, 'prePromotionAnalysis'), 'checks'), i), 'shadow-disagreement needs mirrored traffic, which blue-green does not send; use a shadow strategy or a canary with mirrorPercent');
      }
    });
  }
  return { kind: 'blueGreen', autoPromote, autoPromotionSeconds, scaleDownDelaySeconds, previewEndpoint, smokeRequests, prePromotionAnalysis };
}

function readCanaryStep(r: SpecReader, value: unknown, path: string): CanaryStep | undefined {
  const s = r.mapping(value, path, ['setWeight', 'pause', 'analysis']);
  if (s === undefined) {
    if (value === undefined || value === null) r.problem(path, 'must be a mapping: setWeight, pause or analysis');
    return undefined;
  }
  // `- pause:` parses as a key with a null value, which means an indefinite pause
  const present = ['setWeight', 'pause', 'analysis'].filter((k) => k in s && (s[k] !== undefined || k === 'pause'));
  if (present.length !== 1) {
    r.problem(path, present.length === 0 ? 'needs one of setWeight, pause, analysis' : `has ${present.join(' and ')}: a step does exactly one thing`);
    return undefined;
  }
  if (present[0] === 'setWeight') {
    if (!r.require(s.setWeight, join(path, 'setWeight'), 'a percent 0–100')) return undefined;
    return { kind: 'setWeight', weight: r.num(s.setWeight, join(path, 'setWeight'), 0, 0, 100) };
  }
  if (present[0] === 'pause') {
    const p = s.pause === null ? {} : r.mapping(s.pause, join(path, 'pause'), ['duration']);
    if (p === undefined) return undefined;
    const durationSeconds = p.duration === undefined ? undefined : r.duration(p.duration, join(join(path, 'pause'), 'duration'), 1, 1);
    return { kind: 'pause', durationSeconds };
  }
  const analysis = readAnalysisTemplate(r, s.analysis, join(path, 'analysis'));
  return analysis === undefined ? undefined : { kind: 'analysis', analysis };
}

function readCanary(r: SpecReader, value: unknown, path: string): CanaryStrategy | undefined {
  const c = r.mapping(value, path, ['steps', 'analysis', 'stickiness', 'headerRoute', 'mirrorPercent']);
  if (c === undefined) {
    if (value === null) r.problem(path, 'must be a mapping with `steps`');
    return undefined;
  }
  const steps: CanaryStep[] = [];
  if (r.require(c.steps, join(path, 'steps'), 'a list of setWeight, pause and analysis steps')) {
    const list = r.list(c.steps, join(path, 'steps'));
    if (list !== undefined && list.length === 0) r.problem(join(path, 'steps'), 'must list at least one step');
    list?.forEach((item, i) => {
      const step = readCanaryStep(r, item, join(join(path, 'steps'), i));
      if (step !== undefined) steps.push(step);
    });
  }
  const analysis = c.analysis === undefined ? undefined : readAnalysisTemplate(r, c.analysis, join(path, 'analysis'));
  const stickiness = readStickiness(r, c.stickiness, join(path, 'stickiness'));
  const headerRoute = c.headerRoute === undefined ? undefined : readHeaderRoute(r, c.headerRoute, join(path, 'headerRoute'));
  const mirrorPercent = r.num(c.mirrorPercent, join(path, 'mirrorPercent'), CANARY_DEFAULTS.mirrorPercent, 0, 100);
  if (mirrorPercent === 0) {
    // shadow diff needs a mirrored copy of the same request on both versions
    const flag = (t: AnalysisTemplate | undefined, at: string): void =>
      t?.checks.forEach((ch, i) => {
        if (ch.metric === 'shadow-disagreement') r.problem(join(join(at, 'checks'), i), 'shadow-disagreement needs mirrorPercent > 0 on the canary');
      });
    flag(analysis, join(path, 'analysis'));
    steps.forEach((s, i) => {
      if (s.kind === 'analysis') flag(s.analysis, join(join(join(path, 'steps'), i), 'analysis'));
    });
  }
  return { kind: 'canary', steps, analysis, stickiness, headerRoute, mirrorPercent };
}

function readMetric(r: SpecReader, value: unknown, path: string): ExperimentMetric | undefined {
  const m = r.mapping(value, path, ['name', 'kind', 'event', 'direction']);
  if (m === undefined) {
    if (value === undefined || value === null) r.problem(path, 'must be a mapping: {name, kind, event, direction}');
    return undefined;
  }
  const name = r.require(m.name, join(path, 'name'), 'the metric name') ? r.metricName(m.name, join(path, 'name')) : '';
  if (!r.require(m.kind, join(path, 'kind'), FEEDBACK_METRIC_KINDS.join(', '))) return undefined;
  const kind = r.oneOf<FeedbackMetricKind>(m.kind, join(path, 'kind'), 'rate', FEEDBACK_METRIC_KINDS);
  const event = readEvent(r, m.event, join(path, 'event'), kind, name);
  if (!r.require(m.direction, join(path, 'direction'), METRIC_DIRECTIONS.join(' or '))) return undefined;
  const direction = r.oneOf<MetricDirection>(m.direction, join(path, 'direction'), 'higher-is-better', METRIC_DIRECTIONS);
  return { name, kind, event, direction };
}

function readExperiment(r: SpecReader, value: unknown, path: string, ctx: StrategyContext): ExperimentStrategy | undefined {
  const e = r.mapping(value, path, ['variants', 'stickiness', 'metrics', 'stoppingRule', 'alpha']);
  if (e === undefined) {
    if (value === null) r.problem(path, 'must be a mapping with `variants` and `metrics`');
    return undefined;
  }
  const variants: ExperimentVariant[] = [];
  if (r.require(e.variants, join(path, 'variants'), 'two or more versions of the model with weights')) {
    const list = r.list(e.variants, join(path, 'variants'));
    if (list !== undefined && list.length < 2) r.problem(join(path, 'variants'), `must list at least 2 variants, got ${list.length}`);
    const names = new Map<string, number>();
    let sum = 0;
    let weightsOk = true;
    list?.forEach((item, i) => {
      const vp = join(join(path, 'variants'), i);
      const v = r.mapping(item, vp, ['name', 'version', 'alias', 'weight']);
      if (v === undefined) {
        if (item === undefined || item === null) r.problem(vp, 'must be a mapping: {name, version or alias, weight}');
        weightsOk = false;
        return;
      }
      const name = r.name(v.name, join(vp, 'name'), 'variant');
      if (name === RESERVED_VARIANT) r.problem(join(vp, 'name'), `"${RESERVED_VARIANT}" is reserved for the endpoint's stable version; pick another name (e.g. control)`);
      const earlier = names.get(name);
      if (name !== '' && earlier !== undefined) r.problem(join(vp, 'name'), `duplicates variants[${earlier}].name "${name}"`);
      if (name !== '') names.set(name, i);
      const target = readTarget(r, v, vp, ctx.model);
      let weight = 0;
      if (r.require(v.weight, join(vp, 'weight'), 'a relative weight ≥ 0')) {
        const before = r.problems.length;
        weight = r.num(v.weight, join(vp, 'weight'), 0, 0, Number.MAX_SAFE_INTEGER);
        if (r.problems.length > before) weightsOk = false;
      } else weightsOk = false;
      sum += weight;
      if (target !== undefined) variants.push({ name, target, weight });
    });
    if (list !== undefined && list.length >= 2 && weightsOk && sum <= 0) r.problem(join(path, 'variants'), 'the variant weights must add up to more than 0');
  }
  const stickiness = readStickiness(r, e.stickiness, join(path, 'stickiness'));
  const metrics: ExperimentMetric[] = [];
  if (r.require(e.metrics, join(path, 'metrics'), 'one or more outcome metrics from feedback (the first decides the winner)')) {
    const list = r.list(e.metrics, join(path, 'metrics'));
    if (list !== undefined && list.length === 0) r.problem(join(path, 'metrics'), 'must list at least one metric');
    const names = new Map<string, number>();
    list?.forEach((item, i) => {
      const m = readMetric(r, item, join(join(path, 'metrics'), i));
      if (m === undefined) return;
      const earlier = names.get(m.name);
      if (m.name !== '' && earlier !== undefined) r.problem(join(join(join(path, 'metrics'), i), 'name'), `duplicates metrics[${earlier}].name "${m.name}"`);
      names.set(m.name, i);
      metrics.push(m);
    });
  }
  const stoppingRule = readStoppingRule(r, e.stoppingRule, join(path, 'stoppingRule'));
  const alpha = r.fraction(e.alpha, join(path, 'alpha'), EXPERIMENT_DEFAULTS.alpha, 0.5);
  return { kind: 'experiment', variants, stickiness, metrics, stoppingRule, alpha };
}

function readStoppingRule(r: SpecReader, value: unknown, path: string): StoppingRule {
  const s = r.mapping(value, path, ['maxDurationSeconds', 'maxSamplesPerVariant', 'stopOnSignificance']) ?? {};
  return {
    maxDurationSeconds: s.maxDurationSeconds === undefined ? undefined : r.num(s.maxDurationSeconds, join(path, 'maxDurationSeconds'), 0, 1, 366 * 24 * 3600, true),
    maxSamplesPerVariant: s.maxSamplesPerVariant === undefined ? undefined : r.num(s.maxSamplesPerVariant, join(path, 'maxSamplesPerVariant'), 0, 1, Number.MAX_SAFE_INTEGER, true),
    stopOnSignificance: r.bool(s.stopOnSignificance, join(path, 'stopOnSignificance'), EXPERIMENT_DEFAULTS.stopOnSignificance),
  };
}

function readShadow(r: SpecReader, value: unknown, path: string, ctx: StrategyContext): ShadowStrategy | undefined {
  const s = r.mapping(value, path, ['version', 'alias', 'mirrorPercent']);
  if (s === undefined) {
    if (value === null) r.problem(path, 'must be a mapping with the shadow `version` or `alias`');
    return undefined;
  }
  const target = readTarget(r, s, path, ctx.model);
  const mirrorPercent = r.num(s.mirrorPercent, join(path, 'mirrorPercent'), SHADOW_DEFAULTS.mirrorPercent, 0, 100);
  if (s.mirrorPercent !== undefined && mirrorPercent === 0) r.problem(join(path, 'mirrorPercent'), 'must be > 0: a shadow with no mirrored traffic compares nothing');
  if (target !== undefined && ctx.target !== undefined && sameTarget(target, ctx.target)) {
    r.problem(path, `mirrors ${target.kind === 'version' ? `version ${target.version}` : `alias ${target.alias}`}, which is the endpoint's own target; name the version to shadow`);
  }
  return target === undefined ? undefined : { kind: 'shadow', target, mirrorPercent };
}

/** Reads `spec.strategy`: absent → undefined (switch at once); otherwise exactly one strategy. */
export function readStrategy(r: SpecReader, value: unknown, path: string, ctx: StrategyContext): RolloutStrategy | undefined {
  if (value === undefined || value === null) return undefined;
  const s = r.mapping(value, path, STRATEGY_KEYS);
  if (s === undefined) return undefined;
  const present = STRATEGY_KEYS.filter((k) => k in s);
  if (present.length !== 1) {
    r.problem(path, present.length === 0 ? `needs one of ${STRATEGY_KEYS.join(', ')} (leave strategy out to switch at once)` : `has ${present.join(' and ')}: give exactly one strategy`);
    return undefined;
  }
  const key = present[0];
  const at = join(path, key ?? '');
  switch (key) {
    case 'blueGreen':
      return readBlueGreen(r, s.blueGreen, at, ctx);
    case 'canary':
      return readCanary(r, s.canary, at);
    case 'experiment':
      return readExperiment(r, s.experiment, at, ctx);
    case 'shadow':
      return readShadow(r, s.shadow, at, ctx);
    default:
      return undefined;
  }
}
