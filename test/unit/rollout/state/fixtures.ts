/**
 * Shared material for the rollout state tests: real compiled strategies (through the spec parser,
 * so that they have exactly the shape `slipway apply` produces), analysis results by verdict, and
 * a helper that starts a rollout of each kind.
 */
import { analyse, type AnalysisResult, type AnalysisVerdict } from '../../../../src/rollout/analysis/index.js';
import { parseEndpointSpecs, type RolloutStrategy } from '../../../../src/rollout/spec/index.js';
import { startRollout, type NewRolloutInput, type StartResult } from '../../../../src/rollout/state/index.js';

export const T0 = Date.UTC(2026, 2, 3, 12, 0, 0);
export const SECOND = 1000;

/** Compiles the `strategy:` block of an endpoint spec (indented by four spaces). */
export function strategyOf(yaml: string): RolloutStrategy {
  const [doc] = parseEndpointSpecs(`apiVersion: slipway.dev/v1\nkind: Endpoint\nmetadata: { name: fraud }\nspec:\n  model: fraud\n  version: 2\n  strategy:\n${yaml}`);
  const strategy = doc?.spec.strategy;
  if (strategy === undefined) throw new Error('fixture spec has no strategy');
  return strategy;
}

/** setWeight 10 → pause 60 s → analysis (deadline 600 s) → setWeight 50 → pause until promote; background analysis; sticky header; header route; 5 % mirror. */
export const CANARY = strategyOf(`
    canary:
      steps:
        - setWeight: 10
        - pause: { duration: 60s }
        - analysis: { interval: 30s, deadlineSeconds: 600 }
        - setWeight: 50
        - pause: {}
      analysis: { interval: 1m, deadlineSeconds: 900 }
      stickiness: { header: x-user-id }
      headerRoute: {}
      mirrorPercent: 5
`);

/** Two setWeight steps only: promotes as soon as the candidate is ready. */
export const CANARY_WEIGHTS_ONLY = strategyOf(`
    canary:
      steps:
        - setWeight: 20
        - setWeight: 40.5
`);

export const BLUE_GREEN_MANUAL = strategyOf(`
    blueGreen:
      autoPromote: false
      previewEndpoint: fraud-preview
      smokeRequests:
        - inputs: [ { name: x, datatype: FP32, shape: [1, 2], data: [0.5, 1.5] } ]
      prePromotionAnalysis: { interval: 30s, deadlineSeconds: 300 }
`);

export const BLUE_GREEN_AUTO = strategyOf(`
    blueGreen:
      autoPromotionSeconds: 120
`);

export const SHADOW = strategyOf(`
    shadow:
      version: 3
      mirrorPercent: 50
`);

export const EXPERIMENT = strategyOf(`
    experiment:
      variants:
        - { name: control, version: 2, weight: 50 }
        - { name: treatment, version: 3, weight: 50 }
      stickiness: { cookie: uid }
      metrics:
        - { name: conversion, kind: rate, event: converted, direction: higher-is-better }
`);

export const STRATEGIES = { CANARY, CANARY_WEIGHTS_ONLY, BLUE_GREEN_MANUAL, BLUE_GREEN_AUTO, SHADOW, EXPERIMENT } as const;
export type StrategyName = keyof typeof STRATEGIES;

/** A rollout input for a strategy: stable 2, candidate 3 (or the experiment's variants). */
export function inputFor(name: StrategyName, overrides: Partial<NewRolloutInput> = {}): NewRolloutInput {
  const strategy = STRATEGIES[name];
  const base: NewRolloutInput =
    strategy.kind === 'experiment'
      ? {
          endpoint: 'fraud',
          model: 'fraud',
          strategy,
          stableVersion: 2,
          variants: [
            { name: 'control', version: 2, weight: 50 },
            { name: 'treatment', version: 3, weight: 50 },
          ],
        }
      : { endpoint: 'fraud', model: 'fraud', strategy, stableVersion: 2, candidateVersion: 3 };
  return { ...base, ...overrides };
}

export function start(name: StrategyName, overrides: Partial<NewRolloutInput> = {}, now = T0): StartResult {
  return startRollout(inputFor(name, overrides), now, 'alice');
}

/** A synthetic analysis result with the given verdict (the state machine reads the verdict only). */
export function result(verdict: AnalysisVerdict, looks = 1): AnalysisResult {
  return {
    verdict,
    reason: `synthetic ${verdict}`,
    checks: [],
    sampleRatio: null,
    multipleTesting: { method: 'bonferroni', familySize: 1 },
    state: { version: 1, checks: { 'error-rate': { key: 'k', looks, maxLogEvidence: looks === 0 ? null : looks / 10, nBaseline: 100 * looks, nCandidate: 10 * looks } } },
  };
}

/** A real result from the analysis engine: the candidate's error rate is far above stable's. */
export function realFailingResult(): AnalysisResult {
  return analyse(
    [{ name: 'error-rate', metric: 'errors', kind: 'rate', direction: 'lower-is-better', minimumDetectableEffect: 0.01 }],
    {
      metrics: { errors: { baseline: { kind: 'rate', n: 20_000, successes: 200 }, candidate: { kind: 'rate', n: 2_000, successes: 200 } } },
      traffic: { arms: ['stable', 'canary'], counts: [20_000, 2_000], weights: [0.9, 0.1] },
    },
  );
}
