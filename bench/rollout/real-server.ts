/**
 * The "smaller run against a real server" of issue [3 of 6], section 7: the simulator's scenarios
 * driven through `slipway serve` over HTTP, to prove that the data plane, the prediction records,
 * the feedback API, the analysis and the rollout controller are wired together — not to measure
 * rates (a few runs cannot).
 *
 * How one run goes:
 * 1. One `slipway serve` child process for the whole part (a temporary data directory, log level
 *    warn, `rollouts.tickMs` 200). Each scenario registers its own model with two versions: the
 *    baseline and the candidate, built by fault-models.ts so that onnxruntime itself fails or slows
 *    the requests (no wrapper fakes a fault).
 * 2. Each run applies an Endpoint spec without a strategy (a new endpoint on the baseline), waits
 *    until it is ready, then applies a canary: `setWeight: 10`, then an `analysis` step with a 1 s
 *    interval, minimum sample 100 per arm, a long deadline and the default checks (for the outcome
 *    scenario the defaults plus the `feedback:converted` check the simulator uses).
 * 3. Eight clients send inference requests (x uniform in [0, 100) from a seeded PRNG) until the
 *    rollout leaves Progressing, `requests` are sent, or the run's time cap; the rollout status is
 *    read every 250 requests. In the outcome scenario every answered request converts with the
 *    scenario's probability for the variant that answered (`x-slipway-variant`), sent through
 *    `POST /api/v1/feedback` under its `x-request-id`.
 * 4. The outcome is read from the stored rollout and its events: Promoting/Promoted → promote,
 *    Aborting/Aborted by the analysis → rollback (the failed checks from the stored evidence),
 *    Paused → pause, still Progressing after the last request's look → end with its last verdict.
 *    The endpoint is then deleted, so runs do not share replicas.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createControlClient, type ControlClient } from '../../src/control/client.js';
import type { AnalysisVerdict, CheckResult, SampleRatioEvidence } from '../../src/rollout/analysis/index.js';
import type { Rollout, RolloutEvent } from '../../src/rollout/state/index.js';
import { createSeededRandom, wilsonInterval, type SeededRandom } from '../../src/stats/index.js';
import { BENCH_ADMIN_KEY, benchAuthHeaders, root, sleep, startServerProcess, type ServerProcess } from '../lib/harness.js';
import { faultModel, tableSizeFor, X_RANGE, type FaultModelOptions } from './fault-models.js';
import type { GateOutcome } from './gates.js';
import { CONVERSION_CHECK, MINIMUM_SAMPLE_PER_ARM, SCENARIOS, SHAPE, type Scenario } from './scenarios.js';
import { medianOf, summarise, type GateSummary } from './simulation.js';

/** Concurrent clients sending inference requests. */
export const CLIENTS = 8;
/** Requests between two reads of the rollout status. */
export const POLL_EVERY = 250;
/** The controller's tick (`rollouts.tickMs`). */
export const TICK_MS = 200;
/** The analysis step's look interval (the spec's minimum). */
export const INTERVAL_SECONDS = 1;
/** Long enough never to pause a run at its deadline. */
export const DEADLINE_SECONDS = 3600;
/**
 * Width of the fault models' MatMuls, and the baseline's rounds: about 5 µs a round at batch 1 on
 * the development machine, so about 2 ms of compute. Why not less: the server's latency figure
 * also holds the request's own path (decoding, the hop to the worker and back, the event loop
 * under load), the same for both versions, which dilutes the candidate's +50 % of compute. While
 * this was written, 200 rounds (≈ 1 ms) read as a canary ÷ stable ratio of 1.15–1.35 from run to
 * run (one run still undecided after 20,000 requests), 400 rounds as 1.40–1.45. And a model with
 * no MatMul at all (≈ 1 ms per request in all) read a healthy canary as 15–24 % slower than
 * stable: its worker replicas, at a tenth of the traffic, are mostly idle, and waking one costs
 * more than such a model's run.
 */
export const MODEL_WIDTH = 256;
export const BASELINE_ROUNDS = 400;
/** Seeds of the clients' PRNGs: run r (1-based) of every scenario uses REAL_SERVER_SEED_BASE + r − 1. */
export const REAL_SERVER_SEED_BASE = 1;

/**
 * The server's settings besides the tick and the log level. Every replica runs one onnxruntime
 * thread in its own worker, and each version keeps enough replicas for every in-flight request:
 * otherwise the stable version, with nine times the canary's traffic, queues its requests behind
 * one another and its measured latency (which includes that wait) is the load's, not the model's —
 * a +50 % slower canary could then look no slower than a crowded stable (with the default settings
 * and a sub-millisecond model, a healthy canary read 16–23 % faster than stable while this was written).
 */
export const SERVER_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  SLIPWAY_SERVING_AUTOSCALING_ENABLED: 'false',
  SLIPWAY_SERVING_REPLICAS: String(CLIENTS),
  SLIPWAY_SERVING_INTRA_OP_THREADS: '1',
  SLIPWAY_SERVING_PLACEMENT: 'worker',
});

/** One scenario as the real server runs it: the two versions and the conversion rates. */
export interface RealServerScenarioPlan {
  readonly scenario: Scenario;
  /** The model name in the registry (one per scenario). */
  readonly model: string;
  readonly baseline: FaultModelOptions;
  readonly candidate: FaultModelOptions;
  /** Conversion probability per answered request by variant, or null when no feedback is sent. */
  readonly conversion: { readonly stable: number; readonly candidate: number } | null;
  /** The analysis step's `checks` (undefined: the defaults). */
  readonly checks: readonly Record<string, unknown>[] | undefined;
}

/** The simulator's conversion check's name, which is its spec metric (`feedback:converted`). */
const CONVERSION_NAME = CONVERSION_CHECK.name ?? CONVERSION_CHECK.metric;

/** The spec's form of the simulator's conversion check. */
const CONVERSION_SPEC_CHECK = Object.freeze({
  metric: CONVERSION_NAME,
  kind: 'rate',
  event: 'converted',
  direction: CONVERSION_CHECK.direction,
  tolerance: CONVERSION_CHECK.tolerance,
  minimumDetectableEffect: CONVERSION_CHECK.minimumDetectableEffect,
});

/** The plans of the four scenarios, derived from the simulator's shape and faults (scenarios.ts). */
export function realServerPlans(rounds = BASELINE_ROUNDS): RealServerScenarioPlan[] {
  return SCENARIOS.map((scenario) => {
    const f = scenario.fault;
    const outcome = f.candidateConversionRate !== null;
    return {
      scenario,
      model: `rs-${scenario.id}`,
      baseline: { tableSize: tableSizeFor(SHAPE.baselineErrorRate), rounds, width: MODEL_WIDTH },
      // the tag keeps a fault-free candidate from being the baseline's bytes (the registry would dedupe it)
      candidate: { tableSize: tableSizeFor(SHAPE.baselineErrorRate + f.extraErrorRate), rounds: Math.round(rounds * f.latencyFactor), width: MODEL_WIDTH, tag: 1 },
      conversion: outcome ? { stable: SHAPE.baselineConversionRate, candidate: f.candidateConversionRate ?? SHAPE.baselineConversionRate } : null,
      // the simulator's feedback case runs the default checks plus the conversion check
      checks: outcome ? [{ metric: 'error-rate' }, { metric: 'latency-mean-log' }, CONVERSION_SPEC_CHECK] : undefined,
    };
  });
}

/** The Endpoint spec documents of one run: the endpoint on the baseline, then the canary. */
export function runDocuments(endpoint: string, plan: RealServerScenarioPlan, versions: { readonly baseline: number; readonly candidate: number }): { readonly create: Record<string, unknown>; readonly canary: Record<string, unknown> } {
  const doc = (version: number, strategy?: Record<string, unknown>): Record<string, unknown> => ({
    apiVersion: 'slipway.dev/v1',
    kind: 'Endpoint',
    metadata: { name: endpoint },
    spec: { model: plan.model, version, ...(strategy === undefined ? {} : { strategy }) },
  });
  const analysis = {
    interval: `${INTERVAL_SECONDS}s`,
    minimumSamplePerArm: MINIMUM_SAMPLE_PER_ARM,
    deadlineSeconds: DEADLINE_SECONDS,
    ...(plan.checks === undefined ? {} : { checks: plan.checks }),
  };
  return {
    create: doc(versions.baseline),
    canary: doc(versions.candidate, { canary: { steps: [{ setWeight: 100 * SHAPE.candidateWeight }, { analysis }] } }),
  };
}

/** A stored analysis verdict as the events API returns it (the engine's result without its state). */
export interface StoredVerdict {
  readonly run: string;
  readonly verdict: AnalysisVerdict;
  readonly reason: string;
  readonly checks: readonly CheckResult[];
  readonly sampleRatio: SampleRatioEvidence | null;
}

/** Reads an analysis event's evidence, or null when it is not one. */
export function storedVerdictOf(event: Pick<RolloutEvent, 'type' | 'evidence'>): StoredVerdict | null {
  const e = event.evidence;
  if (event.type !== 'analysisResult' || e === null) return null;
  if (typeof e.verdict !== 'string' || !Array.isArray(e.checks) || typeof e.run !== 'string') return null;
  return e as unknown as StoredVerdict;
}

/**
 * A run's outcome from its stored rollout and the last analysis verdict of its step: the decision
 * the controller took, or `end` with the last verdict when it took none. Throws on an ending that
 * is not the analysis's (a candidate that failed to load, an abort by someone else): that is a
 * broken wiring, not a result.
 */
export function outcomeOf(rollout: Pick<Rollout, 'phase' | 'pauseReason' | 'conditions'>, last: StoredVerdict | null, atRequest: number): GateOutcome {
  const completed = rollout.conditions.find((c) => c.type === 'Completed')?.reason;
  switch (rollout.phase) {
    case 'Promoting':
    case 'Promoted':
      if (completed !== 'PromotedAutomatically' && completed !== 'PromotionCompleted') throw new Error(`promoted for another reason than the analysis: ${String(completed)}`);
      return { kind: 'promote', atRequest };
    case 'Aborting':
    case 'Aborted': {
      if (completed !== 'AbortedByAnalysis' || last === null || last.verdict !== 'Fail') throw new Error(`aborted for another reason than a failed analysis: ${String(completed)}`);
      return { kind: 'rollback', atRequest, checks: last.checks.filter((c) => c.verdict === 'Fail').map((c) => c.name) };
    }
    case 'Paused':
      return { kind: 'pause', atRequest };
    case 'Progressing':
      return { kind: 'end', atRequest, lastVerdict: last?.verdict ?? null };
  }
}

/** Answered requests by the variant that answered. */
interface ArmCounts {
  stable: number;
  candidate: number;
}

/** What one run produced. */
export interface RealServerRun {
  readonly scenarioId: string;
  /** 1-based. */
  readonly run: number;
  readonly seed: number;
  readonly endpoint: string;
  readonly outcome: GateOutcome;
  /** The rollout's Completed reason, pause reason, or `undecided`. */
  readonly reason: string;
  /** The load stopped at the time cap before `requests` were sent and before a decision. */
  readonly timeCapped: boolean;
  /** Seconds of load (from the first request to the last answer). */
  readonly seconds: number;
  /** Seconds from the first apply to the first request (endpoint and candidate loading), and from the last answer to the endpoint's deletion. */
  readonly setupSeconds: number;
  readonly wrapUpSeconds: number;
  readonly sent: number;
  readonly answered: ArmCounts;
  /** Requests answered with another status than 200 (a failed request names no variant), by status. */
  readonly failed: Readonly<Record<string, number>>;
  readonly feedbackSent: number;
  readonly feedbackRefused: number;
  /** Looks of the step's analysis recorded as events. */
  readonly looks: number;
  /** The last recorded verdict of the step's analysis (the decisive one when there was a decision). */
  readonly lastVerdict: StoredVerdict | null;
  readonly lastVerdictSeq: number | null;
}

/** One scenario driven through a real server. */
export interface RealServerScenarioResult {
  readonly scenarioId: string;
  readonly title: string;
  /** The analysis step's checks as applied ('default' or the list). */
  readonly checks: string;
  readonly runs: number;
  readonly summary: GateSummary;
  readonly details: readonly RealServerRun[];
}

/** What the real-server run produced, or why it did not run. */
export type RealServerResult =
  | { readonly status: 'not-measured'; readonly reason: string }
  | {
      readonly status: 'measured';
      readonly seconds: number;
      readonly requestsPerRun: number;
      /** Runs per scenario asked for (a scenario shows fewer when the time budget ran out). */
      readonly runsAsked: number;
      readonly scenarios: readonly RealServerScenarioResult[];
      /** How the runs were set up, in words (server settings, models, spec, load). */
      readonly setup: readonly string[];
      /** Observations that show the wiring (observed split, verdicts stored with evidence, …). */
      readonly notes: readonly string[];
    };

/** Options of the real-server run. */
export interface RealServerOptions {
  /** Runs per scenario. */
  readonly runs: number;
  /** Requests per run. */
  readonly requests: number;
  /** Longest one run may send requests, in seconds (default 60). */
  readonly runSeconds?: number;
  /** No new run starts after this many seconds of the whole part (default 330). */
  readonly budgetSeconds?: number;
  /** Scenario ids to run (default: all four). */
  readonly scenarios?: readonly string[];
  /** The baseline's MatMul rounds (default {@link BASELINE_ROUNDS}). */
  readonly rounds?: number;
  /** Server settings (environment) over {@link SERVER_SETTINGS}. */
  readonly serverSettings?: Readonly<Record<string, string>>;
  readonly log?: (message: string) => void;
}

/** A small HTTP/1.1 client with keep-alive for the hot path (inference and feedback). */
interface HotClient {
  post(path: string, body: string): Promise<{ status: number; requestId: string | undefined; variant: string | undefined }>;
  close(): void;
}

function createHotClient(baseUrl: string, sockets: number): HotClient {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  return {
    post: (path, body) =>
      new Promise((resolve, reject) => {
        const req = httpRequest(
          { host: url.hostname, port: url.port, path, method: 'POST', agent, headers: benchAuthHeaders({ 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }) },
          (res) => {
            res.resume();
            res.once('end', () => {
              const header = (name: string): string | undefined => {
                const v = res.headers[name];
                return typeof v === 'string' ? v : undefined;
              };
              resolve({ status: res.statusCode ?? 0, requestId: header('x-request-id'), variant: header('x-slipway-variant') });
            });
            res.once('error', reject);
          },
        );
        req.once('error', reject);
        req.end(body);
      }),
    close: () => agent.destroy(),
  };
}

const TERMINAL_OR_DECIDED = new Set(['Promoting', 'Promoted', 'Aborting', 'Aborted', 'Paused']);

/** Polls `read` until `done` holds or `timeoutMs` passes (then throws with `what` and the last value). */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (performance.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms; last: ${JSON.stringify(value).slice(0, 2000)}`);
    await sleep(everyMs);
  }
}

interface RunContext {
  readonly baseUrl: string;
  readonly control: ControlClient;
  readonly hot: HotClient;
  /** Feedback goes through its own connections, so it never holds an inference request back. */
  readonly feedback: HotClient;
  readonly plan: RealServerScenarioPlan;
  readonly versions: { readonly baseline: number; readonly candidate: number };
  readonly run: number;
  readonly requests: number;
  readonly runSeconds: number;
}

async function runOnce(ctx: RunContext): Promise<RealServerRun> {
  const { control, hot, plan } = ctx;
  const endpoint = `${plan.model}-${ctx.run}`;
  const seed = REAL_SERVER_SEED_BASE + ctx.run - 1;
  const docs = runDocuments(endpoint, plan, ctx.versions);
  const runStarted = performance.now();

  await control.apply([docs.create]);
  await until(
    async () => (await fetch(`${ctx.baseUrl}/v2/models/${endpoint}/ready`, { headers: benchAuthHeaders() }).then(async (r) => (await r.arrayBuffer(), r.status)).catch(() => 0)),
    (status) => status === 200,
    `endpoint ${endpoint} ready`,
    60_000,
  );
  const applied = await control.apply([docs.canary]);
  const started = applied.dryRun ? undefined : applied.results[0]?.rollout;
  if (started === null || started === undefined) throw new Error(`applying the canary to ${endpoint} started no rollout: ${JSON.stringify(applied)}`);
  // the load starts once the canary takes its 10 % and the analysis step is running, as in the simulator
  await until(
    () => control.rolloutStatus(endpoint),
    (s) => (s.status.rollout?.phase === 'Progressing' && s.status.rollout.stepIndex === 1 && s.status.policy?.candidate?.weight === 100 * SHAPE.candidateWeight) || TERMINAL_OR_DECIDED.has(s.status.rollout?.phase ?? ''),
    `rollout of ${endpoint} at its analysis step`,
    60_000,
  );

  const xs = createSeededRandom(seed);
  const conversions: SeededRandom = createSeededRandom(seed + 1_000_000);
  const answered: ArmCounts = { stable: 0, candidate: 0 };
  let sent = 0;
  const failed: Record<string, number> = {};
  let decidedAt: number | null = null;
  let feedbackSent = 0;
  let feedbackRefused = 0;
  let pendingFeedback: { requestId: string; event: string }[] = [];
  const feedbackCalls = new Set<Promise<void>>();
  const flushFeedback = (): void => {
    if (pendingFeedback.length === 0) return;
    const items = pendingFeedback;
    pendingFeedback = [];
    const call = ctx.feedback
      .post('/api/v1/feedback', JSON.stringify({ items }))
      .then((r) => {
        if (r.status === 200) feedbackSent += items.length;
        else feedbackRefused += items.length;
      })
      .catch(() => {
        feedbackRefused += items.length;
      })
      .finally(() => feedbackCalls.delete(call));
    feedbackCalls.add(call);
  };
  const poll = async (): Promise<void> => {
    flushFeedback();
    const s = await control.rolloutStatus(endpoint);
    if (decidedAt === null && TERMINAL_OR_DECIDED.has(s.status.rollout?.phase ?? '')) decidedAt = sent;
  };

  const loadStarted = performance.now();
  const setupSeconds = (loadStarted - runStarted) / 1000;
  const stopAt = loadStarted + ctx.runSeconds * 1000;
  let timeCapped = false;
  const worker = async (): Promise<void> => {
    // bounded by `requests` in all: every pass takes one request number
    while (decidedAt === null && sent < ctx.requests) {
      if (performance.now() > stopAt) {
        timeCapped = true;
        return;
      }
      sent++;
      const number = sent;
      const x = xs.next() * X_RANGE;
      const answer = await hot.post(`/v2/models/${endpoint}/infer`, `{"inputs":[{"name":"x","shape":[1,1],"datatype":"FP32","data":[${x}]}]}`);
      if (answer.status === 200 && (answer.variant === 'stable' || answer.variant === 'candidate')) {
        answered[answer.variant]++;
        if (plan.conversion !== null && answer.requestId !== undefined && conversions.bernoulli(plan.conversion[answer.variant])) {
          pendingFeedback.push({ requestId: answer.requestId, event: 'converted' });
          if (pendingFeedback.length >= 50) flushFeedback();
        }
      } else {
        failed[answer.status] = (failed[answer.status] ?? 0) + 1;
      }
      if (number % POLL_EVERY === 0) await poll();
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, () => worker()));
  const seconds = (performance.now() - loadStarted) / 1000;
  const lastAnswerAt = Date.now();
  flushFeedback();
  await Promise.all([...feedbackCalls]);

  // Without a decision during the load, the simulator's last look sees every request: wait for the
  // first look after the last answer. A look that would change nothing is not recorded, so when
  // none comes within a few intervals the last recorded one already saw everything.
  let status = await control.rolloutStatus(endpoint);
  const settleBy = performance.now() + 3 * INTERVAL_SECONDS * 1000 + 2 * TICK_MS;
  // bounded by settleBy
  while (decidedAt === null && !TERMINAL_OR_DECIDED.has(status.status.rollout?.phase ?? '') && (status.status.rollout?.analysis.step?.lastAt ?? 0) < lastAnswerAt && performance.now() < settleBy) {
    await sleep(50);
    status = await control.rolloutStatus(endpoint);
  }
  const rollout = status.status.rollout;
  if (rollout === null) throw new Error(`${endpoint} has no rollout`);
  const events = (await control.rolloutEvents(rollout.id, { limit: 10_000 })).events;
  const looks = events.map((e) => ({ e, v: storedVerdictOf(e) })).filter((x) => x.v !== null && x.v.run === 'step');
  const last = looks.at(-1);
  const outcome = outcomeOf(rollout, last?.v ?? null, decidedAt ?? sent);
  const reason =
    rollout.phase === 'Paused' ? (rollout.pauseReason ?? 'Paused') : rollout.phase === 'Progressing' ? 'undecided' : (rollout.conditions.find((c) => c.type === 'Completed')?.reason ?? rollout.phase);

  // leave nothing running: abort an undecided rollout, then delete the endpoint and its replicas
  if (rollout.phase === 'Progressing' || rollout.phase === 'Paused') await control.rolloutVerb(endpoint, 'abort', { message: 'benchmark run over' });
  await control.deleteEndpoint(endpoint, 'benchmark run over');
  const wrapUpSeconds = (performance.now() - loadStarted) / 1000 - seconds;

  return {
    scenarioId: plan.scenario.id,
    run: ctx.run,
    seed,
    endpoint,
    outcome,
    reason,
    timeCapped: timeCapped && decidedAt === null,
    seconds,
    setupSeconds,
    wrapUpSeconds,
    sent,
    answered,
    failed,
    feedbackSent,
    feedbackRefused,
    looks: looks.length,
    lastVerdict: last?.v ?? null,
    lastVerdictSeq: last?.e.seq ?? null,
  };
}

/** Registers a scenario's two versions; returns their numbers. */
async function registerPlan(control: ControlClient, dir: string, plan: RealServerScenarioPlan): Promise<{ baseline: number; candidate: number }> {
  const push = async (role: 'baseline' | 'candidate', options: FaultModelOptions): Promise<number> => {
    const file = join(dir, `${plan.model}-${role}.onnx`);
    writeFileSync(file, faultModel(options));
    const { version } = await control.pushVersion(plan.model, file, { description: `rollout benchmark ${role}: table ${options.tableSize}, ${options.rounds} MatMul rounds of ${options.width}` });
    return version.version;
  };
  const baseline = await push('baseline', plan.baseline);
  const candidate = await push('candidate', plan.candidate);
  if (baseline === candidate) throw new Error(`${plan.model}: the candidate was stored as the baseline's version ${baseline}`);
  return { baseline, candidate };
}

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
const fmt = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined ? '—' : Number(x.toPrecision(digits)).toString());

function checkOf(v: StoredVerdict | null, name: string): CheckResult | undefined {
  return v?.checks.find((c) => c.name === name);
}

/** candidate ÷ baseline geometric-mean latency at a verdict (from the latency check's estimates). */
export function latencyRatioOf(v: StoredVerdict | null): number | null {
  const e = checkOf(v, 'latency-mean-log')?.evidence.estimates;
  if (e === undefined || e.baseline === null || e.candidate === null || e.baseline <= 0) return null;
  return e.candidate / e.baseline;
}

/** Requests (both arms) a verdict's analysis had seen, from its error-rate check. */
export function analysedOf(v: StoredVerdict | null): number | null {
  const e = checkOf(v, 'error-rate')?.evidence;
  return e === undefined ? null : e.nBaseline + e.nCandidate;
}

/** One check's stored evidence in words. */
export function describeEvidence(c: CheckResult): string {
  const e = c.evidence;
  const interval = e.interval === null ? '—' : `[${fmt(e.interval.lower)}, ${fmt(e.interval.upper)}]`;
  return (
    `\`${c.name}\` ${c.verdict}: n = ${e.nBaseline} stable / ${e.nCandidate} canary, estimates ${fmt(e.estimates.baseline)} / ${fmt(e.estimates.candidate)}, ` +
    `difference ${fmt(e.difference)} (${e.scale}) with always-valid interval ${interval}, p = ${fmt(e.pValue)}, threshold ${fmt(e.threshold)}`
  );
}

function range(values: readonly number[]): string {
  if (values.length === 0) return '—';
  const s = [...values].sort((a, b) => a - b);
  const med = medianOf(s) as number;
  return s.length === 1 ? fmt(med) : `${fmt(med)} (${fmt(s[0])}–${fmt(s[s.length - 1])})`;
}

/** How the runs were set up, in words: every number here is a setting, not a measurement. */
export function setupLines(plans: readonly RealServerScenarioPlan[], settings: Readonly<Record<string, string>>, runSeconds: number, budgetSeconds: number): string[] {
  const base = plans[0]?.baseline;
  const latency = plans.find((p) => p.candidate.rounds !== p.baseline.rounds);
  const outcome = plans.find((p) => p.conversion !== null);
  const errors = plans.find((p) => p.candidate.tableSize !== p.baseline.tableSize);
  return [
    `Server: one \`slipway serve\` child process for the whole part (\`node --import tsx\` on src/, through bench/slipway-main.mjs), a temporary data directory, \`SLIPWAY_LOG_LEVEL=warn\`, \`SLIPWAY_ROLLOUTS_TICK_MS=${TICK_MS}\`, ${Object.entries(settings)
      .map(([k, v]) => `\`${k}=${v}\``)
      .join(', ')}: every version gets one single-threaded worker replica per client, so no request waits for a replica and the measured latency is the model's plus the server's own path, not a queue that the stable version's nine-fold traffic would make longer than the canary's.`,
    `Models (bench/rollout/fault-models.ts, one model name per scenario, two versions each): x FP32 [batch, 1] → Cast to INT64 → Gather from a constant table of S rows → ${base === undefined ? '—' : `${base.rounds} (baseline)`} chained ${MODEL_WIDTH} × ${MODEL_WIDTH} identity MatMuls → the row sum. onnxruntime refuses an index ≥ S, which the server answers 400 and counts against the version; x is uniform in [0, ${X_RANGE}) from a seeded PRNG (mulberry32; run r of every scenario uses seed ${REAL_SERVER_SEED_BASE} + r − 1), so S = ${base?.tableSize ?? '—'} fails ${base === undefined ? '—' : pct((X_RANGE - base.tableSize) / X_RANGE)} of requests (the baseline) and S = ${errors === undefined ? '—' : `${errors.candidate.tableSize} fails ${pct((X_RANGE - errors.candidate.tableSize) / X_RANGE)}`} (the +2 pp candidate). The +50 % latency candidate runs ${latency === undefined ? '—' : `${latency.candidate.rounds} rounds instead of ${latency.baseline.rounds}`}; the no-fault candidate is the baseline with an unused initializer (different bytes, the same answers).`,
    `Each run: \`POST /api/v1/apply\` of an Endpoint without a strategy (a new endpoint on the baseline; wait until ready), then of a canary with steps \`setWeight: ${100 * SHAPE.candidateWeight}\` and \`analysis: {interval: ${INTERVAL_SECONDS}s, minimumSamplePerArm: ${MINIMUM_SAMPLE_PER_ARM}, deadlineSeconds: ${DEADLINE_SECONDS}}\` with the default checks (error-rate, latency-mean-log), and for the outcome scenario those plus \`${CONVERSION_NAME}\` (rate of the \`converted\` event, higher is better, tolerance ${CONVERSION_CHECK.tolerance ?? 0}, minimumDetectableEffect ${CONVERSION_CHECK.minimumDetectableEffect ?? '—'}), as in the simulator. Load starts once the rollout is at its analysis step with the router at ${100 * SHAPE.candidateWeight} %.`,
    `Load: ${CLIENTS} concurrent clients (keep-alive HTTP/1.1 from the benchmark's process) send one-row inference requests until the rollout leaves Progressing, the run's request bound is reached, or ${runSeconds} s pass; the rollout status is read every ${POLL_EVERY} requests, and "requests to rollback" counts the requests sent when a read first showed the decision. Without a decision, the outcome is read after the first look that follows the last request (as the simulator's last look sees every request). ${
      outcome?.conversion === null || outcome === undefined
        ? ''
        : `Outcome scenario: each answered request converts with probability ${pct(outcome.conversion.stable)} (stable) or ${pct(outcome.conversion.candidate)} (canary), by its \`x-slipway-variant\`, drawn from a second seeded PRNG, and conversions go to \`POST /api/v1/feedback\` in batches of up to 50 under each answer's \`x-request-id\`, off the requests' critical path.`
    } Runs go round the scenarios (run 1 of each, then run 2, …); no run starts after ${budgetSeconds} s. After each run an undecided rollout is aborted and the endpoint deleted.`,
  ];
}

/** The notes that show the wiring, from the runs alone. */
export function wiringNotes(scenarios: readonly RealServerScenarioResult[], plans: readonly RealServerScenarioPlan[], seconds: number, runSeconds: number): string[] {
  const runs = scenarios.flatMap((s) => s.details);
  const notes: string[] = [];
  const stable = runs.reduce((a, r) => a + r.answered.stable, 0);
  const candidate = runs.reduce((a, r) => a + r.answered.candidate, 0);
  if (stable + candidate > 0) {
    const ci = wilsonInterval({ n: stable + candidate, successes: candidate });
    notes.push(
      `Observed split: the canary answered ${candidate.toLocaleString('en-US')} of ${(stable + candidate).toLocaleString('en-US')} answered requests = ${pct(candidate / (stable + candidate))} (95 % CI ${(100 * ci.lower).toFixed(1)}–${(100 * ci.upper).toFixed(1)} %) against the configured ${pct(SHAPE.candidateWeight)}, read from each answer's \`x-slipway-variant\` header.`,
    );
  }
  const sent = runs.reduce((a, r) => a + r.sent, 0);
  const loadSeconds = runs.reduce((a, r) => a + r.seconds, 0);
  const setupSeconds = runs.reduce((a, r) => a + r.setupSeconds, 0);
  notes.push(
    `Wall time ${seconds.toFixed(1)} s for the whole part: ${loadSeconds.toFixed(1)} s of load (${sent.toLocaleString('en-US')} inference requests, ${Math.round(sent / Math.max(loadSeconds, 1e-9))} requests/s on average from ${CLIENTS} clients), ${setupSeconds.toFixed(1)} s from each run's first apply to its first request (the baseline's and then the candidate's replicas starting and loading), the rest server start, registration, the last look and clean-up.`,
  );
  const perLook = runs.filter((r) => r.looks > 0).map((r) => (analysedOf(r.lastVerdict) ?? 0) / r.looks);
  notes.push(
    `Looks are time-based here: the analysis step looks every ${INTERVAL_SECONDS} s (the spec's minimum interval; \`rollouts.tickMs\` ${TICK_MS}), so a look covers whatever traffic arrived in that second — median ${range(perLook)} requests per look over the runs — where the simulator looks every 500 requests. Requests to a decision are therefore comparable with the simulator's only roughly; they also include up to ${POLL_EVERY} requests between two reads of the status.`,
  );
  for (const s of scenarios) {
    const plan = plans.find((p) => p.scenario.id === s.scenarioId);
    const ratios = s.details.map((r) => latencyRatioOf(r.lastVerdict)).filter((x): x is number => x !== null);
    const errB = s.details.map((r) => checkOf(r.lastVerdict, 'error-rate')?.evidence.estimates.baseline).filter((x): x is number => typeof x === 'number');
    const errC = s.details.map((r) => checkOf(r.lastVerdict, 'error-rate')?.evidence.estimates.candidate).filter((x): x is number => typeof x === 'number');
    const parts = [
      `stable error rate ${range(errB)}, canary ${range(errC)} (true: ${plan === undefined ? '—' : `${pct((X_RANGE - plan.baseline.tableSize) / X_RANGE)} / ${pct((X_RANGE - plan.candidate.tableSize) / X_RANGE)}`})`,
      `canary ÷ stable geometric-mean latency ${range(ratios)} (MatMul rounds ${plan === undefined ? '—' : `${plan.baseline.rounds} / ${plan.candidate.rounds}`})`,
    ];
    if (plan?.conversion !== null && plan !== undefined) {
      const conv = s.details.map((r) => checkOf(r.lastVerdict, CONVERSION_NAME)?.evidence.estimates).filter((e) => e !== undefined);
      parts.push(
        `conversion stable ${range(conv.map((e) => e.baseline).filter((x): x is number => x !== null))}, canary ${range(conv.map((e) => e.candidate).filter((x): x is number => x !== null))} (drawn: ${pct(plan.conversion.stable)} / ${pct(plan.conversion.candidate)}); ${s.details.reduce((a, r) => a + r.feedbackSent, 0).toLocaleString('en-US')} feedback events accepted, ${s.details.reduce((a, r) => a + r.feedbackRefused, 0)} refused`,
      );
    }
    const capped = s.details.filter((r) => r.timeCapped).length;
    if (capped > 0) parts.push(`${capped} run(s) stopped at the ${runSeconds} s time cap before all requests were sent`);
    notes.push(`${s.title}, as the analysis measured it at each run's last look (median, range over runs): ${parts.join('; ')}.`);
  }
  const shown = runs.find((r) => r.outcome.kind === 'rollback' && r.scenarioId === 'errors') ?? runs.find((r) => r.outcome.kind !== 'end' && r.lastVerdict !== null) ?? runs.find((r) => r.lastVerdict !== null);
  if (shown?.lastVerdict !== undefined && shown.lastVerdict !== null) {
    const v = shown.lastVerdict;
    const srm = v.sampleRatio === null ? 'no sample-ratio test' : `sample-ratio test observed ${v.sampleRatio.observed.join(' / ')} against expected ${v.sampleRatio.expected.map((x) => x.toFixed(1)).join(' / ')}, p = ${fmt(v.sampleRatio.pValue)}`;
    notes.push(
      `A stored verdict, as \`GET /api/v1/rollouts/{id}/events\` returns it (${shown.scenarioId} run ${shown.run}, endpoint \`${shown.endpoint}\`, event ${String(shown.lastVerdictSeq)}, look ${shown.looks}, verdict **${v.verdict}** → ${shown.reason}): ${v.checks.map(describeEvidence).join('; ')}; ${srm}.`,
    );
  }
  return notes;
}

/** Runs the scenarios against one real `slipway serve`. */
export async function runAgainstRealServer(options: RealServerOptions): Promise<RealServerResult> {
  const log = options.log ?? ((m: string) => process.stderr.write(`[bench:rollout real-server] ${m}\n`));
  const runSeconds = options.runSeconds ?? 60;
  const budgetSeconds = options.budgetSeconds ?? 330;
  const plans = realServerPlans(options.rounds).filter((p) => options.scenarios === undefined || options.scenarios.includes(p.scenario.id));
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'slipway-rollout-bench-'));
  let server: ServerProcess | undefined;
  let hot: HotClient | undefined;
  let feedback: HotClient | undefined;
  try {
    server = await startServerProcess(['--import', 'tsx', join(root, 'bench', 'slipway-main.mjs'), join(root, 'src', 'cli', 'main.ts'), 'serve', '--port', '0', '--data-dir', join(dir, 'data')], {
      SLIPWAY_LOG_LEVEL: 'warn',
      SLIPWAY_ROLLOUTS_TICK_MS: String(TICK_MS),
      ...SERVER_SETTINGS,
      ...options.serverSettings,
    });
    log(`slipway serve at ${server.url}`);
    const control = createControlClient({ baseUrl: server.url, apiKey: BENCH_ADMIN_KEY });
    hot = createHotClient(server.url, CLIENTS);
    feedback = createHotClient(server.url, 2);
    const versions = new Map<string, { baseline: number; candidate: number }>();
    for (const plan of plans) versions.set(plan.scenario.id, await registerPlan(control, dir, plan));
    const details = new Map<string, RealServerRun[]>(plans.map((p) => [p.scenario.id, []]));
    // run r of every scenario before run r + 1 of any, so that a budget cut leaves every scenario with about as many runs
    outer: for (let run = 1; run <= options.runs; run++) {
      for (const plan of plans) {
        const elapsed = (performance.now() - started) / 1000;
        if (elapsed > budgetSeconds) {
          log(`time budget of ${budgetSeconds} s spent after ${elapsed.toFixed(0)} s: no more runs`);
          break outer;
        }
        const v = versions.get(plan.scenario.id);
        if (v === undefined) throw new Error(`no versions for ${plan.scenario.id}`);
        const r = await runOnce({ baseUrl: server.url, control, hot, feedback, plan, versions: v, run, requests: options.requests, runSeconds });
        details.get(plan.scenario.id)?.push(r);
        log(
          `${plan.scenario.id} run ${run}: ${r.outcome.kind}${r.outcome.kind === 'rollback' ? ` (${r.outcome.checks.join(', ')})` : r.outcome.kind === 'end' ? ` (${String(r.outcome.lastVerdict)})` : ''} at ${r.outcome.atRequest} requests, ${r.looks} looks, ${r.seconds.toFixed(1)} s (+ ${r.setupSeconds.toFixed(1)} s before, ${r.wrapUpSeconds.toFixed(1)} s after), canary ${r.answered.candidate}/${r.answered.candidate + r.answered.stable}, latency ratio ${fmt(latencyRatioOf(r.lastVerdict))}`,
        );
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const scenarios: RealServerScenarioResult[] = plans.map((plan) => {
      const runs = details.get(plan.scenario.id) ?? [];
      return {
        scenarioId: plan.scenario.id,
        title: plan.scenario.title,
        checks: plan.checks === undefined ? 'default (error-rate, latency-mean-log)' : plan.checks.map((c) => String(c.metric)).join(', '),
        runs: runs.length,
        summary: summarise(runs.map((r) => r.outcome)),
        details: runs,
      };
    });
    return {
      status: 'measured',
      seconds,
      requestsPerRun: options.requests,
      runsAsked: options.runs,
      scenarios,
      setup: setupLines(plans, { ...SERVER_SETTINGS, ...options.serverSettings }, runSeconds, budgetSeconds),
      notes: wiringNotes(scenarios, plans, seconds, runSeconds),
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`failed: ${message}`);
    if (server !== undefined && server.stderr.length > 0) log(`server stderr (last lines):\n${server.stderr.slice(-20).join('\n')}`);
    return { status: 'not-measured', reason: `the real-server run failed: ${message.slice(0, 500)}` };
  } finally {
    hot?.close();
    feedback?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
