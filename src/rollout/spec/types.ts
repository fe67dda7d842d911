/**
 * The declarative endpoint spec applied with `slipway apply -f FILE.yaml` and POST /api/v1/apply,
 * in the shape of a Kubernetes object. These are the compiled forms: every default applied,
 * durations in seconds, header names lower-cased, deep-frozen. docs/rollout-spec.md describes
 * each field, its default and where the name comes from (Argo Rollouts where borrowed).
 */
import type { EndpointTarget } from '../../registry/index.js';

export const SPEC_API_VERSION = 'slipway.dev/v1';
export const SPEC_KINDS = ['Endpoint'] as const;
export type SpecKind = (typeof SPEC_KINDS)[number];

/** One `kind: Endpoint` document. */
export interface EndpointSpecDocument {
  readonly apiVersion: typeof SPEC_API_VERSION;
  readonly kind: 'Endpoint';
  readonly metadata: { readonly name: string };
  readonly spec: EndpointSpec;
}

/** What the endpoint should serve and how to get there. */
export interface EndpointSpec {
  readonly model: string;
  /** The version to serve: pinned (`version: 3`) or following an alias (`alias: production`). */
  readonly target: EndpointTarget;
  /** The description of an endpoint that apply creates; an existing endpoint keeps its own. */
  readonly description: string | undefined;
  /** undefined: switch at once, dropping no request (the behaviour without rollouts). */
  readonly strategy: RolloutStrategy | undefined;
}

export type RolloutStrategy = BlueGreenStrategy | CanaryStrategy | ExperimentStrategy | ShadowStrategy;
export type StrategyKind = RolloutStrategy['kind'];

/** Blue-green: load and warm the new version beside the old, check it, switch all traffic at once. */
export interface BlueGreenStrategy {
  readonly kind: 'blueGreen';
  /** Promote without a human once green is ready and its checks pass (Argo's autoPromotionEnabled). Default true. */
  readonly autoPromote: boolean;
  /** With autoPromote, wait this long after green is ready before switching. Default 0. */
  readonly autoPromotionSeconds: number;
  /** Keep blue loaded this long after the switch so that rollback is instant. Default 30. */
  readonly scaleDownDelaySeconds: number;
  /** An endpoint name that serves green before promotion (Argo's previewService); undefined: none. */
  readonly previewEndpoint: string | undefined;
  /** Requests sent to green before promotion; each must answer with its status. Default none. */
  readonly smokeRequests: readonly SmokeRequest[];
  /** Analysis of green before the switch; undefined: none. */
  readonly prePromotionAnalysis: AnalysisTemplate | undefined;
}

/** One smoke request: `{inputs, outputs}` is an Open Inference Protocol request body. */
export interface SmokeRequest {
  readonly inputs: readonly SmokeInput[];
  /** Outputs asked for (`[{name}]`), undefined: all. */
  readonly outputs: readonly { readonly name: string }[] | undefined;
  /** The HTTP status green must answer with. Default 200. */
  readonly expectStatus: number;
}

/** An OIP request input as written in the spec (checked for shape; the model signature is checked when it is sent). */
export interface SmokeInput {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  /** Flat or nested, as OIP allows. */
  readonly data: readonly unknown[];
}

/** Canary: move a share of traffic to the new version step by step, checking as it goes. */
export interface CanaryStrategy {
  readonly kind: 'canary';
  readonly steps: readonly CanaryStep[];
  /** Runs from the first step to promotion (Argo's background analysis); undefined: none. */
  readonly analysis: AnalysisTemplate | undefined;
  readonly stickiness: StickinessSpec | undefined;
  /** Requests with this header value go to the candidate whatever its weight. */
  readonly headerRoute: HeaderRouteSpec | undefined;
  /** Share of stable traffic also mirrored to the candidate, 0–100. Default 0. */
  readonly mirrorPercent: number;
}

export type CanaryStep =
  | { readonly kind: 'setWeight'; readonly weight: number }
  /** `durationSeconds` undefined: wait for `slipway rollout promote`. */
  | { readonly kind: 'pause'; readonly durationSeconds: number | undefined }
  | { readonly kind: 'analysis'; readonly analysis: AnalysisTemplate };

/** Where the sticky key is read. `name` is lower-cased for headers, kept as written for cookies. */
export interface StickinessSpec {
  readonly kind: 'header' | 'cookie';
  readonly name: string;
}

export interface HeaderRouteSpec {
  /** Lower-cased. Default `x-slipway-variant`. */
  readonly header: string;
  /** Default `canary`. */
  readonly value: string;
}

/** A/B experiment: two or more versions share traffic until a stopping rule or a human ends it. */
export interface ExperimentStrategy {
  readonly kind: 'experiment';
  readonly variants: readonly ExperimentVariant[];
  /** Unset: every request is assigned on its own (the unit of the experiment is the request). */
  readonly stickiness: StickinessSpec | undefined;
  /** The first metric decides the winner; the others are reported. */
  readonly metrics: readonly ExperimentMetric[];
  readonly stoppingRule: StoppingRule;
  /** Significance level of the verdict. Default 0.05. */
  readonly alpha: number;
}

export interface ExperimentVariant {
  readonly name: string;
  readonly target: EndpointTarget;
  /** Relative weight ≥ 0; the weights are normalised by their sum. */
  readonly weight: number;
}

export type FeedbackMetricKind = 'rate' | 'mean' | 'accuracy';
export type MetricDirection = 'higher-is-better' | 'lower-is-better';

/** An outcome measured from the feedback API, joined to predictions by request id. */
export interface ExperimentMetric {
  readonly name: string;
  /** `rate`: share of predictions with feedback `event`; `mean`: mean feedback `value`; `accuracy`: share whose feedback `label` equals the prediction. */
  readonly kind: FeedbackMetricKind;
  /** rate: the event counted (default: the metric's name); mean: only values of this event (undefined: all); accuracy: undefined. */
  readonly event: string | undefined;
  readonly direction: MetricDirection;
}

export interface StoppingRule {
  readonly maxDurationSeconds: number | undefined;
  readonly maxSamplesPerVariant: number | undefined;
  /** End as soon as the always-valid test declares a winner. Default true. */
  readonly stopOnSignificance: boolean;
}

/** Shadow: the new version gets a mirrored copy of live traffic; its answers are compared, never returned. */
export interface ShadowStrategy {
  readonly kind: 'shadow';
  readonly target: EndpointTarget;
  /** Share of requests mirrored, 0–100. Default 100. */
  readonly mirrorPercent: number;
}

export const BUILTIN_CHECK_METRICS = ['error-rate', 'latency-p99', 'latency-mean-log', 'prediction-js', 'shadow-disagreement'] as const;
export type BuiltinCheckMetric = (typeof BUILTIN_CHECK_METRICS)[number];
export type CheckMetric = BuiltinCheckMetric | `feedback:${string}`;

/** One comparison of candidate against baseline. */
export interface AnalysisCheck {
  readonly metric: CheckMetric;
  /** How much worse the candidate may be before the check fails. */
  readonly tolerance: number;
  /** true: tolerance is a fraction of the baseline's value (0.2 = 20 % worse). */
  readonly relative: boolean;
  /** The smallest effect worth catching, in the check's units; required when tolerance is 0. */
  readonly minimumDetectableEffect: number | undefined;
  /** Built-in metrics are all lower-is-better. */
  readonly direction: MetricDirection;
  /** For `feedback:<name>` checks: how the metric is computed. */
  readonly feedback: { readonly name: string; readonly kind: FeedbackMetricKind; readonly event: string | undefined } | undefined;
}

/** How a candidate is judged: how often, on how much data, for how long, at what level, on what. */
export interface AnalysisTemplate {
  readonly intervalSeconds: number;
  /** Below this many observations in either arm a check is InsufficientData, never Fail. */
  readonly minimumSamplePerArm: number;
  /** How long the analysis may stay without a verdict before the rollout pauses for a human. */
  readonly deadlineSeconds: number;
  readonly alpha: number;
  readonly checks: readonly AnalysisCheck[];
}
