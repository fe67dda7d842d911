/**
 * The traffic router: picks, for one request, the version that answers it and whether a copy
 * goes to the shadow. It runs on every request, so it is synchronous, reads headers in place
 * (the sticky key is hashed straight from the header string, cookies included, without slicing)
 * and returns one of a fixed set of frozen decisions built when the router is created.
 *
 * Order, first match wins: a header route; the sticky key's bucket; a weighted random draw
 * (requests without a sticky key); the stable version when the policy has no split.
 */
import { compileTrafficPolicy, type CompiledTrafficPolicy, type TrafficPolicy } from './policy.js';
import { bucketFromState } from './hash.js';

/** Request headers as Node gives them: lower-case names, repeated headers as arrays. */
export type RouteHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Why a request went where it went. */
export type RouteReason = 'header' | 'sticky' | 'weighted' | 'stable';

/** The router's answer for one request. Shared and frozen: do not mutate. */
export interface RouteDecision {
  /** `stable`, `candidate` or the experiment variant's name. */
  readonly variant: string;
  readonly version: number;
  /** True when the sticky key decided (the same key will get the same variant). */
  readonly sticky: boolean;
  readonly reason: RouteReason;
  /** Whether to send a copy of this request to the shadow version. */
  readonly mirror: boolean;
  /** The shadow version when `mirror` is true. */
  readonly mirrorVersion: number | undefined;
}

export interface RouterOptions {
  /** A uniform draw in [0, 1) for weighted and mirror choices; default Math.random. Inject a seeded one in tests. */
  readonly random?: () => number;
}

export interface Router {
  readonly policy: CompiledTrafficPolicy;
  /** Routes one request by its headers. Synchronous, never throws. */
  route(headers: RouteHeaders): RouteDecision;
}

const REASONS: readonly RouteReason[] = ['header', 'sticky', 'weighted', 'stable'];
const HEADER = 0;
const STICKY = 1;
const WEIGHTED = 2;
const STABLE = 3;

/** Creates a router for a policy; throws ROUTING_POLICY_INVALID when the policy is inconsistent. */
export function createRouter(policy: TrafficPolicy, options: RouterOptions = {}): Router {
  const compiled = compileTrafficPolicy(policy);
  const random = options.random ?? Math.random;
  const { targets, splitCount, upperBounds, stickiness, headerRoutes, mirror } = compiled;
  const stableIndex = targets.length - 1;

  // every answer the router can give, built once: [target][reason][mirror]
  const decisions: RouteDecision[] = [];
  for (const target of targets) {
    for (const reason of REASONS) {
      for (const mirrored of [false, true]) {
        // mirroring a version to itself compares nothing
        const m = mirrored && mirror !== undefined && mirror.version !== target.version;
        decisions.push(Object.freeze({ variant: target.name, version: target.version, sticky: reason === 'sticky', reason, mirror: m, mirrorVersion: m ? mirror.version : undefined }));
      }
    }
  }
  const decide = (target: number, reason: number): RouteDecision => {
    let mirrored = 0;
    if (mirror !== undefined && (mirror.fraction >= 1 || random() < mirror.fraction)) mirrored = 1;
    return decisions[target * 8 + reason * 2 + mirrored] as RouteDecision;
  };
  const pick = (u: number): number => {
    for (let i = 0; i < splitCount - 1; i++) if (u < (upperBounds[i] as number)) return i;
    return splitCount - 1;
  };

  const stickyBucket = (headers: RouteHeaders): number => {
    if (stickiness === undefined) return -1;
    if (stickiness.kind === 'header') {
      const raw = headers[stickiness.name];
      const value = typeof raw === 'string' ? raw : raw?.[0];
      if (value === undefined || value === '') return -1;
      return bucketFromState(stickiness.saltState, value);
    }
    const cookie = headers.cookie;
    const text = typeof cookie === 'string' ? cookie : cookie?.join('; ');
    return text === undefined ? -1 : cookieBucket(stickiness.saltState, text, stickiness.name);
  };

  return {
    policy: compiled,
    route(headers) {
      for (const hr of headerRoutes) {
        const raw = headers[hr.header];
        if (raw === hr.value || (typeof raw === 'object' && raw.includes(hr.value))) return decide(hr.target, HEADER);
      }
      if (splitCount === 0) return decide(stableIndex, STABLE);
      const bucket = stickyBucket(headers);
      if (bucket >= 0) return decide(pick(bucket), STICKY);
      return decide(pick(random()), WEIGHTED);
    },
  };
}

const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;

/**
 * Finds cookie `name` in a Cookie header (`a=1; b=2`) and hashes its value in place; -1 when the
 * cookie is absent or empty. A value in double quotes is hashed without them (RFC 6265).
 */
export function cookieBucket(saltState: number, header: string, name: string): number {
  const n = header.length;
  let i = 0;
  while (i < n) {
    while (i < n && (header.charCodeAt(i) === SPACE || header.charCodeAt(i) === TAB)) i++;
    let end = header.indexOf(';', i);
    if (end < 0) end = n;
    const eq = header.indexOf('=', i);
    if (eq > i && eq < end && eq - i === name.length && header.startsWith(name, i)) {
      let start = eq + 1;
      let stop = end;
      while (stop > start && (header.charCodeAt(stop - 1) === SPACE || header.charCodeAt(stop - 1) === TAB)) stop--;
      if (stop - start >= 2 && header.charCodeAt(start) === QUOTE && header.charCodeAt(stop - 1) === QUOTE) {
        start++;
        stop--;
      }
      return stop > start ? bucketFromState(saltState, header, start, stop) : -1;
    }
    i = end + 1;
  }
  return -1;
}
