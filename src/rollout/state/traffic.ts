/**
 * The traffic policy a rollout's state implies. It reads only persisted fields (versions, phase,
 * weight, readiness, strategy, sticky salt), so a server restarted from the store routes exactly
 * as it did before it stopped: same split, and with the same salt, every sticky key on the same side.
 */
import type { StickinessPolicy, TrafficPolicy } from '../../serving/routing/index.js';
import { CANDIDATE } from './transition.js';
import type { Rollout } from './types.js';

/**
 * The router policy for an endpoint while this rollout is its latest: stable plus the candidate's
 * weight (canary), the variants (experiment), a mirror (shadow, canary `mirrorPercent`), the header
 * route and stickiness. Before the candidate is ready nothing but stable is routed; Promoting and
 * Promoted send everything to the promoted version, Aborting and Aborted to stable.
 */
export function trafficPolicyOf(rollout: Rollout): TrafficPolicy {
  const { strategy } = rollout;
  if (rollout.phase === 'Promoting' || rollout.phase === 'Promoted') {
    return { stable: rollout.promotion?.version ?? rollout.candidateVersion ?? rollout.stableVersion };
  }
  if (rollout.phase === 'Aborting' || rollout.phase === 'Aborted' || rollout.candidateReadyAt === null) {
    return { stable: rollout.stableVersion };
  }
  const sticky = (spec: { readonly kind: 'header' | 'cookie'; readonly name: string } | undefined): { stickiness?: StickinessPolicy } =>
    spec === undefined ? {} : { stickiness: { kind: spec.kind, name: spec.name, salt: rollout.stickySalt } };
  const candidate = rollout.candidateVersion ?? rollout.stableVersion;
  switch (strategy.kind) {
    case 'canary':
      return {
        stable: rollout.stableVersion,
        candidate: { version: candidate, weight: rollout.currentWeight },
        ...sticky(strategy.stickiness),
        ...(strategy.headerRoute === undefined ? {} : { headerRoutes: [{ header: strategy.headerRoute.header, value: strategy.headerRoute.value, variant: CANDIDATE }] }),
        ...(strategy.mirrorPercent > 0 ? { mirror: { version: candidate, percent: strategy.mirrorPercent } } : {}),
      };
    case 'blueGreen':
      // green is reached through its preview endpoint until the switch
      return { stable: rollout.stableVersion };
    case 'shadow':
      return { stable: rollout.stableVersion, mirror: { version: candidate, percent: strategy.mirrorPercent } };
    case 'experiment':
      if (rollout.variants === null || rollout.currentWeight === 0) return { stable: rollout.stableVersion };
      return {
        stable: rollout.stableVersion,
        variants: rollout.variants.map((v) => ({ name: v.name, version: v.version, weight: v.weight })),
        ...sticky(strategy.stickiness),
      };
  }
}
