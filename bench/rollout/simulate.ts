/**
 * `npm run bench:rollout`: the rollout simulator of issue [3 of 6], section 7. The real analysis
 * engine on a fake clock (looks are counted in requests, nothing waits) over synthetic canary
 * traffic, 1,000 seeds per scenario, side by side with a fixed-threshold gate of the Flagger kind on
 * the same requests; then the smaller run against a real server (real-server.ts: the scenarios
 * through `slipway serve`, the controller deciding; a wiring check, 3 runs each). Prints the tables and writes the `rollout-simulator` section of
 * docs/benchmarks.md, leaving the rest of the file alone.
 *
 * BENCH_QUICK=1 runs 100 seeds and writes bench/out/benchmarks-rollout.md instead.
 * BENCH_ROLLOUT_RUNS overrides the seeds per scenario; BENCH_ROLLOUT_PROCESSES the number of
 * processes (default: one per core; 1 runs everything in this process). Results do not depend on it.
 */
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { ANALYSIS_DEFAULTS, BUILTIN_CHECK_DEFAULTS, DEFAULT_CHECKS } from '../../src/rollout/spec/index.js';
import { normalCdf, normalIsf } from '../../src/stats/index.js';
import { root } from '../lib/harness.js';
import { writeSection } from '../lib/sections.js';
import { runAgainstRealServer } from './real-server.js';
import { renderConsole, renderMarkdown, type AlternativeRow, type RolloutReport, type ScenarioRow } from './report.js';
import { runCases } from './runner.js';
import {
  ALPHA,
  BASELINE_P99_MS,
  byId,
  CALIBRATION_SEED_BASE,
  CASES,
  CONVERSION_CHECK,
  ERROR_RATE_CHECK,
  FIXED_GATE,
  GATE_VARIANTS,
  LATENCY_CHECK,
  LOOK_EVERY,
  MINIMUM_SAMPLE_PER_ARM,
  SCENARIOS,
  SEED_BASE,
  SHAPE,
  WEIGHTS,
} from './scenarios.js';
import { calibrateThreshold, fixedOutcome, summarise, type RunResult } from './simulation.js';

const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = Number(process.env.BENCH_ROLLOUT_RUNS ?? (QUICK ? 100 : 1000));
const PROCESSES = Number(process.env.BENCH_ROLLOUT_PROCESSES ?? availableParallelism());
/** The target for false rollbacks; the fixed gate's threshold is calibrated to it. */
const CALIBRATION_TARGET = 0.05;
const CALIBRATION_RANGE = { from: FIXED_GATE.failedChecksThreshold, to: SHAPE.requests / LOOK_EVERY };
const SECTION_ID = 'rollout-simulator';

function log(message: string): void {
  process.stderr.write(`[bench:rollout] ${message}\n`);
}

/**
 * Where src/rollout/spec's defaults differ from the checks simulated here, in words — so the
 * report shows when the spec and the benchmark disagree instead of silently measuring something else.
 */
function specAlignment(): string[] {
  const lines: string[] = [];
  // Read as loose records: the spec may not have (or may gain) a minimumDetectableEffect field.
  const errorRate = BUILTIN_CHECK_DEFAULTS['error-rate'] as Readonly<Record<string, number | boolean | undefined>>;
  const latency = BUILTIN_CHECK_DEFAULTS['latency-mean-log'] as Readonly<Record<string, number | boolean | undefined>>;
  if (errorRate.tolerance !== ERROR_RATE_CHECK.tolerance) lines.push(`\`error-rate\` tolerance: spec ${String(errorRate.tolerance)}, simulated ${String(ERROR_RATE_CHECK.tolerance)}`);
  if (errorRate.minimumDetectableEffect !== ERROR_RATE_CHECK.minimumDetectableEffect) {
    lines.push(`\`error-rate\` minimumDetectableEffect: spec ${errorRate.minimumDetectableEffect === undefined ? 'has none' : String(errorRate.minimumDetectableEffect)}, simulated ${String(ERROR_RATE_CHECK.minimumDetectableEffect)}`);
  }
  if (latency.tolerance !== LATENCY_CHECK.tolerance) lines.push(`\`latency-mean-log\` tolerance: spec ${String(latency.tolerance)}, simulated ${String(LATENCY_CHECK.tolerance)}`);
  const defaultChecks = [ERROR_RATE_CHECK.name, LATENCY_CHECK.name];
  if (DEFAULT_CHECKS.join(',') !== defaultChecks.join(',')) lines.push(`default checks: spec ${DEFAULT_CHECKS.join(' + ')}, simulated ${defaultChecks.join(' + ')}`);
  if ((ANALYSIS_DEFAULTS.minimumSamplePerArm as number) !== MINIMUM_SAMPLE_PER_ARM) lines.push(`minimumSamplePerArm: spec ${ANALYSIS_DEFAULTS.minimumSamplePerArm}, simulated ${MINIMUM_SAMPLE_PER_ARM}`);
  if ((ANALYSIS_DEFAULTS.alpha as number) !== ALPHA) lines.push(`alpha: spec ${ANALYSIS_DEFAULTS.alpha}, simulated ${ALPHA}`);
  return lines;
}

/**
 * The power of one fixed-horizon two-sided z test at the end of the run for the outcome fault, at
 * the conversion check's Bonferroni share of α and the expected arm sizes — the most a test that
 * looks only once could do, for context.
 */
function outcomeFixedHorizonPower(checks: number): number {
  const fault = byId(SCENARIOS, 'outcome').fault;
  const pB = SHAPE.baselineConversionRate;
  const pC = fault.candidateConversionRate ?? pB;
  const nC = SHAPE.requests * SHAPE.candidateWeight;
  const nB = SHAPE.requests - nC;
  const se = Math.sqrt((pB * (1 - pB)) / nB + (pC * (1 - pC)) / nC);
  const alpha = (CONVERSION_CHECK.alpha ?? ALPHA) / checks;
  return normalCdf(Math.abs(pB - pC) / se - normalIsf(alpha / 2));
}

async function main(): Promise<void> {
  if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`BENCH_ROLLOUT_RUNS must be a whole number ≥ 1, got ${String(process.env.BENCH_ROLLOUT_RUNS)}`);
  if (!Number.isInteger(PROCESSES) || PROCESSES < 1) throw new Error(`BENCH_ROLLOUT_PROCESSES must be a whole number ≥ 1, got ${String(process.env.BENCH_ROLLOUT_PROCESSES)}`);
  // Other work on the machine only stretches the wall time, never the figures (they depend on the seeds alone).
  const loadAtStart = loadavg()[0] ?? 0;
  const started = performance.now();
  log(`${RUNS} seeds per case, ${CASES.length} cases, ${PROCESSES} process(es)`);
  const results = await runCases(
    CASES.map((c) => c.id),
    RUNS,
    PROCESSES,
  );
  const runsOf = (id: string): readonly RunResult[] => {
    const runs = results[id];
    if (runs === undefined || runs.length !== RUNS) throw new Error(`case ${id} returned ${runs?.length ?? 0} of ${RUNS} runs`);
    return runs;
  };
  const slipwayOf = (id: string) =>
    summarise(
      runsOf(id).map((r) => {
        if (r.slipway === null) throw new Error(`case ${id} ran without Slipway's gate`);
        return r.slipway;
      }),
    );

  const calibratedThreshold = calibrateThreshold(runsOf('calibration:no-fault'), SHAPE.requests, CALIBRATION_TARGET, CALIBRATION_RANGE.from, CALIBRATION_RANGE.to);
  const rows: ScenarioRow[] = CASES.filter((c) => c.id.startsWith('main:') || c.id.startsWith('feedback:')).map((c) => {
    const runs = runsOf(c.id);
    return {
      scenario: byId(SCENARIOS, c.scenario),
      variant: byId(GATE_VARIANTS, c.variant),
      slipway: slipwayOf(c.id),
      fixed: summarise(runs.map((r) => fixedOutcome(r, FIXED_GATE.failedChecksThreshold, SHAPE.requests))),
      calibrated: calibratedThreshold === null ? null : summarise(runs.map((r) => fixedOutcome(r, calibratedThreshold, SHAPE.requests))),
    };
  });
  const alternatives: AlternativeRow[] = CASES.filter((c) => !c.fixedOnly && !c.id.startsWith('main:') && !c.id.startsWith('feedback:')).map((c) => ({
    variant: byId(GATE_VARIANTS, c.variant),
    scenario: byId(SCENARIOS, c.scenario),
    slipway: slipwayOf(c.id),
  }));
  const seconds = (performance.now() - started) / 1000;
  log(`simulated in ${seconds.toFixed(1)} s`);

  const realServer = await runAgainstRealServer({ runs: 3, requests: SHAPE.requests });
  const command = QUICK ? 'BENCH_QUICK=1 npm run bench:rollout' : 'npm run bench:rollout';
  const report: RolloutReport = {
    date: new Date().toISOString(),
    command: process.env.BENCH_ROLLOUT_RUNS === undefined ? command : `BENCH_ROLLOUT_RUNS=${RUNS} ${command}`,
    seconds,
    processes: Math.min(PROCESSES, RUNS),
    machine: `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${process.platform}; 1-minute load average ${loadAtStart.toFixed(2)} at the start (other work stretches the wall time, not the figures)`,
    runs: RUNS,
    seeds: { from: SEED_BASE, to: SEED_BASE + RUNS - 1 },
    calibrationSeeds: { from: CALIBRATION_SEED_BASE, to: CALIBRATION_SEED_BASE + RUNS - 1 },
    shape: SHAPE,
    lookEvery: LOOK_EVERY,
    weights: WEIGHTS,
    alpha: ALPHA,
    baselineP99Ms: BASELINE_P99_MS,
    fixed: FIXED_GATE,
    calibratedThreshold,
    calibrationTarget: CALIBRATION_TARGET,
    calibrationRange: CALIBRATION_RANGE,
    rows,
    alternatives,
    outcomeFixedHorizonPower: outcomeFixedHorizonPower(byId(GATE_VARIANTS, 'slipway-feedback').checks.length),
    specAlignment: specAlignment(),
    realServer,
  };
  process.stdout.write(`${renderConsole(report)}\n`);
  const file = QUICK ? join(root, 'bench', 'out', 'benchmarks-rollout.md') : join(root, 'docs', 'benchmarks.md');
  writeSection(file, SECTION_ID, renderMarkdown(report));
  log(`wrote section ${SECTION_ID} of ${file}`);
}

await main();
