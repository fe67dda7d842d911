/**
 * The vocabulary of rollout analysis: check definitions, arm summaries, verdicts with evidence, and
 * the state a check carries from one look to the next. Everything here is plain JSON-safe data
 * (no Infinity, NaN or undefined in results), because verdicts are stored and shown by the API.
 */
import type { QuantileSketchState } from '../../stats/index.js';

/** The outcome of one check. */
export type Verdict = 'Pass' | 'Fail' | 'Inconclusive' | 'InsufficientData';

/** The outcome of a whole analysis: a check verdict, or a sample-ratio mismatch that halts it. */
export type AnalysisVerdict = Verdict | 'SampleRatioMismatch';

/**
 * The written worst-wins order, worst first: the analysis takes the first verdict in this list that
 * any part of it produced. A single Fail fails the analysis (rolling back is the safe direction even
 * when the split looks wrong); a sample-ratio mismatch comes next because it makes every comparison
 * suspect; then "not enough data yet", then "data but no decision yet"; Pass only when every check
 * passes and the split is sound.
 */
export const ANALYSIS_VERDICT_ORDER: readonly AnalysisVerdict[] = Object.freeze(['Fail', 'SampleRatioMismatch', 'InsufficientData', 'Inconclusive', 'Pass']);

/** What a check compares. */
export type CheckKind = 'rate' | 'continuous' | 'latency' | 'distribution' | 'disagreement';
export const CHECK_KINDS: readonly CheckKind[] = Object.freeze(['rate', 'continuous', 'latency', 'distribution', 'disagreement']);

export type Direction = 'lower-is-better' | 'higher-is-better';

/** The always-valid method behind rate, continuous and latency checks. */
export type SequentialMethod = 'msprt' | 'confidence-sequence';

/** A normal prior N(mean, stddev²) on the effect (on the check's scale), or no prior at all. */
export type PriorSpec = 'flat' | { readonly mean?: number; readonly stddev: number };

/**
 * One check as a user writes it (in a rollout spec or an experiment). Only `metric` and `kind` are
 * always required; rate and continuous checks also need `direction`. See docs/analysis.md for each
 * field's default and why.
 */
export interface CheckDefinition {
  /** Unique within an analysis; defaults to `metric`. Keys the check's persisted state. */
  readonly name?: string;
  /** The metric in {@link AnalysisInput.metrics} this check reads. */
  readonly metric: string;
  readonly kind: CheckKind;
  readonly direction?: Direction;
  /** Observations needed in each arm before the check judges at all. Default 100. */
  readonly minimumSample?: number;
  /** Error rate of this check (before the analysis splits α across checks). Default 0.05. */
  readonly alpha?: number;
  /**
   * The largest regression accepted (check units; for latency a fraction, 0.1 = 10 % slower): Fail
   * when a regression beyond it is established. Default 0; 0.1 for distribution (Jensen–Shannon
   * distance); 0.05 for disagreement (share of mirrored requests).
   */
  readonly tolerance?: number;
  /** The smallest effect worth catching; sets the mSPRT mixing variance τ = mde². */
  readonly minimumDetectableEffect?: number;
  /** Pass once a regression of this size or more is excluded. Default max(tolerance, mde). */
  readonly nonInferiorityMargin?: number;
  /** Compare relative lift (Δ/baseline) instead of the absolute difference (rate, continuous). */
  readonly relative?: boolean;
  /** Default 'msprt'. */
  readonly method?: SequentialMethod;
  /** N* of the asymptotic confidence sequence (the total sample where it is tightest). Default 5000. */
  readonly sequentialTuning?: number;
  /** Prior for the reported chance to win. Default N(0, 0.3²) on relative scales, flat on absolute ones. */
  readonly prior?: PriorSpec;
}

/** The scale a check's difference and interval are expressed on. */
export type CheckScale = 'absolute' | 'relative' | 'ratio' | 'rate' | 'distance';

/** A definition after validation and defaults: every field resolved, frozen. */
export interface CompiledCheck {
  readonly name: string;
  readonly metric: string;
  readonly kind: CheckKind;
  readonly direction: Direction;
  readonly minimumSample: number;
  readonly alpha: number;
  readonly tolerance: number;
  readonly minimumDetectableEffect: number | null;
  readonly nonInferiorityMargin: number;
  readonly scale: CheckScale;
  readonly method: SequentialMethod | 'beta-binomial' | 'distance';
  readonly sequentialTuning: number;
  /** Mixing variance of the mSPRT on the analysis scale (log scale for latency); null when unused. */
  readonly tau: number | null;
  readonly prior: { readonly mean: number; readonly stddev: number } | null;
}

/** Counts for a rate: trials and successes (errors, conversions; for disagreement, compared pairs and disagreements). */
export interface RateArm {
  readonly kind: 'rate';
  readonly n: number;
  readonly successes: number;
}

/** Welford summary of a continuous metric (outcome values). */
export interface ContinuousArm {
  readonly kind: 'continuous';
  readonly n: number;
  readonly mean: number;
  /** Σ (x − mean)². */
  readonly m2: number;
}

/** Welford summary of ln(latency in ms), plus an optional quantile sketch of raw latencies for p50/p99. */
export interface LatencyArm {
  readonly kind: 'latency';
  readonly n: number;
  readonly logMean: number;
  readonly logM2: number;
  readonly sketch?: QuantileSketchState | null;
}

/** Counts over fixed bins (output-score histogram) or categories (predicted labels). */
export interface HistogramArm {
  readonly kind: 'histogram';
  readonly counts: readonly number[];
}

export type ArmSummary = RateArm | ContinuousArm | LatencyArm | HistogramArm;

/** One metric's data: baseline (stable) and candidate arms; missing means no data yet. */
export interface ArmPair {
  readonly baseline?: ArmSummary | null;
  readonly candidate?: ArmSummary | null;
}

/** Observed request counts per arm and the weights they were routed with, for the SRM test. */
export interface TrafficSplit {
  /** Arm names for the evidence (e.g. ['stable', 'canary']). */
  readonly arms?: readonly string[];
  readonly counts: readonly number[];
  readonly weights: readonly number[];
}

/** Everything one look of an analysis sees. Arm summaries are cumulative since the analysis began. */
export interface AnalysisInput {
  readonly metrics: Readonly<Record<string, ArmPair | undefined>>;
  readonly traffic?: TrafficSplit | null;
}

/** A closed interval; null bounds mean "unbounded" (JSON has no Infinity). */
export interface EvidenceInterval {
  readonly lower: number | null;
  readonly upper: number | null;
}

/** Fixed-horizon statistics: reported for context, never used for a verdict (not valid under peeking). */
export interface FixedHorizonEvidence {
  readonly test: 'z' | 'welch-t' | 'chi-square-homogeneity';
  readonly statistic: number | null;
  readonly degreesOfFreedom: number | null;
  readonly pValue: number | null;
  readonly interval: EvidenceInterval | null;
}

/** What a verdict rests on: stored with it and shown by the API. */
export interface CheckEvidence {
  readonly nBaseline: number;
  readonly nCandidate: number;
  readonly minimumSample: number;
  /** Units of `difference`, `interval`, `threshold` and `passMargin`. */
  readonly scale: CheckScale;
  /** Per-arm estimates: rates, means, geometric-mean latency (ms); for disagreement the candidate's rate only. */
  readonly estimates: { readonly baseline: number | null; readonly candidate: number | null };
  /** candidate − baseline on `scale` (relative lift; latency ratio − 1; the distance itself). */
  readonly difference: number | null;
  /** The always-valid interval for `difference` (for disagreement: for the disagreement rate). */
  readonly interval: EvidenceInterval | null;
  readonly statistic: number | null;
  readonly statisticName: string | null;
  /** Always-valid p-value (running minimum over looks); null where the method has none. */
  readonly pValue: number | null;
  readonly pValueNullHypothesis: string | null;
  /** Fail when a regression beyond this is established (the tolerance). */
  readonly threshold: number;
  /** Pass when a regression this large is excluded. */
  readonly passMargin: number | null;
  /** The α this look used, after the analysis split it across checks. */
  readonly alpha: number;
  readonly method: CompiledCheck['method'];
  readonly looks: number;
  readonly reason: string;
  readonly fixedHorizon: FixedHorizonEvidence | null;
  /** Relative lift (delta method) with its fixed-horizon interval, for reporting. */
  readonly lift: { readonly estimate: number; readonly standardError: number; readonly interval: EvidenceInterval } | null;
  /** Posterior probability that the candidate is better, under `prior`. */
  readonly chanceToWin: number | null;
  /** Latency quantiles (ms) from the arms' sketches. */
  readonly quantiles: {
    readonly baseline: { readonly p50: number | null; readonly p99: number | null };
    readonly candidate: { readonly p50: number | null; readonly p99: number | null };
  } | null;
}

/** A check's outcome at one look. */
export interface CheckResult {
  readonly name: string;
  readonly metric: string;
  readonly kind: CheckKind;
  readonly verdict: Verdict;
  readonly evidence: CheckEvidence;
}

/** What a check carries across looks. Reset when its parameters change or its data shrinks. */
export interface CheckState {
  /** Fingerprint of the parameters the evidence was accumulated under. */
  readonly key: string;
  /** Looks that had enough data to be judged. */
  readonly looks: number;
  /** The running maximum of ln Λ (mSPRT) or ln e (confidence sequence / beta-binomial); null before the first judged look. */
  readonly maxLogEvidence: number | null;
  readonly nBaseline: number;
  readonly nCandidate: number;
}

/** State of a whole analysis, keyed by check name. Persist it with the rollout. */
export interface AnalysisState {
  readonly version: 1;
  readonly checks: Readonly<Record<string, CheckState>>;
}

/** The sample-ratio mismatch test's evidence. */
export interface SampleRatioEvidence {
  readonly arms: readonly string[];
  readonly observed: readonly number[];
  readonly expected: readonly number[];
  readonly statistic: number | null;
  readonly degreesOfFreedom: number;
  readonly pValue: number;
  readonly threshold: number;
  readonly flagged: boolean;
}

export interface AnalysisOptions {
  /** How α is split across checks. Default 'bonferroni'. */
  readonly multipleTesting?: 'bonferroni' | 'none';
  /** Number of tests in the family; default the number of checks. Raise it for k variants: (k − 1) × checks. */
  readonly familySize?: number;
  /** SRM flags at p below this. Default 0.001. */
  readonly srmThreshold?: number;
}

/** One look of an analysis: the combined verdict, each check with evidence, and the state to persist. */
export interface AnalysisResult {
  readonly verdict: AnalysisVerdict;
  readonly reason: string;
  readonly checks: readonly CheckResult[];
  readonly sampleRatio: SampleRatioEvidence | null;
  readonly multipleTesting: { readonly method: 'bonferroni' | 'none'; readonly familySize: number };
  readonly state: AnalysisState;
}

/** What {@link evaluateCheck} returns: the result plus the check's next state. */
export interface CheckEvaluation extends CheckResult {
  readonly state: CheckState;
}
