/**
 * Traffic policies: what the rollout controller hands the data plane for one endpoint — a stable
 * version; a canary candidate with a percent of traffic, or A/B variants with weights; sticky
 * assignment by a header or cookie; header-match routes; and a mirrored share to a shadow.
 * A policy is checked once ({@link compileTrafficPolicy}, every problem reported by path) and
 * compiled into the thresholds the router compares against on every request.
 */
import { ConfigReader, deepFreeze, describe, join, type ConfigProblem } from '../../core/index.js';
import { RoutingErrors } from './errors.js';
import { saltState } from './hash.js';

/** The variant name of the stable version, in every mode. */
export const STABLE_VARIANT = 'stable';
/** The variant name of a canary's candidate. */
export const CANDIDATE_VARIANT = 'candidate';

/** Where the sticky key is read: a request header, or a cookie in the `cookie` header. */
export interface StickinessPolicy {
  readonly kind: 'header' | 'cookie';
  /** Header name (any case) or cookie name (exact). */
  readonly name: string;
  /**
   * Mixed into the hash so that two rollouts assign the same users independently. Use the
   * rollout's id and keep it for the rollout's whole life: changing it reshuffles everyone.
   */
  readonly salt: string;
}

/** Requests whose header `header` equals `value` exactly go to `variant`, whatever the weights. */
export interface HeaderRoutePolicy {
  readonly header: string;
  readonly value: string;
  /** `stable`, `candidate` (canary) or an experiment variant's name. */
  readonly variant: string;
}

/** One arm of an A/B experiment. */
export interface VariantPolicy {
  /** A DNS-label-like name; `stable` is reserved. */
  readonly name: string;
  readonly version: number;
  /** Relative weight ≥ 0; the variants' weights are normalised by their sum (which must be > 0). */
  readonly weight: number;
}

/** A copy of a share of requests goes to a shadow version; its answers are compared, never returned. */
export interface MirrorPolicy {
  readonly version: number;
  /** Share of requests mirrored, 0–100 (fractions allowed). */
  readonly percent: number;
}

/** One endpoint's traffic policy, as the rollout controller states it. */
export interface TrafficPolicy {
  readonly stable: number;
  /** Canary: the candidate and its share of traffic in percent, 0–100 (fractions allowed). */
  readonly candidate?: { readonly version: number; readonly weight: number };
  /** A/B: two or more variants. Excludes `candidate`. */
  readonly variants?: readonly VariantPolicy[];
  readonly stickiness?: StickinessPolicy;
  /** Checked in order; the first match wins. */
  readonly headerRoutes?: readonly HeaderRoutePolicy[];
  readonly mirror?: MirrorPolicy;
}

/** Something a request can be routed to. */
export interface RouteTarget {
  readonly name: string;
  readonly version: number;
}

/** A policy checked and turned into thresholds. Deep-frozen. */
export interface CompiledTrafficPolicy {
  /** `stable`: one version; `canary`: stable + candidate; `experiment`: A/B variants. */
  readonly mode: 'stable' | 'canary' | 'experiment';
  readonly stable: number;
  /**
   * Route targets. The first `splitCount` share the traffic by weight; the stable version is
   * always present (last) so a header route can name it. Canary: [candidate, stable], so the
   * candidate owns the buckets [0, weight/100) and a larger weight keeps everyone it had.
   */
  readonly targets: readonly RouteTarget[];
  /** How many leading targets take part in the weighted split (0 when all traffic is stable). */
  readonly splitCount: number;
  /** Cumulative upper bounds in [0, 1] of the split targets' slices; the last is 1. */
  readonly upperBounds: readonly number[];
  /** Each split target's share of traffic, 0–1. */
  readonly shares: readonly number[];
  readonly stickiness: (StickinessPolicy & { readonly saltState: number }) | undefined;
  readonly headerRoutes: readonly { readonly header: string; readonly value: string; readonly target: number }[];
  /** Mirrored share 0–1 and the shadow version; undefined when nothing is mirrored. */
  readonly mirror: { readonly version: number; readonly fraction: number } | undefined;
}

/** RFC 9110 token: what a header or cookie name may contain. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VARIANT_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Checks a policy and compiles it; throws ROUTING_POLICY_INVALID listing every problem. */
export function compileTrafficPolicy(policy: TrafficPolicy): CompiledTrafficPolicy {
  const r = new ConfigReader();
  const version = (value: unknown, path: string): number => {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) return value;
    r.problem(path, `must be a version number (a whole number ≥ 1), got ${describe(value)}`);
    return 1;
  };
  const percent = (value: unknown, path: string): number => {
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 100) return value;
    r.problem(path, `must be a percent ≥ 0 and ≤ 100, got ${describe(value)}`);
    return 0;
  };

  const stable = version(policy.stable, 'stable');
  const targets: RouteTarget[] = [];
  let shares: number[] = [];
  let mode: CompiledTrafficPolicy['mode'] = 'stable';
  if (policy.candidate !== undefined && policy.variants !== undefined) {
    r.problem('variants', 'a policy has either a candidate (canary) or variants (A/B), not both');
  } else if (policy.candidate !== undefined) {
    mode = 'canary';
    const weight = percent(policy.candidate.weight, 'candidate.weight');
    targets.push({ name: CANDIDATE_VARIANT, version: version(policy.candidate.version, 'candidate.version') });
    shares = weight > 0 ? [weight / 100, 1 - weight / 100] : [];
  } else if (policy.variants !== undefined) {
    mode = 'experiment';
    const variants = policy.variants;
    if (variants.length < 2) r.problem('variants', `an experiment needs at least 2 variants, got ${variants.length}`);
    let sum = 0;
    const seen = new Set<string>();
    variants.forEach((v, i) => {
      const path = join('variants', i);
      if (typeof v.name !== 'string' || !VARIANT_NAME.test(v.name)) r.problem(join(path, 'name'), `must be a DNS label (lowercase letters, digits, "-"), got ${describe(v.name)}`);
      else if (v.name === STABLE_VARIANT) r.problem(join(path, 'name'), `"${STABLE_VARIANT}" is reserved for the stable version`);
      else if (seen.has(v.name)) r.problem(join(path, 'name'), `duplicates another variant's name "${v.name}"`);
      seen.add(v.name);
      const w = v.weight;
      if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) r.problem(join(path, 'weight'), `must be a number ≥ 0, got ${describe(w)}`);
      else sum += w;
      targets.push({ name: v.name, version: version(v.version, join(path, 'version')) });
    });
    if (variants.length >= 2 && sum <= 0) r.problem('variants', 'the variant weights must add up to more than 0');
    shares = sum > 0 ? variants.map((v) => (typeof v.weight === 'number' && v.weight > 0 ? v.weight / sum : 0)) : [];
  }
  // a canary at weight 0 has no split, but its candidate stays addressable by a header route
  const splitCount = shares.length;
  targets.push({ name: STABLE_VARIANT, version: stable });
  const upperBounds: number[] = [];
  let acc = 0;
  for (let i = 0; i < splitCount; i++) {
    acc += shares[i] ?? 0;
    upperBounds.push(i === splitCount - 1 ? 1 : acc);
  }

  let stickiness: CompiledTrafficPolicy['stickiness'];
  if (policy.stickiness !== undefined) {
    const s = policy.stickiness;
    if (s.kind !== 'header' && s.kind !== 'cookie') r.problem('stickiness.kind', `must be header or cookie, got ${describe(s.kind)}`);
    if (typeof s.name !== 'string' || !TOKEN.test(s.name)) r.problem('stickiness.name', `must be a header or cookie name (an HTTP token), got ${describe(s.name)}`);
    if (typeof s.salt !== 'string') r.problem('stickiness.salt', `must be a string (the rollout's id), got ${describe(s.salt)}`);
    const salt = typeof s.salt === 'string' ? s.salt : '';
    // header names are case-insensitive and Node lower-cases them; cookie names are case-sensitive
    const name = s.kind === 'header' ? String(s.name).toLowerCase() : String(s.name);
    stickiness = { kind: s.kind, name, salt, saltState: saltState(salt) };
  }

  const headerRoutes: { header: string; value: string; target: number }[] = [];
  (policy.headerRoutes ?? []).forEach((h, i) => {
    const path = join('headerRoutes', i);
    if (typeof h.header !== 'string' || !TOKEN.test(h.header)) r.problem(join(path, 'header'), `must be a header name (an HTTP token), got ${describe(h.header)}`);
    if (typeof h.value !== 'string' || h.value === '') r.problem(join(path, 'value'), `must be a non-empty string, got ${describe(h.value)}`);
    const target = targets.findIndex((t) => t.name === h.variant);
    if (target < 0) r.problem(join(path, 'variant'), `must name a variant of the policy (${targets.map((t) => t.name).join(', ')}), got ${describe(h.variant)}`);
    headerRoutes.push({ header: String(h.header).toLowerCase(), value: String(h.value), target: Math.max(0, target) });
  });

  let mirror: CompiledTrafficPolicy['mirror'];
  if (policy.mirror !== undefined) {
    const v = version(policy.mirror.version, 'mirror.version');
    const p = percent(policy.mirror.percent, 'mirror.percent');
    mirror = p > 0 ? { version: v, fraction: p / 100 } : undefined;
  }

  if (r.problems.length > 0) throw invalidPolicy(r.problems);
  return deepFreeze({ mode, stable, targets, splitCount, upperBounds, shares, stickiness, headerRoutes, mirror });
}

function invalidPolicy(problems: readonly ConfigProblem[]) {
  const lines = problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
  return RoutingErrors.ROUTING_POLICY_INVALID(`invalid traffic policy (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines}`, {
    details: { problems: problems.map((p) => ({ path: p.path, message: p.message })) },
  });
}
