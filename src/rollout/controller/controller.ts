/**
 * The rollout controller: turns applied endpoint specs into rollouts and drives them. It is the
 * only writer of rollout state besides the verbs, and it keeps three things in step:
 *
 * - the registry's endpoint target — what the spec asks for (`slipway apply`, an alias move);
 * - the stable version — what serves when no rollout splits traffic. For canary and blue-green
 *   endpoints the controller holds it (EndpointStrategyStore) and the deployment manager asks for
 *   it (`stableVersionOf`), so a new target never switches at once: it starts the strategy, and
 *   only a promotion or a rollback moves the stable version;
 * - the data plane's traffic policy — always `trafficPolicyOf(rollout)` (plus the candidate kept
 *   loaded at weight 0 where a strategy routes nothing to it), so that after a restart the same
 *   state routes the same way.
 *
 * Every change is a `transition` persisted before the world is made to match it; Promoting and
 * Aborting finish their side effects (registry, stable version, traffic) and then record
 * `finalized`, so a crash at any point is finished by the next start. Verbs and controller events
 * run one at a time per endpoint; loading a candidate does not hold that lock, so `abort` and
 * `promote` never wait behind a load.
 */
import { isDeepStrictEqual } from 'node:util';
import { httpStatusFor, newId, toPlatformError, type Clock, type Logger, type ModelSignature, type PlatformError } from '../../core/index.js';
import type { EndpointTarget, Registry } from '../../registry/index.js';
import type { InferenceContext, InferenceRequest, InferenceResult } from '../../serving/inference.js';
import type { TrafficFigures, VariantFigures } from '../../serving/dataplane.js';
import type { TrafficPolicy } from '../../serving/routing/index.js';
import { decodeInferenceRequest } from '../../serving/protocol/oip-json.js';
import { analyse, type AnalysisResult, type ArmSummary } from '../analysis/index.js';
import { engineChecksOf } from '../checks.js';
import type { EndpointSpecDocument, RolloutStrategy } from '../spec/index.js';
import {
  analysisDeadline,
  CONTROLLER_ACTOR,
  isTerminalPhase,
  planOf,
  startRollout,
  trafficPolicyOf,
  transition,
  type AnalysisRunName,
  type ControllerAction,
  type NewRolloutInput,
  type Rollout,
  type RolloutAction,
  type RolloutEvent,
  type RolloutEventsOptions,
  type RolloutListOptions,
  type RolloutStore,
  type RolloutVariant,
  type UserAction,
} from '../state/index.js';
import { addFigures, disagreementArm, emptyPending, lookInput, withCounts, type OutcomeReader, type PendingInput } from './collect.js';
import { holdsStable, type EndpointStrategyStore } from './endpoint-strategies.js';
import { RolloutControllerErrors } from './errors.js';
import { lookAtExperiment } from './experiment.js';

/** What the controller needs from the deployment manager. */
export interface ControllerServing {
  setTraffic(endpoint: string, policy: TrafficPolicy | undefined): Promise<void>;
  traffic(endpoint: string): TrafficPolicy | undefined;
  reconcile(endpoint: string): Promise<void>;
  /** Ready versions, stable first. */
  deployedVersions(endpoint: string): number[];
}

/** What the controller needs from the data plane. */
export interface ControllerDataPlane {
  trafficFigures(endpoint: string): TrafficFigures | undefined;
  takeTrafficFigures(endpoint: string): TrafficFigures | undefined;
  resetTrafficFigures(endpoint: string): void;
  setPreview(name: string, target: { readonly endpoint: string; readonly version: number } | undefined): void;
  infer(endpoint: string, version: number | undefined, decode: (signature: ModelSignature) => InferenceRequest, ctx: InferenceContext): Promise<InferenceResult>;
}

/** Outcome metrics per variant from the feedback store (src/monitoring), for feedback checks and experiments. */
export interface ControllerOutcomes {
  outcomes(
    endpoint: string,
    query: { readonly metric: { readonly kind: 'rate'; readonly event: string } | { readonly kind: 'mean'; readonly event?: string } | { readonly kind: 'accuracy' }; readonly since: number },
  ): Promise<{ readonly variants: readonly { readonly variant: string; readonly arm: ArmSummary }[] }>;
  predictionCounts(endpoint: string, window: { readonly since: number }): Promise<{ readonly variants: readonly { readonly variant: string; readonly predictions: number }[] }>;
  predictedValues(endpoint: string, window: { readonly since: number }): Promise<readonly { readonly variant: string; readonly predicted: string; readonly count: number }[]>;
}

export interface RolloutControllerOptions {
  readonly registry: Registry;
  readonly serving: ControllerServing;
  readonly dataPlane: ControllerDataPlane;
  readonly rollouts: RolloutStore;
  readonly strategies: EndpointStrategyStore;
  /** Without it, feedback checks have no data (InsufficientData) and experiments never conclude by themselves. */
  readonly outcomes?: ControllerOutcomes;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often running rollouts are looked at (pause timers, analysis intervals, figures). Default 1000 ms. */
  readonly tickMs?: number;
  /** How often an experiment is looked at. Default 10,000 ms. */
  readonly experimentLookMs?: number;
}

/** What `apply` did to one endpoint. */
export interface ApplyOutcome {
  readonly endpoint: string;
  /** created: a new endpoint; configured: target or strategy changed; unchanged: the spec was already in force. */
  readonly action: 'created' | 'configured' | 'unchanged';
  /** The version the spec's target resolves to. */
  readonly targetVersion: number;
  /** The version serving as stable now. */
  readonly stableVersion: number;
  /** The rollout the spec started or that is running for it; null when none runs. */
  readonly rollout: Rollout | null;
  readonly message: string;
}

/** An endpoint's rollout status: its strategy, stable version, latest rollout, and what is observed. */
export interface RolloutStatus {
  readonly endpoint: string;
  readonly strategy: RolloutStrategy | null;
  readonly stableVersion: number;
  readonly targetVersion: number;
  /** The running rollout, else the latest finished one; null when the endpoint never had one. */
  readonly rollout: Rollout | null;
  readonly policy: TrafficPolicy | null;
  /** Requests, errors and latency per variant since the rollout started (this process's view). */
  readonly observed: ObservedFigures | null;
}

export interface ObservedFigures {
  readonly since: number;
  readonly variants: readonly { readonly variant: string; readonly version: number; readonly requests: number; readonly errors: number; readonly latencyGeoMeanMs: number | null }[];
  readonly shadow: TrafficFigures['shadow'] | null;
}

export interface RollbackOutcome {
  readonly endpoint: string;
  readonly fromVersion: number;
  readonly toVersion: number;
  /** The rollout that was running and was aborted first, if any. */
  readonly aborted: Rollout | null;
  readonly message: string;
}

export interface RolloutController {
  /** Resumes every unfinished rollout and starts the tick loop. */
  start(): Promise<void>;
  /** Stops the tick loop and waits for the work in progress. Idempotent. */
  close(): Promise<void>;
  /** For the deployment manager: the version an endpoint serves as stable. */
  stableVersionOf(endpoint: string, model: string, registryVersion: number): number;
  /** For the deployment manager: how long a former stable version stays warm (blue-green's scaleDownDelaySeconds). */
  keepWarmMs(endpoint: string): number;
  /**
   * Applies checked documents one after another. What the registry decides (versions, aliases,
   * clashes) is checked for every document first, so such a refusal changes nothing; a failure
   * while applying stops there, and the documents before it stay applied.
   */
  apply(docs: readonly EndpointSpecDocument[], actor: string): Promise<ApplyOutcome[]>;
  /** A person's verb on the endpoint's running rollout; returns the rollout after it (and after its immediate effects). */
  act(endpoint: string, action: UserAction, actor: string): Promise<Rollout>;
  /** Starts the endpoint's strategy again for its current target after an aborted rollout (Argo's `retry`). */
  retry(endpoint: string, actor: string): Promise<Rollout>;
  /** One step back to the previous stable version (or `toVersion`), at once, aborting a running rollout first. */
  rollback(endpoint: string, actor: string, options?: { readonly toVersion?: number; readonly message?: string }): Promise<RollbackOutcome>;
  status(endpoint: string): Promise<RolloutStatus>;
  get(id: string): Promise<Rollout | undefined>;
  list(options?: RolloutListOptions): Promise<Rollout[]>;
  events(id: string, options?: RolloutEventsOptions): Promise<RolloutEvent[]>;
  /** One pass over every running rollout (the tick loop calls it; tests with a manual clock too). */
  tick(): Promise<void>;
}

/** Requests, errors and latency per variant and version since a rollout started, keyed `variant@version`. */
type ObservedTotals = Map<string, { variant: string; version: number; requests: number; errors: number; logSum: number; latencyN: number }>;

/** Adds one take of the data plane's per-variant figures to running totals. */
function addObserved(totals: ObservedTotals, variants: readonly VariantFigures[]): void {
  for (const v of variants) {
    const key = `${v.variant}@${v.version}`;
    const o = totals.get(key) ?? { variant: v.variant, version: v.version, requests: 0, errors: 0, logSum: 0, latencyN: 0 };
    o.requests += v.requests;
    o.errors += v.errors.successes;
    o.logSum += v.latency.logMean * v.latency.n;
    o.latencyN += v.latency.n;
    totals.set(key, o);
  }
}

/** How long a verb waits for its immediate effects (abort's switch back, promote's switch) before answering. */
const VERB_SETTLE_MS = 10_000;

interface RolloutMemory {
  /** Figures taken since each run's last look. */
  readonly pending: Record<AnalysisRunName, PendingInput>;
  /** Everything observed since the rollout started (or this process started driving it). */
  readonly observed: ObservedTotals;
  readonly since: number;
  lastExperimentLook: number | null;
}

export function createRolloutController(options: RolloutControllerOptions): RolloutController {
  const { registry, serving, dataPlane, rollouts, strategies, clock, logger } = options;
  const tickMs = options.tickMs ?? 1000;
  const experimentLookMs = options.experimentLookMs ?? 10_000;
  const chains = new Map<string, Promise<unknown>>();
  const loading = new Map<string, Promise<void>>();
  const memory = new Map<string, RolloutMemory>();
  let timer: { cancel(): void } | undefined;
  let ticking: Promise<void> | undefined;
  let closed = false;
  let unsubscribe: (() => void) | undefined;

  /** Runs `fn` after every earlier operation on the endpoint (verbs, apply, ticks, registry changes). */
  const serial = <T>(endpoint: string, fn: () => Promise<T>): Promise<T> => {
    const run = (chains.get(endpoint) ?? Promise.resolve()).then(fn);
    const tail = run.catch(() => undefined);
    chains.set(endpoint, tail);
    void tail.then(() => {
      if (chains.get(endpoint) === tail) chains.delete(endpoint);
    });
    return run;
  };

  const memoryOf = (r: Rollout): RolloutMemory => {
    let m = memory.get(r.id);
    if (m === undefined) {
      m = { pending: { background: emptyPending(), step: emptyPending() }, observed: new Map(), since: clock.now(), lastExperimentLook: null };
      memory.set(r.id, m);
    }
    return m;
  };

  /** Applies an action and persists it; returns the stored rollout (the same object when nothing changed). */
  const commit = async (r: Rollout, action: RolloutAction, actor: string): Promise<Rollout> => {
    const { rollout: next, record } = transition(r, action, clock.now(), actor);
    if (record === null) return r;
    const stored = await rollouts.update(next, r.revision, record);
    logger.info({ endpoint: r.endpoint, rollout: r.id, action: action.type, phase: stored.phase, step: stored.stepIndex, weight: stored.currentWeight, reason: record.reason }, record.message);
    return stored;
  };

  /** A controller event that may have been overtaken (a person acted first): stale is not an error. */
  const report = async (r: Rollout, action: ControllerAction): Promise<Rollout> => {
    try {
      return await commit(r, action, CONTROLLER_ACTOR);
    } catch (error) {
      const e = toPlatformError(error);
      if (e.code === 'ROLLOUT_STATE_STALE_EVENT' || e.code === 'ROLLOUT_STATE_REVISION_CONFLICT' || e.code === 'ROLLOUT_STATE_FINISHED') {
        logger.debug({ endpoint: r.endpoint, rollout: r.id, action: action.type, code: e.code }, 'controller event overtaken');
        return (await rollouts.get(r.id)) ?? r;
      }
      throw e;
    }
  };

  const latestOf = async (endpoint: string): Promise<Rollout | undefined> => (await rollouts.active(endpoint)) ?? (await rollouts.list({ endpoint, limit: 1 }))[0];

  // ─── the traffic policy a rollout wants ─────────────────────────────────────────────────────────

  /** trafficPolicyOf, plus the candidate kept loaded at weight 0 where the strategy routes nothing to it (blue-green's green). */
  const desiredPolicy = (r: Rollout): TrafficPolicy | undefined => {
    if (isTerminalPhase(r.phase) || r.phase === 'Promoting' || r.phase === 'Aborting') return undefined;
    if (r.candidateReadyAt === null) return undefined;
    const policy = trafficPolicyOf(r);
    if (r.strategy.kind === 'blueGreen' && r.candidateVersion !== null) return { stable: r.stableVersion, candidate: { version: r.candidateVersion, weight: 0 } };
    return policy.candidate === undefined && policy.variants === undefined && policy.mirror === undefined ? undefined : policy;
  };

  /** The policy that loads every version a rollout needs, without routing to them yet. */
  const loadingPolicy = (r: Rollout): TrafficPolicy => {
    if (r.variants !== null) {
      // the router needs weights to load variants; the experiment's own split goes in as soon as they are ready
      return { stable: r.stableVersion, variants: r.variants.map((v) => ({ name: v.name, version: v.version, weight: v.weight })) };
    }
    if (r.strategy.kind === 'shadow') return trafficPolicyOf({ ...r, candidateReadyAt: r.createdAt });
    return { stable: r.stableVersion, candidate: { version: r.candidateVersion ?? r.stableVersion, weight: 0 } };
  };

  const samePolicy = (a: TrafficPolicy | undefined, b: TrafficPolicy | undefined): boolean => isDeepStrictEqual(JSON.parse(JSON.stringify(a ?? null)), JSON.parse(JSON.stringify(b ?? null)));

  const previewOf = (r: Rollout): string | undefined => (r.strategy.kind === 'blueGreen' ? r.strategy.previewEndpoint : undefined);

  // ─── driving one rollout ────────────────────────────────────────────────────────────────────────

  /** Loads the candidate (every variant) outside the endpoint's lock, then reports ready or failed. */
  const loadCandidate = (r: Rollout): void => {
    if (loading.has(r.endpoint)) return;
    const work = (async () => {
      let failure: PlatformError | undefined;
      try {
        await serving.setTraffic(r.endpoint, loadingPolicy(r));
      } catch (error) {
        failure = toPlatformError(error);
      }
      await serial(r.endpoint, async () => {
        const now = await rollouts.get(r.id);
        if (now === undefined || isTerminalPhase(now.phase) || now.candidateReadyAt !== null) return;
        if (failure !== undefined) {
          await report(now, { type: 'candidateFailed', message: `${failure.code}: ${failure.message}`, evidence: { code: failure.code } });
        } else {
          const ready = await report(now, { type: 'candidateReady' });
          const preview = previewOf(ready);
          if (preview !== undefined && ready.candidateVersion !== null && !isTerminalPhase(ready.phase)) dataPlane.setPreview(preview, { endpoint: ready.endpoint, version: ready.candidateVersion });
          dataPlane.resetTrafficFigures(ready.endpoint);
        }
        await driveLocked(r.endpoint);
      });
    })().finally(() => loading.delete(r.endpoint));
    loading.set(r.endpoint, work);
    work.catch((error: unknown) => logger.error({ endpoint: r.endpoint, rollout: r.id, err: toPlatformError(error).message }, 'candidate load failed to report'));
  };

  /** Makes the world match the endpoint's running rollout and moves it on where it is due; under the endpoint's lock. */
  const driveLocked = async (endpoint: string): Promise<void> => {
    for (let guard = 0; guard < 16; guard++) {
      const r = await rollouts.active(endpoint);
      if (r === undefined) return;
      const next = await driveOnce(r);
      if (next === r || next.revision === r.revision) return;
    }
  };

  const driveOnce = async (r: Rollout): Promise<Rollout> => {
    if (r.phase === 'Promoting') return finishPromotion(r);
    if (r.phase === 'Aborting') return finishAbort(r);
    if (r.candidateReadyAt === null) {
      loadCandidate(r);
      return r;
    }
    // a restarted server serves the preview again
    const preview = previewOf(r);
    if (preview !== undefined && r.candidateVersion !== null) dataPlane.setPreview(preview, { endpoint: r.endpoint, version: r.candidateVersion });
    const wanted = desiredPolicy(r);
    if (!samePolicy(serving.traffic(r.endpoint), wanted)) {
      // before the split changes, what the old split saw is credited to it
      takeFigures(r);
      try {
        await serving.setTraffic(r.endpoint, wanted);
      } catch (error) {
        const e = toPlatformError(error);
        if (e.code === 'SERVING_TRAFFIC_REFUSED' && /failed to load/.test(e.message)) return report(r, { type: 'candidateFailed', message: `${e.code}: ${e.message}` });
        throw e;
      }
    }
    const now = clock.now();
    if (r.phase === 'Paused' && r.pauseReason === 'PausedByStep' && r.pauseUntil !== null && now >= r.pauseUntil) return report(r, { type: 'pauseExpired' });
    const step = planOf(r.strategy)[r.stepIndex];
    if (r.phase === 'Progressing' && r.stepStartedAt !== null && step?.kind === 'smoke') return runSmoke(r);
    takeFigures(r);
    if (r.strategy.kind === 'experiment') return lookExperiment(r);
    for (const run of ['background', 'step'] as const) {
      const record = r.analysis[run];
      const template = run === 'background' ? (r.strategy.kind === 'canary' ? r.strategy.analysis : undefined) : step?.kind === 'analysis' ? step.analysis : undefined;
      if (record === null || template === undefined) continue;
      if (run === 'step' && (r.stepStartedAt === null || step?.kind !== 'analysis')) continue;
      const dueAt = (record.lastAt ?? record.startedAt) + template.intervalSeconds * 1000;
      if (now < dueAt) continue;
      const m = memoryOf(r);
      const pending = m.pending[run];
      const splitTest = r.strategy.kind === 'canary' && r.strategy.stickiness === undefined && r.strategy.headerRoute === undefined;
      const since = run === 'background' ? (r.candidateReadyAt ?? r.createdAt) : (r.stepStartedAt ?? r.createdAt);
      const input = await lookInput({ template, previous: record.input, pending, disagreement: disagreementArm(dataPlane.trafficFigures(r.endpoint)), outcomes: outcomeReader(r.endpoint), predictions: predictionReader(r.endpoint), since, splitTest });
      const result = analyse(engineChecksOf(template), input, record.state);
      if (unchangedLook(r, run, record.lastResult, result, now)) continue;
      m.pending[run] = emptyPending();
      const next = await report(r, { type: 'analysisResult', run, ...(run === 'step' ? { stepIndex: r.stepIndex } : {}), result, input: withCounts(input, pending, record.input) });
      if (next.revision !== r.revision) return next;
    }
    return r;
  };

  /** Moves the data plane's figures into every run's pending input and the rollout's observed totals. */
  const takeFigures = (r: Rollout): void => {
    const figures = dataPlane.takeTrafficFigures(r.endpoint);
    if (figures === undefined) return;
    const m = memoryOf(r);
    const share = r.currentWeight / 100;
    for (const run of ['background', 'step'] as const) addFigures(m.pending[run], figures.variants, share);
    addObserved(m.observed, figures.variants);
  };

  const outcomeReader = (endpoint: string): OutcomeReader | undefined => {
    const source = options.outcomes;
    if (source === undefined) return undefined;
    return async (metric, since) => {
      const query =
        metric.kind === 'accuracy'
          ? ({ kind: 'accuracy' } as const)
          : metric.kind === 'mean'
            ? { kind: 'mean' as const, ...(metric.event === undefined ? {} : { event: metric.event }) }
            : { kind: 'rate' as const, event: metric.event ?? metric.name };
      const outcome = await source.outcomes(endpoint, { metric: query, since });
      return new Map(outcome.variants.map((v) => [v.variant, v.arm]));
    };
  };

  const predictionReader = (endpoint: string): ((since: number) => Promise<readonly { variant: string; predicted: string; count: number }[]>) | undefined => {
    const source = options.outcomes;
    return source === undefined ? undefined : (since) => source.predictedValues(endpoint, { since });
  };

  const lookExperiment = async (r: Rollout): Promise<Rollout> => {
    if (r.strategy.kind !== 'experiment' || r.variants === null || r.phase !== 'Progressing' || r.stepStartedAt === null) return r;
    const m = memoryOf(r);
    const now = clock.now();
    if (m.lastExperimentLook !== null && now - m.lastExperimentLook < experimentLookMs) return r;
    m.lastExperimentLook = now;
    const metric = r.strategy.metrics[0];
    const read = outcomeReader(r.endpoint);
    const source = options.outcomes;
    if (metric === undefined || read === undefined || source === undefined) return r;
    const arms = await read({ kind: metric.kind, event: metric.event, name: metric.name }, r.stepStartedAt);
    const counts = await source.predictionCounts(r.endpoint, { since: r.stepStartedAt });
    const look = lookAtExperiment({
      strategy: r.strategy,
      variants: r.variants,
      arms,
      predictions: new Map(counts.variants.map((v) => [v.variant, v.predictions])),
      state: r.analysis.background?.state ?? { version: 1, checks: {} },
      elapsedMs: now - r.stepStartedAt,
    });
    let next = unchangedLook(r, 'background', r.analysis.background?.lastResult ?? null, look.result, now) ? r : await report(r, { type: 'analysisResult', run: 'background', result: look.result, input: null });
    if (look.conclusion !== undefined && next.phase === 'Progressing') {
      next = await report(next, { type: 'experimentConcluded', winner: look.conclusion.winner, message: look.conclusion.message, evidence: look.conclusion.evidence });
    }
    return next;
  };

  const runSmoke = async (r: Rollout): Promise<Rollout> => {
    if (r.strategy.kind !== 'blueGreen' || r.candidateVersion === null) return r;
    const results: { index: number; status: number; expected: number; error?: string }[] = [];
    for (const [index, smoke] of r.strategy.smokeRequests.entries()) {
      const controller = new AbortController();
      let status = 200;
      let message: string | undefined;
      try {
        await dataPlane.infer(
          r.endpoint,
          r.candidateVersion,
          (signature) => decodeSmoke(smoke, signature),
          { requestId: `smoke-${r.id}-${index}`, signal: controller.signal, abort: (reason) => controller.abort(reason) },
        );
      } catch (error) {
        const e = toPlatformError(error);
        status = httpStatusFor(e.kind);
        message = `${e.code}: ${e.message}`;
      }
      results.push({ index, status, expected: smoke.expectStatus, ...(message === undefined ? {} : { error: message }) });
    }
    const failed = results.filter((x) => x.status !== x.expected);
    if (failed.length > 0) {
      const first = failed[0];
      return report(r, {
        type: 'stepFailed',
        stepIndex: r.stepIndex,
        message: `${failed.length} of ${results.length} smoke requests answered with another status than expected (request ${String(first?.index)}: ${String(first?.status)}, expected ${String(first?.expected)}${first?.error === undefined ? '' : ` — ${first.error}`})`,
        evidence: { smokeRequests: results },
      });
    }
    return report(r, { type: 'stepCompleted', stepIndex: r.stepIndex, message: `${results.length} smoke request${results.length === 1 ? '' : 's'} answered as expected`, evidence: { smokeRequests: results } });
  };

  const finishPromotion = async (r: Rollout): Promise<Rollout> => {
    const promoted = r.promotion?.version ?? r.candidateVersion ?? r.stableVersion;
    const cfg = strategies.get(r.endpoint);
    if (cfg !== undefined && holdsStable(cfg.strategy)) strategies.put({ ...cfg, stableVersion: promoted });
    // an experiment or a shadow is over once promoted: the endpoint serves the winner, pinned, and
    // the strategy is not started again for it (re-apply the spec for another experiment)
    if (cfg !== undefined && !holdsStable(cfg.strategy)) strategies.delete(r.endpoint);
    const ep = await registry.getEndpoint(r.endpoint).catch((error: unknown) => {
      if (toPlatformError(error).kind === 'not_found') return undefined;
      throw error;
    });
    if (ep === undefined) {
      // deleted while promoting: nothing is left to switch
      const done = await report(r, { type: 'finalized', message: 'the endpoint was deleted' });
      memory.delete(r.id);
      return done;
    }
    if (ep.version !== promoted) {
      await registry.updateEndpoint(r.endpoint, { kind: 'version', model: r.model, version: promoted }, { by: CONTROLLER_ACTOR, reason: `rollout ${r.id} promoted version ${promoted}` });
    }
    await serving.reconcile(r.endpoint);
    if (serving.deployedVersions(r.endpoint)[0] !== promoted) {
      throw RolloutControllerErrors.ROLLOUT_SWITCH_PENDING(`endpoint "${r.endpoint}" did not switch to version ${promoted} yet; the controller retries`, { details: { endpoint: r.endpoint, version: promoted } });
    }
    if (serving.traffic(r.endpoint) !== undefined) await serving.setTraffic(r.endpoint, undefined);
    const preview = previewOf(r);
    if (preview !== undefined) dataPlane.setPreview(preview, undefined);
    dataPlane.resetTrafficFigures(r.endpoint);
    const done = await report(r, { type: 'finalized' });
    memory.delete(r.id);
    return done;
  };

  const finishAbort = async (r: Rollout): Promise<Rollout> => {
    const preview = previewOf(r);
    if (preview !== undefined) dataPlane.setPreview(preview, undefined);
    if (serving.traffic(r.endpoint) !== undefined) await serving.setTraffic(r.endpoint, undefined);
    dataPlane.resetTrafficFigures(r.endpoint);
    const done = await report(r, { type: 'finalized' });
    memory.delete(r.id);
    return done;
  };

  /** Runs the endpoint's rollout now and waits (bounded) for it, e.g. so that abort answers once traffic is back on stable. */
  const kick = (endpoint: string): Promise<void> => serial(endpoint, () => driveLocked(endpoint));

  const settle = async (endpoint: string): Promise<void> => {
    let t: { cancel(): void } | undefined;
    await Promise.race([
      kick(endpoint).catch((error: unknown) => logger.warn({ endpoint, err: toPlatformError(error).message }, 'rollout step failed; retried on the next tick')),
      new Promise<void>((resolve) => {
        t = clock.setTimeout(resolve, VERB_SETTLE_MS);
      }),
    ]);
    t?.cancel();
  };

  // ─── starting rollouts ──────────────────────────────────────────────────────────────────────────

  const resolveTarget = async (target: EndpointTarget): Promise<number> => {
    if (target.kind === 'version') {
      await registry.getVersion(target.model, target.version);
      return target.version;
    }
    return (await registry.getAlias(target.model, target.alias)).version;
  };

  /** What a rollout of `strategy` on an endpoint serving `stable` needs: the candidate or the variants, resolved. */
  const rolloutInput = async (endpoint: string, model: string, strategy: RolloutStrategy, stable: number, target: number, message: string): Promise<NewRolloutInput> => {
    switch (strategy.kind) {
      case 'canary':
      case 'blueGreen':
        return { endpoint, model, strategy, stableVersion: stable, candidateVersion: target, message };
      case 'shadow':
        return { endpoint, model, strategy, stableVersion: stable, candidateVersion: await resolveTarget(strategy.target), message };
      case 'experiment': {
        const variants: RolloutVariant[] = [];
        for (const v of strategy.variants) variants.push({ name: v.name, version: await resolveTarget(v.target), weight: v.weight });
        return { endpoint, model, strategy, stableVersion: stable, variants, message };
      }
    }
  };

  /** Whether a running or finished rollout is what this input would start (same strategy, versions). */
  const sameRollout = (r: Rollout | undefined, input: NewRolloutInput): boolean =>
    r !== undefined &&
    r.stableVersion === input.stableVersion &&
    r.candidateVersion === (input.candidateVersion ?? null) &&
    isDeepStrictEqual(r.variants, input.variants === undefined ? null : input.variants.map((v) => ({ name: v.name, version: v.version, weight: v.weight }))) &&
    isDeepStrictEqual(JSON.parse(JSON.stringify(r.strategy)), JSON.parse(JSON.stringify(input.strategy)));

  /** Creates the rollout, superseding the running one in the same transaction. Under the endpoint's lock. */
  const begin = async (input: NewRolloutInput, actor: string): Promise<Rollout> => {
    const now = clock.now();
    const id = newId(now);
    const started = startRollout({ ...input, id }, now, actor);
    const active = await rollouts.active(input.endpoint);
    let created: Rollout;
    if (active === undefined) {
      created = await rollouts.create(started.rollout, started.record);
    } else {
      const ended = transition(active, { type: 'superseded', by: id, message: input.message ?? '' }, now, actor);
      if (ended.record === null) throw new Error('superseded always records');
      created = await rollouts.supersede({ rollout: ended.rollout, expectedRevision: active.revision, record: ended.record }, { rollout: started.rollout, record: started.record });
      memory.delete(active.id);
      const preview = previewOf(active);
      if (preview !== undefined) dataPlane.setPreview(preview, undefined);
    }
    dataPlane.resetTrafficFigures(input.endpoint);
    logger.info({ endpoint: input.endpoint, rollout: created.id, strategy: created.strategy.kind, stable: created.stableVersion, candidate: created.candidateVersion }, 'rollout started');
    return created;
  };

  /** Aborts the endpoint's running rollout (if any) and finishes the abort. Under the endpoint's lock. */
  const abortActive = async (endpoint: string, message: string, actor: string): Promise<Rollout | null> => {
    const active = await rollouts.active(endpoint);
    if (active === undefined) return null;
    let r = active.phase === 'Aborting' ? active : await commit(active, { type: 'abort', message }, actor);
    if (r.phase === 'Aborting') r = await finishAbort(r);
    return r;
  };

  /**
   * Brings the endpoint's rollout in line with its registry target and applied strategy — after an
   * apply, an alias move or `slipway endpoints update`, and at start. A rollout that was aborted is
   * not started again for the same target and strategy (a CD system re-applying the same manifest
   * must not expose users to a version that failed, as Argo Rollouts keeps an aborted rollout
   * aborted); `retry` (`slipway rollout retry`) does start it again.
   */
  const reconcileTarget = async (endpoint: string, actor: string, retry: boolean): Promise<Rollout | null> => {
    const cfg = strategies.get(endpoint);
    let ep;
    try {
      ep = await registry.getEndpoint(endpoint);
    } catch (error) {
      if (toPlatformError(error).kind !== 'not_found') throw error;
      // the endpoint was deleted: its rollout ends with it
      await abortActive(endpoint, 'the endpoint was deleted', actor);
      strategies.delete(endpoint);
      return null;
    }
    const active = await rollouts.active(endpoint);
    if (cfg === undefined) return active ?? null;
    if (cfg.model !== null && cfg.model !== ep.model) {
      // re-pointed at another model (PUT /api/v1/endpoints): a rollout stays within one model
      await abortActive(endpoint, `the endpoint now serves model "${ep.model}"`, actor);
      strategies.delete(endpoint);
      logger.info({ endpoint, from: cfg.model, to: ep.model }, 'endpoint moved to another model: its strategy no longer applies');
      return null;
    }
    const target = ep.version;
    if (holdsStable(cfg.strategy)) {
      const stable = cfg.stableVersion;
      if (target === stable) {
        if (active !== undefined) await abortActive(endpoint, `the endpoint's target is back on stable version ${stable}`, actor);
        return (await latestOf(endpoint)) ?? null;
      }
      const input = await rolloutInput(endpoint, ep.model, cfg.strategy, stable, target, explainTarget(ep.target, target));
      return startUnlessDone(input, active, actor, retry);
    }
    // shadow and experiment: the endpoint's own target is the stable version (it switched at once)
    if (cfg.stableVersion !== target) strategies.put({ ...cfg, stableVersion: target });
    const input = await rolloutInput(endpoint, ep.model, cfg.strategy, target, target, explainTarget(ep.target, target));
    return startUnlessDone(input, active, actor, retry);
  };

  /** Starts the rollout `input` describes unless it runs already, or ran for this very target and strategy (and `retry` is off). */
  const startUnlessDone = async (input: NewRolloutInput, active: Rollout | undefined, actor: string, retry: boolean): Promise<Rollout> => {
    if (active !== undefined && sameRollout(active, input)) return active;
    if (active === undefined && !retry) {
      const latest = (await rollouts.list({ endpoint: input.endpoint, limit: 1 }))[0];
      if (latest !== undefined && sameRollout(latest, input)) return latest;
    }
    return begin(input, actor);
  };

  // ─── apply ──────────────────────────────────────────────────────────────────────────────────────

  /**
   * Everything about a document that the registry decides (versions and aliases exist, no clash
   * with what is there): checked for every document before any is applied, and again as each is.
   */
  const inspectDocument = async (doc: EndpointSpecDocument): Promise<{ targetVersion: number; existing: Awaited<ReturnType<Registry['getEndpoint']>> | undefined }> => {
    const name = doc.metadata.name;
    const { model, target, strategy } = doc.spec;
    const targetVersion = await resolveTarget(target);
    let existing;
    try {
      existing = await registry.getEndpoint(name);
    } catch (error) {
      if (toPlatformError(error).kind !== 'not_found') throw error;
    }
    if (existing !== undefined && existing.model !== model && strategy !== undefined) {
      throw RolloutControllerErrors.ROLLOUT_APPLY_CONFLICT(
        `spec.model: endpoint "${name}" serves model "${existing.model}", and a rollout stays within one model; apply without a strategy to switch it to "${model}" at once`,
        { details: { endpoint: name, field: 'spec.model', serving: existing.model, spec: model } },
      );
    }
    if (strategy?.kind === 'blueGreen' && strategy.previewEndpoint !== undefined) {
      const taken = await registry.getEndpoint(strategy.previewEndpoint).then(
        () => true,
        () => false,
      );
      if (taken) {
        throw RolloutControllerErrors.ROLLOUT_APPLY_CONFLICT(`spec.strategy.blueGreen.previewEndpoint: "${strategy.previewEndpoint}" is an endpoint of its own; a preview name must not be one`, {
          details: { endpoint: name, field: 'spec.strategy.blueGreen.previewEndpoint' },
        });
      }
    }
    if (strategy !== undefined && !holdsStable(strategy)) {
      // the versions a shadow or an experiment needs must exist before anything changes
      if (strategy.kind === 'shadow') {
        const shadowVersion = await resolveTarget(strategy.target);
        if (shadowVersion === targetVersion) {
          throw RolloutControllerErrors.ROLLOUT_APPLY_CONFLICT(`spec.strategy.shadow: it resolves to version ${shadowVersion}, the version the endpoint serves; a shadow must be another version`, {
            details: { endpoint: name, field: 'spec.strategy.shadow' },
          });
        }
      } else if (strategy.kind === 'experiment') {
        for (const v of strategy.variants) await resolveTarget(v.target);
      }
    }
    return { targetVersion, existing };
  };

  const applyOne = async (doc: EndpointSpecDocument, actor: string): Promise<ApplyOutcome> => {
    const name = doc.metadata.name;
    const { target, strategy, description } = doc.spec;
    const { targetVersion, existing } = await inspectDocument(doc);
    const by = { by: actor, reason: `slipway apply${strategy === undefined ? '' : ` (${strategy.kind})`}` };

    if (existing === undefined) {
      if (strategy !== undefined) strategies.put({ endpoint: name, model: doc.spec.model, strategy, stableVersion: targetVersion, appliedAt: clock.now(), appliedBy: actor });
      await registry.createEndpoint(name, target, { ...by, ...(description === undefined ? {} : { description }) });
      await serving.reconcile(name);
      const rollout = strategy !== undefined && !holdsStable(strategy) ? await reconcileTarget(name, actor, false) : null;
      return { endpoint: name, action: 'created', targetVersion, stableVersion: targetVersion, rollout, message: `endpoint "${name}" created on version ${targetVersion}${rollout === null ? '' : `; ${strategy?.kind ?? ''} rollout ${rollout.id} started`}` };
    }

    const before = strategies.get(name);
    const servingStable = before !== undefined && holdsStable(before.strategy) ? before.stableVersion : existing.version;
    if (strategy === undefined) {
      const aborted = await abortActive(name, 'applied without a strategy: the target switches at once', actor);
      strategies.delete(name);
      const updated = await registry.updateEndpoint(name, target, by);
      await serving.reconcile(name);
      const changed = aborted !== null || before !== undefined || !isDeepStrictEqual(existing.target, updated.target) || servingStable !== targetVersion;
      return {
        endpoint: name,
        action: changed ? 'configured' : 'unchanged',
        targetVersion,
        stableVersion: serving.deployedVersions(name)[0] ?? targetVersion,
        rollout: null,
        message: changed ? `endpoint "${name}" serves version ${targetVersion}${aborted === null ? '' : ` (rollout ${aborted.id} aborted)`}` : `endpoint "${name}" unchanged`,
      };
    }

    const hold = holdsStable(strategy);
    const stableVersion = hold ? servingStable : targetVersion;
    strategies.put({ endpoint: name, model: doc.spec.model, strategy, stableVersion, appliedAt: clock.now(), appliedBy: actor });
    const activeBefore = await rollouts.active(name);
    const updated = await registry.updateEndpoint(name, target, by);
    // shadow and experiment: a new own target switches at once, before the rollout splits around it
    if (!hold) await serving.reconcile(name);
    const rollout = await reconcileTarget(name, actor, false);
    const unchanged = before !== undefined && isDeepStrictEqual(JSON.parse(JSON.stringify(before.strategy)), JSON.parse(JSON.stringify(strategy))) && isDeepStrictEqual(existing.target, updated.target) && (rollout === null || rollout.id === activeBefore?.id || (rollout !== null && isTerminalPhase(rollout.phase)));
    const running = rollout !== null && !isTerminalPhase(rollout.phase) ? rollout : null;
    return {
      endpoint: name,
      action: unchanged ? 'unchanged' : 'configured',
      targetVersion,
      stableVersion: hold ? stableVersion : targetVersion,
      rollout: running,
      message:
        running === null
          ? `endpoint "${name}" serves version ${stableVersion}; ${strategy.kind} applied for its next target`
          : running.id === activeBefore?.id
            ? `rollout ${running.id} (${strategy.kind}) continues`
            : `${strategy.kind} rollout ${running.id} started on endpoint "${name}"`,
    };
  };

  // ─── the tick loop ──────────────────────────────────────────────────────────────────────────────

  const tick = async (): Promise<void> => {
    const active = await rollouts.listActive();
    await Promise.all(
      active.map((r) => {
        // a verb or an apply already queued for the endpoint drives it when it runs
        if (chains.has(r.endpoint) || loading.has(r.endpoint)) return Promise.resolve();
        return kick(r.endpoint).catch((error: unknown) => logger.warn({ endpoint: r.endpoint, rollout: r.id, err: toPlatformError(error).message }, 'rollout step failed; retried on the next tick'));
      }),
    );
  };

  const schedule = (): void => {
    if (closed) return;
    timer = clock.setTimeout(() => {
      ticking = tick()
        .catch((error: unknown) => logger.error({ err: toPlatformError(error).message }, 'rollout tick failed'))
        .finally(() => {
          ticking = undefined;
          schedule();
        });
    }, tickMs);
  };

  return {
    async start() {
      unsubscribe = registry.onEndpointChange((change) => {
        if (closed) return;
        void serial(change.endpoint, async () => {
          await reconcileTarget(change.endpoint, change.event.by, false);
          await driveLocked(change.endpoint);
        }).catch((error: unknown) => logger.error({ endpoint: change.endpoint, err: toPlatformError(error).message }, 'starting the endpoint\'s strategy failed'));
      });
      // a target written just before a crash gets its rollout; running rollouts resume where they
      // were, their split in place before this resolves (the server reports ready after it)
      for (const cfg of strategies.list()) {
        await serial(cfg.endpoint, () => reconcileTarget(cfg.endpoint, CONTROLLER_ACTOR, false)).catch((error: unknown) =>
          logger.error({ endpoint: cfg.endpoint, err: toPlatformError(error).message }, 'resuming the endpoint\'s strategy failed'),
        );
      }
      for (const r of await rollouts.listActive()) {
        await kick(r.endpoint).catch((error: unknown) => logger.error({ endpoint: r.endpoint, rollout: r.id, err: toPlatformError(error).message }, 'resuming the rollout failed; retried on the next tick'));
      }
      schedule();
    },
    async close() {
      closed = true;
      unsubscribe?.();
      timer?.cancel();
      await ticking;
      await Promise.all([...chains.values(), ...loading.values()].map((p) => p.catch(() => undefined)));
    },
    stableVersionOf(endpoint, model, registryVersion) {
      const cfg = strategies.get(endpoint);
      // an endpoint re-pointed at another model switches at once (the controller then forgets the strategy)
      if (cfg === undefined || !holdsStable(cfg.strategy) || (cfg.model !== null && cfg.model !== model)) return registryVersion;
      return cfg.stableVersion;
    },
    keepWarmMs(endpoint) {
      const cfg = strategies.get(endpoint);
      return cfg?.strategy.kind === 'blueGreen' ? cfg.strategy.scaleDownDelaySeconds * 1000 : 0;
    },
    async apply(docs, actor) {
      // a document the registry refuses stops the apply before anything changed
      for (const doc of docs) await inspectDocument(doc);
      const out: ApplyOutcome[] = [];
      for (const doc of docs) {
        const name = doc.metadata.name;
        const outcome = await serial(name, () => applyOne(doc, actor));
        out.push(outcome);
        if (outcome.rollout !== null) void kick(name).catch(() => undefined);
      }
      return out;
    },
    async act(endpoint, action, actor) {
      const after = await serial(endpoint, async () => {
        const r = await latestOf(endpoint);
        if (r === undefined) {
          await registry.getEndpoint(endpoint); // 404 for an unknown endpoint
          throw RolloutControllerErrors.ROLLOUT_NOT_RUNNING(`endpoint "${endpoint}" has no rollout to ${action.type}`, { details: { endpoint } });
        }
        return commit(r, action, actor);
      });
      await settle(endpoint);
      return (await rollouts.get(after.id)) ?? after;
    },
    async retry(endpoint, actor) {
      const r = await serial(endpoint, async () => {
        await registry.getEndpoint(endpoint);
        const cfg = strategies.get(endpoint);
        if (cfg === undefined) {
          throw RolloutControllerErrors.ROLLOUT_NOT_RUNNING(`endpoint "${endpoint}" has no strategy applied, so there is no rollout to retry; apply a spec with a strategy`, { details: { endpoint } });
        }
        const active = await rollouts.active(endpoint);
        if (active !== undefined) {
          throw runningError(active);
        }
        const started = await reconcileTarget(endpoint, actor, true);
        if (started === null || isTerminalPhase(started.phase)) {
          throw RolloutControllerErrors.ROLLOUT_NOT_RUNNING(`endpoint "${endpoint}" serves its target already (version ${cfg.stableVersion}); there is nothing to retry`, { details: { endpoint } });
        }
        return started;
      });
      await settle(endpoint);
      return (await rollouts.get(r.id)) ?? r;
    },
    async rollback(endpoint, actor, opts = {}) {
      const outcome = await serial(endpoint, async (): Promise<RollbackOutcome> => {
        const ep = await registry.getEndpoint(endpoint);
        const cfg = strategies.get(endpoint);
        const current = cfg !== undefined && holdsStable(cfg.strategy) ? cfg.stableVersion : ep.version;
        const to = opts.toVersion ?? (await previousStable(endpoint, current));
        if (to === null) {
          throw RolloutControllerErrors.ROLLOUT_NO_PREVIOUS_VERSION(`endpoint "${endpoint}" has served only version ${current}: there is no earlier stable version in its history`, {
            details: { endpoint, version: current },
          });
        }
        if (to === current) {
          throw RolloutControllerErrors.ROLLOUT_ROLLBACK_TO_CURRENT(`endpoint "${endpoint}" serves version ${to} as stable already; name another version with toVersion`, { details: { endpoint, version: to } });
        }
        await registry.getVersion(ep.model, to);
        const note = opts.message === undefined || opts.message === '' ? '' : ` — ${opts.message}`;
        const aborted = await abortActive(endpoint, `rollback to version ${to}${note}`, actor);
        if (cfg !== undefined) strategies.put({ ...cfg, stableVersion: to });
        const followed = ep.target.kind === 'alias' ? ` (it followed alias "${ep.target.alias}" and is now pinned; apply a spec to follow it again)` : '';
        await registry.updateEndpoint(endpoint, { kind: 'version', model: ep.model, version: to }, { by: actor, reason: `rollback from version ${current} to ${to}${note}` });
        await serving.reconcile(endpoint);
        return { endpoint, fromVersion: current, toVersion: to, aborted, message: `endpoint "${endpoint}" rolled back from version ${current} to ${to}${followed}` };
      });
      return outcome;
    },
    async status(endpoint) {
      const ep = await registry.getEndpoint(endpoint);
      const cfg = strategies.get(endpoint);
      const rollout = (await latestOf(endpoint)) ?? null;
      const m = rollout === null ? undefined : memory.get(rollout.id);
      let observed: ObservedFigures | null = null;
      if (rollout !== null && !isTerminalPhase(rollout.phase)) {
        const live = dataPlane.trafficFigures(endpoint);
        // what earlier ticks took, plus what came since the last one (not yet taken)
        const totals: ObservedTotals = new Map(m === undefined ? [] : [...m.observed].map(([k, v]) => [k, { ...v }]));
        addObserved(totals, live?.variants ?? []);
        observed = {
          since: m?.since ?? live?.sinceMs ?? clock.now(),
          variants: [...totals.values()].map((o) => ({ variant: o.variant, version: o.version, requests: o.requests, errors: o.errors, latencyGeoMeanMs: o.latencyN > 0 ? Math.exp(o.logSum / o.latencyN) : null })),
          shadow: live?.shadow ?? null,
        };
      }
      return {
        endpoint,
        strategy: cfg?.strategy ?? null,
        stableVersion: cfg !== undefined && holdsStable(cfg.strategy) ? cfg.stableVersion : ep.version,
        targetVersion: ep.version,
        rollout,
        policy: serving.traffic(endpoint) ?? null,
        observed,
      };
    },
    get: (id) => rollouts.get(id),
    list: (opts) => rollouts.list(opts),
    events: (id, opts) => rollouts.events(id, opts),
    tick,
  };

  /**
   * The stable version before `current`: the version a promotion replaced, or else the version the
   * endpoint's history moved away from when it last moved to `current`.
   */
  async function previousStable(endpoint: string, current: number): Promise<number | null> {
    const promoted = (await rollouts.list({ endpoint, limit: 100 })).find((r) => r.phase === 'Promoted' && r.promotion?.version === current);
    const history = await registry.endpointHistory(endpoint);
    const moved = [...history].reverse().find((e) => e.to?.version === current && e.from !== null && e.from.version !== current);
    if (promoted !== undefined && (moved === undefined || Date.parse(moved.at) <= (promoted.finishedAt ?? 0))) return promoted.stableVersion;
    return moved?.from?.version ?? null;
  }
}

/**
 * Whether a look adds nothing worth recording: the same verdict as the last look, no new evidence
 * (the check states, which hold the sample sizes and the running evidence, are equal) and no
 * deadline reached. Such looks are not written, so a quiet endpoint does not fill the history.
 */
function unchangedLook(r: Rollout, run: AnalysisRunName, last: AnalysisResult | null, result: AnalysisResult, now: number): boolean {
  if (last === null || last.verdict !== result.verdict || !isDeepStrictEqual(last.state, result.state)) return false;
  const deadline = analysisDeadline(r, run);
  return deadline === null || now < deadline;
}

function runningError(active: Rollout): PlatformError {
  return RolloutControllerErrors.ROLLOUT_RUNNING(`endpoint "${active.endpoint}" has rollout ${active.id} running (${active.phase}); retry starts a rollout only after one was aborted`, {
    details: { endpoint: active.endpoint, rolloutId: active.id, phase: active.phase },
  });
}

function explainTarget(target: EndpointTarget, version: number): string {
  return target.kind === 'alias' ? `alias "${target.alias}" of ${target.model} points at version ${version}` : `target set to version ${version}`;
}

function decodeSmoke(smoke: { readonly inputs: readonly unknown[]; readonly outputs: readonly { readonly name: string }[] | undefined }, signature: ModelSignature): InferenceRequest {
  return decodeInferenceRequest({ inputs: smoke.inputs, ...(smoke.outputs === undefined ? {} : { outputs: smoke.outputs }) }, signature);
}
