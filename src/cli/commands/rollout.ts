/**
 * `slipway rollout status | promote | pause | resume | abort | retry | history ENDPOINT`: an
 * endpoint's rollout as the control API reports it, and the verbs a person uses on it
 * (docs/rollouts.md). Steps count from 0 (`step 1 of 2` is a canary's `steps[1]`), as in the
 * server's own messages.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { createHttpCaller, type RolloutResponse, type RolloutStatusResponse } from '../../control/index.js';
import type { AnalysisResult, EvidenceInterval } from '../../rollout/analysis/index.js';
import type { RolloutStatus } from '../../rollout/controller/index.js';
import { formatDuration, type RolloutStrategy } from '../../rollout/spec/index.js';
import { planOf, ROLLOUT_MAX_LIMIT, type AnalysisRecord, type PlanStep, type Rollout, type RolloutEvent } from '../../rollout/state/index.js';
import { commandContext, type CommandContext } from '../context.js';
import { CliErrors } from '../errors.js';
import type { CliIo } from '../io.js';
import { formatTime, truncate } from '../output.js';

/** Milliseconds since the epoch as the CLI prints times, `-` for none. */
export function formatMs(ms: number | null): string {
  return ms === null ? '-' : formatTime(new Date(ms).toISOString());
}

/** A number in at most three significant digits (`0.0123`, `1.5`, `2.35e-7`); `-` for none. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)));
}

/** `[-0.0100, 0.0200]`; an unbounded side is shown as ∞. */
export function formatInterval(interval: EvidenceInterval | null): string {
  if (interval === null) return '-';
  return `[${interval.lower === null ? '-∞' : formatNumber(interval.lower)}, ${interval.upper === null ? '∞' : formatNumber(interval.upper)}]`;
}

/** One plan step in words: `setWeight 30 %`, `pause 1m`, `pause until promote`, `analysis`. */
export function describeStep(step: PlanStep): string {
  switch (step.kind) {
    case 'setWeight':
      return `setWeight ${step.weight} %`;
    case 'pause':
      if (step.durationSeconds === undefined) return 'pause until promote';
      // blue-green's last step: its pause counts from green being ready, and promotion follows it
      if (step.from === 'candidateReady') return step.durationSeconds === 0 ? 'promote once the candidate is ready' : `promote ${formatDuration(step.durationSeconds)} after the candidate is ready`;
      return `pause ${formatDuration(step.durationSeconds)}`;
    case 'analysis':
      return `analysis every ${formatDuration(step.analysis.intervalSeconds)}`;
    case 'smoke':
      return 'smoke requests';
    case 'experiment':
      return 'experiment';
  }
}

/** The strategy in one line: its kind and what it walks. */
export function describeStrategy(strategy: RolloutStrategy): string {
  switch (strategy.kind) {
    case 'canary': {
      const extra = [
        strategy.analysis === undefined ? undefined : `background analysis every ${formatDuration(strategy.analysis.intervalSeconds)}`,
        strategy.stickiness === undefined ? undefined : `sticky by ${strategy.stickiness.kind} ${strategy.stickiness.name}`,
        strategy.mirrorPercent > 0 ? `mirror ${strategy.mirrorPercent} %` : undefined,
      ].filter((x): x is string => x !== undefined);
      return `canary: ${planOf(strategy).map(describeStep).join(' → ')}${extra.length === 0 ? '' : ` (${extra.join(', ')})`}`;
    }
    case 'blueGreen':
      return `blueGreen: ${planOf(strategy).map(describeStep).join(' → ')}, blue kept warm ${formatDuration(strategy.scaleDownDelaySeconds)}`;
    case 'shadow':
      return `shadow: mirror ${strategy.mirrorPercent} % until promote or abort`;
    case 'experiment':
      return `experiment: ${strategy.variants.length} variants, decided by ${strategy.metrics[0]?.name ?? '?'}`;
  }
}

/**
 * Where the rollout is in its plan: `1 of 2: pause until promote`, `waiting for the candidate`, or
 * `done`. Steps count from 0, as the server's messages and the spec's paths (`steps[1]`) do.
 */
export function describePosition(r: Rollout): string {
  const plan = planOf(r.strategy);
  if (r.phase === 'Promoted' || r.phase === 'Aborted') return 'done';
  if (r.stepStartedAt === null) return `waiting for the candidate (then step ${r.stepIndex} of ${plan.length})`;
  const step = plan[r.stepIndex];
  return step === undefined ? `past the last of ${plan.length} steps` : `${r.stepIndex} of ${plan.length}: ${describeStep(step)}`;
}

/** `1 → 2`, or for an experiment `1 → control v1, treatment v2`. */
export function describeVersions(r: Rollout): string {
  if (r.variants !== null) return `${r.stableVersion} → ${r.variants.map((v) => `${v.name} v${v.version}`).join(', ')}`;
  return `${r.stableVersion} → ${r.candidateVersion ?? '?'}`;
}

/** The phase with what holds it: `Paused (PausedByStep)`. */
function describePhase(r: Rollout): string {
  if (r.phase !== 'Paused' || r.pauseReason === null) return r.phase;
  return `${r.phase} (${r.pauseReason}${r.pauseUntil === null ? '' : `, until ${formatMs(r.pauseUntil)}`})`;
}

function printAnalysis(ctx: CommandContext, run: string, record: AnalysisRecord): void {
  const result: AnalysisResult | null = record.lastResult;
  ctx.out.line();
  if (result === null) {
    ctx.out.line(`Analysis (${run}): started ${formatMs(record.startedAt)}, no look yet`);
    return;
  }
  ctx.out.line(`Analysis (${run}): ${result.verdict} at ${formatMs(record.lastAt)} — ${result.reason}`);
  const srm = result.sampleRatio;
  if (srm !== null) {
    const expected = srm.expected.map((n) => formatNumber(Number(n.toFixed(1)))).join('/');
    ctx.out.line(`  sample ratio ${srm.arms.join('/')}: observed ${srm.observed.join('/')}, expected ${expected}, p-value ${formatNumber(srm.pValue)}${srm.flagged ? ' — MISMATCH: the rollout pauses' : ''}`);
  }
  ctx.out.table(
    ['CHECK', 'VERDICT', 'N BASE/CAND', 'BASELINE', 'CANDIDATE', 'DIFFERENCE', 'INTERVAL', 'P-VALUE'],
    result.checks.map((c) => {
      const e = c.evidence;
      return [
        c.name,
        c.verdict,
        `${e.nBaseline}/${e.nCandidate}`,
        formatNumber(e.estimates.baseline),
        formatNumber(e.estimates.candidate),
        e.difference === null ? '-' : `${formatNumber(e.difference)} (${e.scale})`,
        formatInterval(e.interval),
        formatNumber(e.pValue),
      ];
    }),
    '  (no checks)',
  );
}

/** Prints an endpoint's rollout status: fields, conditions, each analysis run's last look, observed figures. */
export function printStatus(ctx: CommandContext, status: RolloutStatus): void {
  const r = status.rollout;
  ctx.out.fields([
    ['Endpoint', status.endpoint],
    ['Strategy', status.strategy === null ? '- (none: a new target switches at once)' : describeStrategy(status.strategy)],
    ['Stable', `version ${status.stableVersion}`],
    ['Target', `version ${status.targetVersion}`],
    ['Rollout', r === null ? '- (none yet)' : `${r.id} (${r.strategy.kind}, ${describeVersions(r)}, started ${formatMs(r.createdAt)} by ${r.createdBy})`],
    ['Phase', r === null ? undefined : describePhase(r)],
    ['Step', r === null ? undefined : describePosition(r)],
    ['Weight', r === null ? undefined : `${r.currentWeight} %`],
    ['Winner', r?.winner ?? undefined],
    ['Finished', r === null || r.finishedAt === null ? undefined : formatMs(r.finishedAt)],
  ]);
  if (r === null) return;
  ctx.out.line();
  ctx.out.table(
    ['CONDITION', 'STATUS', 'REASON', 'SINCE', 'MESSAGE'],
    r.conditions.map((c) => [c.type, c.status, c.reason, formatMs(c.lastTransitionAt), c.message]),
    'No conditions.',
  );
  if (r.analysis.background !== null) printAnalysis(ctx, 'background', r.analysis.background);
  if (r.analysis.step !== null) printAnalysis(ctx, 'step', r.analysis.step);
  const observed = status.observed;
  if (observed !== null) {
    ctx.out.line();
    ctx.out.line(`Observed since ${formatMs(observed.since)}:`);
    ctx.out.table(
      ['VARIANT', 'VERSION', 'REQUESTS', 'ERRORS', 'GEO-MEAN MS'],
      observed.variants.map((v) => [v.variant, String(v.version), String(v.requests), String(v.errors), v.latencyGeoMeanMs === null ? '-' : v.latencyGeoMeanMs.toFixed(2)]),
      '  no requests yet',
    );
    const sh = observed.shadow;
    if (sh !== null && sh !== undefined) {
      const m = sh.summary;
      ctx.out.line(
        `Shadow v${sh.version}: ${m.comparisons} compared, ${sh.mirror.failed} failed, ${sh.mirror.dropped} dropped` +
          (m.agreementRate === null ? '' : `, label agreement ${(m.agreementRate * 100).toFixed(1)} %`) +
          (m.meanAbsDiff === null ? '' : `, mean |Δ| ${formatNumber(m.meanAbsDiff)}`) +
          (m.meanLatencyDiffMs === null ? '' : `, latency Δ ${m.meanLatencyDiffMs.toFixed(2)} ms`),
      );
    }
  }
}

/** What a verb leaves: `Rollout 01K… of canary: Paused (PausedByUser) · step 1 of 2: pause until promote · weight 30 %`. */
export function describeAfterVerb(r: Rollout): string {
  const position = describePosition(r);
  const parts = [describePhase(r), ...(position === 'done' ? [] : [/^\d/.test(position) ? `step ${position}` : position]), `weight ${r.currentWeight} %`];
  return `Rollout ${r.id} of ${r.endpoint}: ${parts.join(' · ')}`;
}

function printRollouts(ctx: CommandContext, endpoint: string, rollouts: readonly Rollout[]): void {
  ctx.out.table(
    ['ID', 'STRATEGY', 'VERSIONS', 'PHASE', 'CREATED', 'BY', 'FINISHED'],
    rollouts.map((r) => [r.id, r.strategy.kind, describeVersions(r), r.phase, formatMs(r.createdAt), r.createdBy, formatMs(r.finishedAt)]),
    `Endpoint ${endpoint} has had no rollout. \`slipway apply -f FILE.yaml\` with a strategy starts one.`,
  );
}

function printEvents(ctx: CommandContext, events: readonly RolloutEvent[]): void {
  ctx.out.table(
    ['SEQ', 'AT', 'ACTOR', 'TYPE', 'PHASE', 'REASON', 'STEP', 'WEIGHT', 'MESSAGE'],
    events.map((e) => [
      String(e.seq),
      formatMs(e.at),
      e.actor,
      e.type,
      e.fromPhase === null || e.fromPhase === e.toPhase ? e.toPhase : `${e.fromPhase} → ${e.toPhase}`,
      e.reason,
      String(e.stepIndex),
      `${e.weight} %`,
      truncate(e.message, 100),
    ]),
    'No events.',
  );
}

/** Every event of a rollout, oldest first, a page at a time (bounded: a rollout has few thousand at most). */
async function allEvents(ctx: CommandContext, id: string): Promise<RolloutEvent[]> {
  const out: RolloutEvent[] = [];
  for (let page = 0; page < 100; page++) {
    const last = out.at(-1);
    const { events } = await ctx.client().rolloutEvents(id, { ...(last === undefined ? {} : { afterSeq: last.seq }), limit: ROLLOUT_MAX_LIMIT });
    out.push(...events);
    if (events.length < ROLLOUT_MAX_LIMIT) break;
  }
  return out;
}

function limitArg(value: string): number {
  if (!/^[1-9]\d*$/.test(value) || Number(value) > ROLLOUT_MAX_LIMIT) throw new InvalidArgumentError(`must be a whole number from 1 to ${ROLLOUT_MAX_LIMIT}`);
  return Number(value);
}

interface MessageOptions {
  readonly message?: string;
}

interface PromoteOptions extends MessageOptions {
  readonly full?: boolean;
  readonly variant?: string;
}

interface HistoryOptions {
  readonly limit: number;
  /** true: the newest rollout's events; a string: that rollout's. */
  readonly events?: string | true;
}

const VERB_HELP = {
  pause: 'pause the running rollout: its split stays until resume, promote or abort',
  resume: 'resume a rollout a person (or a deadline, or a sample-ratio mismatch) paused; a pause step opens only with promote',
  abort: 'abort the running rollout: all traffic goes back to the stable version at once',
  retry: "start the endpoint's strategy again for its current target after an aborted rollout",
} as const;

export function registerRolloutCommands(program: Command, io: CliIo): void {
  const rollout = program.command('rollout').description("watch and steer an endpoint's rollout (canary, blue-green, experiment, shadow)");

  rollout
    .command('status')
    .description("the endpoint's strategy, stable and target versions, and its rollout: phase, step, weight, conditions, analysis verdicts, observed traffic")
    .argument('<endpoint>', 'endpoint name')
    .action(async (endpoint: string, _options: object, command: Command) => {
      const ctx = commandContext(io, command);
      const result: RolloutStatusResponse = await ctx.client().rolloutStatus(endpoint);
      ctx.out.result(result, () => printStatus(ctx, result.status));
    });

  rollout
    .command('promote')
    .description('approve the current step (canary) or promote at once (blue-green, shadow, experiment); past the last step the candidate becomes stable')
    .argument('<endpoint>', 'endpoint name')
    .option('--full', 'skip every remaining step and promote now (canary)')
    .option('--variant <name>', 'experiments: the variant to make stable (default: the declared winner)')
    .option('-m, --message <text>', 'why, kept in the rollout history')
    .action(async (endpoint: string, options: PromoteOptions, command: Command) => {
      const ctx = commandContext(io, command);
      const result = await ctx.client().rolloutVerb(endpoint, 'promote', {
        ...(options.message === undefined ? {} : { message: options.message }),
        ...(options.full === true ? { full: true } : {}),
        ...(options.variant === undefined ? {} : { variant: options.variant }),
      });
      ctx.out.result(result, () => ctx.out.line(describeAfterVerb(result.rollout)));
    });

  for (const verb of ['pause', 'resume', 'abort'] as const) {
    rollout
      .command(verb)
      .description(VERB_HELP[verb])
      .argument('<endpoint>', 'endpoint name')
      .option('-m, --message <text>', 'why, kept in the rollout history')
      .action(async (endpoint: string, options: MessageOptions, command: Command) => {
        const ctx = commandContext(io, command);
        const result = await ctx.client().rolloutVerb(endpoint, verb, options.message === undefined ? {} : { message: options.message });
        ctx.out.result(result, () => ctx.out.line(describeAfterVerb(result.rollout)));
      });
  }

  // no --message: the server's retry records its own reason (RolloutStarted) and keeps no note
  rollout
    .command('retry')
    .description(VERB_HELP.retry)
    .argument('<endpoint>', 'endpoint name')
    .action(async (endpoint: string, _options: object, command: Command) => {
      const ctx = commandContext(io, command);
      const result = await ctx.client().rolloutVerb(endpoint, 'retry');
      ctx.out.result(result, () => ctx.out.line(describeAfterVerb(result.rollout)));
    });

  rollout
    .command('history')
    .description("the endpoint's rollouts, newest first; with --events, every recorded change of one of them")
    .argument('<endpoint>', 'endpoint name')
    .option('--limit <n>', 'how many rollouts to list', limitArg, 20)
    .option('--events [id]', "show the events of rollout ID (default: the endpoint's newest rollout)")
    .action(async (endpoint: string, options: HistoryOptions, command: Command) => {
      const ctx = commandContext(io, command);
      if (options.events === undefined) {
        const result = await ctx.client().listRollouts(endpoint, options.limit);
        ctx.out.result(result, () => printRollouts(ctx, endpoint, result.rollouts));
        return;
      }
      let target: Rollout | undefined;
      if (options.events === true) target = (await ctx.client().listRollouts(endpoint, 1)).rollouts[0];
      else {
        // the typed client has no GET /rollouts/{id}; the shared HTTP layer reaches it the same way
        target = (await createHttpCaller(ctx.clientOptions).call<RolloutResponse>('GET', `/api/v1/rollouts/${encodeURIComponent(options.events)}`)).rollout;
        if (target.endpoint !== endpoint) throw CliErrors.CLI_USAGE(`rollout ${target.id} belongs to endpoint ${target.endpoint}, not ${endpoint}`);
      }
      if (target === undefined) {
        ctx.out.result({ events: [] }, () => printRollouts(ctx, endpoint, []));
        return;
      }
      const r = target;
      const events = await allEvents(ctx, r.id);
      ctx.out.result({ events }, () => {
        ctx.out.line(`Rollout ${r.id} of ${endpoint} (${r.strategy.kind}, ${describeVersions(r)}): ${r.phase}, ${events.length} event${events.length === 1 ? '' : 's'}`);
        printEvents(ctx, events);
      });
    });
}
