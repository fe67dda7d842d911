/**
 * The manual traffic policy of an endpoint (`PUT /api/v1/endpoints/{name}/traffic`): a canary
 * split, A/B variants, sticky assignment, header routes and a shadow mirror, set by hand — what
 * KServe's `canaryTrafficPercent` does, plus stickiness and mirroring. Rollout strategies drive
 * the same primitive.
 */
import { ConfigReader, join } from '../core/index.js';
import { AUTOSCALER_OPTION_KEYS } from '../scaling/index.js';
import type { AutoscalingOverrides } from '../serving/endpoint-settings.js';
import type { RouteHeaders, StickinessPolicy, TrafficPolicy } from '../serving/routing/index.js';
import type { TrafficFigures } from '../serving/dataplane.js';

/** What the control API needs to read and change an endpoint's traffic policy. */
export interface TrafficControl {
  get(endpoint: string): TrafficPolicy | undefined;
  /** Loads what the policy names, then applies it; undefined clears it. */
  set(endpoint: string, policy: TrafficPolicy | undefined): Promise<void>;
  figures(endpoint: string): TrafficFigures | undefined;
}

export type { RouteHeaders };

const TOP_KEYS = ['candidate', 'variants', 'stickiness', 'headerRoutes', 'mirror'] as const;

/**
 * Reads a traffic body into a policy around `stable` (the endpoint's stable version). Every
 * problem is reported at once with its path; the router's own checks (weights, names) run when
 * the policy is applied.
 */
export function readTrafficBody(body: unknown, endpoint: string, stable: number): TrafficPolicy {
  const r = new ConfigReader();
  const o = r.object(body, '');
  r.onlyKeys(o, '', TOP_KEYS);
  const version = (v: unknown, path: string): number => r.integer(v, path, 0, 1);
  const policy: { -readonly [K in keyof TrafficPolicy]: TrafficPolicy[K] } = { stable };
  if (o.candidate !== undefined) {
    const c = r.object(o.candidate, 'candidate');
    r.onlyKeys(c, 'candidate', ['version', 'weight']);
    if (c.version === undefined) r.problem('candidate.version', 'is required');
    const weight = typeof c.weight === 'number' ? c.weight : NaN;
    if (!(weight >= 0 && weight <= 100)) r.problem('candidate.weight', `must be a number from 0 to 100 (percent of requests), got ${JSON.stringify(c.weight)}`);
    policy.candidate = { version: version(c.version, 'candidate.version'), weight };
  }
  if (o.variants !== undefined) {
    if (!Array.isArray(o.variants)) r.problem('variants', 'must be a list of {name, version, weight}');
    else {
      policy.variants = o.variants.map((item: unknown, i) => {
        const path = join('variants', i);
        const v = r.object(item, path);
        r.onlyKeys(v, path, ['name', 'version', 'weight']);
        const weight = typeof v.weight === 'number' ? v.weight : NaN;
        if (!(weight >= 0)) r.problem(join(path, 'weight'), `must be a number ≥ 0, got ${JSON.stringify(v.weight)}`);
        return { name: r.string(v.name, join(path, 'name'), ''), version: version(v.version, join(path, 'version')), weight };
      });
    }
  }
  if (o.stickiness !== undefined) {
    const st = r.object(o.stickiness, 'stickiness');
    r.onlyKeys(st, 'stickiness', ['header', 'cookie', 'salt']);
    const header = r.optionalString(st.header, 'stickiness.header');
    const cookie = r.optionalString(st.cookie, 'stickiness.cookie');
    if ((header === undefined) === (cookie === undefined)) r.problem('stickiness', 'needs exactly one of header or cookie');
    const salt = r.optionalString(st.salt, 'stickiness.salt') ?? endpoint;
    const sticky: StickinessPolicy = header !== undefined ? { kind: 'header', name: header.toLowerCase(), salt } : { kind: 'cookie', name: cookie ?? '', salt };
    policy.stickiness = sticky;
  }
  if (o.headerRoutes !== undefined) {
    if (!Array.isArray(o.headerRoutes)) r.problem('headerRoutes', 'must be a list of {header, value, variant}');
    else {
      policy.headerRoutes = o.headerRoutes.map((item: unknown, i) => {
        const path = join('headerRoutes', i);
        const h = r.object(item, path);
        r.onlyKeys(h, path, ['header', 'value', 'variant']);
        return { header: r.string(h.header, join(path, 'header'), '').toLowerCase(), value: r.string(h.value, join(path, 'value'), ''), variant: r.string(h.variant, join(path, 'variant'), '') };
      });
    }
  }
  if (o.mirror !== undefined) {
    const m = r.object(o.mirror, 'mirror');
    r.onlyKeys(m, 'mirror', ['version', 'percent']);
    if (m.version === undefined) r.problem('mirror.version', 'is required');
    const percent = m.percent === undefined ? 100 : typeof m.percent === 'number' ? m.percent : NaN;
    if (!(percent >= 0 && percent <= 100)) r.problem('mirror.percent', `must be a number from 0 to 100, got ${JSON.stringify(m.percent)}`);
    policy.mirror = { version: version(m.version, 'mirror.version'), percent };
  }
  r.finish('traffic policy');
  return policy;
}

/**
 * Reads a `PUT /api/v1/endpoints/{name}/scaling` body: the autoscaler options the endpoint sets
 * (any of them; the server's fill in the rest). Keys and whole numbers are checked here, ranges and
 * cross-field rules when the options are compiled with the server's.
 */
export function readAutoscalingBody(body: unknown): AutoscalingOverrides {
  const r = new ConfigReader();
  const o = r.object(body, '');
  const keys = AUTOSCALER_OPTION_KEYS.filter((k) => k !== 'maxEvents');
  r.onlyKeys(o, '', keys);
  const out: Partial<Record<(typeof keys)[number], number>> = {};
  for (const key of keys) {
    if (o[key] === undefined) continue;
    const v = r.integer(o[key], key, 0, 0);
    out[key] = v;
  }
  r.finish('autoscaler options');
  return out;
}
